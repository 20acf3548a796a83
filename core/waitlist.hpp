#pragma once
/// The waitlist as decisions: what a patient told that nothing is free waits for (a
/// service, maybe a professional, a part of the day, a range of days), which freed time
/// fits a waiting patient, the offer of that time with Quero / Não posso (and the same as
/// the clinic's notice template outside the 24-hour window), and reading the answer (a
/// tapped button's payload, or typed words). Pure: nothing is read or written.

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <date/date.h>

#include "core/agenda.hpp"
#include "core/clinic.hpp"
#include "core/clock.hpp"
#include "core/outbound.hpp"
#include "core/understanding.hpp"

namespace atendeai::core {

struct flow_state;

/// What a patient on the waitlist waits for.
struct waitlist_wish {
  std::string service_id;
  std::optional<std::string> professional_id;    ///< none: any who does the service
  std::optional<day_period> period;              ///< none: any part of the day
  std::optional<date::year_month_day> date_from; ///< local days, inclusive; none: open
  std::optional<date::year_month_day> date_to;
};

/// The wish of a booking flow that found nothing free: its service, professional, part of
/// the day and day (or range of days).
waitlist_wish waitlist_wish_of(const flow_state& s);

/// A patient waiting, as offering them a freed time needs them.
struct waitlist_candidate {
  std::string entry_id;
  std::string conversation_id;
  std::string lang = "pt-BR";        ///< the conversation's language when they joined
  std::string patient_name;
  std::string account_id, contact;   ///< where the patient's last message came from
  std::optional<instant> window_until; ///< end of the 24-hour window (none: never wrote)
  bool opted_out = false;
  bool template_allowed = true;      ///< false: the clinic requires an opt-in they did not give
  waitlist_wish wish;
};

/// One offer of a freed time to a patient on the waitlist, with its entry.
struct waitlist_offer {
  std::string id;
  std::string entry_id;
  std::string conversation_id;
  std::string state;        ///< offered | accepted | declined | expired | withdrawn
  std::string entry_status; ///< waiting | offered | booked | removed
  std::string lang;
  core::slot slot;
  core::instant hold_until{};
};

/// The patients a freed time may go to, first first, and the clinic's notice template
/// (an offer outside the 24-hour window is sent as it).
struct waitlist_round {
  std::vector<core::waitlist_candidate> candidates;
  std::string notice_template = "aviso_consulta";
  std::string notice_language = "pt_BR";
};

/// The time `c` could take of `freed` (a professional's time that became free): their
/// service with that professional from the freed start, when the professional does the
/// service, it fits in the freed time, and the wish's professional, days and part of the
/// day allow it; nullopt otherwise. Throws std::invalid_argument for an unknown time zone.
std::optional<slot> waitlist_slot_for(const waitlist_candidate& c, const slot& freed, const clinic_profile& clinic);

/// The agenda's owner of the hold on a time offered to a waitlist entry.
std::string waitlist_hold_owner(const std::string& entry_id);

/// A patient's answer to an offer.
enum class waitlist_answer { accept, decline };
/// The button payload of an answer: "waitlist:accept:<offer id>".
std::string waitlist_choice_id(waitlist_answer a, const std::string& offer_id);
/// Parses a payload made by waitlist_choice_id; nullopt for anything else.
std::optional<std::pair<waitlist_answer, std::string>> parse_waitlist_choice(std::string_view id);
/// A typed answer to the offer just sent ("quero", "pode ser", "sim" / "não posso",
/// "não"); nullopt when the words are not an answer to it.
std::optional<waitlist_answer> read_waitlist_answer(std::string_view text);

/// The offer of `s` held until `hold_until`: buttons Quero este horário / Não posso inside
/// the window; `templated` is the same text for the clinic's notice template ("Olá {{1}}!
/// {{2}}", typed answers then) outside it.
struct waitlist_offer_message {
  outbound_message interactive;
  outbound_message templated; ///< templ set to the notice template
};
waitlist_offer_message offer_message(const clinic_profile& clinic, const waitlist_candidate& c, const slot& s,
                                     instant hold_until, const std::string& offer_id,
                                     const std::string& notice_template, const std::string& notice_language);

/// "quero sair da lista de espera", "remove me from the waitlist": the patient leaves it.
bool reads_waitlist_leave(std::string_view text);
/// The answer to it: taken off (`left`), or on no waitlist (pt-BR or English).
std::string waitlist_left_text(bool en, bool left);

/// "Pronto! Coloquei você na lista de espera de Cardiologia ..." (or English).
std::string waitlist_joined_text(const clinic_profile& clinic, const waitlist_wish& w, bool en);
/// The answer to a decline: the time goes to the next patient, they stay on the list.
std::string waitlist_declined_text(bool en);
/// The answer when the offer is no longer theirs (the hold ran out, or the time went).
std::string waitlist_gone_text(bool en, bool still_waiting);

} // namespace atendeai::core
