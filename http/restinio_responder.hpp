#pragma once
/// An http_responder over a RESTinio request: adds the common headers, records the
/// request's metrics, answers at most once, from any thread.

#include <atomic>
#include <chrono>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include <restinio/all.hpp>

#include "actors/responder.hpp"
#include "core/error.hpp"
#include "core/metrics.hpp"

namespace atendeai::http {

/// Per-route request metrics.
struct route_metrics {
  core::metrics_registry* registry = nullptr;
  std::string route;
  /// Counts a response and its latency.
  void record(int status, std::chrono::steady_clock::time_point started) const;
};

/// Sets the browser origins allowed on /api/v1 (CORS). Called once before the server
/// starts; read-only afterwards.
void set_cors_origins(std::vector<std::string> origins);
/// The request's Origin when it is an allowed one for its path, else "".
std::string allowed_origin(const restinio::request_handle_t& req);

/// Whether the server that owns the requests' connections still runs. An actor may answer
/// (or drop, when its mailbox dies at shutdown) a request after the server stopped: the
/// answer is then discarded, never written into a destroyed io_context.
class server_liveness {
public:
  /// Runs `write` unless the server stopped; the server cannot stop meanwhile.
  template <class F>
  bool while_alive(F&& write) {
    std::shared_lock<std::shared_mutex> guard(mutex_);
    if (!alive_)
      return false;
    write();
    return true;
  }
  /// From now on nothing is written (waits for writes in progress).
  void stop() {
    std::unique_lock<std::shared_mutex> guard(mutex_);
    alive_ = false;
  }

private:
  std::shared_mutex mutex_;
  bool alive_ = true;
};

/// Answers a RESTinio request once.
class restinio_responder final : public actors::http_responder {
public:
  /// `live` guards the server's lifetime; `inflight`, when given, counts this request
  /// until it is answered.
  restinio_responder(restinio::request_handle_t req, route_metrics metrics, std::string request_id,
                     std::shared_ptr<server_liveness> live, std::shared_ptr<std::atomic<int64_t>> inflight = nullptr)
    : req_(std::move(req)), metrics_(std::move(metrics)), request_id_(std::move(request_id)),
      started_(std::chrono::steady_clock::now()), live_(std::move(live)), inflight_(std::move(inflight)) {
    if (inflight_)
      ++*inflight_;
  }
  ~restinio_responder() override;
  void respond(int status, std::string body, const char* content_type = "application/json") override;
  void respond_with(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers) override;

private:
  restinio::request_handle_t req_;
  route_metrics metrics_;
  std::string request_id_;
  std::chrono::steady_clock::time_point started_;
  std::shared_ptr<server_liveness> live_;
  std::shared_ptr<std::atomic<int64_t>> inflight_;
  std::atomic<bool> done_{false};
  void finished();
  void respond_with(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers,
                    const char* content_type);
};

/// Writes a response with the common headers (security, request id) and records metrics.
restinio::request_handling_status_t reply(const restinio::request_handle_t& req, const route_metrics& m,
                                          std::chrono::steady_clock::time_point started,
                                          const std::string& request_id, int status, std::string body,
                                          const char* content_type = "application/json");

/// An API error response.
restinio::request_handling_status_t reply_error(const restinio::request_handle_t& req, const route_metrics& m,
                                                std::chrono::steady_clock::time_point started,
                                                const std::string& request_id, core::error_code code,
                                                std::string_view message, std::string_view field = {});

} // namespace atendeai::http
