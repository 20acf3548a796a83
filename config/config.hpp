#pragma once
/// The node's configuration: one typed value, built from defaults < TOML file <
/// ATENDEAI_<SECTION>_<KEY> environment < --<section>-<key> flags (API.md).

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/secret_box.hpp"

namespace atendeai::config {

/// A configuration problem; what() is one line naming the key ("http.port: ...").
class config_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct node_settings {
  std::string id = "n1";
  int scheduler_threads = 0; ///< CAF scheduler threads (0: one per core, at least 2)
};

struct http_settings {
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 2;
  int64_t max_body_bytes = 3 * 1024 * 1024;
  int request_timeout_ms = 10000;
  std::vector<std::string> cors_origins; ///< browser origins allowed on /api/v1 (exact match)
  int webhook_max_inflight = 20000;      ///< webhook requests being made durable at once
  std::string public_base_url = "http://127.0.0.1:8080"; ///< how the outside reaches this node (links in feeds)
  std::string tls_cert; ///< with tls_key: the listener speaks HTTPS only (no proxy in front)
  std::string tls_key;
  /// True when the HTTP listener terminates TLS itself (both files set).
  bool tls() const { return !tls_cert.empty(); }
};

struct database_settings {
  std::string url = "postgresql://atendeai@127.0.0.1:5432/atendeai";
  std::string app_role = "atendeai_app";
  int connect_timeout_s = 3;
  int readers = 2;
};

struct redis_settings {
  std::string url = "redis://127.0.0.1:6379/0";
  int timeout_ms = 500;
};

struct persistence_settings {
  int batch_max_rows = 500;
  int batch_max_delay_ms = 5;
  int writers = 1;           ///< record writers (decisions, deliveries)
  int ingest_writers = 1;    ///< ingest writers (webhooks: commit, then 200); one makes the biggest batches
  int write_behind_ms = 1000; ///< how often rebuildable data (last activity) is written
  int max_held_records = 100000; ///< records kept through a PostgreSQL outage before webhooks get 503
};

struct conversation_settings {
  int memory_window = 10;
  int idle_timeout_s = 600;
};

struct flow_settings {
  int expiry_minutes = 30;
  int hold_minutes = 10;
};

struct privacy_settings {
  /// The legal basis of clinics that state none: health_protection | consent.
  std::string default_legal_basis = "health_protection";
};

struct security_settings {
  /// File holding the data key that seals channel tokens in the database (64 hex digits,
  /// mode 0600 or 0400); empty: no key, tokens are stored as given.
  std::string data_key_file;
};

struct scheduling_settings {
  int waitlist_hold_minutes = 15; ///< a freed time offered to the waitlist is held this long
};

struct whatsapp_settings {
  std::string app_secret;
  std::string verify_token;
  std::string access_token;
  std::string api_base = "https://graph.facebook.com";
  std::string api_version = "v21.0";
  std::string demo_phone_number_id = "demo-phone-number-id";
};

struct sender_settings {
  int workers = 1;
  int concurrency = 64;
  int max_attempts = 8;
  int timeout_ms = 5000;
  int backoff_base_ms = 500;
  int backoff_max_ms = 60000;
  std::string sink_file = "outbox-sink.jsonl";
};

struct supervision_settings {
  int max_restarts = 5;
  int window_seconds = 60;
};

struct shutdown_settings {
  int timeout_s = 20; ///< SIGTERM/SIGINT to exit at most (under Kubernetes' default 30 s grace)
};

struct cluster_settings {
  std::string name = "atendeai";
  std::string host = "127.0.0.1";
  int port = 0;
  std::vector<std::string> seeds;
  int heartbeat_ms = 1000;
  int dead_after_ms = 3000;
  std::string tls_cert; ///< with tls_key and tls_ca: mutual TLS on the cluster link
  std::string tls_key;
  std::string tls_ca;
  /// True when the cluster link is authenticated and encrypted (all three files set).
  bool tls() const { return !tls_cert.empty(); }
};

struct demo_settings {
  bool enabled = true;
};

struct log_settings {
  std::string level = "info";
  std::string format = "json";
};

struct auth_settings {
  std::string jwt_secret;
  int access_ttl_s = 900;
  int refresh_ttl_s = 604800;
  int reset_ttl_s = 3600;
  int bcrypt_cost = 12;
  int rate_auth_per_minute = 5;
  int rate_auth_per_hour = 100;
  int rate_api_per_minute = 100;
  int rate_api_per_hour = 1000;
  int rate_window_s = 60;
  int workers = 2;
};

struct mail_settings {
  std::string smtp_url;
  std::string file = "mail-outbox.txt";
  std::string from = "AtendeAI <no-reply@atendeai.local>";
  std::string reset_url = "http://127.0.0.1:8080/reset-password?token=";
};

/// The optional language model (an OpenAI-compatible provider): off unless the
/// deployment enables it and a clinic opts in (ai_behavior.use_model).
struct ai_settings {
  bool enabled = false;
  std::string base_url = "https://api.openai.com/v1";
  std::string api_key;
  std::string api_key_file; ///< read at start when api_key is empty
  std::string auth_header = "authorization"; ///< authorization (Bearer) | api-key (Azure OpenAI)
  std::string model = "gpt-4o-mini";
  int timeout_ms = 4000;
  int max_tokens = 400;
  int workers = 2;               ///< calls in flight at once (each worker keeps its connection)
  int breaker_failures = 5;      ///< failures in a row that open the circuit breaker
  int breaker_cooldown_ms = 30000;
  bool transcription = true;     ///< voice notes transcribed by {base_url}/audio/transcriptions
  std::string transcription_model = "whisper-1";
  int media_max_bytes = 16 * 1024 * 1024; ///< larger media are refused politely
};

/// Calendars: the ICS feeds of professionals and clinics.
struct calendar_settings {
  std::string ics_patient_detail = "first_name"; ///< first_name | none: what a feed shows of the patient
  int ics_past_days = 30;                        ///< appointments shown from this many days ago
  int ics_future_days = 365;                     ///< ... up to this many days ahead
};

struct paths_settings {
  std::string var_dir = "var";
};

/// The whole configuration.
struct config {
  node_settings node;
  http_settings http;
  database_settings database;
  redis_settings redis;
  persistence_settings persistence;
  conversation_settings conversation;
  flow_settings flow;
  scheduling_settings scheduling;
  privacy_settings privacy;
  security_settings security;
  whatsapp_settings whatsapp;
  sender_settings sender;
  supervision_settings supervision;
  shutdown_settings shutdown;
  cluster_settings cluster;
  demo_settings demo;
  log_settings log;
  auth_settings auth;
  mail_settings mail;
  ai_settings ai;
  calendar_settings calendar;
  paths_settings paths;
};

/// The command line once configuration flags are taken out.
struct command_line {
  std::vector<std::string> args; ///< subcommand and its operands, e.g. {"migrate","down","2"}
  bool help = false;
};

/// Loads the configuration. `argv` flags override `env` (ATENDEAI_*) which override the
/// file named by --config (or ATENDEAI_CONFIG), which overrides the defaults. Flags that
/// are not configuration keys (subcommand operands, command options such as --email)
/// are left in `rest` when it is given; otherwise they are errors.
/// Throws config_error naming the key on an unknown key, a wrong type or a value out
/// of range.
config load(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            command_line& rest, const std::vector<std::string>& command_options = {});

/// Throws config_error when a value is out of range or inconsistent.
void validate(const config& c);

/// Reads a data key file: 64 hex digits (a trailing newline allowed) in a regular file
/// that neither its group nor others may read or write (mode 0600 or 0400). Throws
/// config_error naming `key` (the setting or option that named the file) when the file
/// is missing or unreadable, has other permissions, or holds anything else.
core::data_key read_data_key(const std::string& path, const std::string& key = "security.data_key_file");

/// The node's data key (security.data_key_file), or nullopt when none is configured.
/// Throws config_error naming security.data_key_file as read_data_key does. Read by the
/// commands that use it (serve, keys rotate) at their start, not by load(): `keys
/// generate` writes the file the configuration may already name.
std::optional<core::data_key> data_key(const config& c);

/// The language model's API key: ai.api_key, or the first line of ai.api_key_file ("" when
/// neither is set: a local server may need none). Throws config_error naming
/// ai.api_key_file when the file cannot be read or is empty. Read by serve at its start.
std::string ai_api_key(const config& c);

/// The example configuration file: every key with its default and meaning.
std::string example_toml();

/// The process environment as a map.
std::map<std::string, std::string> environment();

} // namespace atendeai::config
