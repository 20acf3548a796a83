#include <csignal>
#include <thread>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <unistd.h>

#include <caf/all.hpp>
#include <spdlog/sinks/stdout_sinks.h>

#include "actors/cluster.hpp"
#include "app/keys_command.hpp"
#include "actors/gateway.hpp"
#include "actors/node.hpp"
#include "api/worker.hpp"
#include "app/commands.hpp"
#include "app/users_command.hpp"
#include "core/agenda.hpp"
#include "core/password.hpp"
#include "core/log.hpp"
#include "http/server.hpp"
#include "persistence/clinics.hpp"
#include "persistence/database.hpp"
#include "persistence/migrations.hpp"
#include "persistence/redis.hpp"
#include "persistence/secrets.hpp"

namespace atendeai::app {

namespace {

double resident_memory_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

void register_process_metrics(core::metrics_registry& m, double start_time) {
  m.gauge_callback("process_resident_memory_bytes", "Resident memory size in bytes", resident_memory_bytes);
  m.gauge_callback("process_start_time_seconds", "Start time of the process since the epoch in seconds",
                   [start_time] { return start_time; });
  m.gauge_callback("atendeai_up", "1 while the node serves", [] { return 1.0; });
}

/// Exit codes of a stop (README, "Stopping"): 0 clean; 3 the root supervisor gave up;
/// 4 shutdown.timeout_s passed; 5 replies or delivery outcomes were left unwritten
/// (PostgreSQL away: the messages they answer are answered again after the restart) or
/// a request was left unanswered.
constexpr int exit_stop_timed_out = 4;
constexpr int exit_stopped_incomplete = 5;

/// Blocks until SIGINT or SIGTERM (the signals must be blocked in every thread).
int wait_for_signal(const sigset_t& set) {
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

} // namespace

void setup_logging(const config::config& cfg) {
  auto logger = std::make_shared<spdlog::logger>("atendeai", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (cfg.log.format == "json")
    logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","node":")" + cfg.node.id + R"(",%v)",
                        spdlog::pattern_time_type::utc);
  else
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %-5l %v");
  logger->set_level(spdlog::level::from_str(cfg.log.level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

int serve_command(const config::config& given) {
  auto cfg = given;
  // Block the stop signals before any thread starts: every thread inherits the mask,
  // and the main thread takes them with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  setup_logging(cfg);
  if (cfg.whatsapp.app_secret.empty()) {
    std::cerr << "atendeai: configuration: whatsapp.app_secret: required (ATENDEAI_WHATSAPP_APP_SECRET)\n";
    return 2;
  }
  if (cfg.whatsapp.verify_token.empty()) {
    std::cerr << "atendeai: configuration: whatsapp.verify_token: required (ATENDEAI_WHATSAPP_VERIFY_TOKEN)\n";
    return 2;
  }
  if (cfg.auth.jwt_secret.empty() && !cfg.demo.enabled) {
    std::cerr << "atendeai: configuration: auth.jwt_secret: required, at least 32 bytes (ATENDEAI_AUTH_JWT_SECRET)\n";
    return 2;
  }
  // The data key is read before anything else starts: a wrong file ends the start.
  std::shared_ptr<const core::data_key> data_key;
  try {
    if (auto key = config::data_key(cfg))
      data_key = std::make_shared<const core::data_key>(*key);
    if (cfg.ai.enabled)
      cfg.ai.api_key = config::ai_api_key(cfg);
  } catch (const config::config_error& e) {
    std::cerr << "atendeai: " << e.what() << "\n";
    return 2;
  }
  std::shared_ptr<core::clock> clock = std::make_shared<core::system_clock>();
#ifdef ATENDEAI_TEST_HOOKS
  // Test builds: ATENDEAI_TEST_CLOCK=<ISO 8601 instant> sets "now", which stays there
  // until POST /test/clock moves it.
  if (const char* start = std::getenv("ATENDEAI_TEST_CLOCK")) {
    auto t = core::parse_iso(start);
    if (!t) {
      std::cerr << "atendeai: ATENDEAI_TEST_CLOCK: not an ISO 8601 instant\n";
      return 2;
    }
    clock = std::make_shared<core::manual_clock>(*t);
  }
#endif
  try {
    auto owner = persistence::connect({cfg.database.url, cfg.database.connect_timeout_s, ""});
    auto applied = persistence::migrate_up(*owner);
    core::log_event(spdlog::level::info, "migrations_applied", {{"count", applied}});
    // Tokens sealed under a key this node does not have would be lost to it: it refuses
    // to start (exit 2) rather than answer every patient from the sink.
    auto sealing = persistence::seal_stored_secrets(*owner, data_key.get());
    core::log_event(spdlog::level::info, "channel_tokens_checked",
                    {{"data_key", data_key != nullptr}, {"sealed_now", sealing.sealed_now},
                     {"sealed_before", sealing.sealed_before}});
    if (cfg.demo.enabled) {
      persistence::seed_demo_clinic(*owner, cfg.whatsapp.demo_phone_number_id);
      core::log_event(spdlog::level::info, "demo_clinic_ready", {{"clinic", "Clínica Exemplo"}});
      create_demo_admins(*owner, cfg);
    }
    // The server's own sessions must be able to take the app role.
    persistence::connect({cfg.database.url, cfg.database.connect_timeout_s, cfg.database.app_role});
  } catch (const persistence::unavailable& e) {
    std::cerr << "atendeai: " << e.what() << "\n";
    return 2;
  } catch (const persistence::secrets_unreadable& e) {
    return refuse_data_key(cfg, e.what());
  } catch (const std::exception& e) {
    std::cerr << "atendeai: database: " << e.what() << "\n";
    return 2;
  }
  try {
    persistence::redis_client::connect(cfg.redis.url, cfg.redis.timeout_ms)->ping();
  } catch (const std::exception& e) {
    core::log_event(spdlog::level::warn, "redis_unavailable", {{"error", e.what()}, {"effect", "degraded"}});
  }

  if (cfg.auth.jwt_secret.empty()) {
    // Demo only: a random key per start (tokens die with the process; not for a cluster).
    cfg.auth.jwt_secret = core::random_token(48);
    core::log_event(spdlog::level::warn, "jwt_secret_generated",
                    {{"effect", "tokens do not survive a restart; set auth.jwt_secret"}});
  }

  auto metrics = std::make_shared<core::metrics_registry>();
  register_process_metrics(*metrics, static_cast<double>(clock->now().time_since_epoch().count()) / 1000.0);

  caf::actor_system_config sys_cfg;
  sys_cfg.set("scheduler.max-threads", cfg.node.scheduler_threads > 0
                                         ? static_cast<size_t>(cfg.node.scheduler_threads)
                                         : std::max<size_t>(2, std::thread::hardware_concurrency()));
  sys_cfg.set("logger.verbosity", caf::atom("quiet"));
  // An idle scheduler worker polls its queue 100 times, then 500 more times 50 µs apart,
  // before it waits on its condition variable: under a steady trickle of messages the
  // workers never reach the wait, and their nanosleep wake-ups took ~45% of the node's
  // CPU in the throughput bench (CPU that PostgreSQL needs on a small machine). Skip the
  // 50 µs phase: after the busy polls a worker waits, woken by new work for its queue.
  sys_cfg.set("work-stealing.moderate-poll-attempts", size_t{0});
  if (cfg.cluster.port != 0)
    actors::configure_cluster(sys_cfg, cfg.cluster);
  sys_cfg.add_message_type<actors::inspect_query>("inspect_query");
  caf::actor_system sys{sys_cfg};
  actors::node_actors node;
  try {
    node = actors::start_node(sys, cfg, metrics, clock, data_key, api::spawn_worker);
  } catch (const std::exception& e) {
    std::cerr << "atendeai: " << e.what() << "\n";
    return 2;
  }
  std::unique_ptr<http::server> server;
  try {
    server = std::make_unique<http::server>(cfg, actors::gateway{node}, metrics);
  } catch (const std::exception& e) {
    std::cerr << "atendeai: " << e.what() << "\n";
    actors::stop_node(sys, node, 1000);
    return 2;
  }
  core::log_event(spdlog::level::info, "node_serving",
                  {{"address", cfg.http.host + ":" + std::to_string(cfg.http.port)}, {"node_id", cfg.node.id},
                   {"cluster_port", cfg.cluster.port}});

  int sig = wait_for_signal(stop_signals);
  core::log_event(spdlog::level::info, "node_stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  // Bounded, whatever the actor count and backlog: past shutdown.timeout_s the process
  // exits 4 without waiting for stuck work (what it acknowledged is durable already).
  auto timeout = std::chrono::seconds(cfg.shutdown.timeout_s);
  std::thread([timeout] {
    std::this_thread::sleep_for(timeout);
    core::log_event(spdlog::level::err, "node_stop_timed_out", {{"exit_code", exit_stop_timed_out}});
    spdlog::default_logger()->flush();
    std::_Exit(exit_stop_timed_out);
  }).detach();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto ms_left = [deadline] {
    return static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
  };
  // 1. New requests get 503 (/health too: a load balancer drains the node); the webhooks
  //    in flight are answered (committed, or 503 when PostgreSQL is away).
  server->drain();
  while (server->webhooks_in_flight() > 0 && ms_left() > 1000)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto unanswered = server->webhooks_in_flight();
  // 2. The writers write what they hold; the actors stop.
  bool drained = actors::stop_node(sys, node, std::max(1, ms_left() - 500));
  // 3. The HTTP threads stop; an answer an actor writes later is dropped.
  server->stop();
  int code = node.exit_code->load();
  if (code == 0 && (!drained || unanswered > 0))
    code = exit_stopped_incomplete;
  core::log_event(code == 0 ? spdlog::level::info : spdlog::level::warn, "node_stopped",
                  {{"exit_code", code}, {"drained", drained}, {"requests_unanswered", unanswered}});
  spdlog::default_logger()->flush();
  return code;
}

int migrate_command(const config::config& cfg, const std::vector<std::string>& operands) {
  setup_logging(cfg);
  auto usage = [] {
    std::cerr << "atendeai: usage: atendeai migrate up | down [N] | status\n";
    return 2;
  };
  if (operands.empty())
    return usage();
  try {
    auto conn = persistence::connect({cfg.database.url, cfg.database.connect_timeout_s, ""});
    const auto& what = operands[0];
    if (what == "up" && operands.size() == 1) {
      std::cout << "applied " << persistence::migrate_up(*conn) << " migration(s)\n";
    } else if (what == "down" && operands.size() <= 2) {
      int steps = 1;
      if (operands.size() == 2) {
        try {
          steps = std::stoi(operands[1]);
        } catch (const std::exception&) {
          steps = -1;
        }
        if (steps < 1) {
          std::cerr << "atendeai: migrate down: N must be a positive integer (got " << operands[1] << ")\n";
          return 2;
        }
      }
      std::cout << "reverted " << persistence::migrate_down(*conn, steps) << " migration(s)\n";
    } else if (what == "status" && operands.size() == 1) {
      for (auto& m : persistence::migration_status(*conn))
        std::cout << (m.applied ? "applied  " : "pending  ") << m.version << " " << m.name
                  << (m.applied ? "  " + m.applied_at : "") << "\n";
    } else {
      return usage();
    }
  } catch (const persistence::unavailable& e) {
    std::cerr << "atendeai: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "atendeai: migrate: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

} // namespace atendeai::app
