#include "persistence/pipeline.hpp"

#include "persistence/database.hpp"

namespace atendeai::persistence {

namespace {

std::string text_or_empty(const pqxx::field& f) {
  return f.is_null() ? std::string{} : f.as<std::string>();
}

nlohmann::json json_or_object(const pqxx::field& f) {
  return f.is_null() ? nlohmann::json::object() : nlohmann::json::parse(f.as<std::string>());
}

} // namespace

std::vector<ingest_result> ingest_batch(pqxx::transaction_base& tx, const std::string& messages,
                                        const std::string& statuses) {
  auto r = tx.exec_params("SELECT ord, clinic_id::text, message_id::text, conversation_id::text, "
                          "inserted, new_conversation FROM atendeai.ingest_batch($1::jsonb, $2::jsonb)",
                          messages, statuses);
  std::vector<ingest_result> out;
  out.reserve(r.size());
  for (auto row : r)
    out.push_back({row[0].as<int>(), row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<std::string>(),
                   row[4].as<bool>(), row[5].as<bool>()});
  return out;
}

std::vector<outcome_result> record_outcomes(pqxx::transaction_base& tx, const std::string& outcomes,
                                            const std::string& deliveries) {
  auto r = tx.exec_params("SELECT ord, clinic_id::text, outbound_id::text, conversation_id::text, inserted, account_id, recipient "
                          "FROM atendeai.record_outcomes($1::jsonb, $2::jsonb)",
                          outcomes, deliveries);
  std::vector<outcome_result> out;
  out.reserve(r.size());
  for (auto row : r)
    out.push_back({row[0].as<int>(), row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<std::string>(),
                   row[4].as<bool>(), text_or_empty(row[5]), text_or_empty(row[6])});
  return out;
}

int touch_conversations(pqxx::transaction_base& tx, const std::string& rows) {
  return tx.exec_params1("SELECT atendeai.touch_conversations($1::jsonb)", rows)[0].as<int>();
}

std::vector<conversation_memory> load_conversation_memories(pqxx::connection& conn,
                                                            const std::vector<memory_request>& requests,
                                                            int window) {
  std::vector<conversation_memory> out(requests.size());
  if (requests.empty())
    return out;
  auto rows = nlohmann::json::array();
  for (size_t i = 0; i < requests.size(); ++i)
    rows.push_back({{"ord", i}, {"clinic", requests[i].clinic_id}, {"conversation", requests[i].conversation_id}});
  // Only what was handled already: unanswered inbound messages are on their way to the
  // actor (or will be swept to it) and join its memory when it handles them.
  pqxx::nontransaction tx(conn);
  auto r = tx.exec_params("SELECT ord, state::text, messages::text, channel, account_id, contact "
                          "FROM atendeai.conversation_memories($1::jsonb, $2)",
                          rows.dump(), window);
  for (auto row : r) {
    auto i = row[0].as<size_t>();
    if (i >= out.size())
      continue;
    auto& mem = out[i];
    auto state = json_or_object(row[1]);
    if (state.is_object())
      mem.state = std::move(state);
    auto messages = nlohmann::json::parse(row[2].as<std::string>());
    for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
      auto& m = *it;
      auto direction = m[0].get<std::string>();
      if (direction == "in" && m[2].is_string())
        mem.recent_external_ids.push_back(m[2].get<std::string>());
      mem.messages.emplace_back(std::move(direction), m[1].get<std::string>());
    }
    mem.known_contact = !messages.empty();
    mem.reply_channel = text_or_empty(row[3]);
    mem.reply_account = text_or_empty(row[4]);
    mem.reply_contact = text_or_empty(row[5]);
  }
  return out;
}

conversation_memory load_conversation_memory(pqxx::connection& conn, const std::string& clinic_id,
                                             const std::string& conversation_id, int window) {
  return std::move(load_conversation_memories(conn, {{clinic_id, conversation_id}}, window).front());
}

sweep_result sweep(pqxx::connection& conn, const sweep_marks& marks, int unanswered_min_age_s,
                   int pending_min_age_s, int limit) {
  sweep_result out;
  pqxx::read_transaction tx(conn);
  // A sweep covers [since, now - min_age). The next one starts at the oldest row this one
  // found, else at the end of what it covered, less a margin for transactions that
  // inserted before it and commit after it (never earlier than where this one started).
  // The writers' transactions last milliseconds; one minute is ample, and keeps the rows a
  // sweep reads to about two sweep periods of traffic (with five minutes, every message
  // was read by ~11 sweeps: ~400 tuples per message right after a burst of 200,000).
  auto horizon = [&](const std::string& since, int min_age_s) {
    return tx.exec_params1("SELECT greatest($1::timestamptz, now() - make_interval(secs => $2) "
                           "- interval '1 minute')::text",
                           null_if_empty(since), min_age_s)[0]
      .as<std::string>();
  };
  out.next.unanswered_since = marks.unanswered_since;
  if (unanswered_min_age_s >= 0) {
  out.next.unanswered_since = horizon(marks.unanswered_since, unanswered_min_age_s);
  auto unanswered = tx.exec_params("SELECT clinic_id::text, message_id::text, conversation_id::text, payload::text, "
                                   "created_at::text "
                                   "FROM atendeai.unanswered_since($1::timestamptz, make_interval(secs => $2), $3)",
                                   null_if_empty(marks.unanswered_since), unanswered_min_age_s, limit);
  for (auto row : unanswered)
    out.unanswered.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                              json_or_object(row[3])});
  if (!unanswered.empty())
    out.next.unanswered_since = unanswered[0][4].as<std::string>();
  }
  out.next.pending_since = marks.pending_since;
  if (pending_min_age_s < 0)
    return out;
  out.next.pending_since = horizon(marks.pending_since, pending_min_age_s);
  auto pending = tx.exec_params("SELECT clinic_id::text, outbound_id::text, conversation_id::text, account_id, recipient, "
                                "payload::text, correlation, attempts, created_at::text "
                                "FROM atendeai.pending_since($1::timestamptz, make_interval(secs => $2), $3)",
                                null_if_empty(marks.pending_since), pending_min_age_s, limit);
  for (auto row : pending) {
    pending_row p;
    p.clinic_id = row[0].as<std::string>();
    p.outbound_id = row[1].as<std::string>();
    p.conversation_id = row[2].as<std::string>();
    p.account_id = text_or_empty(row[3]);
    p.recipient = text_or_empty(row[4]);
    p.payload = row[5].as<std::string>();
    p.correlation_id = text_or_empty(row[6]);
    p.attempts = row[7].as<int>();
    out.pending.push_back(std::move(p));
  }
  if (!pending.empty())
    out.next.pending_since = pending[0][8].as<std::string>();
  return out;
}

std::vector<unanswered_row> unanswered_of_clinic(pqxx::connection& conn, const std::string& clinic_id,
                                                 const std::string& conversation_id, int limit) {
  std::vector<unanswered_row> out;
  pqxx::work tx(conn);
  set_clinic(tx, clinic_id);
  auto r = tx.exec_params("SELECT i.id::text, i.conversation_id::text, i.payload::text "
                          "FROM atendeai.inbound_messages i "
                          "WHERE i.clinic_id = $1 AND ($2::uuid IS NULL OR i.conversation_id = $2::uuid) "
                          "AND i.created_at > now() - interval '1 day' "
                          "AND NOT EXISTS (SELECT 1 FROM atendeai.outbound_messages o "
                          "WHERE o.clinic_id = i.clinic_id AND o.cause_id = i.id) "
                          "ORDER BY i.created_at, i.id LIMIT $3",
                          clinic_id, null_if_empty(conversation_id), limit);
  for (auto row : r)
    out.push_back({clinic_id, row[0].as<std::string>(), row[1].as<std::string>(), json_or_object(row[2])});
  tx.commit();
  return out;
}

} // namespace atendeai::persistence
