#pragma once
/// Entry point of channel traffic: resolves each message's channel account to its
/// clinic, sends the webhook to a batch writer, and hands committed messages to the
/// clinic actors it spawns and monitors.

#include "actors/node_context.hpp"

namespace atendeai::actors {

struct router_state;

/// The node's router.
/// @param self the actor
/// @param node the node's wiring
/// @param restarted replaces a crashed router (the root supervisor restarted it): its
///        first sweep resumes unanswered messages only (the senders still hold their rows)
router_actor::behavior_type router(router_actor::stateful_pointer<router_state> self, node_context_ptr node,
                                   bool restarted);

/// Spawns a router actor.
router_actor spawn_router(caf::actor_system& sys, node_context_ptr node, bool restarted = false);

} // namespace atendeai::actors
