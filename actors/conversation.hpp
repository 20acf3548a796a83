#pragma once
/// One actor per (clinic, channel, contact): keeps the recent messages and the
/// conversation state, dedupes, understands, decides the reply and hands it to a batch
/// writer. Booking, rescheduling, cancelling and "minhas consultas" (and every message
/// while a booking flow is open) go to the clinic's appointment flow instead of
/// core::decide_reply; still exactly one reply per inbound message. Stops after
/// conversation.idle_timeout_s without messages (its state is durable by then); the next
/// message re-creates it from PostgreSQL.

#include "actors/node_context.hpp"

namespace atendeai::actors {

struct conversation_state_holder;

/// A conversation actor.
/// @param self the actor
/// @param node the node's wiring
/// @param profile the clinic's profile
/// @param clinic the clinic actor (owner of the booking flows)
/// @param clinic_id the clinic
/// @param conversation_id the conversation's id in PostgreSQL
/// @param fresh the ingest that stored its first message created it: no memory to read
conversation_actor::behavior_type conversation(conversation_actor::stateful_pointer<conversation_state_holder> self,
                                               node_context_ptr node, clinic_profile_ptr profile,
                                               clinic_actor clinic, std::string clinic_id,
                                               std::string conversation_id, bool fresh);

/// Spawns a conversation actor.
conversation_actor spawn_conversation(caf::actor_system& sys, node_context_ptr node, clinic_profile_ptr profile,
                                      clinic_actor clinic, std::string clinic_id, std::string conversation_id,
                                      bool fresh);

} // namespace atendeai::actors
