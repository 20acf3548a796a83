#include "config/config.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <fstream>
#include <sstream>
#include <variant>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <toml++/toml.h>

extern char** environ;

namespace atendeai::config {

namespace {

using value = std::variant<int64_t, std::string, bool, std::vector<std::string>>;

enum class kind { integer, string, boolean, string_list };

/// One configuration key: where it lives, its type, its range and meaning.
struct key_def {
  const char* section;
  const char* key;
  kind type;
  int64_t min;
  int64_t max;
  const char* meaning;
  std::function<value(const config&)> get;
  std::function<void(config&, const value&)> set;

  std::string name() const { return std::string(section) + "." + key; }
};

#define ATENDEAI_INT_KEY(sec, k, lo, hi, meaning)                                              \
  key_def {                                                                                    \
    #sec, #k, kind::integer, lo, hi, meaning,                                                  \
      [](const config& c) { return value{static_cast<int64_t>(c.sec.k)}; },                    \
      [](config& c, const value& v) { c.sec.k = static_cast<decltype(c.sec.k)>(std::get<int64_t>(v)); } \
  }
#define ATENDEAI_KEY(sec, k, type_kind, cpp_type, meaning)                                     \
  key_def {                                                                                    \
    #sec, #k, kind::type_kind, 0, 0, meaning,                                                  \
      [](const config& c) { return value{c.sec.k}; },                                          \
      [](config& c, const value& v) { c.sec.k = std::get<cpp_type>(v); }                        \
  }
#define ATENDEAI_STR_KEY(sec, k, meaning) ATENDEAI_KEY(sec, k, string, std::string, meaning)

const std::vector<key_def>& schema() {
  static const std::vector<key_def> keys = {
    ATENDEAI_STR_KEY(node, id, "this node's id, unique in the cluster"),
    ATENDEAI_INT_KEY(node, scheduler_threads, 0, 64,
                     "threads running the actors (CAF scheduler); 0: one per core, at least 2"),
    ATENDEAI_STR_KEY(http, host, "address the HTTP server binds"),
    ATENDEAI_INT_KEY(http, port, 1, 65535, "HTTP port"),
    ATENDEAI_INT_KEY(http, threads, 1, 64, "HTTP I/O threads"),
    ATENDEAI_INT_KEY(http, max_body_bytes, 1024, 64 * 1024 * 1024,
                     "largest accepted request body in bytes (larger: 413)"),
    ATENDEAI_INT_KEY(http, request_timeout_ms, 100, 600000,
                     "time a request may take before the node answers 503"),
    ATENDEAI_INT_KEY(http, webhook_max_inflight, 1, 1000000,
                     "webhook requests being made durable at once; more get 503 + Retry-After (Meta retries)"),
    ATENDEAI_KEY(http, cors_origins, string_list, std::vector<std::string>,
                 "browser origins (scheme://host[:port]) allowed to call /api/v1 (CORS); empty: none"),
    ATENDEAI_STR_KEY(http, tls_cert,
                     "PEM certificate (chain) for HTTPS on the node's own listener, with tls_key (empty: plain HTTP, "
                     "e.g. behind HAProxy terminating TLS)"),
    ATENDEAI_STR_KEY(http, tls_key, "PEM private key of http.tls_cert"),
    ATENDEAI_STR_KEY(http, public_base_url,
                     "how patients' and staff's calendars reach this node (scheme://host[:port], no trailing slash): "
                     "the base of the ICS feed URLs"),
    ATENDEAI_STR_KEY(database, url,
                     "PostgreSQL URL of the schema owner (runs migrations; the server then SETs ROLE app_role)"),
    ATENDEAI_STR_KEY(database, app_role, "non-owner role the server's sessions switch to, under row-level security"),
    ATENDEAI_INT_KEY(database, connect_timeout_s, 1, 120, "seconds to wait for a PostgreSQL connection"),
    ATENDEAI_INT_KEY(database, readers, 1, 64, "connections (detached actors) serving reads"),
    ATENDEAI_STR_KEY(redis, url, "Redis URL (redis://host:port/db)"),
    ATENDEAI_INT_KEY(redis, timeout_ms, 10, 60000, "Redis connect and command timeout in ms"),
    ATENDEAI_INT_KEY(persistence, batch_max_rows, 1, 100000,
                     "rows that make a batch flush at once (1 = one transaction per write: the naive baseline)"),
    ATENDEAI_INT_KEY(persistence, batch_max_delay_ms, 0, 10000,
                     "longest a write waits for its batch, in ms (an upper bound: a writer commits as soon as "
                     "its previous commit returned and its mailbox is read; 0 = one commit per write)"),
    ATENDEAI_INT_KEY(persistence, writers, 1, 64,
                     "record writers (replies, states, deliveries), each with its own connection"),
    ATENDEAI_INT_KEY(persistence, ingest_writers, 1, 64,
                     "ingest writers (webhooks, acknowledged after their commit), each with its own connection"),
    ATENDEAI_INT_KEY(persistence, write_behind_ms, 10, 600000,
                     "how often data that can be rebuilt (conversations' last activity) is written, in ms"),
    ATENDEAI_INT_KEY(persistence, max_held_records, 100, 100000000,
                     "records kept in memory through a PostgreSQL outage; past it webhooks get 503"),
    ATENDEAI_INT_KEY(conversation, memory_window, 1, 200, "recent messages a conversation actor keeps"),
    ATENDEAI_INT_KEY(conversation, idle_timeout_s, 1, 86400,
                     "seconds without messages before a conversation actor passivates"),
    ATENDEAI_INT_KEY(flow, expiry_minutes, 1, 1440, "minutes without an answer before a booking flow expires"),
    ATENDEAI_INT_KEY(flow, hold_minutes, 1, 120, "minutes a slot is held while the patient confirms"),
    ATENDEAI_INT_KEY(scheduling, waitlist_hold_minutes, 1, 1440,
                     "minutes a freed time offered to the next patient on the waitlist is held for them"),
    ATENDEAI_STR_KEY(privacy, default_legal_basis,
                     "legal basis of clinics that state none: health_protection (LGPD art. 11 II f; the first reply "
                     "carries the privacy notice) or consent (asked before health matters)"),
    ATENDEAI_STR_KEY(security, data_key_file,
                     "file with the data key, 64 hex digits, mode 0600 or 0400 (atendeai keys generate): channel tokens "
                     "are stored sealed with it (AES-256-GCM); a node whose database holds sealed tokens does not start "
                     "without it (empty: no key, tokens stored as given)"),
    ATENDEAI_STR_KEY(whatsapp, app_secret, "Meta app secret: signs webhooks (X-Hub-Signature-256); required"),
    ATENDEAI_STR_KEY(whatsapp, verify_token, "token Meta echoes when verifying the webhook; required"),
    ATENDEAI_STR_KEY(whatsapp, access_token,
                     "default Graph API token for channels without their own (empty: replies go to the local sink)"),
    ATENDEAI_STR_KEY(whatsapp, api_base, "Graph API base URL"),
    ATENDEAI_STR_KEY(whatsapp, api_version, "Graph API version"),
    ATENDEAI_STR_KEY(whatsapp, demo_phone_number_id, "phone_number_id of the demo clinic's WhatsApp channel"),
    ATENDEAI_INT_KEY(sender, workers, 1, 64, "sender actors delivering the outbox, each with its delivery thread"),
    ATENDEAI_INT_KEY(sender, concurrency, 1, 1024,
                     "requests each sender has in flight at once (keep-alive connections reused)"),
    ATENDEAI_INT_KEY(sender, max_attempts, 1, 100, "delivery attempts before a reply is marked failed"),
    ATENDEAI_INT_KEY(sender, timeout_ms, 100, 120000, "timeout of one delivery request in ms"),
    ATENDEAI_INT_KEY(sender, backoff_base_ms, 1, 600000, "first retry delay in ms (doubles, with jitter)"),
    ATENDEAI_INT_KEY(sender, backoff_max_ms, 1, 3600000, "longest retry delay in ms"),
    ATENDEAI_STR_KEY(sender, sink_file, "file under paths.var_dir receiving replies sent without an access token"),
    ATENDEAI_INT_KEY(supervision, max_restarts, 0, 1000, "restarts allowed within window_seconds before escalating"),
    ATENDEAI_INT_KEY(supervision, window_seconds, 1, 86400, "restart intensity window in seconds"),
    ATENDEAI_INT_KEY(shutdown, timeout_s, 1, 3600,
                     "longest a stop (SIGTERM, SIGINT) takes: past it the node exits 4 without waiting for "
                     "stuck work (what it acknowledged is durable already)"),
    ATENDEAI_STR_KEY(cluster, name, "cluster name: nodes sharing it and one Redis form a cluster (Redis key prefix)"),
    ATENDEAI_STR_KEY(cluster, host, "address the cluster endpoint binds and announces to peers (without cluster.tls_*, a private network: the link is then neither authenticated nor encrypted)"),
    ATENDEAI_INT_KEY(cluster, port, 0, 65535, "port of this node's cluster endpoint (0: single node)"),
    ATENDEAI_KEY(cluster, seeds, string_list, std::vector<std::string>,
                 "host:port of cluster nodes to join (comma-separated in env and flags)"),
    ATENDEAI_INT_KEY(cluster, heartbeat_ms, 50, 60000, "membership heartbeat period in ms"),
    ATENDEAI_INT_KEY(cluster, dead_after_ms, 100, 600000, "a node silent this long is considered gone"),
    ATENDEAI_STR_KEY(cluster, tls_cert, "PEM certificate of this node for the cluster link; with tls_key and tls_ca the link is mutual TLS (deploy/cluster-certs makes a set)"),
    ATENDEAI_STR_KEY(cluster, tls_key, "PEM private key of cluster.tls_cert"),
    ATENDEAI_STR_KEY(cluster, tls_ca, "PEM CA certificate: peers must present a certificate it signed, or they are refused"),
    ATENDEAI_KEY(demo, enabled, boolean, bool, "seed the demo clinic (Clínica Exemplo) at start"),
    ATENDEAI_STR_KEY(log, level, "trace | debug | info | warn | error"),
    ATENDEAI_STR_KEY(log, format, "json | text"),
    ATENDEAI_STR_KEY(auth, jwt_secret,
                     "HS256 key of the admin API's tokens, at least 32 bytes (empty: a random one per start, demo only)"),
    ATENDEAI_INT_KEY(auth, access_ttl_s, 60, 86400, "lifetime of an access token in seconds"),
    ATENDEAI_INT_KEY(auth, refresh_ttl_s, 300, 7776000, "lifetime of a refresh token in seconds (rotated on every use)"),
    ATENDEAI_INT_KEY(auth, reset_ttl_s, 300, 86400, "lifetime of a password reset token in seconds"),
    ATENDEAI_INT_KEY(auth, bcrypt_cost, 4, 15, "bcrypt cost of password hashes (below 12 only for tests)"),
    ATENDEAI_INT_KEY(auth, rate_auth_per_minute, 1, 1000000,
                     "auth requests (login, refresh, forgot/reset) per minute, per IP and per account"),
    ATENDEAI_INT_KEY(auth, rate_auth_per_hour, 1, 1000000, "auth requests per hour, per IP and per account"),
    ATENDEAI_INT_KEY(auth, rate_api_per_minute, 1, 1000000, "admin API requests per minute per user"),
    ATENDEAI_INT_KEY(auth, rate_api_per_hour, 1, 1000000, "admin API requests per hour per user"),
    ATENDEAI_INT_KEY(auth, rate_window_s, 1, 60,
                     "length in seconds of the per-minute windows (only tests shorten it; hours stay 3600 s)"),
    ATENDEAI_INT_KEY(auth, workers, 1, 64,
                     "detached actors serving the admin API (database, Redis and bcrypt work)"),
    ATENDEAI_STR_KEY(mail, smtp_url,
                     "SMTP server for e-mails, smtp://user:pass@host:587 or smtps://... (empty: write mail.file)"),
    ATENDEAI_STR_KEY(mail, file,
                     "file under paths.var_dir (mode 0600) receiving e-mails such as password resets"),
    ATENDEAI_STR_KEY(mail, from, "From: of the e-mails the node writes"),
    ATENDEAI_STR_KEY(mail, reset_url, "link of a reset e-mail; the token is appended"),
    ATENDEAI_KEY(ai, enabled, boolean, bool,
                 "offer an OpenAI-compatible language model to clinics that opt in (ai_behavior.use_model)"),
    ATENDEAI_STR_KEY(ai, base_url, "OpenAI-compatible API base, e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1"),
    ATENDEAI_STR_KEY(ai, api_key, "the provider's API key (prefer ai.api_key_file; never logged)"),
    ATENDEAI_STR_KEY(ai, api_key_file, "file holding the provider's API key, read at start when ai.api_key is empty"),
    ATENDEAI_STR_KEY(ai, auth_header,
                     "how the key is sent: authorization (Authorization: Bearer, OpenAI and most servers) or api-key "
                     "(Azure OpenAI)"),
    ATENDEAI_STR_KEY(ai, model, "chat model name"),
    ATENDEAI_INT_KEY(ai, timeout_ms, 100, 120000,
                     "longest a model call may take; past it the built-in answer goes out"),
    ATENDEAI_INT_KEY(ai, max_tokens, 16, 8192, "largest answer asked of the model, in tokens"),
    ATENDEAI_INT_KEY(ai, workers, 1, 64, "model calls in flight at once (threads, each reusing its connection)"),
    ATENDEAI_INT_KEY(ai, breaker_failures, 1, 1000,
                     "failed calls in a row after which the model is not asked for ai.breaker_cooldown_ms"),
    ATENDEAI_INT_KEY(ai, breaker_cooldown_ms, 100, 3600000, "how long the circuit breaker stays open, in ms"),
    ATENDEAI_KEY(ai, transcription, boolean, bool,
                 "transcribe voice notes with {ai.base_url}/audio/transcriptions (off: patients are asked to write)"),
    ATENDEAI_STR_KEY(ai, transcription_model, "speech-to-text model name"),
    ATENDEAI_INT_KEY(ai, media_max_bytes, 1024, 104857600, "largest voice note or media file fetched, in bytes"),
    ATENDEAI_STR_KEY(calendar, ics_patient_detail,
                     "what an ICS feed shows of the patient: first_name (with the service) or none (the service only)"),
    ATENDEAI_INT_KEY(calendar, ics_past_days, 0, 3650, "appointments an ICS feed shows from this many days ago"),
    ATENDEAI_INT_KEY(calendar, ics_future_days, 1, 3650, "... up to this many days ahead"),
    ATENDEAI_STR_KEY(paths, var_dir, "directory for runtime files (sink, mail, generated secrets)"),
  };
  return keys;
}

#undef ATENDEAI_INT_KEY
#undef ATENDEAI_KEY
#undef ATENDEAI_STR_KEY

const key_def* find_key(const std::string& section, const std::string& key) {
  for (auto& k : schema())
    if (section == k.section && key == k.key)
      return &k;
  return nullptr;
}

[[noreturn]] void fail(const std::string& what) {
  throw config_error("configuration: " + what);
}

void check_range(const key_def& k, int64_t v) {
  if (v < k.min || v > k.max)
    fail(k.name() + ": must be between " + std::to_string(k.min) + " and " + std::to_string(k.max)
         + " (got " + std::to_string(v) + ")");
}

/// Parses a textual value (environment, flag) for a key; `origin` names where it came from.
value parse_text(const key_def& k, const std::string& text, const std::string& origin) {
  switch (k.type) {
    case kind::integer: {
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE)
        fail(k.name() + ": expected an integer, got \"" + text + "\" (" + origin + ")");
      check_range(k, v);
      return int64_t{v};
    }
    case kind::boolean:
      if (text == "true" || text == "1" || text == "yes" || text == "on")
        return true;
      if (text == "false" || text == "0" || text == "no" || text == "off")
        return false;
      fail(k.name() + ": expected true or false, got \"" + text + "\" (" + origin + ")");
    case kind::string_list: {
      std::vector<std::string> items;
      std::stringstream ss(text);
      for (std::string item; std::getline(ss, item, ',');)
        if (!item.empty())
          items.push_back(item);
      return items;
    }
    case kind::string:
      return text;
  }
  return text;
}

value parse_toml(const key_def& k, const toml::node& n) {
  auto type_error = [&](const char* expected) -> value {
    fail(k.name() + ": expected " + expected + " (in the config file)");
  };
  switch (k.type) {
    case kind::integer: {
      auto v = n.value<int64_t>();
      if (!n.is_integer() || !v)
        return type_error("an integer");
      check_range(k, *v);
      return *v;
    }
    case kind::boolean:
      if (!n.is_boolean())
        return type_error("true or false");
      return *n.value<bool>();
    case kind::string:
      if (!n.is_string())
        return type_error("a string");
      return *n.value<std::string>();
    case kind::string_list: {
      if (n.is_string())
        return parse_text(k, *n.value<std::string>(), "config file");
      auto arr = n.as_array();
      if (!arr)
        return type_error("an array of strings");
      std::vector<std::string> items;
      for (auto& item : *arr) {
        if (!item.is_string())
          return type_error("an array of strings");
        items.push_back(*item.value<std::string>());
      }
      return items;
    }
  }
  return type_error("a value");
}

void apply_file(config& c, const std::string& path) {
  toml::table tbl;
  try {
    tbl = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << e.source().begin.line;
    fail("config file " + path + ":" + where.str() + ": " + std::string(e.description()));
  } catch (const std::exception& e) {
    fail("config file " + path + ": " + e.what());
  }
  for (auto& [section, node] : tbl) {
    auto table = node.as_table();
    std::string sec(section.str());
    if (!table)
      fail(sec + ": expected a [" + sec + "] table (in the config file)");
    for (auto& [key, item] : *table) {
      auto def = find_key(sec, std::string(key.str()));
      if (!def)
        fail(sec + "." + std::string(key.str()) + ": unknown key (in the config file)");
      def->set(c, parse_toml(*def, item));
    }
  }
}

std::string lower(std::string s) {
  for (auto& ch : s)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

/// Splits "persistence_batch_max_rows" or "persistence-batch-max-rows" into its section
/// and key; nullptr when no such key exists.
const key_def* key_from_compound(std::string name) {
  for (auto& ch : name)
    if (ch == '-')
      ch = '_';
  auto pos = name.find('_');
  if (pos == std::string::npos)
    return nullptr;
  return find_key(name.substr(0, pos), name.substr(pos + 1));
}

std::string render(const value& v) {
  struct visitor {
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(const std::string& s) const {
      std::string out = "\"";
      for (char ch : s) {
        if (ch == '"' || ch == '\\')
          out += '\\';
        out += ch;
      }
      return out + "\"";
    }
    std::string operator()(const std::vector<std::string>& items) const {
      std::string out = "[";
      for (size_t i = 0; i < items.size(); ++i)
        out += (i ? ", " : "") + (*this)(items[i]);
      return out + "]";
    }
  };
  return std::visit(visitor{}, v);
}

} // namespace

std::map<std::string, std::string> environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos)
      env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

config load(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            command_line& rest, const std::vector<std::string>& command_options) {
  config c;
  // Pass 1: split flags from operands, find --config.
  std::string config_file;
  if (auto it = env.find("ATENDEAI_CONFIG"); it != env.end())
    config_file = it->second;
  struct flag {
    const key_def* def;
    std::string text;
    std::string origin;
  };
  std::vector<flag> flags;
  for (size_t i = 0; i < argv.size(); ++i) {
    const auto& a = argv[i];
    if (a == "--help" || a == "-h") {
      rest.help = true;
      continue;
    }
    if (a.rfind("--", 0) != 0 || a.size() == 2) {
      rest.args.push_back(a);
      continue;
    }
    auto eq = a.find('=');
    std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    auto take_value = [&]() -> std::string {
      if (eq != std::string::npos)
        return a.substr(eq + 1);
      if (i + 1 >= argv.size())
        fail("--" + name + ": missing value");
      return argv[++i];
    };
    if (name == "config") {
      config_file = take_value();
      continue;
    }
    bool is_command_option = false;
    for (auto& o : command_options)
      is_command_option = is_command_option || o == name;
    if (is_command_option) {
      rest.args.push_back("--" + name);
      rest.args.push_back(take_value());
      continue;
    }
    auto def = key_from_compound(name);
    if (!def)
      fail("--" + name + ": unknown option (see --help)");
    flags.push_back({def, take_value(), "flag --" + name});
  }
  if (!config_file.empty())
    apply_file(c, config_file);
  for (auto& [name, text] : env) {
    if (name.rfind("ATENDEAI_", 0) != 0 || name == "ATENDEAI_CONFIG")
      continue;
    auto compound = lower(name.substr(9));
    if (compound.rfind("test_", 0) == 0)
      continue; // test harness variables, not configuration
    auto def = key_from_compound(compound);
    if (!def)
      fail(name + ": unknown configuration variable");
    def->set(c, parse_text(*def, text, "environment " + name));
  }
  for (auto& f : flags)
    f.def->set(c, parse_text(*f.def, f.text, f.origin));
  validate(c);
  return c;
}

void validate(const config& c) {
  static const char* levels[] = {"trace", "debug", "info", "warn", "error"};
  bool level_ok = false;
  for (auto l : levels)
    level_ok = level_ok || c.log.level == l;
  if (!level_ok)
    fail("log.level: must be one of trace, debug, info, warn, error (got \"" + c.log.level + "\")");
  if (c.privacy.default_legal_basis != "health_protection" && c.privacy.default_legal_basis != "consent")
    fail("privacy.default_legal_basis: must be health_protection or consent (got \"" + c.privacy.default_legal_basis +
         "\")");
  if (c.log.format != "json" && c.log.format != "text")
    fail("log.format: must be json or text (got \"" + c.log.format + "\")");
  if (c.database.url.rfind("postgresql://", 0) != 0 && c.database.url.rfind("postgres://", 0) != 0)
    fail("database.url: must start with postgresql://");
  if (c.redis.url.rfind("redis://", 0) != 0)
    fail("redis.url: must start with redis://");
  if (c.whatsapp.api_base.rfind("http://", 0) != 0 && c.whatsapp.api_base.rfind("https://", 0) != 0)
    fail("whatsapp.api_base: must be an http:// or https:// URL");
  if (c.ai.base_url.rfind("http://", 0) != 0 && c.ai.base_url.rfind("https://", 0) != 0)
    fail("ai.base_url: must be an http:// or https:// URL");
  if ((c.http.public_base_url.rfind("http://", 0) != 0 && c.http.public_base_url.rfind("https://", 0) != 0) ||
      c.http.public_base_url.back() == '/')
    fail("http.public_base_url: must be an http:// or https:// URL without a trailing slash");
  if (c.calendar.ics_patient_detail != "first_name" && c.calendar.ics_patient_detail != "none")
    fail("calendar.ics_patient_detail: must be first_name or none");
  if (c.ai.auth_header != "authorization" && c.ai.auth_header != "api-key")
    fail("ai.auth_header: must be authorization or api-key (got \"" + c.ai.auth_header + "\")");
  if (c.node.id.empty() || c.node.id.size() > 64)
    fail("node.id: must have 1 to 64 characters");
  if (c.sender.backoff_max_ms < c.sender.backoff_base_ms)
    fail("sender.backoff_max_ms: must not be below sender.backoff_base_ms");
  if (c.cluster.dead_after_ms <= c.cluster.heartbeat_ms)
    fail("cluster.dead_after_ms: must be greater than cluster.heartbeat_ms");
  if (!c.auth.jwt_secret.empty() && c.auth.jwt_secret.size() < 32)
    fail("auth.jwt_secret: must have at least 32 bytes (got " + std::to_string(c.auth.jwt_secret.size()) + ")");
  for (auto& o : c.http.cors_origins)
    if ((o.rfind("http://", 0) != 0 && o.rfind("https://", 0) != 0) || o.back() == '/'
        || o.find_first_of("* ,") != std::string::npos)
      fail("http.cors_origins: \"" + o + "\" is not an origin like https://admin.example.com");
  for (auto& s : c.cluster.seeds) {
    auto colon = s.rfind(':');
    auto port = colon == std::string::npos ? std::string() : s.substr(colon + 1);
    bool port_ok = !port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos
                   && std::stoi(port) >= 1 && std::stoi(port) <= 65535;
    if (colon == 0 || !port_ok)
      fail("cluster.seeds: \"" + s + "\" is not host:port");
  }
  if (c.cluster.name.empty() || c.cluster.name.size() > 64
      || c.cluster.name.find_first_of(" :*?[]") != std::string::npos)
    fail("cluster.name: must have 1 to 64 characters, without spaces, ':' or glob characters");
  if (c.cluster.host.empty())
    fail("cluster.host: must not be empty");
  // HTTPS on the listener needs the certificate and its key, both readable now.
  if (c.http.tls_cert.empty() != c.http.tls_key.empty())
    fail(std::string(c.http.tls_cert.empty() ? "http.tls_cert" : "http.tls_key")
         + ": must be set with the other http.tls_* key (HTTPS needs the certificate and its key)");
  for (auto [key, path] : {std::pair{"http.tls_cert", &c.http.tls_cert}, std::pair{"http.tls_key", &c.http.tls_key}})
    if (!path->empty() && !std::ifstream(*path).good())
      fail(std::string(key) + ": cannot read " + *path);
  // Mutual TLS needs all three files, each readable now (not at the first peer's connection).
  const std::pair<const char*, const std::string*> tls_files[] = {
    {"cluster.tls_cert", &c.cluster.tls_cert}, {"cluster.tls_key", &c.cluster.tls_key}, {"cluster.tls_ca", &c.cluster.tls_ca}};
  bool any_tls = false;
  for (auto& [key, path] : tls_files)
    any_tls = any_tls || !path->empty();
  for (auto& [key, path] : tls_files) {
    if (any_tls && path->empty())
      fail(std::string(key) + ": must be set with the other cluster.tls_* keys (mutual TLS needs the certificate, its key and the CA)");
    if (!path->empty() && !std::ifstream(*path).good())
      fail(std::string(key) + ": cannot read " + *path);
  }
}

core::data_key read_data_key(const std::string& path, const std::string& key) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    fail(key + ": cannot read " + path + " (" + std::strerror(errno) + ")");
  struct stat st {};
  char text[256];
  ssize_t got = -1;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) == 0)
    got = ::read(fd, text, sizeof text);
  int read_errno = errno;
  ::close(fd);
  if (!S_ISREG(st.st_mode))
    fail(key + ": " + path + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[16];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    fail(key + ": " + path + " has mode " + mode + ": the data key must be readable by its owner only (chmod 600)");
  }
  if (got < 0)
    fail(key + ": cannot read " + path + " (" + std::strerror(read_errno) + ")");
  auto length = static_cast<size_t>(got);
  while (length > 0 && (text[length - 1] == '\n' || text[length - 1] == '\r'))
    --length;
  auto k = core::data_key::from_hex(std::string_view(text, length));
  explicit_bzero(text, sizeof text);
  if (!k)
    fail(key + ": " + path + " must hold the 32-byte key as 64 hex digits (a newline after them at most; it has " +
         std::to_string(st.st_size) + " bytes)");
  return *k;
}

std::optional<core::data_key> data_key(const config& c) {
  if (c.security.data_key_file.empty())
    return std::nullopt;
  return read_data_key(c.security.data_key_file);
}

std::string ai_api_key(const config& c) {
  if (!c.ai.api_key.empty() || c.ai.api_key_file.empty())
    return c.ai.api_key;
  std::ifstream in(c.ai.api_key_file);
  if (!in)
    fail("ai.api_key_file: cannot read " + c.ai.api_key_file + " (" + std::strerror(errno) + ")");
  std::string key;
  std::getline(in, key);
  while (!key.empty() && (key.back() == '\r' || key.back() == ' ' || key.back() == '\t'))
    key.pop_back();
  if (key.empty())
    fail("ai.api_key_file: " + c.ai.api_key_file + " is empty");
  return key;
}

std::string example_toml() {
  const config defaults;
  std::ostringstream out;
  out << "# AtendeAI configuration: every key with its default.\n"
         "# Precedence: defaults < this file (--config FILE) < ATENDEAI_<SECTION>_<KEY>\n"
         "# environment < --<section>-<key> flags. Generated by `atendeai config-example`.\n";
  std::string section;
  for (auto& k : schema()) {
    if (section != k.section) {
      section = k.section;
      out << "\n[" << section << "]\n";
    }
    out << "# " << k.meaning;
    if (k.type == kind::integer)
      out << " (" << k.min << ".." << k.max << ")";
    out << "\n" << k.key << " = " << render(k.get(defaults)) << "\n";
  }
  return out.str();
}

} // namespace atendeai::config
