// Live inspection and supervision (issue 8): a running node, the fake Graph API, the real
// PostgreSQL. What the inspection routes show, who may see it, passivation and
// rehydration, and crashes (the test hook of ATENDEAI_TEST_HOOKS builds) with their
// restarts and escalation.

#include <catch2/catch.hpp>

#include <thread>

#include "support/admin_node.hpp"

using namespace atendeai::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

/// The memory entries a conversation must hold after these exchanges, oldest first.
json memory_of(const std::vector<std::pair<std::string, std::string>>& exchanges) {
  auto out = json::array();
  for (auto& [in, reply] : exchanges) {
    out.push_back({{"direction", "in"}, {"text", in}});
    out.push_back({{"direction", "out"}, {"text", reply}});
  }
  return out;
}

json get_json(const admin_node& n, const std::string& path, const std::string& token, long expect = 200) {
  auto r = http_get(n.url(path), bearer_header(token));
  INFO(path << " → " << r.status << " " << r.body);
  REQUIRE(r.status == expect);
  return r.json();
}

const char* crash_marker = "#test-crash#";

} // namespace

TEST_CASE("Inspection shows the node, actor totals, a clinic's live actors, a conversation and its flow",
          "[inspect]") {
  const auto test_started = std::chrono::steady_clock::now();
  admin_node n;
  const std::string patient = "5511960000001";
  std::vector<std::pair<std::string, std::string>> exchanges;
  for (auto text : {"oi", "quero marcar uma consulta"})
    exchanges.emplace_back(text, n.say(patient, text));
  auto cid = n.conversation_of(patient);
  auto super = n.super_token();

  auto nodes = get_json(n, "/api/v1/admin/nodes", super);
  REQUIRE(nodes["nodes"].size() == 1);
  auto node = nodes["nodes"][0];
  CHECK(node["id"] == "n1");
  CHECK(node["address"] == "127.0.0.1:" + std::to_string(n.node->port()));
  // The node started within this test: its uptime is at most the test's age so far.
  const auto test_age_s =
    std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - test_started).count();
  REQUIRE(node["uptime_s"].is_number_integer());
  CHECK(node["uptime_s"].get<int64_t>() >= 0);
  CHECK(node["uptime_s"].get<int64_t>() <= test_age_s + 1);
  CHECK(node["clinics_owned"] == json::array({demo::clinic_id}));
  CHECK(node["actors"]["clinic"] == 1);
  CHECK(node["actors"]["conversation"] == 1);
  CHECK(node["actors"]["appointment_flow"] == 1);

  auto actors = get_json(n, "/api/v1/admin/actors", super);
  CHECK(actors["counts"]["conversation"] == 1);
  // Every reply was delivered before this: nothing waits in any mailbox but a stray timer.
  REQUIRE(actors["mailbox_total"].is_number_integer());
  CHECK(actors["mailbox_total"].get<int64_t>() <= 2);
  CHECK(actors["busy"] == 0);
  CHECK(actors["restarts"]["conversation"] == 0);

  auto clinic = get_json(n, "/api/v1/admin/clinics/" + demo::clinic_id + "/actors", super);
  CHECK(clinic["clinic"]["status"] == "ready");
  REQUIRE(clinic["conversations"].size() == 1);
  CHECK(clinic["conversations"][0]["id"] == cid);
  CHECK(clinic["conversations"][0]["mailbox"].is_number());
  CHECK(clinic["conversations"][0]["last_activity_ms"].get<int64_t>() > 0);
  REQUIRE(clinic["flows"].size() == 1);
  CHECK(clinic["flows"][0]["id"] == cid);

  // The conversation's memory is exactly what was said, in order; the flow is open.
  auto conversation = get_json(n, "/api/v1/admin/conversations/" + cid, super);
  CHECK(conversation["live"] == true);
  CHECK(conversation["node"] == "n1");
  CHECK(conversation["memory"] == memory_of(exchanges));
  CHECK(conversation["handoff"] == false);
  REQUIRE(conversation["flow"].is_object());
  auto flow = get_json(n, "/api/v1/admin/flows/" + cid, super);
  CHECK(flow["live"] == true);
  CHECK(flow["state"]["step"] == conversation["flow"]["step"]);
  CHECK(flow["clinic_id"] == demo::clinic_id);

  // Tenants and roles: the clinic's own admin sees it; another clinic's admin gets 404;
  // attendants and clinic admins may not see the node-wide routes.
  auto [admin_id, admin] = n.user("clinic_admin");
  CHECK(get_json(n, "/api/v1/admin/conversations/" + cid, admin)["memory"] == memory_of(exchanges));
  get_json(n, "/api/v1/admin/flows/" + cid, admin);
  get_json(n, "/api/v1/admin/clinics/" + demo::clinic_id + "/actors", admin);
  auto clinic_b = n.other_clinic();
  auto [b_id, b_admin] = n.user("clinic_admin", clinic_b);
  get_json(n, "/api/v1/admin/conversations/" + cid, b_admin, 404);
  get_json(n, "/api/v1/admin/flows/" + cid, b_admin, 404);
  get_json(n, "/api/v1/admin/clinics/" + demo::clinic_id + "/actors", b_admin, 404);
  auto b_view = get_json(n, "/api/v1/admin/clinics/" + clinic_b + "/actors", b_admin);
  CHECK(b_view["clinic"]["live"] == false);
  CHECK(b_view["conversations"].empty());
  auto [attendant_id, attendant] = n.user("attendant");
  for (auto path : {"/api/v1/admin/nodes", "/api/v1/admin/actors"}) {
    CHECK(get_json(n, path, attendant, 403)["error"]["code"] == "forbidden");
    get_json(n, path, admin, 403);
  }
  get_json(n, "/api/v1/admin/conversations/" + cid, attendant, 403);
  get_json(n, "/api/v1/admin/flows/" + cid, attendant, 403);
  get_json(n, "/api/v1/admin/conversations/99999999-9999-4999-8999-999999999999", super, 404);
  get_json(n, "/api/v1/admin/flows/not-an-id", super, 404);
  // A conversation without a booking has no flow.
  n.say("5511960000002", "qual o endereço?");
  get_json(n, "/api/v1/admin/flows/" + n.conversation_of("5511960000002"), super, 404);
}

TEST_CASE("A busy actor is reported busy instead of holding the inspection", "[inspect][busy]") {
  admin_node n(node_settings{{"ATENDEAI_TEST_STALL_MARKER", "#test-stall#"}});
  const std::string patient = "5511960000005";
  n.say(patient, "oi");
  auto cid = n.conversation_of(patient);
  auto super = n.super_token();
  // The conversation stays busy for 5 s with this message (test hook), then answers it.
  auto r = post_webhook(*n.node, webhook_body({{patient, "wamid.stall-1", "qual o endereço? #test-stall#"}}));
  REQUIRE(r.status == 200);
  // The stored message reaches the actor: from then on (5 s) it is reported busy, at once.
  json one;
  REQUIRE(eventually([&] {
    one = get_json(n, "/api/v1/admin/conversations/" + cid, super);
    return one["status"] == "busy";
  }, 4s));
  CHECK(one["live"] == true);
  auto clinic = get_json(n, "/api/v1/admin/clinics/" + demo::clinic_id + "/actors", super);
  REQUIRE(clinic["conversations"].size() == 1);
  CHECK(clinic["conversations"][0]["status"] == "busy");
  CHECK(clinic["conversations"][0]["id"] == cid);
  // Once free, it answers the message and inspects normally again.
  REQUIRE(eventually([&] { return sent_to(n.graph, patient).size() == 2; }, 60s));
  CHECK(contains_text(text_of(sent_to(n.graph, patient).back()), "Rua Exemplo"));
  auto after = get_json(n, "/api/v1/admin/conversations/" + cid, super);
  CHECK(after["status"] == "ready");
  CHECK(after["memory"].back()["text"] == text_of(sent_to(n.graph, patient).back()));
}

TEST_CASE("Passivation then rehydration give the same inspected memory", "[inspect][passivation]") {
  admin_node n(node_settings{{"ATENDEAI_CONVERSATION_IDLE_TIMEOUT_S", "3"}});
  const std::string patient = "5511960000010";
  std::vector<std::pair<std::string, std::string>> exchanges;
  for (auto text : {"oi", "qual o horário de funcionamento?", "quero marcar uma consulta"})
    exchanges.emplace_back(text, n.say(patient, text));
  auto cid = n.conversation_of(patient);
  auto super = n.super_token();
  auto live = get_json(n, "/api/v1/admin/conversations/" + cid, super);
  REQUIRE(live["live"] == true);
  CHECK(live["memory"] == memory_of(exchanges));

  // Idle past the timeout: the actor stops; the stored state inspects the same.
  json stored;
  REQUIRE(eventually([&] {
    stored = get_json(n, "/api/v1/admin/conversations/" + cid, super);
    return stored["live"] == false;
  }, 60s));
  CHECK(stored["memory"] == live["memory"]);
  CHECK(stored["state"] == live["state"]);
  CHECK(stored["flow"] == live["flow"]);
  CHECK(n.metric("atendeai_actors_live{kind=\"conversation\"}") == 0);
  CHECK(n.metric("atendeai_actors_passivated_total{kind=\"conversation\"}") >= 1);
  auto flow = get_json(n, "/api/v1/admin/flows/" + cid, super);
  CHECK(flow["state"]["step"] == live["flow"]["step"]);

  // The next message re-creates it with the same memory, and the flow goes on.
  auto reply = n.say(patient, "cardiologia");
  CHECK(contains_text(reply, "Cardiologia"));
  exchanges.emplace_back("cardiologia", reply);
  auto again = get_json(n, "/api/v1/admin/conversations/" + cid, super);
  CHECK(again["live"] == true);
  CHECK(again["memory"] == memory_of(exchanges));
  CHECK(n.metric("atendeai_actors_live{kind=\"conversation\"}") == 1);
}

TEST_CASE("A conversation crashed mid-flow comes back with the same memory and flow, and its message is answered",
          "[inspect][supervision]") {
  admin_node n(node_settings{{"ATENDEAI_TEST_CRASH_MARKER", crash_marker}});
  const std::string patient = "5511960000020";
  std::vector<std::pair<std::string, std::string>> exchanges;
  exchanges.emplace_back("quero marcar uma consulta", n.say(patient, "quero marcar uma consulta"));
  auto cid = n.conversation_of(patient);
  auto super = n.super_token();
  auto before = get_json(n, "/api/v1/admin/conversations/" + cid, super);
  REQUIRE(before["flow"].is_object());

  // This message kills the actor while it handles it; the clinic restarts it and hands
  // it the message again from PostgreSQL: answered once.
  const std::string killer = std::string("oi ") + crash_marker;
  exchanges.emplace_back(killer, n.say(patient, killer));
  CHECK(contains_text(n.node->output(), "actor_crashed"));
  CHECK(n.metric("atendeai_actors_restarted_total{kind=\"conversation\"}") == 1);
  CHECK(n.scalar("SELECT count(*) FROM atendeai.outbox") == "2");

  auto after = get_json(n, "/api/v1/admin/conversations/" + cid, super);
  CHECK(after["live"] == true);
  CHECK(after["memory"] == memory_of(exchanges));
  CHECK(after["flow"]["step"] == before["flow"]["step"]);
  CHECK(after["flow"]["hold_owner"] == before["flow"]["hold_owner"]);
  // The patient's next message continues the same booking.
  CHECK(contains_text(n.say(patient, "cardiologia"), "Cardiologia"));
  CHECK(n.metric("atendeai_actors_restarted_total{kind=\"clinic\"}") == 0);
}

TEST_CASE("Crashes past supervision.max_restarts escalate to the clinic, which is restarted and answers",
          "[inspect][supervision]") {
  admin_node n(node_settings{{"ATENDEAI_TEST_CRASH_MARKER", crash_marker},
                {"ATENDEAI_SUPERVISION_MAX_RESTARTS", "1"},
                {"ATENDEAI_SUPERVISION_WINDOW_SECONDS", "600"}});
  const std::string killer = std::string("oi ") + crash_marker;
  // First crash: within the intensity; the conversation is restarted.
  CHECK(contains_text(n.say("5511960000031", killer), "posso ajudar?")); // the greeting, answered after all
  CHECK(n.metric("atendeai_actors_restarted_total{kind=\"clinic\"}") == 0);
  // Second crash inside the window: the clinic gives up, the router restarts it, and the
  // fresh clinic replays the message that killed the conversation.
  CHECK(contains_text(n.say("5511960000032", killer), "posso ajudar?"));
  CHECK(n.metric("atendeai_actors_restarted_total{kind=\"conversation\"}") == 2);
  CHECK(n.metric("atendeai_actors_restarted_total{kind=\"clinic\"}") == 1);
  CHECK(contains_text(n.node->output(), "supervisor_escalates"));
  CHECK(n.scalar("SELECT count(*) FROM atendeai.messages WHERE direction = 'in' AND answered_at IS NULL") == "0");
  CHECK(n.scalar("SELECT count(*) FROM atendeai.outbox") == "2");
  // The restarted clinic serves as before, and the node is still up.
  CHECK(contains_text(n.say("5511960000033", "qual o endereço?"), "Rua Exemplo"));
  auto node = get_json(n, "/api/v1/admin/nodes", n.super_token())["nodes"][0];
  CHECK(node["actors"]["clinic"] == 1);
  CHECK(http_get(n.url("/health")).status == 200);
}

TEST_CASE("Past the root's restart intensity the node exits non-zero, and answers after its restart",
          "[inspect][supervision]") {
  admin_node n(node_settings{{"ATENDEAI_TEST_CRASH_MARKER", crash_marker},
                {"ATENDEAI_SUPERVISION_MAX_RESTARTS", "0"},
                {"ATENDEAI_SUPERVISION_WINDOW_SECONDS", "600"}});
  const std::string patient = "5511960000040";
  auto r = post_webhook(*n.node, webhook_body({{patient, "wamid.root-1", std::string("oi ") + crash_marker}}));
  REQUIRE(r.status == 200);
  // The conversation crashes, the clinic escalates at once, and so does the router.
  auto code = n.node->wait_exit(60s);
  INFO(n.node->output());
  CHECK(code == 3);
  CHECK(contains_text(n.node->output(), "node_gives_up"));
  // The message was acknowledged, so it is durable; the restarted node answers it.
  CHECK(n.scalar("SELECT count(*) FROM atendeai.messages WHERE external_id = 'wamid.root-1'") == "1");
  n.start();
  REQUIRE(eventually([&] { return sent_to(n.graph, patient).size() == 1; }, 60s));
  CHECK(n.scalar("SELECT count(*) FROM atendeai.outbox") == "1");
}

TEST_CASE("The root supervisor restarts a crashed ingest writer, sender and router in place, losing nothing",
          "[inspect][supervision][root]") {
  admin_node n(node_settings{{"ATENDEAI_TEST_CRASH_WRITER_MARKER", "#crash-writer#"},
                {"ATENDEAI_TEST_CRASH_SENDER_MARKER", "#crash-sender#"},
                {"ATENDEAI_TEST_CRASH_ROUTER_MARKER", "#crash-router#"}});
  auto restarted = [&](const std::string& kind) {
    return n.metric("atendeai_actors_restarted_total{kind=\"" + kind + "\"}");
  };
  CHECK(restarted("ingest_writer") == 0);

  // An ingest writer dies with the webhook in its batch: not acknowledged (503), nothing
  // stored; Meta's retry of the same body reaches the writer that took its place.
  const std::string writer_patient = "5511960000050";
  auto body = webhook_body({{writer_patient, "wamid.root-writer", "oi #crash-writer#"}});
  CHECK(post_webhook(*n.node, body).status == 503);
  REQUIRE(eventually([&] { return restarted("ingest_writer") == 1; }, 30s));
  CHECK(n.scalar("SELECT count(*) FROM atendeai.messages WHERE external_id = 'wamid.root-writer'") == "0");
  CHECK(post_webhook(*n.node, body).status == 200);
  REQUIRE(eventually([&] { return sent_to(n.graph, writer_patient).size() == 1; }, 30s));

  // The router dies handling a stored message (after its 200): the fresh router's sweep
  // answers it, once; its clinic went with it and is spawned again.
  const std::string router_patient = "5511960000051";
  CHECK(post_webhook(*n.node, webhook_body({{router_patient, "wamid.root-router", "oi #crash-router#"}})).status == 200);
  REQUIRE(eventually([&] { return sent_to(n.graph, router_patient).size() == 1; }, 60s));
  CHECK(restarted("router") == 1);

  // A sender dies before delivering a staff reply: its successor gets the pending row
  // from PostgreSQL and delivers it once.
  auto cid = n.conversation_of(router_patient);
  REQUIRE(!cid.empty());
  const std::string text = "Aqui é a recepção #crash-sender#";
  auto r = http_post(n.url("/api/v1/clinics/" + demo::clinic_id + "/conversations/" + cid + "/messages"),
                     json{{"text", text}}.dump(), bearer_header(n.super_token()));
  INFO(r.body);
  REQUIRE(r.status == 201);
  REQUIRE(eventually([&] { return sent_to(n.graph, router_patient).size() == 2; }, 60s));
  CHECK(text_of(sent_to(n.graph, router_patient).back()) == text);
  CHECK(restarted("sender") == 1);

  // Everything answered and delivered once, and the node serves as before.
  REQUIRE(eventually([&] { return n.scalar("SELECT count(*) FROM atendeai.outbox WHERE status = 'pending'") == "0"; },
                     30s));
  CHECK(sent_to(n.graph, router_patient).size() == 2);
  CHECK(sent_to(n.graph, writer_patient).size() == 1);
  CHECK(n.scalar("SELECT count(*) FROM atendeai.messages WHERE direction = 'in' AND answered_at IS NULL") == "0");
  CHECK(contains_text(n.say("5511960000052", "qual o endereço?"), "Rua Exemplo"));
  CHECK(contains_text(n.node->output(), "actor_restarted"));
  auto restarts = get_json(n, "/api/v1/admin/actors", n.super_token())["restarts"];
  CHECK(restarts["ingest_writer"] == 1);
  CHECK(restarts["batch_writer"] == 0);
  CHECK(restarts["router"] == 1);
  CHECK(restarts["sender"] == 1);
  CHECK(restarts["db_reader"] == 0);
  CHECK(http_get(n.url("/health")).status == 200);
}
