#pragma once
/// Registers the admin API: exactly the routes of core::api_routes(), each handed with
/// its table entry through the gateway to the admin API's workers (api/), which check
/// token, rate limit, role, tenant and body in API.md's order. A route cannot exist here without its declaration there.

#include <functional>
#include <memory>
#include <string>

#include <restinio/all.hpp>

#include "actors/gateway.hpp"
#include "core/metrics.hpp"
#include "http/restinio_responder.hpp"

namespace atendeai::http {

/// The router type of the node's server.
using router_t = restinio::router::express_router_t<>;

/// Adds every route of the table to `r`.
/// @param request_id gives a request its id (X-Request-Id or a fresh one)
/// @param live the server's lifetime, for answers written later by actors
void add_api_routes(router_t& r, actors::gateway gw, core::metrics_registry* metrics,
                    std::function<std::string(const restinio::request_handle_t&)> request_id,
                    std::shared_ptr<server_liveness> live);

} // namespace atendeai::http
