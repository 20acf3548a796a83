#pragma once
/// Secrets at rest (issue 21): AES-256-GCM under the deployment's data key
/// (security.data_key_file). A sealed secret is text, so it fits the column the plain one
/// had: "enc:v1:" + base64url(nonce (12 bytes) | ciphertext | tag (16 bytes)), a fresh
/// random nonce per seal, the prefix authenticated with it. Pure apart from the
/// randomness; OpenSSL stays in the .cpp.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace atendeai::core {

/// What every sealed secret starts with (the version of the format). Channel tokens are
/// letters, digits, '-', '_' and '.', so a plain token never starts with it.
inline constexpr std::string_view sealed_prefix = "enc:v1:";

/// The 32-byte key secrets are sealed under; its bytes are wiped when it dies.
class data_key {
public:
  static constexpr size_t size = 32;

  /// The key written as 64 hex digits (either case), as a key file holds it; nullopt
  /// for anything else.
  static std::optional<data_key> from_hex(std::string_view hex);
  /// A new random key; throws std::runtime_error when OpenSSL has no randomness.
  static data_key generate();

  data_key(const data_key& other) = default;
  data_key& operator=(const data_key& other) = default;
  ~data_key();

  /// The key as 64 lower-case hex digits (what `atendeai keys generate` writes).
  std::string hex() const;
  /// The raw key.
  const unsigned char* bytes() const { return bytes_.data(); }

private:
  data_key() = default;
  std::array<unsigned char, size> bytes_{};
};

/// True when `text` is a sealed secret (starts with sealed_prefix).
bool is_sealed(std::string_view text);

/// Seals `plaintext` under `key` with a fresh random nonce (two seals of the same text
/// differ). Throws std::runtime_error only when OpenSSL fails (no randomness).
std::string seal(const data_key& key, std::string_view plaintext);

/// The plaintext of a sealed secret; nullopt when `text` is not sealed, is malformed,
/// was sealed under another key or was changed (the tag does not match). Never throws on
/// bad input.
std::optional<std::string> open(const data_key& key, std::string_view text);

/// The form a secret is stored in: sealed under `key`, or as given when there is no key
/// (null). "" (no secret) stays "".
std::string stored_secret(const data_key* key, std::string_view secret);

/// A stored secret as plaintext: opened when it is sealed, as stored when it is plain
/// (written without a key, or before the node sealed it at start). nullopt when it is
/// sealed and there is no key (null) or `key` cannot open it.
std::optional<std::string> plain_secret(const data_key* key, std::string_view stored);

} // namespace atendeai::core
