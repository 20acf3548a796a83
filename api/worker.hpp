#pragma once
/// The admin API's worker: authenticates (JWT, revocation in Redis), rate-limits
/// (Redis), checks roles from core::api_routes(), scopes every query to the caller's
/// clinic, validates bodies, does the work (PostgreSQL, bcrypt) and audits each mutation.
/// Everything here blocks, so it runs detached, never on HTTP or scheduler threads.
///
/// Failure modes: rate limits fail open when Redis is down (logged and counted);
/// token revocation checks fail closed (503 service_unavailable) since a logged-out
/// token must not come back to life.

#include "actors/node_context.hpp"

namespace atendeai::actors {

struct auth_store_state;

/// Serves admin API requests one at a time on its own PostgreSQL and Redis connections.
/// @param self the actor
/// @param node the node's wiring (configuration: auth, mail, paths)
auth_store_actor::behavior_type auth_store(auth_store_actor::stateful_pointer<auth_store_state> self,
                                           node_context_ptr node);

/// Spawns an auth_store worker (detached).
auth_store_actor spawn_auth_store(caf::actor_system& sys, node_context_ptr node);

} // namespace atendeai::actors
