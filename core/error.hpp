#pragma once
/// Every error code the API answers, with its HTTP status, in one place (API.md):
/// {"error":{"code":"<snake_case>","message":"<human>","field":"<json path, optional>"}}.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace atendeai::core {

/// API error codes.
enum class error_code {
  bad_request,          ///< 400: malformed request (unparseable JSON, missing envelope)
  validation_failed,    ///< 422: a field is missing, of the wrong type or out of range
  unauthorized,         ///< 401: missing or wrong signature / credentials
  forbidden,            ///< 403: authenticated but not allowed (wrong verify token, role)
  not_found,            ///< 404: no such route or resource (or another clinic's)
  method_not_allowed,   ///< 405
  conflict,             ///< 409: e.g. a slot just taken
  window_closed,        ///< 409: WhatsApp's 24-hour window is closed: only a template reaches the patient
  payload_too_large,    ///< 413: body over http.max_body_bytes
  rate_limited,         ///< 429
  database_unavailable, ///< 503: PostgreSQL unreachable, retry later
  service_unavailable,  ///< 503: a check that fails closed (token revocation) cannot run
  internal_error,       ///< 500
  not_implemented,      ///< 501: a declared route whose handler is not served by this build
};

/// The snake_case name of a code.
std::string_view to_string(error_code c);
/// The HTTP status of a code.
int http_status(error_code c);
/// The JSON error body.
nlohmann::json error_body(error_code c, std::string_view message, std::string_view field = {});

} // namespace atendeai::core
