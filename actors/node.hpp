#pragma once
/// Spawning a node's actors: readers, writers, senders, router, health, and the root
/// supervisor that restarts them.

#include <atomic>
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
  std::vector<auth_store_actor> auth; ///< admin API workers
  cluster_node_actor cluster_endpoint;  ///< published on cluster.port (clustered nodes only)
  caf::actor supervisor;                ///< the root supervisor (actors/supervisor.hpp)
  /// 0, or the exit code the node must end with (the root supervisor gave up: 3).
  std::shared_ptr<std::atomic<int>> exit_code;
};

/// Spawns the node's service actors into `sys` (and, with cluster.port set, publishes
/// the node on it: the actor system must be configured with configure_cluster). Throws
/// std::runtime_error naming the key when the cluster port cannot be bound.
node_actors start_node(caf::actor_system& sys, const config::config& cfg,
                       std::shared_ptr<core::metrics_registry> metrics, std::shared_ptr<core::clock> clock);

/// Flushes every batch writer (ingest writers first; waits up to `timeout_ms` in all) and
/// stops the service actors. True when every writer wrote everything it held.
bool stop_node(caf::actor_system& sys, node_actors& actors, int timeout_ms);

} // namespace atendeai::actors
