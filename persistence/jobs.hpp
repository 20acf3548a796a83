#pragma once
/// The durable job scheduler's SQL (migration 0016): planning reminders, finding and
/// claiming due jobs with a lease, ending them; and a clinic's reminder settings.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "core/clock.hpp"
#include "core/reminders.hpp"

namespace atendeai::persistence {

/// Plans an appointment's jobs at `now`: its reminders (unless `change` is "cancelled"),
/// and a notice of a staff change when `change` names one (created, moved, cancelled);
/// returns how many jobs were added.
int plan_jobs(pqxx::connection& conn, const std::string& clinic_id, const std::string& appointment_id,
              const std::string& change, core::instant now);
/// Plans the reminders of one appointment ("" = every active future one of the clinic)
/// inside a transaction (the admin API, with its settings change).
int plan_reminders(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& appointment_id,
                   core::instant now);

/// The clinics with a job due at `now` (pending or running), and when the next open job
/// falls due after `now`.
core::due_jobs clinics_with_due_jobs(pqxx::connection& conn, core::instant now);

/// Claims up to `limit` due reminders of `clinics` for `node` (marking done first those
/// whose message exists, and failed those tried `max_attempts` times).
std::vector<core::due_reminder> claim_reminders(pqxx::connection& conn, const std::vector<std::string>& clinics,
                                                core::instant now, const std::string& node,
                                                std::chrono::seconds lease, int max_attempts, int limit);

/// What one clinic's retention job anonymised (LGPD, migration 0023).
struct retention_run {
  std::string clinic_id;
  int64_t messages = 0; ///< message texts and payloads older than the clinic's retention
  int64_t memories = 0; ///< conversation memories not written since then
};
/// Runs the due retention jobs of `clinics` (their owner node, before it claims the
/// others): older messages and memories anonymised, each job done with what it did.
std::vector<retention_run> run_retention(pqxx::connection& conn, const std::vector<std::string>& clinics,
                                         core::instant now, const std::string& node);

/// Ends a claimed job: state skipped or failed with why, or pending again until `due`.
void finish_job(pqxx::connection& conn, const std::string& clinic_id, const std::string& job_id,
                const std::string& state, const std::string& outcome, core::instant due, core::instant now);

/// The clinic's reminder settings (the defaults when it never set them).
core::reminder_settings load_reminder_settings(pqxx::transaction_base& tx, const std::string& clinic_id);
/// Stores them (the transaction is scoped to the clinic).
void save_reminder_settings(pqxx::transaction_base& tx, const std::string& clinic_id, const core::reminder_settings& s);

/// The end of a conversation's 24-hour window: the channel's timestamp of the patient's
/// last message + 24 h; nullopt when the patient never wrote in it.
std::optional<core::instant> window_until(pqxx::transaction_base& tx, const std::string& clinic_id,
                                          const std::string& conversation_id);

} // namespace atendeai::persistence
