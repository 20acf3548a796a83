#include "core/signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace atendeai::core {

std::string hmac_sha256(std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  static constexpr char digits[] = "0123456789abcdef";
  auto raw = hmac_sha256(key, message);
  std::string hex;
  hex.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    hex += digits[c >> 4];
    hex += digits[c & 15];
  }
  return hex;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool verify_whatsapp_signature(std::string_view app_secret, std::string_view raw_body,
                               std::string_view header) {
  constexpr std::string_view prefix = "sha256=";
  if (app_secret.empty() || header.substr(0, prefix.size()) != prefix)
    return false;
  auto given = header.substr(prefix.size());
  std::string lowered(given);
  for (auto& ch : lowered)
    if (ch >= 'A' && ch <= 'F')
      ch = static_cast<char>(ch - 'A' + 'a');
  return constant_time_equal(lowered, hmac_sha256_hex(app_secret, raw_body));
}

std::string whatsapp_signature(std::string_view app_secret, std::string_view raw_body) {
  return "sha256=" + hmac_sha256_hex(app_secret, raw_body);
}

} // namespace atendeai::core
