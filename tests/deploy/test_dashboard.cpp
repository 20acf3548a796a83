// The Grafana dashboard in deploy/grafana: valid JSON Grafana can import, every panel
// wired to the Prometheus data source, every query valid PromQL (promtool parses each
// one as a recording rule), and the panels operators were promised.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <sys/wait.h>

namespace {

const std::string dashboard_path = std::string(ATENDEAI_SOURCE_DIR) + "/deploy/grafana/atendeai.json";

nlohmann::json load_dashboard() {
  std::ifstream in(dashboard_path);
  REQUIRE(in.good());
  return nlohmann::json::parse(in); // throws (and fails the test) on invalid JSON
}

/// Every query of every panel: {panel title, expr}.
std::vector<std::pair<std::string, std::string>> queries(const nlohmann::json& d) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& p : d.at("panels"))
    if (p.value("type", "") != "row")
      for (auto& t : p.at("targets"))
        out.emplace_back(p.at("title").get<std::string>(), t.at("expr").get<std::string>());
  return out;
}

/// A query with Grafana's variables replaced by what Prometheus would receive.
std::string as_promql(std::string expr) {
  expr = std::regex_replace(expr, std::regex(R"(\$__rate_interval)"), "5m");
  return std::regex_replace(expr, std::regex(R"(\$instance)"), ".*");
}

std::string yaml_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

} // namespace

TEST_CASE("the Grafana dashboard is importable JSON with every panel on the Prometheus data source",
          "[deploy][grafana]") {
  auto d = load_dashboard();
  CHECK(d.at("uid") == "atendeai");
  CHECK(d.at("title") == "AtendeAI");
  std::set<std::string> variables;
  for (auto& v : d.at("templating").at("list"))
    variables.insert(v.at("name").get<std::string>());
  CHECK(variables == std::set<std::string>{"datasource", "instance"});
  std::set<int> ids;
  int graphs = 0;
  for (auto& p : d.at("panels")) {
    INFO(p.value("title", "?"));
    CHECK(ids.insert(p.at("id").get<int>()).second);
    auto& g = p.at("gridPos");
    CHECK(g.at("x").get<int>() + g.at("w").get<int>() <= 24);
    if (p.at("type") == "row")
      continue;
    ++graphs;
    CHECK(p.at("datasource").at("uid") == "${datasource}");
    std::set<std::string> refs;
    CHECK_FALSE(p.at("targets").empty());
    for (auto& t : p.at("targets")) {
      CHECK(refs.insert(t.at("refId").get<std::string>()).second);
      CHECK_FALSE(t.at("expr").get<std::string>().empty());
    }
  }
  CHECK(graphs >= 15);
}

TEST_CASE("every dashboard query is valid PromQL", "[deploy][grafana]") {
  auto d = load_dashboard();
  auto qs = queries(d);
  REQUIRE(qs.size() >= 20);
  std::ostringstream rules;
  rules << "groups:\n  - name: dashboard\n    rules:\n";
  for (size_t i = 0; i < qs.size(); ++i)
    rules << "      - record: dashboard:query_" << i << "\n        expr: " << yaml_quoted(as_promql(qs[i].second))
          << "\n";
  auto dir = std::filesystem::temp_directory_path() / ("atendeai-dashboard-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  auto file = dir / "dashboard_rules.yml";
  std::ofstream(file) << rules.str();
  auto out = dir / "promtool.out";
  int rc = std::system((std::string(ATENDEAI_PROMTOOL) + " check rules " + file.string() + " > " + out.string()
                        + " 2>&1").c_str());
  std::ifstream report(out);
  std::stringstream text;
  text << report.rdbuf();
  INFO(rules.str() << "\n" << text.str());
  CHECK((WIFEXITED(rc) && WEXITSTATUS(rc) == 0));
  std::filesystem::remove_all(dir);
}

TEST_CASE("the dashboard shows what operators were promised", "[deploy][grafana]") {
  auto d = load_dashboard();
  std::string all;
  for (auto& [title, expr] : queries(d))
    all += expr + "\n";
  INFO(all);
  // Request rate and p50/p95/p99 per route.
  CHECK(all.find("rate(atendeai_http_requests_total") != std::string::npos);
  for (const char* q : {"0.5", "0.95", "0.99"})
    CHECK(all.find(std::string("histogram_quantile(") + q
                   + ", sum by (route,le) (rate(atendeai_http_request_duration_seconds_bucket")
          != std::string::npos);
  for (const char* needle :
       {"sum by (outcome) (rate(atendeai_webhook_messages_total",  // webhook messages by outcome
        "atendeai_batch_rows_bucket", "atendeai_batch_commit_seconds_bucket", // batch sizes, commit latency
        "atendeai_outbox_depth", "atendeai_outbox_send_seconds_bucket", "atendeai_outbox_failures_total",
        "sum by (kind) (atendeai_actors_live", "atendeai_actors_restarted_total",
        "atendeai_db_errors_total", "atendeai_redis_errors_total"}) {
    INFO(needle);
    CHECK(all.find(needle) != std::string::npos);
  }
}
