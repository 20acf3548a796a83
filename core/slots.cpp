#include "core/slots.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <stdexcept>
#include <utility>

namespace atendeai::core {

namespace {

using namespace std::chrono;

struct busy_range {
  instant from;
  instant to;
};

bool overlaps(instant a_from, instant a_to, instant b_from, instant b_to) {
  return a_from < b_to && b_from < a_to;
}

// Like local_instant, but a nonexistent local time maps to the DST transition instant.
instant local_instant_lenient(const date::time_zone* tz, const date::year_month_day& d,
                              minute_of_day m) {
  auto lt = date::local_days{d} + minutes{m};
  date::zoned_time<minutes> zt{tz, lt, date::choose::earliest};
  return time_point_cast<milliseconds>(zt.get_sys_time());
}

bool performs(const professional& p, const std::string& service_id) {
  return std::find(p.service_ids.begin(), p.service_ids.end(), service_id) != p.service_ids.end();
}

bool slot_less(const slot& a, const slot& b) {
  if (a.start != b.start)
    return a.start < b.start;
  return a.professional_id < b.professional_id;
}

// Picks up to n slots from `ordered` (in preference order): distinct start times within
// the per-day cap, then distinct start times, then anything; result sorted by start.
std::vector<slot> spread_pick(const std::vector<const slot*>& ordered, std::size_t n,
                              const date::time_zone* tz) {
  std::vector<slot> out;
  if (n == 0)
    return out;
  const std::size_t cap = std::max<std::size_t>(2, (n + 1) / 2);
  std::vector<bool> taken(ordered.size(), false);
  std::set<instant> starts;
  std::map<date::sys_days, std::size_t> per_day;
  std::map<std::string, std::size_t> per_professional;
  for (int pass = 0; pass < 3 && out.size() < n; ++pass) {
    for (std::size_t i = 0; i < ordered.size() && out.size() < n; ++i) {
      if (taken[i])
        continue;
      std::size_t pick = i;
      if (pass < 2) {
        if (starts.count(ordered[i]->start))
          continue;
        // Among professionals free at this same start, take the one shown least so far.
        for (std::size_t j = i + 1; j < ordered.size() && ordered[j]->start == ordered[i]->start; ++j)
          if (!taken[j] && per_professional[ordered[j]->professional_id] <
                               per_professional[ordered[pick]->professional_id])
            pick = j;
      }
      const slot& s = *ordered[pick];
      auto day = date::sys_days{local_date(tz, s.start)};
      if (pass == 0 && per_day[day] >= cap)
        continue;
      taken[pick] = true;
      starts.insert(s.start);
      ++per_day[day];
      ++per_professional[s.professional_id];
      out.push_back(s);
    }
  }
  std::sort(out.begin(), out.end(), slot_less);
  return out;
}

} // namespace

const date::time_zone* clinic_zone(const clinic_profile& clinic) {
  try {
    return date::locate_zone(clinic.timezone);
  } catch (const std::exception&) {
    throw std::invalid_argument("timezone: unknown IANA time zone '" + clinic.timezone + "'");
  }
}

const date::time_zone* zone_or_default(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return date::locate_zone(default_timezone);
  }
}

date::year_month_day local_date(const date::time_zone* tz, instant t) {
  date::zoned_time<milliseconds> zt{tz, t};
  return date::year_month_day{date::floor<date::days>(zt.get_local_time())};
}

minute_of_day local_minute(const date::time_zone* tz, instant t) {
  date::zoned_time<milliseconds> zt{tz, t};
  auto lt = zt.get_local_time();
  return static_cast<minute_of_day>(
      duration_cast<minutes>(lt - date::floor<date::days>(lt)).count());
}

int local_weekday(const date::time_zone* tz, instant t) {
  return static_cast<int>(date::weekday{date::sys_days{local_date(tz, t)}}.c_encoding());
}

std::optional<instant> local_instant(const date::time_zone* tz, const date::year_month_day& d,
                                     minute_of_day m) {
  auto lt = date::local_days{d} + minutes{m};
  auto info = tz->get_info(lt);
  if (info.result == date::local_info::nonexistent)
    return std::nullopt;
  return local_instant_lenient(tz, d, m);
}

std::vector<time_interval> intersect_hours(const std::vector<time_interval>& a,
                                           const std::vector<time_interval>& b) {
  std::vector<time_interval> out;
  for (const auto& x : a)
    for (const auto& y : b) {
      int s = std::max(x.start, y.start), e = std::min(x.end, y.end);
      if (s < e)
        out.push_back({s, e});
    }
  std::sort(out.begin(), out.end(),
            [](const time_interval& l, const time_interval& r) { return l.start < r.start; });
  return out;
}

std::vector<slot> free_slots(const clinic_profile& clinic, const slot_query& q,
                             const agenda_view& busy, instant now) {
  std::vector<slot> out;
  const auto* tz = clinic_zone(clinic);
  auto svc = std::find_if(clinic.services.begin(), clinic.services.end(),
                          [&](const service& s) { return s.id == q.service_id; });
  if (svc == clinic.services.end() || !svc->active || svc->duration_minutes <= 0)
    return out;
  const int duration = svc->duration_minutes;
  const auto today = date::sys_days{local_date(tz, now)};

  for (const auto& prof : clinic.professionals) {
    if (!prof.active || !performs(prof, svc->id))
      continue;
    if (q.professional_id && *q.professional_id != prof.id)
      continue;
    // A professional's own rules (overrides of the clinic's), if any.
    const auto& pol = prof.policy ? *prof.policy : clinic.policy;
    const int grid = pol.slot_duration_minutes > 0 ? pol.slot_duration_minutes : 60;
    const int cells = (duration + grid - 1) / grid;
    const instant earliest = now + hours{std::max(0, pol.min_advance_hours)};
    const auto last_day = today + date::days{std::max(0, pol.max_advance_days)};
    const instant limit = local_instant_lenient(tz, date::year_month_day{last_day + date::days{1}}, 0);
    const auto first = std::max(date::sys_days{q.from}, today);
    const auto last = std::min(date::sys_days{q.to}, last_day);
    if (first > last)
      continue;
    std::vector<busy_range> ranges;
    std::map<date::sys_days, int> per_day;
    for (const auto& a : busy.appointments) {
      if (a.professional_id != prof.id || !a.active())
        continue;
      if (q.ignore_appointment_id && a.id == *q.ignore_appointment_id)
        continue;
      ranges.push_back({a.start, a.end});
      ++per_day[date::sys_days{local_date(tz, a.start)}];
    }
    for (const auto& h : busy.holds) {
      if (h.slot.professional_id != prof.id || !h.live(now))
        continue;
      if (q.ignore_hold_owner && h.owner == *q.ignore_hold_owner)
        continue;
      ranges.push_back({h.slot.start, h.slot.end});
      ++per_day[date::sys_days{local_date(tz, h.slot.start)}];
    }
    for (const auto& ab : busy.absences)
      if (ab.professional_id == prof.id)
        ranges.push_back({ab.from, ab.to});

    for (auto day = first; day <= last; day += date::days{1}) {
      const date::year_month_day ymd{day};
      if (std::any_of(busy.closures.begin(), busy.closures.end(),
                      [&](const closure& c) { return c.covers(ymd); }))
        continue;
      if (pol.max_daily_appointments > 0) {
        auto it = per_day.find(day);
        if (it != per_day.end() && it->second >= pol.max_daily_appointments)
          continue;
      }
      const auto wd = date::weekday{day}.c_encoding();
      auto intervals = clinic.working_hours[wd];
      if (prof.hours)
        intervals = intersect_hours(intervals, (*prof.hours)[wd]);
      for (const auto& iv : intervals) {
        for (int t = iv.start; t + duration <= iv.end; t += grid) {
          auto start = local_instant(tz, ymd, t);
          if (!start || *start < earliest || *start >= limit)
            continue;
          // Real durations: across a DST change the wall-clock end moves, the length not.
          const instant end = *start + minutes{duration};
          const instant block_end =
              std::max(end, std::min(*start + minutes{cells * grid},
                                     local_instant_lenient(tz, ymd, iv.end)));
          bool free = std::none_of(ranges.begin(), ranges.end(), [&](const busy_range& r) {
            return overlaps(*start, block_end, r.from, r.to);
          });
          if (free)
            out.push_back({prof.id, svc->id, *start, end});
        }
      }
    }
  }
  std::sort(out.begin(), out.end(), slot_less);
  return out;
}

bool in_period(minute_of_day m, day_period p) {
  switch (p) {
    case day_period::morning: return m >= 6 * 60 && m < 12 * 60;
    case day_period::afternoon: return m >= 12 * 60 && m < 18 * 60;
    case day_period::evening: return m >= 18 * 60 && m < 22 * 60;
  }
  return false;
}

std::vector<slot> suggest_slots(const std::vector<slot>& all, const slot_preference& pref,
                                std::size_t n, const date::time_zone* tz) {
  struct candidate {
    const slot* s;
    int distance;
  };
  std::vector<candidate> cands;
  for (const auto& s : all) {
    auto d = local_date(tz, s.start);
    auto m = local_minute(tz, s.start);
    if (pref.date && d != *pref.date)
      continue;
    if (pref.date_from && d < *pref.date_from)
      continue;
    if (pref.date_to && d > *pref.date_to)
      continue;
    if (pref.period && !in_period(m, *pref.period))
      continue;
    if (pref.professional_id && s.professional_id != *pref.professional_id)
      continue;
    cands.push_back({&s, pref.time ? std::abs(m - *pref.time) : 0});
  }
  std::stable_sort(cands.begin(), cands.end(), [](const candidate& a, const candidate& b) {
    if (a.distance != b.distance)
      return a.distance < b.distance;
    return slot_less(*a.s, *b.s);
  });
  std::vector<const slot*> ordered;
  ordered.reserve(cands.size());
  for (const auto& c : cands)
    ordered.push_back(c.s);
  return spread_pick(ordered, n, tz);
}

std::vector<slot> nearest_slots(const std::vector<slot>& all, instant target, std::size_t n) {
  std::vector<const slot*> ordered;
  for (const auto& s : all)
    ordered.push_back(&s);
  auto distance = [&](const slot* s) {
    auto d = s->start - target;
    return d < milliseconds{0} ? -d : d;
  };
  std::stable_sort(ordered.begin(), ordered.end(), [&](const slot* a, const slot* b) {
    if (distance(a) != distance(b))
      return distance(a) < distance(b);
    return slot_less(*a, *b);
  });
  std::vector<slot> out;
  std::set<instant> starts;
  for (int pass = 0; pass < 2 && out.size() < n; ++pass)
    for (const auto* s : ordered) {
      if (out.size() >= n)
        break;
      bool dup_start = starts.count(s->start) > 0;
      bool already = std::find(out.begin(), out.end(), *s) != out.end();
      if (already || (pass == 0 && dup_start))
        continue;
      starts.insert(s->start);
      out.push_back(*s);
    }
  std::sort(out.begin(), out.end(), slot_less);
  return out;
}

} // namespace atendeai::core
