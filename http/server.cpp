#include "http/server.hpp"

#include <random>

#include <openssl/ssl.h>
#include <restinio/all.hpp>
#include <restinio/tls.hpp>

#include "actors/messages.hpp"
#include "core/agenda.hpp"
#include "core/error.hpp"
#include "core/json_limits.hpp"
#include "core/log.hpp"
#include "core/signature.hpp"
#include "core/whatsapp.hpp"
#include "http/public_routes.hpp"
#include "http/restinio_responder.hpp"
#include "http/routes.hpp"

namespace atendeai::http {

namespace {

/// A std::function request handler: the router behind the check for a stopping node.
struct traits : public restinio::default_traits_t {
  using request_handler_t = restinio::default_request_handler_t;
};

/// The same over TLS (http.tls_cert, http.tls_key): asio's OpenSSL streams.
struct tls_traits : public restinio::default_tls_traits_t {
  using request_handler_t = restinio::default_request_handler_t;
};

/// A listener running on its own threads, plain or TLS.
struct running_listener {
  virtual ~running_listener() = default;
  /// Stops the I/O threads and waits for them.
  virtual void stop_and_wait() = 0;
};

template <class Traits>
struct running_listener_of final : running_listener {
  std::unique_ptr<restinio::running_server_instance_t<restinio::http_server_t<Traits>>> server;
  void stop_and_wait() override {
    server->stop();
    server->wait();
  }
};

/// The settings every listener shares: address, limits, timeouts.
template <class Traits>
restinio::server_settings_t<Traits> listener_settings(const config::config& cfg,
                                                      restinio::default_request_handler_t handler) {
  restinio::server_settings_t<Traits> settings;
  settings.address(cfg.http.host)
    .port(static_cast<std::uint16_t>(cfg.http.port))
    .request_handler(std::move(handler))
    .handle_request_timeout(std::chrono::milliseconds(cfg.http.request_timeout_ms))
    .read_next_http_message_timelimit(std::chrono::seconds(30))
    .write_http_response_timelimit(std::chrono::seconds(30))
    .incoming_http_msg_limits(restinio::incoming_http_msg_limits_t{}
                                .max_url_size(8 * 1024)
                                .max_field_name_size(256)
                                .max_field_value_size(16 * 1024)
                                .max_field_count(100)
                                .max_body_size(static_cast<std::uint64_t>(cfg.http.max_body_bytes) * 2));
  return settings;
}

/// The TLS context of the node's own HTTPS listener: TLS 1.2 and 1.3 only, forward-secret
/// AEAD ciphers (Mozilla's "intermediate" set), the certificate chain and key of the
/// configuration. Throws std::runtime_error naming the key whose file is unusable.
std::shared_ptr<asio::ssl::context> tls_context(const config::http_settings& http) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2
                   | asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1
                   | asio::ssl::context::single_dh_use | asio::ssl::context::no_compression);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_cipher_list(ctx->native_handle(),
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                          "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
  SSL_CTX_set_options(ctx->native_handle(), SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  try {
    ctx->use_certificate_chain_file(http.tls_cert);
  } catch (const std::exception& e) {
    throw std::runtime_error("http.tls_cert: cannot use " + http.tls_cert + ": " + e.what());
  }
  try {
    ctx->use_private_key_file(http.tls_key, asio::ssl::context::pem);
  } catch (const std::exception& e) {
    throw std::runtime_error("http.tls_key: cannot use " + http.tls_key + ": " + e.what());
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    throw std::runtime_error("http.tls_key: " + http.tls_key + " is not the key of " + http.tls_cert);
  return ctx;
}

/// X-Request-Id from the client when sane, else a fresh random id.
std::string request_id_of(const restinio::request_handle_t& req) {
  if (auto given = req->header().try_get_field("X-Request-Id"); given && !given->empty() && given->size() <= 64) {
    bool ok = true;
    for (char c : *given)
      ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
    if (ok)
      return *given;
  }
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

} // namespace

struct server::impl {
  config::config cfg;
  actors::gateway gw;
  std::shared_ptr<core::metrics_registry> metrics;
  std::unique_ptr<running_listener> running;
  /// Webhook requests accepted and not yet answered (the webhook ceiling).
  std::shared_ptr<std::atomic<int64_t>> webhooks_inflight = std::make_shared<std::atomic<int64_t>>(0);
  /// Guards answers written by actors against a stopped server.
  std::shared_ptr<server_liveness> live = std::make_shared<server_liveness>();
  /// Stopping: new requests are refused (503) while those in flight finish.
  std::atomic<bool> draining{false};

  route_metrics route(const char* name) const { return {metrics.get(), name}; }

  // -- handlers ---------------------------------------------------------------

  restinio::request_handling_status_t health(const restinio::request_handle_t& req) {
    gw.health(std::make_shared<restinio_responder>(req, route("/health"), request_id_of(req), live));
    return restinio::request_accepted();
  }

  restinio::request_handling_status_t metrics_text(const restinio::request_handle_t& req) {
    auto started = std::chrono::steady_clock::now();
    return reply(req, route("/metrics"), started, request_id_of(req), 200, metrics->render(),
                 "text/plain; version=0.0.4");
  }

  /// Meta's verification: hub.mode=subscribe and our verify token → the challenge.
  restinio::request_handling_status_t whatsapp_verify(const restinio::request_handle_t& req) {
    auto started = std::chrono::steady_clock::now();
    auto m = route("/webhooks/whatsapp");
    auto id = request_id_of(req);
    auto qp = restinio::parse_query(req->header().query());
    auto get = [&](const char* k) { return qp.has(k) ? std::string(qp[k]) : std::string(); };
    auto mode = get("hub.mode");
    auto token = get("hub.verify_token");
    if (mode != "subscribe" || cfg.whatsapp.verify_token.empty()
        || !core::constant_time_equal(token, cfg.whatsapp.verify_token)) {
      core::log_event(spdlog::level::warn, "webhook_verify_refused", {{"request_id", id}, {"mode", mode}});
      return reply_error(req, m, started, id, core::error_code::forbidden, "verification refused",
                         mode != "subscribe" ? "hub.mode" : "hub.verify_token");
    }
    return reply(req, m, started, id, 200, get("hub.challenge"), "text/plain");
  }

  /// Notifications: signature over the raw body first, then parse, then hand the whole
  /// request to the actors; the 200 is written once every message is committed.
  restinio::request_handling_status_t whatsapp_notify(const restinio::request_handle_t& req) {
    auto started = std::chrono::steady_clock::now();
    auto m = route("/webhooks/whatsapp");
    auto id = request_id_of(req);
    const auto& body = req->body();
    if (static_cast<int64_t>(body.size()) > cfg.http.max_body_bytes)
      return reply_error(req, m, started, id, core::error_code::payload_too_large,
                         "body larger than " + std::to_string(cfg.http.max_body_bytes) + " bytes");
    auto sig = req->header().try_get_field("X-Hub-Signature-256");
    if (!sig || !core::verify_whatsapp_signature(cfg.whatsapp.app_secret, body, *sig)) {
      metrics->counter_with("atendeai_webhook_rejected_total", "Webhooks refused", {{"reason", "signature"}}).inc();
      core::log_event(spdlog::level::warn, "webhook_signature_refused", {{"request_id", id}, {"present", sig != nullptr}});
      return reply_error(req, m, started, id, core::error_code::unauthorized,
                         sig ? "signature does not match" : "signature missing", "X-Hub-Signature-256");
    }
    // The webhooks' own ceiling (not per IP: Meta sends from many addresses), and the
    // replies kept through a PostgreSQL outage past their bound: 503 and Meta retries
    // later; nothing was acknowledged.
    bool backlog = gw.holding_too_much();
    if (backlog || webhooks_inflight->load() >= cfg.http.webhook_max_inflight) {
      metrics->counter_with("atendeai_webhook_rejected_total", "Webhooks refused",
                            {{"reason", backlog ? "outage_backlog" : "ceiling"}})
        .inc();
      restinio_responder(req, m, id, live)
        .respond_with(503,
                      core::error_body(core::error_code::service_unavailable,
                                       backlog ? "replies are waiting out a database outage; retry later"
                                               : "too many webhooks in flight; retry")
                        .dump(),
                      {{"Retry-After", backlog ? "5" : "1"}});
      return restinio::request_accepted();
    }
    auto received_at = std::chrono::duration_cast<std::chrono::seconds>(gw.clock()->now().time_since_epoch()).count();
    auto parsed = core::parse_whatsapp_notification(body, received_at);
    if (auto err = std::get_if<core::notification_error>(&parsed)) {
      metrics->counter_with("atendeai_webhook_rejected_total", "Webhooks refused", {{"reason", "malformed"}}).inc();
      return reply_error(req, m, started, id, core::error_code::bad_request, err->message, err->field);
    }
    auto& note = std::get<core::whatsapp_notification>(parsed);
    // Messages that can never be stored as sent (nested past the limit): dropped here and
    // counted, so the rest of the request is stored and answered 200 and Meta stops
    // retrying a body that could never succeed (README, HTTP).
    if (note.dropped > 0) {
      metrics
        ->counter_with("atendeai_webhook_messages_total", "Inbound webhook messages by outcome", {{"outcome", "dropped"}})
        .inc(note.dropped);
      auto ids = nlohmann::json::array();
      for (size_t i = 0; i < note.dropped_ids.size() && i < 10; ++i)
        ids.push_back(note.dropped_ids[i]);
      core::log_event(spdlog::level::warn, "webhook_messages_dropped",
                      {{"request_id", id}, {"count", note.dropped}, {"reason", "over the JSON limits"},
                       {"correlation_ids", std::move(ids)}});
    }
    if (!note.ignored.empty())
      core::log_event(spdlog::level::info, "webhook_parts_ignored",
                      {{"request_id", id}, {"count", note.ignored.size()}, {"first", note.ignored.front()}});
    if (note.messages.empty() && note.statuses.empty())
      return reply(req, m, started, id, 200, R"({"status":"ok"})");
    // One line per message, keyed by its wamid: the correlation id that the batch
    // writer (message_stored), the conversation and the sender (reply_delivered) log too.
    // (The level is checked first: building the fields costs more than the request itself.)
    if (spdlog::should_log(spdlog::level::info))
      for (const auto& msg : note.messages)
        core::log_event(spdlog::level::info, "webhook_received",
                        {{"request_id", id}, {"correlation_id", msg.external_id}, {"account_id", msg.account_id},
                         {"type", msg.type}});
    if (!note.statuses.empty())
      core::log_event(spdlog::level::debug, "webhook_statuses", {{"request_id", id}, {"count", note.statuses.size()}});
    actors::webhook_request wr;
    wr.responder = std::make_shared<restinio_responder>(req, m, id, live, webhooks_inflight);
    wr.messages = std::move(note.messages);
    wr.statuses = std::move(note.statuses);
    wr.correlation_id = id;
    gw.ingest(std::move(wr));
    return restinio::request_accepted();
  }

  /// CORS preflight of the admin API: allowed origins get the methods and headers they
  /// may use; others a 403 naming the Origin (the browser then refuses the call).
  restinio::request_handling_status_t preflight(const restinio::request_handle_t& req) {
    auto started = std::chrono::steady_clock::now();
    auto m = route("/api/v1 preflight");
    auto id = request_id_of(req);
    if (allowed_origin(req).empty())
      return reply_error(req, m, started, id, core::error_code::forbidden, "origin not allowed", "Origin");
    req->create_response(restinio::status_no_content())
      .append_header("Access-Control-Allow-Origin", allowed_origin(req))
      .append_header("Vary", "Origin")
      .append_header("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE")
      .append_header("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id")
      .append_header("Access-Control-Max-Age", "600")
      .append_header("X-Request-Id", id)
      .done();
    m.record(204, started);
    return restinio::request_accepted();
  }
#ifdef ATENDEAI_TEST_HOOKS
  /// Test builds only: moves the test clock of a node started with ATENDEAI_TEST_CLOCK,
  /// {"now":"<ISO 8601>"} or {"advance_s":N}; answers {"now"}. 404 without a test clock.
  restinio::request_handling_status_t test_clock(const restinio::request_handle_t& req) {
    auto started = std::chrono::steady_clock::now();
    auto m = route("/test/clock");
    auto id = request_id_of(req);
    auto clock = std::dynamic_pointer_cast<core::manual_clock>(gw.clock());
    if (!clock)
      return reply_error(req, m, started, id, core::error_code::not_found, "no test clock");
    auto parsed = core::parse_json_limited(req->body(), core::api_json_limits);
    auto* doc = std::get_if<core::json_document>(&parsed);
    if (!doc || !doc->value.is_object())
      return reply_error(req, m, started, id, core::error_code::bad_request, "body must be a JSON object");
    const auto& j = doc->value;
    if (j.contains("now") && j["now"].is_string()) {
      auto t = core::parse_iso(j["now"].get<std::string>());
      if (!t)
        return reply_error(req, m, started, id, core::error_code::validation_failed, "not an ISO 8601 instant", "now");
      clock->set(*t);
    } else if (j.contains("advance_s") && j["advance_s"].is_number_integer()) {
      clock->advance(std::chrono::seconds(j["advance_s"].get<int64_t>()));
    } else {
      return reply_error(req, m, started, id, core::error_code::validation_failed, "now or advance_s is required");
    }
    return reply(req, m, started, id, 200, nlohmann::json{{"now", core::format_iso(clock->now())}}.dump());
  }
#endif

  /// While the node stops: every new request but /metrics gets 503 with Retry-After (a
  /// load balancer reads /health's 503 and sends traffic elsewhere; Meta retries).
  restinio::request_handling_status_t refuse_stopping(const restinio::request_handle_t& req) {
    auto started = std::chrono::steady_clock::now();
    auto id = request_id_of(req);
    auto m = route("stopping");
    if (req->header().path() == "/health")
      return reply(req, route("/health"), started, id, 503,
                   nlohmann::json{{"status", "stopping"}, {"node_id", cfg.node.id}}.dump());
    restinio_responder(req, m, id, live)
      .respond_with(503, core::error_body(core::error_code::service_unavailable, "the node is stopping; retry").dump(),
                    {{"Retry-After", "2"}});
    return restinio::request_accepted();
  }

  /// The API contract (api/openapi.yaml, embedded at build time); anyone may read it.
  restinio::request_handling_status_t openapi(const restinio::request_handle_t& req) {
    auto started = std::chrono::steady_clock::now();
    return reply(req, route("/api/v1/openapi.yaml"), started, request_id_of(req), 200, std::string(openapi_yaml()),
                 "application/yaml");
  }

  /// The request handler: the router, or a 503 while stopping.
  restinio::default_request_handler_t handler() {
    std::shared_ptr<router_t> r = routes();
    return [this, r](restinio::request_handle_t req) {
      if (draining.load() && req->header().path() != "/metrics")
        return refuse_stopping(req);
      return (*r)(std::move(req));
    };
  }

  std::unique_ptr<router_t> routes() {
    auto r = std::make_unique<router_t>();
    for (const auto& pr : public_routes) {
      auto method = std::string_view(pr.method) == "POST" ? restinio::http_method_post() : restinio::http_method_get();
      r->add_handler(method, pr.path, [this, which = pr.handler](restinio::request_handle_t req, auto) {
        switch (which) {
          case public_handler::health: return health(req);
          case public_handler::metrics: return metrics_text(req);
          case public_handler::whatsapp_verify: return whatsapp_verify(req);
          case public_handler::whatsapp_notify: return whatsapp_notify(req);
          case public_handler::openapi: return openapi(req);
        }
        return restinio::request_rejected();
      });
    }
#ifdef ATENDEAI_TEST_HOOKS
    r->http_post("/test/clock", [this](auto req, auto) { return test_clock(req); });
#endif
    add_api_routes(*r, gw, metrics.get(), request_id_of, live);
    r->add_handler(restinio::http_method_options(), R"(/api/v1/:rest(.*))",
                   [this](auto req, auto) { return preflight(req); });
    r->non_matched_request_handler([this](restinio::request_handle_t req) {
      return reply_error(req, route("unmatched"), std::chrono::steady_clock::now(), request_id_of(req),
                         core::error_code::not_found, "no such route");
    });
    return r;
  }
};

server::server(const config::config& cfg, actors::gateway gw, std::shared_ptr<core::metrics_registry> metrics)
  : impl_(new impl{cfg, std::move(gw), std::move(metrics), nullptr}) {
  set_cors_origins(cfg.http.cors_origins);
  auto threads = static_cast<std::size_t>(cfg.http.threads);
  // The TLS files are read before binding: a wrong key names its key, not the address.
  auto tls = cfg.http.tls() ? tls_context(cfg.http) : nullptr;
  try {
    if (tls) {
      auto settings = listener_settings<tls_traits>(cfg, impl_->handler());
      settings.tls_context(std::move(tls));
      auto listener = std::make_unique<running_listener_of<tls_traits>>();
      listener->server = restinio::run_async(restinio::own_io_context(), std::move(settings), threads);
      impl_->running = std::move(listener);
    } else {
      auto listener = std::make_unique<running_listener_of<traits>>();
      listener->server =
        restinio::run_async(restinio::own_io_context(), listener_settings<traits>(cfg, impl_->handler()), threads);
      impl_->running = std::move(listener);
    }
  } catch (const std::exception& e) {
    throw std::runtime_error("http: cannot listen on " + cfg.http.host + ":" + std::to_string(cfg.http.port)
                             + ": " + e.what());
  }
}

server::~server() {
  stop();
}

void server::drain() {
  impl_->draining = true;
}

int64_t server::webhooks_in_flight() const {
  return impl_->webhooks_inflight->load();
}

void server::stop() {
  if (impl_ && impl_->running) {
    impl_->live->stop(); // answers from here on are dropped, never written into a dead io_context
    impl_->running->stop_and_wait();
    impl_->running.reset();
  }
}

} // namespace atendeai::http
