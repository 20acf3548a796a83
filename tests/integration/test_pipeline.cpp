// The message pipeline's own guarantees on a running node: a POST larger than a batch,
// acknowledgements that never wait for reply writes, outbound rows nobody told a sender
// about, and the bounded backlog of replies kept through a PostgreSQL outage.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "support/harness.hpp"
#include "support/pipeline_node.hpp"

using namespace atendeai::test;
using namespace std::chrono_literals;

namespace {

std::vector<wa_text> patients_asking(const std::string& tag, int n, int contacts) {
  std::vector<wa_text> out;
  for (int i = 0; i < n; ++i)
    out.push_back({"5511960" + std::to_string(100000 + i % contacts), "wamid." + tag + "-" + std::to_string(i),
                   "Qual o endereço da clínica?"});
  return out;
}

} // namespace

TEST_CASE("A POST of 1,000 messages spanning ten batches is acknowledged once all are stored, each answered once",
          "[pipeline]") {
  pipeline p;
  p.start({{"ATENDEAI_PERSISTENCE_BATCH_MAX_ROWS", "100"}});
  auto r = post_webhook(*p.node, webhook_body(patients_asking("span", 1000, 1000)));
  REQUIRE(r.status == 200);
  CHECK(p.inbound() == 1000); // all of them before the 200
  REQUIRE(p.settled(1000, 180s));
  CHECK(p.outbox() == 1000);
  CHECK(p.count("SELECT count(DISTINCT in_reply_to) FROM atendeai.outbox") == 1000);
  CHECK(p.graph.count() == 1000);
}

TEST_CASE("Acknowledgements keep flowing while reply writes are stalled", "[pipeline]") {
  pipeline p;
  // Every commit of replies and delivery outcomes first sleeps 15 s (test builds only).
  p.start({{"ATENDEAI_TEST_STALL_RECORD_WRITES_MS", "15000"}});
  for (int i = 0; i < 20; ++i) {
    INFO("webhook " << i);
    // Each answered within 5 s: a 200 that waited for a reply write could not be.
    auto body = webhook_body({{"55119610000" + std::to_string(10 + i), "wamid.stall-" + std::to_string(i),
                               "Qual o horário de funcionamento?"}});
    auto r = post_webhook(*p.node, body, test_app_secret, 5000);
    REQUIRE(r.status == 200);
  }
  CHECK(p.inbound() == 20);
  CHECK(p.outbox() == 0); // no reply written yet: the acknowledgements did not wait for them
  REQUIRE(p.settled(20, 180s));
  CHECK(p.graph.count() == 20);
}

TEST_CASE("An outbound row no sender was told about is sent by the periodic sweep, once", "[pipeline]") {
  pipeline p;
  p.start();
  REQUIRE(post_webhook(*p.node, webhook_body({{"5511962000001", "wamid.lost-1", "oi"}})).status == 200);
  REQUIRE(p.settled(1));
  // What a commit whose acknowledgement was lost with its connection leaves: a row written
  // a while ago that no sender holds (here written by hand, as the owner). 50 s old: the
  // periodic sweep resumes rows pending for a minute, so it is due ~10 s from now, and it
  // lies inside the sweeps' horizon (a minute before the node's start).
  auto owner = p.db.connect();
  {
    pqxx::work tx(*owner);
    tx.exec("INSERT INTO atendeai.outbound_messages (clinic_id, id, cause_id, kind, conversation_id, channel, "
            "account_id, recipient, body, payload, created_at) "
            "SELECT clinic_id, '018f0000-0000-7000-8000-00000000beef', '018f0000-0000-7000-8000-00000000beef', "
            "'notice', conversation_id, channel, account_id, recipient, 'Lembrete da clínica', "
            "'{\"text\":\"Lembrete da clínica\"}', now() - interval '50 seconds' "
            "FROM atendeai.outbound_messages LIMIT 1");
    tx.commit();
  }
  REQUIRE(eventually([&] { return p.graph.count() == 2; }, 60s));
  std::vector<std::string> texts;
  for (auto& b : p.graph.received())
    texts.push_back(b["text"].value("body", ""));
  CHECK(texts.back() == "Lembrete da clínica");
  REQUIRE(eventually([&] { return p.outbox_sent() == 2; }, 30s));
  // Provably idle (nothing pending in PostgreSQL), then no second send of it.
  REQUIRE(eventually([&] { return p.count("SELECT count(*) FROM atendeai.outbox WHERE status = 'pending'") == 0; }));
  CHECK(p.graph.count() == 2);
}

TEST_CASE("Replies kept through an outage are bounded: past the bound webhooks get 503, and nothing is lost",
          "[pipeline]") {
  pipeline p;
  // Reply writes wait 4 s, so the replies of the burst are in the writer when PostgreSQL
  // stops; the bound (100) is below the burst.
  p.start({{"ATENDEAI_TEST_STALL_RECORD_WRITES_MS", "4000"}, {"ATENDEAI_PERSISTENCE_MAX_HELD_RECORDS", "100"}});
  constexpr int burst = 150;
  REQUIRE(post_webhook(*p.node, webhook_body(patients_asking("held", burst, burst))).status == 200);
  REQUIRE(p.inbound() == burst);
  services("stop", "pg");
  // The held replies pass the bound: a new webhook is refused before it is even parsed.
  http_response refused;
  bool bounded = eventually(
    [&] {
      refused = post_webhook(*p.node, webhook_body({{"5511963000001", "wamid.late-1", "oi"}}));
      return refused.status == 503 && refused.body.find("outage") != std::string::npos;
    },
    60s);
  auto rejected = scrape_metrics(*p.node)["atendeai_webhook_rejected_total{reason=\"outage_backlog\"}"];
  services("start", "pg");
  REQUIRE(bounded);
  CHECK(rejected > 0);
  CHECK(refused.headers.count("retry-after") == 1);
  CHECK(refused.json()["error"]["code"] == "service_unavailable");
  // Back: every acknowledged message answered once, then new webhooks accepted again.
  REQUIRE(p.settled(burst, 180s));
  CHECK(p.count("SELECT count(*) FROM (SELECT in_reply_to FROM atendeai.outbox GROUP BY in_reply_to "
                "HAVING count(*) > 1) d")
        == 0);
  REQUIRE(eventually([&] { return post_webhook(*p.node, webhook_body({{"5511963000001", "wamid.late-1", "oi"}})).status == 200; },
                     60s));
  CHECK(p.inbound("wamid.late-1") == 1);
}

TEST_CASE("A row PostgreSQL refuses does not fail its batch: the 99 others commit, it is stored sanitised",
          "[pipeline]") {
  pipeline p;
  // Test builds only: a message with the marker reaches PostgreSQL with a NUL in its text.
  p.start({{"ATENDEAI_TEST_POISON_MARKER", "poison-pill"}});
  auto messages = patients_asking("poison", 100, 100);
  messages[37].body = "Qual o endereço? poison-pill";
  REQUIRE(post_webhook(*p.node, webhook_body(messages)).status == 200);
  CHECK(p.inbound() == 100);
  CHECK(p.db.scalar("SELECT body FROM atendeai.inbound_messages WHERE external_id = 'wamid.poison-37'")
        == "Qual o endereço? poison-pill\xEF\xBF\xBD");
  CHECK(p.db.scalar("SELECT payload ->> 'sanitised' FROM atendeai.inbound_messages "
                    "WHERE external_id = 'wamid.poison-37'")
        == "true");
  auto m = scrape_metrics(*p.node);
  CHECK(m["atendeai_webhook_messages_total{outcome=\"sanitised\"}"] == 1);
  CHECK(m["atendeai_webhook_messages_total{outcome=\"stored\"}"] == 100);
  CHECK(m["atendeai_webhook_messages_total{outcome=\"dropped\"}"] == 0);
  REQUIRE(p.settled(100, 120s));
  CHECK(p.graph.count() == 100);
}
