#include "core/password.hpp"

#include <cctype>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <crypt.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/jwt.hpp"
#include "core/signature.hpp"

namespace atendeai::core {

std::string hash_password(std::string_view password, int cost) {
  if (cost < bcrypt_min_cost || cost > bcrypt_max_cost)
    throw std::runtime_error("bcrypt cost out of range");
  if (password.find('\0') != std::string_view::npos)
    throw std::runtime_error("password contains a NUL byte");
  unsigned char random[16];
  if (RAND_bytes(random, sizeof random) != 1)
    throw std::runtime_error("no randomness for a salt");
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (!crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), reinterpret_cast<const char*>(random),
                        sizeof random, setting, sizeof setting))
    throw std::runtime_error("crypt_gensalt_rn failed");
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  std::string pw(password);
  const char* out = crypt_r(pw.c_str(), setting, data.get());
  if (!out || out[0] == '*')
    throw std::runtime_error("crypt_r failed");
  std::string hash(out);
  std::memset(data.get(), 0, sizeof(crypt_data));
  return hash;
}

bool verify_password(std::string_view password, std::string_view hash) {
  if (hash.size() < 29 || hash.substr(0, 4) != "$2b$" || password.find('\0') != std::string_view::npos)
    return false;
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  std::string pw(password), setting(hash);
  const char* out = crypt_r(pw.c_str(), setting.c_str(), data.get());
  bool ok = out && out[0] != '*' && constant_time_equal(out, hash);
  std::memset(data.get(), 0, sizeof(crypt_data));
  return ok;
}

int bcrypt_cost_of(std::string_view hash) {
  if (hash.size() < 7 || hash.substr(0, 4) != "$2b$" || !std::isdigit(static_cast<unsigned char>(hash[4]))
      || !std::isdigit(static_cast<unsigned char>(hash[5])) || hash[6] != '$')
    return 0;
  return (hash[4] - '0') * 10 + (hash[5] - '0');
}

std::optional<std::string> password_weakness(std::string_view password, std::string_view email) {
  if (password.size() < 10)
    return "must have at least 10 characters";
  if (password.size() > 72)
    return "must have at most 72 bytes";
  bool letter = false, other = false, control = false;
  for (unsigned char c : password) {
    if (std::isalpha(c) || c >= 0x80)
      letter = true;
    else if (std::iscntrl(c))
      control = true;
    else
      other = true;
  }
  if (control)
    return "must not contain control characters";
  if (!letter || !other)
    return "must mix letters with digits or symbols";
  if (password.find_first_not_of(password[0]) == std::string_view::npos)
    return "must not repeat a single character";
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (auto& c : out)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  if (!email.empty()) {
    auto pw = lower(password);
    auto e = lower(email);
    auto local = e.substr(0, e.find('@'));
    if (pw == e || (local.size() >= 4 && pw.find(local) != std::string::npos))
      return "must not contain the e-mail address";
  }
  return std::nullopt;
}

std::string random_token(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size())) != 1)
    throw std::runtime_error("no randomness");
  return base64url_encode(raw);
}

std::string random_uuid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1)
    throw std::runtime_error("no randomness");
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

std::string sha256_hex(std::string_view text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

std::string generate_password() {
  // 18 random bytes → 24 base64url characters; append a digit so the rule always holds.
  for (;;) {
    auto pw = random_token(18) + "7";
    if (!password_weakness(pw))
      return pw;
  }
}

} // namespace atendeai::core
