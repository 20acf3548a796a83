#pragma once
/// Reads that other actors need from PostgreSQL, and the agenda writes of clinic actors,
/// off the scheduler (spawn detached).

#include "actors/node_context.hpp"

namespace atendeai::actors {

struct db_reader_state;

/// A reader answering channel, clinic, memory, recovery and agenda queries on its own
/// connection (app role, row-level security).
/// @param self the actor
/// @param node the node's wiring
db_reader_actor::behavior_type db_reader(db_reader_actor::stateful_pointer<db_reader_state> self,
                                         node_context_ptr node);

/// Spawns a db reader actor (detached: it blocks).
db_reader_actor spawn_db_reader(caf::actor_system& sys, node_context_ptr node);

} // namespace atendeai::actors
