// Free slot computation and suggestions (core/slots), the agenda's JSON forms, and the
// rules of staff changes (core/agenda_rules).

#include <catch2/catch.hpp>

#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "core/agenda.hpp"
#include "core/agenda_rules.hpp"
#include "core/demo_clinic.hpp"
#include "core/slots.hpp"
#include "support/dates.hpp"
#include "support/demo_ids.hpp"

using namespace atendeai::core;
using date::year_month_day;
using std::chrono::minutes;

namespace {

using namespace atendeai::test;
using namespace atendeai::test::demo;

/// Local "HH:MM" starts of the slots, in São Paulo unless another zone is given.
std::vector<std::string> starts(const std::vector<slot>& v, const char* zone = "America/Sao_Paulo") {
  std::vector<std::string> out;
  for (const auto& s : v)
    out.push_back(format_hhmm(local_minute(date::locate_zone(zone), s.start)));
  return out;
}

/// "dd HH:MM" local starts, to see days too.
std::vector<std::string> day_starts(const std::vector<slot>& v, const char* zone = "America/Sao_Paulo") {
  std::vector<std::string> out;
  const auto* tz = date::locate_zone(zone);
  for (const auto& s : v) {
    auto d = local_date(tz, s.start);
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02u ", unsigned(d.day()));
    out.push_back(buf + format_hhmm(local_minute(tz, s.start)));
  }
  return out;
}

slot_query query(const std::string& service, year_month_day from, year_month_day to,
                 std::optional<std::string> prof = std::nullopt) {
  slot_query q;
  q.service_id = service;
  q.professional_id = std::move(prof);
  q.from = from;
  q.to = to;
  return q;
}

appointment appt(const std::string& id, const std::string& prof, instant start, int minutes_long = 60,
                 appointment_status st = appointment_status::scheduled) {
  return appointment{id, prof, cardio, start, start + minutes{minutes_long}, st, "contact-1"};
}

// Monday 23/11/2026, 08:00 in São Paulo.
const instant monday_8h = sp(2026, 11, 23, 8);

} // namespace

TEST_CASE("slots: a plain day of the demo clinic, one professional", "[slots]") {
  auto c = demo_clinic();
  auto v = free_slots(c, query(cardio, ymd(2026, 11, 24), ymd(2026, 11, 24)), {}, monday_8h);
  CHECK(starts(v) == std::vector<std::string>{"08:00", "09:00", "10:00", "11:00", "12:00",
                                              "13:00", "14:00", "15:00", "16:00", "17:00"});
  for (const auto& s : v) {
    CHECK(s.professional_id == ana);
    CHECK(s.service_id == cardio);
    CHECK(s.end - s.start == minutes{60});
  }
  // 08:00 in São Paulo (UTC-3, no DST) is 11:00 UTC.
  CHECK(format_iso(v.front().start) == "2026-11-24T11:00:00Z");
}

TEST_CASE("slots: several professionals sorted by start then professional", "[slots]") {
  auto c = demo_clinic();
  auto v = free_slots(c, query(clinico, ymd(2026, 11, 24), ymd(2026, 11, 24)), {}, monday_8h);
  REQUIRE(v.size() == 20);
  CHECK(v[0].professional_id == ana);
  CHECK(v[1].professional_id == carlos);
  CHECK(v[0].start == v[1].start);
  CHECK(v[2].start == v[0].start + minutes{60});
  // Only the professional asked for.
  auto only = free_slots(c, query(clinico, ymd(2026, 11, 24), ymd(2026, 11, 24), carlos), {}, monday_8h);
  CHECK(only.size() == 10);
  for (const auto& s : only)
    CHECK(s.professional_id == carlos);
  // Dermatologia is Carlos's only.
  auto derm = free_slots(c, query(dermato, ymd(2026, 11, 24), ymd(2026, 11, 24)), {}, monday_8h);
  CHECK(derm.size() == 10);
  CHECK(derm.front().professional_id == carlos);
  // A professional who does not perform the service offers nothing.
  CHECK(free_slots(c, query(dermato, ymd(2026, 11, 24), ymd(2026, 11, 24), ana), {}, monday_8h).empty());
}

TEST_CASE("slots: Saturday half day, Sunday closed", "[slots]") {
  auto c = demo_clinic();
  auto v = free_slots(c, query(cardio, ymd(2026, 11, 28), ymd(2026, 11, 29)), {}, monday_8h);
  CHECK(day_starts(v) == std::vector<std::string>{"28 08:00", "28 09:00", "28 10:00", "28 11:00"});
}

TEST_CASE("slots: several intervals with a lunch break", "[slots]") {
  auto c = demo_clinic();
  c.working_hours[2] = {{13 * 60, 18 * 60}, {8 * 60, 12 * 60}}; // unsorted on purpose
  auto v = free_slots(c, query(cardio, ymd(2026, 11, 24), ymd(2026, 11, 24)), {}, monday_8h);
  CHECK(starts(v) == std::vector<std::string>{"08:00", "09:00", "10:00", "11:00", "13:00", "14:00",
                                              "15:00", "16:00", "17:00"});
  SECTION("grid starts at each interval's start") {
    c.working_hours[2] = {{8 * 60 + 30, 11 * 60}, {14 * 60 + 15, 16 * 60 + 15}};
    auto w = free_slots(c, query(cardio, ymd(2026, 11, 24), ymd(2026, 11, 24)), {}, monday_8h);
    CHECK(starts(w) == std::vector<std::string>{"08:30", "09:30", "14:15", "15:15"});
  }
  SECTION("a 30-minute grid") {
    c.policy.slot_duration_minutes = 30;
    c.services[1].duration_minutes = 30;
    c.working_hours[2] = {{8 * 60, 10 * 60}};
    auto w = free_slots(c, query(cardio, ymd(2026, 11, 24), ymd(2026, 11, 24)), {}, monday_8h);
    CHECK(starts(w) == std::vector<std::string>{"08:00", "08:30", "09:00", "09:30"});
  }
}

TEST_CASE("slots: professional's own hours intersect the clinic's", "[slots]") {
  auto c = demo_clinic();
  weekly_hours own;
  own[2] = {{7 * 60, 9 * 60}, {14 * 60, 20 * 60}}; // Tuesday: before opening and after closing
  own[3] = {};                                     // Wednesday: not working
  c.professionals[0].hours = own;
  auto v = free_slots(c, query(cardio, ymd(2026, 11, 24), ymd(2026, 11, 25)), {}, monday_8h);
  CHECK(day_starts(v) == std::vector<std::string>{"24 08:00", "24 14:00", "24 15:00", "24 16:00", "24 17:00"});
  CHECK(intersect_hours({{480, 1080}}, {{420, 540}, {840, 1200}}) ==
        std::vector<time_interval>{{480, 540}, {840, 1080}});
  CHECK(intersect_hours({{480, 720}}, {{720, 900}}).empty());
}

TEST_CASE("slots: active appointments, live holds and absences are busy", "[slots]") {
  auto c = demo_clinic();
  auto q = query(cardio, ymd(2026, 11, 24), ymd(2026, 11, 24));
  agenda_view busy;
  SECTION("appointments: only active ones, only that professional") {
    busy.appointments = {appt("a1", ana, sp(2026, 11, 24, 9)),
                         appt("a2", ana, sp(2026, 11, 24, 10), 60, appointment_status::confirmed),
                         appt("a3", ana, sp(2026, 11, 24, 11), 60, appointment_status::cancelled),
                         appt("a4", ana, sp(2026, 11, 24, 12), 60, appointment_status::no_show),
                         appt("a5", carlos, sp(2026, 11, 24, 13))};
    auto v = free_slots(c, q, busy, monday_8h);
    CHECK(starts(v) == std::vector<std::string>{"08:00", "11:00", "12:00", "13:00", "14:00", "15:00",
                                                "16:00", "17:00"});
  }
  SECTION("an appointment off the grid blocks both cells it touches") {
    busy.appointments = {appt("a1", ana, sp(2026, 11, 24, 14, 30))};
    auto v = free_slots(c, q, busy, monday_8h);
    CHECK(starts(v) == std::vector<std::string>{"08:00", "09:00", "10:00", "11:00", "12:00", "13:00",
                                                "16:00", "17:00"});
  }
  SECTION("holds: live ones block, expired ones and the owner's own do not") {
    slot s9{ana, cardio, sp(2026, 11, 24, 9), sp(2026, 11, 24, 10)};
    slot s10{ana, cardio, sp(2026, 11, 24, 10), sp(2026, 11, 24, 11)};
    slot s11{ana, cardio, sp(2026, 11, 24, 11), sp(2026, 11, 24, 12)};
    busy.holds = {{s9, monday_8h + minutes{10}, "conv-1"},
                  {s10, monday_8h - minutes{1}, "conv-2"},
                  {s11, monday_8h + minutes{10}, "conv-3"}};
    auto v = free_slots(c, q, busy, monday_8h);
    CHECK(starts(v) == std::vector<std::string>{"08:00", "10:00", "12:00", "13:00", "14:00", "15:00",
                                                "16:00", "17:00"});
    q.ignore_hold_owner = "conv-3";
    auto w = free_slots(c, q, busy, monday_8h);
    CHECK(starts(w).size() == 9);
    CHECK(starts(w)[2] == "11:00");
    // Exactly at expiry the hold no longer counts.
    auto x = free_slots(c, q, busy, monday_8h + minutes{10});
    CHECK(x.size() == 10);
  }
  SECTION("absences: part of a day and a whole vacation") {
    busy.absences = {{ana, sp(2026, 11, 24, 10), sp(2026, 11, 24, 12)},
                     {ana, sp(2026, 11, 25, 0), sp(2026, 11, 28, 0)},
                     {carlos, sp(2026, 11, 24, 8), sp(2026, 11, 24, 18)}};
    auto v = free_slots(c, query(cardio, ymd(2026, 11, 24), ymd(2026, 11, 28)), busy, monday_8h);
    CHECK(day_starts(v) == std::vector<std::string>{"24 08:00", "24 09:00", "24 12:00", "24 13:00",
                                                    "24 14:00", "24 15:00", "24 16:00", "24 17:00",
                                                    "28 08:00", "28 09:00", "28 10:00", "28 11:00"});
  }
}

TEST_CASE("slots: closures close the whole clinic on local dates", "[slots]") {
  auto c = demo_clinic();
  agenda_view busy;
  busy.closures = {{ymd(2026, 11, 25), ymd(2026, 11, 25), "Feriado"},
                   {ymd(2026, 11, 27), ymd(2026, 11, 28), "Reforma"}};
  auto v = free_slots(c, query(clinico, ymd(2026, 11, 24), ymd(2026, 11, 30)), busy, monday_8h);
  std::set<unsigned> days;
  for (const auto& s : v)
    days.insert(unsigned(local_date(clinic_zone(c), s.start).day()));
  CHECK(days == std::set<unsigned>{24, 26, 30});
}

TEST_CASE("slots: minimum advance", "[slots]") {
  auto c = demo_clinic();
  auto q = query(cardio, ymd(2026, 11, 23), ymd(2026, 11, 23));
  CHECK(starts(free_slots(c, q, {}, monday_8h)) ==
        std::vector<std::string>{"10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00", "17:00"});
  // 09:30 + 2 h = 11:30: the first slot is 12:00.
  CHECK(starts(free_slots(c, q, {}, sp(2026, 11, 23, 9, 30))).front() == "12:00");
  // Exactly 2 h before is allowed.
  CHECK(starts(free_slots(c, q, {}, sp(2026, 11, 23, 10))).front() == "12:00");
  // Late in the day: nothing today, and a date in the past gives nothing.
  CHECK(free_slots(c, q, {}, sp(2026, 11, 23, 16, 1)).empty());
  CHECK(free_slots(c, query(cardio, ymd(2026, 11, 20), ymd(2026, 11, 22)), {}, monday_8h).empty());
  // Min advance reaching over midnight.
  c.policy.min_advance_hours = 24;
  CHECK(day_starts(free_slots(c, query(cardio, ymd(2026, 11, 23), ymd(2026, 11, 24)), {}, sp(2026, 11, 23, 15)))
            .front() == "24 15:00");
}

TEST_CASE("slots: maximum advance", "[slots]") {
  auto c = demo_clinic();
  c.policy.max_advance_days = 2; // today Monday 23 → last day Wednesday 25
  auto v = free_slots(c, query(cardio, ymd(2026, 11, 23), ymd(2026, 12, 31)), {}, monday_8h);
  REQUIRE(!v.empty());
  CHECK(day_starts({v.back()}) == std::vector<std::string>{"25 17:00"});
  CHECK(v.size() == 8 + 10 + 10);
  c.policy.max_advance_days = 0; // today only
  auto w = free_slots(c, query(cardio, ymd(2026, 11, 23), ymd(2026, 12, 31)), {}, monday_8h);
  CHECK(w.size() == 8);
  // The default 30 days: Monday 23/11 + 30 = Wednesday 23/12 is the last day.
  c.policy.max_advance_days = 30;
  auto x = free_slots(c, query(cardio, ymd(2026, 12, 22), ymd(2026, 12, 31)), {}, monday_8h);
  CHECK(day_starts({x.back()}) == std::vector<std::string>{"23 17:00"});
}

TEST_CASE("slots: maximum appointments per professional and day", "[slots]") {
  auto c = demo_clinic();
  c.policy.max_daily_appointments = 2;
  auto q = query(clinico, ymd(2026, 11, 24), ymd(2026, 11, 25));
  agenda_view busy;
  busy.appointments = {appt("a1", ana, sp(2026, 11, 24, 8)), appt("a2", ana, sp(2026, 11, 24, 15))};
  auto v = free_slots(c, q, busy, monday_8h);
  std::size_t ana_tue = 0, ana_wed = 0, carlos_tue = 0;
  for (const auto& s : v) {
    auto d = unsigned(local_date(clinic_zone(c), s.start).day());
    if (s.professional_id == ana)
      (d == 24 ? ana_tue : ana_wed)++;
    else if (d == 24)
      ++carlos_tue;
  }
  CHECK(ana_tue == 0);  // reached: nothing that day
  CHECK(ana_wed == 10); // the next day is fine
  CHECK(carlos_tue == 10);
  SECTION("cancelled appointments do not count") {
    busy.appointments[1].status = appointment_status::cancelled;
    auto w = free_slots(c, query(cardio, ymd(2026, 11, 24), ymd(2026, 11, 24)), busy, monday_8h);
    CHECK(w.size() == 9);
  }
  SECTION("a live hold counts") {
    busy.appointments.pop_back();
    busy.holds = {{{ana, cardio, sp(2026, 11, 24, 16), sp(2026, 11, 24, 17)}, monday_8h + minutes{5}, "x"}};
    CHECK(free_slots(c, query(cardio, ymd(2026, 11, 24), ymd(2026, 11, 24)), busy, monday_8h).empty());
  }
  SECTION("the appointment being rescheduled does not count and frees its time") {
    auto r = query(cardio, ymd(2026, 11, 24), ymd(2026, 11, 24));
    r.ignore_appointment_id = "a2";
    auto w = free_slots(c, r, busy, monday_8h);
    CHECK(starts(w) == std::vector<std::string>{"09:00", "10:00", "11:00", "12:00", "13:00", "14:00",
                                                "15:00", "16:00", "17:00"});
  }
  SECTION("zero means no limit") {
    c.policy.max_daily_appointments = 0;
    CHECK(free_slots(c, query(cardio, ymd(2026, 11, 24), ymd(2026, 11, 24)), busy, monday_8h).size() == 8);
  }
}

TEST_CASE("slots: a service longer than one slot needs consecutive free cells", "[slots]") {
  auto c = demo_clinic();
  c.services[1].duration_minutes = 90;
  c.working_hours[2] = {{8 * 60, 12 * 60}, {13 * 60, 16 * 60}};
  auto q = query(cardio, ymd(2026, 11, 24), ymd(2026, 11, 24));
  auto v = free_slots(c, q, {}, monday_8h);
  // Must fit in one interval: no 11:00 (would cross lunch) and no 15:00 (past closing).
  CHECK(starts(v) == std::vector<std::string>{"08:00", "09:00", "10:00", "13:00", "14:00"});
  CHECK(v.front().end - v.front().start == minutes{90});
  agenda_view busy;
  busy.appointments = {appt("a1", ana, sp(2026, 11, 24, 10))};
  // 09:00 needs 09:00 and 10:00 free; 10:00 is taken.
  CHECK(starts(free_slots(c, q, busy, monday_8h)) == std::vector<std::string>{"08:00", "13:00", "14:00"});
  SECTION("a shorter service still needs its whole cell") {
    c.services[1].duration_minutes = 30;
    busy.appointments = {appt("a1", ana, sp(2026, 11, 24, 8, 30), 30)};
    auto w = free_slots(c, q, busy, monday_8h);
    CHECK(starts(w).front() == "09:00");
    CHECK(w.front().end - w.front().start == minutes{30});
  }
}

TEST_CASE("slots: month and year ends", "[slots]") {
  auto c = demo_clinic();
  // Monday 30/11 → Tuesday 01/12.
  auto v = free_slots(c, query(cardio, ymd(2026, 11, 30), ymd(2026, 12, 1)), {}, sp(2026, 11, 30, 16));
  CHECK(day_starts(v).front() == "01 08:00");
  CHECK(v.size() == 10);
  CHECK(local_date(clinic_zone(c), v.front().start) == ymd(2026, 12, 1));
  // February in a non-leap year, from Saturday 27/02/2027 to Monday 01/03.
  auto w = free_slots(c, query(cardio, ymd(2027, 2, 27), ymd(2027, 3, 1)), {}, sp(2027, 2, 26, 8));
  CHECK(w.size() == 4 + 10);
  CHECK(local_date(clinic_zone(c), w.back().start) == ymd(2027, 3, 1));
  // New year: Thursday 31/12/2026 → Friday 01/01/2027 (a closure for the holiday).
  agenda_view busy;
  busy.closures = {{ymd(2027, 1, 1), ymd(2027, 1, 1), "Ano-novo"}};
  auto x = free_slots(c, query(cardio, ymd(2026, 12, 31), ymd(2027, 1, 2)), busy, sp(2026, 12, 30, 8));
  CHECK(x.size() == 10 + 4);
  CHECK(local_date(clinic_zone(c), x.back().start) == ymd(2027, 1, 2));
  // A late-night UTC instant is still the previous local day in São Paulo.
  CHECK(local_date(clinic_zone(c), sp(2026, 11, 30, 22)) == ymd(2026, 11, 30));
}

TEST_CASE("slots: other time zones", "[slots][tz]") {
  auto c = demo_clinic();
  SECTION("Manaus, UTC-4") {
    c.timezone = "America/Manaus";
    auto v = free_slots(c, query(cardio, ymd(2026, 11, 24), ymd(2026, 11, 24)), {},
                        local("America/Manaus", 2026, 11, 23, 8));
    CHECK(format_iso(v.front().start) == "2026-11-24T12:00:00Z");
  }
  SECTION("Tokyo, UTC+9: the local day starts on the previous UTC day") {
    c.timezone = "Asia/Tokyo";
    auto now = local("Asia/Tokyo", 2026, 11, 23, 8);
    auto v = free_slots(c, query(cardio, ymd(2026, 11, 24), ymd(2026, 11, 24)), {}, now);
    REQUIRE(v.size() == 10);
    CHECK(format_iso(v.front().start) == "2026-11-23T23:00:00Z");
    CHECK(starts(v, "Asia/Tokyo").front() == "08:00");
    // Today in Tokyo is Monday 23 even though it is still Sunday 22 in UTC.
    auto today = free_slots(c, query(cardio, ymd(2026, 11, 23), ymd(2026, 11, 23)), {}, now);
    CHECK(starts(today, "Asia/Tokyo").front() == "10:00");
  }
  SECTION("New York, spring forward: 02:00 does not exist") {
    c.timezone = "America/New_York";
    c.policy.min_advance_hours = 0;
    c.working_hours[0] = {{0, 5 * 60}};
    auto v = free_slots(c, query(cardio, ymd(2027, 3, 14), ymd(2027, 3, 14)), {},
                        local("America/New_York", 2027, 3, 13, 12));
    CHECK(starts(v, "America/New_York") == std::vector<std::string>{"00:00", "01:00", "03:00", "04:00"});
    CHECK(format_iso(v[1].start) == "2027-03-14T06:00:00Z");
    CHECK(v[1].end == v[2].start); // 01:00 EST + 60 min = 03:00 EDT
  }
  SECTION("New York, fall back: 01:00 happens twice, the first is used") {
    c.timezone = "America/New_York";
    c.policy.min_advance_hours = 0;
    c.working_hours[0] = {{0, 4 * 60}};
    auto v = free_slots(c, query(cardio, ymd(2026, 11, 1), ymd(2026, 11, 1)), {},
                        local("America/New_York", 2026, 10, 31, 12));
    REQUIRE(v.size() == 4);
    CHECK(format_iso(v[0].start) == "2026-11-01T04:00:00Z");
    CHECK(format_iso(v[1].start) == "2026-11-01T05:00:00Z");
    CHECK(format_iso(v[2].start) == "2026-11-01T07:00:00Z");
  }
  SECTION("an unknown zone is rejected") {
    c.timezone = "Mars/Olympus";
    CHECK_THROWS_AS(free_slots(c, query(cardio, ymd(2026, 11, 24), ymd(2026, 11, 24)), {}, monday_8h),
                    std::invalid_argument);
  }
}

TEST_CASE("slots: inactive or unknown service and professional", "[slots]") {
  auto c = demo_clinic();
  auto q = query(clinico, ymd(2026, 11, 24), ymd(2026, 11, 24));
  c.professionals[1].active = false;
  auto v = free_slots(c, q, {}, monday_8h);
  CHECK(v.size() == 10);
  for (const auto& s : v)
    CHECK(s.professional_id == ana);
  c.services[0].active = false;
  CHECK(free_slots(c, q, {}, monday_8h).empty());
  CHECK(free_slots(c, query("nope", ymd(2026, 11, 24), ymd(2026, 11, 24)), {}, monday_8h).empty());
  // A reversed range is empty.
  CHECK(free_slots(demo_clinic(), query(cardio, ymd(2026, 11, 25), ymd(2026, 11, 24)), {}, monday_8h).empty());
}

TEST_CASE("slots: suggestions", "[slots][suggest]") {
  auto c = demo_clinic();
  const auto* tz = clinic_zone(c);
  auto all = free_slots(c, query(clinico, ymd(2026, 11, 23), ymd(2026, 12, 23)), {}, monday_8h);
  SECTION("first N: distinct times across professionals, spread over days") {
    auto s = suggest_slots(all, {}, 3, tz);
    CHECK(day_starts(s) == std::vector<std::string>{"23 10:00", "23 11:00", "24 08:00"});
    auto ten = suggest_slots(all, {}, 10, tz);
    REQUIRE(ten.size() == 10);
    CHECK(day_starts(ten).front() == "23 10:00");
    std::set<instant> distinct;
    for (const auto& x : ten)
      distinct.insert(x.start);
    CHECK(distinct.size() == 10);
    CHECK(std::is_sorted(ten.begin(), ten.end(), [](const slot& a, const slot& b) { return a.start < b.start; }));
  }
  SECTION("a date and a period") {
    slot_preference p;
    p.date = ymd(2026, 11, 24);
    p.period = day_period::morning;
    CHECK(day_starts(suggest_slots(all, p, 3, tz)) ==
          std::vector<std::string>{"24 08:00", "24 09:00", "24 10:00"});
    p.period = day_period::afternoon;
    CHECK(day_starts(suggest_slots(all, p, 3, tz)) ==
          std::vector<std::string>{"24 12:00", "24 13:00", "24 14:00"});
    p.period = day_period::evening;
    CHECK(suggest_slots(all, p, 3, tz).empty());
  }
  SECTION("a time: the closest first") {
    slot_preference p;
    p.date = ymd(2026, 11, 24);
    p.time = 14 * 60 + 30;
    CHECK(day_starts(suggest_slots(all, p, 3, tz)) ==
          std::vector<std::string>{"24 13:00", "24 14:00", "24 15:00"});
    slot_preference q;
    q.time = 9 * 60; // any day at 09:00 first
    CHECK(day_starts(suggest_slots(all, q, 3, tz)) ==
          std::vector<std::string>{"24 09:00", "25 09:00", "26 09:00"});
  }
  SECTION("a professional and a range") {
    slot_preference p;
    p.professional_id = carlos;
    p.date_from = ymd(2026, 11, 28);
    p.date_to = ymd(2026, 11, 30);
    auto s = suggest_slots(all, p, 10, tz);
    REQUIRE(!s.empty());
    for (const auto& x : s) {
      CHECK(x.professional_id == carlos);
      auto d = local_date(tz, x.start);
      CHECK((d == ymd(2026, 11, 28) || d == ymd(2026, 11, 30)));
    }
  }
  SECTION("nearest to an instant") {
    auto n = nearest_slots(all, sp(2026, 11, 24, 14, 20), 3);
    CHECK(day_starts(n) == std::vector<std::string>{"24 13:00", "24 14:00", "24 15:00"});
    CHECK(nearest_slots({}, monday_8h, 3).empty());
  }
}

TEST_CASE("agenda: JSON round trips", "[agenda][json]") {
  appointment a{"id-1", ana, cardio, sp(2026, 11, 25, 14), sp(2026, 11, 25, 15), appointment_status::confirmed, "c-9"};
  auto j = to_json(a);
  CHECK(j["start"] == "2026-11-25T17:00:00Z");
  CHECK(j["status"] == "confirmed");
  CHECK(appointment_from_json(j) == a);
  CHECK(appointment_from_json(nlohmann::json::parse(j.dump())) == a);

  slot s{ana, cardio, sp(2026, 11, 25, 14), sp(2026, 11, 25, 15)};
  CHECK(slot_from_json(to_json(s)) == s);
  hold h{s, sp(2026, 11, 23, 8, 10), "conv-1"};
  CHECK(hold_from_json(to_json(h)) == h);
  absence ab{carlos, sp(2026, 12, 1, 0), sp(2026, 12, 15, 0)};
  CHECK(absence_from_json(to_json(ab)) == ab);
  closure cl{ymd(2026, 12, 24), ymd(2026, 12, 26), "Natal"};
  CHECK(closure_from_json(to_json(cl)) == cl);
  auto one = closure_from_json(nlohmann::json{{"date", "2026-11-20"}, {"reason", "Consciência Negra"}});
  CHECK(one.from == ymd(2026, 11, 20));
  CHECK(one.to == ymd(2026, 11, 20));

  for (auto st : {appointment_status::scheduled, appointment_status::confirmed, appointment_status::attended,
                  appointment_status::no_show, appointment_status::cancelled})
    CHECK(appointment_status_from_string(to_string(st)) == st);
  CHECK(is_active(appointment_status::scheduled));
  CHECK(is_active(appointment_status::confirmed));
  CHECK_FALSE(is_active(appointment_status::attended));
  CHECK_FALSE(is_active(appointment_status::no_show));
  CHECK_FALSE(is_active(appointment_status::cancelled));
}

TEST_CASE("agenda: malformed JSON names the field", "[agenda][json]") {
  auto message = [](const nlohmann::json& j) {
    try {
      appointment_from_json(j);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  nlohmann::json ok{{"id", "x"}, {"professional_id", "p"}, {"service_id", "s"},
                    {"start", "2026-11-25T17:00:00Z"}, {"end", "2026-11-25T18:00:00Z"}};
  CHECK(message(ok) == "no error");
  auto j = ok;
  j.erase("start");
  CHECK(message(j).rfind("start", 0) == 0);
  j = ok;
  j["end"] = "yesterday";
  CHECK(message(j).rfind("end", 0) == 0);
  j = ok;
  j["end"] = "2026-11-25T16:00:00Z";
  CHECK(message(j).rfind("end", 0) == 0);
  j = ok;
  j["status"] = "lost";
  CHECK(message(j).rfind("status", 0) == 0);
  CHECK(message(nlohmann::json::array()) != "no error");
  CHECK_THROWS_AS(hold_from_json(nlohmann::json{{"slot", 3}}), std::invalid_argument);
  CHECK_THROWS_AS(closure_from_json(nlohmann::json{{"from", "2026-12-26"}, {"to", "2026-12-24"}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(closure_from_json(nlohmann::json{{"date", "2026-02-30"}}), std::invalid_argument);
}

TEST_CASE("agenda: ISO 8601 instants", "[agenda]") {
  auto t = sp(2026, 11, 25, 14);
  CHECK(format_iso(t) == "2026-11-25T17:00:00Z");
  CHECK(parse_iso("2026-11-25T17:00:00Z") == t);
  CHECK(parse_iso("2026-11-25T14:00:00-03:00") == t);
  CHECK(parse_iso("2026-11-25T14:00-0300") == t);
  CHECK(parse_iso("2026-11-25T20:30:00+03:30") == t);
  CHECK(parse_iso("2026-11-25T17:00:00.250Z") == t + std::chrono::milliseconds{250});
  CHECK(format_iso(t + std::chrono::milliseconds{250}) == "2026-11-25T17:00:00.250Z");
  CHECK_FALSE(parse_iso("2026-11-25T17:00:00"));
  CHECK_FALSE(parse_iso("2026-13-25T17:00:00Z"));
  CHECK_FALSE(parse_iso("2026-11-25T25:00:00Z"));
  CHECK_FALSE(parse_iso("2026-11-25T17:00:00Zjunk"));
  CHECK_FALSE(parse_iso(""));
  CHECK(parse_ymd("2028-02-29") == ymd(2028, 2, 29));
  CHECK_FALSE(parse_ymd("2027-02-29"));
  CHECK(format_ymd(ymd(2026, 1, 5)) == "2026-01-05");
}

// -- staff changes (core/agenda_rules) ------------------------------------------------------

namespace {

bool has_text(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// Cardiologia with Dra. Ana at a São Paulo time on Wednesday 25/11/2026.
slot ana_cardio(int h, int mi = 0) { return {ana, cardio, sp(2026, 11, 25, h, mi), sp(2026, 11, 25, h + 1, mi)}; }

} // namespace

TEST_CASE("agenda rules: make_slot checks the service and the professional", "[agenda][rules]") {
  auto c = demo_clinic();
  slot s;
  auto start = sp(2026, 11, 25, 10);
  REQUIRE_FALSE(make_slot(c, cardio, ana, start, s));
  CHECK(s == ana_cardio(10));
  CHECK(make_slot(c, "nope", ana, start, s)->field == "service_id");
  CHECK(make_slot(c, cardio, "nope", start, s)->field == "professional_id");
  auto r = make_slot(c, cardio, carlos, start, s);
  REQUIRE(r);
  CHECK(r->field == "professional_id");
  CHECK(r->message == "this professional does not perform the service");
  CHECK_FALSE(r->conflict);
  c.services[1].active = false;
  CHECK(make_slot(c, cardio, ana, start, s)->field == "service_id");
  c = demo_clinic();
  c.professionals[0].active = false;
  CHECK(make_slot(c, cardio, ana, start, s)->field == "professional_id");
}

TEST_CASE("agenda rules: check_slot says which rule refuses a time", "[agenda][rules]") {
  const auto c = demo_clinic();
  const agenda_view empty;
  CHECK_FALSE(check_slot(c, ana_cardio(10), empty, monday_8h));

  auto refused = [&](const slot& s, const agenda_view& v, instant now = monday_8h) {
    auto r = check_slot(c, s, v, now);
    REQUIRE(r);
    CHECK(r->field == "starts_at");
    return std::make_pair(r->conflict, r->message);
  };
  // The agenda in the way: conflicts (409).
  agenda_view booked;
  booked.appointments = {appt("a1", ana, sp(2026, 11, 25, 10, 30))};
  CHECK(refused(ana_cardio(10), booked) == std::make_pair(true, std::string("this time was just booked")));
  CHECK_FALSE(check_slot(c, ana_cardio(10), booked, monday_8h, "a1")); // moving that one
  booked.appointments[0].status = appointment_status::cancelled;
  CHECK_FALSE(check_slot(c, ana_cardio(10), booked, monday_8h));
  agenda_view held;
  held.holds = {{ana_cardio(10), monday_8h + minutes{10}, "conversation-1"}};
  CHECK(refused(ana_cardio(10), held) ==
        std::make_pair(true, std::string("this time is being booked by a patient right now")));
  CHECK_FALSE(check_slot(c, ana_cardio(10), held, monday_8h + minutes{10})); // expired
  agenda_view full;
  for (int h = 8; h < 16; ++h)
    full.appointments.push_back(appt("f" + std::to_string(h), ana, sp(2026, 11, 25, h)));
  CHECK(refused(ana_cardio(17), full).first);
  CHECK(has_text(refused(ana_cardio(17), full).second, "max_daily_appointments"));

  // The calendar or the policy: invalid (422) with the rule.
  CHECK(refused(ana_cardio(10, 30), empty) ==
        std::make_pair(false, std::string("is not a bookable time: outside the working hours or off the 60-minute "
                                          "slot grid")));
  CHECK_FALSE(refused(ana_cardio(18), empty).first);
  CHECK(refused({ana, cardio, sp(2026, 11, 23, 9), sp(2026, 11, 23, 10)}, empty).second ==
        "must be at least 2 hours from now");
  CHECK(refused({ana, cardio, sp(2026, 12, 24, 9), sp(2026, 12, 24, 10)}, empty).second ==
        "must be at most 30 days ahead");
  agenda_view closed;
  closed.closures = {{ymd(2026, 11, 25), ymd(2026, 11, 25), "Feriado"}};
  CHECK(refused(ana_cardio(10), closed).second == "the clinic is closed on that day (Feriado)");
  agenda_view away;
  away.absences = {{ana, sp(2026, 11, 25, 9), sp(2026, 11, 25, 12)}};
  CHECK(refused(ana_cardio(10), away).second == "the professional is away at that time");
  CHECK_FALSE(check_slot(c, ana_cardio(12), away, monday_8h));
}

TEST_CASE("agenda rules: alternatives are the nearest free slots", "[agenda][rules]") {
  const auto c = demo_clinic();
  agenda_view v;
  v.appointments = {appt("a1", ana, sp(2026, 11, 25, 10))};
  auto alt = alternative_slots(c, ana_cardio(10), v, monday_8h, 4);
  CHECK(starts(alt) == std::vector<std::string>{"08:00", "09:00", "11:00", "12:00"});
  for (auto& s : alt)
    CHECK(s.professional_id == ana);
  // Moving a1 itself: its own time is free.
  CHECK(starts(alternative_slots(c, ana_cardio(10), v, monday_8h, 1, "a1")) == std::vector<std::string>{"10:00"});
  // Nobody else for Cardiologia and Ana away for weeks: nothing; for Clínico geral, Carlos.
  v.absences = {{ana, sp(2026, 11, 24, 0), sp(2026, 12, 31, 0)}};
  CHECK(alternative_slots(c, ana_cardio(10), v, monday_8h, 3).empty());
  slot general{ana, clinico, sp(2026, 11, 25, 10), sp(2026, 11, 25, 11)};
  auto other = alternative_slots(c, general, v, monday_8h, 3);
  REQUIRE(other.size() == 3);
  for (auto& s : other)
    CHECK(s.professional_id == carlos);
  CHECK(starts(other) == std::vector<std::string>{"09:00", "10:00", "11:00"});
}

TEST_CASE("agenda rules: status changes", "[agenda][rules]") {
  auto a = appt("a1", ana, sp(2026, 11, 25, 10));
  auto before = sp(2026, 11, 25, 9);
  auto during = sp(2026, 11, 25, 10, 30);
  CHECK_FALSE(check_transition(a, agenda_change::cancel, before));
  CHECK_FALSE(check_transition(a, agenda_change::reschedule, before));
  CHECK(check_transition(a, agenda_change::attended, before)->message == "the appointment has not started yet");
  CHECK(check_transition(a, agenda_change::no_show, before)->conflict);
  CHECK_FALSE(check_transition(a, agenda_change::attended, during));
  CHECK_FALSE(check_transition(a, agenda_change::no_show, a.start)); // at the start
  CHECK(check_transition(a, agenda_change::cancel, during)->field == "status");
  CHECK(check_transition(a, agenda_change::reschedule, during)->conflict);
  for (auto st : {appointment_status::attended, appointment_status::no_show, appointment_status::cancelled}) {
    a.status = st;
    for (auto change : {agenda_change::cancel, agenda_change::reschedule, agenda_change::attended,
                        agenda_change::no_show}) {
      auto r = check_transition(a, change, during);
      REQUIRE(r);
      CHECK(r->conflict);
      CHECK(r->message == "the appointment is " + std::string(to_string(st)) + "; it can no longer change");
    }
  }
  a.status = appointment_status::confirmed;
  CHECK_FALSE(check_transition(a, agenda_change::attended, during));
}

TEST_CASE("agenda rules: local ISO times carry the zone's offset", "[agenda][rules][tz]") {
  auto t = *parse_iso("2026-11-25T13:00:00Z");
  CHECK(format_local_iso(date::locate_zone("America/Sao_Paulo"), t) == "2026-11-25T10:00:00-03:00");
  CHECK(format_local_iso(date::locate_zone("UTC"), t) == "2026-11-25T13:00:00+00:00");
  CHECK(format_local_iso(date::locate_zone("Asia/Kolkata"), t) == "2026-11-25T18:30:00+05:30");
  CHECK(format_local_iso(date::locate_zone("America/New_York"), *parse_iso("2026-07-01T12:00:00Z")) ==
        "2026-07-01T08:00:00-04:00");
  // Across midnight and back through parse_iso.
  auto late = *parse_iso("2026-12-01T02:30:00Z");
  auto text = format_local_iso(date::locate_zone("America/Sao_Paulo"), late);
  CHECK(text == "2026-11-30T23:30:00-03:00");
  CHECK(parse_iso(text) == late);
}
