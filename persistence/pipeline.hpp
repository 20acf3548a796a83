#pragma once
/// The SQL of the message pipeline: the batch writers' set-based statements (one per
/// batch, any number of clinics), batched memory loads and recovery sweeps.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace atendeai::persistence {

/// One inbound row's fate in ingest_batch.
struct ingest_result {
  int ord = 0;               ///< the row's position in the batch
  std::string clinic_id;     ///< derived from the channel account
  std::string message_id;
  std::string conversation_id;
  bool inserted = false;         ///< false: stored before (a duplicate)
  bool new_conversation = false; ///< this batch created the conversation (no memory to read)
};

/// Stores a batch of inbound messages of any number of clinics and channel statuses in
/// one statement (atendeai.ingest_batch, SECURITY DEFINER: each row's clinic is derived
/// from its channel account). messages: [{ord, channel, account, contact, contact_name,
/// id, ext, type, body, payload, sent_at}]; statuses: [{channel, account, ext, status,
/// error}] (JSON texts, core::json_text). Rows of unknown accounts are absent from the
/// result.
std::vector<ingest_result> ingest_batch(pqxx::transaction_base& tx, const std::string& messages,
                                        const std::string& statuses);

/// One outcome row's fate in record_outcomes.
struct outcome_result {
  int ord = 0;
  std::string clinic_id; ///< derived from the inbound message answered (or the conversation)
  std::string outbound_id;
  std::string conversation_id;
  bool inserted = false; ///< false: its cause had an outbound message already
  std::string account_id; ///< the channel account it goes out from
  std::string recipient;  ///< the patient it goes to
};

/// Records decisions and delivery attempts of any number of clinics in one statement
/// (atendeai.record_outcomes: the clinic of a reply is the inbound message's).
/// outcomes: [{ord, clinic, conversation, kind, cause, id, account, recipient, body,
/// payload, intent, confidence, staff_user_id, state, handoff}]; deliveries: [{clinic,
/// outbound, attempt, status, error, external_id}] (JSON texts).
std::vector<outcome_result> record_outcomes(pqxx::transaction_base& tx, const std::string& outcomes,
                                            const std::string& deliveries);

/// Sets conversations' last activity to now: [{clinic, conversation}] (JSON text;
/// written behind).
int touch_conversations(pqxx::transaction_base& tx, const std::string& rows);

/// A conversation's durable memory.
struct conversation_memory {
  nlohmann::json state = nlohmann::json::object();
  bool known_contact = false;
  std::vector<std::pair<std::string, std::string>> messages; ///< (direction, text), oldest first
  std::vector<std::string> recent_external_ids;
  /// Where the last inbound message came from (empty when none): unprompted messages go there.
  std::string reply_channel, reply_account, reply_contact;
};

/// The memory of one conversation of a batch read.
struct memory_request {
  std::string clinic_id;
  std::string conversation_id;
};

/// Loads the state and the last `window` handled messages of several conversations (of
/// any clinics) in one statement; one result per request, in order.
std::vector<conversation_memory> load_conversation_memories(pqxx::connection& conn,
                                                            const std::vector<memory_request>& requests,
                                                            int window);

/// One conversation's memory (a batch of one).
conversation_memory load_conversation_memory(pqxx::connection& conn, const std::string& clinic_id,
                                             const std::string& conversation_id, int window);

/// An inbound message stored but never answered.
struct unanswered_row {
  std::string clinic_id;
  std::string message_id;
  std::string conversation_id;
  nlohmann::json payload;
};

/// An outbound message not delivered yet.
struct pending_row {
  std::string clinic_id;
  std::string outbound_id;
  std::string conversation_id;
  std::string account_id;
  std::string recipient;
  std::string payload;
  std::string correlation_id; ///< the channel id of the inbound message it answers
  int attempts = 0;
};

/// Where a recovery sweep starts: rows created before it were all handled when the
/// previous sweep ran. Empty: from the beginning (a node's first sweep).
struct sweep_marks {
  std::string unanswered_since; ///< timestamptz text
  std::string pending_since;
};

/// What one sweep found, and the marks for the next one.
struct sweep_result {
  std::vector<unanswered_row> unanswered;
  std::vector<pending_row> pending;
  sweep_marks next;
};

/// Inbound messages never answered older than `unanswered_min_age_s`, and outbound
/// messages not delivered older than `pending_min_age_s` (none when negative), created
/// from `marks` on (system scan, any clinic).
sweep_result sweep(pqxx::connection& conn, const sweep_marks& marks, int unanswered_min_age_s,
                   int pending_min_age_s, int limit);

/// One clinic's inbound messages never answered of the last day (of one conversation,
/// or all when `conversation_id` is empty), oldest first: replayed to fresh actors after
/// a crash (older ones are the periodic sweep's).
std::vector<unanswered_row> unanswered_of_clinic(pqxx::connection& conn, const std::string& clinic_id,
                                                 const std::string& conversation_id, int limit);

} // namespace atendeai::persistence
