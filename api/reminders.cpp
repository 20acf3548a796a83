/// Admin API: a clinic's appointment reminders (GET/PUT /api/v1/clinics/{id}/reminders):
/// on or off, how long before the appointment (offsets in minutes), the WhatsApp template
/// sent outside the 24-hour window (registered: 422 naming template.name otherwise), the
/// quiet hours and the notices of staff changes. A change plans the reminders of
/// every active future appointment again (reminders of removed offsets are skipped when
/// due), in the transaction that stores it, with its audit row.
#include "api/call.hpp"
#include "api/clinic_rows.hpp"
#include "api/validation.hpp"

#include "core/reminders.hpp"
#include "persistence/jobs.hpp"

namespace atendeai::api {

namespace {

using nlohmann::json;

void reminders_get(api_call& call) {
  no_body(call);
  auto s = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    return persistence::load_reminder_settings(tx, call.clinic_id);
  });
  call.reply(200, core::to_json(s));
}

/// PUT: the members given replace the clinic's, the others stay.
void reminders_put(api_call& call) {
  auto body = parse_body(call.r.body, {{"enabled", ftype::boolean, false, 0},
                                       {"offsets_minutes", ftype::array, false, 5},
                                       {"template", ftype::object, false, 0},
                                       {"quiet_hours", ftype::object, false, 0},
                                       {"notify_staff_changes", ftype::object, false, 0},
                                       {"no_show_after_minutes", ftype::integer, false, 0, true},
                                       {"require_opt_in", ftype::boolean, false, 0}});
  auto now = call.w.node->clock->now();
  auto after = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    auto before = persistence::load_reminder_settings(tx, call.clinic_id);
    auto s = validated([&] { return core::reminder_settings_from_json(body, before); });
    // A template named here must be registered (outside the window nothing else is sent).
    if (body.contains("template"))
      registered_template(tx, call.clinic_id, s.template_name, s.template_language, "template.name");
    if (body.contains("notify_staff_changes") && body["notify_staff_changes"].contains("template"))
      registered_template(tx, call.clinic_id, s.notice_template_name, s.notice_template_language,
                          "notify_staff_changes.template.name");
    persistence::save_reminder_settings(tx, call.clinic_id, s);
    persistence::plan_reminders(tx, call.clinic_id, "", now);
    audit(call, tx, "reminders.update", "clinic", call.clinic_id, core::to_json(before), core::to_json(s));
    return s;
  });
  call.reply(200, core::to_json(after));
}

} // namespace

void add_reminder_handlers(api_handlers& h) {
  h["reminders.get"] = reminders_get;
  h["reminders.update"] = reminders_put;
}

} // namespace atendeai::api
