#pragma once
/// The root supervisor of a node: monitors the service actors (database readers, batch
/// writers, senders, the router and, in a cluster, the membership and published node
/// actors) and restarts a crashed one in place: a fresh actor takes the same slot of the
/// node context, so every sender reaches it from then on. What the crashed actor held
/// was not acknowledged or is durable, and is resumed:
///
/// - batch writer: the webhooks of its open batch are answered 503 (Meta sends them
///   again); replies it had not committed leave their messages unanswered, and the
///   router's periodic sweep answers them;
/// - sender: the outbox rows it held are pending in PostgreSQL and are handed to its
///   successor at once (a row the crashed sender had just delivered is sent again: the
///   documented send window);
/// - router: its clinics (which monitor it) stop with it; the new router sweeps for
///   unanswered messages and, in a cluster, receives the view again;
/// - membership: starts over with a heartbeat; the published node actor cannot be
///   published again on its port while the node runs, so its crash stops the node.
///
/// More than supervision.max_restarts in supervision.window_seconds, or the node actor's
/// crash, ends the node with exit code 3 (node_context::give_up) for its service
/// manager to restart it.

#include <memory>

#include <caf/actor.hpp>

#include "actors/cluster_messages.hpp"
#include "actors/node_context.hpp"

namespace caf {
class actor_system;
}

namespace atendeai::actors {

/// Spawns the root supervisor and makes it watch every service actor already in `ctx`
/// (and `endpoint`, when the node is clustered).
caf::actor spawn_root_supervisor(caf::actor_system& sys, std::shared_ptr<node_context> ctx,
                                 cluster_node_actor endpoint, node_identity identity);

} // namespace atendeai::actors
