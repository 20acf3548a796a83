#include "support/harness.hpp"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <restinio/all.hpp>

#include "core/agenda.hpp"
#include "core/signature.hpp"

namespace atendeai::test {

// -- HTTP client ----------------------------------------------------------------

namespace {

size_t collect_body(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t collect_header(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    auto name = line.substr(0, colon);
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' '))
      value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n'))
      value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * n;
}

http_response perform(const std::string& url, const std::string* body,
                      const std::map<std::string, std::string>& headers, int timeout_ms,
                      const char* method = nullptr) {
  http_response out;
  CURL* c = curl_easy_init();
  curl_slist* hl = nullptr;
  for (auto& [k, v] : headers)
    hl = curl_slist_append(hl, (k + ": " + v).c_str());
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &out.headers);
  if (method)
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  if (body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  if (curl_easy_perform(c) == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  curl_slist_free_all(hl);
  curl_easy_cleanup(c);
  return out;
}

} // namespace

http_response http_get(const std::string& url, const std::map<std::string, std::string>& headers, int timeout_ms) {
  return perform(url, nullptr, headers, timeout_ms);
}

http_response http_post(const std::string& url, const std::string& body,
                        const std::map<std::string, std::string>& headers, int timeout_ms) {
  auto h = headers;
  h.emplace("Content-Type", "application/json");
  return perform(url, &body, h, timeout_ms);
}

http_response http_request(const std::string& method, const std::string& url, const std::string& body,
                           const std::map<std::string, std::string>& headers, int timeout_ms) {
  auto h = headers;
  h.emplace("Content-Type", "application/json");
  return perform(url, body.empty() && method == "GET" ? nullptr : &body, h, timeout_ms, method.c_str());
}

// -- environment ----------------------------------------------------------------

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

std::string test_database_url() {
  auto url = env_or("ATENDEAI_TEST_DATABASE_URL");
  if (url.empty())
    throw std::runtime_error("ATENDEAI_TEST_DATABASE_URL is not set: run the suite with deploy/test");
  return url;
}

std::string test_redis_url() {
  return env_or("ATENDEAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0");
}

void services(const std::string& action, const std::string& service) {
  auto cmd = env_or("ATENDEAI_TEST_SERVICES");
  if (cmd.empty())
    throw std::runtime_error("ATENDEAI_TEST_SERVICES is not set: run the suite with deploy/test");
  auto full = cmd + " " + action + " " + service + " >/dev/null 2>&1";
  if (std::system(full.c_str()) != 0)
    throw std::runtime_error("service command failed: " + full);
}

// -- scratch database -------------------------------------------------------------

namespace {

std::string with_database(const std::string& url, const std::string& db) {
  auto slash = url.rfind('/');
  auto q = url.find('?', slash);
  return url.substr(0, slash + 1) + db + (q == std::string::npos ? "" : url.substr(q));
}

std::string random_suffix() {
  static std::mt19937_64 rng{std::random_device{}()};
  std::ostringstream s;
  s << std::hex << rng();
  return s.str();
}

} // namespace

scratch_database::scratch_database() {
  name_ = "t_" + random_suffix();
  pqxx::connection admin(test_database_url());
  pqxx::nontransaction tx(admin);
  tx.exec("CREATE DATABASE " + tx.quote_name(name_));
  url_ = with_database(test_database_url(), name_);
}

scratch_database::~scratch_database() {
  try {
    pqxx::connection admin(test_database_url());
    pqxx::nontransaction tx(admin);
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
  } catch (...) {
    // The server may be down in an outage test; the test data directory is temporary.
  }
}

std::unique_ptr<pqxx::connection> scratch_database::connect() const {
  return std::make_unique<pqxx::connection>(url_);
}

std::string scratch_database::scalar(const std::string& sql) const {
  pqxx::connection c(url_);
  pqxx::nontransaction tx(c);
  auto r = tx.exec(sql);
  if (r.empty() || r[0][0].is_null())
    return {};
  return r[0][0].as<std::string>();
}

// -- ports and processes ------------------------------------------------------------

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

node_process::node_process(std::vector<std::string> args, std::map<std::string, std::string> env) {
  if (auto it = env.find("ATENDEAI_HTTP_PORT"); it != env.end())
    port_ = std::stoi(it->second);
  log_path_ = env_or("ATENDEAI_TEST_VAR_DIR", "/tmp") + "/node-" + random_suffix() + ".log";
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    if (kv.rfind("ATENDEAI_", 0) == 0 && kv.rfind("ATENDEAI_TEST_", 0) != 0)
      continue; // only what the test sets
    envs.push_back(kv);
  }
  for (auto& [k, v] : env)
    envs.push_back(k + "=" + v);
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    dup2(fd, 2);
    int null_in = open("/dev/null", O_RDONLY); // commands that read stdin see it empty
    dup2(null_in, 0);
    std::vector<char*> argv{const_cast<char*>(ATENDEAI_BINARY)};
    for (auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : envs)
      envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    execve(ATENDEAI_BINARY, argv.data(), envp.data());
    _exit(127);
  }
}

node_process::~node_process() {
  if (pid_ > 0)
    stop(SIGKILL, std::chrono::seconds(10));
}

bool node_process::wait_ready(std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      pid_ = -1;
      return false;
    }
    if (http_get(url("/health"), {}, 2000).status != 0)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

int node_process::wait_exit(std::chrono::seconds timeout) {
  if (pid_ <= 0)
    return exit_status_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      pid_ = -1;
      return exit_status_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

int node_process::stop(int sig, std::chrono::seconds timeout) {
  if (pid_ <= 0)
    return exit_status_;
  kill(pid_, sig);
  auto rc = wait_exit(timeout);
  if (rc == -1) {
    kill(pid_, SIGKILL);
    rc = wait_exit(std::chrono::seconds(10));
  }
  return rc;
}

std::string node_process::output() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::map<std::string, std::string> node_env(const scratch_database& db, int port, const node_options& o) {
  std::map<std::string, std::string> env = {
    {"ATENDEAI_DATABASE_URL", db.url()},
    {"ATENDEAI_REDIS_URL", test_redis_url()},
    {"ATENDEAI_HTTP_PORT", std::to_string(port)},
    {"ATENDEAI_WHATSAPP_APP_SECRET", test_app_secret},
    {"ATENDEAI_WHATSAPP_VERIFY_TOKEN", test_verify_token},
    {"ATENDEAI_PATHS_VAR_DIR", env_or("ATENDEAI_TEST_VAR_DIR", "/tmp")},
    {"ATENDEAI_SENDER_SINK_FILE", "sink-" + db.name() + ".jsonl"},
    {"ATENDEAI_SENDER_BACKOFF_BASE_MS", "50"},
    {"ATENDEAI_SENDER_BACKOFF_MAX_MS", "200"},
    {"ATENDEAI_LOG_LEVEL", "info"},
    {"ATENDEAI_AUTH_BCRYPT_COST", "4"},
  };
  if (!o.graph_api_base.empty())
    env["ATENDEAI_WHATSAPP_API_BASE"] = o.graph_api_base;
  if (!o.access_token.empty())
    env["ATENDEAI_WHATSAPP_ACCESS_TOKEN"] = o.access_token;
  for (auto& [k, v] : o.env)
    env[k] = v;
  return env;
}

std::unique_ptr<node_process> serve_node(const scratch_database& db, const node_options& o, int port,
                                         std::vector<std::string> args) {
  auto node = std::make_unique<node_process>(std::move(args), node_env(db, port, o));
  auto ready = node->wait_ready();
  INFO(node->output());
  REQUIRE(ready);
  return node;
}

// -- webhooks -------------------------------------------------------------------------

std::string notification_body(const nlohmann::json& messages, const nlohmann::json& contacts,
                              const std::string& phone_number_id) {
  nlohmann::json body = {
    {"object", "whatsapp_business_account"},
    {"entry",
     {{{"id", "waba-1"},
       {"changes",
        {{{"field", "messages"},
          {"value",
           {{"messaging_product", "whatsapp"},
            {"metadata", {{"display_phone_number", "15550001111"}, {"phone_number_id", phone_number_id}}},
            {"contacts", contacts},
            {"messages", messages}}}}}}}}}};
  return body.dump();
}

namespace {
/// Seconds added to the system clock's for test notifications (use_test_clock_for_webhooks).
std::atomic<int64_t> webhook_clock_shift{0};

int64_t system_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}
} // namespace

std::string webhook_timestamp() { return std::to_string(system_seconds() + webhook_clock_shift.load()); }

void use_test_clock_for_webhooks(const std::string& iso_start) {
  auto start = atendeai::core::parse_iso(iso_start);
  REQUIRE(start);
  auto s = std::chrono::duration_cast<std::chrono::seconds>(start->time_since_epoch()).count();
  webhook_clock_shift.store(s - system_seconds());
}

std::string webhook_body(const std::vector<wa_text>& messages, const std::string& phone_number_id) {
  auto msgs = nlohmann::json::array();
  auto contacts = nlohmann::json::array();
  for (auto& m : messages) {
    msgs.push_back({{"from", m.from}, {"id", m.id}, {"timestamp", webhook_timestamp()}, {"type", "text"},
                    {"text", {{"body", m.body}}}});
    contacts.push_back({{"profile", {{"name", "Paciente"}}}, {"wa_id", m.from}});
  }
  return notification_body(msgs, contacts, phone_number_id);
}

http_response post_webhook(const node_process& node, const std::string& body, const std::string& secret,
                           int timeout_ms) {
  return http_post(node.url("/webhooks/whatsapp"), body,
                   {{"X-Hub-Signature-256", core::whatsapp_signature(secret, body)}}, timeout_ms);
}

// -- metrics ------------------------------------------------------------------------------

double metrics_scrape::operator[](const std::string& series) const {
  auto it = samples.find(series);
  return it == samples.end() ? 0.0 : it->second;
}

bool metrics_scrape::declares(const std::string& name) const {
  return text.find("# TYPE " + name + " ") != std::string::npos;
}

metrics_scrape scrape_metrics(const node_process& node) {
  metrics_scrape out;
  auto r = http_get(node.url("/metrics"));
  if (r.status != 200)
    return out;
  out.text = r.body;
  std::istringstream lines(r.body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    // name{labels} value: label values never hold "} " here (routes, kinds, outcomes).
    auto brace = line.find('}');
    auto space = line.find(' ', brace == std::string::npos ? 0 : brace);
    if (space == std::string::npos)
      continue;
    out.samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

std::pair<int, std::string> promtool_check_metrics(const std::string& text) {
  auto path = env_or("ATENDEAI_TEST_VAR_DIR", "/tmp") + "/metrics-" + random_suffix() + ".txt";
  std::ofstream(path) << text;
  int rc = std::system(("promtool check metrics < " + path + " > " + path + ".out 2>&1").c_str());
  std::ifstream report(path + ".out");
  std::stringstream s;
  s << report.rdbuf();
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc), s.str()};
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred())
      return true;
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

bool quiescent(const scratch_database& db, std::chrono::milliseconds timeout) {
  return eventually(
    [&] {
      return db.scalar("SELECT (SELECT count(*) FROM atendeai.messages WHERE direction = 'in' AND answered_at IS NULL)"
                       " + (SELECT count(*) FROM atendeai.outbox WHERE status = 'pending')") == "0";
    },
    timeout);
}

// -- fake Graph API ---------------------------------------------------------------------

namespace {

/// Lower-case hex SHA-256 of `bytes` (the media metadata's "sha256").
std::string sha256_hex(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr);
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += digits[digest[i] >> 4];
    out += digits[digest[i] & 0xf];
  }
  return out;
}

} // namespace

struct fake_graph_api::impl {
  using router_t = restinio::router::express_router_t<>;
  struct traits : restinio::default_traits_t {
    using request_handler_t = router_t;
  };
  int port = 0;
  mutable std::mutex mutex;
  std::vector<nlohmann::json> bodies;
  std::vector<std::pair<std::string, std::string>> calls;
  int fail_count = 0;
  int fail_status = 500;
  int fail_code = 1; ///< Meta's error code in the failure's body
  uint64_t next_id = 0;
  struct media {
    std::string bytes;
    std::string mime_type;
    std::string sha256;
  };
  std::map<std::string, media> media_by_id;
  restinio::running_server_handle_t<traits> server;

  /// Records the request in `calls`; call with `mutex` held.
  template <typename Request> void record_call(const Request& req) {
    auto auth = req->header().try_get_field("Authorization");
    calls.emplace_back(std::string(req->header().path()), auth ? *auth : std::string());
  }

  /// A Graph-style error answer.
  template <typename Request>
  static void error(const Request& req, std::uint16_t status, const char* reason, const std::string& message,
                    int code, const std::string& type) {
    req->create_response(restinio::http_status_line_t{restinio::http_status_code_t{status}, reason})
      .append_header(restinio::http_field::content_type, "application/json")
      .set_body(nlohmann::json{{"error",
                                {{"message", message},
                                 {"type", type},
                                 {"code", code},
                                 {"fbtrace_id", "fake-fbtrace"}}}}
                  .dump())
      .done();
  }
};

fake_graph_api::fake_graph_api() : impl_(new impl) {
  impl_->port = free_port();
  auto router = std::make_unique<impl::router_t>();
  auto* self = impl_.get();
  router->http_post(R"(/:version/:phone/messages)", [self](auto req, auto) {
    std::lock_guard<std::mutex> guard(self->mutex);
    self->record_call(req);
    if (self->fail_count > 0) {
      --self->fail_count;
      req->create_response(restinio::http_status_line_t{
                             restinio::http_status_code_t{static_cast<std::uint16_t>(self->fail_status)}, "Failed"})
        .set_body(nlohmann::json{{"error", {{"message", "injected failure"}, {"code", self->fail_code}}}}.dump())
        .done();
      return restinio::request_accepted();
    }
    self->bodies.push_back(nlohmann::json::parse(req->body(), nullptr, false));
    auto id = "wamid.fake." + std::to_string(++self->next_id);
    req->create_response()
      .append_header(restinio::http_field::content_type, "application/json")
      .set_body(nlohmann::json{{"messaging_product", "whatsapp"}, {"messages", {{{"id", id}}}}}.dump())
      .done();
    return restinio::request_accepted();
  });
  // Before the metadata route: "/media-download/<id>" would match "/:version/:media_id" too.
  router->http_get(R"(/media-download/:media_id)", [self](auto req, auto params) {
    std::lock_guard<std::mutex> guard(self->mutex);
    self->record_call(req);
    auto auth = req->header().try_get_field("Authorization");
    if (!auth || auth->rfind("Bearer ", 0) != 0 || auth->size() <= 7) {
      impl::error(req, 401, "Unauthorized", "Authorization: Bearer <access token> required", 190, "OAuthException");
      return restinio::request_accepted();
    }
    auto found = self->media_by_id.find(std::string(params["media_id"]));
    if (found == self->media_by_id.end()) {
      impl::error(req, 404, "Not Found", "media not found", 100, "GraphMethodException");
      return restinio::request_accepted();
    }
    req->create_response()
      .append_header(restinio::http_field::content_type, found->second.mime_type)
      .set_body(found->second.bytes)
      .done();
    return restinio::request_accepted();
  });
  router->http_get(R"(/:version/:media_id)", [self](auto req, auto params) {
    std::lock_guard<std::mutex> guard(self->mutex);
    self->record_call(req);
    auto id = std::string(params["media_id"]);
    auto found = self->media_by_id.find(id);
    if (found == self->media_by_id.end()) {
      impl::error(req, 404, "Not Found",
                  "Unsupported get request. Object with ID '" + id +
                    "' does not exist, cannot be loaded due to missing permissions, or does not support this "
                    "operation.",
                  100, "GraphMethodException");
      return restinio::request_accepted();
    }
    auto& m = found->second;
    req->create_response()
      .append_header(restinio::http_field::content_type, "application/json")
      .set_body(nlohmann::json{{"messaging_product", "whatsapp"},
                               {"url", "http://127.0.0.1:" + std::to_string(self->port) + "/media-download/" + id},
                               {"mime_type", m.mime_type},
                               {"sha256", m.sha256},
                               {"file_size", m.bytes.size()},
                               {"id", id}}
                  .dump())
      .done();
    return restinio::request_accepted();
  });
  impl_->server = restinio::run_async(restinio::own_io_context(),
                                      restinio::server_settings_t<impl::traits>{}
                                        .address("127.0.0.1")
                                        .port(static_cast<std::uint16_t>(impl_->port))
                                        .request_handler(std::move(router)),
                                      1);
}

fake_graph_api::~fake_graph_api() {
  impl_->server->stop();
  impl_->server->wait();
}

std::string fake_graph_api::base_url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}

void fake_graph_api::fail_next(int n, int status, int meta_code) {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  impl_->fail_count = n;
  impl_->fail_status = status;
  impl_->fail_code = meta_code;
}

void fake_graph_api::add_media(const std::string& media_id, std::string bytes, const std::string& mime_type) {
  auto sha256 = sha256_hex(bytes);
  std::lock_guard<std::mutex> guard(impl_->mutex);
  impl_->media_by_id[media_id] = impl::media{std::move(bytes), mime_type, std::move(sha256)};
}

std::vector<nlohmann::json> fake_graph_api::received() const {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  return impl_->bodies;
}

std::vector<std::pair<std::string, std::string>> fake_graph_api::calls() const {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  return impl_->calls;
}

size_t fake_graph_api::count() const {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  return impl_->bodies.size();
}

std::vector<nlohmann::json> sent_to(const fake_graph_api& graph, const std::string& patient) {
  std::vector<nlohmann::json> out;
  for (auto& m : graph.received())
    if (m.value("to", "") == patient)
      out.push_back(m);
  return out;
}

} // namespace atendeai::test
