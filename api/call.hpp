#pragma once
/// What every admin API handler shares: refusals that become the API's error body, the
/// authenticated caller, the worker's connections and audit, one call handed to a
/// handler, and the handler registry (route operation → handler).
///
/// The worker (api/worker.cpp) runs the checks of api/checks.hpp in API.md's order —
/// 401 token, 429 rate limit, 403 role from core::api_routes(), 404 tenant — and then
/// calls the route's handler from the registry (api/registry.cpp) with an api_call.
/// Handlers validate the body (400/422, api/validation.hpp), do the work and answer;
/// they raise refusals with fail(). Handlers block (SQL, bcrypt, waiting on a clinic
/// actor), so they only ever run on the detached worker's own thread.

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "actors/api_request.hpp"
#include "actors/node_context.hpp"
#include "core/error.hpp"
#include "core/jwt.hpp"
#include "core/rbac.hpp"
#include "persistence/audit.hpp"
#include "persistence/database.hpp"
#include "persistence/redis.hpp"
#include "persistence/users.hpp"

namespace atendeai::api {

using actors::api_request;
using actors::node_context_ptr;

// -- refusals -------------------------------------------------------------------------------

/// A refusal raised inside a handler and turned into the API's error body by the worker.
/// It never crosses an actor boundary.
struct api_failure {
  core::error_code code;
  std::string message;
  std::string field;
  int64_t retry_after_s = 0;
  nlohmann::json extra = nullptr; ///< more members of "error" (e.g. alternatives of a 409)
};

/// Throws api_failure{code, message, field}.
[[noreturn]] void fail(core::error_code code, std::string message, std::string field = {});

// -- the caller and the worker -------------------------------------------------------------

/// Who is calling: the stored user behind a valid, unrevoked access token (empty on the
/// open routes, whose credentials are in the body).
struct principal {
  persistence::user_row user;
  core::role role = core::role::professional;
  core::jwt_claims claims;
};

/// The worker's shared means: configuration, clock, metrics, its own PostgreSQL and
/// Redis connections, and the actor system (for blocking requests to clinic actors).
struct api_worker {
  node_context_ptr node;
  caf::actor_system* system = nullptr;
  std::unique_ptr<persistence::db_session> db;
  /// A bcrypt hash of nothing, verified against when a login names an unknown e-mail
  /// (same timing as a wrong password); made once per worker at spawn.
  std::string dummy_hash;

  /// The auth section of the configuration.
  const config::auth_settings& auth() const { return node->cfg.auth; }
  /// Seconds since the epoch on the node's clock.
  int64_t now_s() const;
  /// Increments a counter.
  void count(const char* name, const char* help, core::labels labels);
  /// Appends an audit row in `tx` (scoped to `clinic`): who (`p`, or nobody), what,
  /// on what, before and after, with the request id and IP of `r`.
  void audit(pqxx::transaction_base& tx, const api_request& r, const principal* p, const std::string& clinic,
             const std::string& action, const std::string& target_type, const std::string& target_id,
             nlohmann::json before = nullptr, nlohmann::json after = nullptr);
  /// The audit row audit() would append, for a write committed elsewhere (a batch writer).
  static persistence::audit_entry audit_row(const api_request& r, const principal* p, const std::string& clinic,
                                            const std::string& action, const std::string& target_type,
                                            const std::string& target_id, nlohmann::json before = nullptr,
                                            nlohmann::json after = nullptr);
  /// The Redis connection, opened on demand; throws persistence::unavailable.
  persistence::redis_client& redis();
  /// Runs a Redis command sequence for `op` (a metrics label); drops the connection when
  /// it fails, counts the error, and rethrows.
  template <class F>
  auto with_redis(const char* op, F&& f) {
    try {
      return f(redis());
    } catch (const persistence::unavailable&) {
      redis_.reset();
      count("atendeai_redis_errors_total", "Redis errors", {{"op", op}});
      throw;
    }
  }

private:
  std::unique_ptr<persistence::redis_client> redis_;
};

/// One checked request handed to its route's handler.
struct api_call {
  api_worker& w;
  api_request& r;
  /// The caller (an empty principal on the open routes).
  const principal& p;
  /// The clinic named by `/clinics/:id`, already checked against the caller (it exists
  /// and is the caller's own, or the caller is a super admin); empty on other routes.
  std::string clinic_id;

  /// A path parameter (":sid" → param("sid")), lower-cased; "" when absent.
  std::string param(const char* name) const;
  /// A path parameter that must be a UUID: 404 naming `what` otherwise.
  std::string id_param(const char* name, const char* what) const;
  /// Answers with a JSON body.
  void reply(int status, const nlohmann::json& body) const;
};

/// Sends a staff action to its conversation (router → clinic → conversation) and waits
/// for its commit: 503 when none came in time, 500 when it could not be stored; returns
/// the outbound message id of a reply ("" for other actions).
std::string commit_staff_action(api_call& call, actors::staff_action a);

// -- the handler registry -------------------------------------------------------------------

/// A route handler.
using api_handler = void (*)(api_call&);
/// Handlers by operation name (core::api_route::op).
using api_handlers = std::map<std::string, api_handler, std::less<>>;

/// Every admin route's handler, by operation (built once from the modules below).
const api_handlers& handlers();

/// Each module adds the handlers of its routes.
void add_auth_handlers(api_handlers& h);       ///< login, refresh, logout, profile, password reset
void add_user_handlers(api_handlers& h);       ///< users (and auth.register): create, list, one user
void add_audit_handlers(api_handlers& h);      ///< the audit log
void add_catalogue_handlers(api_handlers& h);  ///< clinics, channels, services, professionals, closures
void add_agenda_handlers(api_handlers& h);     ///< slots and appointments
void add_inbox_handlers(api_handlers& h);      ///< conversations: list, read, reply as staff, release
void add_faq_handlers(api_handlers& h);        ///< the clinic's knowledge base (FAQ entries)
void add_waitlist_handlers(api_handlers& h);   ///< the clinic's waitlist
void add_privacy_handlers(api_handlers& h);    ///< LGPD: legal basis and notice, a patient's data
void add_template_handlers(api_handlers& h);   ///< the clinic's WhatsApp message templates
void add_reminder_handlers(api_handlers& h);   ///< the clinic's appointment reminders
void add_inspection_handlers(api_handlers& h); ///< live inspection of nodes and actors
void add_calendar_handlers(api_handlers& h);   ///< ICS feeds of professionals and clinics

/// The public URL of an ICS feed's token (http.public_base_url), null when there is none.
nlohmann::json feed_url(const api_call& call, const std::string& token);

} // namespace atendeai::api
