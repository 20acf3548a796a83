#pragma once
/// The tenant boundary: one actor per clinic holding its profile and its agenda; spawns,
/// monitors and routes to the clinic's conversation and appointment-flow actors, and
/// serialises every hold, booking, move and cancellation of the clinic (no double
/// booking; PostgreSQL's exclusion constraint is the second guard).

#include "actors/node_context.hpp"

namespace atendeai::actors {

struct clinic_state;

/// A clinic actor; loads its profile and agenda from PostgreSQL and queues messages
/// meanwhile.
/// @param self the actor
/// @param node the node's wiring
/// @param parent its supervisor (the router): the clinic stops with it
/// @param clinic_id the clinic it stands for
/// @param restarted re-created by its supervisor after a crash: once loaded, it replays
///        the clinic's unanswered messages to fresh conversation actors
clinic_actor::behavior_type clinic(clinic_actor::stateful_pointer<clinic_state> self, node_context_ptr node,
                                   router_actor parent, std::string clinic_id, bool restarted);

/// Spawns a clinic actor.
clinic_actor spawn_clinic(caf::actor_system& sys, node_context_ptr node, router_actor parent,
                          std::string clinic_id, bool restarted = false);

} // namespace atendeai::actors
