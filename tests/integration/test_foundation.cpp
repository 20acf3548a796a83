#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>

#include <set>

#include "persistence/migration_files.hpp"
#include "persistence/pipeline.hpp"
#include "support/harness.hpp"

using namespace atendeai::test;

namespace {

/// Runs `atendeai <args>` to completion; returns {exit status, output}.
std::pair<int, std::string> run_binary(std::vector<std::string> args, std::map<std::string, std::string> env) {
  node_process p(std::move(args), std::move(env));
  int rc = p.wait_exit(std::chrono::seconds(60));
  return {rc, p.output()};
}

std::map<std::string, std::string> db_env(const scratch_database& db) {
  return {{"ATENDEAI_DATABASE_URL", db.url()}, {"ATENDEAI_REDIS_URL", test_redis_url()}};
}

int count_lines(const std::string& s, const std::string& needle) {
  int n = 0;
  for (size_t pos = s.find(needle); pos != std::string::npos; pos = s.find(needle, pos + 1))
    ++n;
  return n;
}

/// A migrated scratch database with clinics A and B (their ids, and "acct-a" / "acct-b"
/// for each), made as the owner; `more(tx, id, account)` adds rows for each clinic.
template <class F>
std::pair<std::string, std::string> two_clinics(scratch_database& db, F more) {
  REQUIRE(run_binary({"migrate", "up"}, db_env(db)).first == 0);
  const std::string a = "00000000-0000-4000-8000-0000000000aa";
  const std::string b = "00000000-0000-4000-8000-0000000000bb";
  auto owner = db.connect();
  pqxx::work tx(*owner);
  for (auto& [id, account] : {std::pair{a, std::string("acct-a")}, std::pair{b, std::string("acct-b")}}) {
    tx.exec_params("SELECT set_config('app.clinic_id', $1, true)", id);
    tx.exec_params("INSERT INTO atendeai.clinics (id, name) VALUES ($1, $2)", id, "Clinic " + account);
    more(tx, id, account);
  }
  tx.commit();
  return {a, b};
}

} // namespace

TEST_CASE("migrations go up, down to zero and up again on the real database", "[foundation][migrations]") {
  scratch_database db;
  // The number of migrations comes from the embedded list, so adding one changes nothing here.
  std::set<std::string> versions;
  for (auto& f : atendeai::persistence::migration_files())
    versions.insert(f.name.substr(0, f.name.find('_')));
  const int n = static_cast<int>(versions.size());
  REQUIRE(n >= 2);
  const auto applied = [](int k) { return "applied " + std::to_string(k) + " migration(s)"; };
  const auto reverted = [](int k) { return "reverted " + std::to_string(k) + " migration(s)"; };
  auto [up_rc, up_out] = run_binary({"migrate", "up"}, db_env(db));
  REQUIRE(up_rc == 0);
  CHECK_THAT(up_out, Catch::Contains(applied(n)));
  CHECK(db.scalar("SELECT count(*) FROM public.schema_migrations") == std::to_string(n));
  CHECK(db.scalar("SELECT to_regclass('atendeai.outbox') IS NOT NULL") == "t");

  auto [status_rc, status_out] = run_binary({"migrate", "status"}, db_env(db));
  CHECK(status_rc == 0);
  CHECK(count_lines(status_out, "applied  ") == n);

  auto [again_rc, again_out] = run_binary({"migrate", "up"}, db_env(db));
  CHECK(again_rc == 0);
  CHECK_THAT(again_out, Catch::Contains(applied(0)));

  auto [down1_rc, down1_out] = run_binary({"migrate", "down"}, db_env(db));
  CHECK(down1_rc == 0);
  CHECK_THAT(down1_out, Catch::Contains(reverted(1)));
  CHECK(db.scalar("SELECT count(*) FROM public.schema_migrations") == std::to_string(n - 1));
  CHECK(db.scalar("SELECT max(version) FROM public.schema_migrations")
        == std::to_string(std::stoi(*std::next(versions.rbegin()))));

  auto [down_rc, down_out] = run_binary({"migrate", "down", std::to_string(n + 3)}, db_env(db));
  CHECK(down_rc == 0);
  CHECK_THAT(down_out, Catch::Contains(reverted(n - 1)));
  CHECK(db.scalar("SELECT count(*) FROM public.schema_migrations") == "0");
  CHECK(db.scalar("SELECT count(*) FROM pg_proc WHERE proname = 'ingest_inbound'") == "0");
  CHECK(db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'atendeai'") == "0");

  auto [bad_rc, bad_out] = run_binary({"migrate", "down", "zero"}, db_env(db));
  CHECK(bad_rc == 2);
  CHECK_THAT(bad_out, Catch::Contains("positive integer"));

  auto [up2_rc, up2_out] = run_binary({"migrate", "up"}, db_env(db));
  CHECK(up2_rc == 0);
  CHECK_THAT(up2_out, Catch::Contains(applied(n)));
}

TEST_CASE("row-level security hides other clinics from the app role", "[foundation][rls]") {
  scratch_database db;
  const auto clinics = two_clinics(db, [](pqxx::work& tx, const std::string& id, const std::string& account) {
    tx.exec_params("INSERT INTO atendeai.clinic_channels (clinic_id, channel, account_id) VALUES ($1, 'whatsapp', $2)",
                   id, account);
    tx.exec_params("SELECT * FROM atendeai.ingest_inbound($1::jsonb)",
                   R"([{"channel":"whatsapp","contact":"5511900000000","contact_name":"P","ext":"wamid.)" + account
                     + R"(","type":"text","body":"oi","payload":{}}])");
  });
  const std::string &a = clinics.first, &b = clinics.second;
  auto app = db.connect();
  pqxx::work tx(*app);
  tx.exec("SET ROLE atendeai_app");
  tx.exec_params("SELECT set_config('app.clinic_id', $1, true)", a);
  for (auto table : {"clinics", "contacts", "conversations", "messages", "clinic_channels"}) {
    INFO(table);
    auto key = std::string(table) == "clinics" ? "id" : "clinic_id";
    CHECK(tx.exec_params1(std::string("SELECT count(*) FROM atendeai.") + table + " WHERE " + key + " = $1", b)[0]
            .as<int>()
          == 0);
    CHECK(tx.exec(std::string("SELECT count(*) FROM atendeai.") + table)[0][0].as<int>() >= 1);
  }
  // The system lookup still crosses tenants, narrowly.
  CHECK(tx.exec_params1("SELECT clinic_id::text FROM atendeai.resolve_channel('whatsapp', $1)", "acct-b")[0]
          .as<std::string>()
        == b);
  // Without a clinic scope the app role sees nothing at all.
  tx.exec("SELECT set_config('app.clinic_id', '', true)");
  CHECK(tx.exec("SELECT count(*) FROM atendeai.messages")[0][0].as<int>() == 0);
  tx.commit();

  // Each refusal in a transaction of its own (an error ends a transaction).
  auto as_app_for_a = [&](const std::string& sql) {
    auto c = db.connect();
    pqxx::work t(*c);
    t.exec("SET ROLE atendeai_app");
    t.exec_params("SELECT set_config('app.clinic_id', $1, true)", a);
    if (sql.find("$1") != std::string::npos)
      t.exec_params(sql, b);
    else
      t.exec(sql);
  };
  // Writing a row for B while scoped to A is refused.
  CHECK_THROWS_WITH(
    as_app_for_a("INSERT INTO atendeai.contacts (clinic_id, channel, external_id) VALUES ($1, 'whatsapp', 'x')"),
    Catch::Contains("row-level security"));
  // Changing B's rows silently touches nothing.
  {
    auto c = db.connect();
    pqxx::work t(*c);
    t.exec("SET ROLE atendeai_app");
    t.exec_params("SELECT set_config('app.clinic_id', $1, true)", a);
    CHECK(t.exec_params("UPDATE atendeai.messages SET body = 'x' WHERE clinic_id = $1", b).affected_rows() == 0);
  }
  // And it owns nothing: it cannot switch row-level security off.
  CHECK_THROWS_WITH(as_app_for_a("ALTER TABLE atendeai.messages DISABLE ROW LEVEL SECURITY"),
                    Catch::Contains("must be owner"));
}

TEST_CASE("the batch writer's multi-clinic statements keep each clinic's rows under its own scope",
          "[foundation][rls][sql]") {
  using atendeai::persistence::ingest_inbound_many;
  scratch_database db;
  const auto clinics = two_clinics(db, [](pqxx::work&, const std::string&, const std::string&) {});
  const std::string &a = clinics.first, &b = clinics.second;
  auto inbound = [](const std::string& contact, const std::string& ext) {
    return nlohmann::json{{"channel", "whatsapp"}, {"contact", contact}, {"contact_name", "P"}, {"ext", ext},
                          {"type", "text"}, {"body", "oi"}, {"payload", nlohmann::json::object()},
                          {"sent_at", nullptr}};
  };
  auto conn = db.connect();
  auto as_app = [&](auto&& f) {
    pqxx::work tx(*conn);
    tx.exec("SET LOCAL ROLE atendeai_app");
    auto out = f(tx);
    tx.commit();
    return out;
  };
  // Two messages of one contact of A and one of B, in one statement.
  nlohmann::json batch = nlohmann::json::object();
  batch[a] = nlohmann::json::array({inbound("5511900000001", "wamid.a1"), inbound("5511900000001", "wamid.a2")});
  batch[b] = nlohmann::json::array({inbound("5511900000001", "wamid.b1")});
  auto stored = as_app([&](pqxx::work& tx) { return ingest_inbound_many(tx, batch); });
  REQUIRE(stored.size() == 3);
  std::map<std::string, atendeai::persistence::ingest_result> by_ext;
  for (auto& r : stored) {
    CHECK(r.inserted);
    by_ext[r.external_id] = r;
  }
  CHECK(by_ext["wamid.a1"].clinic_id == a);
  CHECK(by_ext["wamid.a2"].conversation_id == by_ext["wamid.a1"].conversation_id);
  CHECK(by_ext["wamid.b1"].clinic_id == b);
  CHECK(by_ext["wamid.b1"].conversation_id != by_ext["wamid.a1"].conversation_id);
  {
    pqxx::work tx(*conn);
    auto per_clinic = [&](const std::string& id) {
      return tx.exec_params1("SELECT count(*) FROM atendeai.messages m JOIN atendeai.conversations c "
                             "ON c.clinic_id = m.clinic_id AND c.id = m.conversation_id WHERE m.clinic_id = $1",
                             id)[0]
        .as<int>();
    };
    CHECK(per_clinic(a) == 2);
    CHECK(per_clinic(b) == 1);
  }
  // The same batch again: every message is known, nothing new.
  for (auto& r : as_app([&](pqxx::work& tx) { return ingest_inbound_many(tx, batch); }))
    CHECK_FALSE(r.inserted);

  // A reply to a1: one outbox row of A; answered once however often it is recorded.
  const auto& a1 = by_ext["wamid.a1"];
  nlohmann::json reply = nlohmann::json::object();
  reply[a] = nlohmann::json::array({nlohmann::json{
    {"conversation_id", a1.conversation_id}, {"in_message_id", a1.message_id}, {"intent", "greeting"},
    {"confidence", 0.9}, {"channel", "whatsapp"}, {"account_id", "acct-a"}, {"recipient", "5511900000001"},
    {"state", nlohmann::json::object()}, {"handoff", false}, {"body", "Olá!"},
    {"reply", nlohmann::json{{"text", "Olá!"}}}}});
  auto outbox = as_app([&](pqxx::work& tx) { return atendeai::persistence::record_replies_many(tx, reply); });
  REQUIRE(outbox.size() == 1);
  CHECK(outbox[0].clinic_id == a);
  CHECK(outbox[0].in_reply_to == a1.message_id);
  CHECK(as_app([&](pqxx::work& tx) { return atendeai::persistence::record_replies_many(tx, reply); }).empty());

  // A delivery listed under B does not reach A's outbox row; listed under A it does, and
  // the outbound message follows.
  auto delivery = [&](const std::string& clinic, const char* status) {
    nlohmann::json rows = nlohmann::json::object();
    rows[clinic] = nlohmann::json::array({nlohmann::json{{"outbox_id", outbox[0].outbox_id}, {"status", status},
                                                         {"attempts", 1}, {"error", nullptr},
                                                         {"external_id", nullptr}}});
    return rows;
  };
  auto statuses = [&]() {
    pqxx::work tx(*conn);
    auto r = tx.exec_params("SELECT o.status, m.status FROM atendeai.outbox o JOIN atendeai.messages m "
                            "ON m.clinic_id = o.clinic_id AND m.id = o.message_id WHERE o.id = $1::uuid",
                            outbox[0].outbox_id);
    return std::pair{r[0][0].as<std::string>(), r[0][1].as<std::string>()};
  };
  as_app([&](pqxx::work& tx) {
    atendeai::persistence::record_deliveries_many(tx, delivery(b, "failed"));
    return 0;
  });
  CHECK(statuses() == std::pair<std::string, std::string>{"pending", "pending"});
  as_app([&](pqxx::work& tx) {
    atendeai::persistence::record_deliveries_many(tx, delivery(a, "sink"));
    return 0;
  });
  CHECK(statuses() == std::pair<std::string, std::string>{"sink", "sink"});

  // Memory in one statement: a1 answered and its reply, a2 not yet handled; nothing of
  // A's conversation is visible when asked as B.
  auto mem = atendeai::persistence::load_conversation_memory(*conn, a, a1.conversation_id, 10);
  REQUIRE(mem.messages.size() == 2);
  CHECK(mem.messages[0] == std::pair<std::string, std::string>{"in", "oi"});
  CHECK(mem.messages[1] == std::pair<std::string, std::string>{"out", "Olá!"});
  CHECK(mem.recent_external_ids == std::vector<std::string>{"wamid.a1"});
  CHECK(mem.known_contact);
  CHECK(mem.state.is_object());
  {
    pqxx::work tx(*conn);
    tx.exec("SET LOCAL ROLE atendeai_app");
    auto other = nlohmann::json::parse(
      tx.exec_params1("SELECT atendeai.conversation_memory_of($1::uuid, $2::uuid, 10)::text", b, a1.conversation_id)[0]
        .as<std::string>());
    CHECK(other["messages"].empty());
    CHECK(other["state"].is_null());
  }
}

TEST_CASE("bad configuration and unreachable services end the process with exit 2 and one line", "[foundation][cli]") {
  scratch_database db;
  auto env = node_env(db, free_port(), {});
  {
    auto e = env;
    e["ATENDEAI_HTTP_PORT"] = "99999";
    auto [rc, out] = run_binary({"serve"}, e);
    CHECK(rc == 2);
    CHECK_THAT(out, Catch::Contains("http.port"));
  }
  {
    auto [rc, out] = run_binary({"serve", "--persistence-batch-max-rows", "many"}, env);
    CHECK(rc == 2);
    CHECK_THAT(out, Catch::Contains("persistence.batch_max_rows"));
  }
  {
    auto e = env;
    e["ATENDEAI_DATABASE_URL"] = "postgresql://atendeai@127.0.0.1:1/none";
    e["ATENDEAI_DATABASE_CONNECT_TIMEOUT_S"] = "2";
    auto [rc, out] = run_binary({"serve"}, e);
    CHECK(rc == 2);
    CHECK_THAT(out, Catch::Contains("PostgreSQL at postgresql://atendeai@127.0.0.1:1/none is unreachable"));
    CHECK(count_lines(out, "\n") == 1);
  }
  {
    auto e = env;
    e.erase("ATENDEAI_WHATSAPP_APP_SECRET");
    auto [rc, out] = run_binary({"serve"}, e);
    CHECK(rc == 2);
    CHECK_THAT(out, Catch::Contains("whatsapp.app_secret"));
  }
  {
    auto [rc, out] = run_binary({"frobnicate"}, env);
    CHECK(rc == 2);
    CHECK_THAT(out, Catch::Contains("unknown command"));
  }
  {
    auto [rc, out] = run_binary({"version"}, env);
    CHECK(rc == 0);
    CHECK_THAT(out, Catch::StartsWith("atendeai "));
  }
}

TEST_CASE("health follows PostgreSQL and Redis, and recovers", "[foundation][health]") {
  scratch_database db;
  int port = free_port();
  node_process node({"serve"}, node_env(db, port, {}));
  REQUIRE(node.wait_ready());
  auto ok = http_get(node.url("/health"));
  REQUIRE(ok.status == 200);
  auto j = ok.json();
  CHECK(j["status"] == "ok");
  CHECK(j["node_id"] == "n1");
  CHECK(j["postgres"]["status"] == "ok");
  CHECK(j["redis"]["status"] == "ok");
  CHECK(j.contains("version"));
  CHECK(j["uptime_s"].is_number());
  CHECK(ok.headers["x-content-type-options"] == "nosniff");

  services("stop", "redis");
  CHECK(eventually([&] {
    auto r = http_get(node.url("/health"));
    return r.status == 200 && r.json()["status"] == "degraded" && r.json()["redis"]["status"] == "down";
  }));
  services("start", "redis");
  CHECK(eventually([&] { return http_get(node.url("/health")).json()["status"] == "ok"; }));

  services("stop", "pg");
  CHECK(eventually([&] {
    auto r = http_get(node.url("/health"));
    return r.status == 503 && r.json()["status"] == "down" && r.json()["postgres"]["status"] == "down";
  }));
  services("start", "pg");
  CHECK(eventually([&] {
    auto r = http_get(node.url("/health"));
    return r.status == 200 && r.json()["status"] == "ok";
  }, std::chrono::seconds(60)));
  CHECK(node.stop(SIGTERM) == 0);
}

TEST_CASE("metrics pass promtool and count requests", "[foundation][metrics]") {
  scratch_database db;
  node_process node({"serve"}, node_env(db, free_port(), {}));
  REQUIRE(node.wait_ready());
  for (int i = 0; i < 5; ++i)
    REQUIRE(http_get(node.url("/health")).status == 200);
  auto missing = http_get(node.url("/no/such/route"));
  CHECK(missing.status == 404);
  CHECK(missing.json()["error"]["code"] == "not_found");
  auto m = http_get(node.url("/metrics"));
  REQUIRE(m.status == 200);
  CHECK_THAT(m.headers["content-type"], Catch::StartsWith("text/plain; version=0.0.4"));
  CHECK_THAT(m.body, Catch::Contains("atendeai_http_requests_total{route=\"/health\",status=\"200\"} "));
  auto pos = m.body.find("atendeai_http_requests_total{route=\"/health\",status=\"200\"} ");
  auto count = std::stoi(m.body.substr(pos + std::string("atendeai_http_requests_total{route=\"/health\",status=\"200\"} ").size()));
  CHECK(count >= 5);
  CHECK_THAT(m.body, Catch::Contains("atendeai_http_request_duration_seconds_bucket{route=\"/health\",le=\"+Inf\"}"));
  CHECK_THAT(m.body, Catch::Contains("process_resident_memory_bytes "));
  auto [rc, report] = promtool_check_metrics(m.body);
  INFO(report);
  CHECK(rc == 0);
  CHECK(node.stop(SIGTERM) == 0);
}
