// A real 3-node cluster on loopback: separate atendeai processes sharing one PostgreSQL
// and one Redis, linked by CAF's middleman. Clinics spread over the nodes by rendezvous
// hashing, each message is handled on its clinic's owner whichever node took the
// webhook, and a node killed with SIGKILL in a steady stream of webhooks loses nothing
// acknowledged; the node then restarts, rejoins and takes its clinics back.

#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/cluster.hpp"
#include "core/signature.hpp"
#include "support/harness.hpp"

using namespace atendeai::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::vector<std::string> node_ids = {"n1", "n2", "n3"};

/// Fixed clinic ids: with n1..n3 each node owns at least one (asserted below).
std::vector<std::string> clinic_ids() {
  std::vector<std::string> ids;
  for (int i = 1; i <= 7; ++i)
    ids.push_back("00000000-0000-4000-8000-c1000000000" + std::to_string(i));
  return ids;
}

std::string account_of(size_t clinic_index) { return "pn-cluster-" + std::to_string(clinic_index); }

/// Three nodes, a scratch database, a fake Graph API, the test clinics.
struct cluster {
  scratch_database db;
  fake_graph_api graph;
  std::vector<std::string> clinics = clinic_ids();
  std::vector<int> http_ports = {free_port(), free_port(), free_port()};
  std::vector<int> cluster_ports = {free_port(), free_port(), free_port()};
  std::vector<std::unique_ptr<node_process>> nodes{3};
  std::vector<std::map<std::string, std::string>> extra_env{3}; ///< more settings per node

  std::string cluster_address(size_t i) const { return "127.0.0.1:" + std::to_string(cluster_ports[i]); }

  /// Starts node i; n1 is every other node's seed. The cluster keys' flags are the
  /// command line of API.md (`serve --node-id n2 --cluster-port P --cluster-seeds H:P`).
  void start(size_t i) {
    nodes[i].reset();
    std::vector<std::string> args = {"serve", "--node-id", node_ids[i], "--cluster-port",
                                     std::to_string(cluster_ports[i])};
    if (i != 0) {
      args.push_back("--cluster-seeds");
      args.push_back(cluster_address(0));
    }
    std::map<std::string, std::string> env = {{"ATENDEAI_CLUSTER_NAME", db.name()}, // this test's own cluster in the shared Redis
                                              {"ATENDEAI_CLUSTER_HEARTBEAT_MS", "500"},
                                              {"ATENDEAI_CLUSTER_DEAD_AFTER_MS", "1500"}};
    env.insert(extra_env[i].begin(), extra_env[i].end());
    nodes[i] = std::make_unique<node_process>(args, node_env(db, http_ports[i], {graph.base_url(), "test-token", env}));
    auto ready = nodes[i]->wait_ready();
    INFO(nodes[i]->output());
    REQUIRE(ready);
  }

  /// n1 first (migrations, demo clinic), then the test clinics, then n2 and n3.
  void start_all() {
    start(0);
    add_clinics();
    start(1);
    start(2);
    REQUIRE(converged(3));
  }

  void add_clinics() {
    auto owner = db.connect();
    pqxx::work tx(*owner);
    for (size_t i = 0; i < clinics.size(); ++i) {
      tx.exec_params("SELECT set_config('app.clinic_id', $1, true)", clinics[i]);
      tx.exec_params("INSERT INTO atendeai.clinics (id, name) VALUES ($1, $2)", clinics[i],
                     "Clínica Cluster " + std::to_string(i));
      tx.exec_params("INSERT INTO atendeai.clinic_channels (clinic_id, channel, account_id) VALUES ($1, 'whatsapp', $2)",
                     clinics[i], account_of(i));
    }
    tx.commit();
  }

  /// /health of node i (null when it does not answer).
  json health(size_t i) const {
    if (!nodes[i] || !nodes[i]->running())
      return nullptr;
    auto r = http_get(nodes[i]->url("/health"), {}, 3000);
    return r.status == 200 ? r.json() : json();
  }

  /// Every running node sees `n` members, all connected.
  bool converged(size_t n, std::chrono::milliseconds timeout = 60s) const {
    return eventually(
      [&] {
        for (size_t i = 0; i < nodes.size(); ++i) {
          if (!nodes[i] || !nodes[i]->running())
            continue;
          auto h = health(i);
          if (!h.is_object() || !h["cluster"].is_object() || !h["cluster"]["members"].is_array()
              || h["cluster"]["members"].size() != n)
            return false;
          for (auto& m : h["cluster"]["members"])
            if (!m.value("connected", false))
              return false;
        }
        return true;
      },
      timeout);
  }

  /// The rendezvous owner of clinic c among `members`.
  std::string owner(size_t c, const std::vector<std::string>& members = node_ids) const {
    return atendeai::core::rendezvous_owner(clinics[c], members);
  }

  long count(const std::string& sql) const { return std::stol("0" + db.scalar(sql)); }
  long inbound(const std::string& wamid) const {
    return count("SELECT count(*) FROM atendeai.messages WHERE direction = 'in' AND external_id = '" + wamid + "'");
  }
  long unanswered() const {
    return count("SELECT count(*) FROM atendeai.messages WHERE direction = 'in' AND answered_at IS NULL");
  }
  long replies_to(const std::string& wamid) const {
    return count("SELECT count(*) FROM atendeai.outbox o JOIN atendeai.messages m "
                 "ON m.clinic_id = o.clinic_id AND m.id = o.in_reply_to WHERE m.external_id = '" + wamid + "'");
  }
  long outbox_sent() const { return count("SELECT count(*) FROM atendeai.outbox WHERE status = 'sent'"); }

  /// Every stored message answered, `replies` replies recorded as sent and at the sink.
  bool settled(long replies, std::chrono::milliseconds timeout = 90s) const {
    return eventually(
      [&] { return unanswered() == 0 && outbox_sent() == replies && static_cast<long>(graph.count()) >= replies; },
      timeout);
  }

  /// The ids of the nodes whose log shows `wamid` handled by a conversation.
  std::vector<std::string> handled_on(const std::string& wamid, const std::vector<std::string>& logs) const {
    std::vector<std::string> out;
    for (size_t i = 0; i < logs.size(); ++i) {
      std::istringstream lines(logs[i]);
      for (std::string line; std::getline(lines, line);)
        if (line.find("\"event\":\"message_understood\"") != std::string::npos
            && line.find("\"correlation_id\":\"" + wamid + "\"") != std::string::npos)
          out.push_back(node_ids[i]);
    }
    return out;
  }

  std::vector<std::string> logs() const {
    std::vector<std::string> out;
    for (auto& n : nodes)
      out.push_back(n ? n->output() : std::string());
    return out;
  }

  /// Replies the sink accepted per recipient.
  std::map<std::string, long> sink_counts() const {
    std::map<std::string, long> per;
    for (auto& b : graph.received())
      ++per[b.value("to", "")];
    return per;
  }
};

/// A counter's value from node's /metrics (0 when absent).
double metric(const node_process& node, const std::string& series) {
  auto text = http_get(node.url("/metrics")).body;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(series + " ", 0) == 0)
      return std::stod(line.substr(series.size() + 1));
  return 0;
}

std::string patient(int n) { return "55119" + std::to_string(70000000 + n); }

} // namespace

TEST_CASE("3 nodes: clinics spread, each message handled on its clinic's owner, webhooks to any node answered once",
          "[cluster]") {
  cluster c;
  std::set<std::string> owners;
  for (size_t i = 0; i < c.clinics.size(); ++i)
    owners.insert(c.owner(i));
  REQUIRE(owners.size() == 3); // the fixed clinics spread over all three nodes

  c.start_all();
  for (size_t i = 0; i < 3; ++i) {
    auto h = c.health(i);
    INFO(h.dump());
    CHECK(h["node_id"] == node_ids[i]);
    CHECK(h["cluster"]["node_id"] == node_ids[i]);
    CHECK(h["cluster"]["members"].size() == 3);
    CHECK(metric(*c.nodes[i], "atendeai_cluster_members") == 3);
  }

  // Every clinic gets a message through every node.
  std::map<std::string, size_t> clinic_of; // wamid → clinic index
  std::map<std::string, std::string> patient_of;
  int n = 0;
  for (size_t k = 0; k < c.clinics.size(); ++k)
    for (size_t via = 0; via < 3; ++via) {
      auto wamid = "wamid.cl-" + std::to_string(k) + "-via-" + node_ids[via];
      auto from = patient(n++);
      clinic_of[wamid] = k;
      patient_of[wamid] = from;
      auto r = post_webhook(*c.nodes[via], webhook_body({{from, wamid, "Qual o horário de funcionamento?"}},
                                                        account_of(k)));
      INFO(wamid);
      REQUIRE(r.status == 200);
      CHECK(c.inbound(wamid) == 1); // the 200 means stored
    }
  auto total = static_cast<long>(clinic_of.size());
  REQUIRE(c.settled(total));

  auto logs = c.logs();
  auto sink = c.sink_counts();
  for (auto& [wamid, k] : clinic_of) {
    INFO(wamid << " of clinic " << c.clinics[k]);
    CHECK(c.handled_on(wamid, logs) == std::vector<std::string>{c.owner(k)});
    CHECK(c.replies_to(wamid) == 1);
    CHECK(sink[patient_of[wamid]] == 1);
  }
  CHECK(static_cast<long>(c.graph.count()) == total);
  // Two thirds of the webhooks reached a node that does not own their clinic.
  double sent = 0, received = 0;
  for (auto& node : c.nodes) {
    sent += metric(*node, "atendeai_cluster_messages_total{direction=\"sent\"}");
    received += metric(*node, "atendeai_cluster_messages_total{direction=\"received\"}");
  }
  CHECK(sent == 2 * c.clinics.size());
  CHECK(received == sent);
}

TEST_CASE("kill -9 of a node in a stream of webhooks: every acknowledged message stored once and answered, "
          "the node rejoins and takes its clinics back",
          "[cluster]") {
  cluster c;
  c.start_all();

  // Like Meta behind a load balancer: one notification at a time, to the nodes in turn,
  // each retried on the next node until one acknowledges it.
  constexpr int total = 150;
  std::vector<std::string> acked;
  std::map<std::string, std::string> patient_of;
  std::atomic<int> next{0};
  std::atomic<bool> killed{false};
  std::thread poster([&] {
    for (int i = 0; i < total; ++i) {
      next = i;
      auto wamid = "wamid.stream-" + std::to_string(i);
      auto from = patient(1000 + i);
      auto body = webhook_body({{from, wamid, "Qual o endereço da clínica?"}}, account_of(i % c.clinics.size()));
      for (int attempt = 0; attempt < 200; ++attempt) {
        size_t via = static_cast<size_t>(i + attempt) % 3;
        if (killed && via == 2)
          continue; // not running: the balancer's health check took it out
        http_response r;
        r = http_post("http://127.0.0.1:" + std::to_string(c.http_ports[via]) + "/webhooks/whatsapp", body,
                      {{"X-Hub-Signature-256", atendeai::core::whatsapp_signature(test_app_secret, body)}}, 10000);
        if (r.status == 200) {
          acked.push_back(wamid);
          patient_of[wamid] = from;
          break;
        }
        std::this_thread::sleep_for(20ms);
      }
      std::this_thread::sleep_for(15ms);
    }
  });

  REQUIRE(eventually([&] { return next.load() >= 50; }, 60s));
  c.nodes[2]->stop(SIGKILL);
  killed = true;
  // Every reply the sink holds now may have been sent by n3 without being recorded: the
  // documented send window. A duplicate must have its first copy among these.
  auto at_kill = c.graph.count();
  poster.join();

  REQUIRE(acked.size() == static_cast<size_t>(total));
  REQUIRE(c.converged(2));
  REQUIRE(c.settled(total, 100s));
  for (auto& wamid : acked) {
    INFO(wamid);
    CHECK(c.inbound(wamid) == 1);
    CHECK(c.replies_to(wamid) == 1);
  }
  auto received = c.graph.received();
  std::map<std::string, std::vector<size_t>> arrivals; // recipient → positions at the sink
  for (size_t i = 0; i < received.size(); ++i)
    arrivals[received[i].value("to", "")].push_back(i);
  long duplicates = 0;
  for (auto& wamid : acked) {
    auto& at = arrivals[patient_of[wamid]];
    INFO(wamid);
    REQUIRE(at.size() >= 1);
    duplicates += static_cast<long>(at.size()) - 1;
    if (at.size() > 1) {
      CHECK(at.size() == 2);
      CHECK(at[0] < at_kill);
    }
  }
  WARN("duplicate deliveries at the sink (send window of the killed node): " << duplicates);
  CHECK(static_cast<long>(received.size()) == total + duplicates);

  // n3 comes back with the same id: everyone sees three members again, and its clinics
  // (served by n1/n2 meanwhile) are handed back and handled there.
  c.start(2);
  REQUIRE(c.converged(3));
  // n1 and n2 passivate the clinic actors they ran for n3 meanwhile.
  CHECK(eventually(
    [&] {
      return metric(*c.nodes[0], "atendeai_cluster_ownership_moves_total")
               + metric(*c.nodes[1], "atendeai_cluster_ownership_moves_total")
             > 0;
    },
    10s));
  std::vector<std::pair<std::string, size_t>> after;
  for (size_t k = 0; k < c.clinics.size(); ++k) {
    if (c.owner(k) != "n3")
      continue;
    auto wamid = "wamid.rejoined-" + std::to_string(k);
    after.emplace_back(wamid, k);
    REQUIRE(post_webhook(*c.nodes[k % 2], webhook_body({{patient(5000 + static_cast<int>(k)), wamid, "Oi, bom dia"}},
                                                       account_of(k)))
              .status
            == 200);
  }
  REQUIRE_FALSE(after.empty());
  REQUIRE(c.settled(total + static_cast<long>(after.size()), 60s));
  auto logs = c.logs();
  for (auto& [wamid, k] : after) {
    INFO(wamid);
    CHECK(c.handled_on(wamid, logs) == std::vector<std::string>{"n3"});
    CHECK(c.replies_to(wamid) == 1);
  }
}

TEST_CASE("Redis away: every node keeps its last view and messages still reach their clinic's owner", "[cluster]") {
  cluster c;
  c.start_all();
  size_t n3_clinic = 0;
  while (c.owner(n3_clinic) != "n3")
    ++n3_clinic;

  services("stop", "redis");
  struct restart_redis {
    ~restart_redis() { services("start", "redis"); }
  } restart;
  // Longer than cluster.dead_after_ms: every heartbeat in Redis would have expired.
  REQUIRE(eventually(
    [&] {
      for (size_t i = 0; i < 3; ++i) {
        auto h = c.health(i);
        if (!h.is_object() || h["cluster"].value("redis", true))
          return false;
      }
      return true;
    },
    30s));
  std::this_thread::sleep_for(3s);
  for (size_t i = 0; i < 3; ++i) {
    auto h = http_get(c.nodes[i]->url("/health")).json();
    INFO(h.dump());
    CHECK(h["status"] == "degraded");
    CHECK(h["cluster"]["members"].size() == 3);
  }
  // Sent to n1: still forwarded to n3, which owns the clinic, and answered once.
  auto r = post_webhook(*c.nodes[0], webhook_body({{patient(9000), "wamid.redis-away", "Qual o horário de funcionamento?"}},
                                                  account_of(n3_clinic)));
  REQUIRE(r.status == 200);
  REQUIRE(c.settled(1));
  CHECK(c.handled_on("wamid.redis-away", c.logs()) == std::vector<std::string>{"n3"});
  CHECK(c.replies_to("wamid.redis-away") == 1);
}

TEST_CASE("A cluster port already taken ends the start with exit code 2 naming cluster.port", "[cluster]") {
  scratch_database db;
  auto port = free_port();
  auto taken = free_port();
  node_process first({"serve", "--node-id", "n1", "--cluster-port", std::to_string(taken)},
                     node_env(db, port, {"", "", {{"ATENDEAI_CLUSTER_NAME", db.name()}}}));
  REQUIRE(first.wait_ready());
  node_process second({"serve", "--node-id", "n2", "--cluster-port", std::to_string(taken)},
                      node_env(db, free_port(), {"", "", {{"ATENDEAI_CLUSTER_NAME", db.name()}}}));
  CHECK(second.wait_exit(60s) == 2);
  CHECK_THAT(second.output(), Catch::Contains("cluster.port") && Catch::Contains(std::to_string(taken)));
  // The first node is untouched and alone in its view.
  auto h = http_get(first.url("/health")).json();
  CHECK(h["cluster"]["members"].size() == 1);
}

TEST_CASE("With cluster.tls_* the link is mutual TLS: nodes of one CA form the cluster and forward, a node of "
          "another CA is refused",
          "[cluster][tls]") {
  cluster c;
  // Two certificate sets from deploy/cluster-certs: n1 and n2 share CA "a", n3 has its own.
  auto dir = c.db.name();
  auto certs = [&](const std::string& name) {
    auto path = std::string(ATENDEAI_BUILD_DIR) + "/test-tls/" + dir + "/" + name;
    auto cmd = "bash " + std::string(ATENDEAI_SOURCE_DIR) + "/deploy/cluster-certs " + path;
    REQUIRE(std::system(cmd.c_str()) == 0);
    return std::map<std::string, std::string>{{"ATENDEAI_CLUSTER_TLS_CERT", path + "/node.pem"},
                                               {"ATENDEAI_CLUSTER_TLS_KEY", path + "/node.key"},
                                               {"ATENDEAI_CLUSTER_TLS_CA", path + "/ca.pem"}};
  };
  c.extra_env = {certs("a"), certs("a"), certs("b")};

  c.start(0);
  c.add_clinics();
  c.start(1);
  auto formed = c.converged(2);
  INFO(c.nodes[1]->output());
  REQUIRE(formed);
  CHECK(c.nodes[0]->output().find("\"tls\":true") != std::string::npos);

  // A clinic n2 owns (between n1 and n2) gets a webhook through n1: forwarded over TLS.
  const std::vector<std::string> pair = {"n1", "n2"};
  size_t k = 0;
  while (k < c.clinics.size() && c.owner(k, pair) != "n2")
    ++k;
  REQUIRE(k < c.clinics.size());
  const std::string wamid = "wamid.tls-1";
  REQUIRE(post_webhook(*c.nodes[0], webhook_body({{patient(900), wamid, "Qual o horário de funcionamento?"}},
                                                 account_of(k)))
            .status == 200);
  REQUIRE(c.settled(1));
  CHECK(c.handled_on(wamid, c.logs()) == std::vector<std::string>{"n2"});

  // n3 heartbeats into the same Redis, so everyone sees it, but no TLS handshake with it
  // succeeds: after several refused attempts on both sides it is still not connected.
  c.start(2);
  REQUIRE(eventually([&] {
    return metric(*c.nodes[2], "atendeai_cluster_connect_failures_total") >= 3
           && metric(*c.nodes[0], "atendeai_cluster_members") == 3;
  }, 60s));
  // Whether node `at` reports member `id` connected (its /health must list the member).
  auto connected = [&](size_t at, const std::string& id) {
    json h;
    REQUIRE(eventually([&] { return (h = c.health(at)).is_object(); }, 30s));
    INFO(h.dump());
    for (auto& m : h["cluster"]["members"])
      if (m["id"] == id)
        return m.value("connected", false);
    FAIL("member " << id << " missing at node " << at);
    return false;
  };
  CHECK_FALSE(connected(2, "n1"));
  CHECK_FALSE(connected(0, "n3"));
  CHECK_FALSE(connected(1, "n3"));
  CHECK(connected(0, "n2"));
  CHECK(connected(1, "n1"));
}
