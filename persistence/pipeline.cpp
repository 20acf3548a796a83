#include "persistence/pipeline.hpp"

#include "persistence/database.hpp"

namespace atendeai::persistence {

namespace {

std::string text_or_empty(const pqxx::field& f) {
  return f.is_null() ? std::string{} : f.as<std::string>();
}

/// Ingest results from rows (external_id, message_id, conversation_id, inserted[, clinic_id]).
std::vector<ingest_result> ingest_results(const pqxx::result& r) {
  std::vector<ingest_result> out;
  out.reserve(r.size());
  for (auto row : r)
    out.push_back({row[0].as<std::string>(), row.size() > 4 ? row[4].as<std::string>() : std::string{},
                   row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<bool>()});
  return out;
}

/// Outbox rows from rows (outbox_id, message_id, conversation_id, in_reply_to, account_id,
/// recipient, payload[, clinic_id]).
std::vector<outbox_row> new_outbox_rows(const pqxx::result& r) {
  std::vector<outbox_row> out;
  out.reserve(r.size());
  for (auto row : r) {
    outbox_row o;
    o.outbox_id = row[0].as<std::string>();
    o.message_id = row[1].as<std::string>();
    o.conversation_id = row[2].as<std::string>();
    o.in_reply_to = text_or_empty(row[3]);
    o.account_id = row[4].as<std::string>();
    o.recipient = row[5].as<std::string>();
    o.payload = row[6].as<std::string>();
    if (row.size() > 7)
      o.clinic_id = row[7].as<std::string>();
    out.push_back(std::move(o));
  }
  return out;
}

} // namespace

std::vector<ingest_result> ingest_inbound(pqxx::transaction_base& tx, const nlohmann::json& rows) {
  return ingest_results(tx.exec_params("SELECT external_id, message_id::text, conversation_id::text, inserted "
                                       "FROM atendeai.ingest_inbound($1::jsonb)",
                                       rows.dump()));
}

std::vector<ingest_result> ingest_inbound_many(pqxx::transaction_base& tx, const nlohmann::json& by_clinic) {
  return ingest_results(tx.exec_params("SELECT external_id, message_id::text, conversation_id::text, inserted, "
                                       "clinic_id::text FROM atendeai.ingest_inbound_many($1::jsonb)",
                                       by_clinic.dump()));
}

std::vector<outbox_row> record_replies(pqxx::transaction_base& tx, const nlohmann::json& rows) {
  return new_outbox_rows(tx.exec_params("SELECT outbox_id::text, message_id::text, conversation_id::text, "
                                        "in_reply_to::text, account_id, recipient, payload::text "
                                        "FROM atendeai.record_replies($1::jsonb)",
                                        rows.dump()));
}

std::vector<outbox_row> record_replies_many(pqxx::transaction_base& tx, const nlohmann::json& by_clinic) {
  return new_outbox_rows(tx.exec_params("SELECT outbox_id::text, message_id::text, conversation_id::text, "
                                        "in_reply_to::text, account_id, recipient, payload::text, clinic_id::text "
                                        "FROM atendeai.record_replies_many($1::jsonb)",
                                        by_clinic.dump()));
}

void record_deliveries(pqxx::transaction_base& tx, const nlohmann::json& rows) {
  tx.exec_params("SELECT atendeai.record_deliveries($1::jsonb)", rows.dump());
}

void record_deliveries_many(pqxx::transaction_base& tx, const nlohmann::json& by_clinic) {
  tx.exec_params("SELECT atendeai.record_deliveries_many($1::jsonb)", by_clinic.dump());
}

int record_statuses(pqxx::transaction_base& tx, const nlohmann::json& rows) {
  auto r = tx.exec_params("SELECT atendeai.record_statuses($1::jsonb)", rows.dump());
  return r[0][0].as<int>();
}

int record_statuses_many(pqxx::transaction_base& tx, const nlohmann::json& by_clinic) {
  auto r = tx.exec_params("SELECT atendeai.record_statuses_many($1::jsonb)", by_clinic.dump());
  return r[0][0].as<int>();
}

conversation_memory load_conversation_memory(pqxx::connection& conn, const std::string& clinic_id,
                                             const std::string& conversation_id, int window) {
  conversation_memory mem;
  // One statement in its own implicit transaction: the function scopes itself to the
  // clinic. Only what was handled already: unanswered inbound messages are on their way
  // to the actor (or will be swept to it) and join its memory when it handles them.
  pqxx::nontransaction tx(conn);
  auto r = tx.exec_params("SELECT atendeai.conversation_memory_of($1::uuid, $2::uuid, $3)::text", clinic_id,
                          conversation_id, window);
  auto j = nlohmann::json::parse(r[0][0].as<std::string>());
  if (j["state"].is_object())
    mem.state = std::move(j["state"]);
  auto& messages = j["messages"];
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    auto& m = *it;
    auto direction = m[0].get<std::string>();
    if (direction == "in" && m[2].is_string())
      mem.recent_external_ids.push_back(m[2].get<std::string>());
    mem.messages.emplace_back(std::move(direction), m[1].get<std::string>());
  }
  mem.known_contact = !messages.empty();
  return mem;
}

std::vector<unanswered_row> unanswered_inbound(pqxx::connection& conn, int min_age_s, int limit) {
  std::vector<unanswered_row> out;
  pqxx::read_transaction tx(conn);
  auto r = tx.exec_params("SELECT clinic_id::text, message_id::text, conversation_id::text, payload::text, "
                          "access_token FROM atendeai.unanswered_inbound(make_interval(secs => $1), $2)",
                          min_age_s, limit);
  for (auto row : r)
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                   row[3].is_null() ? nlohmann::json::object() : nlohmann::json::parse(row[3].as<std::string>()),
                   text_or_empty(row[4])});
  return out;
}

std::vector<unanswered_row> unanswered_of_clinic(pqxx::connection& conn, const std::string& clinic_id,
                                                 const std::string& conversation_id, int limit) {
  std::vector<unanswered_row> out;
  pqxx::work tx(conn);
  set_clinic(tx, clinic_id);
  auto r = tx.exec_params("SELECT m.id::text, m.conversation_id::text, m.payload::text, ch.access_token "
                          "FROM atendeai.messages m LEFT JOIN atendeai.clinic_channels ch "
                          "ON ch.clinic_id = m.clinic_id AND ch.channel = m.channel "
                          "AND ch.account_id = m.payload ->> 'account_id' "
                          "WHERE m.clinic_id = $1 AND m.direction = 'in' AND m.answered_at IS NULL "
                          "AND ($2::uuid IS NULL OR m.conversation_id = $2::uuid) "
                          "ORDER BY m.created_at, m.id LIMIT $3",
                          clinic_id, null_if_empty(conversation_id), limit);
  for (auto row : r)
    out.push_back({clinic_id, row[0].as<std::string>(), row[1].as<std::string>(),
                   row[2].is_null() ? nlohmann::json::object() : nlohmann::json::parse(row[2].as<std::string>()),
                   text_or_empty(row[3])});
  tx.commit();
  return out;
}

std::vector<outbox_row> pending_outbox(pqxx::connection& conn, int limit) {
  std::vector<outbox_row> out;
  pqxx::read_transaction tx(conn);
  auto r = tx.exec_params("SELECT clinic_id::text, outbox_id::text, message_id::text, conversation_id::text, "
                          "in_reply_to::text, account_id, recipient, payload::text, attempts, access_token "
                          "FROM atendeai.pending_outbox($1)",
                          limit);
  for (auto row : r) {
    outbox_row o;
    o.clinic_id = row[0].as<std::string>();
    o.outbox_id = row[1].as<std::string>();
    o.message_id = row[2].as<std::string>();
    o.conversation_id = row[3].as<std::string>();
    o.in_reply_to = text_or_empty(row[4]);
    o.account_id = row[5].as<std::string>();
    o.recipient = row[6].as<std::string>();
    o.payload = row[7].as<std::string>();
    o.attempts = row[8].as<int>();
    o.access_token = text_or_empty(row[9]);
    out.push_back(std::move(o));
  }
  return out;
}

} // namespace atendeai::persistence
