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

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include "core/cluster.hpp"
#include "core/signature.hpp"
#include "core/whatsapp.hpp"
#include "support/admin_api.hpp"
#include "support/chat.hpp"
#include "support/harness.hpp"
#include "support/pipeline_node.hpp"

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
struct cluster : pipeline_records {
  std::vector<std::string> clinics = clinic_ids();
  std::vector<int> http_ports = {free_port(), free_port(), free_port()};
  std::vector<int> cluster_ports = {free_port(), free_port(), free_port()};
  std::vector<std::unique_ptr<node_process>> nodes{3};
  std::map<std::string, std::string> extra_env; ///< more ATENDEAI_* settings for every node
  std::vector<std::map<std::string, std::string>> per_node_env{3}; ///< and for one node

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
    node_options o{graph.base_url(),
                   "test-token",
                   {{"ATENDEAI_CLUSTER_NAME", db.name()}, // this test's own cluster in the shared Redis
                    {"ATENDEAI_CLUSTER_HEARTBEAT_MS", "500"},
                    {"ATENDEAI_CLUSTER_DEAD_AFTER_MS", "1500"}}};
    for (auto& [k, v] : extra_env)
      o.env[k] = v;
    for (auto& [k, v] : per_node_env[i])
      o.env[k] = v;
    nodes[i] = serve_node(db, o, http_ports[i], args);
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

  /// Every stored message answered, `replies` replies recorded as sent and at the sink
  /// (three nodes: more time than one node's pipeline).
  bool settled(long replies, std::chrono::milliseconds timeout = 90s) const {
    return pipeline_records::settled(replies, timeout);
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
double metric(const node_process& node, const std::string& series) { return scrape_metrics(node)[series]; }

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
  // Each node has missed enough heartbeats (every 500 ms) to span more than
  // cluster.dead_after_ms (1.5 s): every heartbeat in Redis would have expired.
  REQUIRE(eventually(
    [&] {
      for (size_t i = 0; i < 3; ++i)
        if (scrape_metrics(*c.nodes[i])["atendeai_cluster_heartbeat_failures_total"] < 5)
          return false;
      return true;
    },
    30s));
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
  auto first = serve_node(db, {"", "", {{"ATENDEAI_CLUSTER_NAME", db.name()}}}, port,
                          {"serve", "--node-id", "n1", "--cluster-port", std::to_string(taken)});
  node_process second({"serve", "--node-id", "n2", "--cluster-port", std::to_string(taken)},
                      node_env(db, free_port(), {"", "", {{"ATENDEAI_CLUSTER_NAME", db.name()}}}));
  CHECK(second.wait_exit(60s) == 2);
  CHECK_THAT(second.output(), Catch::Contains("cluster.port") && Catch::Contains(std::to_string(taken)));
  // The first node is untouched and alone in its view.
  auto h = http_get(first->url("/health")).json();
  CHECK(h["cluster"]["members"].size() == 1);
}

// -- the admin API in a cluster ----------------------------------------------------------

namespace {

using namespace atendeai::test::demo;

const char* staff_password = "Cluster-staff-42";

/// The cluster with the admin API in use: one JWT key on every node, this test's own var
/// directory (the demo administrators' passwords), rate limits out of the way, and the
/// agenda tests' clock (Monday 2030-03-04 09:00 in São Paulo). The demo clinic is the one
/// patients write to; its rendezvous owner is computed, the tests ask the others.
struct admin_cluster : cluster {
  std::string var_dir = test_var_dir("cluster", db);
  std::string super;
  int next_user = 0;
  int next_wamid = 0;

  admin_cluster() {
    extra_env = admin_settings("cluster-tests-jwt-secret-0123456789abcdef", var_dir);
    extra_env["ATENDEAI_TEST_CLOCK"] = "2030-03-04T12:00:00Z";
    use_test_clock_for_webhooks(extra_env["ATENDEAI_TEST_CLOCK"]);
    start_all();
    super = demo_admin_token(*nodes[0], var_dir, super_admin_email);
    REQUIRE(!super.empty());
  }

  /// The index of the demo clinic's owner, and of the two other nodes.
  size_t owner_index() const {
    auto id = atendeai::core::rendezvous_owner(clinic_id, node_ids);
    return static_cast<size_t>(std::find(node_ids.begin(), node_ids.end(), id) - node_ids.begin());
  }
  std::vector<size_t> others() const {
    std::vector<size_t> out;
    for (size_t i = 0; i < 3; ++i)
      if (i != owner_index())
        out.push_back(i);
    return out;
  }

  /// A user of the demo clinic with `role`: {id, access token}.
  std::pair<std::string, std::string> user(const std::string& role) {
    auto email = role + "-" + std::to_string(++next_user) + "@cluster.test";
    auto r = api(*nodes[0], super, "POST", "/api/v1/users",
                 json{{"email", email}, {"password", staff_password}, {"role", role}, {"name", "Equipe"},
                      {"clinic_id", clinic_id}}
                   .dump());
    INFO(r.body);
    REQUIRE(r.status == 201);
    auto token = api_login(*nodes[0], email, staff_password);
    REQUIRE(!token.empty());
    return {r.json()["id"], token};
  }

  /// An admin API call on node i.
  http_response call(size_t i, const std::string& token, const std::string& method, const std::string& path,
                     const json& body = nullptr) {
    return api(*nodes[i], token, method, path, body.is_null() ? std::string() : body.dump());
  }

  /// The patient writes `text` to the demo clinic through node i; the wamid.
  std::string write(size_t i, const std::string& patient, const std::string& text) {
    auto wamid = "wamid.admin-cl-" + std::to_string(++next_wamid);
    REQUIRE(post_webhook(*nodes[i], webhook_body({{patient, wamid, text}})).status == 200);
    return wamid;
  }

  /// The patient writes through node i and gets exactly one reply: its text.
  std::string say(size_t i, const std::string& patient, const std::string& text) {
    auto wamid = "wamid.admin-cl-" + std::to_string(++next_wamid);
    INFO(logs()[owner_index()]);
    return text_of(exchange(*nodes[i], db, graph, patient, webhook_body({{patient, wamid, text}}), 60s));
  }

  std::string conversation_of(const std::string& patient) const {
    return db.scalar("SELECT cv.id::text FROM atendeai.conversations cv JOIN atendeai.contacts ct "
                     "ON ct.clinic_id = cv.clinic_id AND ct.id = cv.contact_id WHERE ct.external_id = '"
                     + patient + "'");
  }
};

std::string demo_path(const std::string& rest) { return "/api/v1/clinics/" + clinic_id + rest; }

/// The starts_at of every slot of an answer.
std::vector<std::string> starts_of(const http_response& r) {
  std::vector<std::string> out;
  auto slots = r.json()["slots"];
  for (auto& s : slots)
    out.push_back(s["starts_at"]);
  return out;
}

} // namespace

TEST_CASE("Cluster admin API: bookings through non-owner nodes are serialised by the owner's clinic actor",
          "[cluster][cluster_api]") {
  admin_cluster c;
  auto owner = c.owner_index();
  auto others = c.others();
  auto [attendant_id, attendant] = c.user("attendant");
  auto slots_via = [&](size_t i) {
    auto r = c.call(i, attendant, "GET",
                    demo_path("/slots?service_id=" + cardio + "&professional_id=" + ana + "&from=2030-03-06&to=2030-03-06"));
    INFO(r.body);
    REQUIRE(r.status == 200);
    return starts_of(r);
  };
  // Every node answers the same agenda (each would have loaded its own if it ran the clinic).
  auto before = slots_via(owner);
  REQUIRE(before.size() == 10);
  CHECK(slots_via(others[0]) == before);
  CHECK(slots_via(others[1]) == before);

  const std::string ten = "2030-03-06T10:00:00-03:00";
  auto book = [&](size_t via, const std::string& phone) {
    return c.call(via, attendant, "POST", demo_path("/appointments"),
                  {{"service_id", cardio},
                   {"professional_id", ana},
                   {"starts_at", ten},
                   {"patient", {{"phone", phone}, {"name", "Paciente Cluster"}}}});
  };
  auto created = book(others[0], "5511900004001");
  INFO(created.body);
  REQUIRE(created.status == 201);
  auto refused = book(others[1], "5511900004002");
  INFO(refused.body);
  CHECK(refused.status == 409);
  CHECK(refused.json()["error"]["field"] == "starts_at");
  REQUIRE(refused.json()["error"]["alternatives"].is_array());
  CHECK(!refused.json()["error"]["alternatives"].empty());
  // Taken for every node, the owner included.
  for (size_t i = 0; i < 3; ++i) {
    INFO("via " << node_ids[i]);
    auto after = slots_via(i);
    CHECK(after.size() == 9);
    CHECK(std::find(after.begin(), after.end(), ten) == after.end());
  }
  CHECK(c.count("SELECT count(*) FROM atendeai.appointments WHERE starts_at = '2030-03-06T13:00:00Z' "
                "AND status IN ('scheduled', 'confirmed')")
        == 1);
  // The other nodes passed their requests to the owner, which served its own.
  for (auto i : others)
    CHECK(metric(*c.nodes[i], "atendeai_api_forwarded_total{outcome=\"answered\"}") >= 3);
  CHECK(metric(*c.nodes[owner], "atendeai_api_forwarded_total{outcome=\"answered\"}") == 0);
}

TEST_CASE("Cluster admin API: staff reply, release and inspection through non-owner nodes reach the live "
          "conversation on the owner",
          "[cluster][cluster_api]") {
  admin_cluster c;
  auto owner = c.owner_index();
  auto others = c.others();
  auto [attendant_id, attendant] = c.user("attendant");
  auto [admin_id, admin] = c.user("clinic_admin");
  const std::string patient = "5511900005001";
  REQUIRE(!c.say(others[0], patient, "oi").empty());
  auto cid = c.conversation_of(patient);
  REQUIRE(!cid.empty());

  // Inspection through a non-owner answers the owner's live actors.
  auto live = c.call(others[1], admin, "GET", "/api/v1/admin/conversations/" + cid);
  INFO(live.body);
  REQUIRE(live.status == 200);
  CHECK(live.json()["live"] == true);
  CHECK(live.json()["node"] == node_ids[owner]);
  CHECK(live.json()["memory"].size() == 2);
  auto actors = c.call(others[0], admin, "GET", "/api/v1/admin/clinics/" + clinic_id + "/actors");
  INFO(actors.body);
  REQUIRE(actors.status == 200);
  CHECK(actors.json()["clinic"]["node"] == node_ids[owner]);
  CHECK(contains_text(actors.json()["conversations"].dump(), cid));

  // A staff reply through a non-owner: delivered, stored with the staff user.
  const std::string text = "Olá! Aqui é a recepção, posso ajudar?";
  auto r = c.call(others[0], attendant, "POST", demo_path("/conversations/" + cid + "/messages"), {{"text", text}});
  INFO(r.body);
  REQUIRE(r.status == 201);
  CHECK(r.json()["staff_user_id"] == attendant_id);
  REQUIRE(eventually([&] { return sent_to(c.graph, patient).size() == 2; }, 30s));
  CHECK(text_of(sent_to(c.graph, patient).back()) == text);
  CHECK(c.db.scalar("SELECT direction || ' ' || staff_user_id FROM atendeai.messages WHERE id = '"
                    + r.json()["id"].get<std::string>() + "'")
        == "out " + attendant_id);
  // The live conversation took it over: it remembers the reply and stays silent.
  auto after = c.call(others[1], admin, "GET", "/api/v1/admin/conversations/" + cid).json();
  CHECK(after["node"] == node_ids[owner]);
  CHECK(after["handoff"] == true);
  CHECK(after["memory"].back() == json{{"direction", "out"}, {"text", text}});
  auto quiet = c.write(others[1], patient, "obrigado, aguardo");
  REQUIRE(eventually([&] {
    return c.db.scalar("SELECT count(*) FROM atendeai.messages WHERE external_id = '" + quiet
                       + "' AND answered_at IS NOT NULL")
           == "1";
  }));
  REQUIRE(quiescent(c.db)); // a reply would have been delivered by now
  CHECK(sent_to(c.graph, patient).size() == 2);

  // Released through the other non-owner: the assistant answers the next message.
  auto released = c.call(others[1], attendant, "POST", demo_path("/conversations/" + cid + "/release"));
  INFO(released.body);
  REQUIRE(released.status == 200);
  CHECK(contains_text(c.say(others[0], patient, "qual o endereço?"), "Rua Exemplo, 123"));

  // The nodes and actors views list every node, each reporting itself.
  auto nodes = c.call(others[0], c.super, "GET", "/api/v1/admin/nodes");
  INFO(nodes.body);
  REQUIRE(nodes.status == 200);
  std::set<std::string> ids;
  auto listed = nodes.json()["nodes"];
  for (auto& n : listed) {
    ids.insert(n.value("id", ""));
    CHECK(n.contains("uptime_s"));
    CHECK(contains_text(n["clinics_owned"].dump(), clinic_id) == (n.value("id", "") == node_ids[owner]));
  }
  CHECK(ids == std::set<std::string>(node_ids.begin(), node_ids.end()));
  auto totals = c.call(others[1], c.super, "GET", "/api/v1/admin/actors");
  INFO(totals.body);
  REQUIRE(totals.status == 200);
  CHECK(totals.json()["nodes"].size() == 3);
  CHECK(totals.json()["counts"]["router"] == 3);
  CHECK(totals.json()["counts"]["clinic"] >= 1);
}

TEST_CASE("Cluster admin API: a catalogue change committed through a non-owner shows in the owner's next reply",
          "[cluster][cluster_api]") {
  admin_cluster c;
  auto others = c.others();
  auto [admin_id, admin] = c.user("clinic_admin");
  const std::string patient = "5511900006001";
  // The owner's clinic actor and this conversation are live before the change.
  auto first = c.say(others[0], patient, "quais serviços vocês oferecem?");
  CHECK(contains_text(first, "Cardiologia"));
  CHECK_FALSE(contains_text(first, "Pediatria"));
  auto s = c.call(others[1], admin, "POST", demo_path("/services"),
                  {{"name", "Pediatria"}, {"duration_minutes", 60}, {"price", 180}});
  INFO(s.body);
  REQUIRE(s.status == 201);
  auto second = c.say(others[0], patient, "quais serviços vocês oferecem?");
  CHECK(contains_text(second, "Pediatria"));
}

TEST_CASE("A joining node answers, exactly once, a message left unanswered for a clinic it now owns", "[cluster]") {
  cluster c;
  c.start(0);
  c.add_clinics();
  c.start(1);
  REQUIRE(c.converged(2));
  size_t k = 0;
  while (c.owner(k) != "n3")
    ++k;
  // Stored by the pipeline's own function and never answered, as if its owner had died
  // right after the commit (n1/n2's periodic sweep takes only messages older than 30 s).
  const std::string wamid = "wamid.left-for-n3";
  const std::string from = patient(7000);
  atendeai::core::inbound_message m;
  m.account_id = account_of(k);
  m.contact = from;
  m.external_id = wamid;
  m.type = "text";
  m.text = "Qual o endereço da clínica?";
  {
    auto conn = c.db.connect();
    pqxx::work tx(*conn);
    json rows = json::array({{{"ord", 0}, {"channel", "whatsapp"}, {"account", m.account_id}, {"contact", from},
                              {"contact_name", nullptr}, {"id", "018f0000-0000-7000-8000-0000000000c3"},
                              {"ext", wamid}, {"type", "text"}, {"body", m.text},
                              {"payload", atendeai::core::to_json(m)}, {"sent_at", nullptr}}});
    REQUIRE(tx.exec_params("SELECT * FROM atendeai.ingest_batch($1::jsonb, '[]')", rows.dump()).size() == 1);
    // Stored 10 s ago: older than the joining sweep's minimum age (cluster.dead_after_ms,
    // 2 s here) however fast n3 starts, younger than the periodic sweep's 30 s.
    tx.exec_params("UPDATE atendeai.inbound_messages SET created_at = now() - interval '10 seconds' "
                   "WHERE external_id = $1",
                   wamid);
    tx.commit();
  }
  REQUIRE(c.inbound(wamid) == 1);
  REQUIRE(c.unanswered() == 1);

  c.start(2);
  REQUIRE(c.converged(3));
  REQUIRE(eventually([&] { return c.replies_to(wamid) == 1 && c.sink_counts()[from] == 1; }, 60s));
  REQUIRE(quiescent(c.db, 60s)); // a second answer would have been delivered by now
  CHECK(c.replies_to(wamid) == 1);
  CHECK(c.sink_counts()[from] == 1);
  CHECK(c.unanswered() == 0);
  auto logs = c.logs();
  CHECK(c.handled_on(wamid, logs) == std::vector<std::string>{"n3"});
  // Picked up by the joining node's delayed sweep.
  CHECK(contains_text(logs[2], "\"why\":\"join\""));
}

namespace {

/// Runs a program with its arguments (no shell, output discarded) and waits; its exit status.
int run_program(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t quiet;
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int spawned = posix_spawnp(&pid, argv[0], &quiet, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&quiet);
  if (spawned != 0)
    return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace

TEST_CASE("A clinic whose owner is in the view but not connected: its messages are held, never answered by "
          "another node, and answered once when the view changes, and its admin API answers 503 naming the owner",
          "[cluster]") {
  admin_cluster c;
  // A member that heartbeats in Redis but cannot be connected to (nothing listens at its
  // cluster address), chosen so that it owns one of the test clinics.
  std::string ghost;
  size_t k = 0;
  for (auto candidate : {"n0", "n4", "n5", "n6", "n7"}) {
    for (k = 0; k < c.clinics.size(); ++k)
      if (c.owner(k, {candidate, "n1", "n2", "n3"}) == candidate)
        break;
    if (k < c.clinics.size()) {
      ghost = candidate;
      break;
    }
  }
  REQUIRE(!ghost.empty());
  atendeai::core::cluster_member member{ghost, "127.0.0.1:" + std::to_string(free_port()), "127.0.0.1:1", 1};
  std::atomic<bool> beating{true};
  std::thread heartbeat([&] {
    auto prefix = c.db.name() + ":cluster:";
    while (beating) {
      run_program({"redis-cli", "-u", test_redis_url(), "SET", prefix + "node:" + ghost,
                   atendeai::core::member_to_json(member), "PX", "1500"});
      run_program({"redis-cli", "-u", test_redis_url(), "SADD", prefix + "nodes", ghost});
      std::this_thread::sleep_for(300ms);
    }
  });
  struct stop_beating {
    std::atomic<bool>& flag;
    std::thread& t;
    ~stop_beating() {
      flag = false;
      if (t.joinable())
        t.join();
    }
  } stop{beating, heartbeat};
  // Every node sees the ghost, not connected.
  REQUIRE(eventually(
    [&] {
      for (size_t i = 0; i < 3; ++i) {
        auto h = c.health(i);
        if (!h.is_object() || h["cluster"]["members"].size() != 4)
          return false;
      }
      return true;
    },
    30s));

  const std::string wamid = "wamid.for-the-ghost";
  const std::string from = patient(8000);
  REQUIRE(post_webhook(*c.nodes[0], webhook_body({{from, wamid, "Qual o horário de funcionamento?"}}, account_of(k)))
            .status
          == 200);
  CHECK(c.inbound(wamid) == 1);
  // Held on n1, then left to the owner's sweep: never answered while the ghost owns the clinic.
  REQUIRE(eventually([&] { return metric(*c.nodes[0], "atendeai_cluster_held_total{outcome=\"left_to_sweep\"}") >= 1; },
                     30s));
  CHECK(metric(*c.nodes[0], "atendeai_cluster_held_total{outcome=\"held\"}") >= 1);
  CHECK(c.replies_to(wamid) == 0);
  CHECK(c.handled_on(wamid, c.logs()).empty());
  // The clinic's admin routes that need its actors cannot run anywhere else: 503, retryable.
  auto refused = c.call(1, c.super, "GET",
                        "/api/v1/clinics/" + c.clinics[k] + "/slots?service_id=" + cardio + "&from=2030-03-06&to=2030-03-06");
  INFO(refused.body);
  CHECK(refused.status == 503);
  CHECK(refused.json()["error"]["code"] == "service_unavailable");
  CHECK(refused.json()["error"]["node"] == ghost);
  CHECK(refused.json()["error"]["retryable"] == true);
  CHECK(refused.headers["retry-after"] == "1");
  // Routes served from PostgreSQL still answer on any node.
  CHECK(c.call(2, c.super, "GET", "/api/v1/clinics/" + c.clinics[k] + "/appointments").status == 200);
  // The nodes view lists the ghost as unreachable, next to the three that report themselves.
  auto listed = c.call(0, c.super, "GET", "/api/v1/admin/nodes").json()["nodes"];
  INFO(listed.dump());
  REQUIRE(listed.size() == 4);
  for (auto& n : listed)
    CHECK(n.contains("uptime_s") == (n.value("id", "") != ghost));
  CHECK(contains_text(listed.dump(), json{{"id", ghost}, {"status", "unreachable"}}.dump()));

  // The ghost's heartbeat stops: the clinic moves to a live node, which answers it once.
  beating = false;
  heartbeat.join();
  REQUIRE(c.converged(3));
  REQUIRE(eventually([&] { return c.replies_to(wamid) == 1 && c.sink_counts()[from] == 1; }, 60s));
  REQUIRE(quiescent(c.db, 60s)); // a second answer would have been delivered by now
  CHECK(c.replies_to(wamid) == 1);
  CHECK(c.sink_counts()[from] == 1);
  CHECK(c.handled_on(wamid, c.logs()) == std::vector<std::string>{c.owner(k)});
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
  c.per_node_env = {certs("a"), certs("a"), certs("b")};

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
  // n1 and n2 stay linked. (CAF may drop their proxies of each other while n3's refused
  // handshakes go on; membership links them again within a heartbeat, holding their
  // clinics' messages meanwhile: see README, Cluster.)
  CHECK(eventually([&] { return connected(0, "n2") && connected(1, "n1"); }, 10s));
}

TEST_CASE("A reminder claimed by a node killed before sending it goes out once, from the clinic's next owner",
          "[cluster][reminders]") {
  admin_cluster c;
  auto owner = c.owner_index();
  auto others = c.others();
  auto [admin_id, admin] = c.user("clinic_admin");
  const std::string patient = "5511900006101";
  c.say(others[0], patient, "oi"); // Monday 09:00 in São Paulo: the window is open
  REQUIRE(c.call(others[0], admin, "PUT", demo_path("/reminders"),
                 {{"notify_staff_changes", {{"created", false}, {"moved", false}, {"cancelled", false}}}})
            .status == 200);
  auto booked = c.call(others[1], admin, "POST", demo_path("/appointments"),
                       {{"service_id", cardio},
                        {"professional_id", ana},
                        {"starts_at", "2030-03-06T10:00:00-03:00"},
                        {"patient", {{"phone", patient}}}});
  INFO(booked.body);
  REQUIRE(booked.status == 201);
  const auto aid = booked.json()["id"].get<std::string>();
  const std::string job_where = " FROM atendeai.jobs WHERE kind = 'reminder' AND payload ->> 'offset_minutes' = '1440' "
                                "AND payload ->> 'appointment_id' = '" + aid + "'";
  REQUIRE(eventually([&] { return c.db.scalar("SELECT state" + job_where) == "pending"; }));
  const auto job = c.db.scalar("SELECT id::text" + job_where);

  // The owner claimed it (its lease in the row, due now) and was killed before sending.
  c.nodes[owner]->stop(SIGKILL);
  {
    auto conn = c.db.connect();
    pqxx::work tx(*conn);
    tx.exec("UPDATE atendeai.jobs SET state = 'running', claimed_by = '" + node_ids[owner] +
            "', claimed_at = '2030-03-04T12:00:00Z', attempts = 1, due_at = '2030-03-04T12:00:00Z' WHERE id = '" +
            job + "'");
    tx.commit();
  }
  REQUIRE(c.converged(2));
  // The lease (2 minutes) runs out on the survivors' clocks: the clinic's new owner claims it.
  for (auto i : others)
    REQUIRE(http_post(c.nodes[i]->url("/test/clock"), json{{"advance_s", 180}}.dump()).status == 200);
  REQUIRE(eventually([&] { return c.db.scalar("SELECT state" + job_where) == "done"; }, 60s));
  const std::vector<std::string> survivors = {node_ids[others[0]], node_ids[others[1]]};
  CHECK(c.db.scalar("SELECT attempts::text || ' ' || claimed_by" + job_where) ==
        "2 " + atendeai::core::rendezvous_owner(clinic_id, survivors));
  REQUIRE(eventually([&] { return sent_to(c.graph, patient).size() == 2; }, 30s));
  auto reminder = sent_to(c.graph, patient)[1];
  INFO(reminder.dump());
  CHECK(contains_text(reminder.dump(), "Lembrete da sua consulta"));

  // The killed node comes back and takes its clinic again: the job is done, nothing goes twice.
  c.start(owner);
  REQUIRE(c.converged(3));
  REQUIRE(http_post(c.nodes[owner]->url("/test/clock"), json{{"advance_s", 180}}.dump()).status == 200);
  CHECK(c.say(owner, patient, "qual o endereço?").find("Rua Exemplo") != std::string::npos);
  CHECK(sent_to(c.graph, patient).size() == 3); // the answer, no second reminder
  CHECK(c.db.scalar("SELECT count(*) FROM atendeai.outbound_messages WHERE cause_id = '" + job + "'") == "1");
}
