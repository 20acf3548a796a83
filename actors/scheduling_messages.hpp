#pragma once
/// Values of the scheduling protocol (clinic ⇄ appointment_flow ⇄ conversation, clinic ⇄
/// db_reader). They stay on one node (JSON, core types), hence
/// CAF_ALLOW_UNSAFE_MESSAGE_TYPE.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/flow.hpp"
#include "core/outbound.hpp"
#include "core/reminders.hpp"
#include "core/slots.hpp"
#include "core/waitlist.hpp"
#include "persistence/agenda_types.hpp"

namespace atendeai::actors {

/// What a flow sees of its clinic's agenda at one moment.
struct agenda_snapshot {
  core::agenda_view view;                            ///< appointments, live holds, absences, closures
  std::vector<core::appointment> patient_appointments; ///< the conversation's active future ones
};

/// The clinic's answer to hold / book / reschedule / cancel: the outcome (for a hold:
/// booked = held, slot_taken = refused) and the agenda after it.
struct clinic_answer {
  core::clinic_result result; ///< what happened
  agenda_snapshot snapshot;   ///< the agenda right after
};

/// A patient message handed from a conversation to its appointment flow.
struct flow_request {
  std::string conversation_id;  ///< the conversation (also the flow's hold owner)
  nlohmann::json flow;          ///< the persisted flow state (null: none yet)
  core::patient_message message; ///< the understood message
  std::string lang;             ///< the conversation's language ("" = unknown)
  std::shared_ptr<const core::clinic_profile> profile = nullptr; ///< the clinic's current profile (set by the clinic actor)
};

/// The flow's answer: whether it took the message, its reply and its new state.
struct flow_reply {
  bool consumed = false;                       ///< false: answer with decide_reply instead
  std::optional<core::outbound_message> reply; ///< the one reply to the message
  nlohmann::json flow;                         ///< state to persist; null once the flow ended
  std::string lang;                            ///< the flow's language
};

/// A flow that expired while the patient was silent: what to tell them.
struct flow_expiry {
  std::string conversation_id;                 ///< whose flow
  std::optional<core::outbound_message> message; ///< "Como não tive resposta..."
};

/// Free slots as the clinic actor computes them (admin API), with the clinic's zone.
struct slot_list {
  std::vector<core::slot> slots; ///< sorted by start, then professional
  std::string timezone;          ///< the clinic's IANA zone
  std::string field;             ///< non-empty: the query names no such service/professional
  std::string message;           ///< why, with field
};

/// The clinic actor's answer to a staff change: the row after it, or a refusal (the API's
/// error code, message and field) with the nearest free slots when the time was taken.
struct staff_answer {
  bool ok = false;
  core::error_code code = core::error_code::internal_error; ///< when refused
  std::string message;                                        ///< when refused
  std::string field;                                          ///< when refused
  std::optional<persistence::appointment_record> record;      ///< when ok
  std::vector<core::slot> alternatives;                       ///< with a conflict on the time
  std::string timezone;                                       ///< the clinic's IANA zone
};

/// A message the clinic sends unasked (a reminder now): its conversation sends the
/// interactive form inside the 24-hour window and the template outside it. The job is
/// the message's cause, so running the job twice writes one message.
struct proactive_message {
  std::string job_id;
  std::string account_id;  ///< the clinic's channel account the patient last wrote to
  std::string recipient;   ///< the patient on the channel
  std::optional<core::instant> window_until; ///< as PostgreSQL knew it at the claim
  core::outbound_message interactive;
  core::outbound_message templated;          ///< templ empty: none to send outside the window...
  std::string no_template = "no_template";   ///< ...and why (no_opt_in: the clinic requires one)
  std::string appointment_id;                ///< the appointment a typed answer will be about ("": none)
  std::string kind = "reminder";             ///< reminder | notify | waitlist (metrics, the message's intent label)
  std::string offer_id;                      ///< waitlist: the offer a typed answer will be about
};

} // namespace atendeai::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::core::slot)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::core::due_reminder)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::core::due_jobs)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<atendeai::core::due_reminder>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::proactive_message)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::core::waitlist_wish)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::core::waitlist_round)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::core::waitlist_offer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::core::slot_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::slot_list)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::staff_answer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::persistence::staff_change)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::persistence::staff_write)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::agenda_snapshot)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::clinic_answer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::flow_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::flow_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::actors::flow_expiry)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::persistence::agenda_data)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(atendeai::persistence::agenda_write)
