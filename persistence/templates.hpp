#pragma once
/// The clinics' WhatsApp message templates' SQL: the admin API's rows and the lookup of
/// one template by name and language when a reminder or a staff member sends it. Every
/// function runs in a transaction already scoped to the clinic (set_clinic), so
/// row-level security holds; rows come back as the API's JSON {id, name, language,
/// category, body, buttons, parameters, created_at, updated_at}.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "core/templates.hpp"

namespace atendeai::persistence {

/// A clinic's templates, by name and language.
nlohmann::json list_templates(pqxx::transaction_base& tx, const std::string& clinic_id);
/// One template by id; nullopt when the clinic has no such one.
std::optional<nlohmann::json> find_template_row(pqxx::transaction_base& tx, const std::string& clinic_id,
                                                const std::string& template_id);
/// Inserts a template (its id is made by PostgreSQL); returns it. A name and language
/// the clinic already has raises pqxx::unique_violation.
nlohmann::json insert_template(pqxx::transaction_base& tx, const std::string& clinic_id,
                               const core::message_template& t);
/// Overwrites a template's columns (all but its id); returns it, or nullopt when the
/// clinic has no such one. Raises pqxx::unique_violation like insert_template.
std::optional<nlohmann::json> update_template(pqxx::transaction_base& tx, const std::string& clinic_id,
                                              const std::string& template_id, const core::message_template& t);
/// Deletes a template; returns what it was, or nullopt when the clinic has no such one.
std::optional<nlohmann::json> delete_template(pqxx::transaction_base& tx, const std::string& clinic_id,
                                              const std::string& template_id);
/// The clinic's template of that name in that language (Meta's code, e.g. pt_BR), or
/// nullopt: what a reminder or a staff member's template message is sent as.
std::optional<core::message_template> find_template(pqxx::transaction_base& tx, const std::string& clinic_id,
                                                    const std::string& name, const std::string& language);

} // namespace atendeai::persistence
