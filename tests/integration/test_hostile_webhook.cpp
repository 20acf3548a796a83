// Hostile webhooks against a running node (issue 26): correctly signed bodies built to
// crash or wedge it. A field nested 100,000 arrays deep in any part of a message, a NUL
// character, a timestamp of 10^30: the node stays up, answers 200 (an over-deep message
// dropped and counted; anything storable stored sanitised) and a storable message is
// answered exactly once at the fake Graph API, also when Meta retries it.

#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

#include "support/harness.hpp"
#include "support/pipeline_node.hpp"

using namespace atendeai::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

/// A node on a scratch database answering through a fake Graph API.
struct hostile_node : pipeline {
  hostile_node() { start(); }

  long stored(const std::string& wamid) const {
    return count("SELECT count(*) FROM atendeai.messages WHERE external_id = '" + wamid + "'");
  }
  /// The node answers /health (it did not die).
  bool alive() const { return http_get(node->url("/health")).status == 200; }
};

/// 100,000 nested arrays: ≈ 200 KB.
std::string deep_text() { return std::string(100'000, '[') + "1" + std::string(100'000, ']'); }

/// A text message from `from`; `extra` members are merged into the message.
json text_message(const std::string& from, const std::string& wamid, const json& text, const json& extra = json::object()) {
  json m = {{"from", from}, {"id", wamid}, {"timestamp", "1732350000"}, {"type", "text"}, {"text", text}};
  m.update(extra);
  return m;
}

/// The notification body of `messages`, every "DEEP" string replaced by deep_text().
std::string body_of(const std::vector<json>& messages) {
  auto contacts = json::array();
  for (auto& m : messages)
    contacts.push_back({{"profile", {{"name", "Paciente"}}}, {"wa_id", m.value("from", "")}});
  auto text = notification_body(messages, contacts);
  for (size_t at; (at = text.find("\"DEEP\"")) != std::string::npos;)
    text.replace(at, 6, deep_text());
  return text;
}

} // namespace

TEST_CASE("A text message with a field nested 100,000 arrays deep: 200, dropped and counted, node up, "
          "its neighbour answered once",
          "[whatsapp][webhook][hostile]") {
  hostile_node n;
  // The payload, alone.
  auto alone = body_of({text_message("5511900000101", "wamid.deep-1", {{"body", "Oi"}, {"extra", "DEEP"}})});
  REQUIRE(alone.size() > 200'000);
  auto r = post_webhook(*n.node, alone);
  CHECK(r.status == 200);
  CHECK(n.alive());
  CHECK(n.stored("wamid.deep-1") == 0);
  // Meta's retry of the same body gets the same answer: nothing left to retry.
  CHECK(post_webhook(*n.node, alone).status == 200);
  CHECK(n.alive());
  CHECK(scrape_metrics(*n.node)["atendeai_webhook_messages_total{outcome=\"dropped\"}"] == 2);

  // Beside a good message: the good one is stored before the 200 and answered once.
  auto mixed = body_of({text_message("5511900000102", "wamid.deep-2", {{"body", "Oi"}, {"extra", "DEEP"}}),
                        text_message("5511900000103", "wamid.good-1", {{"body", "Oi, quero marcar uma consulta"}})});
  CHECK(post_webhook(*n.node, mixed).status == 200);
  CHECK(n.stored("wamid.deep-2") == 0);
  CHECK(n.stored("wamid.good-1") == 1);
  CHECK(eventually([&] { return sent_to(n.graph, "5511900000103").size() >= 1; }, 30s));
  REQUIRE(quiescent(n.db)); // a second reply would have been delivered by now
  CHECK(sent_to(n.graph, "5511900000103").size() == 1);
  CHECK(sent_to(n.graph, "5511900000101").size() == 0);
  CHECK(sent_to(n.graph, "5511900000102").size() == 0);
  CHECK(n.alive());
}

TEST_CASE("Deep nesting in every part of a webhook that accepts objects never takes the node down",
          "[whatsapp][webhook][hostile]") {
  hostile_node n;
  struct variant {
    const char* where;
    std::string body;
    bool stored; ///< the message is kept (the deep part is not one we store)
  };
  auto deep_interactive = json{{"from", "5511900000111"}, {"id", "wamid.hd-interactive"}, {"timestamp", "1732350000"},
                               {"type", "interactive"},
                               {"interactive", {{"type", "button_reply"}, {"button_reply", {{"id", "DEEP"}, {"title", "Sim"}}}}}};
  auto deep_button = json{{"from", "5511900000112"}, {"id", "wamid.hd-button"}, {"timestamp", "1732350000"},
                          {"type", "button"}, {"button", {{"text", "Sim"}, {"payload", "DEEP"}}}};
  auto top_level = body_of({text_message("5511900000113", "wamid.hd-top", {{"body", "Oi"}})});
  top_level.insert(1, "\"extra\":" + deep_text() + ",");
  auto in_contacts = notification_body(
    json::array({text_message("5511900000114", "wamid.hd-contacts", {{"body", "Oi"}})}),
    json::array({json{{"profile", {{"name", "Paciente"}, {"x", "DEEP"}}}, {"wa_id", "5511900000114"}}}));
  in_contacts.replace(in_contacts.find("\"DEEP\""), 6, deep_text());
  std::vector<variant> variants = {
    {"inside text", body_of({text_message("5511900000110", "wamid.hd-text", {{"body", "Oi"}, {"x", "DEEP"}})}), false},
    {"inside an interactive reply", body_of({deep_interactive}), false},
    {"inside a button", body_of({deep_button}), false},
    {"as a sibling of text", body_of({text_message("5511900000115", "wamid.hd-sibling", {{"body", "Oi"}}, {{"x", "DEEP"}})}), true},
    {"at the top level", top_level, true},
    {"in the contacts", in_contacts, true},
  };
  for (auto& v : variants) {
    INFO(v.where);
    auto r = post_webhook(*n.node, v.body);
    CHECK(r.status == 200);
    REQUIRE(n.alive());
  }
  CHECK(n.stored("wamid.hd-text") == 0);
  CHECK(n.stored("wamid.hd-interactive") == 0);
  CHECK(n.stored("wamid.hd-button") == 0);
  CHECK(n.stored("wamid.hd-sibling") == 1);
  CHECK(n.stored("wamid.hd-top") == 1);
  CHECK(n.stored("wamid.hd-contacts") == 1);
  CHECK(scrape_metrics(*n.node)["atendeai_webhook_messages_total{outcome=\"dropped\"}"] == 3);
}

TEST_CASE("Bodies that are not a notification answer 400 naming the problem, and the node stays up",
          "[whatsapp][webhook][hostile]") {
  hostile_node n;
  // Unbalanced 100,000-deep nesting is not JSON at all.
  auto r = post_webhook(*n.node, "{\"object\":\"whatsapp_business_account\",\"entry\":" + std::string(100'000, '['));
  CHECK(r.status == 400);
  CHECK(r.json()["error"]["code"] == "bad_request");
  // 300,000 values: more than any notification holds.
  std::string thousand = "[0" + std::string(999 * 2, ',') + "]";
  for (size_t i = 3; i < thousand.size() - 1; i += 2)
    thousand[i] = '0';
  std::string many = "{\"object\":\"whatsapp_business_account\",\"entry\":[],\"x\":[" + thousand;
  for (int i = 1; i < 300; ++i)
    many += "," + thousand;
  many += "]}";
  auto big = post_webhook(*n.node, many);
  CHECK(big.status == 400);
  CHECK(big.json()["error"]["message"].get<std::string>().find("values") != std::string::npos);
  CHECK(n.alive());
}

// The next two need the batch writer to store sanitised rows (the writer's side of
// issue 26); the parser already hands them on storable.

TEST_CASE("A text message with a NUL is stored with U+FFFD, acknowledged and answered once",
          "[whatsapp][webhook][hostile]") {
  hostile_node n;
  auto body = body_of({text_message("5511900000120", "wamid.nul-1", {{"body", std::string("Oi\0tudo bem", 11)}})});
  REQUIRE(body.find("\\u0000") != std::string::npos);
  auto r = post_webhook(*n.node, body);
  CHECK(r.status == 200);
  CHECK(n.stored("wamid.nul-1") == 1);
  CHECK(n.db.scalar("SELECT body FROM atendeai.messages WHERE external_id = 'wamid.nul-1'") == "Oi\xEF\xBF\xBDtudo bem");
  CHECK(eventually([&] { return sent_to(n.graph, "5511900000120").size() >= 1; }, 30s));
  // Meta's retry of the same body: 200 again, still one row and one answer.
  CHECK(post_webhook(*n.node, body).status == 200);
  REQUIRE(quiescent(n.db)); // a second reply would have been delivered by now
  CHECK(n.stored("wamid.nul-1") == 1);
  CHECK(sent_to(n.graph, "5511900000120").size() == 1);
  CHECK(n.alive());
}

TEST_CASE("A message with timestamp 10^30 is stored at the receipt time with the original kept, answered once",
          "[whatsapp][webhook][hostile]") {
  hostile_node n;
  auto m = text_message("5511900000130", "wamid.ts-1", {{"body", "Oi, quero marcar uma consulta"}});
  m["timestamp"] = "1000000000000000000000000000000";
  auto body = body_of({m});
  auto r = post_webhook(*n.node, body);
  CHECK(r.status == 200);
  CHECK(n.stored("wamid.ts-1") == 1);
  CHECK(n.db.scalar("SELECT payload->>'raw_timestamp' FROM atendeai.messages WHERE external_id = 'wamid.ts-1'")
        == "1000000000000000000000000000000");
  // The receipt time: within the last hour of the database's clock.
  CHECK(n.db.scalar("SELECT abs(extract(epoch FROM sent_at - now())) < 3600 FROM atendeai.messages "
                    "WHERE external_id = 'wamid.ts-1'")
        == "t");
  CHECK(eventually([&] { return sent_to(n.graph, "5511900000130").size() >= 1; }, 30s));
  CHECK(post_webhook(*n.node, body).status == 200);
  REQUIRE(quiescent(n.db)); // a second reply would have been delivered by now
  CHECK(sent_to(n.graph, "5511900000130").size() == 1);
  CHECK(n.alive());
}
