#pragma once
/// The lifecycle metrics of one kind of actor that a supervisor spawns and watches:
/// looked up once (the series exist at 0 before the first spawn), then bumped from the
/// spawn site and the down handler.

#include <string>

#include "core/metrics.hpp"

namespace atendeai::actors {

/// The kinds spawned on demand (by clinics and the router) and those the root supervisor
/// keeps in fixed slots (actors/supervisor.cpp).
inline constexpr const char* on_demand_kinds[] = {"clinic", "conversation", "appointment_flow"};
inline constexpr const char* service_kinds[] = {"db_reader", "ingest_writer", "batch_writer", "sender", "router", "membership",
                                                "cluster_node"};

/// atendeai_actors_{live,spawned_total,restarted_total,passivated_total}{kind="..."}.
struct actor_kind_metrics {
  core::gauge* live = nullptr;
  core::counter* spawned = nullptr;
  core::counter* restarted = nullptr;  ///< stopped abnormally (re-created from PostgreSQL on demand)
  core::counter* passivated = nullptr; ///< stopped when idle

  /// The series of `kind` in `m`.
  static actor_kind_metrics of(core::metrics_registry& m, const std::string& kind) {
    core::labels l{{"kind", kind}};
    return {&m.gauge_with("atendeai_actors_live", "Live actors", l),
            &m.counter_with("atendeai_actors_spawned_total", "Actors spawned", l), &restarted_of(m, kind),
            &passivated_of(m, kind)};
  }

  /// Only the restart counter of `kind` (the root supervisor's service actors have a
  /// fixed number of slots: no live/spawned/passivated series for them).
  static core::counter& restarted_of(core::metrics_registry& m, const std::string& kind) {
    return m.counter_with("atendeai_actors_restarted_total", "Actors that stopped abnormally", {{"kind", kind}});
  }
  static core::counter& passivated_of(core::metrics_registry& m, const std::string& kind) {
    return m.counter_with("atendeai_actors_passivated_total", "Actors stopped when idle", {{"kind", kind}});
  }

  /// One spawned and now live.
  void on_spawn() const {
    spawned->inc();
    live->add(1);
  }

  /// One gone: `crashed` counts a restart, `idle` a passivation; an actor that stopped
  /// because its work was done (a finished flow) counts neither.
  void on_down(bool crashed, bool idle) const {
    live->add(-1);
    if (crashed)
      restarted->inc();
    else if (idle)
      passivated->inc();
  }
};

/// atendeai_proactive_messages_total{kind,outcome}: a reminder or notice that came due,
/// by what became of it (planned and skipped by the clinic, sent or skipped by the
/// conversation).
inline void count_proactive(core::metrics_registry& m, const std::string& kind, const std::string& outcome) {
  m.counter_with("atendeai_proactive_messages_total", "Reminders and notices due, by kind and outcome",
                 {{"kind", kind}, {"outcome", outcome}})
    .inc();
}

} // namespace atendeai::actors
