// Secrets at rest (issue 21): channel tokens sealed under the data key
// (security.data_key_file) — against the real binary, the real PostgreSQL and the fake
// Graph API. A dump of the database shows no token, replies still carry the right
// Bearer token, a node never starts without the key its tokens are sealed with, and
// `atendeai keys rotate` moves every token to a new key.

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/secret_box.hpp"
#include "support/admin_node.hpp"
#include "support/chat.hpp"

using namespace atendeai::test;
using atendeai::core::data_key;
using nlohmann::json;

namespace {

const char* key_setting = "ATENDEAI_SECURITY_DATA_KEY_FILE";
const std::string key_a = "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf";
const std::string key_b = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
const std::string key_c = "c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ff";

/// A new path under the tests' var folder, ending in `name`.
std::string fresh_path(const std::string& name) {
  static int next = 0;
  return env_or("ATENDEAI_TEST_VAR_DIR", "/tmp") + "/key-" + std::to_string(::getpid()) + "-" +
         std::to_string(++next) + "-" + name;
}

/// A new file under the tests' var folder holding `content` with `mode`; its path.
std::string key_file(const std::string& name, const std::string& content, mode_t mode = 0600) {
  auto path = fresh_path(name);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  REQUIRE(::fchmod(fd, mode) == 0);
  ::close(fd);
  return path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Runs `atendeai <args>` to completion; {exit status, output}.
std::pair<int, std::string> run_binary(std::vector<std::string> args, std::map<std::string, std::string> env) {
  node_process p(std::move(args), std::move(env));
  int rc = p.wait_exit(std::chrono::seconds(60));
  return {rc, p.output()};
}

/// The environment of a node (or command) on `db` with `key_path` as its data key ("" none).
std::map<std::string, std::string> env_with_key(const chat_node& n, const std::string& key_path) {
  auto o = n.options;
  o.env.erase(key_setting);
  if (!key_path.empty())
    o.env[key_setting] = key_path;
  return node_env(n.db, free_port(), o);
}

/// The access token stored for a channel account, as it is in the table.
std::string stored_token(const scratch_database& db, const std::string& account) {
  return db.scalar("SELECT access_token FROM atendeai.clinic_channels WHERE account_id = '" + account + "'");
}

/// Sets a channel account's token in the table as plain text (as an install before
/// sealing had it), or adds the account to the demo clinic with it.
void put_plain_token(const scratch_database& db, const std::string& account, const std::string& token) {
  auto c = db.connect();
  pqxx::work tx(*c);
  tx.exec_params("SELECT set_config('app.clinic_id', $1, true)", std::string(demo::clinic_id));
  tx.exec_params("INSERT INTO atendeai.clinic_channels (clinic_id, channel, account_id, access_token) "
                 "VALUES ($1, 'whatsapp', $2, $3) ON CONFLICT (channel, account_id) DO UPDATE SET access_token = $3",
                 std::string(demo::clinic_id), account, token);
  tx.commit();
}

/// Everything pg_dump writes of the database's data (what a logical backup holds);
/// `table` limits it to one table.
std::string dump(const scratch_database& db, const std::string& table = "") {
  auto cmd = std::string("/usr/lib/postgresql/15/bin/pg_dump --data-only ") +
             (table.empty() ? "" : "--table=" + table + " ") + "'" + db.url() + "' 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe);
  std::string out;
  char buf[65536];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;)
    out.append(buf, n);
  int status = ::pclose(pipe);
  INFO(out.substr(0, 2000));
  REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  return out;
}

/// The Authorization headers the fake Graph API received for one channel account.
std::vector<std::string> bearers_for(const fake_graph_api& graph, const std::string& account) {
  std::vector<std::string> out;
  for (auto& [path, auth] : graph.calls())
    if (path.find("/" + account + "/messages") != std::string::npos)
      out.push_back(auth);
  return out;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

} // namespace

TEST_CASE("secrets: with a data key a channel's token is stored sealed, a dump shows no token, replies carry it",
          "[secrets]") {
  auto key = key_file("a", key_a + "\n");
  logged_in_node n({{key_setting, key}});
  const std::string demo_clinic = "/api/v1/clinics/" + std::string(demo::clinic_id);
  const std::string secret_token = "EAAB-secret-token-of-the-new-channel";

  auto ch = n.call(n.demo_admin, "POST", demo_clinic + "/channels",
                   {{"phone_number_id", "sealed-phone-1"}, {"access_token", secret_token}}, 201);
  CHECK(ch["has_token"] == true);
  CHECK_FALSE(contains(ch.dump(), secret_token));

  // The row holds the sealed form, which the key opens to the token.
  auto stored = stored_token(n.db, "sealed-phone-1");
  CHECK(atendeai::core::is_sealed(stored));
  CHECK_FALSE(contains(stored, secret_token));
  CHECK(atendeai::core::open(*data_key::from_hex(key_a), stored) == std::optional<std::string>(secret_token));

  // A dump of the channels table, and of the whole database, shows the sealed form only.
  auto channels = dump(n.db, "atendeai.clinic_channels");
  CHECK(contains(channels, "sealed-phone-1"));
  CHECK(contains(channels, stored));
  CHECK_FALSE(contains(channels, secret_token));
  CHECK_FALSE(contains(dump(n.db), secret_token));

  // A patient's reply goes out on the channel with its own token, opened by the sender.
  n.reply("5511933330001", "oi, qual o horário de vocês?", "sealed-phone-1");
  auto bearers = bearers_for(n.graph, "sealed-phone-1");
  REQUIRE_FALSE(bearers.empty());
  for (auto& b : bearers)
    CHECK(b == "Bearer " + secret_token);
  // Neither the token nor its sealed form is ever logged.
  CHECK_FALSE(contains(n.node->output(), secret_token));
  CHECK_FALSE(contains(n.node->output(), stored.substr(7)));

  // A token written in plain text (before the key was configured) is sealed at the next
  // start, one row at a time, and still reaches the Graph API as it was.
  REQUIRE(n.node->stop() == 0);
  put_plain_token(n.db, demo_phone_number_id, "EAAB-plain-token-of-the-demo");
  n.start();
  auto demo_stored = stored_token(n.db, demo_phone_number_id);
  CHECK(atendeai::core::is_sealed(demo_stored));
  CHECK(stored_token(n.db, "sealed-phone-1") == stored); // sealed before: left as it was
  CHECK_FALSE(contains(dump(n.db), "EAAB-plain-token-of-the-demo"));
  n.reply("5511933330002", "oi");
  REQUIRE_FALSE(bearers_for(n.graph, demo_phone_number_id).empty());
  CHECK(bearers_for(n.graph, demo_phone_number_id).back() == "Bearer EAAB-plain-token-of-the-demo");
  // And the channel created before the restart still sends with its own.
  n.reply("5511933330001", "qual o endereço?", "sealed-phone-1");
  CHECK(bearers_for(n.graph, "sealed-phone-1").back() == "Bearer " + secret_token);
  // A third start finds nothing left to seal.
  REQUIRE(n.node->stop() == 0);
  n.start();
  CHECK(stored_token(n.db, demo_phone_number_id) == demo_stored);
  ::unlink(key.c_str());
}

TEST_CASE("secrets: a node refuses to start, exit 2 naming security.data_key_file, without the key of its sealed "
          "tokens, with another key, or with a key file of wrong permissions or size",
          "[secrets]") {
  chat_node n;
  n.start(); // no key: the demo clinic and its channel
  REQUIRE(n.node->stop() == 0);
  put_plain_token(n.db, demo_phone_number_id, "EAAB-token-of-the-demo");
  n.start(); // still no key: tokens stay as given
  CHECK(stored_token(n.db, demo_phone_number_id) == "EAAB-token-of-the-demo");
  REQUIRE(n.node->stop() == 0);

  auto a = key_file("a", key_a + "\n");
  n.options.env[key_setting] = a;
  n.start(); // seals it
  REQUIRE(n.node->stop() == 0);
  auto sealed = stored_token(n.db, demo_phone_number_id);
  REQUIRE(atendeai::core::is_sealed(sealed));

  {
    auto [rc, out] = run_binary({"serve"}, env_with_key(n, ""));
    INFO(out);
    CHECK(rc == 2);
    CHECK(contains(out, "security.data_key_file"));
    CHECK(contains(out, "1 channel token sealed"));
  }
  auto b = key_file("b", key_b + "\n");
  {
    auto [rc, out] = run_binary({"serve"}, env_with_key(n, b));
    INFO(out);
    CHECK(rc == 2);
    CHECK(contains(out, "security.data_key_file (" + b + ")"));
    CHECK(contains(out, "cannot open"));
  }
  auto loose = key_file("loose", key_a + "\n", 0644);
  {
    auto [rc, out] = run_binary({"serve"}, env_with_key(n, loose));
    INFO(out);
    CHECK(rc == 2);
    CHECK(contains(out, "security.data_key_file: " + loose + " has mode 0644"));
  }
  auto short_key = key_file("short", key_a.substr(0, 62) + "\n");
  {
    auto [rc, out] = run_binary({"serve"}, env_with_key(n, short_key));
    INFO(out);
    CHECK(rc == 2);
    CHECK(contains(out, "security.data_key_file: " + short_key + " must hold the 32-byte key as 64 hex digits"));
  }
  {
    auto [rc, out] = run_binary({"serve"}, env_with_key(n, a + ".missing"));
    INFO(out);
    CHECK(rc == 2);
    CHECK(contains(out, "security.data_key_file: cannot read " + a + ".missing"));
  }
  CHECK(stored_token(n.db, demo_phone_number_id) == sealed); // no start changed it

  // With its key the node starts and answers with the token.
  n.start();
  n.say("5511944440001", "oi");
  REQUIRE_FALSE(bearers_for(n.graph, demo_phone_number_id).empty());
  CHECK(bearers_for(n.graph, demo_phone_number_id).back() == "Bearer EAAB-token-of-the-demo");
  for (auto& f : {a, b, loose, short_key})
    ::unlink(f.c_str());
}

TEST_CASE("secrets: keys generate writes a 0600 key once, keys rotate re-seals every token: the node starts with "
          "the new key and not with the old one",
          "[secrets]") {
  chat_node n;
  n.start();
  REQUIRE(n.node->stop() == 0);
  put_plain_token(n.db, demo_phone_number_id, "EAAB-token-of-the-demo");
  put_plain_token(n.db, "second-phone", "EAAB-token-of-the-second");
  auto a = key_file("a", key_a);
  n.options.env[key_setting] = a;
  n.start();
  REQUIRE(n.node->stop() == 0);
  auto before_demo = stored_token(n.db, demo_phone_number_id);
  auto before_second = stored_token(n.db, "second-phone");
  REQUIRE(atendeai::core::is_sealed(before_demo));
  REQUIRE(atendeai::core::is_sealed(before_second));

  // keys generate: 64 hex digits and a newline, mode 0600, never over an existing file.
  auto b = fresh_path("generated");
  {
    auto [rc, out] = run_binary({"keys", "generate", b}, {});
    INFO(out);
    CHECK(rc == 0);
    CHECK(contains(out, "security.data_key_file"));
  }
  struct stat st {};
  REQUIRE(::stat(b.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto generated = read_file(b);
  REQUIRE(generated.size() == 65);
  CHECK(generated.back() == '\n');
  auto new_key = data_key::from_hex(generated.substr(0, 64));
  REQUIRE(new_key);
  {
    auto [rc, out] = run_binary({"keys", "generate", b}, {});
    INFO(out);
    CHECK(rc == 1);
    CHECK(contains(out, "exists"));
    CHECK(read_file(b) == generated);
  }

  // Refused, nothing changed: the current key cannot open the tokens, or the new key file
  // is open to others.
  auto c = key_file("c", key_c);
  {
    auto [rc, out] = run_binary({"keys", "rotate", "--new-key-file", b}, env_with_key(n, c));
    INFO(out);
    CHECK(rc == 2);
    CHECK(contains(out, "security.data_key_file (" + c + ")"));
    CHECK(contains(out, "nothing changed"));
  }
  auto loose = key_file("loose", key_b, 0640);
  {
    auto [rc, out] = run_binary({"keys", "rotate", "--new-key-file", loose}, env_with_key(n, a));
    INFO(out);
    CHECK(rc == 2);
    CHECK(contains(out, "--new-key-file: " + loose + " has mode 0640"));
  }
  CHECK(stored_token(n.db, demo_phone_number_id) == before_demo);
  CHECK(stored_token(n.db, "second-phone") == before_second);

  // Rotated: every token sealed anew under the generated key, which opens them to the
  // same tokens; the old key opens none.
  {
    auto [rc, out] = run_binary({"keys", "rotate", "--new-key-file", b}, env_with_key(n, a));
    INFO(out);
    CHECK(rc == 0);
    CHECK(contains(out, "re-sealed 2 channel tokens"));
    CHECK(contains(out, "point security.data_key_file at " + b));
    CHECK_FALSE(contains(out, "EAAB-token"));
  }
  auto old_key = data_key::from_hex(key_a);
  for (auto [account, token] : {std::pair<std::string, std::string>{demo_phone_number_id, "EAAB-token-of-the-demo"},
                                {"second-phone", "EAAB-token-of-the-second"}}) {
    auto now = stored_token(n.db, account);
    INFO(account);
    CHECK(atendeai::core::is_sealed(now));
    CHECK(atendeai::core::open(*new_key, now) == std::optional<std::string>(token));
    CHECK_FALSE(atendeai::core::open(*old_key, now));
  }
  CHECK_FALSE(contains(dump(n.db, "atendeai.clinic_channels"), "EAAB-token"));

  // The old key no longer starts a node; the new one does, and replies carry the tokens.
  {
    auto [rc, out] = run_binary({"serve"}, env_with_key(n, a));
    INFO(out);
    CHECK(rc == 2);
    CHECK(contains(out, "security.data_key_file (" + a + ")"));
  }
  n.options.env[key_setting] = b;
  n.start();
  n.say("5511955550001", "oi");
  REQUIRE_FALSE(bearers_for(n.graph, demo_phone_number_id).empty());
  CHECK(bearers_for(n.graph, demo_phone_number_id).back() == "Bearer EAAB-token-of-the-demo");
  n.exchange("5511955550002", webhook_body({{"5511955550002", n.fresh_wamid(), "oi"}}, "second-phone"));
  REQUIRE_FALSE(bearers_for(n.graph, "second-phone").empty());
  CHECK(bearers_for(n.graph, "second-phone").back() == "Bearer EAAB-token-of-the-second");
  for (auto& f : {a, b, c, loose})
    ::unlink(f.c_str());
}
