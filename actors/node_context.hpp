#pragma once
/// What every actor of a node shares: configuration, metrics, clock and the handles of
/// the node's service actors. Filled once at start-up before traffic flows; read-only after.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "actors/local_sink.hpp"

namespace caf {
class actor_system;
}
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "core/secret_box.hpp"
#include "persistence/database.hpp"

namespace atendeai::core {
class circuit_breaker;
}

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

/// The handles of one kind of service actor. Every actor reads them, from any thread,
/// when it sends; the root supervisor replaces a crashed one in place.
template <class Handle>
class actor_slots {
public:
  void add(Handle h) {
    std::unique_lock<std::shared_mutex> guard(mutex_);
    slots_.push_back(std::move(h));
  }
  void replace(size_t i, Handle h) {
    std::unique_lock<std::shared_mutex> guard(mutex_);
    slots_.at(i) = std::move(h);
  }
  size_t size() const {
    std::shared_lock<std::shared_mutex> guard(mutex_);
    return slots_.size();
  }
  /// The i-th handle, counting round (an invalid handle while there is none).
  Handle at(size_t i) const {
    std::shared_lock<std::shared_mutex> guard(mutex_);
    return slots_.empty() ? Handle{} : slots_[i % slots_.size()];
  }
  /// The handle for a key: the same key always gets the same slot.
  Handle for_key(const std::string& key) const { return at(std::hash<std::string>{}(key)); }
  std::vector<Handle> all() const {
    std::shared_lock<std::shared_mutex> guard(mutex_);
    return slots_;
  }

private:
  mutable std::shared_mutex mutex_;
  std::vector<Handle> slots_;
};

/// Shared node wiring: configuration, metrics and clock are read-only after start; the
/// service actors' handles change only when the root supervisor restarts one.
struct node_context {
  config::config cfg;
  std::shared_ptr<core::metrics_registry> metrics;
  std::shared_ptr<core::clock> clock;
  /// The key channel tokens are sealed with in the database (security.data_key_file);
  /// null without one (tokens stored as given). Senders open tokens with it, the admin
  /// API seals new ones.
  std::shared_ptr<const core::data_key> data_key;
  actor_slots<batch_writer_actor> writers;        ///< record writers
  actor_slots<batch_writer_actor> ingest_writers; ///< ingest writers
  actor_slots<sender_actor> senders;
  actor_slots<db_reader_actor> readers;
  actor_slots<router_actor> routers; ///< one
  actor_slots<membership_actor> membership; ///< one in a cluster, else none
  actor_slots<language_model_actor> models;  ///< the language model's workers (ai.enabled), else none
  /// Shared by the model's workers: a provider failing ai.breaker_failures times in a row
  /// is not asked for ai.breaker_cooldown_ms (null without a model).
  std::shared_ptr<core::circuit_breaker> model_breaker;
  std::shared_ptr<cluster_board> cluster = std::make_shared<cluster_board>();
  /// Records the record writers keep through a PostgreSQL outage (none lost; past
  /// persistence.max_held_records new webhooks are refused with 503).
  std::shared_ptr<std::atomic<int64_t>> held_records = std::make_shared<std::atomic<int64_t>>(0);
  /// Round robin over the ingest writers.
  std::shared_ptr<std::atomic<size_t>> next_ingest = std::make_shared<std::atomic<size_t>>(0);
  /// The root supervisor's last resort (restart intensity exceeded at the router): stops
  /// the node with a non-zero exit code so its service manager restarts it.
  std::function<void(const std::string& reason)> give_up;
  /// The local reply sink file, shared by the senders (used without an access token).
  std::shared_ptr<local_sink> sink;

  /// The router (invalid until it is spawned).
  router_actor router() const { return routers.at(0); }
  /// The writer for a key (a conversation keeps its writer, so its writes stay in order).
  batch_writer_actor writer_for(const std::string& key) const { return writers.for_key(key); }
  /// The next ingest writer (round robin).
  batch_writer_actor ingest_writer() const { return ingest_writers.at(next_ingest->fetch_add(1)); }
  /// True while the records held through an outage are past their bound.
  bool holding_too_much() const { return held_records->load() >= cfg.persistence.max_held_records; }
  /// The sender for a key (a conversation's replies go out in order).
  sender_actor sender_for(const std::string& key) const { return senders.for_key(key); }
  /// The model's worker for a key (invalid without a model).
  language_model_actor model_for(const std::string& key) const { return models.for_key(key); }
  /// The reader for a key.
  db_reader_actor reader_for(const std::string& key) const { return readers.for_key(key); }
};

using node_context_ptr = std::shared_ptr<const node_context>;

/// Where the node's own sessions connect: the configured database, as the app role
/// (row-level security applies to every query).
inline persistence::db_target app_target(const config::config& cfg) {
  return {cfg.database.url, cfg.database.connect_timeout_s, cfg.database.app_role};
}

} // namespace atendeai::actors
