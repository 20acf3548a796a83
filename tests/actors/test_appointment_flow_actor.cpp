// The appointment-flow actor on the deterministic scheduler, against a stub clinic that
// records what the flow asks of it (agenda, hold, release, book, expired): the pure
// transition function's actions carried out in order, one reply per patient message,
// expiry by the (manual) clock, and a resumed flow re-issuing its pending book.

#include "actor_fixture.hpp"

#include <nlohmann/json.hpp>

#include "actors/appointment_flow.hpp"
#include "core/flow.hpp"

using namespace atendeai;
using namespace atendeai::test;
using outcome = core::clinic_result::outcome;

namespace {

/// What the stub clinic was asked, and what it answers.
struct clinic_stub {
  actors::agenda_snapshot agenda;          ///< agenda: what the flow sees
  std::vector<core::slot> taken;           ///< hold / book: refused for these slots
  std::vector<std::string> asked;          ///< agenda, hold, release, book, reschedule, cancel, expired
  std::vector<core::slot> holds, releases, books;
  std::vector<actors::flow_expiry> expiries;

  bool is_taken(const core::slot& s) const { return std::find(taken.begin(), taken.end(), s) != taken.end(); }

  actors::clinic_answer answer(outcome what, std::optional<core::appointment> a = std::nullopt) const {
    actors::clinic_answer ans;
    ans.result.what = what;
    ans.result.appointment = std::move(a);
    ans.snapshot = agenda;
    if (what == outcome::slot_taken) // what the clinic knows now: the time is someone else's
      for (const auto& s : taken)
        ans.snapshot.view.appointments.push_back({"other", s.professional_id, s.service_id, s.start, s.end,
                                                  core::appointment_status::scheduled, "contact-other"});
    return ans;
  }
};

using clinic_stub_ptr = std::shared_ptr<clinic_stub>;

caf::behavior clinic_behaviour(caf::event_based_actor*, clinic_stub_ptr c) {
  return {
    [=](actors::agenda_atom, const std::string&) {
      c->asked.push_back("agenda");
      return c->agenda;
    },
    [=](actors::hold_atom, const std::string&, const std::string&, const core::slot& s) {
      c->asked.push_back("hold");
      c->holds.push_back(s);
      return c->answer(c->is_taken(s) ? outcome::slot_taken : outcome::booked);
    },
    [=](actors::release_atom, const std::string&, const core::slot& s) {
      c->asked.push_back("release");
      c->releases.push_back(s);
    },
    [=](actors::book_atom, const std::string& conversation, const std::string&, const core::slot& s) {
      c->asked.push_back("book");
      c->books.push_back(s);
      if (c->is_taken(s))
        return c->answer(outcome::slot_taken);
      return c->answer(outcome::booked, core::appointment{"appt-1", s.professional_id, s.service_id, s.start, s.end,
                                                          core::appointment_status::scheduled,
                                                          "contact-" + conversation});
    },
    [=](actors::expired_atom, actors::flow_expiry& e) {
      c->asked.push_back("expired");
      c->expiries.push_back(std::move(e));
    },
  };
}

/// A patient message as the conversation hands it over (already understood).
core::patient_message said(std::string text, core::intent i = core::intent::unknown) {
  core::patient_message m;
  m.text = std::move(text);
  m.u.intent = i;
  m.u.lang = "pt-BR";
  m.u.confidence = i == core::intent::unknown ? 0.0 : 0.9;
  return m;
}

/// A tap on a button or list row.
core::patient_message tap(const std::string& id) {
  core::patient_message m;
  m.reply_id = id;
  return m;
}

std::vector<std::string> choice_ids(const actors::flow_reply& r) {
  std::vector<std::string> out;
  if (r.reply)
    for (const auto& c : r.reply->choices)
      out.push_back(c.id);
  return out;
}

std::string step_of(const actors::flow_reply& r) { return r.flow.is_object() ? r.flow.value("step", "") : "(none)"; }

struct flow_fixture : actor_fixture {
  clinic_stub_ptr stub = std::make_shared<clinic_stub>();
  caf::actor clinic = sys.spawn(clinic_behaviour, stub);
  actors::appointment_flow_actor flow =
    actors::spawn_appointment_flow(sys, node, db->profile, caf::actor_cast<actors::clinic_actor>(clinic), "conv-a");
  nlohmann::json persisted; ///< the state the conversation would store

  flow_fixture() {
    watch(clinic);
    watch(flow);
    self->monitor(flow);
  }

  actors::flow_reply send(core::patient_message m) {
    actors::flow_request req;
    req.conversation_id = "conv-a";
    req.flow = persisted;
    req.message = std::move(m);
    req.lang = "pt-BR";
    req.profile = db->profile;
    auto r = ask<actors::flow_reply>(flow, actors::flow_atom::value, std::move(req));
    persisted = r.flow;
    return r;
  }

  /// True when the flow actor has stopped.
  bool stopped() {
    if (!has_mail())
      return false;
    bool down = false;
    self->receive([&](caf::down_msg& m) { down = m.source == flow.address(); });
    return down;
  }
};

const core::slot wed14 = slot_at(sp(2026, 11, 25, 14));

/// Walks a fresh flow to the confirmation of Wednesday 14:00 with Ana.
void to_confirmation(flow_fixture& f) {
  auto r = f.send(said("quero marcar uma consulta", core::intent::book));
  REQUIRE(r.consumed);
  CHECK(step_of(r) == "service_selection");
  CHECK(choice_ids(r) == std::vector<std::string>{"service:" + ids::clinico, "service:" + ids::cardio,
                                                  "service:00000000-0000-4000-8000-00000000a003"});
  r = f.send(tap("service:" + ids::cardio));
  CHECK(step_of(r) == "date_time");
  REQUIRE_FALSE(choice_ids(r).empty());
  CHECK(choice_ids(r).front().rfind("slot:" + ids::ana + ":", 0) == 0);
  r = f.send(tap(core::slot_choice_id(wed14)));
  CHECK(step_of(r) == "confirmation");
  CHECK(choice_ids(r) == std::vector<std::string>{"confirm", "other_time", "cancel"});
  REQUIRE(f.stub->holds == std::vector<core::slot>{wed14});
}

} // namespace

TEST_CASE("appointment flow actor: booking step by step through the clinic", "[actors][flow]") {
  flow_fixture f;
  to_confirmation(f);
  CHECK(f.stub->asked == std::vector<std::string>{"agenda", "agenda", "agenda", "hold"});
  auto r = f.send(tap("confirm"));
  CHECK(r.consumed);
  CHECK(f.stub->books == std::vector<core::slot>{wed14});
  REQUIRE(r.reply);
  CHECK(r.reply->text.find("Cardiologia") != std::string::npos);
  CHECK(r.reply->text.find("25/11") != std::string::npos);
  CHECK(r.flow.is_null()); // done: nothing left to persist
  CHECK(f.stopped());      // and the actor is gone
}

TEST_CASE("appointment flow actor: a time taken meanwhile is refused at the hold", "[actors][flow]") {
  flow_fixture f;
  f.stub->taken = {wed14};
  f.send(said("quero marcar uma consulta", core::intent::book));
  f.send(tap("service:" + ids::cardio));
  auto r = f.send(tap(core::slot_choice_id(wed14)));
  CHECK(f.stub->holds == std::vector<core::slot>{wed14});
  CHECK(step_of(r) == "date_time"); // other times offered instead
  REQUIRE(r.reply);
  auto offered = choice_ids(r);
  CHECK_FALSE(offered.empty());
  CHECK(std::find(offered.begin(), offered.end(), core::slot_choice_id(wed14)) == offered.end());
  CHECK(f.stub->books.empty());
}

TEST_CASE("appointment flow actor: a silent patient's flow expires by the clock", "[actors][flow]") {
  flow_fixture f;
  to_confirmation(f);
  // Nothing happens before the expiry, whatever the timers do.
  f.advance(std::chrono::minutes{29});
  CHECK(f.stub->expiries.empty());
  CHECK_FALSE(f.stopped());
  // Past flow.expiry_minutes (30): the hold goes, the conversation is told, the actor stops.
  f.advance(std::chrono::minutes{2});
  CHECK(f.stub->releases == std::vector<core::slot>{wed14});
  REQUIRE(f.stub->expiries.size() == 1);
  CHECK(f.stub->expiries[0].conversation_id == "conv-a");
  CHECK(f.stub->expiries[0].message);
  CHECK(f.stopped());
}

TEST_CASE("appointment flow actor: resumed while awaiting the clinic, it books again first", "[actors][flow]") {
  flow_fixture f;
  // The state a crashed flow persisted right after asking the clinic to book.
  auto st = core::new_flow("conv-a", f.clock->now());
  st.step = core::flow_step::confirmation;
  st.service_id = ids::cardio;
  st.chosen = wed14;
  st.awaiting_clinic = true;
  f.persisted = core::to_json(st);
  auto r = f.send(said("e aí?"));
  CHECK(f.stub->books == std::vector<core::slot>{wed14}); // the pending action, re-issued
  CHECK(r.consumed);
  REQUIRE(r.reply);
  CHECK(r.reply->text.find("Cardiologia") != std::string::npos);
  CHECK(r.flow.is_null());
}

TEST_CASE("appointment flow actor: a message that is not the flow's is handed back", "[actors][flow]") {
  flow_fixture f;
  auto r = f.send(said("oi", core::intent::greeting));
  CHECK_FALSE(r.consumed);
  CHECK_FALSE(r.reply);
  CHECK(f.stub->holds.empty());
  CHECK(f.stopped()); // nothing open: the actor stops
}
