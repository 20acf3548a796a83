#include "persistence/catalogue.hpp"

#include "persistence/json_rows.hpp"

namespace atendeai::persistence {

namespace {

using nlohmann::json;

// Each row as the API shows it, built by PostgreSQL (fixed SQL, values only as parameters).
constexpr const char* clinic_json =
  "jsonb_build_object('id', id, 'name', name, 'timezone', timezone, 'language', language, 'address', address, "
  "'phone', phone, 'active', active, 'context', context, 'created_at', created_at, 'updated_at', updated_at)::text";
constexpr const char* channel_json =
  "jsonb_build_object('id', id, 'channel', channel, 'phone_number_id', account_id, "
  "'has_token', coalesce(access_token, '') <> '', 'active', active, 'created_at', created_at)::text";
constexpr const char* service_json =
  "jsonb_build_object('id', id, 'name', name, 'name_en', name_en, 'duration_minutes', duration_minutes, 'price_cents', price_cents, "
  "'price', price_cents / 100.0, 'active', active, 'created_at', created_at, 'updated_at', updated_at)::text";
constexpr const char* professional_json =
  "jsonb_build_object('id', id, 'name', name, 'crm', crm, 'specialties', to_jsonb(specialties), "
  "'service_ids', to_jsonb(service_ids), 'working_hours', hours, 'scheduling_policies', policy, "
  "'active', active, 'created_at', created_at, 'updated_at', updated_at)::text";
constexpr const char* absence_json =
  "jsonb_build_object('id', id, 'professional_id', professional_id, 'starts_at', starts_at, 'ends_at', ends_at, "
  "'reason', reason, 'created_at', created_at)::text";
constexpr const char* closure_json =
  "jsonb_build_object('id', id, 'starts_on', starts_on, 'ends_on', ends_on, 'reason', reason, "
  "'created_at', created_at)::text";

std::string sql(const char* head, const char* row, const char* tail) {
  return std::string(head) + row + tail;
}

/// A JSON value as a jsonb parameter (NULL for null).
std::optional<std::string> jsonb(const json& j) {
  if (j.is_null())
    return std::nullopt;
  return j.dump();
}

} // namespace

// -- clinics ----------------------------------------------------------------------------

std::optional<json> find_clinic(pqxx::transaction_base& tx, const std::string& clinic_id) {
  return maybe_json_row(tx.exec_params(sql("SELECT ", clinic_json, " FROM atendeai.clinics WHERE id = $1"), clinic_id));
}

json insert_clinic(pqxx::transaction_base& tx, const std::string& clinic_id, const clinic_fields& f) {
  return json_row(tx.exec_params(sql("INSERT INTO atendeai.clinics (id, name, timezone, language, address, phone, context, "
                                     "active) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8) RETURNING ",
                                     clinic_json, ""),
                                 clinic_id, f.name, f.timezone, f.language, f.address, f.phone, f.context.dump(),
                                 f.active));
}

json update_clinic(pqxx::transaction_base& tx, const std::string& clinic_id, const clinic_fields& f) {
  return json_row(tx.exec_params(sql("UPDATE atendeai.clinics SET name = $2, timezone = $3, language = $4, address = $5, "
                                     "phone = $6, context = $7::jsonb, active = $8, updated_at = now() WHERE id = $1 "
                                     "RETURNING ",
                                     clinic_json, ""),
                                 clinic_id, f.name, f.timezone, f.language, f.address, f.phone, f.context.dump(),
                                 f.active));
}

json list_all_clinics(pqxx::transaction_base& tx, std::optional<bool> active, int page, int per_page) {
  const std::string query = sql("SELECT ", clinic_json, ", total FROM atendeai.list_clinics($1, $2, $3)");
  auto r = tx.exec_params(query, active, per_page, static_cast<int64_t>(page - 1) * per_page);
  int64_t total = 0;
  if (!r.empty())
    total = r[0][1].as<int64_t>();
  else if (page > 1) // past the end: count with the first row
    if (auto first = tx.exec_params(query, active, 1, int64_t{0}); !first.empty())
      total = first[0][1].as<int64_t>();
  return {{"items", json_rows(r)}, {"page", page}, {"per_page", per_page}, {"total", total}};
}

// -- channel accounts -------------------------------------------------------------------

json list_channels(pqxx::transaction_base& tx, const std::string& clinic_id) {
  return json_rows(tx.exec_params(
    sql("SELECT ", channel_json, " FROM atendeai.clinic_channels WHERE clinic_id = $1 ORDER BY created_at, id"),
    clinic_id));
}

std::string channel_token(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& channel,
                          const std::string& account_id) {
  auto r = tx.exec_params("SELECT coalesce(access_token, '') FROM atendeai.clinic_channels "
                          "WHERE clinic_id = $1 AND channel = $2 AND account_id = $3",
                          clinic_id, channel, account_id);
  return r.empty() ? std::string{} : r[0][0].as<std::string>();
}

json insert_channel(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& channel,
                    const std::string& account_id, const std::string& access_token) {
  return json_row(tx.exec_params(sql("INSERT INTO atendeai.clinic_channels (clinic_id, channel, account_id, access_token) "
                                     "VALUES ($1, $2, $3, nullif($4, '')) RETURNING ",
                                     channel_json, ""),
                                 clinic_id, channel, account_id, access_token));
}

std::optional<json> delete_channel(pqxx::transaction_base& tx, const std::string& clinic_id,
                                   const std::string& channel_id) {
  return maybe_json_row(tx.exec_params(
    sql("DELETE FROM atendeai.clinic_channels WHERE clinic_id = $1 AND id = $2 RETURNING ", channel_json, ""),
    clinic_id, channel_id));
}

// -- services ---------------------------------------------------------------------------

json list_services(pqxx::transaction_base& tx, const std::string& clinic_id, bool include_inactive) {
  return json_rows(tx.exec_params(sql("SELECT ", service_json,
                                      " FROM atendeai.services WHERE clinic_id = $1 AND (active OR $2) ORDER BY name, id"),
                                  clinic_id, include_inactive));
}

std::optional<json> find_service(pqxx::transaction_base& tx, const std::string& clinic_id,
                                 const std::string& service_id) {
  return maybe_json_row(tx.exec_params(
    sql("SELECT ", service_json, " FROM atendeai.services WHERE clinic_id = $1 AND id = $2"), clinic_id, service_id));
}

json insert_service(pqxx::transaction_base& tx, const std::string& clinic_id, const service_fields& f) {
  return json_row(tx.exec_params(sql("INSERT INTO atendeai.services (clinic_id, name, duration_minutes, price_cents, "
                                     "active, name_en) VALUES ($1, $2, $3, $4, $5, nullif($6, '')) RETURNING ",
                                     service_json, ""),
                                 clinic_id, f.name, f.duration_minutes, f.price_cents, f.active, f.name_en));
}

json update_service(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& service_id,
                    const service_fields& f) {
  return json_row(tx.exec_params(sql("UPDATE atendeai.services SET name = $3, duration_minutes = $4, price_cents = $5, "
                                     "active = $6, name_en = nullif($7, ''), updated_at = now() "
                                     "WHERE clinic_id = $1 AND id = $2 RETURNING ",
                                     service_json, ""),
                                 clinic_id, service_id, f.name, f.duration_minutes, f.price_cents, f.active, f.name_en));
}

int count_services(pqxx::transaction_base& tx, const std::string& clinic_id, const json& ids) {
  return tx
    .exec_params1("SELECT count(*) FROM atendeai.services WHERE clinic_id = $1 "
                  "AND id::text IN (SELECT jsonb_array_elements_text($2::jsonb))",
                  clinic_id, ids.dump())[0]
    .as<int>();
}

// -- professionals ----------------------------------------------------------------------

json list_professionals(pqxx::transaction_base& tx, const std::string& clinic_id, bool include_inactive) {
  return json_rows(tx.exec_params(
    sql("SELECT ", professional_json,
        " FROM atendeai.professionals WHERE clinic_id = $1 AND (active OR $2) ORDER BY name, id"),
    clinic_id, include_inactive));
}

std::optional<json> find_professional(pqxx::transaction_base& tx, const std::string& clinic_id,
                                      const std::string& professional_id) {
  return maybe_json_row(tx.exec_params(
    sql("SELECT ", professional_json, " FROM atendeai.professionals WHERE clinic_id = $1 AND id = $2"), clinic_id,
    professional_id));
}

json insert_professional(pqxx::transaction_base& tx, const std::string& clinic_id, const professional_fields& f) {
  return json_row(tx.exec_params(
    sql("INSERT INTO atendeai.professionals (clinic_id, name, crm, specialties, service_ids, hours, policy, active) "
        "VALUES ($1, $2, $3, ARRAY(SELECT jsonb_array_elements_text($4::jsonb)), "
        "ARRAY(SELECT jsonb_array_elements_text($5::jsonb)::uuid), $6::jsonb, $7::jsonb, $8) RETURNING ",
        professional_json, ""),
    clinic_id, f.name, f.crm, f.specialties.dump(), f.service_ids.dump(), jsonb(f.hours), jsonb(f.policy), f.active));
}

json update_professional(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& professional_id,
                         const professional_fields& f) {
  return json_row(tx.exec_params(
    sql("UPDATE atendeai.professionals SET name = $3, crm = $4, "
        "specialties = ARRAY(SELECT jsonb_array_elements_text($5::jsonb)), "
        "service_ids = ARRAY(SELECT jsonb_array_elements_text($6::jsonb)::uuid), hours = $7::jsonb, "
        "policy = $8::jsonb, active = $9, updated_at = now() WHERE clinic_id = $1 AND id = $2 RETURNING ",
        professional_json, ""),
    clinic_id, professional_id, f.name, f.crm, f.specialties.dump(), f.service_ids.dump(), jsonb(f.hours),
    jsonb(f.policy), f.active));
}

// -- absences and closures --------------------------------------------------------------

json list_absences(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& professional_id) {
  return json_rows(tx.exec_params(sql("SELECT ", absence_json,
                                      " FROM atendeai.professional_absences WHERE clinic_id = $1 AND professional_id = $2 "
                                      "ORDER BY starts_at, id"),
                                  clinic_id, professional_id));
}

json insert_absence(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& professional_id,
                    const std::string& starts_at, const std::string& ends_at, const std::string& reason) {
  return json_row(tx.exec_params(sql("INSERT INTO atendeai.professional_absences (clinic_id, professional_id, starts_at, "
                                     "ends_at, reason) VALUES ($1, $2, $3::timestamptz, $4::timestamptz, $5) RETURNING ",
                                     absence_json, ""),
                                 clinic_id, professional_id, starts_at, ends_at, reason));
}

std::optional<json> delete_absence(pqxx::transaction_base& tx, const std::string& clinic_id,
                                   const std::string& professional_id, const std::string& absence_id) {
  return maybe_json_row(tx.exec_params(sql("DELETE FROM atendeai.professional_absences WHERE clinic_id = $1 AND "
                                           "professional_id = $2 AND id = $3 RETURNING ",
                                           absence_json, ""),
                                       clinic_id, professional_id, absence_id));
}

json list_closures(pqxx::transaction_base& tx, const std::string& clinic_id) {
  return json_rows(tx.exec_params(
    sql("SELECT ", closure_json, " FROM atendeai.closures WHERE clinic_id = $1 ORDER BY starts_on, id"), clinic_id));
}

json insert_closure(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& starts_on,
                    const std::string& ends_on, const std::string& reason) {
  return json_row(tx.exec_params(sql("INSERT INTO atendeai.closures (clinic_id, starts_on, ends_on, reason) "
                                     "VALUES ($1, $2::date, $3::date, $4) RETURNING ",
                                     closure_json, ""),
                                 clinic_id, starts_on, ends_on, reason));
}

std::optional<json> delete_closure(pqxx::transaction_base& tx, const std::string& clinic_id,
                                   const std::string& closure_id) {
  return maybe_json_row(tx.exec_params(
    sql("DELETE FROM atendeai.closures WHERE clinic_id = $1 AND id = $2 RETURNING ", closure_json, ""), clinic_id,
    closure_id));
}

} // namespace atendeai::persistence
