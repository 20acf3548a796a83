#pragma once
/// JSON Web Tokens for the admin API (PROTOCOLS.md): HS256 only, base64url without
/// padding, claims sub, clinic_id, role, jti, iat, exp (plus typ, ver and fam, ours).
/// Pure: the caller passes the secret and "now".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace atendeai::core {

/// base64url without padding (RFC 4648 §5).
std::string base64url_encode(std::string_view bytes);
/// Decodes base64url without padding; nullopt on any character outside the alphabet,
/// on padding, or on an impossible length.
std::optional<std::string> base64url_decode(std::string_view text);

/// The claims AtendeAI puts in its tokens.
struct jwt_claims {
  std::string sub;       ///< user id
  std::string clinic_id; ///< the user's clinic (nil UUID for super admins)
  std::string role;      ///< super_admin | clinic_admin | attendant | professional
  std::string jti;       ///< unique token id (revocation, refresh rotation)
  std::string typ;       ///< "access" or "refresh"
  std::string fam;       ///< refresh family the token belongs to
  int64_t ver = 0;       ///< the user's token version when issued (bumped on reset/disable/role change)
  int64_t iat = 0;       ///< issued at, seconds since the epoch
  int64_t exp = 0;       ///< expires at, seconds since the epoch
};

/// Why a token was refused.
enum class jwt_error {
  malformed,         ///< not three base64url parts of JSON objects, or claims missing/mistyped
  unsupported_alg,   ///< header alg is not HS256 (alg none included)
  bad_signature,     ///< HMAC does not match (forged or another key)
  expired,           ///< now >= exp
  issued_in_future,  ///< iat later than now plus the allowed skew
};

/// A short name for logs and error messages.
std::string_view to_string(jwt_error e);

/// Signs the claims with HS256 under `secret`.
std::string sign_jwt(const jwt_claims& claims, std::string_view secret);

/// Verifies a compact token: header {"alg":"HS256"} only, signature compared in
/// constant time, exp > now and iat <= now + skew_s. Returns the claims or the reason.
std::variant<jwt_claims, jwt_error> verify_jwt(std::string_view token, std::string_view secret, int64_t now_s,
                                               int64_t skew_s = 30);

} // namespace atendeai::core
