#pragma once
/// Free slot computation: working hours ∩ professional hours − absences − closures −
/// active appointments − live holds, on the slot grid, within the scheduling policy, in
/// the clinic's time zone. Pure functions; "now" is always passed in.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <date/date.h>
#include <date/tz.h>

#include "core/agenda.hpp"
#include "core/clinic.hpp"
#include "core/clock.hpp"
#include "core/understanding.hpp"

namespace atendeai::core {

/// What to look for: a service, optionally one professional, over local dates
/// [from, to] inclusive in the clinic's zone.
struct slot_query {
  std::string service_id;                     ///< the service to book
  std::optional<std::string> professional_id; ///< only this professional
  date::year_month_day from{};                ///< first local date
  date::year_month_day to{};                  ///< last local date (inclusive)
  /// Holds of this owner are ignored (a patient's own hold must not hide its slot).
  std::optional<std::string> ignore_hold_owner;
  /// This appointment is ignored (the one being rescheduled frees its own time).
  std::optional<std::string> ignore_appointment_id;
};

/// What already occupies the agenda. Inactive appointments and expired holds may be
/// included; they are skipped.
struct agenda_view {
  std::vector<appointment> appointments; ///< the clinic's appointments (any status)
  std::vector<hold> holds;               ///< the clinic actor's holds
  std::vector<absence> absences;         ///< professionals' absences
  std::vector<closure> closures;         ///< clinic closures (holidays)
};

/// The clinic's zone; throws std::invalid_argument for an unknown IANA name.
const date::time_zone* clinic_zone(const clinic_profile& clinic);
/// The zone named, or default_timezone's when the tz database does not know the name
/// (for what must not fail: "today" of a conversation, times shown to staff).
const date::time_zone* zone_or_default(const std::string& name);
/// The local calendar date of an instant in a zone.
date::year_month_day local_date(const date::time_zone* tz, instant t);
/// The local minute of day (0..1439) of an instant in a zone.
minute_of_day local_minute(const date::time_zone* tz, instant t);
/// The local weekday (0 = Sunday) of an instant in a zone.
int local_weekday(const date::time_zone* tz, instant t);
/// The instant of a local date and minute of day (minute may be 1440 = next midnight);
/// the earlier one when the local time is ambiguous, nullopt when it does not exist
/// (skipped by a DST jump).
std::optional<instant> local_instant(const date::time_zone* tz, const date::year_month_day& d,
                                     minute_of_day m);

/// Intersection of two sorted, non-overlapping interval lists.
std::vector<time_interval> intersect_hours(const std::vector<time_interval>& a,
                                           const std::vector<time_interval>& b);

/// Every free slot for the query, sorted by start, then professional id.
///
/// Rules: only active professionals that perform the (active) service; the clinic's
/// hours for the weekday intersected with the professional's own hours when set; closed
/// dates skipped; a grid of `slot_duration_minutes` starting at each interval's start;
/// a slot lasts the service's duration and must end inside its interval; it needs all
/// the grid cells it touches free of active appointments, live holds and absences of
/// that professional; start ≥ now + min_advance_hours and start < local midnight after
/// (today + max_advance_days); a professional with max_daily_appointments active
/// appointments (plus live holds) on a local day offers nothing that day (0 = no limit).
/// Durations are real time; a local start skipped by a DST jump is not offered.
/// Throws std::invalid_argument when the clinic's time zone is unknown.
std::vector<slot> free_slots(const clinic_profile& clinic, const slot_query& q,
                             const agenda_view& busy, instant now);

/// What the patient prefers when several slots would do; all parts optional.
struct slot_preference {
  std::optional<date::year_month_day> date;      ///< only that local day
  std::optional<date::year_month_day> date_from; ///< only days in [date_from, date_to]
  std::optional<date::year_month_day> date_to;
  std::optional<day_period> period;              ///< only that part of the day
  std::optional<minute_of_day> time;             ///< closest to this local time first
  std::optional<std::string> professional_id;    ///< only this professional
};

/// True when the local minute falls in the period (morning 06–12, afternoon 12–18,
/// evening 18–22).
bool in_period(minute_of_day m, day_period p);

/// Up to `n` suggestions from `all` (sorted as free_slots returns them) that match the
/// preference, spread out: distinct start times first (alternating professionals free at
/// the same time) and at most max(2, (n+1)/2) per day while other days have slots; with
/// a time, the ones closest to it first. The result is sorted by start. Empty when
/// nothing matches.
std::vector<slot> suggest_slots(const std::vector<slot>& all, const slot_preference& pref,
                                std::size_t n, const date::time_zone* tz);

/// Up to `n` slots nearest in time to `target` (before or after), distinct start times
/// first, sorted by start.
std::vector<slot> nearest_slots(const std::vector<slot>& all, instant target, std::size_t n);

} // namespace atendeai::core
