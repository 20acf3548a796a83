#include "api/call.hpp"

#include "api/validation.hpp"
#include "persistence/audit.hpp"

namespace atendeai::api {

using nlohmann::json;

[[noreturn]] void fail(core::error_code code, std::string message, std::string field) {
  throw api_failure{code, std::move(message), std::move(field), 0};
}

// -- the worker -----------------------------------------------------------------------------

int64_t api_worker::now_s() const {
  return node->clock->now().time_since_epoch().count() / 1000;
}

void api_worker::count(const char* name, const char* help, core::labels labels) {
  node->metrics->counter_with(name, help, std::move(labels)).inc();
}

void api_worker::audit(pqxx::transaction_base& tx, const api_request& r, const principal* p,
                       const std::string& clinic, const std::string& action, const std::string& target_type,
                       const std::string& target_id, json before, json after) {
  persistence::append_audit(tx, audit_row(r, p, clinic, action, target_type, target_id, std::move(before),
                                          std::move(after)));
}

persistence::audit_entry api_worker::audit_row(const api_request& r, const principal* p, const std::string& clinic,
                                               const std::string& action, const std::string& target_type,
                                               const std::string& target_id, json before, json after) {
  persistence::audit_entry e;
  e.clinic_id = clinic;
  if (p) {
    e.actor_user_id = p->user.id;
    e.actor_role = p->user.role;
  }
  e.action = action;
  e.target_type = target_type;
  e.target_id = target_id;
  e.before = std::move(before);
  e.after = std::move(after);
  e.request_id = r.request_id;
  e.ip = r.ip;
  return e;
}

persistence::redis_client& api_worker::redis() {
  if (!redis_)
    redis_ = persistence::redis_client::connect(node->cfg.redis.url, node->cfg.redis.timeout_ms);
  return *redis_;
}

// -- the call -------------------------------------------------------------------------------

std::string api_call::param(const char* name) const {
  auto it = r.params.find(name);
  return it == r.params.end() ? std::string() : lower(it->second);
}

std::string api_call::id_param(const char* name, const char* what) const {
  auto id = param(name);
  if (!valid_uuid(id))
    fail(core::error_code::not_found, std::string("no such ") + what);
  return id;
}

void api_call::reply(int status, const json& body) const {
  r.responder->respond(status, status == 204 ? std::string() : body.dump()); // 204: no body at all
}

} // namespace atendeai::api
