#pragma once
/// The routes the HTTP layer serves itself, beside the admin API's table
/// (core::api_routes()): health, metrics, webhooks and the API contract. The server
/// registers exactly these; the OpenAPI test compares both tables with api/openapi.yaml.
/// (Test builds add POST /test/clock, and every /api/v1 path answers CORS preflights
/// (OPTIONS): neither is part of the contract.)

#include <string_view>

namespace atendeai::http {

/// Which handler of the server answers a public route.
enum class public_handler { health, metrics, whatsapp_verify, whatsapp_notify, openapi };

/// One route served by the HTTP layer itself.
struct public_route {
  const char* method; ///< GET or POST
  const char* path;   ///< exact path
  public_handler handler;
};

/// The HTTP layer's own routes.
inline constexpr public_route public_routes[] = {
  {"GET", "/health", public_handler::health},
  {"GET", "/metrics", public_handler::metrics},
  {"GET", "/webhooks/whatsapp", public_handler::whatsapp_verify},
  {"POST", "/webhooks/whatsapp", public_handler::whatsapp_notify},
  {"GET", "/api/v1/openapi.yaml", public_handler::openapi},
};

/// The OpenAPI 3.1 contract of the node (api/openapi.yaml, embedded at build time).
std::string_view openapi_yaml();

} // namespace atendeai::http
