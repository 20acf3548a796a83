// Booking admissibility (core/clinic_agenda): holds, bookings, moves and cancellations
// decided on a clinic's agenda as plain values, "now" passed in, no actor.

#include <catch2/catch.hpp>

#include <memory>

#include "core/clinic_agenda.hpp"
#include "core/demo_clinic.hpp"
#include "support/dates.hpp"
#include "support/demo_ids.hpp"

using namespace atendeai::core;
using std::chrono::hours;
using std::chrono::minutes;

namespace {

using namespace atendeai::test;
using namespace atendeai::test::demo;
constexpr minutes hold_for{10};

// Monday 23/11/2026, 08:00 in São Paulo.
const instant now = sp(2026, 11, 23, 8);

/// One hour of cardiology with Ana.
slot cardio_at(instant start, const std::string& prof = ana) { return {prof, cardio, start, start + minutes{60}}; }

/// A booked appointment, from a conversation and for a contact.
agenda_entry entry(const std::string& id, const slot& s, const std::string& conversation, const std::string& contact,
                   const std::string& phone = {}) {
  agenda_entry e;
  e.appointment = {id, s.professional_id, s.service_id, s.start, s.end, appointment_status::scheduled, contact};
  e.conversation_id = conversation;
  e.patient_phone = phone;
  return e;
}

clinic_agenda agenda_of(clinic_profile c = demo_clinic()) {
  return clinic_agenda(std::make_shared<const clinic_profile>(std::move(c)), hold_for);
}

/// True when the decision is `v` for reason `r` (what it was is shown when not).
bool is(const agenda_decision& d, agenda_verdict v, agenda_reason r) {
  UNSCOPED_INFO("decided " << to_string(d.verdict) << " (" << to_string(d.reason) << ") " << d.detail);
  return d.verdict == v && d.reason == r;
}

// Tuesday 24/11/2026, 10:00 in São Paulo.
const slot tue10 = cardio_at(sp(2026, 11, 24, 10));

} // namespace

TEST_CASE("clinic agenda: a free slot is held, and held again by its owner", "[clinic_agenda]") {
  auto a = agenda_of();
  CHECK(is(a.hold("conv-a", tue10, now), agenda_verdict::granted, agenda_reason::free));
  REQUIRE(a.holds().size() == 1);
  CHECK(a.holds()[0].owner == "conv-a");
  CHECK(a.holds()[0].expires_at == now + hold_for);
  // Holding it again renews the expiry; still one hold.
  CHECK(is(a.hold("conv-a", tue10, now + minutes{5}), agenda_verdict::granted, agenda_reason::own_hold));
  REQUIRE(a.holds().size() == 1);
  CHECK(a.holds()[0].expires_at == now + minutes{5} + hold_for);
  // The view shows the hold; releasing it frees the slot.
  CHECK(a.view(now).holds.size() == 1);
  a.release("conv-a", tue10);
  CHECK(a.holds().empty());
  a.release("conv-a", tue10); // idempotent
  CHECK(is(a.hold("conv-b", tue10, now), agenda_verdict::granted, agenda_reason::free));
}

TEST_CASE("clinic agenda: a slot held by another patient is refused until the hold expires", "[clinic_agenda]") {
  auto a = agenda_of();
  REQUIRE(a.hold("conv-a", tue10, now).verdict == agenda_verdict::granted);
  CHECK(is(a.hold("conv-b", tue10, now + minutes{1}), agenda_verdict::refused, agenda_reason::held));
  CHECK(is(a.book("conv-b", "conv-b", tue10, now + minutes{1}), agenda_verdict::refused, agenda_reason::held));
  // An overlapping slot of the same professional is refused too; another professional's is free.
  auto half = tue10;
  half.service_id = clinico;
  CHECK(is(a.hold("conv-b", half, now), agenda_verdict::refused, agenda_reason::held));
  CHECK(is(a.hold("conv-b", cardio_at(tue10.start, carlos), now), agenda_verdict::refused,
           agenda_reason::unavailable)); // Carlos does not do cardiology
  auto carlos_clinico = slot{carlos, clinico, tue10.start, tue10.end};
  CHECK(is(a.hold("conv-b", carlos_clinico, now), agenda_verdict::granted, agenda_reason::free));

  SECTION("the last instant of the hold still counts") {
    CHECK(is(a.hold("conv-b", tue10, now + hold_for - std::chrono::milliseconds{1}), agenda_verdict::refused,
             agenda_reason::held));
  }
  SECTION("an expired hold is released and the slot goes to the next patient") {
    CHECK(is(a.hold("conv-b", tue10, now + hold_for), agenda_verdict::granted, agenda_reason::free));
    for (const auto& h : a.holds())
      CHECK(h.owner != "conv-a");
  }
  SECTION("the owner of an expired hold asks again like anyone") {
    CHECK(is(a.book("conv-a", "conv-a", tue10, now + hold_for + minutes{1}), agenda_verdict::granted,
             agenda_reason::free));
  }
}

TEST_CASE("clinic agenda: expired holds are released on demand and left out of the view", "[clinic_agenda]") {
  auto a = agenda_of();
  REQUIRE(a.hold("conv-a", tue10, now).verdict == agenda_verdict::granted);
  REQUIRE(a.hold("conv-b", cardio_at(sp(2026, 11, 24, 11)), now + minutes{5}).verdict == agenda_verdict::granted);
  auto later = now + hold_for;
  CHECK(a.view(later).holds.size() == 1); // conv-a's expired, conv-b's still live
  CHECK(a.holds().size() == 2);           // until released
  auto released = a.release_expired_holds(later);
  REQUIRE(released.size() == 1);
  CHECK(released[0].owner == "conv-a");
  CHECK(released[0].slot == tue10);
  REQUIRE(a.holds().size() == 1);
  CHECK(a.holds()[0].owner == "conv-b");
  CHECK(a.release_expired_holds(later).empty());
  CHECK(a.release_expired_holds(now + minutes{5} + hold_for).size() == 1);
  CHECK(a.holds().empty());
}

TEST_CASE("clinic agenda: no double booking", "[clinic_agenda]") {
  auto a = agenda_of();
  a.load({entry("appt-1", tue10, "conv-a", "contact-a")}, {}, {});
  CHECK(is(a.hold("conv-b", tue10, now), agenda_verdict::refused, agenda_reason::booked));
  CHECK(is(a.book("conv-b", "conv-b", tue10, now), agenda_verdict::refused, agenda_reason::booked));
  CHECK(a.holds().empty());

  SECTION("a booking goes through the write hold, then the stored appointment") {
    auto next = cardio_at(sp(2026, 11, 24, 11));
    CHECK(is(a.book("conv-b", "conv-b", next, now), agenda_verdict::granted, agenda_reason::free));
    // While PostgreSQL writes, nobody else gets the slot.
    CHECK(is(a.hold("conv-c", next, now), agenda_verdict::refused, agenda_reason::held));
    a.end_write("conv-b", next);
    a.record(entry("appt-2", next, "conv-b", "contact-b"));
    CHECK(a.holds().empty());
    CHECK(is(a.hold("conv-c", next, now), agenda_verdict::refused, agenda_reason::booked));
    CHECK(a.appointments().size() == 2);
  }
  SECTION("a cancelled appointment no longer occupies its time") {
    auto e = *a.find("appt-1");
    e.appointment.status = appointment_status::cancelled;
    a.record(e);
    CHECK(a.appointments().empty());
    CHECK(is(a.hold("conv-b", tue10, now), agenda_verdict::granted, agenda_reason::free));
  }
  SECTION("the database refused the write: the slot is free again in memory") {
    auto next = cardio_at(sp(2026, 11, 24, 11));
    REQUIRE(a.book("conv-b", "conv-b", next, now).verdict == agenda_verdict::granted);
    a.end_write("conv-b", next);
    CHECK(is(a.hold("conv-c", next, now), agenda_verdict::granted, agenda_reason::free));
  }
}

TEST_CASE("clinic agenda: a repeated book by the same conversation is already done", "[clinic_agenda]") {
  auto a = agenda_of();
  a.load({entry("appt-1", tue10, "conv-a", "contact-a")}, {}, {});
  auto d = a.book("conv-a", "conv-a", tue10, now);
  CHECK(is(d, agenda_verdict::done, agenda_reason::repeated_book));
  REQUIRE(d.appointment);
  CHECK(d.appointment->id == "appt-1");
  CHECK(a.holds().empty()); // nothing to write, nothing held
  // The same time asked by another conversation is a double booking.
  CHECK(is(a.book("conv-b", "conv-b", tue10, now), agenda_verdict::refused, agenda_reason::booked));
  // The same conversation at another time is a new booking.
  CHECK(is(a.book("conv-a", "conv-a", cardio_at(sp(2026, 11, 24, 11)), now), agenda_verdict::granted,
           agenda_reason::free));
}

TEST_CASE("clinic agenda: the owner's live hold is booked even once the rules would no longer offer it",
          "[clinic_agenda]") {
  auto a = agenda_of();
  // Today 10:00 is exactly the 2-hour minimum advance at 08:00.
  auto today10 = cardio_at(sp(2026, 11, 23, 10));
  REQUIRE(a.hold("conv-a", today10, now).verdict == agenda_verdict::granted);
  auto later = now + minutes{5}; // 10:00 is now within the minimum advance
  CHECK(is(a.hold("conv-b", today10, later), agenda_verdict::refused, agenda_reason::held));
  CHECK(is(a.book("conv-a", "conv-a", today10, later), agenda_verdict::granted, agenda_reason::own_hold));
  a.end_write("conv-a", today10); // the write failed: without the hold the rules decide
  CHECK(is(a.book("conv-a", "conv-a", today10, later), agenda_verdict::refused, agenda_reason::unavailable));
}

TEST_CASE("clinic agenda: rescheduling", "[clinic_agenda]") {
  auto a = agenda_of();
  auto other = cardio_at(sp(2026, 11, 24, 14));
  a.load({entry("appt-a", tue10, "conv-a", "contact-a", "+5511999990001"),
          entry("appt-b", other, "conv-b", "contact-b", "+5511999990002")},
         {}, {});

  SECTION("into a free slot: granted, held for the write, then moved") {
    auto to = cardio_at(sp(2026, 11, 25, 9));
    CHECK(is(a.reschedule("conv-a", "conv-a", "appt-a", to, now), agenda_verdict::granted, agenda_reason::free));
    CHECK(is(a.hold("conv-c", to, now), agenda_verdict::refused, agenda_reason::held));
    a.end_write("conv-a", to);
    a.record(entry("appt-a", to, "conv-a", "contact-a", "+5511999990001"));
    REQUIRE(a.appointments().size() == 2);
    CHECK(a.find("appt-a")->appointment.start == to.start);
    CHECK(is(a.hold("conv-c", tue10, now), agenda_verdict::granted, agenda_reason::free)); // the old time is free
  }
  SECTION("into a taken slot: refused") {
    CHECK(is(a.reschedule("conv-a", "conv-a", "appt-a", other, now), agenda_verdict::refused, agenda_reason::booked));
    CHECK(a.holds().empty());
  }
  SECTION("into a slot another patient holds: refused") {
    auto to = cardio_at(sp(2026, 11, 25, 9));
    REQUIRE(a.hold("conv-c", to, now).verdict == agenda_verdict::granted);
    CHECK(is(a.reschedule("conv-a", "conv-a", "appt-a", to, now), agenda_verdict::refused, agenda_reason::held));
  }
  SECTION("to where it already is: done with the appointment") {
    auto d = a.reschedule("conv-a", "conv-a", "appt-a", tue10, now);
    CHECK(is(d, agenda_verdict::done, agenda_reason::same_time));
    REQUIRE(d.appointment);
    CHECK(d.appointment->id == "appt-a");
  }
  SECTION("overlapping its own current time: the appointment frees its time") {
    auto c = demo_clinic();
    c.policy.slot_duration_minutes = 30;
    auto b = agenda_of(c);
    b.load({entry("appt-a", tue10, "conv-a", "contact-a")}, {}, {});
    auto half_later = cardio_at(tue10.start + minutes{30});
    CHECK(is(b.reschedule("conv-a", "conv-a", "appt-a", half_later, now), agenda_verdict::granted,
             agenda_reason::free));
    // Anyone else still finds it taken.
    CHECK(is(b.hold("conv-x", cardio_at(tue10.start + minutes{30}), now), agenda_verdict::refused,
             agenda_reason::booked));
  }
  SECTION("another patient's appointment is not found") {
    CHECK(is(a.reschedule("conv-b", "conv-b", "appt-a", cardio_at(sp(2026, 11, 25, 9)), now),
             agenda_verdict::not_found, agenda_reason::not_patients));
  }
  SECTION("an appointment not in the agenda is not found") {
    CHECK(is(a.reschedule("conv-a", "conv-a", "appt-zzz", cardio_at(sp(2026, 11, 25, 9)), now),
             agenda_verdict::not_found, agenda_reason::unknown_appointment));
  }
}

TEST_CASE("clinic agenda: cancelling", "[clinic_agenda]") {
  auto a = agenda_of();
  a.load({entry("appt-a", tue10, "conv-a", "contact-a", "+5511999990001"),
          entry("appt-staff", cardio_at(sp(2026, 11, 24, 15)), "", "contact-a", "+5511999990001")},
         {}, {});
  auto d = a.cancel("conv-a", "appt-a");
  CHECK(is(d, agenda_verdict::granted, agenda_reason::patients_appointment));
  REQUIRE(d.appointment);
  CHECK(d.appointment->id == "appt-a");
  // Another patient's appointment is refused as not found.
  CHECK(is(a.cancel("conv-b", "appt-a"), agenda_verdict::not_found, agenda_reason::not_patients));
  CHECK(is(a.cancel("conv-a", "appt-zzz"), agenda_verdict::not_found, agenda_reason::unknown_appointment));
  // Cancelling decides only: the appointment leaves once the database cancelled it.
  CHECK(a.find("appt-a"));
  a.forget("appt-a");
  CHECK_FALSE(a.find("appt-a"));
  CHECK(is(a.cancel("conv-a", "appt-a"), agenda_verdict::not_found, agenda_reason::unknown_appointment));
}

TEST_CASE("clinic agenda: a patient owns appointments by conversation, contact or number", "[clinic_agenda]") {
  auto a = agenda_of();
  auto by_staff = entry("appt-staff", cardio_at(sp(2026, 11, 24, 15)), "", "contact-a", "+5511999990001");
  a.load({entry("appt-a", tue10, "conv-a", "contact-a", "+5511999990001"), by_staff}, {}, {});
  // Booked by staff for the contact that booked in conv-a: conv-a's patient owns it.
  CHECK(a.owns("conv-a", by_staff));
  CHECK(is(a.cancel("conv-a", "appt-staff"), agenda_verdict::granted, agenda_reason::patients_appointment));
  // Another channel (conversation) of the same number: owned once the number is known.
  CHECK_FALSE(a.owns("conv-telegram", by_staff));
  a.note_phone("conv-telegram", "+5511999990001");
  CHECK(a.owns("conv-telegram", by_staff));
  auto mine = a.patient_appointments("conv-telegram", now); // both are for that number, by start
  REQUIRE(mine.size() == 2);
  CHECK(mine[0].id == "appt-a");
  CHECK(mine[1].id == "appt-staff");
  a.forget_phone("conv-telegram");
  CHECK_FALSE(a.owns("conv-telegram", by_staff));
  // Loading notes the numbers of the conversations that booked.
  CHECK(a.patient_appointments("conv-a", now).size() == 2);
  // Past appointments are not listed.
  CHECK(a.patient_appointments("conv-a", tue10.start + minutes{1}).size() == 1);
}

TEST_CASE("clinic agenda: closures and absences", "[clinic_agenda]") {
  auto a = agenda_of();
  closure holiday{ymd(2026, 11, 24), ymd(2026, 11, 24), "Feriado"};
  absence congress{ana, sp(2026, 11, 25, 0), sp(2026, 11, 26, 0)};
  a.load({}, {congress}, {holiday});
  CHECK(is(a.hold("conv-a", tue10, now), agenda_verdict::refused, agenda_reason::unavailable));
  CHECK(is(a.hold("conv-a", cardio_at(sp(2026, 11, 25, 10)), now), agenda_verdict::refused,
           agenda_reason::unavailable));
  CHECK(is(a.hold("conv-a", cardio_at(sp(2026, 11, 26, 10)), now), agenda_verdict::granted, agenda_reason::free));
  // Carlos is not away on the 25th.
  CHECK(is(a.hold("conv-a", slot{carlos, clinico, sp(2026, 11, 25, 10), sp(2026, 11, 25, 11)}, now),
           agenda_verdict::granted, agenda_reason::free));
  // A move into a closure is refused too.
  a.load({entry("appt-a", cardio_at(sp(2026, 11, 27, 9)), "conv-a", "contact-a")}, {congress}, {holiday});
  CHECK(is(a.reschedule("conv-a", "conv-a", "appt-a", tue10, now), agenda_verdict::refused,
           agenda_reason::unavailable));
}

TEST_CASE("clinic agenda: hours, grid and policy", "[clinic_agenda]") {
  auto a = agenda_of();
  CHECK(is(a.hold("conv-a", cardio_at(sp(2026, 11, 24, 10, 30)), now), agenda_verdict::refused,
           agenda_reason::unavailable)); // off the 60-minute grid
  CHECK(is(a.hold("conv-a", cardio_at(sp(2026, 11, 24, 18)), now), agenda_verdict::refused,
           agenda_reason::unavailable)); // after hours
  CHECK(is(a.hold("conv-a", cardio_at(sp(2026, 11, 23, 9)), now), agenda_verdict::refused,
           agenda_reason::unavailable)); // within the 2-hour minimum advance
  CHECK(is(a.hold("conv-a", cardio_at(sp(2026, 11, 23, 10)), now), agenda_verdict::granted, agenda_reason::free));
  CHECK(is(a.hold("conv-a", cardio_at(sp(2027, 1, 4, 10)), now), agenda_verdict::refused,
           agenda_reason::unavailable)); // past the 30-day maximum advance
  auto wrong_end = tue10;
  wrong_end.end += minutes{30};
  CHECK(is(a.hold("conv-a", wrong_end, now), agenda_verdict::refused, agenda_reason::unavailable));

  SECTION("the day's maximum counts live holds") {
    auto c = demo_clinic();
    c.policy.max_daily_appointments = 1;
    auto b = agenda_of(c);
    REQUIRE(b.hold("conv-a", tue10, now).verdict == agenda_verdict::granted);
    CHECK(is(b.hold("conv-b", cardio_at(sp(2026, 11, 24, 15)), now), agenda_verdict::refused,
             agenda_reason::unavailable));
    CHECK(is(b.hold("conv-b", cardio_at(sp(2026, 11, 25, 15)), now), agenda_verdict::granted,
             agenda_reason::free));
  }
}

TEST_CASE("clinic agenda: time zones", "[clinic_agenda][tz]") {
  SECTION("Tokyo, UTC+9: a morning slot falls on the previous UTC day") {
    auto c = demo_clinic();
    c.timezone = "Asia/Tokyo";
    auto a = agenda_of(c);
    auto t_now = local("Asia/Tokyo", 2026, 11, 23, 8);
    auto s = cardio_at(local("Asia/Tokyo", 2026, 11, 24, 8));
    CHECK(format_iso(s.start) == "2026-11-23T23:00:00Z");
    CHECK(is(a.hold("conv-a", s, t_now), agenda_verdict::granted, agenda_reason::free));
    // 08:00 in São Paulo that day is 20:00 in Tokyo: after hours there.
    CHECK(is(a.hold("conv-a", cardio_at(sp(2026, 11, 24, 8)), t_now), agenda_verdict::refused,
             agenda_reason::unavailable));
  }
  SECTION("a closure is a local date of the clinic's zone") {
    auto c = demo_clinic();
    c.timezone = "Asia/Tokyo";
    auto a = agenda_of(c);
    a.load({}, {}, {closure{ymd(2026, 11, 24), ymd(2026, 11, 24), ""}});
    auto t_now = local("Asia/Tokyo", 2026, 11, 23, 8);
    // Tuesday 08:00 in Tokyo is still Monday in UTC, yet closed.
    CHECK(is(a.hold("conv-a", cardio_at(local("Asia/Tokyo", 2026, 11, 24, 8)), t_now), agenda_verdict::refused,
             agenda_reason::unavailable));
    CHECK(is(a.hold("conv-a", cardio_at(local("Asia/Tokyo", 2026, 11, 25, 8)), t_now), agenda_verdict::granted,
             agenda_reason::free));
  }
  SECTION("New York, spring forward: 02:00 does not exist, 03:00 does") {
    auto c = demo_clinic();
    c.timezone = "America/New_York";
    c.policy.min_advance_hours = 0;
    c.working_hours[0] = {{0, 5 * 60}};
    auto a = agenda_of(c);
    auto t_now = local("America/New_York", 2027, 3, 13, 12);
    // 01:00 EST + 60 real minutes ends at 03:00 EDT.
    auto one = cardio_at(local("America/New_York", 2027, 3, 14, 1));
    CHECK(is(a.hold("conv-a", one, t_now), agenda_verdict::granted, agenda_reason::free));
    auto three = cardio_at(local("America/New_York", 2027, 3, 14, 3));
    CHECK(one.end == three.start);
    CHECK(is(a.hold("conv-b", three, t_now), agenda_verdict::granted, agenda_reason::free));
  }
  SECTION("Brazil keeps no daylight saving: November is UTC-3") {
    auto a = agenda_of();
    CHECK(format_iso(tue10.start) == "2026-11-24T13:00:00Z");
    CHECK(is(a.hold("conv-a", tue10, now), agenda_verdict::granted, agenda_reason::free));
  }
  SECTION("an unknown zone refuses everything, saying why") {
    auto c = demo_clinic();
    c.timezone = "Mars/Olympus";
    auto a = agenda_of(c);
    auto d = a.hold("conv-a", tue10, now);
    CHECK(is(d, agenda_verdict::refused, agenda_reason::unreadable));
    CHECK(d.detail.find("Mars/Olympus") != std::string::npos);
    CHECK(a.holds().empty());
    CHECK_THROWS_AS(a.check_staff_time(false, {}, tue10, now), std::invalid_argument);
  }
  SECTION("the zone fallback for what must not fail") {
    CHECK(zone_or_default("Mars/Olympus") == date::locate_zone("America/Sao_Paulo"));
    CHECK(zone_or_default("Asia/Tokyo") == date::locate_zone("Asia/Tokyo"));
  }
}

TEST_CASE("clinic agenda: the profile can change under a loaded agenda", "[clinic_agenda]") {
  auto a = agenda_of();
  a.load({entry("appt-a", tue10, "conv-a", "contact-a")}, {}, {});
  auto c = demo_clinic();
  c.working_hours[2] = {}; // closed on Tuesdays from now on
  a.set_profile(std::make_shared<const clinic_profile>(c));
  CHECK(is(a.hold("conv-b", cardio_at(sp(2026, 11, 24, 11)), now), agenda_verdict::refused,
           agenda_reason::unavailable));
  CHECK(a.appointments().size() == 1); // the data stays
  a.set_profile(nullptr);               // ignored
  CHECK(a.profile().working_hours[2].empty());
  CHECK_THROWS_AS(clinic_agenda(nullptr, hold_for), std::invalid_argument);
}

TEST_CASE("clinic agenda: staff changes are checked as the chat would offer them", "[clinic_agenda][staff]") {
  auto a = agenda_of();
  a.load({entry("appt-a", tue10, "conv-a", "contact-a")}, {}, {});

  SECTION("a create at a free time: the slot to hold while writing, its end from the service") {
    auto check = a.check_staff_time(false, {}, slot{ana, cardio, sp(2026, 11, 24, 11), {}}, now);
    CHECK_FALSE(check.refusal);
    REQUIRE(check.slot);
    CHECK(check.slot->end == sp(2026, 11, 24, 12));
    CHECK(check.moving.empty());
    a.hold_for_write("staff:1", *check.slot, now);
    CHECK(is(a.hold("conv-b", *check.slot, now), agenda_verdict::refused, agenda_reason::held));
    a.end_write("staff:1", *check.slot);
    CHECK(a.holds().empty()); // conv-b's refused hold placed nothing; staff's is gone
  }
  SECTION("a create at a taken time: a conflict with the nearest free slots") {
    auto check = a.check_staff_time(false, {}, slot{ana, cardio, tue10.start, {}}, now);
    REQUIRE(check.refusal);
    CHECK(check.refusal->conflict);
    CHECK(check.refusal->field == "starts_at");
    CHECK(check.taken);
    REQUIRE(check.alternatives.size() == 5);
    CHECK_FALSE(check.slot);
  }
  SECTION("a create naming no such service: 422 on service_id") {
    auto check = a.check_staff_time(false, {}, slot{ana, "nope", tue10.start, {}}, now);
    REQUIRE(check.refusal);
    CHECK_FALSE(check.refusal->conflict);
    CHECK(check.refusal->field == "service_id");
    CHECK_FALSE(check.taken);
  }
  SECTION("a reschedule keeps the service and professional, and frees its own time") {
    auto check = a.check_staff_time(true, "appt-a", slot{{}, {}, tue10.start + hours{1}, {}}, now);
    CHECK_FALSE(check.refusal);
    REQUIRE(check.slot);
    CHECK(check.slot->professional_id == ana);
    CHECK(check.slot->service_id == cardio);
    CHECK(check.moving == "appt-a");
  }
  SECTION("a reschedule of a started appointment: 409 on status") {
    auto check = a.check_staff_time(true, "appt-a", slot{{}, {}, tue10.start + hours{1}, {}}, tue10.start);
    REQUIRE(check.refusal);
    CHECK(check.refusal->field == "status");
    CHECK_FALSE(check.taken);
  }
  SECTION("a reschedule of an appointment not in the agenda is left to the database") {
    auto check = a.check_staff_time(true, "appt-zzz", slot{{}, {}, tue10.start, {}}, now);
    CHECK_FALSE(check.refusal);
    CHECK_FALSE(check.slot);
  }
  SECTION("alternatives after the database refused a time") {
    CHECK(a.alternatives(tue10, {}, now).size() == 5);
    CHECK(a.alternatives(slot{}, {}, now).empty()); // no time asked, none offered
  }
}

TEST_CASE("clinic agenda: the admin API's slot query", "[clinic_agenda]") {
  auto a = agenda_of();
  a.load({entry("appt-a", tue10, "conv-a", "contact-a")}, {}, {});
  slot_query q;
  q.service_id = cardio;
  q.from = q.to = ymd(2026, 11, 24);
  auto found = a.query_slots(q, now);
  CHECK(found.field.empty());
  CHECK(found.slots.size() == 9); // 10 a day, one booked
  q.service_id = "nope";
  CHECK(a.query_slots(q, now).field == "service_id");
  q.service_id = cardio;
  q.professional_id = carlos; // does not perform cardiology
  CHECK(a.query_slots(q, now).field == "professional_id");
}
