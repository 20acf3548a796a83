#pragma once
/// What every actor of a node shares: configuration, metrics, clock and the handles of
/// the node's service actors. Filled once at start-up before traffic flows; read-only after.

#include <functional>
#include <memory>
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

/// Shared, read-only node wiring.
struct node_context {
  config::config cfg;
  std::shared_ptr<core::metrics_registry> metrics;
  std::shared_ptr<core::clock> clock;
  std::vector<batch_writer_actor> writers;
  std::vector<sender_actor> senders;
  std::vector<db_reader_actor> readers;
  router_actor router;
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
