/// Admin API, LGPD (issue 21): the clinic's legal basis and privacy notice (GET/PUT
/// /api/v1/clinics/{id}/privacy), and a patient's data as one JSON document (GET
/// .../contacts/{cid}/export, the access and portability request of LGPD art. 18), whose
/// every read leaves an audit row naming the contact (GET /api/v1/audit?contact_id=).
#include "api/call.hpp"
#include "api/clinic_rows.hpp"
#include "api/validation.hpp"

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
  auto cid = call.id_param("cid", "contact");
  auto doc = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    auto found = persistence::export_contact(tx, call.clinic_id, cid);
    if (!found)
      fail(core::error_code::not_found, "no such contact");
    audit(call, tx, "contact.export", "contact", cid, nullptr, nullptr); // who read it, not what
    return *found;
  });
  call.reply(200, doc);
}

} // namespace

void add_privacy_handlers(api_handlers& h) {
  h["privacy.get"] = privacy_get;
  h["privacy.update"] = privacy_put;
  h["contacts.export"] = contact_export;
}

} // namespace atendeai::api
