// The waitlist (issue 18), end to end on a test clock (Monday 2030-03-04 09:00 in São
// Paulo): patients told that nothing is free for cardiology join its waitlist by a tap or
// typed words; when staff cancel the one appointment left, the time is offered to the
// first patient with a hold and buttons; a decline, a hold that runs out and a removal by
// staff each pass it to the next patient, who books it through the agenda; another
// patient's payload changes nothing; staff list and remove entries.
#include <catch2/catch.hpp>

#include "support/clock_node.hpp"

using namespace atendeai::test;
using nlohmann::json;

namespace {

using namespace atendeai::test::demo;

/// The clock node with Dra. Ana (cardiology's only professional) away except on
/// Wednesday 2030-03-06 10:00–11:00, which staff book for a patient.
struct waitlist_node : clock_node {
  /// Every time of cardiology taken for the next 40 days but Wednesday 10:00 (booked for
  /// `first`); the appointment's id.
  std::string agenda_full(const std::string& first) {
    no_notices();
    auto aid = book(first, "2030-03-06T10:00:00-03:00");
    for (auto [from, to] : {std::pair{"2030-03-04T00:00:00-03:00", "2030-03-06T10:00:00-03:00"},
                            std::pair{"2030-03-06T11:00:00-03:00", "2030-04-15T00:00:00-03:00"}})
      call(admin, "POST", path("/professionals/" + ana + "/absences"), {{"starts_at", from}, {"ends_at", to}}, 201);
    return aid;
  }
  /// The last message the fake Graph API received for `patient`.
  json last_to(const std::string& patient) { return sent_to(graph, patient).back(); }
  /// Waits for a waitlist offer to reach `patient` (their `nth` message); its payloads.
  std::vector<std::string> offer_to(const std::string& patient, size_t nth) {
    REQUIRE(eventually([&] { return sent_to(graph, patient).size() == nth; }));
    auto m = last_to(patient);
    INFO(m.dump());
    CHECK(contains_text(text_of(m), "Abriu um horário na lista de espera"));
    CHECK(contains_text(text_of(m), "10:00"));
    auto ids = button_ids(m);
    REQUIRE(ids.size() == 2);
    CHECK(ids[0].rfind("waitlist:accept:", 0) == 0);
    CHECK(ids[1].rfind("waitlist:decline:", 0) == 0);
    return ids;
  }
  std::string entry_status(const std::string& patient) {
    return scalar("SELECT w.status FROM atendeai.waitlist w JOIN atendeai.contacts c ON c.id = w.contact_id "
                  "WHERE c.external_id = '" + patient + "'");
  }
};

} // namespace

TEST_CASE("The waitlist: joined when nothing is free, offered in order with a hold, declined, run out, "
          "withdrawn by staff, then booked",
          "[waitlist]") {
  waitlist_node n;
  const std::string first = "5511900004001";
  const std::string b = "5511900004002", c = "5511900004003", d = "5511900004004", e = "5511900004005";
  auto aid = n.agenda_full(first);

  // Nothing free for cardiology: the waitlist is offered; a tap, "sim" and "quero" join it.
  auto asked = n.say_now(b, "quero marcar cardiologia");
  INFO(asked.dump());
  CHECK(contains_text(text_of(asked), "Quer entrar na lista de espera?"));
  CHECK(waitlist_node::button_ids(asked) == std::vector<std::string>{"confirm", "cancel"});
  CHECK(contains_text(text_of(n.tap_button(b, "confirm", "Entrar na lista")),
                      "Coloquei você na lista de espera de Cardiologia"));
  for (auto [patient, yes] : {std::pair{c, "sim"}, std::pair{d, "quero"}, std::pair{e, "pode ser"}}) {
    CHECK(contains_text(text_of(n.say_now(patient, "preciso de uma consulta de cardiologia")), "lista de espera"));
    CHECK(contains_text(text_of(n.say_now(patient, yes)), "Coloquei você na lista de espera"));
  }
  // Joining again keeps the first place.
  n.say_now(b, "quero marcar cardiologia");
  n.say_now(b, "sim");
  auto listed = n.call(n.admin, "GET", n.path("/waitlist"), json(), 200)["items"];
  REQUIRE(listed.size() == 4);
  CHECK(listed[0]["contact"]["phone"] == b);
  CHECK(listed[3]["contact"]["phone"] == e);
  CHECK(listed[0]["status"] == "waiting");
  CHECK(listed[0]["service_id"] == cardio);
  CHECK(listed[0]["offer"].is_null());
  // Someone who says no is not put on it.
  const std::string no = "5511900004006";
  n.say_now(no, "quero marcar cardiologia");
  CHECK(contains_text(text_of(n.say_now(no, "não, obrigado")), "Tudo bem"));
  CHECK(n.count("SELECT count(*) FROM atendeai.waitlist") == 4);

  // Staff cancel the one appointment: the time is offered to the first patient.
  n.call(n.admin, "POST", n.path("/appointments/" + aid + "/cancel"), {{"reason", "patient called"}}, 200);
  auto to_b = n.offer_to(b, 5);
  CHECK(n.entry_status(b) == "offered");
  auto shown = n.call(n.admin, "GET", n.path("/waitlist/" + listed[0]["id"].get<std::string>()), json(), 200);
  CHECK(shown["status"] == "offered");
  CHECK(shown["offer"]["professional_id"] == ana);
  // While it is held for B, nobody else is offered it in the chat, also after a restart
  // of the node (the hold is read back from the open offer).
  n.start();
  n.say_now(first, "quero marcar cardiologia");
  CHECK(contains_text(text_of(n.last_to(first)), "lista de espera"));
  n.say_now(first, "não");

  // B declines: C is offered it.
  CHECK(contains_text(text_of(n.tap_button(b, to_b[1], "Não posso")), "passei este horário adiante"));
  CHECK(n.entry_status(b) == "waiting");
  auto to_c = n.offer_to(c, 3);
  // A patient tapping someone else's offer changes nothing.
  auto forged = n.tap_button(b, to_c[0], "Quero este horário");
  CHECK_FALSE(contains_text(text_of(forged), "Consulta confirmada"));
  CHECK(n.entry_status(c) == "offered");

  // C stays silent past the hold (15 minutes): D is offered it.
  n.advance(std::chrono::minutes(16));
  auto to_d = n.offer_to(d, 3);
  CHECK(n.entry_status(c) == "waiting");
  // C's answer after the hold ran out is too late.
  CHECK(contains_text(text_of(n.tap_button(c, to_c[0], "Quero este horário")), "não está mais reservado"));

  // Staff remove D from the waitlist: the offer is withdrawn and E is offered it.
  auto d_id = n.scalar("SELECT w.id FROM atendeai.waitlist w JOIN atendeai.contacts c ON c.id = w.contact_id "
                       "WHERE c.external_id = '" + d + "'");
  auto removed = n.call(n.admin, "DELETE", n.path("/waitlist/" + d_id), json(), 200);
  CHECK(removed["entry"]["status"] == "removed");
  auto to_e = n.offer_to(e, 3);
  CHECK(contains_text(text_of(n.tap_button(d, to_d[0], "Quero este horário")), "não está mais reservado"));

  // E takes it: booked through the agenda like any other booking.
  auto booked = n.tap_button(e, to_e[0], "Quero este horário");
  CHECK(contains_text(text_of(booked), "Consulta confirmada: Cardiologia com a Dra. Ana Souza"));
  CHECK(n.entry_status(e) == "booked");
  CHECK(n.count("SELECT count(*) FROM atendeai.appointments a JOIN atendeai.contacts c ON c.id = a.contact_id "
                "WHERE c.external_id = '" + e + "' AND a.status = 'scheduled' AND a.starts_at = "
                "'2030-03-06T13:00:00Z'") == 1);
  CHECK(n.scalar("SELECT string_agg(state, ',' ORDER BY created_at) FROM atendeai.waitlist_offers") ==
        "declined,expired,withdrawn,accepted");
  auto waiting = n.call(n.admin, "GET", n.path("/waitlist"), json(), 200)["items"];
  REQUIRE(waiting.size() == 2); // B and C still wait for the next time
  CHECK(n.call(n.admin, "GET", n.path("/waitlist?status=booked"), json(), 200)["items"].size() == 1);
  // Counted since the restart: the offers to C, D and E.
  CHECK(n.metric("atendeai_waitlist_total{event=\"offered\"}") == 3);
  CHECK(n.metric("atendeai_waitlist_total{event=\"accepted\"}") == 1);
  CHECK(n.metric("atendeai_waitlist_total{event=\"declined\"}") == 1);
  CHECK(n.metric("atendeai_waitlist_total{event=\"expired\"}") == 1);
}

TEST_CASE("Waitlist requests are checked: an unknown status or entry, a professional cannot remove, a patient leaves",
          "[waitlist]") {
  waitlist_node n;
  auto bad = n.call(n.admin, "GET", n.path("/waitlist?status=maybe"), json(), 422);
  CHECK(bad["error"]["field"] == "status");
  n.call(n.admin, "GET", n.path("/waitlist/00000000-0000-4000-8000-000000000000"), json(), 404);
  n.call(n.admin, "DELETE", n.path("/waitlist/00000000-0000-4000-8000-000000000000"), json(), 404);
  n.call(n.admin, "GET", n.path("/waitlist/not-a-uuid"), json(), 404);
  // A professional may read the waitlist but not remove anyone from it; an attendant may.
  const std::string patient = "5511900004101";
  n.agenda_full("5511900004100");
  n.say_now(patient, "quero marcar cardiologia");
  n.say_now(patient, "sim");
  auto entry = n.scalar("SELECT id FROM atendeai.waitlist");
  // A patient may leave it in the chat (before the opt-out, whose "sair da lista" it contains).
  const std::string leaving = "5511900004102";
  n.say_now(leaving, "quero marcar cardiologia");
  n.say_now(leaving, "sim");
  CHECK(contains_text(text_of(n.say_now(leaving, "quero sair da lista de espera")), "tirei você da lista de espera"));
  CHECK(n.scalar("SELECT status || ' ' || removed_by FROM atendeai.waitlist w JOIN atendeai.contacts c "
                 "ON c.id = w.contact_id WHERE c.external_id = '" + leaving + "'") == "removed patient");
  CHECK(contains_text(text_of(n.say_now(leaving, "me tira da lista de espera")), "não está em nenhuma lista"));
  auto professional = n.user("professional").second;
  CHECK(n.call(professional, "GET", n.path("/waitlist"), json(), 200)["items"].size() == 1);
  n.call(professional, "DELETE", n.path("/waitlist/" + entry), json(), 403);
  auto attendant = n.user("attendant").second;
  CHECK(n.call(attendant, "DELETE", n.path("/waitlist/" + entry), json(), 200)["entry"]["removed_by"] ==
        "staff:" + n.scalar("SELECT id FROM atendeai.users WHERE role = 'attendant'"));
  CHECK(n.call(attendant, "GET", n.path("/waitlist"), json(), 200)["items"].empty());
  CHECK(n.scalar("SELECT action FROM atendeai.audit_log WHERE target_id = '" + entry + "'") == "waitlist.delete");
}
