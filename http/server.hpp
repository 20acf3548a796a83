#pragma once
/// The node's HTTP server (RESTinio on its own threads): health, metrics, webhooks.

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
  /// Stops accepting and waits for the I/O threads.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace atendeai::http
