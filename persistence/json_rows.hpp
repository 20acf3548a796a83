#pragma once
/// Rows that PostgreSQL built as JSON text (one `jsonb_build_object(...)::text` column), as
/// the admin API shows them: shared by the catalogue and the knowledge base.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace atendeai::persistence {

/// The first row's JSON (the result must have a row).
inline nlohmann::json json_row(const pqxx::result& r) {
  return nlohmann::json::parse(r[0][0].as<std::string>());
}

/// The first row's JSON, or nothing when there is no row.
inline std::optional<nlohmann::json> maybe_json_row(const pqxx::result& r) {
  if (r.empty())
    return std::nullopt;
  return json_row(r);
}

/// Every row's JSON, in order, as an array.
inline nlohmann::json json_rows(const pqxx::result& r) {
  auto out = nlohmann::json::array();
  for (auto row : r)
    out.push_back(nlohmann::json::parse(row[0].as<std::string>()));
  return out;
}

} // namespace atendeai::persistence
