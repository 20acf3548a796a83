#pragma once
/// A clinic's agenda in PostgreSQL: appointments, absences and closures. Every query runs
/// under the clinic's row-level security scope and filters by clinic_id. Blocking: only
/// for detached actors (the db readers).

#include <optional>
#include <string>
#include <vector>

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

/// The active appointments starting from `from` on of the contact behind a
/// conversation, by start.
std::vector<agenda_entry> conversation_appointments(pqxx::connection& conn, const std::string& clinic_id,
                                                    const std::string& conversation_id, core::instant from);

} // namespace atendeai::persistence
