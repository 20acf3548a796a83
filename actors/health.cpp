#include "actors/health.hpp"

#include <caf/all.hpp>

#include "core/log.hpp"
#include "persistence/database.hpp"
#include "persistence/redis.hpp"

namespace atendeai::actors {

struct health_state {
  static constexpr const char* name = "health";

  // -- data members -----------------------------------------------------------

  node_context_ptr node;
  core::instant started;
  std::unique_ptr<persistence::db_session> db;
  std::unique_ptr<persistence::redis_client> redis;
  std::string last_status = "ok";
  core::counter* postgres_errors = nullptr;
  core::counter* redis_errors = nullptr;

  // -- work -------------------------------------------------------------------

  bool postgres_ok() {
    try {
      db->run([](pqxx::connection& c) {
        pqxx::nontransaction tx(c);
        tx.exec("SELECT 1");
        return true;
      });
      return true;
    } catch (const std::exception&) {
      postgres_errors->inc();
      db->reset();
      return false;
    }
  }

  bool redis_ok() {
    try {
      if (!redis)
        redis = persistence::redis_client::connect(node->cfg.redis.url, node->cfg.redis.timeout_ms);
      if (redis->ping())
        return true;
    } catch (const std::exception&) {
    }
    redis_errors->inc();
    redis.reset();
    return false;
  }

  void check(const std::shared_ptr<http_responder>& responder) {
    bool pg = postgres_ok();
    bool rd = redis_ok();
    std::string status = !pg ? "down" : rd ? "ok" : "degraded";
    if (status != last_status) {
      core::log_event(status == "ok" ? spdlog::level::info : spdlog::level::warn, "health_changed",
                      {{"from", last_status}, {"to", status}});
      last_status = status;
    }
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(node->clock->now() - started).count();
    nlohmann::json body = {{"status", status},
                           {"node_id", node->cfg.node.id},
                           {"version", ATENDEAI_VERSION},
                           {"uptime_s", uptime},
                           {"postgres", {{"status", pg ? "ok" : "down"}}},
                           {"redis", {{"status", rd ? "ok" : "down"}}},
                           {"cluster", node->cluster->get()}};
    responder->respond(pg ? 200 : 503, body.dump());
  }
};

health_actor::behavior_type health(health_actor::stateful_pointer<health_state> self, node_context_ptr node,
                                   core::instant started) {
  self->state.node = node;
  self->state.started = started;
  self->state.postgres_errors =
    &node->metrics->counter_with("atendeai_db_errors_total", "PostgreSQL errors", {{"op", "health_check"}});
  self->state.redis_errors =
    &node->metrics->counter_with("atendeai_redis_errors_total", "Redis errors", {{"op", "health_check"}});
  auto target = app_target(node->cfg);
  target.connect_timeout_s = std::min(target.connect_timeout_s, 2);
  self->state.db = std::make_unique<persistence::db_session>(target);
  return {
    [self](health_atom, const std::shared_ptr<http_responder>& responder) { self->state.check(responder); },
  };
}

health_actor spawn_health(caf::actor_system& sys, node_context_ptr node, core::instant started) {
  return sys.spawn<caf::detached>(health, node, started);
}

} // namespace atendeai::actors
