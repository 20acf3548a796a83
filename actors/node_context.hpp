#pragma once
/// What every actor of a node shares: configuration, metrics, clock and the handles of
/// the node's service actors. Filled once at start-up before traffic flows; read-only after.

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"

namespace caf {
class actor_system;
}
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"

namespace atendeai::actors {

/// What /health shows of the cluster: written by the membership actor, read by health.
class cluster_board {
public:
  void set(nlohmann::json view) {
    std::lock_guard<std::mutex> guard(mutex_);
    view_ = std::move(view);
  }
  nlohmann::json get() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return view_;
  }

private:
  mutable std::mutex mutex_;
  nlohmann::json view_ = {{"enabled", false}};
};

/// Shared, read-only node wiring.
struct node_context {
  config::config cfg;
  std::shared_ptr<core::metrics_registry> metrics;
  std::shared_ptr<core::clock> clock;
  std::vector<batch_writer_actor> writers;
  std::vector<sender_actor> senders;
  std::vector<db_reader_actor> readers;
  router_actor router;
  std::shared_ptr<cluster_board> cluster = std::make_shared<cluster_board>();
  /// The root supervisor's last resort (restart intensity exceeded at the router): stops
  /// the node with a non-zero exit code so its service manager restarts it.
  std::function<void(const std::string& reason)> give_up;

  /// The writer for a key (a conversation keeps its writer, so its writes stay in order).
  const batch_writer_actor& writer_for(const std::string& key) const {
    return writers[std::hash<std::string>{}(key) % writers.size()];
  }
  /// The sender for a key (a conversation's replies go out in order).
  const sender_actor& sender_for(const std::string& key) const {
    return senders[std::hash<std::string>{}(key) % senders.size()];
  }
  /// The reader for a key.
  const db_reader_actor& reader_for(const std::string& key) const {
    return readers[std::hash<std::string>{}(key) % readers.size()];
  }
};

using node_context_ptr = std::shared_ptr<const node_context>;

} // namespace atendeai::actors
