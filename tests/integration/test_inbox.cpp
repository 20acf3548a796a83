// The staff inbox (issue 8): a running node, the fake Graph API, the real PostgreSQL.
// Staff replies go out through the outbox and the sender and are stored with the staff
// user; a release gives the conversation back to the assistant; listings filter and page.

#include <catch2/catch.hpp>

#include <thread>

#include "support/admin_node.hpp"

using namespace atendeai::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string conversations_url(const std::string& clinic, const std::string& rest = "") {
  return "/api/v1/clinics/" + clinic + "/conversations" + rest;
}

} // namespace

TEST_CASE("A staff reply goes out through the Graph API, is stored with the staff user, audited and remembered",
          "[inbox]") {
  admin_node n;
  const std::string patient = "5511970000001";
  n.say(patient, "oi");
  auto cid = n.conversation_of(patient);
  REQUIRE(!cid.empty());
  auto [attendant_id, attendant] = n.user("attendant");

  const std::string text = "Olá! Aqui é a Marina, da recepção.\nPosso ajudar com o seu convênio?";
  auto r = http_post(n.url(conversations_url(demo::clinic_id, "/" + cid + "/messages")), json{{"text", text}}.dump(),
                     bearer_header(attendant));
  INFO(r.body);
  REQUIRE(r.status == 201);
  auto message_id = r.json()["id"].get<std::string>();
  CHECK(r.json()["staff_user_id"] == attendant_id);

  // Delivered to the patient through the Graph API with the channel's token.
  REQUIRE(eventually([&] { return sent_to(n.graph, patient).size() == 2; }, 30s));
  CHECK(text_of(sent_to(n.graph, patient).back()) == text);
  CHECK(n.graph.calls().back().second == "Bearer test-token");
  // Stored as an outbound message of the staff user, its outbox row sent.
  CHECK(n.scalar("SELECT direction || ' ' || staff_user_id || ' ' || (body = " +
                 std::string("'Olá! Aqui é a Marina, da recepção.' || chr(10) || 'Posso ajudar com o seu convênio?'") +
                 ") FROM atendeai.messages WHERE id = '" + message_id + "'") == "out " + attendant_id + " true");
  REQUIRE(eventually([&] {
    return n.scalar("SELECT status FROM atendeai.outbox WHERE message_id = '" + message_id + "'") == "sent";
  }));
  // Audited in the same transaction, by whom and on what.
  CHECK(n.scalar("SELECT actor_user_id || ' ' || target_id || ' ' || (after ->> 'handoff') FROM atendeai.audit_log "
                 "WHERE action = 'conversation.reply'") == attendant_id + " " + cid + " true");
  // The conversation is now with the staff: stored as a hand-over, listed with the staff message.
  CHECK(n.scalar("SELECT status FROM atendeai.conversations WHERE id = '" + cid + "'") == "handoff");
  auto messages = http_get(n.url(conversations_url(demo::clinic_id, "/" + cid + "/messages")), bearer_header(attendant));
  REQUIRE(messages.status == 200);
  CHECK(messages.json()["items"][0]["id"] == message_id);
  CHECK(messages.json()["items"][0]["staff_user_id"] == attendant_id);
  CHECK(messages.json()["items"][0]["text"] == text);
  // The live conversation actor remembers it.
  auto [admin_id, admin] = n.user("clinic_admin");
  auto live = http_get(n.url("/api/v1/admin/conversations/" + cid), bearer_header(admin));
  REQUIRE(live.status == 200);
  CHECK(live.json()["live"] == true);
  CHECK(live.json()["memory"].back() == json{{"direction", "out"}, {"text", text}});
  CHECK(live.json()["handoff"] == true);
  // And the assistant stays silent while the staff has it.
  n.say_unanswered(patient, "obrigado, aguardo");
}

TEST_CASE("Staff replies refuse bad bodies, other clinics and other roles", "[inbox]") {
  admin_node n;
  const std::string patient = "5511970000002";
  n.say(patient, "oi");
  auto cid = n.conversation_of(patient);
  auto [attendant_id, attendant] = n.user("attendant");
  auto [pro_id, professional] = n.user("professional");
  auto post = [&](const std::string& clinic, const std::string& conversation, const std::string& body,
                  const std::string& token) {
    return http_post(n.url(conversations_url(clinic, "/" + conversation + "/messages")), body,
                     bearer_header(token));
  };
  auto field_of = [](const http_response& r) { return r.json()["error"].value("field", ""); };

  auto empty = post(demo::clinic_id, cid, R"({"text":"  "})", attendant);
  CHECK(empty.status == 422);
  CHECK(field_of(empty) == "text");
  auto missing = post(demo::clinic_id, cid, R"({})", attendant);
  CHECK(missing.status == 422);
  CHECK(field_of(missing) == "text");
  auto typo = post(demo::clinic_id, cid, R"({"txt":"oi"})", attendant);
  CHECK(typo.status == 422);
  CHECK(field_of(typo) == "txt");
  auto number = post(demo::clinic_id, cid, R"({"text":5})", attendant);
  CHECK(number.status == 422);
  CHECK(field_of(number) == "text");
  auto huge = post(demo::clinic_id, cid, json{{"text", std::string(5000, 'a')}}.dump(), attendant);
  CHECK(huge.status == 422);
  CHECK(post(demo::clinic_id, cid, "{", attendant).status == 400);
  // Unknown and malformed conversation ids, another clinic, a role without the inbox.
  CHECK(post(demo::clinic_id, "99999999-9999-4999-8999-999999999999", R"({"text":"oi"})", attendant).status == 404);
  CHECK(post(demo::clinic_id, "not-a-uuid", R"({"text":"oi"})", attendant).status == 404);
  auto clinic_b = n.other_clinic();
  auto [b_id, b_attendant] = n.user("attendant", clinic_b);
  CHECK(post(demo::clinic_id, cid, R"({"text":"oi"})", b_attendant).status == 404);
  CHECK(post(clinic_b, cid, R"({"text":"oi"})", b_attendant).status == 404);
  CHECK(http_get(n.url(conversations_url(clinic_b, "/" + cid)), bearer_header(b_attendant)).status == 404);
  auto forbidden = post(demo::clinic_id, cid, R"({"text":"oi"})", professional);
  CHECK(forbidden.status == 403);
  // Nothing was sent or stored.
  CHECK(sent_to(n.graph, patient).size() == 1);
  CHECK(n.scalar("SELECT count(*) FROM atendeai.messages WHERE staff_user_id IS NOT NULL") == "0");
  CHECK(n.scalar("SELECT count(*) FROM atendeai.audit_log WHERE action LIKE 'conversation.%'") == "0");
}

TEST_CASE("Release ends the hand-over (audited) and the assistant answers the next message", "[inbox]") {
  admin_node n;
  const std::string patient = "5511970000003";
  CHECK(contains_text(n.say(patient, "quero falar com uma pessoa"), "alguém vai continuar a conversa"));
  auto cid = n.conversation_of(patient);
  CHECK(n.scalar("SELECT status FROM atendeai.conversations WHERE id = '" + cid + "'") == "handoff");
  n.say_unanswered(patient, "alguém aí?");
  auto [attendant_id, attendant] = n.user("attendant");

  auto listed = http_get(n.url(conversations_url(demo::clinic_id, "?handoff=true")), bearer_header(attendant));
  REQUIRE(listed.status == 200);
  REQUIRE(listed.json()["items"].size() == 1);
  CHECK(listed.json()["items"][0]["id"] == cid);

  auto released = http_post(n.url(conversations_url(demo::clinic_id, "/" + cid + "/release")), "",
                            bearer_header(attendant));
  INFO(released.body);
  REQUIRE(released.status == 200);
  CHECK(released.json()["handoff"] == false);
  CHECK(n.scalar("SELECT status FROM atendeai.conversations WHERE id = '" + cid + "'") == "open");
  CHECK(n.scalar("SELECT state ->> 'handoff' FROM atendeai.conversation_memory WHERE conversation_id = '" + cid + "'")
        == "false");
  CHECK(n.scalar("SELECT actor_user_id || ' ' || (before ->> 'handoff') || ' ' || (after ->> 'handoff') "
                 "FROM atendeai.audit_log WHERE action = 'conversation.release' AND target_id = '" + cid + "'")
        == attendant_id + " true false");
  // Releasing again: nothing to release.
  auto again = http_post(n.url(conversations_url(demo::clinic_id, "/" + cid + "/release")), "{}",
                         bearer_header(attendant));
  CHECK(again.status == 409);
  CHECK(again.json()["error"]["code"] == "conflict");
  CHECK(n.scalar("SELECT count(*) FROM atendeai.audit_log WHERE action = 'conversation.release'") == "1");

  // The assistant is back.
  CHECK(contains_text(n.say(patient, "qual o endereço de vocês?"), "Rua Exemplo"));
}

TEST_CASE("The inbox lists conversations by hand-over and recent activity, and pages messages newest first",
          "[inbox]") {
  admin_node n;
  n.say("5511970000011", "oi");
  n.say("5511970000012", "qual o horário de vocês?");
  n.say("5511970000013", "quero falar com uma pessoa");
  const std::vector<std::string> questions = {"qual o horário de funcionamento?", "qual o endereço?",
                                              "quais serviços vocês têm?"};
  for (auto& q : questions)
    n.say("5511970000011", q);
  auto [id, attendant] = n.user("attendant");
  auto get = [&](const std::string& rest) {
    return http_get(n.url(conversations_url(demo::clinic_id, rest)), bearer_header(attendant));
  };

  // Most recent activity first (the activity is written behind the reply: wait for it);
  // the staff sees the patient's number and stored name.
  http_response all;
  CHECK(eventually([&] {
    all = get("");
    return all.status == 200 && all.json()["items"][0]["contact"]["phone"] == "5511970000011";
  }, 10s));
  REQUIRE(all.status == 200);
  CHECK(all.json()["total"] == 3);
  CHECK(all.json()["items"][0]["contact"]["phone"] == "5511970000011");
  CHECK(all.json()["items"][0]["contact"]["name"] == "Paciente");
  auto handoff = get("?handoff=true").json();
  REQUIRE(handoff["items"].size() == 1);
  CHECK(handoff["items"][0]["contact"]["phone"] == "5511970000013");
  CHECK(handoff["items"][0]["handoff"] == true);
  CHECK(get("?handoff=false").json()["total"] == 2);
  CHECK(get("?since=2000-01-01T00%3A00%3A00Z").json()["total"] == 3);
  CHECK(get("?since=2999-01-01").json()["total"] == 0);
  auto page1 = get("?per_page=2").json();
  auto page2 = get("?per_page=2&page=2").json();
  CHECK(page1["items"].size() == 2);
  CHECK(page2["items"].size() == 1);
  CHECK(page2["items"][0]["id"] != page1["items"][0]["id"]);
  CHECK(page2["items"][0]["id"] != page1["items"][1]["id"]);
  for (auto q : {"?handoff=maybe", "?since=yesterday", "?since=2026-02-30", "?per_page=0", "?color=red"}) {
    auto bad = get(q);
    INFO(q << " → " << bad.body);
    CHECK(bad.status == 422);
  }
  CHECK(get("?handoff=maybe").json()["error"]["field"] == "handoff");
  CHECK(get("?since=2026-02-30").json()["error"]["field"] == "since");

  // One conversation: 4 inbound and 4 replies, read 3 at a time newest first by cursor.
  auto cid = n.conversation_of("5511970000011");
  auto one = get("/" + cid);
  REQUIRE(one.status == 200);
  CHECK(one.json()["contact"]["phone"] == "5511970000011");
  CHECK(one.json()["state"].is_object());
  std::vector<json> seen;
  std::string before;
  for (int guard = 0; guard < 5; ++guard) {
    auto page = get("/" + cid + "/messages?per_page=3" + (before.empty() ? "" : "&before=" + before));
    REQUIRE(page.status == 200);
    auto body = page.json();
    for (auto& m : body["items"])
      seen.push_back(m);
    if (body["next_before"].is_null())
      break;
    before = body["next_before"];
  }
  REQUIRE(seen.size() == 8);
  CHECK(seen.front()["direction"] == "out");
  CHECK(seen[1]["text"] == questions[2]);
  CHECK(seen.back()["text"] == "oi");
  for (size_t i = 1; i < seen.size(); ++i)
    CHECK(seen[i - 1]["created_at"].get<std::string>() >= seen[i]["created_at"].get<std::string>());
  CHECK(get("/" + cid + "/messages?before=nope").status == 422);
  CHECK(get("/" + cid + "/messages?per_page=2&page=2").json()["items"][1]["text"] == questions[1]);
}
