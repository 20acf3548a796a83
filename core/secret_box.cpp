#include "core/secret_box.hpp"

#include <climits>
#include <memory>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/jwt.hpp"

namespace atendeai::core {

namespace {

constexpr int nonce_bytes = 12;
constexpr int tag_bytes = 16;

using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

const unsigned char* bytes_of(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

/// A cipher context set up for AES-256-GCM under `key` with `nonce`, the prefix as
/// additional authenticated data; null when OpenSSL refuses.
cipher_ctx gcm(bool encrypt, const data_key& key, const unsigned char* nonce) {
  cipher_ctx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  if (!ctx)
    return ctx;
  int unused = 0;
  bool ok = EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr, encrypt ? 1 : 0) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, nonce_bytes, nullptr) == 1 &&
            EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, key.bytes(), nonce, encrypt ? 1 : 0) == 1 &&
            EVP_CipherUpdate(ctx.get(), nullptr, &unused, bytes_of(sealed_prefix),
                             static_cast<int>(sealed_prefix.size())) == 1;
  if (!ok)
    ctx.reset();
  return ctx;
}

} // namespace

std::optional<data_key> data_key::from_hex(std::string_view hex) {
  if (hex.size() != 2 * size)
    return std::nullopt;
  data_key k;
  for (size_t i = 0; i < size; ++i) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return std::nullopt; // k's destructor wipes what was read
    k.bytes_[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return k;
}

data_key data_key::generate() {
  data_key k;
  if (RAND_bytes(k.bytes_.data(), static_cast<int>(size)) != 1)
    throw std::runtime_error("no randomness for a data key");
  return k;
}

data_key::~data_key() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

std::string data_key::hex() const {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * size);
  for (unsigned char b : bytes_) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

bool is_sealed(std::string_view text) { return text.substr(0, sealed_prefix.size()) == sealed_prefix; }

std::string seal(const data_key& key, std::string_view plaintext) {
  if (plaintext.size() > static_cast<size_t>(INT_MAX - nonce_bytes - tag_bytes))
    throw std::runtime_error("secret too long to seal");
  auto length = static_cast<int>(plaintext.size());
  std::string box(static_cast<size_t>(nonce_bytes + length + tag_bytes), '\0');
  auto* out = reinterpret_cast<unsigned char*>(box.data());
  if (RAND_bytes(out, nonce_bytes) != 1)
    throw std::runtime_error("no randomness for a nonce");
  auto ctx = gcm(true, key, out);
  int written = 0, final_written = 0;
  if (!ctx || EVP_EncryptUpdate(ctx.get(), out + nonce_bytes, &written, bytes_of(plaintext), length) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out + nonce_bytes + written, &final_written) != 1 ||
      written + final_written != length ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, tag_bytes, out + nonce_bytes + length) != 1)
    throw std::runtime_error("AES-256-GCM sealing failed");
  return std::string(sealed_prefix) + base64url_encode(box);
}

std::optional<std::string> open(const data_key& key, std::string_view text) {
  if (!is_sealed(text))
    return std::nullopt;
  auto box = base64url_decode(text.substr(sealed_prefix.size()));
  if (!box || box->size() < static_cast<size_t>(nonce_bytes + tag_bytes) || box->size() > INT_MAX)
    return std::nullopt;
  auto length = static_cast<int>(box->size()) - nonce_bytes - tag_bytes;
  auto* in = reinterpret_cast<unsigned char*>(box->data());
  std::string plain(static_cast<size_t>(length), '\0');
  auto* out = reinterpret_cast<unsigned char*>(plain.data());
  auto ctx = gcm(false, key, in);
  int written = 0, final_written = 0;
  bool ok = ctx && EVP_DecryptUpdate(ctx.get(), out, &written, in + nonce_bytes, length) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, tag_bytes, in + nonce_bytes + length) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), out + written, &final_written) == 1 && written + final_written == length;
  if (!ok) {
    OPENSSL_cleanse(plain.data(), plain.size()); // unauthenticated bytes are never handed out
    return std::nullopt;
  }
  return plain;
}

std::string stored_secret(const data_key* key, std::string_view secret) {
  if (!key || secret.empty())
    return std::string(secret);
  return seal(*key, secret);
}

std::optional<std::string> plain_secret(const data_key* key, std::string_view stored) {
  if (!is_sealed(stored))
    return std::string(stored);
  if (!key)
    return std::nullopt;
  return open(*key, stored);
}

} // namespace atendeai::core
