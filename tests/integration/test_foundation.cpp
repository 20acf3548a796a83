#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>

#include <set>

#include "persistence/migration_files.hpp"
#include "persistence/migrations.hpp"
#include "persistence/pipeline.hpp"
#include "support/harness.hpp"

using namespace atendeai::test;
using nlohmann::json;

namespace {

/// Reverts the migration named `name` and every applied one after it, whatever their
/// number (numbers are given at merge); returns how many were reverted.
int migrate_down_through(pqxx::connection& conn, const std::string& name) {
  int steps = 0;
  auto all = atendeai::persistence::migration_status(conn);
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (!it->applied)
      continue;
    ++steps;
    if (it->name == name)
      return atendeai::persistence::migrate_down(conn, steps);
  }
  FAIL("migration " << name << " is not applied");
  return 0;
}

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

/// The set-based functions take JSON texts; the tests build their rows as trees.
std::vector<atendeai::persistence::ingest_result> ingest_rows(pqxx::transaction_base& tx, const json& messages,
                                                              const json& statuses) {
  return atendeai::persistence::ingest_batch(tx, messages.dump(), statuses.dump());
}

std::vector<atendeai::persistence::outcome_result> record_rows(pqxx::transaction_base& tx, const json& outcomes,
                                                               const json& deliveries) {
  return atendeai::persistence::record_outcomes(tx, outcomes.dump(), deliveries.dump());
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
  // The per-message path checks no foreign key: inbound, outbound, delivery and status
  // rows, and a new contact's contact, conversation and memory rows.
  CHECK(db.scalar("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY (ARRAY["
                  "'atendeai.inbound_messages', 'atendeai.outbound_messages', 'atendeai.delivery_events', "
                  "'atendeai.message_statuses', 'atendeai.contacts', 'atendeai.conversations', "
                  "'atendeai.conversation_memory']::regclass[])")
        == "0");

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
    tx.exec_params("SELECT * FROM atendeai.ingest_batch($1::jsonb, '[]')",
                   R"([{"ord":0,"channel":"whatsapp","account":")" + account
                     + R"(","contact":"5511900000000","contact_name":"P","id":")" + id + R"(","ext":"wamid.)"
                     + account + R"(","type":"text","body":"oi","payload":{}}])");
  });
  const std::string &a = clinics.first, &b = clinics.second;
  auto app = db.connect();
  pqxx::work tx(*app);
  tx.exec("SET ROLE atendeai_app");
  tx.exec_params("SELECT set_config('app.clinic_id', $1, true)", a);
  // (messages is a view over inbound_messages and outbound_messages: security_invoker
  // keeps the caller's row-level security.)
  for (auto table : {"clinics", "contacts", "conversations", "messages", "inbound_messages", "clinic_channels"}) {
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
    CHECK(t.exec_params("UPDATE atendeai.inbound_messages SET body = 'x' WHERE clinic_id = $1", b).affected_rows() == 0);
  }
  // And it owns nothing: it cannot switch row-level security off.
  CHECK_THROWS_WITH(as_app_for_a("ALTER TABLE atendeai.inbound_messages DISABLE ROW LEVEL SECURITY"),
                    Catch::Contains("must be owner"));
}

TEST_CASE("the pipeline's set-based statements derive every row's clinic and never write into another tenant",
          "[foundation][rls][sql]") {
  using atendeai::persistence::ingest_batch;
  using atendeai::persistence::record_outcomes;
  scratch_database db;
  const auto clinics = two_clinics(db, [](pqxx::work& tx, const std::string& id, const std::string& account) {
    tx.exec_params("INSERT INTO atendeai.clinic_channels (clinic_id, channel, account_id) VALUES ($1, 'whatsapp', $2)",
                   id, account);
  });
  const std::string &a = clinics.first, &b = clinics.second;
  auto inbound = [&b](int ord, const std::string& account, const std::string& contact, const std::string& ext) {
    char id[40];
    std::snprintf(id, sizeof id, "018f0000-0000-7000-8000-%012d", ord + 1);
    return json{{"ord", ord}, {"channel", "whatsapp"}, {"account", account}, {"contact", contact},
                {"contact_name", "P"}, {"id", id}, {"ext", ext}, {"type", "text"}, {"body", "oi " + ext},
                {"payload", json::object()}, {"sent_at", nullptr},
                // what a node might claim: never read, the account decides
                {"clinic_id", b}};
  };
  auto conn = db.connect();
  auto as_app = [&](auto&& f) {
    pqxx::work tx(*conn);
    tx.exec("SET LOCAL ROLE atendeai_app");
    auto out = f(tx);
    tx.commit();
    return out;
  };
  // One statement for both clinics and an unknown account: two messages of one patient
  // of A, one of B, one nobody's.
  auto batch = json::array({inbound(0, "acct-a", "5511900000001", "wamid.a1"),
                            inbound(1, "acct-a", "5511900000001", "wamid.a2"),
                            inbound(2, "acct-b", "5511900000001", "wamid.b1"),
                            inbound(3, "acct-nobody", "5511900000001", "wamid.x1")});
  auto stored = as_app([&](pqxx::work& tx) { return ingest_rows(tx, batch, json::array()); });
  REQUIRE(stored.size() == 3);
  std::map<int, atendeai::persistence::ingest_result> by_ord;
  for (auto& r : stored) {
    CHECK(r.inserted);
    CHECK(r.new_conversation);
    by_ord[r.ord] = r;
  }
  CHECK(by_ord[0].clinic_id == a);
  CHECK(by_ord[1].clinic_id == a);
  CHECK(by_ord[1].conversation_id == by_ord[0].conversation_id);
  CHECK(by_ord[2].clinic_id == b);
  CHECK(by_ord[2].conversation_id != by_ord[0].conversation_id);
  CHECK(by_ord.count(3) == 0);
  CHECK(db.scalar("SELECT count(*) FROM atendeai.inbound_messages WHERE clinic_id = '" + a + "'") == "2");
  CHECK(db.scalar("SELECT count(*) FROM atendeai.inbound_messages WHERE clinic_id = '" + b + "'") == "1");
  CHECK(db.scalar("SELECT count(*) FROM atendeai.inbound_messages WHERE external_id = 'wamid.x1'") == "0");
  // The same batch again: every message known, no new conversation.
  for (auto& r : as_app([&](pqxx::work& tx) { return ingest_rows(tx, batch, json::array()); })) {
    CHECK_FALSE(r.inserted);
    CHECK_FALSE(r.new_conversation);
  }

  // A reply to a1 recorded as A's: written, from a1's own account to a1's patient. The
  // same reply claimed for B, or B's reply pointing at A's message, writes nothing.
  const auto& a1 = by_ord[0];
  auto reply = [&](int ord, const std::string& clinic, const std::string& cause, const std::string& id) {
    return json{{"ord", ord}, {"clinic", clinic}, {"conversation", nullptr}, {"kind", "reply"}, {"cause", cause},
                {"id", id}, {"account", "acct-b"}, {"recipient", "5511999999999"}, {"body", "Olá!"},
                {"payload", json{{"text", "Olá!"}}}, {"intent", "greeting"}, {"confidence", 0.9},
                {"state", json{{"handoff", true}}}, {"handoff", true}};
  };
  auto forged = as_app([&](pqxx::work& tx) {
    return record_rows(tx, json::array({reply(0, b, a1.message_id, "018f0000-0000-7000-8000-0000000000f1")}),
                           json::array());
  });
  CHECK(forged.empty());
  CHECK(db.scalar("SELECT count(*) FROM atendeai.outbound_messages") == "0");
  CHECK(db.scalar("SELECT count(*) FROM atendeai.conversation_memory") == "0");
  CHECK(db.scalar("SELECT count(*) FROM atendeai.conversations WHERE status = 'handoff'") == "0");
  auto written = as_app([&](pqxx::work& tx) {
    return record_rows(tx, json::array({reply(0, a, a1.message_id, "018f0000-0000-7000-8000-0000000000a1")}),
                           json::array());
  });
  REQUIRE(written.size() == 1);
  CHECK(written[0].inserted);
  CHECK(written[0].clinic_id == a);
  CHECK(written[0].account_id == "acct-a");
  CHECK(written[0].recipient == "5511900000001");
  CHECK(db.scalar("SELECT status FROM atendeai.conversations WHERE id = '" + a1.conversation_id + "'") == "handoff");
  // Answered once: a second decision for a1 writes nothing, not even its state.
  auto again = as_app([&](pqxx::work& tx) {
    auto second = reply(0, a, a1.message_id, "018f0000-0000-7000-8000-0000000000a2");
    second["state"] = json{{"handoff", false}};
    second["handoff"] = false;
    return record_rows(tx, json::array({second}), json::array());
  });
  REQUIRE(again.size() == 1);
  CHECK_FALSE(again[0].inserted);
  CHECK(db.scalar("SELECT count(*) FROM atendeai.outbound_messages") == "1");
  CHECK(db.scalar("SELECT state ->> 'handoff' FROM atendeai.conversation_memory") == "true");

  // A delivery claimed for B does not reach A's message; claimed for A it does.
  auto deliver = [&](const std::string& clinic, const char* status) {
    as_app([&](pqxx::work& tx) {
      return record_rows(tx, json::array(),
                             json::array({json{{"clinic", clinic}, {"outbound", written[0].outbound_id}, {"attempt", 1},
                                               {"status", status}, {"error", nullptr}, {"external_id", "wamid.out-1"}}}));
    });
    return db.scalar("SELECT o.status || ' ' || m.status FROM atendeai.outbox o JOIN atendeai.messages m "
                     "ON m.clinic_id = o.clinic_id AND m.id = o.message_id");
  };
  CHECK(deliver(b, "failed") == "pending pending");
  CHECK(deliver(a, "sent") == "sent sent");
  // A status notification through B's account does not touch A's message.
  as_app([&](pqxx::work& tx) {
    return ingest_rows(tx, json::array(),
                        json::array({json{{"channel", "whatsapp"}, {"account", "acct-b"}, {"ext", "wamid.out-1"},
                                          {"status", "read"}, {"error", nullptr}}}));
  });
  CHECK(db.scalar("SELECT status FROM atendeai.messages WHERE direction = 'out'") == "sent");
  as_app([&](pqxx::work& tx) {
    return ingest_rows(tx, json::array(),
                        json::array({json{{"channel", "whatsapp"}, {"account", "acct-a"}, {"ext", "wamid.out-1"},
                                          {"status", "read"}, {"error", nullptr}}}));
  });
  CHECK(db.scalar("SELECT status FROM atendeai.messages WHERE direction = 'out'") == "read");

  // Memories of both clinics in one statement: a1 and its reply for A (a2 is not handled
  // yet); nothing of A's conversation when it is asked as B's.
  auto mems = atendeai::persistence::load_conversation_memories(
    *conn, {{a, a1.conversation_id}, {b, a1.conversation_id}, {b, by_ord[2].conversation_id}}, 10);
  REQUIRE(mems.size() == 3);
  REQUIRE(mems[0].messages.size() == 2);
  CHECK(mems[0].messages[0] == std::pair<std::string, std::string>{"in", "oi wamid.a1"});
  CHECK(mems[0].messages[1] == std::pair<std::string, std::string>{"out", "Olá!"});
  CHECK(mems[0].recent_external_ids == std::vector<std::string>{"wamid.a1"});
  CHECK(mems[0].known_contact);
  CHECK(mems[0].state.value("handoff", false));
  CHECK(mems[1].messages.empty());
  CHECK(mems[1].state.empty());
  CHECK(mems[2].messages.empty()); // b1 not answered yet
  CHECK_FALSE(mems[2].known_contact);

  // The views read as the app role scoped to B show nothing of A.
  {
    pqxx::work tx(*conn);
    tx.exec("SET LOCAL ROLE atendeai_app");
    tx.exec_params("SELECT set_config('app.clinic_id', $1, true)", b);
    for (auto view : {"messages", "outbox", "outbound_state"}) {
      INFO(view);
      CHECK(tx.exec_params1(std::string("SELECT count(*) FROM atendeai.") + view + " WHERE clinic_id = $1", a)[0]
              .as<int>()
            == 0);
    }
    CHECK(tx.exec("SELECT count(*) FROM atendeai.messages")[0][0].as<int>() == 1); // b1
  }

  // A proactive message is written once per cause (a reminder's, say), whatever its own
  // id; one without a cause is its own. Claimed for B, A's conversation takes nothing.
  auto notice = [&](const std::string& clinic, const json& cause, const std::string& id) {
    return json{{"ord", 0}, {"clinic", clinic}, {"conversation", a1.conversation_id}, {"kind", "notice"},
                {"cause", cause}, {"id", id}, {"account", "acct-a"}, {"recipient", "5511900000001"},
                {"body", "Lembrete"}, {"payload", json{{"text", "Lembrete"}}}, {"intent", nullptr},
                {"confidence", 0}};
  };
  auto record_notice = [&](const json& row) {
    return as_app([&](pqxx::work& tx) { return record_rows(tx, json::array({row}), json::array()); });
  };
  const std::string cause = "018f0000-0000-7000-8000-0000000000c1";
  auto first = record_notice(notice(a, cause, "018f0000-0000-7000-8000-0000000000b1"));
  REQUIRE(first.size() == 1);
  CHECK(first[0].inserted);
  auto repeated = record_notice(notice(a, cause, "018f0000-0000-7000-8000-0000000000b2"));
  REQUIRE(repeated.size() == 1);
  CHECK_FALSE(repeated[0].inserted);
  for (auto id : {"018f0000-0000-7000-8000-0000000000b3", "018f0000-0000-7000-8000-0000000000b4"}) {
    auto own = record_notice(notice(a, nullptr, id));
    REQUIRE(own.size() == 1);
    CHECK(own[0].inserted);
  }
  CHECK(record_notice(notice(b, "018f0000-0000-7000-8000-0000000000c2", "018f0000-0000-7000-8000-0000000000b5"))
          .empty());
  CHECK(db.scalar("SELECT count(*) FROM atendeai.outbound_messages WHERE kind = 'notice'") == "3");
  CHECK(db.scalar("SELECT count(*) FROM atendeai.outbound_messages WHERE cause_id = '" + cause + "'") == "1");
}

TEST_CASE("one ingest statement stores the messages of fifty clinics", "[foundation][sql]") {
  scratch_database db;
  REQUIRE(run_binary({"migrate", "up"}, db_env(db)).first == 0);
  {
    auto owner = db.connect();
    pqxx::work tx(*owner);
    tx.exec("INSERT INTO atendeai.clinics (id, name) SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, "
            "'Clinic ' || i FROM generate_series(1, 50) i");
    tx.exec("INSERT INTO atendeai.clinic_channels (clinic_id, channel, account_id) "
            "SELECT id, 'whatsapp', 'acct-' || right(id::text, 2) FROM atendeai.clinics");
    tx.commit();
  }
  auto rows = json::array();
  for (int i = 0; i < 200; ++i) {
    char id[40], account[16];
    std::snprintf(id, sizeof id, "018f0000-0000-7000-8000-%012d", i + 1);
    std::snprintf(account, sizeof account, "acct-%02d", i % 50 + 1);
    rows.push_back({{"ord", i}, {"channel", "whatsapp"}, {"account", account},
                    {"contact", "55119" + std::to_string(10000000 + i % 70)}, {"contact_name", nullptr}, {"id", id},
                    {"ext", "wamid.many-" + std::to_string(i)}, {"type", "text"}, {"body", "oi"},
                    {"payload", json::object()}, {"sent_at", nullptr}});
  }
  auto conn = db.connect();
  pqxx::work tx(*conn);
  tx.exec("SET LOCAL ROLE atendeai_app");
  auto stored = ingest_rows(tx, rows, json::array());
  tx.commit();
  CHECK(stored.size() == 200);
  CHECK(db.scalar("SELECT count(DISTINCT clinic_id) FROM atendeai.inbound_messages") == "50");
  CHECK(db.scalar("SELECT count(*) FROM atendeai.inbound_messages i JOIN atendeai.clinic_channels ch "
                  "ON ch.clinic_id = i.clinic_id AND ch.account_id = i.account_id") == "200");
  // A patient of one clinic is not the same contact in another clinic.
  CHECK(db.scalar("SELECT count(*) FROM atendeai.contacts") == "200");
}

TEST_CASE("the append-only migration moves existing messages and back", "[foundation][migrations]") {
  scratch_database db;
  REQUIRE(run_binary({"migrate", "up"}, db_env(db)).first == 0);
  auto conn = db.connect();
  // Down to 0008 (the migrations after 0009 first), and back up to the latest.
  auto migrate_down = [&] { migrate_down_through(*conn, "append_only_pipeline"); };
  migrate_down(); // 0008's tables
  {
    pqxx::work tx(*conn);
    tx.exec(R"sql(
      INSERT INTO atendeai.clinics (id, name) VALUES ('11111111-1111-4111-8111-111111111111', 'A');
      INSERT INTO atendeai.contacts (clinic_id, id, channel, external_id)
        VALUES ('11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', 'whatsapp', '5511999');
      INSERT INTO atendeai.conversations (clinic_id, id, channel, contact_id)
        VALUES ('11111111-1111-4111-8111-111111111111', '33333333-3333-4333-8333-333333333333', 'whatsapp',
                '22222222-2222-4222-8222-222222222222');
      INSERT INTO atendeai.messages (clinic_id, id, conversation_id, channel, direction, external_id, type, body,
                                     payload, intent, confidence, status, answered_at) VALUES
        ('11111111-1111-4111-8111-111111111111', '44444444-0000-4000-8000-000000000001',
         '33333333-3333-4333-8333-333333333333', 'whatsapp', 'in', 'wamid.1', 'text', 'oi',
         '{"account_id":"acc-a","contact":"5511999"}', 'greeting', 0.9, 'received', now()),
        ('11111111-1111-4111-8111-111111111111', '44444444-0000-4000-8000-000000000002',
         '33333333-3333-4333-8333-333333333333', 'whatsapp', 'in', 'wamid.2', 'text', 'ok',
         '{"account_id":"acc-a","contact":"5511999"}', 'thanks', 0.8, 'received', now()),
        ('11111111-1111-4111-8111-111111111111', '44444444-0000-4000-8000-000000000003',
         '33333333-3333-4333-8333-333333333333', 'whatsapp', 'in', 'wamid.3', 'text', '?',
         '{"account_id":"acc-a","contact":"5511999"}', NULL, NULL, 'received', NULL),
        ('11111111-1111-4111-8111-111111111111', '55555555-0000-4000-8000-000000000001',
         '33333333-3333-4333-8333-333333333333', 'whatsapp', 'out', 'wamid.out1', 'reply', 'Olá', '{"text":"Olá"}',
         NULL, NULL, 'read', NULL);
      INSERT INTO atendeai.outbox (clinic_id, message_id, in_reply_to, conversation_id, channel, account_id,
                                   recipient, payload, status, attempts, external_id, sent_at)
        VALUES ('11111111-1111-4111-8111-111111111111', '55555555-0000-4000-8000-000000000001',
                '44444444-0000-4000-8000-000000000001', '33333333-3333-4333-8333-333333333333', 'whatsapp',
                'acc-a', '5511999', '{"text":"Olá"}', 'sent', 1, 'wamid.out1', now());
    )sql");
    tx.commit();
  }
  const std::string picture =
    "SELECT string_agg(direction || ':' || coalesce(external_id, '-') || ':' || status || ':' "
    "|| (answered_at IS NOT NULL) || ':' || coalesce(intent, '-'), ',' ORDER BY direction, external_id) "
    "FROM atendeai.messages";
  const std::string outbox = "SELECT string_agg(message_id || ':' || coalesce(in_reply_to::text, '-') || ':' || status "
                             "|| ':' || attempts || ':' || coalesce(external_id, '-'), ',') FROM atendeai.outbox";
  auto before = db.scalar(picture);
  auto before_outbox = db.scalar(outbox);
  CHECK(before == "in:wamid.1:received:true:greeting,in:wamid.2:received:true:thanks,in:wamid.3:received:false:-,"
                  "out:wamid.out1:read:false:-");
  atendeai::persistence::migrate_up(*conn);
  CHECK(db.scalar("SELECT count(*) FROM atendeai.inbound_messages") == "3");
  CHECK(db.scalar("SELECT count(*) FROM atendeai.outbound_messages") == "2"); // the reply, and wamid.2's silence
  CHECK(db.scalar(picture) == before);
  CHECK(db.scalar(outbox) == before_outbox);
  migrate_down();
  CHECK(db.scalar("SELECT to_regclass('atendeai.inbound_messages') IS NULL") == "t");
  CHECK(db.scalar(picture) == before);
  CHECK(db.scalar(outbox) == before_outbox);
}

TEST_CASE("the services' English names migration keeps every service, names the demo ones, and back",
          "[foundation][migrations]") {
  scratch_database db;
  REQUIRE(run_binary({"migrate", "up"}, db_env(db)).first == 0);
  auto conn = db.connect();
  // Down to just before it, however many came after it (its number is given at merge).
  migrate_down_through(*conn, "service_english_names");
  CHECK(db.scalar("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'atendeai' "
                  "AND table_name = 'services' AND column_name = 'name_en'") == "0");
  {
    pqxx::work tx(*conn);
    tx.exec(R"sql(
      INSERT INTO atendeai.clinics (id, name) VALUES ('00000000-0000-4000-8000-00000000c001', 'Clínica Exemplo'),
                                                     ('11111111-1111-4111-8111-111111111111', 'A');
      INSERT INTO atendeai.services (clinic_id, id, name, duration_minutes, price_cents) VALUES
        ('00000000-0000-4000-8000-00000000c001', '00000000-0000-4000-8000-00000000a002', 'Cardiologia', 60, 35000),
        ('00000000-0000-4000-8000-00000000c001', '00000000-0000-4000-8000-00000000a003', 'Dermato (renomeada)', 60, 30000),
        ('11111111-1111-4111-8111-111111111111', '00000000-0000-4000-8000-00000000a009', 'Cardiologia', 30, 100);
    )sql");
    tx.commit();
  }
  const std::string services = "SELECT string_agg(clinic_id || ':' || id || ':' || name || ':' || duration_minutes "
                               "|| ':' || price_cents, ',' ORDER BY clinic_id, id) FROM atendeai.services";
  auto before = db.scalar(services);
  atendeai::persistence::migrate_up(*conn);
  CHECK(db.scalar(services) == before);
  // The demo clinic's services still named as the demo named them get their English names.
  CHECK(db.scalar("SELECT string_agg(id || ':' || coalesce(name_en, '-'), ',' ORDER BY clinic_id, id) "
                  "FROM atendeai.services") ==
        "00000000-0000-4000-8000-00000000a002:Cardiology,00000000-0000-4000-8000-00000000a003:-,"
        "00000000-0000-4000-8000-00000000a009:-");
  migrate_down_through(*conn, "service_english_names");
  CHECK(db.scalar(services) == before);
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
  auto node = serve_node(db, {});
  auto ok = http_get(node->url("/health"));
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
    auto r = http_get(node->url("/health"));
    return r.status == 200 && r.json()["status"] == "degraded" && r.json()["redis"]["status"] == "down";
  }));
  services("start", "redis");
  CHECK(eventually([&] { return http_get(node->url("/health")).json()["status"] == "ok"; }));

  services("stop", "pg");
  CHECK(eventually([&] {
    auto r = http_get(node->url("/health"));
    return r.status == 503 && r.json()["status"] == "down" && r.json()["postgres"]["status"] == "down";
  }));
  services("start", "pg");
  CHECK(eventually([&] {
    auto r = http_get(node->url("/health"));
    return r.status == 200 && r.json()["status"] == "ok";
  }, std::chrono::seconds(60)));
  CHECK(node->stop(SIGTERM) == 0);
}

TEST_CASE("metrics pass promtool and count requests", "[foundation][metrics]") {
  scratch_database db;
  auto node = serve_node(db, {});
  for (int i = 0; i < 5; ++i)
    REQUIRE(http_get(node->url("/health")).status == 200);
  auto missing = http_get(node->url("/no/such/route"));
  CHECK(missing.status == 404);
  CHECK(missing.json()["error"]["code"] == "not_found");
  auto m = http_get(node->url("/metrics"));
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
  CHECK(node->stop(SIGTERM) == 0);
}
