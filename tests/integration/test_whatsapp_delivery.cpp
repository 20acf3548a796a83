// WhatsApp delivery guarantees of a running node against real PostgreSQL and a fake
// Graph API: each wamid stored once and answered once (one POST, concurrent POSTs, after
// a restart), a 1,000-message POST answered in per-contact order, PostgreSQL stopped
// mid-stream (503, never a 200 without a row), a crash between the inbound commit and
// the reply, a failing Graph API, and a conversation handed over to a person.

#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/demo_clinic.hpp"
#include "core/signature.hpp"
#include "support/harness.hpp"
#include "support/pipeline_node.hpp"

using namespace atendeai::test;
using namespace std::chrono_literals;
using nlohmann::json;

TEST_CASE("The same wamid twice in one POST is stored once and answered once", "[whatsapp][delivery]") {
  pipeline p;
  p.start();
  auto body = webhook_body({{"5511910000001", "wamid.twice-1", "Oi, quero marcar uma consulta"},
                            {"5511910000001", "wamid.twice-1", "Oi, quero marcar uma consulta"},
                            {"5511910000002", "wamid.twice-2", "Qual o horário de funcionamento?"},
                            {"5511910000002", "wamid.twice-2", "Qual o horário de funcionamento?"}});
  auto r = post_webhook(*p.node, body);
  REQUIRE(r.status == 200);
  CHECK(p.inbound("wamid.twice-1") == 1);
  CHECK(p.inbound("wamid.twice-2") == 1);
  REQUIRE(p.settled(2));
  CHECK(p.inbound() == 2);
  CHECK(p.outbox() == 2);
  CHECK(p.outbound() == 2);
  CHECK(p.replies_to("wamid.twice-1") == 1);
  CHECK(p.replies_to("wamid.twice-2") == 1);
  CHECK(p.graph.count() == 2);
  CHECK(sent_to(p.graph, "5511910000001").size() == 1);
  CHECK(sent_to(p.graph, "5511910000002").size() == 1);
}

TEST_CASE("The same wamids in concurrent POSTs are stored once and answered once", "[whatsapp][delivery]") {
  pipeline p;
  p.start();
  std::vector<wa_text> messages;
  for (int i = 0; i < 5; ++i)
    messages.push_back({"55119200000" + std::to_string(10 + i), "wamid.concurrent-" + std::to_string(i),
                        "Qual o endereço da clínica?"});
  auto body = webhook_body(messages);
  constexpr int threads = 8;
  std::vector<long> statuses(threads, -1);
  std::atomic<bool> go{false};
  std::vector<std::thread> posters;
  for (int t = 0; t < threads; ++t)
    posters.emplace_back([&, t] {
      while (!go.load())
        std::this_thread::yield();
      statuses[t] = post_webhook(*p.node, body).status;
    });
  go = true;
  for (auto& t : posters)
    t.join();
  for (int t = 0; t < threads; ++t) {
    INFO("poster " << t);
    CHECK(statuses[t] == 200);
  }
  for (auto& m : messages) {
    INFO(m.id);
    CHECK(p.inbound(m.id) == 1);
  }
  REQUIRE(p.settled(5));
  CHECK(p.inbound() == 5);
  CHECK(p.outbox() == 5);
  CHECK(p.graph.count() == 5);
  for (auto& m : messages) {
    INFO(m.id);
    CHECK(p.replies_to(m.id) == 1);
    CHECK(sent_to(p.graph, m.from).size() == 1);
  }
}

TEST_CASE("The same wamid after a node restart is stored once and answered once", "[whatsapp][delivery]") {
  pipeline p;
  p.start();
  auto body = webhook_body({{"5511930000001", "wamid.restart-1", "Oi, quero marcar uma consulta"}});
  REQUIRE(post_webhook(*p.node, body).status == 200);
  REQUIRE(p.settled(1));
  CHECK(p.node->stop(SIGTERM) == 0);

  p.start();
  // Meta delivers the same notification again to the new process.
  CHECK(post_webhook(*p.node, body).status == 200);
  CHECK(p.inbound("wamid.restart-1") == 1);
  // A new message of the same patient: answered, so the conversation has handled its queue.
  auto next = webhook_body({{"5511930000001", "wamid.restart-2", "Qual o horário de funcionamento?"}});
  REQUIRE(post_webhook(*p.node, next).status == 200);
  REQUIRE(p.settled(2));
  CHECK(p.inbound() == 2);
  CHECK(p.outbox() == 2);
  CHECK(p.replies_to("wamid.restart-1") == 1);
  CHECK(p.replies_to("wamid.restart-2") == 1);
  CHECK(p.graph.count() == 2);
}

TEST_CASE("A 1000-message POST for 200 contacts is stored, answered once each, in order per contact",
          "[whatsapp][delivery]") {
  pipeline p;
  p.start();
  constexpr int contacts = 200;
  constexpr int per_contact = 5;
  // Understood questions, so that no conversation is handed over for not being understood.
  const std::vector<std::string> questions = {"Oi, bom dia", "Qual o horário de funcionamento?",
                                              "Quais serviços vocês oferecem?", "Qual o endereço da clínica?",
                                              "Obrigado, tchau"};
  auto contact = [](int c) { return "55119400" + std::to_string(10000 + c); };
  auto wamid = [](int c, int k) { return "wamid.bulk-" + std::to_string(c) + "-" + std::to_string(k); };
  std::vector<wa_text> messages;
  // Interleaved as Meta may batch them: every contact's first message, then every second...
  for (int k = 0; k < per_contact; ++k)
    for (int c = 0; c < contacts; ++c)
      messages.push_back({contact(c), wamid(c, k), questions[k] + " [" + std::string(1, static_cast<char>('a' + k)) + "]"});
  REQUIRE(messages.size() == 1000);
  auto body = webhook_body(messages);
  auto r = http_post(p.node->url("/webhooks/whatsapp"), body,
                     {{"X-Hub-Signature-256", atendeai::core::whatsapp_signature(test_app_secret, body)}}, 120000);
  REQUIRE(r.status == 200);
  CHECK(p.inbound() == 1000);
  CHECK(p.count("SELECT count(*) FROM atendeai.contacts") == contacts);
  CHECK(p.count("SELECT count(*) FROM atendeai.conversations") == contacts);

  REQUIRE(p.settled(1000, 300s));
  CHECK(p.outbox() == 1000);
  CHECK(p.outbound() == 1000);
  CHECK(p.graph.count() == 1000);
  CHECK(p.count("SELECT count(*) FROM (SELECT in_reply_to FROM atendeai.outbox GROUP BY in_reply_to "
                "HAVING count(*) > 1) d")
        == 0);
  std::map<std::string, long> per_recipient;
  std::map<std::string, std::vector<std::string>> texts; // per recipient, in arrival order
  for (auto& b : p.graph.received()) {
    ++per_recipient[b.value("to", "")];
    texts[b.value("to", "")].push_back(text_of(b));
  }
  // Each question got its answer: greeting, hours, services, address, farewell.
  const std::vector<std::string> answer_marks = {"Sofia", "08:00", "Cardiologia", "Rua Exemplo",
                                                 atendeai::core::demo_clinic().ai_personality.farewell};
  for (auto& [to, replies] : texts) {
    INFO(to);
    REQUIRE(replies.size() == answer_marks.size());
    for (size_t k = 0; k < replies.size(); ++k) {
      INFO(k << ": " << replies[k]);
      CHECK(replies[k].find(answer_marks[k]) != std::string::npos);
    }
  }
  CHECK(per_recipient.size() == static_cast<size_t>(contacts));
  for (auto& [to, n] : per_recipient) {
    INFO(to);
    CHECK(n == per_contact);
  }

  // Order per contact: the fake API numbers the wamids it gives in arrival order
  // (wamid.fake.N); the replies to one contact's messages 1..5 must have arrived in that order.
  auto rows = p.db.connect();
  pqxx::nontransaction tx(*rows);
  auto r2 = tx.exec("SELECT i.external_id, o.external_id FROM atendeai.outbox o "
                    "JOIN atendeai.messages i ON i.clinic_id = o.clinic_id AND i.id = o.in_reply_to");
  REQUIRE(r2.size() == 1000);
  std::map<int, std::map<int, long>> arrival; // contact → message k → arrival number
  for (auto row : r2) {
    auto in = row[0].as<std::string>();  // wamid.bulk-C-K
    auto out = row[1].as<std::string>(); // wamid.fake.N
    auto dash = in.rfind('-');
    auto c = std::stoi(in.substr(std::string("wamid.bulk-").size(), dash - std::string("wamid.bulk-").size()));
    auto k = std::stoi(in.substr(dash + 1));
    arrival[c][k] = std::stol(out.substr(std::string("wamid.fake.").size()));
  }
  REQUIRE(arrival.size() == static_cast<size_t>(contacts));
  int out_of_order = 0;
  for (auto& [c, by_k] : arrival) {
    REQUIRE(by_k.size() == static_cast<size_t>(per_contact));
    for (int k = 1; k < per_contact; ++k)
      if (by_k[k] <= by_k[k - 1])
        ++out_of_order;
  }
  CHECK(out_of_order == 0);

  // And the conversation memory follows the same order: each inbound message is answered
  // after the previous one of its contact.
  CHECK(p.count("SELECT count(*) FROM atendeai.messages a JOIN atendeai.messages b "
                "ON a.conversation_id = b.conversation_id AND a.direction = 'in' AND b.direction = 'in' "
                "AND split_part(a.external_id, '-', 3)::int < split_part(b.external_id, '-', 3)::int "
                "WHERE a.answered_at > b.answered_at")
        == 0);
}

TEST_CASE("PostgreSQL stopped mid-stream: 503 and never a 200 without a row, all stored once after it is back",
          "[whatsapp][delivery]") {
  pipeline p;
  p.start();
  constexpr int total = 60;
  auto id_of = [](int i) { return "wamid.outage-" + std::to_string(i); };
  auto body_of = [&](int i) {
    return webhook_body({{"55119500000" + std::to_string(10 + i % 6), id_of(i), "Qual o endereço da clínica?"}});
  };

  std::atomic<int> next{0};
  std::mutex mutex;
  std::map<int, std::vector<long>> statuses;  // message → every answer it got
  std::vector<std::pair<int, int>> ok_rows;    // a 200 and its row count right after (-1: not checkable)
  std::atomic<bool> stop_posting{false};
  std::atomic<int> refused{0};
  std::thread poster([&] {
    // Like Meta: one notification at a time, each retried until it is acknowledged.
    for (int i = 0; i < total && !stop_posting; ++i) {
      next = i;
      for (int attempt = 0; attempt < 600 && !stop_posting; ++attempt) {
        auto r = post_webhook(*p.node, body_of(i));
        int row = -1;
        if (r.status == 200) {
          try {
            row = static_cast<int>(p.inbound(id_of(i)));
          } catch (const std::exception&) {
            row = -1; // PostgreSQL went away right after the answer: checked again below
          }
        } else if (r.status == 503) {
          ++refused;
        }
        std::lock_guard<std::mutex> guard(mutex);
        statuses[i].push_back(r.status);
        if (r.status == 200) {
          ok_rows.emplace_back(i, row);
          break;
        }
        std::this_thread::sleep_for(100ms);
      }
    }
  });

  REQUIRE(eventually([&] { return next.load() >= 10; }, 60s));
  // A burst acknowledged just before the stop: its replies and delivery records are in
  // flight while PostgreSQL goes away, and must still end up answered once.
  constexpr int burst = 300;
  std::vector<wa_text> burst_messages;
  for (int i = 0; i < burst; ++i)
    burst_messages.push_back({"55119510" + std::to_string(10000 + i), "wamid.burst-" + std::to_string(i),
                              "Qual o horário de funcionamento?"});
  REQUIRE(post_webhook(*p.node, webhook_body(burst_messages)).status == 200);
  services("stop", "pg");
  bool saw_refusal = eventually([&] { return refused.load() >= 3; }, 60s);
  services("start", "pg");
  poster.join();
  REQUIRE(saw_refusal);

  for (int i = 0; i < total; ++i) {
    INFO("message " << i);
    auto& got = statuses[i];
    REQUIRE_FALSE(got.empty());
    CHECK(got.back() == 200);
    for (auto s : got)
      CHECK((s == 200 || s == 503));
    CHECK(p.inbound(id_of(i)) == 1);
  }
  // Every 200 was written after its row was committed: the row existed when checked right
  // after the answer (unless PostgreSQL was already gone for the check itself).
  REQUIRE(ok_rows.size() == static_cast<size_t>(total));
  for (auto& [i, row] : ok_rows) {
    INFO("message " << i);
    CHECK(row != 0);
  }
  CHECK(p.inbound() == total + burst);
  // And every stored message is answered, once.
  CHECK(p.settled(total + burst, 180s));
  CHECK(p.unanswered() == 0);
  CHECK(p.outbox() == total + burst);
  CHECK(p.graph.count() == static_cast<size_t>(total + burst));
  CHECK(p.count("SELECT count(*) FROM (SELECT in_reply_to FROM atendeai.outbox GROUP BY in_reply_to "
                "HAVING count(*) > 1) d")
        == 0);
}

TEST_CASE("A node killed after the inbound commit and before the reply answers after restart exactly once",
          "[whatsapp][delivery]") {
  pipeline p;
  p.start({{"ATENDEAI_TEST_CRASH_AFTER_INGEST", "1"}});
  auto body = webhook_body({{"5511960000001", "wamid.crash-1", "Oi, quero marcar uma consulta"}});
  auto r = post_webhook(*p.node, body);
  CHECK(r.status == 200);
  CHECK(p.node->wait_exit(30s) == 137);
  CHECK(p.inbound("wamid.crash-1") == 1);
  CHECK(p.outbox() == 0);
  CHECK(p.graph.count() == 0);

  p.start(); // without the hook
  REQUIRE(p.settled(1, 90s));
  CHECK(p.replies_to("wamid.crash-1") == 1);
  // Meta's retry of the same notification changes nothing.
  CHECK(post_webhook(*p.node, body).status == 200);
  auto next = webhook_body({{"5511960000001", "wamid.crash-2", "Qual o horário de funcionamento?"}});
  REQUIRE(post_webhook(*p.node, next).status == 200);
  REQUIRE(p.settled(2, 60s));
  CHECK(p.inbound() == 2);
  CHECK(p.outbox() == 2);
  CHECK(p.replies_to("wamid.crash-1") == 1);
  CHECK(p.graph.count() == 2);
  CHECK(sent_to(p.graph, "5511960000001").size() == 2);
}

TEST_CASE("The Graph API failing with 500 then 200 delivers the reply once", "[whatsapp][delivery]") {
  pipeline p;
  p.start();
  p.graph.fail_next(1, 500);
  auto body = webhook_body({{"5511970000001", "wamid.retry-1", "Oi, quero marcar uma consulta"}});
  REQUIRE(post_webhook(*p.node, body).status == 200);
  REQUIRE(p.settled(1));
  CHECK(p.graph.calls().size() == 2); // the failed attempt and the good one
  CHECK(p.graph.count() == 1);        // one body accepted
  CHECK(sent_to(p.graph, "5511970000001").size() == 1);
  CHECK(p.outbox() == 1);
  CHECK(p.db.scalar("SELECT status FROM atendeai.outbox") == "sent");
  CHECK(p.db.scalar("SELECT attempts FROM atendeai.outbox") == "2");
  CHECK(p.db.scalar("SELECT external_id FROM atendeai.outbox") == "wamid.fake.1");
  CHECK(p.db.scalar("SELECT status FROM atendeai.messages WHERE direction = 'out'") == "sent");
}

TEST_CASE("A reply in backoff holds its conversation's next reply, not another patient's", "[whatsapp][delivery]") {
  pipeline p;
  // The first retry waits 2.5-5 s: long enough for another patient to be answered meanwhile.
  p.start({{"ATENDEAI_SENDER_BACKOFF_BASE_MS", "5000"}, {"ATENDEAI_SENDER_BACKOFF_MAX_MS", "5000"}});
  p.graph.fail_next(1, 500);
  const std::string slow = "5511970000011", other = "5511970000012";
  // Two questions of one patient in one POST: the first reply meets the 500.
  REQUIRE(post_webhook(*p.node, webhook_body({{slow, "wamid.lane-1", "Qual o endereço da clínica?"},
                                              {slow, "wamid.lane-2", "Qual o horário de funcionamento?"}}))
            .status
          == 200);
  REQUIRE(eventually([&] { return p.graph.calls().size() >= 1; }, 30s));
  REQUIRE(post_webhook(*p.node, webhook_body({{other, "wamid.lane-3", "Qual o endereço da clínica?"}})).status == 200);
  REQUIRE(p.settled(3));
  std::vector<std::string> order; // accepted bodies: recipient and text
  for (auto& b : p.graph.received())
    order.push_back(b.value("to", "") + " " + text_of(b));
  INFO(order.size());
  REQUIRE(order.size() == 3);
  CHECK(order[0].rfind(other, 0) == 0); // not held behind the other patient's backoff
  CHECK(order[1].rfind(slow, 0) == 0);
  CHECK(order[1].find("Rua Exemplo") != std::string::npos); // the address, retried, then...
  CHECK(order[2].rfind(slow, 0) == 0);
  CHECK(order[2].find("08:00") != std::string::npos); // ...the hours: not overtaken
  CHECK(p.graph.calls().size() == 4);
  CHECK(p.db.scalar("SELECT max(attempts) FROM atendeai.outbox") == "2");
}

TEST_CASE("A conversation in handoff gets no bot reply while its messages are stored", "[whatsapp][delivery]") {
  pipeline p;
  p.start();
  const std::string patient = "5511980000001";
  REQUIRE(post_webhook(*p.node, webhook_body({{patient, "wamid.handoff-1", "quero falar com uma pessoa"}})).status
          == 200);
  REQUIRE(p.settled(1));
  auto handoff_reply = text_of(p.graph.received().at(0));
  INFO(handoff_reply);
  CHECK(handoff_reply.find("alguém vai continuar a conversa") != std::string::npos);
  CHECK(p.db.scalar("SELECT status FROM atendeai.conversations") == "handoff");

  REQUIRE(post_webhook(*p.node, webhook_body({{patient, "wamid.handoff-2", "Oi, alguém aí? Quero marcar"}})).status
          == 200);
  REQUIRE(post_webhook(*p.node, webhook_body({{patient, "wamid.handoff-3", "Qual o horário de funcionamento?"}})).status
          == 200);
  // Both are stored and handled by the conversation (answered_at set) without a reply.
  REQUIRE(eventually([&] { return p.unanswered() == 0; }, 60s));
  CHECK(p.inbound() == 3);
  CHECK(p.inbound("wamid.handoff-2") == 1);
  CHECK(p.inbound("wamid.handoff-3") == 1);
  CHECK(p.replies_to("wamid.handoff-2") == 0);
  CHECK(p.replies_to("wamid.handoff-3") == 0);
  CHECK(p.outbox() == 1);
  CHECK(p.outbound() == 1);
  CHECK(p.graph.count() == 1);
  CHECK(p.db.scalar("SELECT status FROM atendeai.conversations") == "handoff");

  // Another patient is still answered meanwhile.
  REQUIRE(post_webhook(*p.node, webhook_body({{"5511980000002", "wamid.handoff-other", "Qual o endereço?"}})).status
          == 200);
  REQUIRE(p.settled(2));
  CHECK(p.graph.count() == 2);
  CHECK(sent_to(p.graph, patient).size() == 1);
}
