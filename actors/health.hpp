#pragma once
/// Answers /health: PostgreSQL (required) and Redis (optional: degraded). Spawn detached.

#include "actors/node_context.hpp"

namespace atendeai::actors {

struct health_state;

/// The health checker.
/// @param self the actor
/// @param node the node's wiring
/// @param started when the node started (uptime)
health_actor::behavior_type health(health_actor::stateful_pointer<health_state> self, node_context_ptr node,
                                   core::instant started);

/// Spawns a health actor (detached: it blocks).
health_actor spawn_health(caf::actor_system& sys, node_context_ptr node, core::instant started);

} // namespace atendeai::actors
