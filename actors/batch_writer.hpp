#pragma once
/// Group commit. An ingest writer commits webhooks (one set-based statement per batch,
/// whatever its clinics), answers each request after its commit and hands new messages to
/// the router; a record writer commits decisions and delivery outcomes and hands new
/// outbound messages to the senders. A writer commits as soon as its previous commit
/// returned, with everything that arrived meanwhile (pipelined; batch_max_rows and
/// batch_max_delay_ms are upper bounds). Spawn detached.

#include "actors/node_context.hpp"

namespace atendeai::actors {

struct batch_writer_state;

/// A batch writer with its own connection.
/// @param self the actor
/// @param node the node's wiring
/// @param index this writer's number, for logs and metrics
/// @param ingest an ingest writer (else a record writer)
batch_writer_actor::behavior_type batch_writer(batch_writer_actor::stateful_pointer<batch_writer_state> self,
                                               node_context_ptr node, int index, bool ingest);

/// Spawns a batch writer actor (detached: it blocks).
batch_writer_actor spawn_batch_writer(caf::actor_system& sys, node_context_ptr node, int index, bool ingest);

} // namespace atendeai::actors
