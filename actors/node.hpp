#pragma once
/// Spawning a node's actors: readers, writers, senders, router, health, and the root
/// supervisor that restarts them.

#include <atomic>
#include <functional>
#include <memory>

#include <caf/actor.hpp>

#include "actors/node_context.hpp"

namespace caf {
class actor_system;
}

namespace atendeai::actors {

/// The node's service actors, spawned and wired.
struct node_actors {
  std::shared_ptr<node_context> context;
  health_actor health;
  std::vector<api_worker_actor> auth; ///< admin API workers (requests taken by this node)
  cluster_node_actor cluster_endpoint;  ///< published on cluster.port (clustered nodes only)
  caf::actor supervisor;                ///< the root supervisor (actors/supervisor.hpp)
  /// 0, or the exit code the node must end with (the root supervisor gave up: 3).
  std::shared_ptr<std::atomic<int>> exit_code;
};

/// Spawns one admin API worker (detached). The admin API lives in api/ (api::spawn_worker),
/// which depends on the actors, never the other way round: app/ hands it in.
using api_worker_spawner = std::function<api_worker_actor(caf::actor_system&, node_context_ptr)>;

/// Spawns the node's service actors into `sys` (and, with cluster.port set, publishes
/// the node on it: the actor system must be configured with configure_cluster). Throws
/// std::runtime_error naming the key when the cluster port cannot be bound. This is the one
/// place that starts the admin API's workers: auth.workers of them for the requests this
/// node takes, and in a cluster as many more for the requests other nodes forward here
/// (a separate pool, so a forwarded request never waits behind workers that are
/// themselves waiting on another node).
/// @param data_key the key channel tokens are sealed with (null: none configured)
/// @param spawn_api spawns one admin API worker
node_actors start_node(caf::actor_system& sys, const config::config& cfg,
                       std::shared_ptr<core::metrics_registry> metrics, std::shared_ptr<core::clock> clock,
                       std::shared_ptr<const core::data_key> data_key, const api_worker_spawner& spawn_api);

/// Flushes every batch writer (ingest writers first; waits up to `timeout_ms` in all) and
/// stops the service actors. True when every writer wrote everything it held.
bool stop_node(caf::actor_system& sys, node_actors& actors, int timeout_ms);

} // namespace atendeai::actors
