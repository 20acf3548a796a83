#pragma once
/// Rules of staff changes to an agenda (the admin appointments API): whether a requested
/// time may be booked and why not, the nearest alternatives, which status changes an
/// appointment allows, and local ISO times. Pure functions; "now" is always passed in.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/agenda.hpp"
#include "core/clinic.hpp"
#include "core/slots.hpp"

namespace atendeai::core {

/// Why a request is refused: a conflict (409: the time is taken, the status forbids it)
/// or invalid input (422), naming the field.
struct agenda_refusal {
  bool conflict = false; ///< 409 when true, 422 otherwise
  std::string field;     ///< the request member at fault ("starts_at", "status")
  std::string message;   ///< why, for staff
};

/// The slot of `service_id` with `professional_id` starting at `start` (its end from the
/// service's duration), or a 422 refusal naming service_id / professional_id when the
/// service is unknown or inactive, the professional unknown, inactive or not performing it.
std::optional<agenda_refusal> make_slot(const clinic_profile& clinic, const std::string& service_id,
                                        const std::string& professional_id, instant start, slot& out);

/// Checks that `s` is free as the chat would offer it (working and professional hours,
/// slot grid, min/max advance, closures, absences, appointments, live holds, max per day):
/// nullopt when bookable; a conflict when only the agenda's appointments or holds (or
/// the day's maximum) stand in the way; otherwise a 422 on starts_at saying which rule.
/// `ignore_appointment_id` frees the appointment being moved.
std::optional<agenda_refusal> check_slot(const clinic_profile& clinic, const slot& s, const agenda_view& busy,
                                         instant now, const std::string& ignore_appointment_id = {});

/// Up to `n` free slots nearest to `target` for the same service: the same professional
/// first, any professional when that one has none, over the target's day and the
/// following two weeks.
std::vector<slot> alternative_slots(const clinic_profile& clinic, const slot& target, const agenda_view& busy,
                                    instant now, std::size_t n, const std::string& ignore_appointment_id = {});

/// A change of an appointment's status or time requested by staff.
enum class agenda_change { reschedule, cancel, attended, no_show };

/// Whether `a` allows `change` at `now` (a 409 naming "status" otherwise): only active
/// appointments change; cancel and reschedule before the start; attended and no-show
/// once it has started.
std::optional<agenda_refusal> check_transition(const appointment& a, agenda_change change, instant now);

/// An instant as local ISO 8601 with the zone's offset: "2026-11-25T14:00:00-03:00".
std::string format_local_iso(const date::time_zone* tz, instant t);

} // namespace atendeai::core
