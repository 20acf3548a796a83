/// Admin API, LGPD (issue 21): the clinic's legal basis and privacy notice (GET/PUT
/// /api/v1/clinics/{id}/privacy), and a patient's data as one JSON document (GET
/// .../contacts/{cid}/export, the access and portability request of LGPD art. 18), whose
/// every read leaves an audit row naming the contact (GET /api/v1/audit?contact_id=); and
/// the erasure of a contact's data (DELETE .../contacts/{cid}, served on the clinic's
/// owner node), anonymised or restricted as the clinic's `on_erasure` says.
#include "api/call.hpp"
#include "api/clinic_rows.hpp"
#include "api/validation.hpp"

#include "actors/messages.hpp"
#include "core/privacy.hpp"
#include "persistence/privacy.hpp"

namespace atendeai::api {

namespace {

using nlohmann::json;

const std::string& default_basis(const api_call& call) { return call.w.node->cfg.privacy.default_legal_basis; }

void privacy_get(api_call& call) {
  no_body(call);
  auto s = in_clinic(call, call.clinic_id,
                     [&](pqxx::transaction_base& tx) { return persistence::load_privacy(tx, call.clinic_id); });
  call.reply(200, core::to_json(s, default_basis(call)));
}

/// PUT: the members given replace the clinic's, the others stay.
void privacy_put(api_call& call) {
  auto body = parse_body(call.r.body, {{"legal_basis", ftype::string, false, 32},
                                       {"notice", ftype::string, false, 700},
                                       {"policy_url", ftype::string, false, 500},
                                       {"dpo_contact", ftype::string, false, 200},
                                       {"retention_days", ftype::integer, false, 0},
                                       {"on_erasure", ftype::string, false, 16}});
  auto after = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    auto before = persistence::load_privacy(tx, call.clinic_id);
    auto s = validated([&] { return core::privacy_settings_from_json(body, before); });
    persistence::save_privacy(tx, call.clinic_id, s);
    audit(call, tx, "privacy.update", "clinic", call.clinic_id, core::to_json(before, default_basis(call)),
          core::to_json(s, default_basis(call)));
    return s;
  });
  changed(call, call.clinic_id); // the clinic's conversations answer with it from their next message
  call.reply(200, core::to_json(after, default_basis(call)));
}

void contact_export(api_call& call) {
  no_body(call);
  auto q = parse_query(call.r.query, {"purpose"});
  // A restricted contact (on_erasure: restrict) is exported only for the authorities.
  const bool authorities = q.rest["purpose"] == "authorities";
  if (!authorities && !q.rest["purpose"].empty())
    fail(core::error_code::validation_failed, "must be authorities (or absent)", "purpose");
  auto cid = call.id_param("cid", "contact");
  auto doc = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    auto found = persistence::export_contact(tx, call.clinic_id, cid, authorities);
    if (!found)
      fail(core::error_code::not_found, "no such contact");
    // who read it, not what
    audit(call, tx, authorities ? "contact.export_authorities" : "contact.export", "contact", cid, nullptr, nullptr);
    return *found;
  });
  call.reply(200, doc);
}

/// DELETE: the contact's data erased (or restricted) in every table and every live actor;
/// 204 again for a contact erased already. The audit row keeps who, when, why and how,
/// none of the data.
void contact_erase(api_call& call) {
  if (call.r.body.find_first_not_of(" \r\n\t") == std::string::npos)
    fail(core::error_code::validation_failed, "is required: why the data is erased", "reason");
  auto body = parse_body(call.r.body, {{"reason", ftype::string, true, 500}});
  auto reason = str(body, "reason");
  if (reason.find_first_not_of(" \n\t") == std::string::npos)
    fail(core::error_code::validation_failed, "must not be empty", "reason");
  auto cid = call.id_param("cid", "contact");
  std::string mode;
  auto found = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    mode = persistence::load_privacy(tx, call.clinic_id).on_erasure;
    return persistence::find_contact_for_erasure(tx, call.clinic_id, cid);
  });
  if (!found)
    fail(core::error_code::not_found, "no such contact");
  if (found->erased || (found->restricted && mode == "restrict")) {
    call.reply(204, nullptr);
    return;
  }
  json after = {{"mode", mode}, {"reason", reason}};
  if (found->conversation_ids.empty()) { // never wrote: nothing lives in an actor
    in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
      persistence::erase_contact(tx, call.clinic_id, cid, "", mode);
      audit(call, tx, "contact.erase", "contact", cid, nullptr, after);
      return true;
    });
    call.reply(204, nullptr);
    return;
  }
  // Through the live conversation: its writes and the erasure stay in order, and the
  // clinic stops every actor of the patient.
  actors::staff_action a;
  a.what = actors::staff_action::kind::erase;
  a.clinic_id = call.clinic_id;
  a.conversation_id = found->conversation_ids.front();
  a.conversation_ids = found->conversation_ids;
  a.staff_user_id = call.p.user.id;
  a.erase_mode = mode;
  a.audit = std::make_shared<persistence::audit_entry>(
    api_worker::audit_row(call.r, &call.p, call.clinic_id, "contact.erase", "contact", cid, nullptr, after));
  commit_staff_action(call, std::move(a));
  call.reply(204, nullptr);
}

} // namespace

void add_privacy_handlers(api_handlers& h) {
  h["privacy.get"] = privacy_get;
  h["privacy.update"] = privacy_put;
  h["contacts.export"] = contact_export;
  h["contacts.erase"] = contact_erase;
}

} // namespace atendeai::api
