#pragma once
/// The node's HTTP server (RESTinio on its own threads): health, metrics, webhooks.

#include <cstdint>
#include <memory>

#include "actors/gateway.hpp"
#include "config/config.hpp"
#include "core/metrics.hpp"

namespace atendeai::http {

/// A running HTTP server; stops (and waits) when destroyed or on stop().
class server {
public:
  /// Binds and starts serving; throws std::runtime_error naming the address on failure.
  server(const config::config& cfg, actors::gateway gw, std::shared_ptr<core::metrics_registry> metrics);
  ~server();
  /// Starts stopping: new requests get 503 (health too, so a load balancer drains the
  /// node) while those in flight are answered.
  void drain();
  /// Webhook requests accepted and not answered yet.
  int64_t webhooks_in_flight() const;
  /// Stops the I/O threads and waits for them; answers written later are dropped.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace atendeai::http
