#include "api/worker.hpp"

#include <caf/all.hpp>

#include "api/call.hpp"
#include "api/checks.hpp"
#include "api/forwarding.hpp"
#include "core/log.hpp"
#include "core/password.hpp"

namespace atendeai::api {

using actors::api_atom;
using actors::api_worker_actor;
using actors::forwarded_api;
using actors::forwarded_reply;

struct worker_state : api_worker {
  static constexpr const char* name = "api_worker";
  api_worker_actor::pointer self = nullptr;

  // -- the request ------------------------------------------------------------------------

  /// Serves one request and answers it, whatever happens: a refusal becomes its error
  /// body, an unreachable database 503, anything else 500.
  void handle(api_request& r) {
    try {
      serve(r);
    } catch (const api_failure& f) {
      auto error = core::error_body(f.code, f.message, f.field);
      if (f.extra.is_object())
        error["error"].update(f.extra);
      auto body = error.dump();
      if (f.retry_after_s > 0)
        r.responder->respond_with(core::http_status(f.code), std::move(body),
                                  {{"Retry-After", std::to_string(f.retry_after_s)}});
      else
        r.responder->respond(core::http_status(f.code), std::move(body));
    } catch (const persistence::unavailable& e) {
      database_unreachable(r, e);
    } catch (const pqxx::broken_connection& e) {
      database_unreachable(r, e);
    } catch (const std::exception& e) {
      db->reset();
      core::log_event(spdlog::level::err, "api_failed",
                      {{"op", r.route->op}, {"request_id", r.request_id}, {"error", e.what()}});
      count("atendeai_api_errors_total", "Admin API requests that failed", {{"op", r.route->op}});
      r.responder->respond(500, core::error_body(core::error_code::internal_error, "internal error").dump());
    }
  }

  /// PostgreSQL could not be reached (at connect or mid-transaction): 503, counted; the
  /// connection is reopened on the next request.
  void database_unreachable(api_request& r, const std::exception& e) {
    db->reset();
    count("atendeai_db_errors_total", "PostgreSQL errors", {{"op", "api"}});
    core::log_event(spdlog::level::warn, "api_unavailable", {{"op", r.route->op}, {"error", e.what()}});
    r.responder->respond(503, core::error_body(core::error_code::database_unavailable,
                                               "the database is unreachable; retry later").dump());
  }

  /// The checks (401 → 429 → 403 → 404), then the route's handler — on the clinic's
  /// owner node when the route runs there (the owner answers; api/forwarding.cpp).
  /// Bodies (400/422) and conflicts (409) are the handler's.
  void serve(api_request& r) {
    auto checked = check_request(*this, r);
    api_call call{*this, r, checked.caller, checked.clinic_id};
    if (!forward_to_owner(call, call.clinic_id))
      checked.handler(call);
  }

  /// A request another node forwarded here (this node owns its clinic): the same checks
  /// and handler, the answer kept for the entry node to write.
  forwarded_reply serve_forwarded(forwarded_api& f) {
    auto out = std::make_shared<captured_response>();
    auto r = from_forwarded(std::move(f), out);
    if (!r.route)
      out->respond(404, core::error_body(core::error_code::not_found, "no such route").dump());
    else
      handle(r);
    return out->reply();
  }
};

api_worker_actor::behavior_type worker(api_worker_actor::stateful_pointer<worker_state> self,
                                       actors::node_context_ptr node) {
  self->state.self = self;
  self->state.node = node;
  self->state.system = &self->system();
  self->state.db = std::make_unique<persistence::db_session>(actors::app_target(node->cfg));
  self->state.dummy_hash = core::hash_password(core::random_token(16), node->cfg.auth.bcrypt_cost);
  return {
    [self](api_atom, api_request& r) { self->state.handle(r); },
    [self](api_atom, forwarded_api& f) { return self->state.serve_forwarded(f); },
  };
}

api_worker_actor spawn_worker(caf::actor_system& sys, actors::node_context_ptr node) {
  return sys.spawn<caf::detached>(worker, std::move(node));
}

} // namespace atendeai::api
