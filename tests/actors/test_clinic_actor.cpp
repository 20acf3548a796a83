// The clinic actor on the deterministic scheduler: messages in, messages out. It loads
// its profile and agenda once, serialises holds, bookings, moves and cancellations
// through core::clinic_agenda, writes through the (stub) reader, and routes patients'
// messages to conversation actors. No database, no sleeps.

#include "actor_fixture.hpp"

#include <nlohmann/json.hpp>

#include "actors/clinic.hpp"

using namespace atendeai;
using namespace atendeai::test;
using actors::clinic_answer;
using outcome = core::clinic_result::outcome;

namespace {

/// The demo clinic's actor with its data loaded.
struct clinic_fixture : actor_fixture {
  actors::clinic_actor clinic;

  explicit clinic_fixture(bool start = true) {
    if (start)
      spawn();
  }

  void spawn() {
    clinic = watch(actors::spawn_clinic(sys, node, caf::actor_cast<actors::router_actor>(parent), ids::clinic));
    run();
  }

  clinic_answer hold(const std::string& conversation, const core::slot& s) {
    return ask<clinic_answer>(clinic, actors::hold_atom::value, conversation, conversation, s);
  }
  clinic_answer book(const std::string& conversation, const core::slot& s) {
    return ask<clinic_answer>(clinic, actors::book_atom::value, conversation, conversation, s);
  }
  /// A booking whose write the stub reader holds (answer_write() lets it commit): the
  /// request to receive its answer from.
  auto book_held(const std::string& conversation, const core::slot& s) {
    db->defer_writes = true;
    auto booking = self->request(clinic, caf::infinite, actors::book_atom::value, conversation, conversation, s);
    run();
    REQUIRE(db->pending.size() == 1);
    return booking;
  }
  clinic_answer reschedule(const std::string& conversation, const std::string& id, const core::slot& s) {
    return ask<clinic_answer>(clinic, actors::reschedule_atom::value, conversation, conversation, id, s);
  }
  clinic_answer cancel(const std::string& conversation, const std::string& id) {
    return ask<clinic_answer>(clinic, actors::cancel_atom::value, conversation, id);
  }
  nlohmann::json inspect() { return nlohmann::json::parse(ask<std::string>(clinic, actors::inspect_atom::value)); }
};

/// An appointment stored before the clinic actor starts.
core::agenda_entry stored(const std::string& id, const core::slot& s, const std::string& conversation) {
  core::agenda_entry e;
  e.appointment = {id, s.professional_id, s.service_id, s.start, s.end, core::appointment_status::scheduled,
                   "contact-" + conversation};
  e.conversation_id = conversation;
  return e;
}

const core::slot tue10 = slot_at(sp(2026, 11, 24, 10));
const core::slot tue11 = slot_at(sp(2026, 11, 24, 11));

/// A patient's message as the ingest stored it.
actors::stored_message inbound(const std::string& conversation, const std::string& wamid, const std::string& text) {
  actors::stored_message m;
  m.clinic_id = ids::clinic;
  m.conversation_id = conversation;
  m.message_id = "msg-" + wamid;
  m.new_conversation = true;
  m.msg.account_id = "phone-number-id";
  m.msg.contact = "5511999990001";
  m.msg.external_id = wamid;
  m.msg.type = "text";
  m.msg.text = text;
  return m;
}

} // namespace

TEST_CASE("clinic actor: loads its profile and agenda once, then answers from memory", "[actors][clinic]") {
  clinic_fixture f(false);
  f.db->agenda.appointments = {stored("appt-a", tue10, "conv-a")};
  f.spawn();
  CHECK(f.db->asked == std::vector<std::string>{"load", "agenda"});
  auto snap = f.ask<actors::agenda_snapshot>(f.clinic, actors::agenda_atom::value, std::string("conv-a"));
  REQUIRE(snap.view.appointments.size() == 1);
  CHECK(snap.view.appointments[0].id == "appt-a");
  REQUIRE(snap.patient_appointments.size() == 1);
  CHECK(f.ask<actors::agenda_snapshot>(f.clinic, actors::agenda_atom::value, std::string("conv-b"))
          .patient_appointments.empty());
  CHECK(f.db->asked.size() == 2); // nothing read again
  auto state = f.inspect();
  CHECK(state["status"] == "ready");
  CHECK(state["appointments"] == 1);

  SECTION("a reload reads both again") {
    f.self->send(f.clinic, actors::reload_atom::value);
    f.run();
    CHECK(f.db->asked == std::vector<std::string>{"load", "agenda", "load", "agenda"});
  }
}

TEST_CASE("clinic actor: a hold keeps the slot from other patients until it expires", "[actors][clinic]") {
  clinic_fixture f;
  auto held = f.hold("conv-a", tue10);
  CHECK(held.result.what == outcome::booked); // booked = held
  REQUIRE(held.snapshot.view.holds.size() == 1);
  CHECK(held.snapshot.view.holds[0].owner == "conv-a");
  CHECK(f.hold("conv-b", tue10).result.what == outcome::slot_taken);
  CHECK(f.hold("conv-a", tue10).result.what == outcome::booked); // its own, renewed
  // Released: free for the next patient.
  f.self->send(f.clinic, actors::release_atom::value, std::string("conv-a"), tue10);
  f.run();
  CHECK(f.hold("conv-b", tue10).result.what == outcome::booked);
  // Expired (flow.hold_minutes = 10 by default): free again, without any timer.
  f.clock->advance(std::chrono::minutes{10});
  auto after = f.hold("conv-c", tue10);
  CHECK(after.result.what == outcome::booked);
  CHECK(after.snapshot.view.holds.size() == 1);
  CHECK(f.inspect()["refused"] == 1);
  CHECK(f.db->writes.empty()); // holds are memory only
}

TEST_CASE("clinic actor: a booking is written once, and while it is written nobody else takes the slot",
          "[actors][clinic]") {
  clinic_fixture f;
  auto booking = f.book_held("conv-a", tue10);
  CHECK(f.db->pending[0].slot == tue10);
  CHECK_FALSE(f.has_mail()); // the patient waits for PostgreSQL
  // Meanwhile another patient asks for the same time.
  CHECK(f.hold("conv-b", tue10).result.what == outcome::slot_taken);
  CHECK(f.book("conv-b", tue10).result.what == outcome::slot_taken);
  CHECK(f.db->pending.size() == 1); // refused in memory: no second write
  // The write commits.
  f.answer_write();
  REQUIRE(f.has_mail());
  clinic_answer answer;
  booking.receive([&](clinic_answer& a) { answer = std::move(a); },
                  [&](caf::error& err) { FAIL(f.sys.render(err)); });
  CHECK(answer.result.what == outcome::booked);
  REQUIRE(answer.result.appointment);
  CHECK(answer.result.appointment->id == "appt-1");
  CHECK(answer.snapshot.view.holds.empty()); // the write's hold is gone, the appointment stays
  CHECK(answer.snapshot.patient_appointments.size() == 1);
  f.run();
  CHECK(f.db->planned == std::vector<std::string>{"appt-1:"}); // its reminders are planned

  SECTION("a repeated book (a flow resumed after a restart) is answered without a second write") {
    f.db->defer_writes = false;
    auto again = f.book("conv-a", tue10);
    CHECK(again.result.what == outcome::booked);
    REQUIRE(again.result.appointment);
    CHECK(again.result.appointment->id == "appt-1");
    CHECK(f.db->count("book") == 1);
  }
  SECTION("another patient is refused: no double booking") {
    CHECK(f.book("conv-b", tue10).result.what == outcome::slot_taken);
    CHECK(f.db->count("book") == 1);
    auto state = f.inspect();
    CHECK(state["bookings"] == 1);
    CHECK(state["refused"] == 3);
  }
}

TEST_CASE("clinic actor: PostgreSQL's guard refuses a booking", "[actors][clinic]") {
  clinic_fixture f;
  f.db->outcome = persistence::agenda_outcome::slot_taken; // another node booked it first
  CHECK(f.book("conv-a", tue10).result.what == outcome::slot_taken);
  CHECK(f.db->count("book") == 1);
  // The write's hold is gone: the time is free in memory (the next write is guarded again).
  f.db->outcome = persistence::agenda_outcome::ok;
  CHECK(f.hold("conv-b", tue10).result.what == outcome::booked);
}

TEST_CASE("clinic actor: a failed write keeps its hold until it expires", "[actors][clinic]") {
  clinic_fixture f;
  auto booking = f.book_held("conv-a", tue10);
  f.answer_write({}, true); // the reader gives up (a timeout, PostgreSQL gone)
  REQUIRE(f.has_mail());
  caf::error failed;
  booking.receive([](clinic_answer&) { FAIL("answered"); }, [&](caf::error& err) { failed = std::move(err); });
  CHECK(failed == caf::sec::request_timeout);
  // The write may have committed: nobody else gets the time while the hold lives.
  CHECK(f.hold("conv-b", tue10).result.what == outcome::slot_taken);
  f.clock->advance(std::chrono::minutes{10});
  CHECK(f.hold("conv-b", tue10).result.what == outcome::booked);
}

TEST_CASE("clinic actor: patients move and cancel only their own appointments", "[actors][clinic]") {
  clinic_fixture f(false);
  f.db->agenda.appointments = {stored("appt-a", tue10, "conv-a"), stored("appt-c", tue11, "conv-c")};
  f.spawn();
  auto wed9 = slot_at(sp(2026, 11, 25, 9));

  CHECK(f.cancel("conv-b", "appt-a").result.what == outcome::not_found);
  CHECK(f.reschedule("conv-b", "appt-a", wed9).result.what == outcome::not_found);
  CHECK(f.cancel("conv-a", "appt-zzz").result.what == outcome::not_found);
  // Into another patient's time: refused in memory.
  CHECK(f.reschedule("conv-a", "appt-a", tue11).result.what == outcome::slot_taken);
  CHECK(f.db->writes.empty());

  auto moved = f.reschedule("conv-a", "appt-a", wed9);
  CHECK(moved.result.what == outcome::rescheduled);
  REQUIRE(moved.result.appointment);
  CHECK(moved.result.appointment->start == wed9.start);
  REQUIRE(moved.snapshot.patient_appointments.size() == 1);
  CHECK(moved.snapshot.patient_appointments[0].start == wed9.start);
  // Its old time is free for others now, and handed to the waitlist.
  CHECK(f.hold("conv-b", tue10).result.what == outcome::booked);
  REQUIRE(f.db->freed.size() == 1);
  CHECK(f.db->freed[0] == tue10);
  // To where it already is: no write.
  CHECK(f.reschedule("conv-a", "appt-a", wed9).result.what == outcome::rescheduled);
  CHECK(f.db->count("reschedule") == 1);

  auto cancelled = f.cancel("conv-a", "appt-a");
  CHECK(cancelled.result.what == outcome::cancelled);
  CHECK(cancelled.snapshot.patient_appointments.empty());
  CHECK(f.db->count("cancel") == 1);
  CHECK(f.db->agenda.appointments.size() == 1); // the stub's rows: appt-c left
  REQUIRE(f.db->freed.size() == 2); // the cancelled time too
  CHECK(f.db->freed[1] == wed9);
  CHECK(f.cancel("conv-a", "appt-a").result.what == outcome::not_found);
}

TEST_CASE("clinic actor: staff changes are checked against the same agenda", "[actors][clinic][staff]") {
  clinic_fixture f(false);
  f.db->agenda.appointments = {stored("appt-a", tue10, "conv-a")};
  f.spawn();
  persistence::staff_change c;
  c.action = persistence::staff_action::create;
  c.slot = {ids::ana, ids::cardio, tue10.start, {}};
  c.patient_phone = "+5511988887777";

  auto refused = f.ask<actors::staff_answer>(f.clinic, actors::change_atom::value, c);
  CHECK_FALSE(refused.ok);
  CHECK(refused.code == core::error_code::conflict);
  CHECK(refused.field == "starts_at");
  CHECK(refused.alternatives.size() == 5);
  CHECK(refused.timezone == "America/Sao_Paulo");
  CHECK(f.db->count("staff") == 0);

  c.slot.start = tue11.start;
  auto made = f.ask<actors::staff_answer>(f.clinic, actors::change_atom::value, c);
  CHECK(made.ok);
  REQUIRE(f.db->staff_changes.size() == 1);
  CHECK(f.db->staff_changes[0].slot == tue11); // its end from the service's duration
  // The chat now finds the time taken.
  CHECK(f.hold("conv-b", tue11).result.what == outcome::slot_taken);
  // Its reminders are planned and the patient is told of the booking.
  f.run();
  CHECK(f.db->planned == std::vector<std::string>{"appt-staff-1:created"});

  SECTION("a time the rules refuse: 422 naming the field, nothing written") {
    c.slot.start = sp(2026, 11, 24, 10, 30); // off the grid
    auto invalid = f.ask<actors::staff_answer>(f.clinic, actors::change_atom::value, c);
    CHECK(invalid.code == core::error_code::validation_failed);
    CHECK(invalid.field == "starts_at");
    CHECK(invalid.alternatives.empty());
    CHECK(f.db->count("staff") == 1);
  }
}

TEST_CASE("clinic actor: the admin API's free slots come from the in-memory agenda", "[actors][clinic]") {
  clinic_fixture f(false);
  f.db->agenda.appointments = {stored("appt-a", tue10, "conv-a")};
  f.spawn();
  core::slot_query q;
  q.service_id = ids::cardio;
  q.from = q.to = date::year_month_day{date::year{2026}, date::month{11}, date::day{24}};
  auto list = f.ask<actors::slot_list>(f.clinic, actors::slots_atom::value, q);
  CHECK(list.field.empty());
  CHECK(list.slots.size() == 9);
  CHECK(list.timezone == "America/Sao_Paulo");
  q.service_id = "nope";
  CHECK(f.ask<actors::slot_list>(f.clinic, actors::slots_atom::value, q).field == "service_id");
}

TEST_CASE("clinic actor: patients' messages wait for the profile, then reach a conversation", "[actors][clinic]") {
  clinic_fixture f(false);
  f.clinic = f.watch(actors::spawn_clinic(f.sys, f.node, caf::actor_cast<actors::router_actor>(f.parent), ids::clinic));
  f.self->send(f.clinic, actors::process_atom::value, inbound("conv-a", "wamid.1", "oi"));
  f.run();
  CHECK(f.db->asked == std::vector<std::string>{"load", "agenda"}); // a new conversation reads no memory
  REQUIRE(f.db->records.size() == 1);
  const auto& rec = f.db->records[0];
  CHECK(rec.conversation_id == "conv-a");
  CHECK(rec.cause_id == "msg-wamid.1");
  CHECK(rec.has_reply);
  CHECK(f.inspect()["conversations"] == 1);
}

TEST_CASE("clinic actor: an unknown clinic stops and drops what waited", "[actors][clinic]") {
  clinic_fixture f(false);
  f.db->profile = nullptr;
  f.clinic = f.watch(actors::spawn_clinic(f.sys, f.node, caf::actor_cast<actors::router_actor>(f.parent), ids::clinic));
  f.self->monitor(f.clinic);
  f.self->send(f.clinic, actors::process_atom::value, inbound("conv-a", "wamid.1", "oi"));
  f.run();
  REQUIRE(f.has_mail());
  bool down = false;
  f.self->receive([&](caf::down_msg& m) { down = m.source == f.clinic.address(); });
  CHECK(down);
  CHECK(f.db->records.empty());
}

TEST_CASE("clinic actor: a due reminder goes out through the patient's conversation, buttons or template by the "
          "window, and a stale one ends with why",
          "[actors][clinic][reminders]") {
  clinic_fixture f;
  core::due_reminder r;
  r.clinic_id = ids::clinic;
  r.job_id = "job-1";
  r.appointment_id = "appt-a";
  r.offset_minutes = 1440;
  r.planned_start = r.starts_at = tue10.start;
  r.ends_at = tue10.end;
  r.appointment_status = "scheduled";
  r.professional_id = ids::ana;
  r.service_id = ids::cardio;
  r.conversation_id = "conv-a";
  r.patient_name = "Maria Teste";
  r.account_id = "demo-phone-number-id";
  r.contact = "5511900004001";
  r.window_until = f.clock->now() + std::chrono::hours(1);
  f.self->send(f.clinic, actors::remind_atom::value, r);
  f.run();
  REQUIRE(f.db->records.size() == 1);
  const auto& inside = f.db->records[0];
  CHECK(inside.kind == actors::reply_record::cause_kind::notice);
  CHECK(inside.cause_id == "job-1"); // the job is the message's cause: written once
  CHECK(inside.intent == "reminder");
  CHECK(inside.recipient == "5511900004001");
  CHECK(inside.account_id == "demo-phone-number-id");
  REQUIRE(inside.reply.style == core::choice_style::buttons);
  CHECK(inside.reply.choices[0].id == "remind:confirm:appt-a");
  REQUIRE(inside.reply.fallback); // Meta's 131047 after all: its template
  CHECK(inside.reply.fallback->name == "lembrete_consulta");
  CHECK(inside.state.reminded == "appt-a"); // a typed answer next is about it

  // Outside the window: the clinic's template, its quick replies carrying the payloads.
  r.job_id = "job-2";
  r.window_until = f.clock->now() - std::chrono::hours(30);
  f.self->send(f.clinic, actors::remind_atom::value, r);
  f.run();
  REQUIRE(f.db->records.size() == 2);
  REQUIRE(f.db->records[1].reply.templ);
  CHECK(f.db->records[1].reply.templ->name == "lembrete_consulta");
  CHECK(f.db->records[1].reply.templ->button_payloads[2] == "remind:cancel:appt-a");

  // Cancelled meanwhile: nothing is written and the job ends with why.
  r.job_id = "job-3";
  r.appointment_status = "cancelled";
  f.self->send(f.clinic, actors::remind_atom::value, r);
  f.run();
  CHECK(f.db->records.size() == 2);
  CHECK(f.db->finished == std::vector<std::string>{"job-3 skipped cancelled"});
}
