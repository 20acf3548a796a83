/// Admin API: clinics, context, working hours, channels, services, professionals and their absences, closures.
///
/// Every handler runs after the worker's checks (401/429/403/404 tenant): it validates the
/// body (422 naming the JSON path), writes in one transaction scoped to the clinic with
/// its audit row (before/after), and after the commit tells the router, which forgets the
/// clinic's cached channel accounts and has the live clinic actor reload its profile and
/// agenda: the next patient message is answered with the new data.
#include "api/call.hpp"
#include "api/clinic_rows.hpp"
#include "api/validation.hpp"

#include <cctype>
#include <cmath>
#include <stdexcept>

#include <caf/send.hpp>

#include "core/agenda.hpp"
#include "core/clinic.hpp"
#include "core/password.hpp"
#include "core/secret_box.hpp"
#include "persistence/calendar_feeds.hpp"
#include "persistence/catalogue.hpp"

namespace atendeai::api {

namespace {

using nlohmann::json;
using core::error_code;
namespace db = persistence;
using actors::reload_atom;

// -- helpers ------------------------------------------------------------------------------

/// A string member that must not be empty.
std::string required_text(const json& body, const char* field) {
  auto s = str(body, field);
  if (s.empty())
    fail(error_code::validation_failed, "must not be empty", field);
  return s;
}

/// A name member ("Clínica Exemplo", "Dra. Ana Souza"): not empty, no markup.
std::string name_member(const json& body, const char* field = "name") {
  required_text(body, field);
  return name_of(body, field);
}

/// Only the characters in `allowed` (besides ASCII letters and digits).
std::string plain_member(const json& body, const char* field, const char* allowed, const char* what) {
  auto s = str(body, field);
  for (unsigned char c : s)
    if (!std::isalnum(c) && std::string(allowed).find(static_cast<char>(c)) == std::string::npos)
      fail(error_code::validation_failed, std::string("may hold ") + what + " only", field);
  return s;
}

/// ?active=true|false, if given.
std::optional<bool> active_filter(const page_query& q) {
  auto it = q.rest.find("active");
  if (it == q.rest.end())
    return std::nullopt;
  if (it->second != "true" && it->second != "false")
    fail(error_code::validation_failed, "must be true or false", "active");
  return it->second == "true";
}

/// The clinic's profile parts the API validates against (context of its row).
core::clinic_profile profile_of(const json& row) {
  core::clinic_profile p;
  p.id = row.value("id", "");
  core::context_from_json(row.value("context", json::object()), p);
  return p;
}

/// The clinic's row, or 404.
json clinic_row(pqxx::transaction_base& tx, const std::string& clinic) {
  auto row = db::find_clinic(tx, clinic);
  if (!row)
    fail(error_code::not_found, "no such clinic");
  return *row;
}

/// Answers {"items"} of a catalogue listing: `list(tx)` gives every row, ?active= filters.
template <class F>
void reply_listing(api_call& call, F&& list) {
  auto q = parse_query(call.r.query, {"active"});
  auto active = active_filter(q);
  auto rows = in_clinic(call, call.clinic_id, list);
  auto items = json::array();
  for (auto& row : rows)
    if (!active || row["active"] == *active)
      items.push_back(row);
  call.reply(200, {{"items", items}});
}

/// Rewrites the row named by path parameter `param`: `find(tx, id)` gives it (or fails
/// 404), `update(tx, id, change(tx, before))` writes it; audited, then the clinic reloads.
template <class Find, class Update, class Change>
void change_row(api_call& call, const char* param, const char* what, const char* action, Find&& find,
                Update&& update, Change&& change, const char* conflict_field = "") {
  auto id = call.id_param(param, what);
  auto row = in_clinic(
    call, call.clinic_id,
    [&](pqxx::transaction_base& tx) {
      auto before = find(tx, id);
      auto after = update(tx, id, change(tx, before));
      audit(call, tx, action, what, id, before, after);
      return after;
    },
    conflict_field);
  changed(call, call.clinic_id);
  call.reply(200, row);
}

/// Inserts a row with `insert(tx)`, audited as `action` on a `what`; answers 201 with it.
template <class Insert>
void create_row(api_call& call, const char* what, const char* action, Insert&& insert, const char* conflict_field = "") {
  auto row = in_clinic(
    call, call.clinic_id,
    [&](pqxx::transaction_base& tx) {
      auto created = insert(tx);
      audit(call, tx, action, what, created["id"].template get<std::string>(), nullptr, created);
      return created;
    },
    conflict_field);
  changed(call, call.clinic_id);
  call.reply(201, row);
}

/// Deletes the row `erase(tx)` names (404 when it gives nothing), audited as `action` on
/// `what` `id`; answers {"status": status, what: the row as it was}.
template <class Erase>
void delete_row(api_call& call, const std::string& id, const char* what, const char* action, const char* status,
                Erase&& erase) {
  auto before = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    std::optional<json> gone = erase(tx);
    if (!gone)
      fail(error_code::not_found, std::string("no such ") + what);
    audit(call, tx, action, what, id, *gone, nullptr);
    return *gone;
  });
  changed(call, call.clinic_id);
  call.reply(200, {{"status", status}, {what, before}});
}

// -- clinics --------------------------------------------------------------------------------

/// The members of a clinic body (create: name required; update: all optional).
db::clinic_fields clinic_body(const json& body, db::clinic_fields f, core::clinic_profile profile) {
  if (body.contains("name"))
    f.name = name_member(body);
  if (body.contains("timezone")) {
    f.timezone = str(body, "timezone");
    if (!core::known_timezone(f.timezone))
      fail(error_code::validation_failed, "must be an IANA time zone such as America/Sao_Paulo", "timezone");
  }
  if (body.contains("language")) {
    f.language = str(body, "language");
    if (f.language != "pt-BR" && f.language != "en")
      fail(error_code::validation_failed, "must be pt-BR or en", "language");
  }
  if (body.contains("address"))
    f.address = str(body, "address");
  if (body.contains("phone")) {
    f.phone = str(body, "phone");
    if (f.phone.find_first_not_of("0123456789 +()-") != std::string::npos)
      fail(error_code::validation_failed, "may hold digits, spaces and + ( ) - only", "phone");
  }
  if (body.contains("context"))
    validated([&] { core::context_from_json(body["context"], profile); return 0; }, "context.");
  f.context = core::context_to_json(profile);
  return f;
}

const std::initializer_list<field_rule>& clinic_rules() {
  static const std::initializer_list<field_rule> rules = {
    {"name", ftype::string, false, 200},   {"timezone", ftype::string, false, 64},
    {"language", ftype::string, false, 8}, {"address", ftype::string, false, 300},
    {"phone", ftype::string, false, 40},   {"context", ftype::object, false, 0},
    {"active", ftype::boolean, false, 0},
  };
  return rules;
}

void clinics_list(api_call& call) {
  auto q = parse_query(call.r.query, {"active"});
  auto active = active_filter(q);
  if (call.p.role == core::role::super_admin) {
    auto page = in_clinic(call, db::nil_clinic, [&](pqxx::transaction_base& tx) {
      return db::list_all_clinics(tx, active, q.page, q.per_page);
    });
    return call.reply(200, page);
  }
  // Everyone else sees their own clinic only.
  auto own = call.p.user.clinic_id;
  auto row = in_clinic(call, own, [&](pqxx::transaction_base& tx) { return db::find_clinic(tx, own); });
  auto items = json::array();
  if (row && (!active || (*row)["active"] == *active) && q.page == 1)
    items.push_back(*row);
  call.reply(200, {{"items", items}, {"page", q.page}, {"per_page", q.per_page}, {"total", row ? 1 : 0}});
}

void clinics_create(api_call& call) {
  auto body = parse_body(call.r.body, clinic_rules());
  if (!body.contains("name"))
    fail(error_code::validation_failed, "is required", "name");
  if (body.contains("active"))
    fail(error_code::validation_failed, "a new clinic is active", "active");
  db::clinic_fields f;
  f.timezone = "America/Sao_Paulo";
  f.language = "pt-BR";
  f = clinic_body(body, f, core::clinic_profile{});
  auto id = core::random_uuid();
  auto created = in_clinic(call, id, [&](pqxx::transaction_base& tx) {
    auto row = db::insert_clinic(tx, id, f);
    call.w.audit(tx, call.r, &call.p, id, "clinic.create", "clinic", id, nullptr, row);
    return row;
  });
  call.reply(201, created);
}

void clinics_get(api_call& call) {
  no_body(call);
  auto row = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) { return clinic_row(tx, call.clinic_id); });
  call.reply(200, row);
}

/// Fields of a stored clinic row.
db::clinic_fields fields_of(const json& row) {
  db::clinic_fields f;
  f.name = row["name"].get<std::string>();
  f.timezone = row["timezone"].get<std::string>();
  f.language = row["language"].get<std::string>();
  f.address = row["address"].get<std::string>();
  f.phone = row["phone"].get<std::string>();
  f.context = row["context"];
  f.active = row["active"].get<bool>();
  return f;
}

/// Rewrites the call's clinic as `change(current row)` says, with its audit row.
template <class F>
json update_clinic_with(api_call& call, const char* action, F&& change) {
  auto after = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    auto before = clinic_row(tx, call.clinic_id);
    auto f = change(tx, before);
    auto row = db::update_clinic(tx, call.clinic_id, f);
    audit(call, tx, action, "clinic", call.clinic_id, before, row);
    return row;
  });
  changed(call, call.clinic_id);
  return after;
}

/// Services whose duration is not a multiple of a new slot size refuse the change.
void check_slot_fits_services(pqxx::transaction_base& tx, const std::string& clinic, int slot, const char* field) {
  for (auto& s : db::list_services(tx, clinic, false))
    if (s["duration_minutes"].get<int>() % slot != 0)
      fail(error_code::validation_failed,
           "service '" + s["name"].get<std::string>() + "' lasts " + std::to_string(s["duration_minutes"].get<int>())
             + " minutes, not a multiple of " + std::to_string(slot),
           field);
}

void clinics_update(api_call& call) {
  auto body = parse_body(call.r.body, clinic_rules());
  if (body.contains("active") && call.p.role != core::role::super_admin)
    fail(error_code::forbidden, "only a super admin may activate or deactivate a clinic", "active");
  auto row = update_clinic_with(call, "clinic.update", [&](pqxx::transaction_base& tx, const json& before) {
    auto profile = profile_of(before);
    auto f = clinic_body(body, fields_of(before), profile);
    if (body.contains("active"))
      f.active = body["active"].get<bool>();
    int slot = f.context["scheduling_policies"]["slot_duration_minutes"].get<int>();
    if (slot != profile.policy.slot_duration_minutes)
      check_slot_fits_services(tx, call.clinic_id, slot, "context.scheduling_policies.slot_duration_minutes");
    return f;
  });
  call.reply(200, row);
}

void clinics_deactivate(api_call& call) {
  no_body(call);
  auto row = update_clinic_with(call, "clinic.deactivate", [&](pqxx::transaction_base&, const json& before) {
    auto f = fields_of(before);
    f.active = false;
    return f;
  });
  call.reply(200, row);
}

// -- context and working hours ------------------------------------------------------------

void context_get(api_call& call) {
  no_body(call);
  auto row = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) { return clinic_row(tx, call.clinic_id); });
  auto out = core::context_to_json(profile_of(row));
  out["clinic_id"] = call.clinic_id;
  call.reply(200, out);
}

void context_update(api_call& call) {
  auto body = parse_body(call.r.body, {{"clinic_id", ftype::string, false, 36},
                                       {"ai_personality", ftype::object, false, 0},
                                       {"ai_behavior", ftype::object, false, 0},
                                       {"working_hours", ftype::object, false, 0},
                                       {"scheduling_policies", ftype::object, false, 0}});
  if (body.contains("clinic_id") && lower(str(body, "clinic_id")) != call.clinic_id)
    fail(error_code::validation_failed, "must be this clinic's id (or absent)", "clinic_id");
  body.erase("clinic_id");
  auto row = update_clinic_with(call, "clinic.context.update", [&](pqxx::transaction_base& tx, const json& before) {
    auto profile = profile_of(before);
    auto slot = profile.policy.slot_duration_minutes;
    validated([&] { core::context_from_json(body, profile); return 0; });
    if (profile.policy.slot_duration_minutes != slot)
      check_slot_fits_services(tx, call.clinic_id, profile.policy.slot_duration_minutes,
                               "scheduling_policies.slot_duration_minutes");
    auto f = fields_of(before);
    f.context = core::context_to_json(profile);
    return f;
  });
  auto out = row["context"];
  out["clinic_id"] = call.clinic_id;
  call.reply(200, out);
}

json hours_answer(const std::string& clinic, const json& row) {
  return {{"clinic_id", clinic}, {"working_hours", core::hours_to_json(profile_of(row).working_hours)}};
}

void hours_get(api_call& call) {
  no_body(call);
  auto row = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) { return clinic_row(tx, call.clinic_id); });
  call.reply(200, hours_answer(call.clinic_id, row));
}

void hours_update(api_call& call) {
  auto body = parse_body(call.r.body, {{"working_hours", ftype::object, true, 0}});
  auto hours = validated([&] { return core::hours_from_json(body["working_hours"], "working_hours"); });
  auto row = update_clinic_with(call, "clinic.hours.update", [&](pqxx::transaction_base&, const json& before) {
    auto profile = profile_of(before);
    profile.working_hours = hours;
    auto f = fields_of(before);
    f.context = core::context_to_json(profile);
    return f;
  });
  call.reply(200, hours_answer(call.clinic_id, row));
}

// -- channels -------------------------------------------------------------------------------

void channels_list(api_call& call) {
  no_body(call);
  auto items = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    return db::list_channels(tx, call.clinic_id);
  });
  call.reply(200, {{"items", items}});
}

void channels_create(api_call& call) {
  auto body = parse_body(call.r.body, {{"channel", ftype::string, false, 16},
                                       {"phone_number_id", ftype::string, true, 64},
                                       {"access_token", ftype::string, false, 1024}});
  if (body.contains("channel") && str(body, "channel") != "whatsapp")
    fail(error_code::validation_failed, "must be whatsapp", "channel");
  required_text(body, "phone_number_id");
  auto account = plain_member(body, "phone_number_id", "-_", "letters, digits, - and _");
  // Sealed under the data key before it reaches the database (as given without a key).
  auto token = core::stored_secret(call.w.node->data_key.get(),
                                   plain_member(body, "access_token", "-_.", "letters, digits, - _ and ."));
  create_row(
    call, "channel", "channel.create",
    [&](pqxx::transaction_base& tx) { return db::insert_channel(tx, call.clinic_id, "whatsapp", account, token); },
    "phone_number_id");
}

void channels_delete(api_call& call) {
  no_body(call);
  auto id = call.id_param("chid", "channel");
  delete_row(call, id, "channel", "channel.delete", "disconnected",
             [&](pqxx::transaction_base& tx) { return db::delete_channel(tx, call.clinic_id, id); });
}

// -- services -------------------------------------------------------------------------------

const std::initializer_list<field_rule>& service_rules() {
  static const std::initializer_list<field_rule> rules = {
    {"name", ftype::string, false, 100},          {"duration_minutes", ftype::integer, false, 0},
    {"price", ftype::number, false, 0},           {"price_cents", ftype::integer, false, 0},
    {"active", ftype::boolean, false, 0},         {"name_en", ftype::string, false, 100},
  };
  return rules;
}

constexpr int64_t max_price_cents = 100'000'000; // R$ 1,000,000.00

/// The price of a body in cents: price (a number of reais, at most 2 decimals) or price_cents.
std::optional<int64_t> price_of(const json& body) {
  if (body.contains("price") && body.contains("price_cents"))
    fail(error_code::validation_failed, "give price or price_cents, not both", "price_cents");
  if (body.contains("price_cents")) {
    auto c = body["price_cents"].get<int64_t>();
    if (c < 0 || c > max_price_cents)
      fail(error_code::validation_failed, "must be between 0 and " + std::to_string(max_price_cents), "price_cents");
    return c;
  }
  if (body.contains("price")) {
    auto v = body["price"].get<double>();
    if (!std::isfinite(v) || v < 0 || v * 100 > static_cast<double>(max_price_cents))
      fail(error_code::validation_failed, "must be between 0 and 1000000", "price");
    auto c = std::llround(v * 100);
    if (std::fabs(v * 100 - static_cast<double>(c)) > 1e-6)
      fail(error_code::validation_failed, "must have at most 2 decimals", "price");
    return c;
  }
  return std::nullopt;
}

/// The members of a service body over `f`, checked against the clinic's slot size.
db::service_fields service_body(pqxx::transaction_base& tx, api_call& call, const json& body, db::service_fields f) {
  if (body.contains("name"))
    f.name = required_text(body, "name");
  if (body.contains("name_en")) // the English name; "" removes it
    f.name_en = str(body, "name_en").empty() ? std::string() : required_text(body, "name_en");
  if (auto c = price_of(body))
    f.price_cents = *c;
  if (body.contains("active"))
    f.active = body["active"].get<bool>();
  if (body.contains("duration_minutes")) {
    auto d = body["duration_minutes"].get<int64_t>();
    if (d < 5 || d > 720)
      fail(error_code::validation_failed, "must be between 5 and 720", "duration_minutes");
    f.duration_minutes = static_cast<int>(d);
  }
  auto slot = profile_of(clinic_row(tx, call.clinic_id)).policy.slot_duration_minutes;
  if (f.duration_minutes % slot != 0)
    fail(error_code::validation_failed,
         "must be a multiple of the clinic's slot_duration_minutes (" + std::to_string(slot) + ")", "duration_minutes");
  return f;
}

void services_list(api_call& call) {
  reply_listing(call, [&](pqxx::transaction_base& tx) { return db::list_services(tx, call.clinic_id, true); });
}

void services_create(api_call& call) {
  auto body = parse_body(call.r.body, service_rules());
  if (!body.contains("name"))
    fail(error_code::validation_failed, "is required", "name");
  if (!body.contains("duration_minutes"))
    fail(error_code::validation_failed, "is required", "duration_minutes");
  if (!body.contains("price") && !body.contains("price_cents"))
    fail(error_code::validation_failed, "is required (or price_cents)", "price");
  create_row(
    call, "service", "service.create",
    [&](pqxx::transaction_base& tx) { return db::insert_service(tx, call.clinic_id, service_body(tx, call, body, {})); },
    "name");
}

json service_row(pqxx::transaction_base& tx, api_call& call, const std::string& id) {
  auto row = db::find_service(tx, call.clinic_id, id);
  if (!row)
    fail(error_code::not_found, "no such service");
  return *row;
}

db::service_fields service_fields_of(const json& row) {
  db::service_fields f;
  f.name = row["name"].get<std::string>();
  f.name_en = row.value("name_en", json()).is_string() ? row["name_en"].get<std::string>() : std::string();
  f.duration_minutes = row["duration_minutes"].get<int>();
  f.price_cents = row["price_cents"].get<int64_t>();
  f.active = row["active"].get<bool>();
  return f;
}

void services_get(api_call& call) {
  no_body(call);
  auto id = call.id_param("sid", "service");
  call.reply(200, in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) { return service_row(tx, call, id); }));
}

/// Rewrites a service as `change(tx, current row)` says, with its audit row.
template <class F>
void service_change(api_call& call, const char* action, F&& change) {
  change_row(
    call, "sid", "service", action, [&](pqxx::transaction_base& tx, const std::string& id) { return service_row(tx, call, id); },
    [&](pqxx::transaction_base& tx, const std::string& id, const db::service_fields& f) {
      return db::update_service(tx, call.clinic_id, id, f);
    },
    change, "name");
}

void services_update(api_call& call) {
  auto body = parse_body(call.r.body, service_rules());
  service_change(call, "service.update", [&](pqxx::transaction_base& tx, const json& before) {
    return service_body(tx, call, body, service_fields_of(before));
  });
}

void services_delete(api_call& call) {
  no_body(call);
  service_change(call, "service.deactivate", [&](pqxx::transaction_base&, const json& before) {
    auto f = service_fields_of(before);
    f.active = false;
    return f;
  });
}

// -- professionals ----------------------------------------------------------------------------

const std::initializer_list<field_rule>& professional_rules() {
  static const std::initializer_list<field_rule> rules = {
    {"name", ftype::string, false, 200},          {"crm", ftype::string, false, 40},
    {"specialties", ftype::array, false, 20},     {"service_ids", ftype::array, false, 100},
    {"working_hours", ftype::object, false, 0},   {"scheduling_policies", ftype::object, false, 0},
    {"active", ftype::boolean, false, 0},
  };
  return rules;
}

/// Parses a professional body; `cleared` gets the members given as null (working_hours,
/// scheduling_policies: back to the clinic's).
json professional_json_body(const std::string& text, std::vector<std::string>& cleared) {
  auto raw = json::parse(text, nullptr, false);
  if (raw.is_object())
    for (const char* k : {"working_hours", "scheduling_policies"})
      if (raw.contains(k) && raw[k].is_null()) {
        cleared.push_back(k);
        raw.erase(k);
      }
  return parse_body(raw.is_discarded() ? text : raw.dump(), professional_rules());
}

/// The members of a professional body over `f`.
db::professional_fields professional_body(pqxx::transaction_base& tx, api_call& call, const json& body,
                                          const std::vector<std::string>& cleared, db::professional_fields f) {
  if (body.contains("name"))
    f.name = name_member(body);
  if (body.contains("crm"))
    f.crm = plain_member(body, "crm", " -/.", "letters, digits, spaces and - / .");
  if (body.contains("active"))
    f.active = body["active"].get<bool>();
  if (body.contains("specialties")) {
    f.specialties = json::array();
    for (size_t i = 0; i < body["specialties"].size(); ++i) {
      auto& s = body["specialties"][i];
      auto field = "specialties[" + std::to_string(i) + "]";
      if (!s.is_string() || s.get<std::string>().empty() || s.get<std::string>().size() > 80)
        fail(error_code::validation_failed, "must be a text of 1 to 80 bytes", field);
      name_of(json{{field, s}}, field.c_str()); // the characters of a name
      f.specialties.push_back(s);
    }
  }
  if (body.contains("service_ids")) {
    f.service_ids = json::array();
    for (size_t i = 0; i < body["service_ids"].size(); ++i) {
      auto& s = body["service_ids"][i];
      auto field = "service_ids[" + std::to_string(i) + "]";
      auto id = s.is_string() ? lower(s.get<std::string>()) : std::string();
      if (!valid_uuid(id) || db::count_services(tx, call.clinic_id, json::array({id})) != 1)
        fail(error_code::validation_failed, "is not a service of this clinic", field);
      f.service_ids.push_back(id);
    }
  }
  if (body.contains("working_hours"))
    f.hours = core::hours_to_json(validated([&] { return core::hours_from_json(body["working_hours"], "working_hours"); }));
  if (body.contains("scheduling_policies")) {
    auto base = profile_of(clinic_row(tx, call.clinic_id)).policy;
    validated([&] { return core::policy_from_json(body["scheduling_policies"], base, "scheduling_policies"); });
    f.policy = body["scheduling_policies"]; // the overrides as given (validated)
  }
  for (auto& k : cleared)
    (k == "working_hours" ? f.hours : f.policy) = nullptr;
  return f;
}

db::professional_fields professional_fields_of(const json& row) {
  db::professional_fields f;
  f.name = row["name"].get<std::string>();
  f.crm = row["crm"].get<std::string>();
  f.specialties = row["specialties"];
  f.service_ids = row["service_ids"];
  f.hours = row["working_hours"];
  f.policy = row["scheduling_policies"];
  f.active = row["active"].get<bool>();
  return f;
}

json professional_row(pqxx::transaction_base& tx, api_call& call, const std::string& id) {
  auto row = db::find_professional(tx, call.clinic_id, id);
  if (!row)
    fail(error_code::not_found, "no such professional");
  return *row;
}

void professionals_list(api_call& call) {
  reply_listing(call, [&](pqxx::transaction_base& tx) { return db::list_professionals(tx, call.clinic_id, true); });
}

void professionals_create(api_call& call) {
  std::vector<std::string> cleared;
  auto body = professional_json_body(call.r.body, cleared);
  if (!body.contains("name"))
    fail(error_code::validation_failed, "is required", "name");
  create_row(call, "professional", "professional.create", [&](pqxx::transaction_base& tx) {
    return db::insert_professional(tx, call.clinic_id, professional_body(tx, call, body, cleared, {}));
  });
}

void professionals_get(api_call& call) {
  no_body(call);
  auto id = call.id_param("pid", "professional");
  call.reply(200, in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
               auto row = professional_row(tx, call, id);
               row["ics_url"] = feed_url(call, persistence::feed_token(tx, call.clinic_id, id)); // the secret feed
               return row;
             }));
}

/// Rewrites a professional as `change(tx, current row)` says, with its audit row.
template <class F>
void professional_change(api_call& call, const char* action, F&& change) {
  change_row(
    call, "pid", "professional", action,
    [&](pqxx::transaction_base& tx, const std::string& id) { return professional_row(tx, call, id); },
    [&](pqxx::transaction_base& tx, const std::string& id, const db::professional_fields& f) {
      return db::update_professional(tx, call.clinic_id, id, f);
    },
    change);
}

void professionals_update(api_call& call) {
  std::vector<std::string> cleared;
  auto body = professional_json_body(call.r.body, cleared);
  professional_change(call, "professional.update", [&](pqxx::transaction_base& tx, const json& before) {
    return professional_body(tx, call, body, cleared, professional_fields_of(before));
  });
}

void professionals_delete(api_call& call) {
  no_body(call);
  professional_change(call, "professional.deactivate", [&](pqxx::transaction_base&, const json& before) {
    auto f = professional_fields_of(before);
    f.active = false;
    return f;
  });
}

// -- absences and closures ----------------------------------------------------------------------

constexpr int64_t max_span_days = 366;

void absences_list(api_call& call) {
  no_body(call);
  auto pid = call.id_param("pid", "professional");
  auto items = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    professional_row(tx, call, pid);
    return db::list_absences(tx, call.clinic_id, pid);
  });
  call.reply(200, {{"items", items}});
}

/// An ISO-8601 instant with its offset ("2026-12-01T08:00:00-03:00").
core::instant instant_member(const json& body, const char* field) {
  auto t = core::parse_iso(str(body, field));
  if (!t)
    fail(error_code::validation_failed, "must be an ISO-8601 date and time with its offset (2026-12-01T08:00:00-03:00)",
         field);
  return *t;
}

void absences_create(api_call& call) {
  auto pid = call.id_param("pid", "professional");
  auto body = parse_body(call.r.body, {{"starts_at", ftype::string, true, 40},
                                       {"ends_at", ftype::string, true, 40},
                                       {"reason", ftype::string, false, 200}});
  auto from = instant_member(body, "starts_at");
  auto to = instant_member(body, "ends_at");
  if (to <= from)
    fail(error_code::validation_failed, "must be after starts_at", "ends_at");
  if (to - from > std::chrono::hours(24 * max_span_days))
    fail(error_code::validation_failed, "an absence spans at most 366 days", "ends_at");
  create_row(call, "absence", "absence.create", [&](pqxx::transaction_base& tx) {
    professional_row(tx, call, pid);
    return db::insert_absence(tx, call.clinic_id, pid, core::format_iso(from), core::format_iso(to), str(body, "reason"));
  });
}

void absences_delete(api_call& call) {
  no_body(call);
  auto pid = call.id_param("pid", "professional");
  auto id = call.id_param("abid", "absence");
  delete_row(call, id, "absence", "absence.delete", "deleted",
             [&](pqxx::transaction_base& tx) { return db::delete_absence(tx, call.clinic_id, pid, id); });
}

void closures_list(api_call& call) {
  no_body(call);
  auto items = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    return db::list_closures(tx, call.clinic_id);
  });
  call.reply(200, {{"items", items}});
}

/// A YYYY-MM-DD member.
date::year_month_day date_member(const json& body, const char* field) {
  auto d = core::parse_ymd(str(body, field));
  if (!d)
    fail(error_code::validation_failed, "must be a date YYYY-MM-DD", field);
  return *d;
}

void closures_create(api_call& call) {
  auto body = parse_body(call.r.body, {{"starts_on", ftype::string, true, 10},
                                       {"ends_on", ftype::string, true, 10},
                                       {"reason", ftype::string, false, 200}});
  auto from = date_member(body, "starts_on");
  auto to = date_member(body, "ends_on");
  if (to < from)
    fail(error_code::validation_failed, "must be on or after starts_on", "ends_on");
  if ((date::sys_days{to} - date::sys_days{from}).count() >= max_span_days)
    fail(error_code::validation_failed, "a closure spans at most 366 days", "ends_on");
  create_row(call, "closure", "closure.create", [&](pqxx::transaction_base& tx) {
    return db::insert_closure(tx, call.clinic_id, core::format_ymd(from), core::format_ymd(to), str(body, "reason"));
  });
}

void closures_delete(api_call& call) {
  no_body(call);
  auto id = call.id_param("clid", "closure");
  delete_row(call, id, "closure", "closure.delete", "deleted",
             [&](pqxx::transaction_base& tx) { return db::delete_closure(tx, call.clinic_id, id); });
}

} // namespace

void add_catalogue_handlers(api_handlers& h) {
  h["clinics.list"] = clinics_list;
  h["clinics.create"] = clinics_create;
  h["clinics.get"] = clinics_get;
  h["clinics.update"] = clinics_update;
  h["clinics.deactivate"] = clinics_deactivate;
  h["clinics.context.get"] = context_get;
  h["clinics.context.update"] = context_update;
  h["clinics.hours.get"] = hours_get;
  h["clinics.hours.update"] = hours_update;
  h["channels.list"] = channels_list;
  h["channels.create"] = channels_create;
  h["channels.delete"] = channels_delete;
  h["services.list"] = services_list;
  h["services.create"] = services_create;
  h["services.get"] = services_get;
  h["services.update"] = services_update;
  h["services.delete"] = services_delete;
  h["professionals.list"] = professionals_list;
  h["professionals.create"] = professionals_create;
  h["professionals.get"] = professionals_get;
  h["professionals.update"] = professionals_update;
  h["professionals.delete"] = professionals_delete;
  h["absences.list"] = absences_list;
  h["absences.create"] = absences_create;
  h["absences.delete"] = absences_delete;
  h["closures.list"] = closures_list;
  h["closures.create"] = closures_create;
  h["closures.delete"] = closures_delete;
}

} // namespace atendeai::api
