#pragma once
/// What every admin API route handler shares: refusals that become the API's error body,
/// body and query validation that names the field, the authenticated caller, the
/// worker's connections and audit, and the handler registry.
///
/// The worker (actors/auth_store.cpp) runs API.md's order of checks — 401 token,
/// 429 rate limit, 403 role from core::api_routes(), 404 tenant (the clinic named by
/// `/clinics/:id` must be the caller's own, or any existing clinic for a super admin) —
/// and then calls the route's handler with an api_call. Handlers validate the body
/// (400/422), do the work and answer; they raise refusals with fail().
/// Handlers block (SQL, waiting on a clinic actor), so they only ever run on the
/// detached worker's own thread.

#include <cstdint>
#include <initializer_list>
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

namespace atendeai::actors {

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

// -- bodies and queries -------------------------------------------------------------------

/// A member's type; `text` is a string that may hold line breaks and tabs (messages).
enum class ftype { string, text, boolean, integer, number, object, array };

/// One member of a JSON body: its name, type, whether required, and its longest length
/// (bytes of a string, items of an array; ignored otherwise).
struct field_rule {
  const char* name;
  ftype type;
  bool required;
  size_t max_len;
};

/// Parses a JSON object body against its rules: unknown members, types, lengths and
/// control characters are refused naming the member.
nlohmann::json parse_body(const std::string& body, std::initializer_list<field_rule> rules);

/// A string member, or "" when absent.
std::string str(const nlohmann::json& j, const char* key);
/// ASCII lower case.
std::string lower(std::string s);
/// A plain address: local@domain.tld.
bool valid_email(const std::string& e);
/// 8-4-4-4-12 hex digits.
bool valid_uuid(const std::string& s);
/// A person's or place's name member: letters (any script), digits, spaces and . , ' - only.
std::string name_of(const nlohmann::json& body, const char* field = "name");
/// The e-mail member of a body, lower-cased and checked.
std::string email_of(const nlohmann::json& body, const char* field = "email");
/// Accepts an ISO-8601 date or timestamp made of digits, '-', ':', 'T', 'Z', '.', '+'.
bool plausible_timestamp(const std::string& s);

/// Query string members: only `allowed` ones; page/per_page as bounded integers.
struct page_query {
  int page = 1;
  int per_page = 50;
  std::map<std::string, std::string> rest;
};
page_query parse_query(const std::map<std::string, std::string>& q, std::initializer_list<const char*> allowed);

// -- the caller and the worker -------------------------------------------------------------

/// Who is calling: the stored user behind a valid, unrevoked access token.
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

/// One authenticated, authorised request handed to its route's handler.
struct api_call {
  api_worker& w;
  api_request& r;
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

// -- clusters -----------------------------------------------------------------------------------

/// When the call's route runs on its clinic's owner (core::placement::owner in the route
/// table) and another node of the cluster owns `clinic_id`: passes the whole request to
/// that node's cluster_node actor, writes its answer and returns true. False when this
/// node serves the request (no cluster, the owner is this node, or the request was
/// forwarded here). Refuses with 503 naming the owner (retryable) when it is in the view
/// but not connected, or does not answer in time.
bool forward_to_owner(api_call& call, const std::string& clinic_id);

/// The wire form of a request (forwarded by `from_node`), and back: the request the
/// owner's worker serves, answered into `responder`.
forwarded_api to_forwarded(const api_request& r, const std::string& from_node);
api_request from_forwarded(forwarded_api f, std::shared_ptr<http_responder> responder);

/// A responder that keeps the answer, for a request forwarded from another node.
class captured_response : public http_responder {
public:
  void respond(int status, std::string body, const char* content_type = "application/json") override;
  void respond_with(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers) override;
  /// The answer (a 500 when the request was never answered).
  forwarded_reply reply() const;

private:
  bool answered_ = false;
  forwarded_reply reply_;
};

/// A route handler.
using api_handler = void (*)(api_call&);
/// Handlers by operation name (core::api_route::op).
using api_handlers = std::map<std::string, api_handler, std::less<>>;

/// Each module adds the handlers of its routes.
void add_catalogue_handlers(api_handlers& h); ///< clinics, channels, services, professionals, closures
void add_agenda_handlers(api_handlers& h);    ///< slots and appointments
void add_inbox_handlers(api_handlers& h);     ///< conversations: list, read, reply as staff, release
void add_inspect_handlers(api_handlers& h);   ///< live inspection of nodes and actors

} // namespace atendeai::actors
