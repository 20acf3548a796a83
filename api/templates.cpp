/// Admin API: the clinic's WhatsApp message templates (name, Meta language code,
/// category, body with numbered parameters, quick-reply buttons), which reminders and
/// staff members send outside the 24-hour window.
///
/// As api/faq.cpp: every handler runs after the worker's checks (401/429/403/404
/// tenant), validates the body (422 naming the member, by core::validate_template),
/// writes in one transaction scoped to the clinic with its audit row (before/after);
/// a name and language the clinic already has answers 409 naming `name`. Templates are
/// read from PostgreSQL when sent, so no live actor has to reload.
#include "api/call.hpp"
#include "api/clinic_rows.hpp"
#include "api/validation.hpp"

#include "core/templates.hpp"
#include "persistence/templates.hpp"

namespace atendeai::api {

namespace {

using nlohmann::json;
using core::error_code;
namespace db = persistence;

const std::initializer_list<field_rule>& template_rules() {
  static const std::initializer_list<field_rule> rules = {
    {"name", ftype::string, false, core::max_template_name_bytes},
    {"language", ftype::string, false, 16},
    {"category", ftype::string, false, 16},
    {"body", ftype::text, false, core::max_template_body_bytes},
    {"buttons", ftype::array, false, core::max_template_buttons},
  };
  return rules;
}

/// The members of a template body over `t`, checked by Meta's rules as a whole.
core::message_template template_body(const json& body, core::message_template t) {
  auto take = [&body](const char* field, std::string& into) {
    if (body.contains(field))
      into = str(body, field);
  };
  take("name", t.name);
  take("language", t.language);
  take("category", t.category);
  take("body", t.body);
  if (body.contains("buttons")) {
    t.buttons.clear();
    auto& buttons = body["buttons"];
    for (size_t i = 0; i < buttons.size(); ++i) {
      if (!buttons[i].is_string())
        fail(error_code::validation_failed, "must be a string", "buttons[" + std::to_string(i) + "]");
      t.buttons.push_back(buttons[i].get<std::string>());
    }
  }
  if (auto problem = core::validate_template(t))
    fail(error_code::validation_failed, problem->message, problem->field);
  return t;
}

core::message_template template_of(const json& row) {
  core::message_template t;
  t.id = row["id"].get<std::string>();
  t.name = row["name"].get<std::string>();
  t.language = row["language"].get<std::string>();
  t.category = row["category"].get<std::string>();
  t.body = row["body"].get<std::string>();
  for (auto& b : row["buttons"])
    t.buttons.push_back(b.get<std::string>());
  return t;
}

json template_row(pqxx::transaction_base& tx, api_call& call, const std::string& id) {
  auto row = db::find_template_row(tx, call.clinic_id, id);
  if (!row)
    fail(error_code::not_found, "no such template");
  return *row;
}

void templates_list(api_call& call) {
  parse_query(call.r.query, {});
  auto items = in_clinic(call, call.clinic_id,
                         [&](pqxx::transaction_base& tx) { return db::list_templates(tx, call.clinic_id); });
  call.reply(200, {{"items", items}});
}

void templates_create(api_call& call) {
  auto body = parse_body(call.r.body, template_rules());
  for (auto field : {"name", "language", "category", "body"})
    if (!body.contains(field))
      fail(error_code::validation_failed, "is required", field);
  auto t = template_body(body, {});
  auto row = in_clinic(
    call, call.clinic_id,
    [&](pqxx::transaction_base& tx) {
      auto created = db::insert_template(tx, call.clinic_id, t);
      audit(call, tx, "template.create", "template", created["id"].get<std::string>(), nullptr, created);
      return created;
    },
    "name");
  call.reply(201, row);
}

void templates_get(api_call& call) {
  no_body(call);
  auto id = call.id_param("tid", "template");
  call.reply(200,
             in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) { return template_row(tx, call, id); }));
}

/// PUT: the members given replace the template's, the others stay.
void templates_update(api_call& call) {
  auto id = call.id_param("tid", "template");
  auto body = parse_body(call.r.body, template_rules());
  auto row = in_clinic(
    call, call.clinic_id,
    [&](pqxx::transaction_base& tx) {
      auto before = template_row(tx, call, id);
      auto after = db::update_template(tx, call.clinic_id, id, template_body(body, template_of(before)));
      if (!after)
        fail(error_code::not_found, "no such template");
      audit(call, tx, "template.update", "template", id, before, *after);
      return *after;
    },
    "name");
  call.reply(200, row);
}

void templates_delete(api_call& call) {
  auto id = call.id_param("tid", "template");
  no_body(call);
  auto before = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    auto gone = db::delete_template(tx, call.clinic_id, id);
    if (!gone)
      fail(error_code::not_found, "no such template");
    audit(call, tx, "template.delete", "template", id, *gone, nullptr);
    return *gone;
  });
  call.reply(200, {{"status", "deleted"}, {"template", before}});
}

} // namespace

void add_template_handlers(api_handlers& h) {
  h["templates.list"] = templates_list;
  h["templates.create"] = templates_create;
  h["templates.get"] = templates_get;
  h["templates.update"] = templates_update;
  h["templates.delete"] = templates_delete;
}

} // namespace atendeai::api
