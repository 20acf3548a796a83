#include "core/agenda_rules.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace atendeai::core {

namespace {

agenda_refusal invalid(std::string field, std::string message) {
  return {false, std::move(field), std::move(message)};
}

agenda_refusal conflict(std::string field, std::string message) {
  return {true, std::move(field), std::move(message)};
}

const service* find_service(const clinic_profile& c, const std::string& id) {
  for (const auto& s : c.services)
    if (s.id == id)
      return &s;
  return nullptr;
}

const professional* find_professional(const clinic_profile& c, const std::string& id) {
  for (const auto& p : c.professionals)
    if (p.id == id)
      return &p;
  return nullptr;
}

/// The free slots of the slot's service and professional on its local day.
std::vector<slot> free_that_day(const clinic_profile& clinic, const slot& s, const agenda_view& busy, instant now,
                                const std::string& ignore_appointment_id) {
  const auto* tz = clinic_zone(clinic);
  slot_query q;
  q.service_id = s.service_id;
  q.professional_id = s.professional_id;
  q.from = q.to = local_date(tz, s.start);
  if (!ignore_appointment_id.empty())
    q.ignore_appointment_id = ignore_appointment_id;
  return free_slots(clinic, q, busy, now);
}

bool contains(const std::vector<slot>& all, const slot& s) { return std::find(all.begin(), all.end(), s) != all.end(); }

} // namespace

std::optional<agenda_refusal> make_slot(const clinic_profile& clinic, const std::string& service_id,
                                        const std::string& professional_id, instant start, slot& out) {
  const auto* svc = find_service(clinic, service_id);
  if (!svc || !svc->active)
    return invalid("service_id", "no such active service in this clinic");
  const auto* prof = find_professional(clinic, professional_id);
  if (!prof || !prof->active)
    return invalid("professional_id", "no such active professional in this clinic");
  if (std::find(prof->service_ids.begin(), prof->service_ids.end(), service_id) == prof->service_ids.end())
    return invalid("professional_id", "this professional does not perform the service");
  out = {professional_id, service_id, start, start + std::chrono::minutes(svc->duration_minutes)};
  return std::nullopt;
}

std::optional<agenda_refusal> check_slot(const clinic_profile& clinic, const slot& s, const agenda_view& busy,
                                         instant now, const std::string& ignore_appointment_id) {
  if (contains(free_that_day(clinic, s, busy, now, ignore_appointment_id), s))
    return std::nullopt;
  // Free when only absences and closures count: the agenda itself is in the way.
  agenda_view calendar_only;
  calendar_only.absences = busy.absences;
  calendar_only.closures = busy.closures;
  if (contains(free_that_day(clinic, s, calendar_only, now, {}), s)) {
    for (const auto& a : busy.appointments)
      if (a.active() && a.id != ignore_appointment_id && a.professional_id == s.professional_id && a.start < s.end &&
          s.start < a.end)
        return conflict("starts_at", "this time was just booked");
    for (const auto& h : busy.holds)
      if (h.live(now) && h.slot.professional_id == s.professional_id && h.slot.start < s.end && s.start < h.slot.end)
        return conflict("starts_at", "this time is being booked by a patient right now");
    return conflict("starts_at", "the professional's day is full (max_daily_appointments)");
  }
  const auto& pol = clinic.policy;
  const auto* tz = clinic_zone(clinic);
  if (s.start < now + std::chrono::hours(pol.min_advance_hours))
    return invalid("starts_at", "must be at least " + std::to_string(pol.min_advance_hours) + " hours from now");
  auto last_day = date::sys_days{local_date(tz, now)} + date::days{pol.max_advance_days};
  if (date::sys_days{local_date(tz, s.start)} > last_day)
    return invalid("starts_at", "must be at most " + std::to_string(pol.max_advance_days) + " days ahead");
  auto day = local_date(tz, s.start);
  for (const auto& c : busy.closures)
    if (c.covers(day))
      return invalid("starts_at", "the clinic is closed on that day" + (c.reason.empty() ? "" : " (" + c.reason + ")"));
  for (const auto& a : busy.absences)
    if (a.professional_id == s.professional_id && a.from < s.end && s.start < a.to)
      return invalid("starts_at", "the professional is away at that time");
  return invalid("starts_at", "is not a bookable time: outside the working hours or off the " +
                                std::to_string(pol.slot_duration_minutes) + "-minute slot grid");
}

std::vector<slot> alternative_slots(const clinic_profile& clinic, const slot& target, const agenda_view& busy,
                                    instant now, std::size_t n, const std::string& ignore_appointment_id) {
  const auto* tz = clinic_zone(clinic);
  slot_query q;
  q.service_id = target.service_id;
  q.professional_id = target.professional_id;
  q.from = local_date(tz, std::max(target.start, now));
  q.to = date::year_month_day{date::sys_days{q.from} + date::days{14}};
  if (!ignore_appointment_id.empty())
    q.ignore_appointment_id = ignore_appointment_id;
  auto all = free_slots(clinic, q, busy, now);
  if (all.empty()) {
    q.professional_id.reset();
    all = free_slots(clinic, q, busy, now);
  }
  return nearest_slots(all, target.start, n);
}

std::optional<agenda_refusal> check_transition(const appointment& a, agenda_change change, instant now) {
  if (!a.active())
    return conflict("status", "the appointment is " + std::string(to_string(a.status)) + "; it can no longer change");
  const bool started = a.start <= now;
  switch (change) {
    case agenda_change::reschedule:
    case agenda_change::cancel:
      if (started)
        return conflict("status", "the appointment has already started; mark it attended or no_show");
      return std::nullopt;
    case agenda_change::attended:
    case agenda_change::no_show:
      if (!started)
        return conflict("status", "the appointment has not started yet");
      return std::nullopt;
  }
  return std::nullopt;
}

std::string format_local_iso(const date::time_zone* tz, instant t) {
  date::zoned_time<std::chrono::seconds> zt{tz, date::floor<std::chrono::seconds>(t)};
  auto info = zt.get_info();
  auto lt = zt.get_local_time();
  auto day = date::floor<date::days>(lt);
  date::year_month_day ymd{day};
  date::hh_mm_ss<std::chrono::seconds> hms{lt - day};
  auto off = std::chrono::duration_cast<std::chrono::minutes>(info.offset).count();
  char sign = off < 0 ? '-' : '+';
  off = std::abs(off);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d%c%02d:%02d", int(ymd.year()), unsigned(ymd.month()),
                unsigned(ymd.day()), int(hms.hours().count()), int(hms.minutes().count()),
                int(hms.seconds().count()), sign, int(off / 60), int(off % 60));
  return buf;
}

} // namespace atendeai::core
