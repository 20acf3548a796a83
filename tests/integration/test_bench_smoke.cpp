// bench/run in quick mode, shrunk to seconds, against the suite's own PostgreSQL and
// Redis and this build: the tool runs and its counts add up. Never its speed.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/harness.hpp"

using namespace atendeai::test;

namespace {

/// One `bench/run quick SCENARIOS` against the suite's services and this build.
struct bench_run {
  int rc = -1;
  std::string dir;                               ///< its data and results
  std::string output;                            ///< what bench/run printed
  std::map<std::string, nlohmann::json> results; ///< scenario → its JSON
};

bench_run run_bench(const scratch_database& db, const std::string& settings, const std::string& scenarios) {
  auto dir = env_or("ATENDEAI_TEST_VAR_DIR", "/tmp") + "/bench-" + db.name();
  std::filesystem::create_directories(dir);
  auto log = dir + "/run.log";
  auto command = "BENCH_BUILD='" + std::string(ATENDEAI_BUILD_DIR) + "' BENCH_DATABASE_URL='" + db.url()
                 + "' BENCH_REDIS_URL='" + test_redis_url() + "' BENCH_DATA_DIR='" + dir + "/data'"
                 + " BENCH_RESULTS_DIR='" + dir + "/results' " + settings + " bash '" + ATENDEAI_SOURCE_DIR
                 + "/bench/run' quick " + scenarios + " > '" + log + "' 2>&1 < /dev/null";
  bench_run r;
  r.dir = dir;
  r.rc = std::system(command.c_str());
  std::ifstream in(log);
  r.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (!std::filesystem::exists(dir + "/results"))
    return r;
  for (auto& f : std::filesystem::directory_iterator(dir + "/results")) {
    auto name = f.path().filename().string();
    if (f.path().extension() != ".json")
      continue;
    auto scenario = name.substr(name.find("Z-") + 2);
    scenario = scenario.substr(0, scenario.size() - 5);
    std::ifstream j(f.path());
    r.results[scenario] = nlohmann::json::parse(j);
  }
  return r;
}

} // namespace

TEST_CASE("bench quick mode runs against the suite's services and its counts add up", "[bench]") {
  scratch_database db;
  auto run = run_bench(db, "BENCH_DURATION=2 BENCH_RATES=100 BENCH_THREADS=4 BENCH_CLINICS=2 BENCH_CONTACTS=20",
                       "throughput latency baseline");
  auto& output = run.output;
  auto& results = run.results;
  INFO(output);
  REQUIRE(run.rc == 0);
  REQUIRE(results.size() == 3);
  REQUIRE(results.count("throughput") == 1);
  REQUIRE(results.count("latency-100") == 1);
  REQUIRE(results.count("baseline") == 1);
  const std::map<std::string, std::string> run_ids = {{"throughput", "tp"}, {"latency-100", "lat100"},
                                                      {"baseline", "base"}};
  for (auto& [scenario, r] : results) {
    INFO(scenario << ": " << r.dump());
    long sent = r.at("requests_sent"), acked = r.at("requests_acked");
    long errors = r.at("status_4xx").get<long>() + r.at("status_5xx").get<long>() + r.at("transport_errors").get<long>();
    CHECK(sent > 0);
    CHECK(acked > 0);
    CHECK(sent == acked + errors);
    CHECK(r.at("messages_acked").get<long>() == acked); // one message per request
    // Every acknowledged message is in PostgreSQL (the tool's count and ours), none lost.
    long stored = r.at("stored_in_postgres");
    CHECK(r.at("lost") == 0);
    CHECK(stored >= acked);
    CHECK(stored <= sent);
    auto in_db = db.scalar("SELECT count(*) FROM atendeai.messages WHERE direction = 'in' AND external_id LIKE "
                           "'wamid.bench." + run_ids.at(scenario) + ".%'");
    CHECK(in_db == std::to_string(stored));
    // Every reply reached the sink (-1: the outbox never drained), and PostgreSQL agrees:
    // no message of this run is unanswered, no reply waits.
    CHECK(r.at("outbox_drain_s").get<long>() != -1);
    CHECK(db.scalar("SELECT count(*) FROM atendeai.messages WHERE direction = 'in' AND answered_at IS NULL "
                    "AND external_id LIKE 'wamid.bench." + run_ids.at(scenario) + ".%'") == "0");
  }
  // The fixed-rate run sent what its schedule says (100/s for 2 s), each message from a
  // new patient, and every acknowledged one had its reply joined at the sink.
  auto& fixed = results["latency-100"];
  CHECK(fixed.at("requests_sent") == 200);
  CHECK(fixed.at("reply_at_sink_ms").at("count") == fixed.at("messages_acked"));
  CHECK(db.scalar("SELECT count(*) FROM atendeai.outbox WHERE status = 'pending'") == "0");
  CHECK(output.find("Group commit vs one transaction per message") != std::string::npos);
}

TEST_CASE("bench quick booking contention: patients race by chat for few slots and the counts add up",
          "[bench][booking]") {
  scratch_database db;
  auto run = run_bench(db, "BENCH_BOOK_PATIENTS=50 BENCH_BOOK_DAYS=1", "booking");
  INFO(run.output);
  REQUIRE(run.rc == 0);
  REQUIRE(run.results.count("booking") == 1);
  auto& r = run.results["booking"];
  INFO(r.dump());
  const long patients = r.at("patients"), slots = r.at("available_slots"), bookings = r.at("bookings");
  CHECK(patients == 50);
  // The seed leaves 2 professionals × 2 hours a day over today and tomorrow: at least
  // tomorrow's 4 slots, at most 8, so 50 patients always outnumber them.
  CHECK(slots >= 4);
  CHECK(slots <= 8);
  CHECK(bookings > 0);
  CHECK(bookings <= slots);
  CHECK(r.at("double_booked") == 0);
  CHECK(r.at("lost") == 0);
  CHECK(r.at("outbox_drain_s").get<long>() != -1); // drained (PostgreSQL's view is checked below)
  // Every patient ended in a known way: booked, told nothing is free, or gave up after
  // being refused; no unexpected reply, no failed or unanswered message.
  auto& o = r.at("outcomes");
  CHECK(o.at("booked") == bookings);
  CHECK(o.at("booked").get<long>() + o.at("sold_out").get<long>() + o.at("gave_up").get<long>() == patients);
  CHECK(o.at("unexpected") == 0);
  CHECK(o.at("failed") == 0);
  CHECK(o.at("stalled") == 0);
  CHECK(o.at("sold_out").get<long>() + o.at("gave_up").get<long>() >= patients - slots);
  CHECK(r.at("attempts").get<long>() >= bookings);
  CHECK(r.at("messages_acked") == r.at("messages_sent"));
  CHECK(r.at("stray_replies") == 0);
  // One message per patient step: a booking takes three (ask, tap a slot, confirm).
  CHECK(r.at("messages_sent").get<long>() >= patients + 2 * bookings);
  // PostgreSQL agrees: the appointments the patients were told about, one per patient,
  // none overlapping, and every message the node acknowledged stored and answered.
  const std::string clinic = "'00000000-0000-4000-9101-000000000001'";
  CHECK(db.scalar("SELECT count(*) FROM atendeai.appointments WHERE clinic_id = " + clinic +
                  " AND status = 'scheduled'") == std::to_string(bookings));
  CHECK(db.scalar("SELECT count(DISTINCT contact_id) FROM atendeai.appointments WHERE clinic_id = " + clinic) ==
        std::to_string(bookings));
  CHECK(db.scalar("SELECT count(*) FROM atendeai.appointments a JOIN atendeai.appointments b ON "
                  "b.clinic_id = a.clinic_id AND b.professional_id = a.professional_id AND b.id > a.id AND "
                  "tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at) WHERE a.clinic_id = " +
                  clinic) == "0");
  CHECK(db.scalar("SELECT count(*) FROM atendeai.messages WHERE direction = 'in' AND external_id LIKE "
                  "'wamid.bench.book.%'") == std::to_string(r.at("messages_acked").get<long>()));
  CHECK(db.scalar("SELECT count(*) FROM atendeai.messages WHERE direction = 'in' AND answered_at IS NULL") == "0");
  CHECK(run.output.find("| booking contention |") != std::string::npos);

  // The admin API variant, on a second clinic like the first: 50 concurrent creations,
  // request i for free slot i mod slots, so every slot is asked for at least once.
  REQUIRE(run.results.count("booking-admin") == 1);
  auto& a = run.results["booking-admin"];
  INFO(a.dump());
  const long admin_slots = a.at("available_slots");
  CHECK(a.at("requests") == 50);
  CHECK(admin_slots >= 4);
  CHECK(admin_slots <= 8);
  CHECK(a.at("bookings") == admin_slots); // the first request for each slot, and no more
  CHECK(a.at("conflicts") == 50 - admin_slots);
  CHECK(a.at("status").size() == 2);      // only 201 and 409
  CHECK(a.at("double_booked") == 0);
  CHECK(a.at("bookings_in_postgres") == a.at("bookings"));
  CHECK(db.scalar("SELECT count(*) FROM atendeai.appointments WHERE clinic_id = "
                  "'00000000-0000-4000-9102-000000000001'") == std::to_string(admin_slots));
}

// Hidden ([.]: not in the suite's run, which it would lengthen by one to two and a half
// minutes: two cluster starts, and after the kill the survivors' recovery sweep answers
// the killed node's messages ~30 s later). Run it on purpose:
//   integration_tests "[bench][cluster]"
TEST_CASE("bench quick cluster: 1 and 3 nodes behind HAProxy, a node killed mid-stream, nothing lost",
          "[.][bench][cluster]") {
  scratch_database db; // unused by the cluster (local-cluster starts its own), names the folder
  auto run = run_bench(db, "BENCH_DURATION=2 BENCH_THREADS=8 BENCH_CONTACTS=200 BENCH_KILL_RATE=100", "cluster");
  INFO(run.output);
  REQUIRE(run.rc == 0);
  for (const auto* name : {"cluster-1", "cluster-3", "cluster-kill"}) {
    REQUIRE(run.results.count(name) == 1);
    auto& r = run.results[name];
    INFO(name << ": " << r.dump());
    long sent = r.at("requests_sent"), acked = r.at("requests_acked");
    long errors = r.at("status_4xx").get<long>() + r.at("status_5xx").get<long>() + r.at("transport_errors").get<long>();
    CHECK(acked > 0);
    CHECK(sent == acked + errors);
    CHECK(r.at("lost") == 0);
    CHECK(r.at("stored_in_postgres").get<long>() >= acked);
    CHECK(r.at("outbox_drain_s").get<long>() != -1); // -1: the outbox never drained
  }
  CHECK(run.results["cluster-1"].at("nodes") == 1);
  CHECK(run.results["cluster-3"].at("nodes") == 3);
  auto& k = run.results["cluster-kill"];
  INFO(k.dump());
  CHECK(k.at("requests_sent") == 200); // 100/s for 2 s, whatever the kill did
  CHECK(k.at("killed_pid").get<long>() > 0);
  CHECK(k.at("stored_twice") == 0);
  CHECK(k.at("unanswered") == 0);
  CHECK(k.at("rejoined") == true);
  // Every acknowledged message was answered at the sink: distinct patients answered.
  CHECK(k.at("replies_at_sink").get<long>() - k.at("duplicate_replies").get<long>() >= k.at("messages_acked").get<long>());
  // Duplicates come only from the killed node's send window (a crash between the Graph
  // API's 200 and recording it): a handful, never a share of the stream.
  CHECK(k.at("duplicate_replies").get<long>() <= k.at("requests_sent").get<long>() / 20);
  CHECK(run.output.find("3 nodes vs 1 node behind HAProxy") != std::string::npos);
  std::filesystem::remove_all(run.dir + "/data/cluster"); // the cluster's PostgreSQL data
}

// A rolling restart as a deploy does it: n1, n2 and n3 of a local cluster get SIGTERM in
// turn (each started again and joined before the next) while a steady stream of webhooks
// flows through HAProxy. About a minute: one cluster start and a 40-s stream.
TEST_CASE("rolling restart of the local cluster under a steady stream: nothing lost, answered once, no crash",
          "[bench][cluster][roll]") {
  scratch_database db; // unused by the cluster (local-cluster starts its own), names the folder
  auto run = run_bench(db, "BENCH_KILL_RATE=50 BENCH_ROLL_DURATION=40", "roll");
  INFO(run.output);
  REQUIRE(run.results.count("cluster-roll") == 1);
  auto& r = run.results["cluster-roll"];
  INFO(r.dump());
  CHECK(r.at("rolled") == 3); // each node stopped, started again and joined by the others
  for (auto& e : r.at("exits")) {
    INFO(e.dump());
    CHECK(e.at("status") == 0); // a clean stop: everything acknowledged durable, every request answered
  }
  CHECK(r.at("exits").size() == 3);
  CHECK(r.at("crash_lines") == 0);
  CHECK(r.at("requests_sent") == 2000); // 50/s for 40 s, whatever the restarts did
  CHECK(r.at("requests_acked").get<long>() > 0);
  CHECK(r.at("lost") == 0);
  CHECK(r.at("stored_twice") == 0);
  CHECK(r.at("unanswered") == 0);
  // Every acknowledged message answered at the sink, and none twice: a clean stop sends
  // what it holds before its clinics move.
  CHECK(r.at("replies_at_sink").get<long>() >= r.at("messages_acked").get<long>());
  CHECK(r.at("duplicate_replies") == 0);
  CHECK(run.rc == 0);
  std::filesystem::remove_all(run.dir + "/data/cluster"); // the cluster's PostgreSQL data
}
