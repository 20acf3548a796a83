#include "persistence/users.hpp"

namespace atendeai::persistence {

namespace {

const char* user_columns =
  "clinic_id::text, id::text, email, name, role, status, password_hash, token_version, "
  "coalesce(to_char(last_login_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), "
  "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
  "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), coalesce(professional_id::text, '')";

user_row read_user(const pqxx::row& r) {
  user_row u;
  u.clinic_id = r[0].as<std::string>();
  u.id = r[1].as<std::string>();
  u.email = r[2].as<std::string>();
  u.name = r[3].as<std::string>();
  u.role = r[4].as<std::string>();
  u.status = r[5].as<std::string>();
  u.password_hash = r[6].as<std::string>();
  u.token_version = r[7].as<int>();
  u.last_login_at = r[8].as<std::string>();
  u.created_at = r[9].as<std::string>();
  u.updated_at = r[10].as<std::string>();
  u.professional_id = r[11].as<std::string>();
  return u;
}

std::optional<std::string> opt(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

} // namespace

nlohmann::json to_json(const user_row& u) {
  auto or_null = [](const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); };
  return {{"id", u.id},
          {"clinic_id", u.clinic_id == nil_clinic ? nlohmann::json() : nlohmann::json(u.clinic_id)},
          {"email", u.email},
          {"name", u.name},
          {"role", u.role},
          {"status", u.status},
          {"professional_id", or_null(u.professional_id)},
          {"last_login_at", or_null(u.last_login_at)},
          {"created_at", u.created_at},
          {"updated_at", u.updated_at}};
}

std::optional<user_row> find_user(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& id,
                                  bool for_update) {
  auto r = tx.exec_params(std::string("SELECT ") + user_columns
                            + " FROM atendeai.users WHERE clinic_id = $1 AND id = $2 AND status <> 'deleted'"
                            + (for_update ? " FOR UPDATE" : ""),
                          clinic_id, id);
  if (r.empty())
    return std::nullopt;
  return read_user(r[0]);
}

std::optional<user_row> user_for_login(pqxx::transaction_base& tx, const std::string& email) {
  auto r = tx.exec_params("SELECT clinic_id::text, id::text, password_hash, role, status, token_version "
                          "FROM atendeai.user_for_login($1)",
                          email);
  if (r.empty())
    return std::nullopt;
  user_row u;
  u.clinic_id = r[0][0].as<std::string>();
  u.id = r[0][1].as<std::string>();
  u.password_hash = r[0][2].as<std::string>();
  u.role = r[0][3].as<std::string>();
  u.status = r[0][4].as<std::string>();
  u.token_version = r[0][5].as<int>();
  u.email = email;
  return u;
}

std::optional<std::string> user_clinic(pqxx::transaction_base& tx, const std::string& id) {
  auto r = tx.exec_params("SELECT atendeai.user_clinic($1::uuid)::text", id);
  if (r.empty() || r[0][0].is_null())
    return std::nullopt;
  return r[0][0].as<std::string>();
}

bool email_taken(pqxx::transaction_base& tx, const std::string& email) {
  return tx.exec_params1("SELECT atendeai.email_taken($1)", email)[0].as<bool>();
}

bool clinic_exists(pqxx::transaction_base& tx, const std::string& clinic_id) {
  return !tx.exec_params("SELECT 1 FROM atendeai.clinics WHERE id = $1", clinic_id).empty();
}

bool professional_exists(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& id) {
  return !tx.exec_params("SELECT 1 FROM atendeai.professionals WHERE clinic_id = $1 AND id = $2", clinic_id, id)
            .empty();
}

user_row insert_user(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& email,
                     const std::string& name, const std::string& role, const std::string& password_hash) {
  auto r = tx.exec_params1(std::string("INSERT INTO atendeai.users (clinic_id, email, name, role, password_hash) "
                                       "VALUES ($1, $2, $3, $4, $5) RETURNING ")
                             + user_columns,
                           clinic_id, email, name, role, password_hash);
  return read_user(r);
}

user_row update_user(pqxx::transaction_base& tx, const user_row& u, const user_change& c) {
  auto r = tx.exec_params1(std::string("UPDATE atendeai.users SET name = coalesce($3, name), "
                                       "role = coalesce($4, role), status = coalesce($5, status), "
                                       "password_hash = coalesce($6, password_hash), "
                                       "token_version = token_version + $7, updated_at = now(), "
                                       "professional_id = CASE WHEN $8 THEN nullif($9, '')::uuid "
                                       "ELSE professional_id END "
                                       "WHERE clinic_id = $1 AND id = $2 RETURNING ")
                             + user_columns,
                           u.clinic_id, u.id, c.name, c.role, c.status, c.password_hash, c.bump_tokens ? 1 : 0,
                           c.professional_id.has_value(), c.professional_id.value_or(""));
  return read_user(r);
}

void delete_user(pqxx::transaction_base& tx, const user_row& u) {
  tx.exec_params("DELETE FROM atendeai.refresh_tokens WHERE clinic_id = $1 AND user_id = $2", u.clinic_id, u.id);
  tx.exec_params("DELETE FROM atendeai.password_resets WHERE clinic_id = $1 AND user_id = $2", u.clinic_id, u.id);
  tx.exec_params("DELETE FROM atendeai.users WHERE clinic_id = $1 AND id = $2", u.clinic_id, u.id);
}

void touch_login(pqxx::transaction_base& tx, const user_row& u) {
  tx.exec_params("UPDATE atendeai.users SET last_login_at = now() WHERE clinic_id = $1 AND id = $2", u.clinic_id,
                 u.id);
}

nlohmann::json list_users(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& role,
                          const std::string& status, int page, int per_page) {
  const char* where = " FROM atendeai.users WHERE clinic_id = $1 AND status <> 'deleted'"
                      " AND ($2::text IS NULL OR role = $2) AND ($3::text IS NULL OR status = $3)";
  auto total =
    tx.exec_params1(std::string("SELECT count(*)") + where, clinic_id, opt(role), opt(status))[0].as<int64_t>();
  auto items = nlohmann::json::array();
  for (auto r : tx.exec_params(std::string("SELECT ") + user_columns + where
                                 + " ORDER BY created_at, id LIMIT $4 OFFSET $5",
                               clinic_id, opt(role), opt(status), per_page, static_cast<int64_t>(page - 1) * per_page))
    items.push_back(to_json(read_user(r)));
  return {{"items", items}, {"page", page}, {"per_page", per_page}, {"total", total}};
}

void insert_refresh(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& jti,
                    const std::string& family_id, const std::string& user_id, int64_t expires_at_s) {
  tx.exec_params("INSERT INTO atendeai.refresh_tokens (clinic_id, id, family_id, user_id, expires_at) "
                 "VALUES ($1, $2, $3, $4, to_timestamp($5))",
                 clinic_id, jti, family_id, user_id, expires_at_s);
}

std::optional<refresh_row> lock_refresh(pqxx::transaction_base& tx, const std::string& clinic_id,
                                        const std::string& jti) {
  auto r = tx.exec_params("SELECT family_id::text, user_id::text, used_at IS NOT NULL, revoked_at IS NOT NULL, "
                          "expires_at <= now() FROM atendeai.refresh_tokens WHERE clinic_id = $1 AND id = $2 "
                          "FOR UPDATE",
                          clinic_id, jti);
  if (r.empty())
    return std::nullopt;
  return refresh_row{r[0][0].as<std::string>(), r[0][1].as<std::string>(), r[0][2].as<bool>(), r[0][3].as<bool>(),
                     r[0][4].as<bool>()};
}

void mark_refresh_used(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& jti) {
  tx.exec_params("UPDATE atendeai.refresh_tokens SET used_at = now() WHERE clinic_id = $1 AND id = $2", clinic_id,
                 jti);
}

int revoke_family(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& family_id) {
  return static_cast<int>(tx.exec_params("UPDATE atendeai.refresh_tokens SET revoked_at = now() "
                                         "WHERE clinic_id = $1 AND family_id = $2 AND revoked_at IS NULL",
                                         clinic_id, family_id)
                            .affected_rows());
}

int revoke_user_tokens(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& user_id) {
  return static_cast<int>(tx.exec_params("UPDATE atendeai.refresh_tokens SET revoked_at = now() "
                                         "WHERE clinic_id = $1 AND user_id = $2 AND revoked_at IS NULL",
                                         clinic_id, user_id)
                            .affected_rows());
}

void insert_reset(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& user_id,
                  const std::string& token_sha256, int64_t expires_at_s) {
  tx.exec_params("INSERT INTO atendeai.password_resets (clinic_id, user_id, token_sha256, expires_at) "
                 "VALUES ($1, $2, $3, to_timestamp($4))",
                 clinic_id, user_id, token_sha256, expires_at_s);
}

std::optional<reset_row> reset_for(pqxx::transaction_base& tx, const std::string& token_sha256) {
  auto r = tx.exec_params("SELECT clinic_id::text, id::text, user_id::text, expired, used "
                          "FROM atendeai.password_reset_for($1)",
                          token_sha256);
  if (r.empty())
    return std::nullopt;
  return reset_row{r[0][0].as<std::string>(), r[0][1].as<std::string>(), r[0][2].as<std::string>(),
                   r[0][3].as<bool>(), r[0][4].as<bool>()};
}

bool use_reset(pqxx::transaction_base& tx, const reset_row& r) {
  return tx.exec_params("UPDATE atendeai.password_resets SET used_at = now() "
                        "WHERE clinic_id = $1 AND id = $2 AND used_at IS NULL",
                        r.clinic_id, r.id)
           .affected_rows()
         == 1;
}

} // namespace atendeai::persistence
