#include "actors/node.hpp"

#include <csignal>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/batch_writer.hpp"
#include "actors/cluster.hpp"
#include "actors/db_reader.hpp"
#include "actors/health.hpp"
#include "actors/language_model.hpp"
#include "actors/router.hpp"
#include "actors/sender.hpp"
#include "actors/supervisor.hpp"
#include "core/language_model.hpp"
#include "core/log.hpp"

namespace atendeai::actors {

node_actors start_node(caf::actor_system& sys, const config::config& cfg,
                       std::shared_ptr<core::metrics_registry> metrics, std::shared_ptr<core::clock> clock,
                       std::shared_ptr<const core::data_key> data_key, const api_worker_spawner& spawn_api) {
  auto ctx = std::make_shared<node_context>();
  ctx->cfg = cfg;
  ctx->metrics = std::move(metrics);
  ctx->clock = std::move(clock);
  ctx->sink = std::make_shared<local_sink>(cfg.paths.var_dir + "/" + cfg.sender.sink_file);
  ctx->data_key = std::move(data_key);
  // The admin API's workers (api/), started here only: they read the router's handle
  // per request.
  auto api_pool = [&](int n) {
    std::vector<api_worker_actor> pool;
    for (int i = 0; i < n; ++i)
      pool.push_back(spawn_api(sys, ctx));
    return pool;
  };
  // The cluster port first: a port taken fails the start before anything else runs.
  // Its actors read the router's handle only when messages flow.
  cluster_actors cluster;
  auto identity = local_identity(cfg, ctx->clock->now().time_since_epoch().count());
  if (cfg.cluster.port != 0) {
    // The pool for forwarded requests belongs to the published endpoint (it stops them).
    // A pool of its own: were it the HTTP side's, two nodes whose workers all wait on a
    // request forwarded to the other would wait for each other for ever.
    cluster = start_cluster(sys, ctx, identity, api_pool(std::max(1, cfg.auth.workers)));
    ctx->membership.add(cluster.members);
  }
  auto exit_code = std::make_shared<std::atomic<int>>(0);
  ctx->give_up = [exit_code](const std::string& reason) {
    core::log_event(spdlog::level::critical, "node_gives_up", {{"reason", reason}, {"exit_code", 3}});
    exit_code->store(3);
    ::kill(::getpid(), SIGTERM); // the main thread stops the node as on a signal
  };
  // Handles are filled in before any traffic; actors read them only when messages flow.
  for (int i = 0; i < cfg.database.readers; ++i)
    ctx->readers.add(spawn_db_reader(sys, ctx));
  for (int i = 0; i < cfg.persistence.ingest_writers; ++i)
    ctx->ingest_writers.add(spawn_batch_writer(sys, ctx, i, true));
  for (int i = 0; i < cfg.persistence.writers; ++i)
    ctx->writers.add(spawn_batch_writer(sys, ctx, i, false));
  for (int i = 0; i < cfg.sender.workers; ++i)
    ctx->senders.add(spawn_sender(sys, ctx, i));
  if (cfg.ai.enabled) {
    ctx->model_breaker = std::make_shared<core::circuit_breaker>(
      cfg.ai.breaker_failures, std::chrono::milliseconds(cfg.ai.breaker_cooldown_ms));
    register_model_metrics(*ctx);
    for (int i = 0; i < cfg.ai.workers; ++i)
      ctx->models.add(spawn_language_model(sys, ctx));
  }
  ctx->routers.add(spawn_router(sys, ctx));
  node_actors out{ctx, spawn_health(sys, ctx, ctx->clock->now()), {}, cluster.endpoint,
                  spawn_root_supervisor(sys, ctx, cluster.endpoint, identity), exit_code};
  out.auth = api_pool(cfg.auth.workers);
  core::log_event(spdlog::level::info, "node_actors_started",
                  {{"readers", ctx->readers.size()}, {"ingest_writers", ctx->ingest_writers.size()},
                   {"writers", ctx->writers.size()},
                   {"senders", ctx->senders.size()}, {"model_workers", ctx->models.size()}});
  return out;
}

bool stop_node(caf::actor_system& sys, node_actors& actors, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto until = [](std::chrono::steady_clock::time_point t) { // time left before t, at least 1 ms
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(t - std::chrono::steady_clock::now()));
  };
  auto left = [&] { return until(deadline); };
  bool drained = true;
  caf::scoped_actor self{sys};
  auto& ctx = *actors.context;
  // First the supervisor: nothing stopped from here on is restarted.
  self->send_exit(actors.supervisor, caf::exit_reason::user_shutdown);
  auto drain = [&](const actor_slots<batch_writer_actor>& writers) {
    for (auto& w : writers.all())
      self->request(w, left(), drain_atom::value)
        .receive([&](bool all) { drained = drained && all; },
                 [&](const caf::error& err) {
                   drained = false;
                   core::log_event(spdlog::level::warn, "drain_failed", {{"error", caf::to_string(err)}});
                 });
  };
  auto stop = [&](const auto& handle) { self->send_exit(handle, caf::exit_reason::user_shutdown); };
  // Webhooks first (their requests wait for the commit); then no new decisions (the
  // router takes its clinics and conversations with it); then what was decided, and its
  // delivery: the senders attempt every row handed to them and the outcomes are
  // committed. Only then does the node leave the cluster: its clinics' new owners resume
  // what is left (messages stored but not answered, rows in backoff) and would send a
  // row again that this node was still sending. Alone, what is left is answered after
  // the restart (the sweep).
  drain(ctx.ingest_writers);
  stop(ctx.router());
  drain(ctx.writers);
  // At most half of what is left (a slow Graph API must not cost the writes after it);
  // a row not attempted, or in backoff, is committed: the next owner's, not a failure.
  auto senders_done = std::chrono::steady_clock::now() + left() / 2;
  for (auto& s : ctx.senders.all())
    self->request(s, until(senders_done), drain_atom::value).receive([](bool) {}, [](const caf::error&) {});
  drain(ctx.writers);
  if (auto membership = ctx.membership.at(0)) {
    self->request(membership, std::min(left(), std::chrono::milliseconds(2000)), drain_atom::value)
      .receive([](bool) {}, [](const caf::error&) {});
    self->send_exit(membership, caf::exit_reason::user_shutdown);
    self->send_exit(actors.cluster_endpoint, caf::exit_reason::user_shutdown);
  }
  for (auto& s : ctx.senders.all())
    stop(s);
  for (auto& w : ctx.ingest_writers.all())
    stop(w);
  for (auto& w : ctx.writers.all())
    stop(w);
  for (auto& m : ctx.models.all())
    stop(m);
  for (auto& r : ctx.readers.all())
    stop(r);
  stop(actors.health);
  for (auto& a : actors.auth)
    stop(a);
  return drained;
}

} // namespace atendeai::actors
