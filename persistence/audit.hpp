#pragma once
/// The audit log: every mutation and auth event, appended in the transaction that makes
/// the change (so a refused or failed change leaves no row), read back filtered and paged.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace atendeai::persistence {

/// One audit row. clinic_id is the clinic the event belongs to (nil for system-wide).
struct audit_entry {
  std::string clinic_id;
  std::string actor_user_id; ///< empty when nobody is authenticated (login failure, reset)
  std::string actor_role;
  std::string action;        ///< e.g. user.create, auth.login, auth.login_failed
  std::string target_type;
  std::string target_id;
  nlohmann::json before;     ///< null when nothing was there
  nlohmann::json after;      ///< null when nothing remains
  std::string request_id;
  std::string ip;
};

/// Appends an entry; the transaction must be scoped to entry.clinic_id (set_clinic).
void append_audit(pqxx::transaction_base& tx, const audit_entry& e);

/// Filters of an audit listing (empty: no filter).
struct audit_filter {
  std::string action;
  std::string actor_user_id;
  std::string target_id;
  std::string actor_or_target; ///< rows where the user acted or was acted upon
  std::string from;            ///< ISO-8601 timestamp, inclusive
  std::string to;              ///< ISO-8601 timestamp, exclusive
};

/// A page of one clinic's audit rows, newest first: {"items":[...],"page","per_page","total"}.
/// The transaction must be scoped to the clinic.
nlohmann::json list_audit(pqxx::transaction_base& tx, const std::string& clinic_id, const audit_filter& f,
                          int page, int per_page);

} // namespace atendeai::persistence
