#pragma once
/// Cluster membership: keeps this node's heartbeat with a TTL in Redis, reads the live
/// members at every heartbeat (keeping the last known view while Redis is away),
/// contacts cluster.seeds, connects to the peers' node actors, takes a peer out at once
/// when its link drops, and hands every change of the view to the router. Spawn
/// detached (Redis blocks); connections go through the middleman actor with a timeout,
/// so an unreachable peer never delays the heartbeat.

#include "actors/node_context.hpp"

namespace atendeai::actors {

struct membership_state;

/// The membership keeper.
/// @param self the actor
/// @param node the node's wiring
/// @param identity this node's identity (written in its heartbeat)
/// @param endpoint this node's published cluster_node actor (introduced to peers)
membership_actor::behavior_type membership(membership_actor::stateful_pointer<membership_state> self,
                                           node_context_ptr node, node_identity identity,
                                           caf::strong_actor_ptr endpoint);

/// Spawns the membership actor (detached: Redis blocks).
membership_actor spawn_membership(caf::actor_system& sys, node_context_ptr node, node_identity identity,
                                  caf::strong_actor_ptr endpoint);

} // namespace atendeai::actors
