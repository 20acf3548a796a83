#pragma once
/// An admin API request as the HTTP layer hands it to the actors: the route from the
/// table, the raw parts of the request, and the responder that answers it. Every check
/// (token, rate limit, role, tenant, body) happens in the admin API's worker (api/), in
/// API.md's order.

#include <map>
#include <memory>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>

#include "actors/responder.hpp"
#include "core/rbac.hpp"

namespace atendeai::actors {

/// One admin API request awaiting its answer.
struct api_request {
  std::shared_ptr<http_responder> responder;
  const core::api_route* route = nullptr;    ///< points into core::api_routes()
  std::map<std::string, std::string> params; ///< path parameters (":id")
  std::map<std::string, std::string> query;  ///< query string
  std::string authorization;                 ///< Authorization header
  std::string body;
  std::string ip;
  std::string request_id;
  std::string forwarded_from; ///< the node that passed it here (cluster), "" when taken here
};

} // namespace atendeai::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::api_request)
