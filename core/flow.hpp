#pragma once
/// The appointment flow: the seeds' five booking states (INÍCIO → SELEÇÃO DE SERVIÇO →
/// DATA E HORÁRIO → CONFIRMAÇÃO → FINALIZAÇÃO, plus cancelled and expired) as one pure
/// transition function over a JSON-persistable state. The appointment_flow actor holds a
/// flow_state, feeds it events and carries out the returned actions; all rules are here.
///
/// Protocol for the actor, per event:
///  1. t = next_flow_state(state, event, ctx); if !t.consumed, the message was not about
///     the flow: answer it elsewhere (decide_reply) and keep the old state.
///  2. Persist t.state, then carry out t.actions in order. release_hold must be
///     idempotent. If a hold_slot fails (slot taken), discard t.messages and feed
///     clinic_result{slot_taken} to next_flow_state(t.state, ...) instead, sending
///     that transition's messages.
///  3. Send t.messages (at most one per patient message). No messages after book /
///     reschedule / cancel_appointment: the state is awaiting_clinic and the reply comes
///     with the clinic_result event that the clinic actor's answer becomes.
///  4. Schedule an expiry_tick at flow_expires_at(t.state, expiry) unless terminal.
///  After a restart with awaiting_clinic set, re-issue pending_action(state) (the clinic
///  must treat a repeated book of the same hold as already done). Holds may expire in
///  the clinic before the flow does: book then succeeds if the slot is still free and
///  answers slot_taken otherwise.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <date/date.h>
#include <nlohmann/json_fwd.hpp>

#include "core/agenda.hpp"
#include "core/clinic.hpp"
#include "core/clock.hpp"
#include "core/outbound.hpp"
#include "core/slots.hpp"
#include "core/understanding.hpp"

namespace atendeai::core {

/// What the flow is doing for the patient.
/// confirm: the patient answered a reminder with "Confirmar".
enum class flow_kind { book, reschedule, cancel, confirm };

/// The flow's position: start = INÍCIO, service_selection = SELEÇÃO DE SERVIÇO (for
/// reschedule/cancel: choosing which appointment), date_time = DATA E HORÁRIO,
/// confirmation = CONFIRMAÇÃO, done = FINALIZAÇÃO; cancelled (the patient gave up or
/// nothing could be offered) and expired (no answer in time) are the other ends;
/// waitlist: nothing was free for the service, the patient was asked to join its waitlist.
enum class flow_step { start, service_selection, date_time, confirmation, waitlist, done, cancelled, expired };

/// The label of a kind ("reschedule").
std::string_view to_string(flow_kind k);
/// The label of a step ("date_time").
std::string_view to_string(flow_step s);
/// Parses a kind label; nullopt when unknown.
std::optional<flow_kind> flow_kind_from_string(std::string_view s);
/// Parses a step label; nullopt when unknown.
std::optional<flow_step> flow_step_from_string(std::string_view s);
/// True for done, cancelled and expired.
bool is_terminal(flow_step s);

/// Everything a flow remembers between messages; persisted as JSON at every step.
struct flow_state {
  flow_kind kind = flow_kind::book;
  flow_step step = flow_step::start;
  std::string lang = "pt-BR";                    ///< "pt-BR" or "en"
  std::string hold_owner;                        ///< owner key of this flow's holds
  std::optional<std::string> service_id;         ///< chosen service
  std::optional<std::string> professional_id;    ///< preferred professional
  std::optional<date::year_month_day> date;      ///< preferred local day
  std::optional<date::year_month_day> date_from; ///< preferred local range
  std::optional<date::year_month_day> date_to;
  std::optional<minute_of_day> time;             ///< preferred local time
  std::optional<day_period> period;              ///< preferred part of the day
  std::optional<core::slot> chosen;              ///< slot held while confirming
  bool awaiting_clinic = false;                  ///< book/reschedule/cancel sent, no result yet
  std::vector<core::slot> offered_slots;         ///< slots offered in the last reply, in order
  std::vector<std::string> offered_services;     ///< service ids offered, in order
  std::vector<appointment> offered_appointments; ///< the patient's appointments offered
  std::optional<appointment> target;             ///< appointment being rescheduled/cancelled
  std::optional<appointment> result;             ///< the booked/rescheduled/cancelled one
  instant started_at{};                          ///< when the flow began
  instant last_activity{};                       ///< the patient's last message (expiry clock)
};

/// A fresh flow (step start) for a hold owner at `now`.
flow_state new_flow(std::string hold_owner, instant now, std::string lang = "pt-BR");

/// The JSON form of a flow state (dates "YYYY-MM-DD", times "HH:MM", instants ISO).
nlohmann::json to_json(const flow_state& s);
/// Parses a flow state; missing fields keep their defaults, wrong ones throw
/// std::invalid_argument naming the field.
flow_state flow_state_from_json(const nlohmann::json& j);

/// A message from the patient, already understood.
struct patient_message {
  understanding u;                     ///< intent, entities, language
  std::string text;                    ///< the raw text (button/row title for replies)
  std::optional<std::string> reply_id; ///< interactive reply id: "service:<id>",
                                       ///< "slot:<professional_id>:<ISO start>",
                                       ///< "appointment:<id>", "confirm", "other_time",
                                       ///< "cancel", "keep", a reminder's "remind:<answer>:<id>"
};

/// The clinic actor's answer to a book / reschedule / cancel_appointment action (or to a
/// failed hold_slot: slot_taken).
struct clinic_result {
  /// What happened.
  enum class outcome { booked, rescheduled, cancelled, confirmed, slot_taken, not_found, waitlisted };
  outcome what = outcome::booked;         ///< what happened
  std::optional<core::appointment> appointment; ///< the appointment as stored (booked etc.)
  std::vector<slot> alternatives;         ///< free slots to offer; empty = ask find_slots
};

/// Time passed: the actor sends this when the flow may have expired.
struct expiry_tick {};

/// Anything that moves a flow.
using flow_event = std::variant<patient_message, clinic_result, expiry_tick>;

/// Something the actor must do for a transition.
enum class flow_action_kind {
  hold_slot,          ///< ask the clinic to hold `slot` for state.hold_owner
  release_hold,       ///< drop the hold on `slot` (idempotent)
  book,               ///< book `slot` for the patient (turns the hold into an appointment)
  reschedule,         ///< move appointment `appointment_id` to `slot`
  cancel_appointment, ///< cancel appointment `appointment_id`
  confirm_appointment, ///< mark appointment `appointment_id` confirmed (a reminder's answer)
  join_waitlist        ///< put the patient on the waitlist of the flow's wish (waitlist_wish_of)
};

/// One action; `slot` and `appointment_id` are set as the kind needs.
struct flow_action {
  flow_action_kind kind = flow_action_kind::hold_slot; ///< what to do
  std::optional<core::slot> slot;                      ///< hold/release/book/reschedule target
  std::string appointment_id;                          ///< reschedule/cancel_appointment target
  friend bool operator==(const flow_action& a, const flow_action& b) {
    return a.kind == b.kind && a.slot == b.slot && a.appointment_id == b.appointment_id;
  }
};

/// The label of an action kind ("cancel_appointment").
std::string_view to_string(flow_action_kind k);

/// What a transition needs from outside; everything read-only.
struct flow_context {
  const clinic_profile& clinic; ///< catalogue, hours, policy, address, time zone
  instant now;                  ///< from the injectable clock
  /// Free slots for a query (the actor binds free_slots to its agenda snapshot). The
  /// flow sets ignore_hold_owner and ignore_appointment_id itself.
  std::function<std::vector<slot>(const slot_query&)> find_slots;
  /// The patient's appointments (only active future ones are used).
  std::vector<appointment> patient_appointments;
  /// No answer for this long expires the flow (flow.expiry_minutes).
  std::chrono::minutes expiry{30};
};

/// The outcome of one event.
struct flow_transition {
  flow_state state;                      ///< the new state (persist it)
  std::vector<outbound_message> messages; ///< to send, in order (zero or one)
  std::vector<flow_action> actions;       ///< to carry out, in order
  bool consumed = true;                   ///< false: the message is not for the flow
};

/// The flow's transition function. Pure: same inputs, same output. Throws
/// std::invalid_argument when the clinic's time zone is unknown.
flow_transition next_flow_state(const flow_state& s, const flow_event& e, const flow_context& ctx);

/// When the flow expires if the patient stays silent.
instant flow_expires_at(const flow_state& s, std::chrono::minutes expiry);

/// The action to (re)issue while awaiting_clinic; nullopt otherwise.
std::optional<flow_action> pending_action(const flow_state& s);

/// The interactive reply id of a slot: "slot:<professional_id>:<ISO start>".
std::string slot_choice_id(const slot& s);
/// Splits a slot reply id into professional id and start; nullopt when malformed.
std::optional<std::pair<std::string, instant>> parse_slot_choice_id(std::string_view id);

/// The answer to "minhas consultas": the patient's active future appointments, or
/// "Você não tem consultas marcadas no momento." ("en": English).
outbound_message my_appointments_reply(const clinic_profile& clinic,
                                       const std::vector<appointment>& appointments,
                                       instant now, std::string_view lang);

/// "Pronto! Consulta confirmada: Cardiologia com a Dra. Ana Souza, quarta 25/11 às
/// 14:00, na <address>. Chegue 10 minutos antes. Até lá! 💙" (or English).
std::string booking_confirmed_text(const clinic_profile& clinic, const appointment& a,
                                   std::string_view lang);

} // namespace atendeai::core
