#pragma once
/// One actor per booking in progress (clinic, conversation): drives the pure
/// core::next_flow_state with the clinic's agenda, carries out its actions through the
/// clinic actor (hold, release, book, reschedule, cancel) and answers the conversation
/// with the one reply and the state to persist. Spawned and monitored by the clinic.

#include "actors/node_context.hpp"

namespace atendeai::actors {

struct appointment_flow_state;

/// An appointment flow actor.
/// @param self the actor
/// @param node the node's wiring
/// @param profile the clinic's profile
/// @param clinic the clinic actor that serialises the agenda
/// @param conversation_id the conversation the flow belongs to (also its hold owner)
appointment_flow_actor::behavior_type appointment_flow(appointment_flow_actor::stateful_pointer<appointment_flow_state> self,
                                                       node_context_ptr node, clinic_profile_ptr profile,
                                                       clinic_actor clinic, std::string conversation_id);

/// Spawns an appointment flow actor.
appointment_flow_actor spawn_appointment_flow(caf::actor_system& sys, node_context_ptr node,
                                              clinic_profile_ptr profile, clinic_actor clinic,
                                              std::string conversation_id);

} // namespace atendeai::actors
