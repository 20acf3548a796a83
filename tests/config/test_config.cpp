#include <catch2/catch.hpp>

#include <cstdio>
#include <sys/stat.h>
#include <unistd.h>
#include <fstream>
#include <sstream>

#include "config/config.hpp"
#include "core/password.hpp"

using atendeai::config::command_line;
using atendeai::config::config;
using atendeai::config::config_error;
using atendeai::config::ai_api_key;
using atendeai::config::load;

namespace {

std::string temp_file(const std::string& content) {
  char name[] = "/tmp/atendeai-config-XXXXXX";
  int fd = mkstemp(name);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(name) << content;
  return name;
}

config load_with(std::vector<std::string> argv, std::map<std::string, std::string> env = {}) {
  command_line rest;
  return load(argv, env, rest);
}

std::string error_of(std::vector<std::string> argv, std::map<std::string, std::string> env = {}) {
  try {
    load_with(std::move(argv), std::move(env));
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("defaults match API.md and the issues", "[config]") {
  auto c = load_with({});
  CHECK(c.http.host == "127.0.0.1");
  CHECK(c.http.port == 8080);
  CHECK(c.persistence.batch_max_rows == 500);
  CHECK(c.persistence.batch_max_delay_ms == 5);
  CHECK(c.conversation.memory_window == 10);
  CHECK(c.conversation.idle_timeout_s == 600);
  CHECK(c.flow.expiry_minutes == 30);
  CHECK(c.whatsapp.api_version == "v21.0");
  CHECK(c.whatsapp.demo_phone_number_id == "demo-phone-number-id");
  CHECK(c.cluster.heartbeat_ms == 1000);
  CHECK(c.cluster.dead_after_ms == 3000);
  CHECK(c.demo.enabled);
  // The language model is off unless the deployment offers one (issue 23).
  CHECK_FALSE(c.ai.enabled);
  CHECK(c.ai.timeout_ms == 4000);
  CHECK(c.ai.auth_header == "authorization");
}

TEST_CASE("passwords are hashed at the configured default bcrypt cost, the production cost 12", "[config][password]") {
  auto c = load_with({});
  CHECK(c.auth.bcrypt_cost == 12);
  auto hash = atendeai::core::hash_password("correct horse 42", c.auth.bcrypt_cost);
  CHECK(hash.rfind("$2b$12$", 0) == 0);
  CHECK(atendeai::core::bcrypt_cost_of(hash) == 12);
  CHECK(atendeai::core::verify_password("correct horse 42", hash));
}

TEST_CASE("precedence: defaults < file < environment < flags", "[config]") {
  auto file = temp_file("[http]\nport = 9001\nthreads = 3\n[node]\nid = \"from-file\"\n[persistence]\nbatch_max_rows = 50\n");
  SECTION("the file overrides defaults") {
    auto c = load_with({"--config", file});
    CHECK(c.http.port == 9001);
    CHECK(c.http.threads == 3);
    CHECK(c.node.id == "from-file");
  }
  SECTION("the environment overrides the file") {
    auto c = load_with({"--config", file}, {{"ATENDEAI_HTTP_PORT", "9002"}, {"ATENDEAI_PERSISTENCE_BATCH_MAX_ROWS", "7"}});
    CHECK(c.http.port == 9002);
    CHECK(c.persistence.batch_max_rows == 7);
    CHECK(c.http.threads == 3);
  }
  SECTION("flags override the environment, with or without =") {
    auto c = load_with({"--config", file, "--http-port", "9003", "--node-id=n2", "--persistence-batch-max-rows", "1"},
                       {{"ATENDEAI_HTTP_PORT", "9002"}});
    CHECK(c.http.port == 9003);
    CHECK(c.node.id == "n2");
    CHECK(c.persistence.batch_max_rows == 1);
  }
  SECTION("ATENDEAI_CONFIG names the file too") {
    auto c = load_with({}, {{"ATENDEAI_CONFIG", file}});
    CHECK(c.http.port == 9001);
  }
  std::remove(file.c_str());
}

TEST_CASE("lists and booleans from every source", "[config]") {
  auto c = load_with({"--cluster-seeds", "127.0.0.1:4200,127.0.0.1:4201"}, {{"ATENDEAI_DEMO_ENABLED", "false"}});
  CHECK(c.cluster.seeds == std::vector<std::string>{"127.0.0.1:4200", "127.0.0.1:4201"});
  CHECK_FALSE(c.demo.enabled);
  auto file = temp_file("[cluster]\nseeds = [\"a:1\", \"b:2\"]\n[demo]\nenabled = false\n");
  auto f = load_with({"--config", file});
  CHECK(f.cluster.seeds == std::vector<std::string>{"a:1", "b:2"});
  CHECK_FALSE(f.demo.enabled);
  std::remove(file.c_str());
}

TEST_CASE("every validation error names the key", "[config]") {
  CHECK_THAT(error_of({"--http-port", "70000"}), Catch::Contains("http.port") && Catch::Contains("between 1 and 65535"));
  CHECK_THAT(error_of({"--http-port", "abc"}), Catch::Contains("http.port") && Catch::Contains("integer"));
  CHECK_THAT(error_of({}, {{"ATENDEAI_PERSISTENCE_BATCH_MAX_ROWS", "0"}}),
             Catch::Contains("persistence.batch_max_rows"));
  CHECK_THAT(error_of({}, {{"ATENDEAI_HTTP_NOPE", "1"}}), Catch::Contains("ATENDEAI_HTTP_NOPE"));
  CHECK_THAT(error_of({"--bogus-key", "1"}), Catch::Contains("--bogus-key") && Catch::Contains("unknown"));
  CHECK_THAT(error_of({"--http-port"}), Catch::Contains("--http-port") && Catch::Contains("missing value"));
  CHECK_THAT(error_of({"--demo-enabled", "maybe"}), Catch::Contains("demo.enabled"));
  CHECK_THAT(error_of({"--log-level", "loud"}), Catch::Contains("log.level"));
  CHECK_THAT(error_of({"--log-format", "xml"}), Catch::Contains("log.format"));
  CHECK_THAT(error_of({"--database-url", "mysql://x"}), Catch::Contains("database.url"));
  CHECK_THAT(error_of({"--redis-url", "http://x"}), Catch::Contains("redis.url"));
  CHECK_THAT(error_of({"--whatsapp-api-base", "ftp://x"}), Catch::Contains("whatsapp.api_base"));
  CHECK_THAT(error_of({"--cluster-seeds", "nohostport"}), Catch::Contains("cluster.seeds"));
  CHECK_THAT(error_of({"--ai-base-url", "localhost:11434"}), Catch::Contains("ai.base_url"));
  CHECK_THAT(error_of({"--ai-auth-header", "x-key"}), Catch::Contains("ai.auth_header"));
  CHECK_THAT(error_of({"--ai-timeout-ms", "10"}), Catch::Contains("ai.timeout_ms"));
  CHECK_THAT(error_of({"--cluster-dead-after-ms", "500", "--cluster-heartbeat-ms", "1000"}),
             Catch::Contains("cluster.dead_after_ms"));
  CHECK_THAT(error_of({"--sender-backoff-max-ms", "10", "--sender-backoff-base-ms", "100"}),
             Catch::Contains("sender.backoff_max_ms"));
  auto pem = temp_file("-----BEGIN CERTIFICATE-----\n");
  CHECK_THAT(error_of({"--cluster-tls-cert", pem}), Catch::Contains("cluster.tls_key") && Catch::Contains("must be set"));
  CHECK_THAT(error_of({"--cluster-tls-cert", pem, "--cluster-tls-key", pem, "--cluster-tls-ca", "/nonexistent/ca.pem"}),
             Catch::Contains("cluster.tls_ca") && Catch::Contains("cannot read"));
  // HTTPS on the node's listener: both files, both readable.
  CHECK_THAT(error_of({"--http-tls-cert", pem}), Catch::Contains("http.tls_key") && Catch::Contains("must be set"));
  CHECK_THAT(error_of({}, {{"ATENDEAI_HTTP_TLS_KEY", pem}}), Catch::Contains("http.tls_cert") && Catch::Contains("must be set"));
  CHECK_THAT(error_of({"--http-tls-cert", pem, "--http-tls-key", "/nonexistent/key.pem"}),
             Catch::Contains("http.tls_key") && Catch::Contains("cannot read"));

  auto unknown_key = temp_file("[http]\nprot = 1\n");
  CHECK_THAT(error_of({"--config", unknown_key}), Catch::Contains("http.prot") && Catch::Contains("unknown key"));
  auto wrong_type = temp_file("[http]\nport = \"eighty\"\n");
  CHECK_THAT(error_of({"--config", wrong_type}), Catch::Contains("http.port") && Catch::Contains("integer"));
  auto out_of_range = temp_file("[conversation]\nmemory_window = 0\n");
  CHECK_THAT(error_of({"--config", out_of_range}), Catch::Contains("conversation.memory_window"));
  auto not_a_table = temp_file("port = 1\n");
  CHECK_THAT(error_of({"--config", not_a_table}), Catch::Contains("port"));
  auto broken = temp_file("[http\nport = 1\n");
  CHECK_THAT(error_of({"--config", broken}), Catch::Contains(broken));
  CHECK_THAT(error_of({"--config", "/nonexistent/atendeai.toml"}), Catch::Contains("/nonexistent/atendeai.toml"));
  for (auto& f : {unknown_key, wrong_type, out_of_range, not_a_table, broken})
    std::remove(f.c_str());
}

TEST_CASE("ai.api_key_file: the key is its first line, and an unreadable or empty file names the key", "[config]") {
  auto file = temp_file("sk-test-123\n");
  auto c = load_with({"--ai-api-key-file", file});
  CHECK(ai_api_key(c) == "sk-test-123");
  c.ai.api_key = "given";
  CHECK(ai_api_key(c) == "given"); // ai.api_key wins
  auto empty = temp_file("\n");
  CHECK_THROWS_WITH(ai_api_key(load_with({"--ai-api-key-file", empty})), Catch::Contains("ai.api_key_file"));
  CHECK_THROWS_WITH(ai_api_key(load_with({"--ai-api-key-file", "/nonexistent/key"})),
                    Catch::Contains("ai.api_key_file") && Catch::Contains("/nonexistent/key"));
  std::remove(file.c_str());
  std::remove(empty.c_str());
}

TEST_CASE("operands and command options are left for the command", "[config]") {
  command_line rest;
  auto c = load({"migrate", "down", "2", "--http-port", "81"}, {}, rest);
  CHECK(rest.args == std::vector<std::string>{"migrate", "down", "2"});
  CHECK(c.http.port == 81);
  command_line rest2;
  load({"understand", "--lang", "en", "--help"}, {}, rest2, {"lang"});
  CHECK(rest2.args == std::vector<std::string>{"understand", "--lang", "en"});
  CHECK(rest2.help);
}

TEST_CASE("the example file lists every key with its default and parses back", "[config]") {
  auto text = atendeai::config::example_toml();
  std::ifstream committed(std::string(ATENDEAI_SOURCE_DIR) + "/config/atendeai.example.toml");
  std::stringstream s;
  s << committed.rdbuf();
  CHECK(s.str() == text); // regenerate with: atendeai config-example > config/atendeai.example.toml
  auto file = temp_file(text);
  auto c = load_with({"--config", file});
  CHECK(c.http.port == 8080);
  CHECK(c.persistence.batch_max_rows == 500);
  CHECK(c.whatsapp.api_base == "https://graph.facebook.com");
  std::remove(file.c_str());
}

TEST_CASE("cluster: the join command's flags and the cluster keys' checks", "[config][cluster]") {
  auto c = load_with({"--node-id", "n2", "--http-port", "8082", "--cluster-port", "4202", "--cluster-seeds",
                      "127.0.0.1:4201"});
  CHECK(c.node.id == "n2");
  CHECK(c.http.port == 8082);
  CHECK(c.cluster.port == 4202);
  CHECK(c.cluster.seeds == std::vector<std::string>{"127.0.0.1:4201"});
  CHECK(c.cluster.host == "127.0.0.1");
  CHECK(c.cluster.name == "atendeai");
  auto e = load_with({}, {{"ATENDEAI_CLUSTER_NAME", "staging"}, {"ATENDEAI_CLUSTER_HOST", "10.0.0.5"}});
  CHECK(e.cluster.name == "staging");
  CHECK(e.cluster.host == "10.0.0.5");

  CHECK_THAT(error_of({"--cluster-seeds", "host:"}), Catch::Contains("cluster.seeds"));
  CHECK_THAT(error_of({"--cluster-seeds", ":4201"}), Catch::Contains("cluster.seeds"));
  CHECK_THAT(error_of({"--cluster-seeds", "host:70000"}), Catch::Contains("cluster.seeds"));
  CHECK_THAT(error_of({"--cluster-seeds", "host:42a"}), Catch::Contains("cluster.seeds"));
  CHECK_THAT(error_of({"--cluster-port", "65536"}), Catch::Contains("cluster.port"));
  CHECK_THAT(error_of({"--cluster-name", "a b"}), Catch::Contains("cluster.name"));
  CHECK_THAT(error_of({"--cluster-name", "x*"}), Catch::Contains("cluster.name"));
  CHECK_THAT(error_of({"--cluster-host", ""}), Catch::Contains("cluster.host"));
  CHECK_THAT(error_of({"--cluster-heartbeat-ms", "10"}), Catch::Contains("cluster.heartbeat_ms"));
}

TEST_CASE("security.data_key_file: 64 hex digits readable by the owner only, else an error naming the key",
          "[config][secrets]") {
  const std::string hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
  auto key_file = [](const std::string& content, mode_t mode) {
    auto path = temp_file(content);
    REQUIRE(::chmod(path.c_str(), mode) == 0);
    return path;
  };
  auto data_key_error = [](const std::string& path) -> std::string {
    try {
      atendeai::config::data_key(load_with({}, {{"ATENDEAI_SECURITY_DATA_KEY_FILE", path}}));
    } catch (const config_error& e) {
      return e.what();
    }
    return "";
  };
  CHECK_FALSE(atendeai::config::data_key(load_with({})));  // not configured: no key

  auto good = key_file(hex + "\n", 0600);
  auto read_only = key_file(hex, 0400);
  auto c = load_with({}, {{"ATENDEAI_SECURITY_DATA_KEY_FILE", good}});
  CHECK(c.security.data_key_file == good);
  auto k = atendeai::config::data_key(c);
  REQUIRE(k);
  CHECK(k->hex() == hex);
  CHECK(atendeai::config::data_key(load_with({"--security-data-key-file", read_only}))->hex() == hex);

  // Readable (or writable) by the group or others: refused, whatever it holds.
  for (mode_t mode : {0644, 0640, 0604, 0660, 0620, 0440}) {
    auto loose = key_file(hex + "\n", mode);
    INFO("mode " << std::oct << mode);
    CHECK_THAT(data_key_error(loose), Catch::Contains("security.data_key_file") && Catch::Contains(loose) &&
                                          Catch::Contains("mode") && Catch::Contains("owner only"));
    std::remove(loose.c_str());
  }
  // Of the wrong size or not hex: refused, and the key is never echoed.
  for (std::string content : {hex.substr(0, 62) + "\n", hex + "00\n", std::string(""), hex.substr(0, 63) + "z",
                              "0x" + hex.substr(2), std::string(32, '\x07')}) {
    auto bad = key_file(content, 0600);
    INFO("content: " << content);
    auto error = data_key_error(bad);
    CHECK_THAT(error, Catch::Contains("security.data_key_file") && Catch::Contains("64 hex digits"));
    CHECK(error.find(hex.substr(0, 16)) == std::string::npos);
    std::remove(bad.c_str());
  }
  // Missing, or a folder.
  CHECK_THAT(data_key_error("/nonexistent/data.key"),
             Catch::Contains("security.data_key_file") && Catch::Contains("cannot read /nonexistent/data.key"));
  CHECK_THAT(data_key_error("/tmp"), Catch::Contains("security.data_key_file") && Catch::Contains("not a regular file"));
  // The rotate command's option names itself.
  auto loose = key_file(hex, 0644);
  CHECK_THAT([&] {
    try {
      atendeai::config::read_data_key(loose, "--new-key-file");
    } catch (const config_error& e) {
      return std::string(e.what());
    }
    return std::string();
  }(), Catch::Contains("--new-key-file") && Catch::Contains("mode 0644"));
  for (auto& f : {good, read_only, loose})
    std::remove(f.c_str());
}
