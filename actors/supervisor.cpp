#include "actors/supervisor.hpp"

#include <functional>
#include <map>

#include <caf/all.hpp>

#include "actors/actor_metrics.hpp"
#include "actors/batch_writer.hpp"
#include "actors/db_reader.hpp"
#include "actors/language_model.hpp"
#include "actors/membership.hpp"
#include "actors/router.hpp"
#include "actors/sender.hpp"
#include "core/log.hpp"
#include "core/supervision.hpp"

namespace atendeai::actors {

namespace {

/// One watched actor: its kind, its slot, and how a fresh one takes the slot.
struct child {
  std::string kind;
  size_t index = 0;
  std::function<caf::actor_addr()> restart; ///< empty: the node gives up instead
};

} // namespace

struct root_supervisor_state {
  static constexpr const char* name = "root_supervisor";
  caf::event_based_actor* self = nullptr;

  // -- data members -----------------------------------------------------------

  std::shared_ptr<node_context> ctx;
  node_identity identity;
  std::map<caf::actor_addr, child> children;
  std::unique_ptr<core::restart_intensity> restarts;
  uint64_t restarted = 0;

  // -- work -------------------------------------------------------------------

  /// Watches `handle` as `kind` #index, restarted by `restart`.
  template <class Handle>
  void watch(const Handle& handle, std::string kind, size_t index, std::function<caf::actor_addr()> restart) {
    self->monitor(handle);
    actor_kind_metrics::restarted_of(*ctx->metrics, kind); // the series exists at 0
    children.emplace(handle.address(), child{std::move(kind), index, std::move(restart)});
  }

  /// Spawns a fresh actor into slot i of `slots`, watches it and returns its address.
  template <class Handle, class Spawn>
  caf::actor_addr refill(actor_slots<Handle>& slots, size_t i, const std::string& kind, Spawn spawn) {
    auto fresh = spawn();
    slots.replace(i, fresh);
    watch(fresh, kind, i, [this, &slots, i, kind, spawn] { return refill(slots, i, kind, spawn); });
    return fresh.address();
  }

  /// Watches every actor of `slots`, each restarted by `spawn(i)`.
  template <class Handle, class Spawn>
  void watch_all(actor_slots<Handle>& slots, const std::string& kind, Spawn spawn) {
    auto handles = slots.all();
    for (size_t i = 0; i < handles.size(); ++i)
      watch(handles[i], kind, i, [this, &slots, i, kind, spawn] {
        return refill(slots, i, kind, [spawn, i] { return spawn(i); });
      });
  }

  void start(cluster_node_actor endpoint) {
    auto& sys = self->system();
    auto node = std::shared_ptr<const node_context>(ctx);
    watch_all(ctx->readers, "db_reader", [&sys, node](size_t) { return spawn_db_reader(sys, node); });
    watch_all(ctx->ingest_writers, "ingest_writer",
              [&sys, node](size_t i) { return spawn_batch_writer(sys, node, static_cast<int>(i), true); });
    watch_all(ctx->writers, "batch_writer",
              [&sys, node](size_t i) { return spawn_batch_writer(sys, node, static_cast<int>(i), false); });
    watch_all(ctx->senders, "sender", [&sys, node](size_t i) { return spawn_sender(sys, node, static_cast<int>(i)); });
    watch_all(ctx->models, "language_model", [&sys, node](size_t) { return spawn_language_model(sys, node); });
    watch_all(ctx->routers, "router", [&sys, node](size_t) { return spawn_router(sys, node, true); });
    watch_all(ctx->membership, "membership",
              [&sys, node, id = identity, ep = caf::actor_cast<caf::strong_actor_ptr>(endpoint)](size_t) {
                return spawn_membership(sys, node, id, ep);
              });
    if (endpoint)
      watch(endpoint, "cluster_node", 0, {});
  }

  void on_down(const caf::down_msg& msg) {
    auto it = children.find(msg.source);
    if (it == children.end())
      return;
    auto c = std::move(it->second);
    children.erase(it);
    if (!msg.reason || msg.reason == caf::exit_reason::user_shutdown)
      return; // stopped on purpose (the node is stopping)
    ++restarted;
    actor_kind_metrics::restarted_of(*ctx->metrics, c.kind).inc();
    core::log_event(spdlog::level::err, "actor_crashed",
                    {{"kind", c.kind}, {"index", c.index}, {"reason", caf::to_string(msg.reason)}});
    if (!c.restart) {
      give_up("the " + c.kind + " actor crashed and cannot be restarted in place");
      return;
    }
    if (restarts->record(ctx->clock->now())) {
      give_up("restart intensity exceeded at the root (" + c.kind + ")");
      return;
    }
    c.restart();
    core::log_event(spdlog::level::warn, "actor_restarted", {{"kind", c.kind}, {"index", c.index}});
    resume(c);
  }

  /// Hands a fresh actor (now in its slot) what its predecessor left.
  void resume(const child& c) {
    if (c.kind == "sender") // its rows are pending in PostgreSQL: the router hands them over
      self->send(ctx->router(), resend_atom::value, static_cast<int32_t>(c.index));
    else if (c.kind == "router") // the fresh router needs the cluster's view
      if (auto m = ctx->membership.at(0))
        self->send(m, view_atom::value);
  }

  void give_up(const std::string& reason) {
    core::log_event(spdlog::level::critical, "supervisor_escalates",
                    {{"kind", name}, {"reason", reason}, {"max_restarts", ctx->cfg.supervision.max_restarts},
                     {"window_seconds", ctx->cfg.supervision.window_seconds}});
    if (ctx->give_up)
      ctx->give_up(reason);
  }
};

namespace {

/// Its arguments are spawn arguments, not captures: CAF 0.17 dereferences a null argument
/// tuple for an actor spawned without any (UndefinedBehaviorSanitizer reports it).
caf::behavior root_supervisor(caf::stateful_actor<root_supervisor_state>* self, std::shared_ptr<node_context> ctx,
                              cluster_node_actor endpoint, node_identity identity) {
  auto& st = self->state;
  st.self = self;
  st.ctx = ctx;
  st.identity = identity;
  st.restarts = std::make_unique<core::restart_intensity>(
    ctx->cfg.supervision.max_restarts, std::chrono::seconds(ctx->cfg.supervision.window_seconds));
  self->set_down_handler([self](caf::down_msg& msg) { self->state.on_down(msg); });
  st.start(endpoint);
  return {
    [self](inspect_atom) {
      return nlohmann::json{{"kind", root_supervisor_state::name},
                            {"watched", self->state.children.size()},
                            {"restarted", self->state.restarted}}
        .dump();
    },
  };
}

} // namespace

caf::actor spawn_root_supervisor(caf::actor_system& sys, std::shared_ptr<node_context> ctx,
                                 cluster_node_actor endpoint, node_identity identity) {
  return sys.spawn(root_supervisor, std::move(ctx), std::move(endpoint), std::move(identity));
}

} // namespace atendeai::actors
