#include "persistence/audit.hpp"

namespace atendeai::persistence {

namespace {

std::optional<std::string> opt(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

std::optional<std::string> opt_json(const nlohmann::json& j) {
  return j.is_null() ? std::nullopt : std::optional<std::string>(j.dump());
}

} // namespace

void append_audit(pqxx::transaction_base& tx, const audit_entry& e) {
  tx.exec_params("INSERT INTO atendeai.audit_log (clinic_id, actor_user_id, actor_role, action, target_type, "
                 "target_id, before, after, request_id, ip) "
                 "VALUES ($1, $2::uuid, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10)",
                 e.clinic_id, opt(e.actor_user_id), opt(e.actor_role), e.action, opt(e.target_type),
                 opt(e.target_id), opt_json(e.before), opt_json(e.after), opt(e.request_id), opt(e.ip));
}

nlohmann::json list_audit(pqxx::transaction_base& tx, const std::string& clinic_id, const audit_filter& f,
                          int page, int per_page) {
  // One fixed statement: empty filters are NULL parameters, never concatenated SQL.
  const char* where = " FROM atendeai.audit_log WHERE clinic_id = $1"
                      " AND ($2::text IS NULL OR action = $2)"
                      " AND ($3::uuid IS NULL OR actor_user_id = $3::uuid)"
                      " AND ($4::text IS NULL OR target_id = $4)"
                      " AND ($5::text IS NULL OR actor_user_id::text = $5 OR target_id = $5)"
                      " AND ($6::timestamptz IS NULL OR at >= $6::timestamptz)"
                      " AND ($7::timestamptz IS NULL OR at < $7::timestamptz)";
  auto total = tx.exec_params1(std::string("SELECT count(*)") + where, clinic_id, opt(f.action),
                               opt(f.actor_user_id), opt(f.target_id), opt(f.actor_or_target), opt(f.from),
                               opt(f.to))[0]
                 .as<int64_t>();
  auto rows = tx.exec_params(
    std::string("SELECT id::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
                "coalesce(actor_user_id::text, ''), coalesce(actor_role, ''), action, coalesce(target_type, ''), "
                "coalesce(target_id, ''), coalesce(before::text, 'null'), coalesce(after::text, 'null'), "
                "coalesce(request_id, ''), coalesce(ip, '')")
      + where + " ORDER BY at DESC, id LIMIT $8 OFFSET $9",
    clinic_id, opt(f.action), opt(f.actor_user_id), opt(f.target_id), opt(f.actor_or_target), opt(f.from),
    opt(f.to), per_page, static_cast<int64_t>(page - 1) * per_page);
  auto items = nlohmann::json::array();
  auto or_null = [](const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); };
  for (auto r : rows)
    items.push_back({{"id", r[0].as<std::string>()},
                     {"at", r[1].as<std::string>()},
                     {"clinic_id", clinic_id},
                     {"actor_user_id", or_null(r[2].as<std::string>())},
                     {"actor_role", or_null(r[3].as<std::string>())},
                     {"action", r[4].as<std::string>()},
                     {"target_type", or_null(r[5].as<std::string>())},
                     {"target_id", or_null(r[6].as<std::string>())},
                     {"before", nlohmann::json::parse(r[7].as<std::string>())},
                     {"after", nlohmann::json::parse(r[8].as<std::string>())},
                     {"request_id", or_null(r[9].as<std::string>())},
                     {"ip", or_null(r[10].as<std::string>())}});
  return {{"items", items}, {"page", page}, {"per_page", per_page}, {"total", total}};
}

} // namespace atendeai::persistence
