#pragma once
/// Users, refresh-token families and password resets (migration 0004). Every function
/// runs in the caller's transaction, scoped to one clinic (set_clinic) except the
/// system lookups, which cross clinics through SECURITY DEFINER functions.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace atendeai::persistence {

/// The clinic super admins (and system-wide audit rows) belong to.
inline const std::string nil_clinic = "00000000-0000-0000-0000-000000000000";

/// A user as stored.
struct user_row {
  std::string clinic_id;
  std::string id;
  std::string email;
  std::string name;
  std::string role;
  std::string status;
  std::string password_hash;
  int token_version = 0;
  std::string last_login_at; ///< ISO-8601 or empty
  std::string created_at;
  std::string updated_at;
  std::string professional_id; ///< the professional whose agenda a professional user sees, or ""
};

/// The public view of a user (no hash): id, clinic_id (null for super admins), email,
/// name, role, status, timestamps.
nlohmann::json to_json(const user_row& u);

/// The user with `id` in the transaction's clinic, if any (deleted ones excluded).
std::optional<user_row> find_user(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& id,
                                  bool for_update = false);

/// Cross-clinic: the user behind an e-mail (login, forgot-password).
std::optional<user_row> user_for_login(pqxx::transaction_base& tx, const std::string& email);
/// Cross-clinic: the clinic of a user id (a super admin names users by id only).
std::optional<std::string> user_clinic(pqxx::transaction_base& tx, const std::string& id);
/// Cross-clinic: whether an e-mail is taken.
bool email_taken(pqxx::transaction_base& tx, const std::string& email);
/// Whether a clinic exists (under its own scope).
bool clinic_exists(pqxx::transaction_base& tx, const std::string& clinic_id);

/// Whether the clinic has a professional with this id (under the clinic's scope).
bool professional_exists(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& id);

/// Inserts a user; returns it.
user_row insert_user(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& email,
                     const std::string& name, const std::string& role, const std::string& password_hash);

/// Changes of a user; unset members stay. bump_tokens invalidates every token at once.
struct user_change {
  std::optional<std::string> name;
  std::optional<std::string> role;
  std::optional<std::string> status;
  std::optional<std::string> password_hash;
  bool bump_tokens = false;
  std::optional<std::string> professional_id; ///< link to a professional ("" unlinks)
};
/// Applies a change; returns the user after it.
user_row update_user(pqxx::transaction_base& tx, const user_row& u, const user_change& c);
/// Deletes a user and its tokens and resets.
void delete_user(pqxx::transaction_base& tx, const user_row& u);
/// Records a successful login.
void touch_login(pqxx::transaction_base& tx, const user_row& u);

/// One page of a clinic's users: {"items","page","per_page","total"}.
nlohmann::json list_users(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& role,
                          const std::string& status, int page, int per_page);

// -- refresh tokens ---------------------------------------------------------------------

/// A stored refresh token.
struct refresh_row {
  std::string family_id;
  std::string user_id;
  bool used = false;
  bool revoked = false;
  bool expired = false;
};
/// Records a refresh token (jti) of a family.
void insert_refresh(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& jti,
                    const std::string& family_id, const std::string& user_id, int64_t expires_at_s);
/// The refresh token `jti`, locked for rotation.
std::optional<refresh_row> lock_refresh(pqxx::transaction_base& tx, const std::string& clinic_id,
                                        const std::string& jti);
/// Marks a refresh token rotated.
void mark_refresh_used(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& jti);
/// Revokes every live token of a family; returns how many.
int revoke_family(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& family_id);
/// Revokes every live refresh token of a user; returns how many.
int revoke_user_tokens(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& user_id);

// -- password resets ---------------------------------------------------------------------

/// Stores a reset (only the token's SHA-256).
void insert_reset(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& user_id,
                  const std::string& token_sha256, int64_t expires_at_s);
/// A reset found by its token hash (cross-clinic).
struct reset_row {
  std::string clinic_id;
  std::string id;
  std::string user_id;
  bool expired = false;
  bool used = false;
};
std::optional<reset_row> reset_for(pqxx::transaction_base& tx, const std::string& token_sha256);
/// Marks a reset used; false when another request used it first.
bool use_reset(pqxx::transaction_base& tx, const reset_row& r);

} // namespace atendeai::persistence
