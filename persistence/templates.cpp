#include "persistence/templates.hpp"

#include "persistence/json_rows.hpp"

namespace atendeai::persistence {

namespace {

using nlohmann::json;

// Each row as the API shows it, built by PostgreSQL (fixed SQL, values only as
// parameters); the parameter count is added from the body (core::parameter_count).
constexpr const char* template_json =
  "jsonb_build_object('id', id, 'name', name, 'language', language, 'category', category, 'body', body, "
  "'buttons', buttons, 'created_at', created_at, 'updated_at', updated_at)::text";

std::string sql(const char* head, const char* tail = "") {
  return std::string(head) + template_json + tail;
}

/// A row with its parameter count.
json shown(json row) {
  row["parameters"] = core::parameter_count(row["body"].get<std::string>());
  return row;
}

std::optional<json> shown(std::optional<json> row) {
  if (row)
    return shown(std::move(*row));
  return row;
}

} // namespace

json list_templates(pqxx::transaction_base& tx, const std::string& clinic_id) {
  auto rows = json_rows(tx.exec_params(
    sql("SELECT ", " FROM atendeai.message_templates WHERE clinic_id = $1 ORDER BY name, language"), clinic_id));
  for (auto& row : rows)
    row = shown(std::move(row));
  return rows;
}

std::optional<json> find_template_row(pqxx::transaction_base& tx, const std::string& clinic_id,
                                      const std::string& template_id) {
  return shown(maybe_json_row(tx.exec_params(
    sql("SELECT ", " FROM atendeai.message_templates WHERE clinic_id = $1 AND id = $2"), clinic_id, template_id)));
}

json insert_template(pqxx::transaction_base& tx, const std::string& clinic_id, const core::message_template& t) {
  return shown(json_row(tx.exec_params(sql("INSERT INTO atendeai.message_templates "
                                           "(clinic_id, name, language, category, body, buttons) "
                                           "VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING "),
                                       clinic_id, t.name, t.language, t.category, t.body, json(t.buttons).dump())));
}

std::optional<json> update_template(pqxx::transaction_base& tx, const std::string& clinic_id,
                                    const std::string& template_id, const core::message_template& t) {
  return shown(maybe_json_row(tx.exec_params(
    sql("UPDATE atendeai.message_templates SET name = $3, language = $4, category = $5, body = $6, "
        "buttons = $7::jsonb, updated_at = now() WHERE clinic_id = $1 AND id = $2 RETURNING "),
    clinic_id, template_id, t.name, t.language, t.category, t.body, json(t.buttons).dump())));
}

std::optional<json> delete_template(pqxx::transaction_base& tx, const std::string& clinic_id,
                                    const std::string& template_id) {
  return shown(maybe_json_row(tx.exec_params(
    sql("DELETE FROM atendeai.message_templates WHERE clinic_id = $1 AND id = $2 RETURNING "), clinic_id,
    template_id)));
}

std::optional<core::message_template> find_template(pqxx::transaction_base& tx, const std::string& clinic_id,
                                                    const std::string& name, const std::string& language) {
  auto r = tx.exec_params("SELECT id::text, name, language, category, body, buttons::text "
                          "FROM atendeai.message_templates WHERE clinic_id = $1 AND name = $2 AND language = $3",
                          clinic_id, name, language);
  if (r.empty())
    return std::nullopt;
  core::message_template t;
  t.id = r[0][0].as<std::string>();
  t.name = r[0][1].as<std::string>();
  t.language = r[0][2].as<std::string>();
  t.category = r[0][3].as<std::string>();
  t.body = r[0][4].as<std::string>();
  for (auto& b : json::parse(r[0][5].as<std::string>()))
    if (b.is_string())
      t.buttons.push_back(b.get<std::string>());
  return t;
}

} // namespace atendeai::persistence
