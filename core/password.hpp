#pragma once
/// Password hashing (bcrypt "$2b$" through libxcrypt) and the strength rule.
/// Hashing is deliberately slow: call it only from detached actors or commands, never
/// from HTTP I/O threads or CAF scheduler threads.

#include <optional>
#include <string>
#include <string_view>

namespace atendeai::core {

/// Lowest and highest bcrypt cost accepted (4 only for tests, through configuration).
inline constexpr int bcrypt_min_cost = 4;
inline constexpr int bcrypt_max_cost = 31;

/// A "$2b$<cost>$..." hash of `password` with a fresh random salt; throws
/// std::runtime_error if libxcrypt refuses (cost out of range, no randomness).
std::string hash_password(std::string_view password, int cost);

/// True when `password` matches `hash` (compared in constant time); false for any
/// hash that is not a valid bcrypt hash.
bool verify_password(std::string_view password, std::string_view hash);

/// The cost encoded in a bcrypt hash, or 0 when unreadable.
int bcrypt_cost_of(std::string_view hash);

/// Why a new password is too weak, or nullopt when it is acceptable: 10 to 72 bytes
/// (bcrypt reads no further), at least one letter and one digit or symbol, not the
/// e-mail (or its local part), not a single repeated character.
std::optional<std::string> password_weakness(std::string_view password, std::string_view email = {});

/// A random password that passes the strength rule (for generated credentials).
std::string generate_password();

/// A random (version 4) UUID in canonical text form.
std::string random_uuid();

/// Lower-case hex SHA-256 of `text` (stored form of reset tokens).
std::string sha256_hex(std::string_view text);

/// A random URL-safe token of `bytes` random bytes (reset tokens, ids).
std::string random_token(size_t bytes = 32);

} // namespace atendeai::core
