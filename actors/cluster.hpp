#pragma once
/// The cluster over CAF's middleman: each node publishes one cluster_node actor on
/// cluster.port (the only actor other nodes talk to; it hands forwarded messages to the
/// local router) and runs a membership actor (actors/membership.hpp) that tells the
/// router the live view, so that each clinic lives on its rendezvous owner
/// (core/cluster.hpp).

#include <string>
#include <vector>

#include "actors/node_context.hpp"

namespace caf {
class actor_system_config;
}

namespace atendeai::actors {

struct cluster_node_state;

/// Loads CAF's middleman (and, with cluster.tls_* set, CAF's OpenSSL module with this
/// node's certificate, key and CA: peers without a certificate from that CA are
/// refused) and announces every type that crosses the cluster. Call on the
/// configuration of every clustered node before the actor system exists.
void configure_cluster(caf::actor_system_config& cfg, const config::cluster_settings& cluster);

/// This node's identity in the cluster (cluster.host:cluster.port, http.host:http.port).
node_identity local_identity(const config::config& cfg, int64_t started_ms);

/// The published endpoint: hands forwarded messages to the local router.
/// @param self the actor
/// @param node the node's wiring
/// @param identity this node's identity (answered to whois)
/// @param api_workers the admin API workers that serve requests forwarded here (stopped
///        with this actor)
cluster_node_actor::behavior_type cluster_node(cluster_node_actor::stateful_pointer<cluster_node_state> self,
                                               node_context_ptr node, node_identity identity,
                                               std::vector<api_worker_actor> api_workers);

/// The node's cluster actors.
struct cluster_actors {
  cluster_node_actor endpoint;
  membership_actor members;
};

/// Spawns the cluster_node actor (with the admin API workers for forwarded requests),
/// publishes it on cluster.port and starts the membership actor (detached). Throws
/// std::runtime_error naming cluster.port when it cannot listen (the workers are stopped).
cluster_actors start_cluster(caf::actor_system& sys, node_context_ptr node, node_identity identity,
                             std::vector<api_worker_actor> api_workers);

} // namespace atendeai::actors
