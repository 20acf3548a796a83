#pragma once
/// The SQL of the message pipeline: batch statements run by the batch writers (each
/// scoped to one clinic inside the batch's transaction), memory loads and recovery scans.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace atendeai::persistence {

/// One inbound message's fate in ingest_inbound.
struct ingest_result {
  std::string external_id;
  std::string clinic_id; ///< filled by ingest_inbound_many
  std::string message_id;
  std::string conversation_id;
  bool inserted = false;
};

/// Stores inbound rows [{channel, contact, contact_name, ext, type, body, payload, sent_at}]
/// of one clinic (the transaction must be scoped with set_clinic).
std::vector<ingest_result> ingest_inbound(pqxx::transaction_base& tx, const nlohmann::json& rows);

/// Stores the inbound rows of several clinics, {"<clinic id>": rows as for ingest_inbound},
/// in one statement: each clinic's rows are written under its own app.clinic_id.
std::vector<ingest_result> ingest_inbound_many(pqxx::transaction_base& tx, const nlohmann::json& by_clinic);

/// A new outbox row, as record_replies returns it.
struct outbox_row {
  std::string outbox_id;
  std::string message_id;
  std::string conversation_id;
  std::string in_reply_to;
  std::string account_id;
  std::string recipient;
  std::string payload;
  std::string clinic_id;  ///< filled by the recovery scan and record_replies_many
  std::string access_token;
  int attempts = 0;
};

/// Records replies and states [{conversation_id, in_message_id, intent, confidence, channel,
/// account_id, recipient, body, reply, state, handoff, staff_user_id}]; returns the outbox
/// rows created (none for messages already answered).
std::vector<outbox_row> record_replies(pqxx::transaction_base& tx, const nlohmann::json& rows);

/// record_replies for several clinics, {"<clinic id>": rows}, in one statement; the
/// outbox rows carry their clinic_id.
std::vector<outbox_row> record_replies_many(pqxx::transaction_base& tx, const nlohmann::json& by_clinic);

/// Records delivery outcomes [{outbox_id, status, attempts, error, external_id}].
void record_deliveries(pqxx::transaction_base& tx, const nlohmann::json& rows);

/// record_deliveries for several clinics, {"<clinic id>": rows}, in one statement.
void record_deliveries_many(pqxx::transaction_base& tx, const nlohmann::json& by_clinic);

/// Applies status updates [{channel, ext, status, error}]; returns rows changed.
int record_statuses(pqxx::transaction_base& tx, const nlohmann::json& rows);

/// record_statuses for several clinics, {"<clinic id>": rows}, in one statement.
int record_statuses_many(pqxx::transaction_base& tx, const nlohmann::json& by_clinic);

/// A conversation's durable memory.
struct conversation_memory {
  nlohmann::json state = nlohmann::json::object();
  bool known_contact = false;
  std::vector<std::pair<std::string, std::string>> messages; ///< (direction, text), oldest first
  std::vector<std::string> recent_external_ids;
};

/// Loads the state and the last `window` messages of a conversation.
conversation_memory load_conversation_memory(pqxx::connection& conn, const std::string& clinic_id,
                                             const std::string& conversation_id, int window);

/// An inbound message stored but never answered.
struct unanswered_row {
  std::string clinic_id;
  std::string message_id;
  std::string conversation_id;
  nlohmann::json payload;
  std::string access_token;
};

/// Inbound messages older than `min_age_s` seconds that were never answered (system scan).
std::vector<unanswered_row> unanswered_inbound(pqxx::connection& conn, int min_age_s, int limit);

/// One clinic's inbound messages never answered (of one conversation, or all when
/// `conversation_id` is empty), oldest first: replayed to fresh actors after a crash.
std::vector<unanswered_row> unanswered_of_clinic(pqxx::connection& conn, const std::string& clinic_id,
                                                 const std::string& conversation_id, int limit);

/// Outbox rows still pending delivery (system scan, at start).
std::vector<outbox_row> pending_outbox(pqxx::connection& conn, int limit);

} // namespace atendeai::persistence
