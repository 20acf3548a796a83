#pragma once
/// Group commit: collects writes from every actor and commits them in one transaction
/// per batch (flush at persistence.batch_max_rows or after batch_max_delay_ms), rows
/// grouped per clinic under row-level security; then acknowledges webhooks, hands new
/// messages to the router and new outbox rows to the senders. Spawn detached.

#include "actors/node_context.hpp"

namespace atendeai::actors {

struct batch_writer_state;

/// A batch writer with its own connection.
/// @param self the actor
/// @param node the node's wiring
/// @param index this writer's number, for logs and metrics
batch_writer_actor::behavior_type batch_writer(batch_writer_actor::stateful_pointer<batch_writer_state> self,
                                               node_context_ptr node, int index);

/// Spawns a batch writer actor (detached: it blocks).
batch_writer_actor spawn_batch_writer(caf::actor_system& sys, node_context_ptr node, int index);

} // namespace atendeai::actors
