#include "core/error.hpp"

namespace atendeai::core {

namespace {

struct error_info {
  error_code code;
  std::string_view name;
  int status;
};

constexpr error_info errors[] = {
  {error_code::bad_request, "bad_request", 400},
  {error_code::validation_failed, "validation_failed", 422},
  {error_code::unauthorized, "unauthorized", 401},
  {error_code::forbidden, "forbidden", 403},
  {error_code::not_found, "not_found", 404},
  {error_code::method_not_allowed, "method_not_allowed", 405},
  {error_code::conflict, "conflict", 409},
  {error_code::window_closed, "window_closed", 409},
  {error_code::payload_too_large, "payload_too_large", 413},
  {error_code::rate_limited, "rate_limited", 429},
  {error_code::database_unavailable, "database_unavailable", 503},
  {error_code::service_unavailable, "service_unavailable", 503},
  {error_code::internal_error, "internal_error", 500},
  {error_code::not_implemented, "not_implemented", 501},
};

const error_info& info(error_code c) {
  for (auto& e : errors)
    if (e.code == c)
      return e;
  return errors[sizeof errors / sizeof errors[0] - 1];
}

} // namespace

std::string_view to_string(error_code c) {
  return info(c).name;
}

int http_status(error_code c) {
  return info(c).status;
}

nlohmann::json error_body(error_code c, std::string_view message, std::string_view field) {
  nlohmann::json e = {{"code", to_string(c)}, {"message", message}};
  if (!field.empty())
    e["field"] = field;
  return {{"error", e}};
}

} // namespace atendeai::core
