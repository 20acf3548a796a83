#pragma once
/// Delivers committed outbox rows: to `{whatsapp.api_base}/{api_version}/{phone_number_id}/messages`
/// with the channel's Bearer token, or, without a token, to the local sink file. Retries
/// 429/5xx/timeouts with exponential backoff and jitter; gives up on other 4xx. Spawn
/// detached (libcurl blocks).

#include "actors/node_context.hpp"

namespace atendeai::actors {

struct sender_state;

/// A sender with its own HTTP connection.
/// @param self the actor
/// @param node the node's wiring
/// @param index this sender's number
sender_actor::behavior_type sender(sender_actor::stateful_pointer<sender_state> self, node_context_ptr node,
                                   int index);

/// Spawns a sender actor (detached: it blocks).
sender_actor spawn_sender(caf::actor_system& sys, node_context_ptr node, int index);

} // namespace atendeai::actors
