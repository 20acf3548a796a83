/// Admin API: the clinic's waitlist (GET /api/v1/clinics/{id}/waitlist[/{wid}], DELETE
/// .../waitlist/{wid}): the patients the assistant put on it when nothing was free, in
/// order, with what they wait for and the time held for them now (if any). Removing an
/// entry withdraws its open offer: the job ending that offer's hold falls due at once and
/// the owner node (the route is served there) passes the time on to the next patient.
#include "api/call.hpp"
#include "api/clinic_rows.hpp"
#include "api/validation.hpp"

#include "actors/interfaces.hpp"
#include "actors/node_context.hpp"
#include "persistence/waitlist.hpp"

namespace atendeai::api {

namespace {

using nlohmann::json;

void waitlist_list(api_call& call) {
  auto q = parse_query(call.r.query, {"status"});
  std::string status;
  if (q.rest.count("status")) {
    status = q.rest["status"];
    if (status != "waiting" && status != "offered" && status != "booked" && status != "removed")
      fail(core::error_code::validation_failed, "must be one of waiting, offered, booked, removed", "status");
  }
  auto items = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    return persistence::list_waitlist(tx, call.clinic_id, status);
  });
  call.reply(200, {{"items", items}});
}

json entry_row(pqxx::transaction_base& tx, const api_call& call, const std::string& id) {
  auto row = persistence::find_waitlist_entry(tx, call.clinic_id, id);
  if (!row)
    fail(core::error_code::not_found, "no such waitlist entry");
  return *row;
}

void waitlist_get(api_call& call) {
  no_body(call);
  auto id = call.id_param("wid", "waitlist entry");
  call.reply(200, in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) { return entry_row(tx, call, id); }));
}

void waitlist_delete(api_call& call) {
  auto id = call.id_param("wid", "waitlist entry");
  no_body(call);
  auto after = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    auto before = entry_row(tx, call, id);
    auto removed = persistence::remove_waitlist_entry(tx, call.clinic_id, id, "staff:" + call.p.user.id);
    audit(call, tx, "waitlist.delete", "waitlist", id, before, *removed);
    return *removed;
  });
  // The hold of a withdrawn offer ends now: the scheduler looks at once.
  caf::anon_send(call.w.node->router(), actors::jobs_atom::value);
  call.reply(200, {{"status", "removed"}, {"entry", after}});
}

} // namespace

void add_waitlist_handlers(api_handlers& h) {
  h["waitlist.list"] = waitlist_list;
  h["waitlist.get"] = waitlist_get;
  h["waitlist.delete"] = waitlist_delete;
}

} // namespace atendeai::api
