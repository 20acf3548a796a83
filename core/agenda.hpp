#pragma once
/// A clinic's agenda as plain values: appointments, holds, absences, closures and the
/// slots computed from them, with their JSON forms. Pure, no I/O.

#include <optional>
#include <string>
#include <string_view>

#include <date/date.h>
#include <nlohmann/json_fwd.hpp>

#include "core/clock.hpp"

namespace atendeai::core {

/// Lifecycle of an appointment; scheduled and confirmed are the active ones.
enum class appointment_status { scheduled, confirmed, attended, no_show, cancelled };

/// The label of a status ("no_show").
std::string_view to_string(appointment_status s);
/// Parses a status label; nullopt when unknown.
std::optional<appointment_status> appointment_status_from_string(std::string_view s);
/// True for the statuses that occupy the agenda (scheduled, confirmed).
bool is_active(appointment_status s);

/// A booked appointment of one patient with one professional, [start, end).
struct appointment {
  std::string id;              ///< UUID
  std::string professional_id; ///< UUID
  std::string service_id;      ///< UUID
  instant start{};             ///< first instant
  instant end{};               ///< first instant after
  appointment_status status = appointment_status::scheduled;
  std::string contact_id;      ///< the patient's contact id
  /// True when the appointment occupies the agenda.
  bool active() const { return is_active(status); }
  friend bool operator==(const appointment& a, const appointment& b) {
    return a.id == b.id && a.professional_id == b.professional_id &&
           a.service_id == b.service_id && a.start == b.start && a.end == b.end &&
           a.status == b.status && a.contact_id == b.contact_id;
  }
};

/// An appointment with where it was booked: the chat's conversation ("" when staff booked
/// it) and the patient's number, by which a patient's appointments are found whoever
/// booked them and on whichever channel.
struct agenda_entry {
  core::appointment appointment; ///< the appointment; contact_id is the contacts row
  std::string conversation_id;   ///< the chat it was booked in, or ""
  std::string patient_phone;     ///< the contact's number, E.164 (core::contact_phone), or ""
};

/// A bookable time of one professional for one service, [start, end).
struct slot {
  std::string professional_id; ///< who
  std::string service_id;      ///< for what
  instant start{};             ///< first instant
  instant end{};               ///< start + the service's duration
  friend bool operator==(const slot& a, const slot& b) {
    return a.professional_id == b.professional_id && a.service_id == b.service_id &&
           a.start == b.start && a.end == b.end;
  }
  friend bool operator!=(const slot& a, const slot& b) { return !(a == b); }
};

/// A short reservation of a slot while a patient confirms (the clinic actor's memory).
struct hold {
  core::slot slot;      ///< the reserved slot
  instant expires_at{}; ///< the hold no longer counts from this instant on
  std::string owner; ///< who holds it (e.g. the conversation id)
  /// True while the hold still reserves its slot at `now`.
  bool live(instant now) const { return expires_at > now; }
  friend bool operator==(const hold& a, const hold& b) {
    return a.slot == b.slot && a.expires_at == b.expires_at && a.owner == b.owner;
  }
};

/// A professional away over [from, to) (vacation, congress, sick leave).
struct absence {
  std::string professional_id; ///< who is away
  instant from{};              ///< first instant away
  instant to{};                ///< first instant back
  friend bool operator==(const absence& a, const absence& b) {
    return a.professional_id == b.professional_id && a.from == b.from && a.to == b.to;
  }
};

/// The whole clinic closed on local dates [from, to], inclusive (a holiday: from == to).
struct closure {
  date::year_month_day from{}; ///< first closed local date
  date::year_month_day to{};   ///< last closed local date
  std::string reason;          ///< "Feriado", shown to staff
  /// True when the local date `d` falls in the closure.
  bool covers(const date::year_month_day& d) const { return from <= d && d <= to; }
  friend bool operator==(const closure& a, const closure& b) {
    return a.from == b.from && a.to == b.to && a.reason == b.reason;
  }
};

/// An instant as ISO 8601 UTC: "2026-11-25T17:00:00Z" (".123" added when there are ms).
std::string format_iso(instant t);
/// Parses ISO 8601 with "Z" or an offset ("2026-11-25T14:00:00-03:00"), seconds and
/// fraction optional; nullopt when malformed.
std::optional<instant> parse_iso(std::string_view s);
/// A date as "2026-11-25".
std::string format_ymd(const date::year_month_day& d);
/// Parses "2026-11-25" (a valid calendar date); nullopt when malformed.
std::optional<date::year_month_day> parse_ymd(std::string_view s);

/// JSON forms: instants as ISO strings, dates as "YYYY-MM-DD", statuses by label.
/// The *_from_json parsers throw std::invalid_argument naming the bad field.
nlohmann::json to_json(const appointment& a);
/// Parses an appointment; `contact_id` and `status` are optional (default scheduled).
appointment appointment_from_json(const nlohmann::json& j);
/// {"professional_id","service_id","start","end"}.
nlohmann::json to_json(const slot& s);
/// Parses a slot.
slot slot_from_json(const nlohmann::json& j);
/// {"slot":{...},"expires_at","owner"}.
nlohmann::json to_json(const hold& h);
/// Parses a hold.
hold hold_from_json(const nlohmann::json& j);
/// {"professional_id","from","to"}.
nlohmann::json to_json(const absence& a);
/// Parses an absence.
absence absence_from_json(const nlohmann::json& j);
/// {"from","to","reason"}; parsing also accepts {"date":"YYYY-MM-DD"} for one day.
nlohmann::json to_json(const closure& c);
/// Parses a closure.
closure closure_from_json(const nlohmann::json& j);

} // namespace atendeai::core
