#pragma once
/// The admin API's worker: one request at a time, on its own PostgreSQL and Redis
/// connections. It runs the checks (api/checks.hpp: 401 → 429 → 403 → 404), passes the
/// request to its route's handler from the registry (api/registry.cpp) — or, for a route
/// that runs on its clinic's owner node, to that node (api/forwarding.hpp) — and turns
/// refusals and failures into the API's error body. Everything here blocks (SQL,
/// bcrypt, Redis, SMTP, waiting on actors), so it runs detached, never on HTTP or
/// scheduler threads.

#include <caf/fwd.hpp>

#include "actors/node_context.hpp"

namespace atendeai::api {

struct worker_state;

/// Serves admin API requests taken by this node's HTTP server, and those another node
/// forwarded here (their clinic is owned here).
/// @param self the actor
/// @param node the node's wiring (configuration: auth, mail, paths; the router)
actors::api_worker_actor::behavior_type worker(actors::api_worker_actor::stateful_pointer<worker_state> self,
                                               actors::node_context_ptr node);

/// Spawns a worker (detached). actors::start_node spawns the node's pools with it.
actors::api_worker_actor spawn_worker(caf::actor_system& sys, actors::node_context_ptr node);

} // namespace atendeai::api
