#include "http/routes.hpp"

#include <stdexcept>

#include "actors/api_request.hpp"
#include "core/error.hpp"
#include "core/rbac.hpp"
#include "http/restinio_responder.hpp"

namespace atendeai::http {

namespace {

restinio::http_method_id_t method_of(const std::string& m) {
  if (m == "GET")
    return restinio::http_method_get();
  if (m == "POST")
    return restinio::http_method_post();
  if (m == "PUT")
    return restinio::http_method_put();
  if (m == "PATCH")
    return restinio::http_method_patch();
  if (m == "DELETE")
    return restinio::http_method_delete();
  throw std::logic_error("route table: unsupported method " + m);
}

/// The names of a path pattern's parameters ("/a/:id/b/:sid" → id, sid).
std::vector<std::string> param_names(const std::string& path) {
  std::vector<std::string> out;
  for (size_t i = path.find("/:"); i != std::string::npos; i = path.find("/:", i + 1)) {
    auto end = path.find('/', i + 2);
    out.push_back(path.substr(i + 2, end == std::string::npos ? std::string::npos : end - i - 2));
  }
  return out;
}

} // namespace

void add_api_routes(router_t& r, actors::gateway gw, core::metrics_registry* metrics,
                    std::function<std::string(const restinio::request_handle_t&)> request_id,
                    std::shared_ptr<server_liveness> live) {
  for (const auto& route : core::api_routes()) {
    const core::api_route* entry = &route;
    auto names = param_names(route.path);
    r.add_handler(method_of(route.method), route.path,
                  [gw, metrics, request_id, entry, names, live](restinio::request_handle_t req,
                                                                restinio::router::route_params_t params) {
                    route_metrics m{metrics, entry->path};
                    auto started = std::chrono::steady_clock::now();
                    auto id = request_id(req);
                    if (req->body().size() > core::max_api_body)
                      return reply_error(req, m, started, id, core::error_code::payload_too_large,
                                         "body larger than " + std::to_string(core::max_api_body) + " bytes");
                    actors::api_request ar;
                    ar.route = entry;
                    for (const auto& name : names)
                      if (auto v = params.get_param(name))
                        ar.params[name] = std::string(*v);
                    try {
                      for (auto& [k, v] : restinio::parse_query(req->header().query()))
                        ar.query[std::string(k)] = std::string(v);
                    } catch (const std::exception&) {
                      return reply_error(req, m, started, id, core::error_code::bad_request,
                                         "malformed query string");
                    }
                    if (auto auth = req->header().try_get_field(restinio::http_field::authorization))
                      ar.authorization = *auth;
                    ar.body = req->body();
                    ar.ip = req->remote_endpoint().address().to_string();
                    ar.request_id = id;
                    ar.responder = std::make_shared<restinio_responder>(req, m, id, live);
                    gw.api(std::move(ar));
                    return restinio::request_accepted();
                  });
  }
}

} // namespace atendeai::http
