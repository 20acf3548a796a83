#pragma once
/// The values persistence/agenda.hpp reads and writes, without libpqxx, so that actor
/// messages can carry them.

#include <optional>
#include <string>
#include <vector>

#include "core/agenda.hpp"
#include "core/clock.hpp"

namespace atendeai::persistence {

/// An appointment with the conversation it was booked from (core::agenda_entry).
using agenda_entry = core::agenda_entry;

/// What a clinic actor loads at start: active appointments ending from `from` on,
/// absences ending from `from` on, and closures from the day before `from` on.
struct agenda_data {
  std::vector<agenda_entry> appointments; ///< active ones only, by start
  std::vector<core::absence> absences;    ///< by start
  std::vector<core::closure> closures;    ///< by first day
  std::vector<core::hold> holds;          ///< the holds of open waitlist offers (they outlive a restart)
};

/// The outcome of a write to the agenda.
enum class agenda_outcome {
  ok,         ///< written
  slot_taken, ///< the exclusion constraint refused it (SQLSTATE 23P01)
  not_found   ///< no such active appointment (or conversation)
};

/// A write's outcome and the appointment as stored.
struct agenda_write {
  agenda_outcome outcome = agenda_outcome::ok;  ///< what happened
  std::optional<agenda_entry> entry;            ///< the stored row when ok
};

// -- staff changes (admin API) ------------------------------------------------------------

/// An appointment as the admin API shows it: the agenda entry plus the patient and the
/// bookkeeping columns.
struct appointment_record {
  agenda_entry entry;
  std::string patient_phone; ///< the contact's number, E.164 (its channel id when it is none)
  std::string patient_name;
  std::string cancel_reason;
  std::string created_at; ///< ISO 8601 UTC
  std::string updated_at; ///< ISO 8601 UTC
};

/// Who makes a staff change, for its audit row.
struct change_author {
  std::string user_id;
  std::string role;
  std::string request_id;
  std::string ip;
};

/// What a staff change does.
enum class staff_action { create, reschedule, cancel, attended, no_show };

/// One staff change of a clinic's agenda, made through its clinic actor.
struct staff_change {
  staff_action action = staff_action::create;
  std::string appointment_id; ///< every action but create
  core::slot slot;            ///< create and reschedule: the new time (end from the service)
  std::string patient_phone;  ///< create: the patient's number, E.164 (core::normalize_phone);
                              ///< their WhatsApp contact in either form, or a new one
  std::string patient_name;   ///< create: stored when the contact has no name yet
  std::string reason;         ///< cancel
  change_author by;           ///< for the audit row
};

/// The outcome of a staff change as written.
struct staff_write {
  agenda_outcome outcome = agenda_outcome::ok; ///< ok, slot_taken (exclusion constraint), not_found
  std::string refused;                         ///< non-empty: the status forbids the change (why)
  std::optional<appointment_record> record;    ///< the row after the change when ok
};

} // namespace atendeai::persistence
