#pragma once
/// The values persistence/agenda.hpp reads and writes, without libpqxx, so that actor
/// messages can carry them.

#include <optional>
#include <string>
#include <vector>

#include "core/agenda.hpp"
#include "core/clock.hpp"

namespace atendeai::persistence {

/// An appointment with the conversation it was booked from (empty when booked by staff).
struct agenda_entry {
  core::appointment appointment; ///< the appointment; contact_id is the contacts row
  std::string conversation_id;   ///< the chat it was booked in, or ""
};

/// What a clinic actor loads at start: active appointments ending from `from` on,
/// absences ending from `from` on, and closures from the day before `from` on.
struct agenda_data {
  std::vector<agenda_entry> appointments; ///< active ones only, by start
  std::vector<core::absence> absences;    ///< by start
  std::vector<core::closure> closures;    ///< by first day
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

} // namespace atendeai::persistence
