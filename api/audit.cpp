/// Admin API: the audit log, filtered by action, actor, target and time, page by page.
/// Every mutation and auth event of the API appends its row in its own transaction.
#include "api/call.hpp"
#include "api/checks.hpp"
#include "api/validation.hpp"

namespace atendeai::api {

namespace {

void list_audit(api_call& call) {
  auto& w = call.w;
  auto& r = call.r;
  const auto& p = call.p;
  auto q = parse_query(r.query, {"clinic_id", "action", "actor_user_id", "target_id", "contact_id", "from", "to"});
  auto clinic = listing_clinic(p, q);
  persistence::audit_filter f;
  f.action = q.rest["action"];
  f.actor_user_id = lower(q.rest["actor_user_id"]);
  if (!f.actor_user_id.empty() && !valid_uuid(f.actor_user_id))
    fail(core::error_code::validation_failed, "must be a UUID", "actor_user_id");
  f.target_id = q.rest["target_id"];
  // "Who saw my data": every read and change of one patient's data names their contact.
  if (q.rest.count("contact_id")) {
    if (!f.target_id.empty())
      fail(core::error_code::validation_failed, "give either contact_id or target_id", "contact_id");
    f.target_id = lower(q.rest["contact_id"]);
    if (!valid_uuid(f.target_id))
      fail(core::error_code::validation_failed, "must be a UUID", "contact_id");
  }
  f.from = q.rest["from"];
  f.to = q.rest["to"];
  if (!f.from.empty() && !plausible_timestamp(f.from))
    fail(core::error_code::validation_failed, "must be an ISO-8601 date or timestamp", "from");
  if (!f.to.empty() && !plausible_timestamp(f.to))
    fail(core::error_code::validation_failed, "must be an ISO-8601 date or timestamp", "to");
  auto page = w.db->run([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    persistence::set_clinic(tx, clinic);
    return persistence::list_audit(tx, clinic, f, q.page, q.per_page);
  });
  r.responder->respond(200, page.dump());
}

} // namespace

void add_audit_handlers(api_handlers& h) {
  h["audit.list"] = list_audit;
}

} // namespace atendeai::api
