// The WhatsApp webhook of a running node (PROTOCOLS.md, API.md): verification, the
// answers to bad signatures, bad JSON, unrecognised content, oversize bodies and
// unknown accounts, and one message answered end to end (local sink and Graph API).

#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "core/signature.hpp"
#include "support/chat.hpp"
#include "support/harness.hpp"

using namespace atendeai::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

/// A node on a scratch database, ready to serve.
struct running_node {
  scratch_database db;
  std::unique_ptr<node_process> node;

  explicit running_node(const node_options& o = {}) { node = serve_node(db, o); }

  long count(const std::string& sql) const { return std::stol("0" + db.scalar(sql)); }
  long inbound() const { return count("SELECT count(*) FROM atendeai.messages WHERE direction = 'in'"); }
  long outbound() const { return count("SELECT count(*) FROM atendeai.messages WHERE direction = 'out'"); }
  long outbox() const { return count("SELECT count(*) FROM atendeai.outbox"); }

  /// Lines of the local sink (replies delivered without an access token).
  std::vector<json> sink() const {
    std::vector<json> out;
    std::ifstream in(env_or("ATENDEAI_TEST_VAR_DIR", "/tmp") + "/sink-" + db.name() + ".jsonl");
    for (std::string line; std::getline(in, line);)
      if (!line.empty())
        out.push_back(json::parse(line, nullptr, false));
    return out;
  }
};

http_response post_raw(const node_process& node, const std::string& body,
                       const std::map<std::string, std::string>& headers) {
  return http_post(node.url("/webhooks/whatsapp"), body, headers);
}

std::string error_field(const http_response& r) {
  auto j = r.json();
  if (j.is_discarded() || !j.contains("error") || !j["error"].contains("field"))
    return "<none>";
  return j["error"]["field"].get<std::string>();
}

std::string error_code(const http_response& r) {
  auto j = r.json();
  if (j.is_discarded() || !j.contains("error") || !j["error"].contains("code"))
    return "<none>";
  return j["error"]["code"].get<std::string>();
}

std::string verify_url(const node_process& node, const std::string& query) {
  return node.url("/webhooks/whatsapp?" + query);
}

/// An envelope around one change value for the demo clinic's number.
std::string body_with_value(const json& value) {
  return json{{"object", "whatsapp_business_account"},
              {"entry", {{{"id", "waba-1"}, {"changes", {{{"field", "messages"}, {"value", value}}}}}}}}
    .dump();
}

} // namespace

TEST_CASE("GET verification answers the challenge only to our verify token", "[whatsapp][webhook]") {
  running_node n;
  auto ok = http_get(verify_url(*n.node, "hub.mode=subscribe&hub.verify_token=test-verify-token&hub.challenge=1158201444"));
  CHECK(ok.status == 200);
  CHECK(ok.body == "1158201444");

  auto wrong_token = http_get(verify_url(*n.node, "hub.mode=subscribe&hub.verify_token=nope&hub.challenge=chal-xyz"));
  CHECK(wrong_token.status == 403);
  CHECK(wrong_token.body.find("chal-xyz") == std::string::npos);
  CHECK(error_field(wrong_token) == "hub.verify_token");

  auto no_token = http_get(verify_url(*n.node, "hub.mode=subscribe&hub.challenge=1"));
  CHECK(no_token.status == 403);

  auto wrong_mode = http_get(verify_url(*n.node, "hub.mode=unsubscribe&hub.verify_token=test-verify-token&hub.challenge=7"));
  CHECK(wrong_mode.status == 403);
  CHECK(error_field(wrong_mode) == "hub.mode");

  auto no_mode = http_get(verify_url(*n.node, "hub.verify_token=test-verify-token&hub.challenge=7"));
  CHECK(no_mode.status == 403);
}

TEST_CASE("Missing or wrong signatures answer 401 naming X-Hub-Signature-256, nothing stored",
          "[whatsapp][webhook]") {
  running_node n;
  auto body = webhook_body({{"5511900000001", "wamid.sig-1", "Oi"}});

  auto missing = post_raw(*n.node, body, {});
  CHECK(missing.status == 401);
  CHECK(error_code(missing) == "unauthorized");
  CHECK(error_field(missing) == "X-Hub-Signature-256");

  auto wrong_secret = post_webhook(*n.node, body, "not-the-app-secret");
  CHECK(wrong_secret.status == 401);
  CHECK(error_code(wrong_secret) == "unauthorized");
  CHECK(error_field(wrong_secret) == "X-Hub-Signature-256");

  // Signed, then the body altered: the signature is over the raw bytes.
  auto tampered = post_raw(*n.node, body + " ",
                           {{"X-Hub-Signature-256", atendeai::core::whatsapp_signature(test_app_secret, body)}});
  CHECK(tampered.status == 401);
  CHECK(error_field(tampered) == "X-Hub-Signature-256");

  auto garbage = post_raw(*n.node, body, {{"X-Hub-Signature-256", "sha256=zz"}});
  CHECK(garbage.status == 401);

  // A bad signature is refused before parsing: even invalid JSON answers 401, not 400.
  auto unsigned_bad_json = post_raw(*n.node, "{not json", {});
  CHECK(unsigned_bad_json.status == 401);

  CHECK(n.inbound() == 0);
  CHECK(n.outbox() == 0);
}

TEST_CASE("Bad JSON and bodies without object or entry answer 400 naming the field", "[whatsapp][webhook]") {
  running_node n;
  auto bad_json = post_webhook(*n.node, "{\"object\":\"whatsapp_business_account\",\"entry\":[");
  CHECK(bad_json.status == 400);
  CHECK(error_code(bad_json) == "bad_request");

  auto no_object = post_webhook(*n.node, R"({"entry":[]})");
  CHECK(no_object.status == 400);
  CHECK(error_field(no_object) == "object");

  auto no_entry = post_webhook(*n.node, R"({"object":"whatsapp_business_account"})");
  CHECK(no_entry.status == 400);
  CHECK(error_field(no_entry) == "entry");

  auto array_body = post_webhook(*n.node, "[]");
  CHECK(array_body.status == 400);
  CHECK(error_field(array_body) == "object");

  CHECK(n.inbound() == 0);
}

TEST_CASE("Signed content we do not recognise answers 200 and stores nothing", "[whatsapp][webhook]") {
  running_node n;
  std::vector<std::string> bodies = {
    R"({"object":"whatsapp_business_account","entry":[]})",
    R"({"object":"page","entry":[{"id":"1","changes":[]}]})",
    R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"account_update","value":{"event":"VERIFIED_ACCOUNT"}}]}]})",
    R"({"object":"whatsapp_business_account","entry":[{"id":"1"}]})",
    // A message without an id cannot be deduplicated: ignored.
    body_with_value({{"messaging_product", "whatsapp"},
                     {"metadata", {{"phone_number_id", demo_phone_number_id}}},
                     {"messages", {{{"from", "5511900000002"}, {"type", "text"}, {"text", {{"body", "Oi"}}}}}}}),
    // A status of a message we never sent.
    body_with_value({{"messaging_product", "whatsapp"},
                     {"metadata", {{"phone_number_id", demo_phone_number_id}}},
                     {"statuses", {{{"id", "wamid.never-sent"}, {"status", "read"}, {"recipient_id", "5511900000002"}}}}}),
  };
  for (auto& body : bodies) {
    INFO(body);
    auto r = post_webhook(*n.node, body);
    CHECK(r.status == 200);
  }
  CHECK(n.inbound() == 0);
  CHECK(n.outbound() == 0);
  CHECK(n.outbox() == 0);
  CHECK(n.count("SELECT count(*) FROM atendeai.contacts") == 0);
}

TEST_CASE("A body over 3 MB answers 413 and stores nothing", "[whatsapp][webhook]") {
  running_node n;
  // A real notification padded past 3 MB with a long text, correctly signed.
  std::string padding(3 * 1024 * 1024, 'a');
  auto body = webhook_body({{"5511900000003", "wamid.big-1", padding}});
  REQUIRE(body.size() > 3u * 1024 * 1024);
  auto r = post_webhook(*n.node, body);
  CHECK(r.status == 413);
  CHECK(error_code(r) == "payload_too_large");

  // A body just under the limit is accepted.
  std::string fits(3 * 1024 * 1024 - 2000, 'b');
  auto small = webhook_body({{"5511900000003", "wamid.big-2", fits}});
  REQUIRE(small.size() <= 3u * 1024 * 1024);
  CHECK(post_webhook(*n.node, small).status == 200);
  CHECK(n.count("SELECT count(*) FROM atendeai.messages WHERE external_id = 'wamid.big-1'") == 0);
  CHECK(n.count("SELECT count(*) FROM atendeai.messages WHERE external_id = 'wamid.big-2'") == 1);
}

TEST_CASE("An unknown phone_number_id answers 200 and stores nothing", "[whatsapp][webhook]") {
  fake_graph_api graph;
  running_node n({graph.base_url(), "test-token", {}});
  auto body = webhook_body({{"5511900000004", "wamid.unknown-1", "Oi, quero marcar uma consulta"}},
                           "no-such-phone-number-id");
  auto r = post_webhook(*n.node, body);
  CHECK(r.status == 200);
  CHECK(n.inbound() == 0);
  CHECK(n.count("SELECT count(*) FROM atendeai.contacts") == 0);
  CHECK(n.count("SELECT count(*) FROM atendeai.conversations") == 0);

  // A known message afterwards is answered, and only it.
  auto known = webhook_body({{"5511900000004", "wamid.unknown-2", "Oi"}});
  CHECK(post_webhook(*n.node, known).status == 200);
  CHECK(eventually([&] { return graph.count() >= 1; }, 30s));
  CHECK(n.inbound() == 1);
  CHECK(n.count("SELECT count(*) FROM atendeai.messages WHERE external_id = 'wamid.unknown-1'") == 0);
  CHECK(graph.count() == 1);
}

TEST_CASE("A simple message is stored before the 200 and answered once in the local sink",
          "[whatsapp][webhook]") {
  running_node n;
  auto body = webhook_body({{"5511987654321", "wamid.simple-1", "Oi, quero marcar uma consulta"}});
  auto r = post_webhook(*n.node, body);
  REQUIRE(r.status == 200);
  // The 200 is written after the commit: the row is there now, without waiting.
  CHECK(n.inbound() == 1);
  CHECK(n.db.scalar("SELECT body FROM atendeai.messages WHERE external_id = 'wamid.simple-1'")
        == "Oi, quero marcar uma consulta");
  CHECK(n.db.scalar("SELECT direction FROM atendeai.messages WHERE external_id = 'wamid.simple-1'") == "in");
  CHECK(n.db.scalar("SELECT c.external_id FROM atendeai.contacts c JOIN atendeai.conversations v "
                    "ON v.contact_id = c.id JOIN atendeai.messages m ON m.conversation_id = v.id "
                    "WHERE m.external_id = 'wamid.simple-1'")
        == "5511987654321");

  REQUIRE(eventually([&] { return n.sink().size() >= 1; }, 30s));
  REQUIRE(eventually([&] { return n.count("SELECT count(*) FROM atendeai.outbox WHERE status = 'sink'") == 1; }, 30s));
  auto lines = n.sink();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["to"] == "5511987654321");
  CHECK(lines[0]["account_id"] == demo_phone_number_id);
  // The reply the message asks for: the services to choose from, as a list.
  auto text = lines[0]["message"].value("text", "");
  CHECK(text == with_privacy_notice("Claro! Qual serviço você procura?")); // a first reply
  std::vector<std::string> rows;
  for (auto& c : lines[0]["message"].value("choices", nlohmann::json::array()))
    rows.push_back(c.value("title", ""));
  CHECK(rows == std::vector<std::string>{"Cardiologia", "Clínico geral", "Dermatologia"}); // by name
  CHECK(n.outbound() == 1);
  CHECK(n.outbox() == 1);
  CHECK(n.db.scalar("SELECT body FROM atendeai.messages WHERE direction = 'out'") == text);
  CHECK(n.db.scalar("SELECT status FROM atendeai.messages WHERE direction = 'out'") == "sink");
  CHECK(n.db.scalar("SELECT answered_at IS NOT NULL FROM atendeai.messages WHERE external_id = 'wamid.simple-1'")
        == "t");
  CHECK(n.db.scalar("SELECT o.in_reply_to = m.id FROM atendeai.outbox o, atendeai.messages m "
                    "WHERE m.external_id = 'wamid.simple-1'")
        == "t");
}

TEST_CASE("A simple message is answered once through the Graph API with the Bearer token, and "
          "statuses update the reply",
          "[whatsapp][webhook]") {
  fake_graph_api graph;
  running_node n({graph.base_url(), "test-token", {}});
  auto body = webhook_body({{"5511987654321", "wamid.graph-1", "Oi, quero marcar uma consulta"}});
  REQUIRE(post_webhook(*n.node, body).status == 200);
  CHECK(n.inbound() == 1);
  REQUIRE(eventually([&] { return graph.count() >= 1; }, 30s));
  REQUIRE(eventually([&] { return n.count("SELECT count(*) FROM atendeai.outbox WHERE status = 'sent'") == 1; }, 30s));
  CHECK(graph.count() == 1);
  auto calls = graph.calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].first == "/v21.0/demo-phone-number-id/messages");
  CHECK(calls[0].second == "Bearer test-token");
  auto sent = graph.received().at(0);
  CHECK(sent["messaging_product"] == "whatsapp");
  CHECK(sent["to"] == "5511987654321");
  // The services to choose from, as a list.
  REQUIRE(sent["type"] == "interactive");
  CHECK(sent["interactive"]["type"] == "list");
  auto text = sent["interactive"]["body"]["text"].get<std::string>();
  CHECK(text == with_privacy_notice("Claro! Qual serviço você procura?")); // a first reply
  std::vector<std::string> rows;
  for (auto& section : sent["interactive"]["action"]["sections"])
    for (auto& row : section["rows"])
      rows.push_back(row.value("title", ""));
  CHECK(rows == std::vector<std::string>{"Cardiologia", "Clínico geral", "Dermatologia"}); // by name
  CHECK(n.db.scalar("SELECT body FROM atendeai.messages WHERE direction = 'out'") == text);
  CHECK(n.db.scalar("SELECT attempts FROM atendeai.outbox") == "1");
  // The wamid Meta gave the reply is recorded on the outbound message.
  CHECK(n.db.scalar("SELECT external_id FROM atendeai.messages WHERE direction = 'out'") == "wamid.fake.1");
  CHECK(n.db.scalar("SELECT status FROM atendeai.messages WHERE direction = 'out'") == "sent");
  CHECK(n.sink().empty());

  // Status updates move the reply forward, never backwards.
  auto status_body = [](const std::string& status) {
    return body_with_value({{"messaging_product", "whatsapp"},
                            {"metadata", {{"phone_number_id", demo_phone_number_id}}},
                            {"statuses",
                             {{{"id", "wamid.fake.1"}, {"status", status}, {"timestamp", "1732350100"},
                               {"recipient_id", "5511987654321"}}}}});
  };
  CHECK(post_webhook(*n.node, status_body("read")).status == 200);
  CHECK(eventually([&] { return n.db.scalar("SELECT status FROM atendeai.messages WHERE direction = 'out'") == "read"; }, 30s));
  CHECK(post_webhook(*n.node, status_body("delivered")).status == 200);
  CHECK(n.db.scalar("SELECT status FROM atendeai.messages WHERE direction = 'out'") == "read");
  CHECK(n.inbound() == 1);
  CHECK(graph.count() == 1);
}
