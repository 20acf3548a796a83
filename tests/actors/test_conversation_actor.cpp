// The conversation actor on the deterministic scheduler: a patient's message in, one
// record (reply + state) out to the writer; duplicates dropped; a woken-up conversation
// reads its memory first; booking by chat through the real clinic and flow actors with
// the database stubbed; passivation by the (manual) clock.

#include "actor_fixture.hpp"

#include <nlohmann/json.hpp>

#include "actors/clinic.hpp"
#include "actors/conversation.hpp"
#include "core/flow.hpp"

using namespace atendeai;
using namespace atendeai::test;

namespace {

/// A patient's message as the ingest stored it.
actors::stored_message inbound(const std::string& wamid, const std::string& text, const std::string& reply_id = {}) {
  actors::stored_message m;
  m.clinic_id = ids::clinic;
  m.conversation_id = "conv-a";
  m.message_id = "msg-" + wamid;
  m.msg.account_id = "phone-number-id";
  m.msg.contact = "5511999990001";
  m.msg.external_id = wamid;
  m.msg.type = reply_id.empty() ? "text" : "interactive";
  m.msg.text = text;
  m.msg.reply_id = reply_id;
  return m;
}

std::vector<std::string> choice_ids(const actors::reply_record& r) {
  std::vector<std::string> out;
  for (const auto& c : r.reply.choices)
    out.push_back(c.id);
  return out;
}

std::string flow_step(const actors::reply_record& r) {
  return r.state.flow.is_object() ? r.state.flow.value("step", "") : "(none)";
}

struct conversation_fixture : actor_fixture {
  actors::clinic_actor clinic;
  actors::conversation_actor conversation;

  /// A conversation actor alone; `fresh`: just created by the ingest (no memory to read).
  void spawn_alone(bool fresh) {
    // Its clinic is only needed for booking flows: an actor that answers nothing.
    clinic = caf::actor_cast<actors::clinic_actor>(parent);
    conversation = watch(actors::spawn_conversation(sys, node, db->profile, clinic, ids::clinic, "conv-a", fresh));
    self->monitor(conversation);
  }

  void send(actors::stored_message m) {
    self->send(conversation, actors::process_atom::value, std::move(m));
    run();
  }

  /// Sends through the real clinic actor, as the router does (spawning the conversation).
  void via_clinic(actors::stored_message m) {
    self->send(clinic, actors::process_atom::value, std::move(m));
    run();
  }

  bool stopped() {
    if (!has_mail())
      return false;
    bool down = false;
    self->receive([&](caf::down_msg& m) { down = m.source == conversation.address(); });
    return down;
  }
};

} // namespace

TEST_CASE("conversation actor: one reply per message, a duplicate dropped", "[actors][conversation]") {
  conversation_fixture f;
  f.spawn_alone(true);
  f.send(inbound("wamid.1", "oi"));
  CHECK(f.db->count("memory") == 0); // created by the ingest: nothing to read
  REQUIRE(f.db->records.size() == 1);
  const auto& rec = f.db->records[0];
  CHECK(rec.kind == actors::reply_record::cause_kind::reply);
  CHECK(rec.clinic_id == ids::clinic);
  CHECK(rec.conversation_id == "conv-a");
  CHECK(rec.cause_id == "msg-wamid.1");
  CHECK(rec.correlation_id == "wamid.1");
  CHECK(rec.recipient == "5511999990001");
  CHECK(rec.intent == "greeting");
  REQUIRE(rec.has_reply);
  CHECK(rec.reply.text.find("Sofia") != std::string::npos); // the clinic's own greeting
  CHECK_FALSE(rec.rendered.empty());                          // the channel's body, rendered once

  // Meta delivers the same message again: no second answer.
  f.send(inbound("wamid.1", "oi"));
  CHECK(f.db->records.size() == 1);
  // Found unanswered by the sweep (a redelivery): answered.
  auto again = inbound("wamid.1", "oi");
  again.redelivery = true;
  f.send(again);
  CHECK(f.db->records.size() == 2);
}

TEST_CASE("conversation actor: woken up, it reads its memory before answering", "[actors][conversation]") {
  conversation_fixture f;
  f.db->memory.known_contact = true;
  f.db->memory.memory = {{"in", "oi"}, {"out", "Olá!"}};
  f.db->memory.recent_external_ids = {"wamid.0"};
  f.spawn_alone(false);
  // The message arrives before the memory: it waits for it.
  f.self->send(f.conversation, actors::process_atom::value, inbound("wamid.0", "oi"));
  f.self->send(f.conversation, actors::process_atom::value, inbound("wamid.1", "oi"));
  f.run();
  CHECK(f.db->count("memory") == 1);
  // wamid.0 was answered before the actor stopped: only wamid.1 gets a reply.
  REQUIRE(f.db->records.size() == 1);
  CHECK(f.db->records[0].cause_id == "msg-wamid.1");
  auto state = nlohmann::json::parse(f.ask<std::string>(f.conversation, actors::inspect_atom::value));
  CHECK(state["loaded"] == true);
  CHECK(state["memory"].size() == 4);
}

TEST_CASE("conversation actor: booking by chat through the clinic and its flow", "[actors][conversation][flow]") {
  conversation_fixture f;
  f.clinic = f.watch(actors::spawn_clinic(f.sys, f.node, caf::actor_cast<actors::router_actor>(f.parent), ids::clinic));
  f.run();
  auto first = inbound("wamid.1", "quero marcar uma consulta");
  first.new_conversation = true;
  f.via_clinic(first);
  REQUIRE(f.db->records.size() == 1);
  CHECK(f.db->records[0].intent == "book");
  CHECK(flow_step(f.db->records[0]) == "service_selection");
  CHECK(f.db->records[0].state_changed); // the open flow is written with the reply

  f.via_clinic(inbound("wamid.2", "Cardiologia", "service:" + ids::cardio));
  REQUIRE(f.db->records.size() == 2);
  CHECK(flow_step(f.db->records[1]) == "date_time");
  auto offered = choice_ids(f.db->records[1]);
  REQUIRE_FALSE(offered.empty());

  f.via_clinic(inbound("wamid.3", "seg 23/11 · 10:00", offered.front()));
  REQUIRE(f.db->records.size() == 3);
  CHECK(flow_step(f.db->records[2]) == "confirmation");
  CHECK(choice_ids(f.db->records[2]) == std::vector<std::string>{"confirm", "other_time", "cancel"});
  auto clinic_state =
    nlohmann::json::parse(f.ask<std::string>(f.clinic, actors::inspect_atom::value));
  CHECK(clinic_state["holds"] == 1); // the clinic holds the time while the patient confirms
  CHECK(clinic_state["flows"] == 1);

  f.via_clinic(inbound("wamid.4", "Confirmar", "confirm"));
  CHECK(f.db->count("book") == 1);
  REQUIRE(f.db->agenda.appointments.size() == 1); // the stub's row
  CHECK(f.db->agenda.appointments[0].conversation_id == "conv-a");
  REQUIRE(f.db->records.size() == 4);
  CHECK(f.db->records[3].reply.text.find("Cardiologia") != std::string::npos);
  CHECK(f.db->records[3].state.flow.is_null()); // the flow is over
  clinic_state = nlohmann::json::parse(f.ask<std::string>(f.clinic, actors::inspect_atom::value));
  CHECK(clinic_state["holds"] == 0);
  CHECK(clinic_state["flows"] == 0);
  CHECK(clinic_state["bookings"] == 1);
}

TEST_CASE("conversation actor: an idle conversation stops by the clock", "[actors][conversation]") {
  conversation_fixture f;
  f.spawn_alone(true);
  f.send(inbound("wamid.1", "oi"));
  // conversation.idle_timeout_s is 600 by default.
  f.advance(std::chrono::seconds{599});
  CHECK_FALSE(f.stopped());
  f.advance(std::chrono::seconds{2});
  CHECK(f.stopped());
}
