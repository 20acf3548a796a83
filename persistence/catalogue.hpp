#pragma once
/// The catalogue's SQL for the admin API: clinics (with their context document), channel
/// accounts, services, professionals, absences and closures. Every function runs in a
/// transaction already scoped to the clinic (set_clinic), so row-level security holds;
/// rows come back as the API's JSON (built by PostgreSQL, timestamps in ISO 8601).
/// Unique violations (a service name, a channel account) surface as pqxx::unique_violation.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace atendeai::persistence {

// -- clinics ----------------------------------------------------------------------------

/// The columns of a clinic the API writes; `context` is the whole contextualization
/// document (core::context_to_json).
struct clinic_fields {
  std::string name;
  std::string timezone;
  std::string language;
  std::string address;
  std::string phone;
  nlohmann::json context;
  bool active = true;
};

/// A clinic as {id, name, timezone, language, address, phone, active, context, created_at,
/// updated_at}, active or not; nullopt when unknown.
std::optional<nlohmann::json> find_clinic(pqxx::transaction_base& tx, const std::string& clinic_id);
/// Inserts a clinic with that id; returns it.
nlohmann::json insert_clinic(pqxx::transaction_base& tx, const std::string& clinic_id, const clinic_fields& f);
/// Overwrites a clinic's columns; returns it.
nlohmann::json update_clinic(pqxx::transaction_base& tx, const std::string& clinic_id, const clinic_fields& f);
/// A page of every clinic (super admins; crosses tenants through atendeai.list_clinics):
/// {"items","page","per_page","total"}. `active` filters when set.
nlohmann::json list_all_clinics(pqxx::transaction_base& tx, std::optional<bool> active, int page, int per_page);

// -- channel accounts -------------------------------------------------------------------

/// A clinic's channel accounts as [{id, channel, phone_number_id, has_token, active,
/// created_at}]: the access token itself never leaves the database.
nlohmann::json list_channels(pqxx::transaction_base& tx, const std::string& clinic_id);
/// The channel account's own access token ("" when it has none, or no such account):
/// what its messages are sent with (else the deployment's token).
std::string channel_token(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& channel,
                          const std::string& account_id);
/// Connects an account (token may be empty: the deployment's default applies).
nlohmann::json insert_channel(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& channel,
                              const std::string& account_id, const std::string& access_token);
/// Disconnects an account; returns what it was, or nullopt when the clinic has no such one.
std::optional<nlohmann::json> delete_channel(pqxx::transaction_base& tx, const std::string& clinic_id,
                                             const std::string& channel_id);

// -- services ---------------------------------------------------------------------------

/// The columns of a service.
struct service_fields {
  std::string name;
  std::string name_en; ///< the English name; "" = none (NULL)
  int duration_minutes = 0;
  int64_t price_cents = 0;
  bool active = true;
};

/// A clinic's services [{id, name, name_en, duration_minutes, price_cents, price, active, ...}], by name.
nlohmann::json list_services(pqxx::transaction_base& tx, const std::string& clinic_id, bool include_inactive);
/// One service, or nullopt.
std::optional<nlohmann::json> find_service(pqxx::transaction_base& tx, const std::string& clinic_id,
                                           const std::string& service_id);
/// Inserts a service; returns it.
nlohmann::json insert_service(pqxx::transaction_base& tx, const std::string& clinic_id, const service_fields& f);
/// Overwrites a service's columns; returns it.
nlohmann::json update_service(pqxx::transaction_base& tx, const std::string& clinic_id,
                              const std::string& service_id, const service_fields& f);
/// How many of `ids` (a JSON array of UUID strings) are services of the clinic.
int count_services(pqxx::transaction_base& tx, const std::string& clinic_id, const nlohmann::json& ids);

// -- professionals ----------------------------------------------------------------------

/// The columns of a professional; `hours` and `policy` are JSON or null (the clinic's apply).
struct professional_fields {
  std::string name;
  std::string crm;
  nlohmann::json specialties = nlohmann::json::array(); ///< strings
  nlohmann::json service_ids = nlohmann::json::array(); ///< UUID strings
  nlohmann::json hours;                                 ///< weekly hours or null
  nlohmann::json policy;                                ///< scheduling policy overrides or null
  bool active = true;
};

/// A clinic's professionals [{id, name, crm, specialties, service_ids, working_hours,
/// scheduling_policies, active, ...}], by name.
nlohmann::json list_professionals(pqxx::transaction_base& tx, const std::string& clinic_id, bool include_inactive);
/// One professional, or nullopt.
std::optional<nlohmann::json> find_professional(pqxx::transaction_base& tx, const std::string& clinic_id,
                                                const std::string& professional_id);
/// Inserts a professional; returns it.
nlohmann::json insert_professional(pqxx::transaction_base& tx, const std::string& clinic_id,
                                   const professional_fields& f);
/// Overwrites a professional's columns; returns it.
nlohmann::json update_professional(pqxx::transaction_base& tx, const std::string& clinic_id,
                                   const std::string& professional_id, const professional_fields& f);

// -- absences and closures --------------------------------------------------------------

/// A professional's absences [{id, professional_id, starts_at, ends_at, reason, created_at}],
/// by start.
nlohmann::json list_absences(pqxx::transaction_base& tx, const std::string& clinic_id,
                             const std::string& professional_id);
/// Inserts an absence ([starts_at, ends_at) as ISO 8601 instants); returns it.
nlohmann::json insert_absence(pqxx::transaction_base& tx, const std::string& clinic_id,
                              const std::string& professional_id, const std::string& starts_at,
                              const std::string& ends_at, const std::string& reason);
/// Deletes an absence of the professional; returns what it was, or nullopt.
std::optional<nlohmann::json> delete_absence(pqxx::transaction_base& tx, const std::string& clinic_id,
                                             const std::string& professional_id, const std::string& absence_id);

/// A clinic's closures [{id, starts_on, ends_on, reason, created_at}], by first day.
nlohmann::json list_closures(pqxx::transaction_base& tx, const std::string& clinic_id);
/// Inserts a closure of local dates [starts_on, ends_on] (YYYY-MM-DD); returns it.
nlohmann::json insert_closure(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& starts_on,
                              const std::string& ends_on, const std::string& reason);
/// Deletes a closure; returns what it was, or nullopt.
std::optional<nlohmann::json> delete_closure(pqxx::transaction_base& tx, const std::string& clinic_id,
                                             const std::string& closure_id);

} // namespace atendeai::persistence
