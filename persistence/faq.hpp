#pragma once
/// The clinic knowledge base's SQL (FAQ entries) for the admin API and for loading a
/// clinic. Every function runs in a transaction already scoped to the clinic
/// (set_clinic), so row-level security holds; rows come back as the API's JSON
/// {id, question, answer, tags, lang, created_at, updated_at}.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "core/clinic.hpp"

namespace atendeai::persistence {

/// The columns of an entry the API writes.
struct faq_fields {
  std::string question;
  std::string answer;
  nlohmann::json tags = nlohmann::json::array(); ///< array of strings
  std::string lang;                              ///< "pt-BR", "en" or "" (NULL: any)
};

/// A clinic's entries, oldest first.
nlohmann::json list_faq(pqxx::transaction_base& tx, const std::string& clinic_id);
/// One entry; nullopt when the clinic has no such one.
std::optional<nlohmann::json> find_faq(pqxx::transaction_base& tx, const std::string& clinic_id,
                                       const std::string& faq_id);
/// Inserts an entry; returns it.
nlohmann::json insert_faq(pqxx::transaction_base& tx, const std::string& clinic_id, const faq_fields& f);
/// Overwrites an entry's columns; returns it.
nlohmann::json update_faq(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& faq_id,
                          const faq_fields& f);
/// Deletes an entry; returns what it was, or nullopt when the clinic has no such one.
std::optional<nlohmann::json> delete_faq(pqxx::transaction_base& tx, const std::string& clinic_id,
                                         const std::string& faq_id);
/// The entries as the conversation matches them.
std::vector<core::faq_entry> load_faq(pqxx::transaction_base& tx, const std::string& clinic_id);

} // namespace atendeai::persistence
