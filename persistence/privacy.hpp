#pragma once
/// LGPD's SQL (migration 0020): a clinic's privacy settings, its patients' consent events
/// (append-only), the latest one of a contact, and everything the clinic holds about a
/// contact as one JSON document (the patient's access and portability request).

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "core/clinic.hpp"

namespace atendeai::persistence {

/// The clinic's privacy settings (the defaults, legal basis unset, when it stated none).
core::privacy_settings load_privacy(pqxx::transaction_base& tx, const std::string& clinic_id);
/// Stores them (the transaction is scoped to the clinic).
void save_privacy(pqxx::transaction_base& tx, const std::string& clinic_id, const core::privacy_settings& s);

/// A consent event of the conversation's patient: given | refused | revoked, on the legal
/// basis then, answering the text whose SHA-256 is `text_version`, on `channel`.
void record_consent(pqxx::connection& conn, const std::string& clinic_id, const std::string& conversation_id,
                    const std::string& event, const std::string& legal_basis, const std::string& text_version,
                    const std::string& channel);
/// The contact's latest consent event {"state","at","legal_basis"}; null when none.
nlohmann::json latest_consent(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& contact_id);

/// Everything about a contact: profile, conversations with their messages, appointments,
/// consent events, proactive messages (reminders, notices, waitlist offers); nullopt when
/// the clinic has no such contact, or it was erased, or it is restricted and the export is
/// not for the authorities (`for_authorities`).
std::optional<nlohmann::json> export_contact(pqxx::transaction_base& tx, const std::string& clinic_id,
                                             const std::string& contact_id, bool for_authorities = false);

/// A contact as an erasure finds it (migration 0022).
struct contact_erasure_state {
  bool erased = false;     ///< anonymised already
  bool restricted = false; ///< locked already (on_erasure: restrict)
  std::vector<std::string> conversation_ids;
};
/// The contact's erasure state and conversations; nullopt when the clinic has no such contact.
std::optional<contact_erasure_state> find_contact_for_erasure(pqxx::transaction_base& tx, const std::string& clinic_id,
                                                              const std::string& contact_id);
/// Erases (`mode` anonymise) or restricts (restrict) a contact's data in every table: the
/// contact given, or the one of `conversation_id` when `contact_id` is empty. Idempotent;
/// the transaction is scoped to the clinic by this call. Returns the contact's conversations.
std::vector<std::string> erase_contact(pqxx::transaction_base& tx, const std::string& clinic_id,
                                       const std::string& contact_id, const std::string& conversation_id,
                                       const std::string& mode);

} // namespace atendeai::persistence
