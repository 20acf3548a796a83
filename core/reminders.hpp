#pragma once
/// Appointment reminders and notices of staff changes as decisions: a clinic's settings,
/// what to do with one when it is due (send, hold for quiet hours, skip and why), its text
/// in the clinic's voice with Confirmar / Remarcar / Cancelar, the same as a WhatsApp
/// template for outside the 24-hour window, and reading the patient's answer (a tapped
/// button's payload, or typed words). Pure: "now" is passed in, nothing is read or written.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <date/tz.h>
#include <nlohmann/json_fwd.hpp>

#include "core/agenda.hpp"
#include "core/clinic.hpp"
#include "core/clock.hpp"
#include "core/outbound.hpp"

namespace atendeai::core {

/// A clinic's reminder choices (GET/PUT /api/v1/clinics/{id}/reminders).
struct reminder_settings {
  bool enabled = true;
  std::vector<int> offsets_minutes{1440, 120}; ///< before the start; 5..20,160, at most 5, distinct
  std::string template_name = "lembrete_consulta"; ///< sent outside the 24-hour window
  std::string template_language = "pt_BR";
  minute_of_day quiet_start = 21 * 60; ///< local time; proactive messages wait from here...
  minute_of_day quiet_end = 8 * 60;    ///< ...to here (start > end: over midnight)
  /// Patients told when staff create, move or cancel their appointment.
  bool notify_created = true, notify_moved = true, notify_cancelled = true;
  std::string notice_template_name = "aviso_consulta"; ///< a notice outside the window: "Olá {{1}}! {{2}}"
  std::string notice_template_language = "pt_BR";
  /// An appointment neither attended nor cancelled this long after its end is marked
  /// no_show (5..10,080 minutes); none: never (staff mark it).
  std::optional<int> no_show_after_minutes;
  /// Templates (messages outside the 24-hour window) only to patients whose opt-in the
  /// clinic recorded (PUT .../contacts/{cid}/opt-in); inside the window nothing changes.
  bool require_opt_in = false;
};

/// {"enabled","offsets_minutes","template":{"name","language"},"quiet_hours":{"start","end"},
///  "notify_staff_changes":{"created","moved","cancelled","template":{"name","language"}},
///  "no_show_after_minutes":null|minutes,"require_opt_in":bool}.
nlohmann::json to_json(const reminder_settings& s);
/// The members present replace `base`'s. Unknown members, wrong types and out-of-range
/// values throw std::invalid_argument "<json path>: <reason>" ("offsets_minutes[1]: ...").
reminder_settings reminder_settings_from_json(const nlohmann::json& j, reminder_settings base);

/// What the job scheduler finds at one look: the clinics with a job due now (pending or
/// running), and when the next open job falls due (0: none).
struct due_jobs {
  std::vector<std::string> clinics;
  int64_t next_due_ms = 0;
};

/// A due reminder (or notice of a staff change) as the scheduler claimed it, with the
/// appointment as it is now.
struct due_reminder {
  std::string kind = "reminder"; ///< reminder | notify | no_show | waitlist_offer | waitlist_hold
  std::string change;            ///< notify: created | moved | cancelled
  std::string clinic_id;
  std::string job_id;
  std::string appointment_id;
  int offset_minutes = 0;
  instant planned_start{};          ///< the start the reminder was planned for
  instant planned_end{};            ///< no_show: the end it was planned for
  int after_minutes = 0;            ///< no_show: the grace it was planned with
  slot freed;                       ///< waitlist_offer: the professional's time that became free
  std::string offer_id;             ///< waitlist_hold: the offer whose hold ends
  std::string appointment_status;   ///< "" when the appointment is gone
  instant starts_at{}, ends_at{};
  std::string professional_id, service_id;
  std::string conversation_id;      ///< "" when the patient has none to write to
  std::string patient_name;
  std::string account_id, contact;  ///< where the patient's last message came from
  std::optional<instant> window_until; ///< end of the 24-hour window (none: never wrote)
  bool opted_out = false;
  bool opt_in = false;              ///< the clinic recorded the patient's opt-in
  reminder_settings settings;
};

/// What to do with a due reminder.
struct reminder_plan {
  enum class action { send, hold, skip };
  action what = action::skip;
  std::string reason;      ///< skip: cancelled, moved, superseded, past, disabled, opted_out, no_conversation
  instant hold_until{};    ///< hold: when quiet hours end
  outbound_message interactive; ///< send, inside the window: text with three buttons
  outbound_message templated;   ///< send, outside it: the clinic's reminder template (none: see below)
  std::string no_template;      ///< why there is no template to send outside the window ("no_opt_in")
  bool answerable = true;       ///< its answer may confirm, move or cancel the appointment
};

/// Decides a due reminder or notice at `now`. One due in quiet hours waits until they
/// end, unless that is at or past the appointment's start (the clinic's offset put it
/// there). A notice of a cancellation is sent whatever the appointment's status; one of
/// a booking or move only while the appointment is still there at that time.
/// Throws std::invalid_argument when the clinic's time zone is unknown.
reminder_plan plan_reminder(const due_reminder& r, const clinic_profile& clinic, instant now);

/// Why a due automatic no-show no longer applies: the status of an appointment no longer
/// active ("attended", "cancelled", "no_show"), "gone", "moved", "disabled" when the clinic
/// turned it off or changed the grace, "early" before its end + grace; nullopt when the
/// appointment is to be marked no_show now.
std::optional<std::string> no_show_skip(const due_reminder& r, instant now);

/// When the clinic's quiet hours that `now` falls in end (local minute precision);
/// nullopt when `now` is outside them.
std::optional<instant> quiet_until(const reminder_settings& s, const date::time_zone* tz, instant now);

/// Whether a message sent at `now` to a conversation whose window ends at
/// `window_until` may be free text or interactive (else only a template).
bool window_open(const std::optional<instant>& window_until, instant now);
/// How long the customer-service window stays open after the patient's last message.
constexpr std::chrono::hours service_window{24};

/// A patient's answer to a reminder.
enum class reminder_answer { confirm, reschedule, cancel };

/// The button / quick-reply payload of an answer: "remind:confirm:<appointment id>".
std::string reminder_choice_id(reminder_answer a, const std::string& appointment_id);
/// Parses a payload made by reminder_choice_id; nullopt for anything else.
std::optional<std::pair<reminder_answer, std::string>> parse_reminder_choice(std::string_view id);
/// A typed answer to the reminder just sent ("confirmo", "vou sim", "não vou poder ir",
/// "pode remarcar?"); nullopt when the words are not an answer to it.
std::optional<reminder_answer> read_reminder_answer(std::string_view text);
/// "PARAR", "SAIR", "STOP", "cancelar lembretes": the patient wants no more proactive
/// messages from the clinic.
bool reads_opt_out(std::string_view text);

/// "Obrigado! Sua consulta de ... está confirmada." (or English).
std::string reminder_confirmed_text(const clinic_profile& clinic, const appointment& a, bool en);
/// The answer to an opt-out (pt-BR or English).
std::string opted_out_text(bool en);

} // namespace atendeai::core
