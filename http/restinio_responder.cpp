#include "http/restinio_responder.hpp"

namespace atendeai::http {

namespace {

restinio::http_status_line_t status_line(int status) {
  const char* reason = "OK";
  switch (status) {
    case 200: reason = "OK"; break;
    case 201: reason = "Created"; break;
    case 202: reason = "Accepted"; break;
    case 204: reason = "No Content"; break;
    case 400: reason = "Bad Request"; break;
    case 401: reason = "Unauthorized"; break;
    case 403: reason = "Forbidden"; break;
    case 404: reason = "Not Found"; break;
    case 405: reason = "Method Not Allowed"; break;
    case 409: reason = "Conflict"; break;
    case 413: reason = "Payload Too Large"; break;
    case 422: reason = "Unprocessable Entity"; break;
    case 429: reason = "Too Many Requests"; break;
    case 500: reason = "Internal Server Error"; break;
    case 503: reason = "Service Unavailable"; break;
    default: break;
  }
  return restinio::http_status_line_t{restinio::http_status_code_t{static_cast<std::uint16_t>(status)}, reason};
}

std::vector<std::string>& cors_origins() {
  static std::vector<std::string> origins;
  return origins;
}

void send(const restinio::request_handle_t& req, const std::string& request_id, int status, std::string body,
          const char* content_type, const std::vector<std::pair<std::string, std::string>>& extra = {}) {
  auto resp = req->create_response(status_line(status));
  for (auto& [name, value] : extra)
    resp.append_header(name, value);
  if (auto origin = allowed_origin(req); !origin.empty())
    resp.append_header("Access-Control-Allow-Origin", origin)
      .append_header("Vary", "Origin")
      .append_header("Access-Control-Expose-Headers", "X-Request-Id, Retry-After");
  resp
    .append_header(restinio::http_field::content_type, content_type)
    .append_header("X-Request-Id", request_id)
    .append_header("X-Content-Type-Options", "nosniff")
    .append_header("X-Frame-Options", "DENY")
    .append_header("Cache-Control", "no-store")
    .append_header("Content-Security-Policy", "default-src 'none'")
    .append_header("Referrer-Policy", "no-referrer")
    .set_body(std::move(body))
    .done();
}

} // namespace

void set_cors_origins(std::vector<std::string> origins) {
  cors_origins() = std::move(origins);
}

std::string allowed_origin(const restinio::request_handle_t& req) {
  auto origin = req->header().try_get_field(restinio::http_field::origin);
  if (!origin || req->header().path().rfind("/api/v1/", 0) != 0)
    return {};
  for (auto& o : cors_origins())
    if (o == *origin)
      return o;
  return {};
}

void route_metrics::record(int status, std::chrono::steady_clock::time_point started) const {
  if (!registry)
    return;
  registry
    ->counter_with("atendeai_http_requests_total", "HTTP requests by route and status",
                   {{"route", route}, {"status", std::to_string(status)}})
    .inc();
  registry->histogram_with("atendeai_http_request_duration_seconds", "HTTP request latency", {{"route", route}})
    .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

restinio_responder::~restinio_responder() {
  // An actor dropped the request without answering (it crashed): never leave Meta hanging.
  if (!done_.load())
    respond(503, core::error_body(core::error_code::internal_error, "the request was not completed; retry").dump());
}

void restinio_responder::finished() {
  if (inflight_)
    --*inflight_;
}

void restinio_responder::respond(int status, std::string body, const char* content_type) {
  respond_with(status, std::move(body), {}, content_type);
}

void restinio_responder::respond_with(int status, std::string body,
                                      std::vector<std::pair<std::string, std::string>> headers) {
  respond_with(status, std::move(body), std::move(headers), "application/json");
}

void restinio_responder::respond_with(int status, std::string body,
                                      std::vector<std::pair<std::string, std::string>> headers,
                                      const char* content_type) {
  if (done_.exchange(true))
    return;
  if (live_->while_alive([&] { send(req_, request_id_, status, std::move(body), content_type, headers); }))
    metrics_.record(status, started_);
  finished();
}

restinio::request_handling_status_t reply(const restinio::request_handle_t& req, const route_metrics& m,
                                          std::chrono::steady_clock::time_point started,
                                          const std::string& request_id, int status, std::string body,
                                          const char* content_type) {
  send(req, request_id, status, std::move(body), content_type);
  m.record(status, started);
  return restinio::request_accepted();
}

restinio::request_handling_status_t reply_error(const restinio::request_handle_t& req, const route_metrics& m,
                                                std::chrono::steady_clock::time_point started,
                                                const std::string& request_id, core::error_code code,
                                                std::string_view message, std::string_view field) {
  return reply(req, m, started, request_id, core::http_status(code), core::error_body(code, message, field).dump());
}

} // namespace atendeai::http
