#pragma once
/// Integration test support, the base of the module (library atendeai_test_support,
/// tests/CMakeLists.txt): a fresh database per test, the real atendeai binary as a child
/// process (serve_node: the one way to start a node), an HTTP client, signed webhooks, a
/// fake Graph API that records what it receives (sent_to, and support/sent_message.hpp
/// to read it), and control of the test PostgreSQL/Redis (stop/start). Built on it:
/// support/admin_api.hpp (the admin API: settings, demo administrators, logging in),
/// support/chat.hpp (clinic days, taps, one message and its reply),
/// support/admin_node.hpp and support/pipeline_node.hpp (whole fixtures),
/// support/fake_smtp.hpp, support/fake_openai.hpp (the language model's upstream), and
/// support/demo_ids.hpp (the demo clinic's ids).

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "support/sent_message.hpp"

namespace atendeai::test {

/// An HTTP answer.
struct http_response {
  long status = 0; ///< 0: no answer (connection refused, timeout)
  std::string body;
  std::map<std::string, std::string> headers; ///< lower-case names
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

/// Blocking HTTP calls (libcurl).
http_response http_get(const std::string& url, const std::map<std::string, std::string>& headers = {},
                       int timeout_ms = 10000);
http_response http_post(const std::string& url, const std::string& body,
                        const std::map<std::string, std::string>& headers = {}, int timeout_ms = 30000);

/// Any method (PUT, DELETE, ...) with an optional JSON body.
http_response http_request(const std::string& method, const std::string& url, const std::string& body = {},
                           const std::map<std::string, std::string>& headers = {}, int timeout_ms = 30000);

/// The test environment (from deploy/test): database, Redis, service control.
std::string env_or(const char* name, const std::string& fallback = {});
std::string test_database_url();   ///< ATENDEAI_TEST_DATABASE_URL (the maintenance database)
std::string test_redis_url();      ///< ATENDEAI_TEST_REDIS_URL
/// Runs deploy/services for the test data directory: ("stop", "pg"), ("start", "redis")...
void services(const std::string& action, const std::string& service);

/// A fresh database, dropped when the value dies.
class scratch_database {
public:
  scratch_database();
  ~scratch_database();
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }
  /// A connection as the owner.
  std::unique_ptr<pqxx::connection> connect() const;
  /// One value of a query run as the owner (the first column of the first row), "" if none.
  std::string scalar(const std::string& sql) const;

private:
  std::string name_;
  std::string url_;
};

/// A free TCP port on 127.0.0.1.
int free_port();

/// The atendeai binary running as a child process.
class node_process {
public:
  /// Starts `atendeai <args>` with the base environment plus `env` (ATENDEAI_* keys).
  node_process(std::vector<std::string> args, std::map<std::string, std::string> env);
  ~node_process();
  node_process(const node_process&) = delete;

  /// Waits until /health answers (any status); false on timeout or early exit.
  bool wait_ready(std::chrono::seconds timeout = std::chrono::seconds(60));
  /// Sends a signal and waits for the exit; returns the exit status (128+sig if killed).
  int stop(int sig = 15, std::chrono::seconds timeout = std::chrono::seconds(30));
  /// Waits for the process to exit by itself; returns its exit status or -1 on timeout.
  int wait_exit(std::chrono::seconds timeout);
  /// Everything the process wrote on stdout and stderr so far.
  std::string output() const;
  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

private:
  int pid_ = -1;
  int port_ = 0;
  int exit_status_ = -1;
  std::string log_path_;
};

/// A node on a scratch database with test settings (fast batches, local Graph API if
/// given); the standard way tests start a server.
struct node_options {
  std::string graph_api_base;             ///< fake Graph API base URL ("" = local sink)
  std::string access_token;               ///< whatsapp.access_token
  std::map<std::string, std::string> env; ///< extra environment
};
std::map<std::string, std::string> node_env(const scratch_database& db, int port, const node_options& o);

/// Starts `atendeai <args>` (a server) on the database with the options and waits until it
/// answers; the test fails, with the node's output, if it does not. The way tests start a node.
std::unique_ptr<node_process> serve_node(const scratch_database& db, const node_options& o, int port = free_port(),
                                         std::vector<std::string> args = {"serve"});

/// The app secret and verify token the test nodes use.
inline const char* test_app_secret = "test-app-secret";
inline const char* test_verify_token = "test-verify-token";
inline const char* demo_phone_number_id = "demo-phone-number-id";

/// A text message for a webhook.
struct wa_text {
  std::string from;
  std::string id;
  std::string body;
};
/// The timestamp the test notifications carry (the patient's 24-hour window opens with
/// it), as Meta writes it (seconds, a string): now on the system clock, or on the test
/// clock a node was started with (use_test_clock_for_webhooks).
std::string webhook_timestamp();
/// Test notifications carry times from `iso_start` on (the ATENDEAI_TEST_CLOCK of the
/// node they go to), moving with the system clock from this call. For this test process.
void use_test_clock_for_webhooks(const std::string& iso_start);
/// A notification body with these messages and contacts to `phone_number_id`.
std::string notification_body(const nlohmann::json& messages, const nlohmann::json& contacts,
                              const std::string& phone_number_id = demo_phone_number_id);
/// A notification body with text messages to `phone_number_id`.
std::string webhook_body(const std::vector<wa_text>& messages,
                         const std::string& phone_number_id = demo_phone_number_id);
/// POSTs a signed notification to the node (status 0 when no answer within timeout_ms).
http_response post_webhook(const node_process& node, const std::string& body,
                           const std::string& secret = test_app_secret, int timeout_ms = 30000);

/// One scrape of a node's /metrics: every sample by its series exactly as rendered
/// (`name{label="v",...}`), and the text itself.
struct metrics_scrape {
  std::string text;
  std::map<std::string, double> samples;
  /// The sample's value, 0 when the series does not exist (yet).
  double operator[](const std::string& series) const;
  /// True when the family `name` is declared (# TYPE line), with or without samples.
  bool declares(const std::string& name) const;
};
/// GETs /metrics (status 200 required, else an empty scrape) and parses it.
metrics_scrape scrape_metrics(const node_process& node);

/// Runs `promtool check metrics` on exposition text: {exit status, promtool's output}.
std::pair<int, std::string> promtool_check_metrics(const std::string& text);

/// Polls `pred` every 50 ms until true or `timeout`; returns its last value.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// Waits until the node on `db` has no work in flight: every inbound message stored is
/// handled (answered_at set, with or without a reply) and no outbox row waits to be
/// delivered. From then on a duplicate reply would already have reached the channel:
/// count replies after this, never after a fixed wait. True when reached in `timeout`.
bool quiescent(const scratch_database& db, std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// A fake WhatsApp Graph API: records every POST .../messages, answers a wamid, and
/// can be told to fail the next requests with a status. It also serves media as Meta's
/// Cloud API does: GET /<version>/<media_id> answers the media's metadata with a download
/// URL, GET /media-download/<media_id> (Authorization: Bearer required) the bytes.
class fake_graph_api {
public:
  fake_graph_api();
  ~fake_graph_api();
  std::string base_url() const;
  /// The next `n` message requests (POST .../messages; never the media ones) answer
  /// `status` (e.g. 500, 429, 400) with Meta's error `meta_code` (131047: the 24-hour
  /// window closed).
  void fail_next(int n, int status, int meta_code = 1);
  /// Makes `media_id` known (replacing what it was): its metadata answers `mime_type`,
  /// the bytes' SHA-256 and size, and a URL on this server that downloads `bytes`.
  void add_media(const std::string& media_id, std::string bytes, const std::string& mime_type = "audio/ogg");
  /// Bodies of the messages sent so far (POST .../messages answered with a wamid, not the
  /// failed ones; parsed JSON), in arrival order.
  std::vector<nlohmann::json> received() const;
  /// Paths and Authorization headers of every request (messages, media metadata, media
  /// downloads), in arrival order.
  std::vector<std::pair<std::string, std::string>> calls() const;
  /// How many messages were sent (received().size()).
  size_t count() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Everything the fake Graph API received for one patient, in order.
std::vector<nlohmann::json> sent_to(const fake_graph_api& graph, const std::string& patient);

} // namespace atendeai::test
