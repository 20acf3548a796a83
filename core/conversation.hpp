#pragma once
/// What the assistant says back: conversation state and the reply decision for one
/// understood message. Pure functions over the clinic's data; no I/O.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/clinic.hpp"
#include "core/outbound.hpp"
#include "core/understanding.hpp"

namespace atendeai::core {

/// Per-conversation state, persisted as JSON in conversation_memory.state.
struct conversation_state {
  std::string lang;              ///< language of the last patient message ("" = unknown)
  int unknown_streak = 0;        ///< messages in a row not understood
  bool handoff = false;          ///< a human has taken over: the bot stays silent
  nlohmann::json flow = nullptr; ///< open appointment flow (scheduling), null when none
  bool human_offered = false;    ///< the last reply offered a human: "sim" hands over
  bool opted_out = false;        ///< said PARAR / STOP: no proactive messages until they write again
  std::string reminded;          ///< the appointment the last reminder was about, until the next message
  std::string waitlist_offer;    ///< the waitlist offer just sent, until the next message
  std::string consent;           ///< LGPD consent: "" (never asked), given, refused, revoked
  bool consent_asked = false;    ///< the last reply asked for consent: "aceito" / "não" answer it
  bool notice_shown = false;     ///< the privacy notice went with a reply (health_protection)
};

/// The JSON form stored in conversation_memory.state.
nlohmann::json to_json(const conversation_state& s);
/// Lenient: missing fields keep their defaults.
conversation_state conversation_state_from_json(const nlohmann::json& j);

/// The outcome of one patient message.
struct reply_decision {
  std::optional<outbound_message> reply; ///< empty when the bot must stay silent
  bool handoff_started = false;          ///< this message started a hand-over
};

/// Decides the answer to one understood message and updates the state (language,
/// unknown streak, hand-over). A conversation already in hand-over gets no reply.
/// `first_message` is true when the contact never wrote before (full greeting).
/// `message_text` is the patient's message as written: a clinic question (or a message
/// not understood) is answered from the clinic's FAQ entry it matches, if any.
reply_decision decide_reply(const understanding& u, const clinic_profile& clinic,
                            conversation_state& state, bool first_message,
                            std::string_view message_text = {});

/// The reply to a message the rules could not answer and the language model did, from the
/// clinic's data (its answer already checked by core::answer_violation): sent as written,
/// marked as generated; the message counts as understood (no hand-over streak).
reply_decision generated_reply(const understanding& u, const clinic_profile& clinic, conversation_state& state,
                               std::string answer);

} // namespace atendeai::core
