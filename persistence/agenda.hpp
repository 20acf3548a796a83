#pragma once
/// A clinic's agenda in PostgreSQL: appointments, absences and closures. Every query runs
/// under the clinic's row-level security scope and filters by clinic_id. Blocking: only
/// for detached actors (the db readers).

#include <optional>
#include <string>
#include <vector>

#include <date/tz.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "persistence/agenda_types.hpp"

namespace atendeai::persistence {

/// Loads the agenda view of a clinic (see agenda_data).
agenda_data load_agenda(pqxx::connection& conn, const std::string& clinic_id, core::instant from);

/// Books `slot` for the contact of `conversation_id` (status scheduled). An overlapping
/// active appointment of the professional gives slot_taken, never an exception.
agenda_write book_appointment(pqxx::connection& conn, const std::string& clinic_id,
                              const std::string& conversation_id, const core::slot& slot);

/// Moves an active appointment to `slot` (professional, start, end); slot_taken when the
/// new time overlaps another active appointment.
agenda_write reschedule_appointment(pqxx::connection& conn, const std::string& clinic_id,
                                    const std::string& appointment_id, const core::slot& slot);

/// Cancels an active appointment with a reason.
agenda_write cancel_appointment(pqxx::connection& conn, const std::string& clinic_id,
                                const std::string& appointment_id, const std::string& reason);

/// Marks an active appointment confirmed (the patient answered a reminder); not_found
/// when it is no longer active.
agenda_write confirm_appointment(pqxx::connection& conn, const std::string& clinic_id,
                                 const std::string& appointment_id);

// -- the admin API's view --------------------------------------------------------------

/// Applies a staff change and its audit row (who, what, before, after) in one
/// transaction, the appointment's row locked: not_found when the clinic has no such
/// appointment, `refused` when its status forbids the change at `now`
/// (core::check_transition), slot_taken when the exclusion constraint refuses the time.
/// Create finds or creates the WhatsApp contact of the phone and links the contact's
/// conversation when there is one.
staff_write apply_staff_change(pqxx::connection& conn, const std::string& clinic_id, const staff_change& change,
                               core::instant now);

/// One appointment of the clinic, if any. The transaction must be scoped to the clinic.
std::optional<appointment_record> find_appointment(pqxx::transaction_base& tx, const std::string& clinic_id,
                                                   const std::string& appointment_id);

/// Filters of an appointment listing (unset: no filter).
struct appointment_filter {
  std::optional<core::instant> from;      ///< starts at or after
  std::optional<core::instant> to;        ///< starts before
  std::optional<std::string> professional_id;
  std::optional<std::string> status;
  std::optional<std::string> patient;     ///< contact phone (exact digits) or part of the name
  std::optional<std::string> contact_id;  ///< one patient's appointments
  bool newest_first = false;              ///< by start, latest first (a patient's history)
};

/// A page of a clinic's appointments by start, and the total matching.
struct appointment_page {
  std::vector<appointment_record> items;
  int64_t total = 0;
};
/// Lists appointments. The transaction must be scoped to the clinic.
appointment_page list_appointments(pqxx::transaction_base& tx, const std::string& clinic_id,
                                   const appointment_filter& f, int page, int per_page);

/// A patient of the clinic: who they are, the opt-in to WhatsApp messages the clinic
/// collected (source, when, by whom; none when not recorded), and how many of their
/// appointments are in each status (every status present, 0 included).
struct contact_record {
  std::string id, channel, phone, name;
  std::optional<std::string> opt_in_source, opt_in_at, opt_in_by;
  std::vector<std::pair<std::string, int64_t>> counts;
};
/// One contact of the clinic with its counts (of `professional_id`'s appointments only,
/// when set); nullopt when the clinic has no such contact. Scoped to the clinic.
std::optional<contact_record> find_contact(pqxx::transaction_base& tx, const std::string& clinic_id,
                                           const std::string& contact_id,
                                           const std::optional<std::string>& professional_id = std::nullopt);
/// Records the opt-in the clinic collected (source set) or its withdrawal (nullopt);
/// false when the clinic has no such contact. Scoped to the clinic.
bool set_opt_in(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& contact_id,
                const std::optional<std::string>& source, const std::string& by_user_id, core::instant at);
/// The API's JSON of a contact: {id, channel, phone, name, opt_in:{source,at,by}|null,
/// appointment_counts:{status: n, ..., total}}.
nlohmann::json to_json(const contact_record& c);

/// The clinic's IANA time zone ("" when no such clinic). The transaction must be scoped to it.
std::string clinic_timezone(pqxx::transaction_base& tx, const std::string& clinic_id);

/// The API's JSON of an appointment; times in `tz` with its offset (UTC "Z" when null).
nlohmann::json to_json(const appointment_record& r, const date::time_zone* tz);

} // namespace atendeai::persistence
