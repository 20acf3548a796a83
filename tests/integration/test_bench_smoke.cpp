// bench/run in quick mode, shrunk to seconds, against the suite's own PostgreSQL and
// Redis and this build: the tool runs and its counts add up. Never its speed.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/harness.hpp"

using namespace atendeai::test;

TEST_CASE("bench quick mode runs against the suite's services and its counts add up", "[bench]") {
  scratch_database db;
  auto dir = env_or("ATENDEAI_TEST_VAR_DIR", "/tmp") + "/bench-" + db.name();
  std::filesystem::create_directories(dir);
  auto log = dir + "/run.log";
  auto command = "BENCH_BUILD='" + std::string(ATENDEAI_BUILD_DIR) + "' BENCH_DATABASE_URL='" + db.url()
                 + "' BENCH_REDIS_URL='" + test_redis_url() + "' BENCH_DATA_DIR='" + dir + "/data'"
                 + " BENCH_RESULTS_DIR='" + dir + "/results'"
                 + " BENCH_DURATION=2 BENCH_RATES=100 BENCH_THREADS=4 BENCH_CLINICS=2 BENCH_CONTACTS=20"
                 + " bash '" + ATENDEAI_SOURCE_DIR + "/bench/run' quick throughput latency baseline > '" + log
                 + "' 2>&1 < /dev/null";
  int rc = std::system(command.c_str());
  std::ifstream in(log);
  std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  INFO(output);
  REQUIRE(rc == 0);

  std::map<std::string, nlohmann::json> results; // scenario → its JSON
  for (auto& f : std::filesystem::directory_iterator(dir + "/results")) {
    auto name = f.path().filename().string();
    if (f.path().extension() != ".json")
      continue;
    auto scenario = name.substr(name.find("Z-") + 2);
    scenario = scenario.substr(0, scenario.size() - 5);
    std::ifstream j(f.path());
    results[scenario] = nlohmann::json::parse(j);
  }
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
    CHECK(r.at("outbox_drain_s").get<long>() >= 0); // every reply reached the sink
  }
  // The fixed-rate run sent what its schedule says (100/s for 2 s), each message from a
  // new patient, and every acknowledged one had its reply joined at the sink.
  auto& fixed = results["latency-100"];
  CHECK(fixed.at("requests_sent") == 200);
  CHECK(fixed.at("reply_at_sink_ms").at("count") == fixed.at("messages_acked"));
  CHECK(db.scalar("SELECT count(*) FROM atendeai.outbox WHERE status = 'pending'") == "0");
  CHECK(output.find("Group commit vs one transaction per message") != std::string::npos);
}
