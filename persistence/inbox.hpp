#pragma once
/// The staff inbox's SQL: a clinic's conversations (filtered, paged), one conversation
/// with what a staff reply needs, its messages newest first (paged or by cursor), and
/// the clinic of a conversation named by id alone. Every query runs under row-level
/// security for the clinic (the transaction is scoped with set_clinic by the caller).

#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace atendeai::persistence {

/// Filters of a conversation listing (empty: no filter).
struct conversation_filter {
  std::optional<bool> handoff; ///< only conversations in (or out of) a hand-over
  std::string since;           ///< ISO-8601: last message at or after
};

/// A page of a clinic's conversations, most recent first:
/// {"items":[{id, channel, status, handoff, contact:{id,name,phone}, last_message_at,
/// created_at}], "page", "per_page", "total"}. A malformed `since` throws pqxx::data_exception.
nlohmann::json list_conversations(pqxx::transaction_base& tx, const std::string& clinic_id,
                                  const conversation_filter& f, int page, int per_page);

/// One conversation and what answering it needs.
struct conversation_row {
  nlohmann::json json;      ///< as in a listing, plus "state" (the stored conversation state)
  std::string channel;
  std::string recipient;    ///< the contact's channel id (phone)
  std::string account_id;   ///< the clinic's account the patient last wrote to
  bool handoff = false;
};

/// The conversation `id` of the clinic, or nullopt.
std::optional<conversation_row> find_conversation(pqxx::transaction_base& tx, const std::string& clinic_id,
                                                  const std::string& id);

/// A conversation's messages newest first: {"items":[{id, direction, type, text, status,
/// intent, staff_user_id, created_at}], "per_page", "next_before"}; `before` (a message id
/// of the conversation, or "") starts after that message; `page` counts from it.
nlohmann::json list_messages(pqxx::transaction_base& tx, const std::string& clinic_id,
                             const std::string& conversation_id, const std::string& before, int page,
                             int per_page);

/// The clinic a conversation belongs to, whatever the caller's clinic (system lookup).
std::optional<std::string> conversation_clinic(pqxx::transaction_base& tx, const std::string& conversation_id);

} // namespace atendeai::persistence
