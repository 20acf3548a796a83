#include "persistence/inbox.hpp"

#include "persistence/database.hpp"

namespace atendeai::persistence {

namespace {

/// The columns of a conversation as the inbox shows it (aliases: cv conversation, ct contact).
constexpr const char* conversation_columns =
  "cv.id::text, cv.channel, cv.status, ct.id::text, coalesce(ct.name, ''), ct.external_id, "
  "to_char(cv.last_message_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
  "to_char(cv.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";

nlohmann::json conversation_json(const pqxx::row& r) {
  auto name = r[4].as<std::string>();
  return {{"id", r[0].as<std::string>()},
          {"channel", r[1].as<std::string>()},
          {"status", r[2].as<std::string>()},
          {"handoff", r[2].as<std::string>() == "handoff"},
          {"contact",
           {{"id", r[3].as<std::string>()},
            {"name", name.empty() ? nlohmann::json() : nlohmann::json(name)},
            {"phone", r[5].as<std::string>()}}},
          {"last_message_at", r[6].as<std::string>()},
          {"created_at", r[7].as<std::string>()}};
}

} // namespace

nlohmann::json list_conversations(pqxx::transaction_base& tx, const std::string& clinic_id,
                                  const conversation_filter& f, int page, int per_page) {
  // One fixed statement: empty filters are NULL parameters, never concatenated SQL.
  const std::string from = " FROM atendeai.conversations cv JOIN atendeai.contacts ct"
                           " ON ct.clinic_id = cv.clinic_id AND ct.id = cv.contact_id"
                           " WHERE cv.clinic_id = $1 AND ct.erased_at IS NULL AND ct.restricted_at IS NULL"
                           " AND ($2::boolean IS NULL OR (cv.status = 'handoff') = $2::boolean)"
                           " AND ($3::timestamptz IS NULL OR cv.last_message_at >= $3::timestamptz)";
  std::optional<bool> handoff = f.handoff;
  auto since = null_if_empty(f.since);
  auto total = tx.exec_params1("SELECT count(*)" + from, clinic_id, handoff, since)[0].as<int64_t>();
  auto rows = tx.exec_params(std::string("SELECT ") + conversation_columns + from +
                               " ORDER BY cv.last_message_at DESC, cv.id LIMIT $4 OFFSET $5",
                             clinic_id, handoff, since, per_page, static_cast<int64_t>(page - 1) * per_page);
  auto items = nlohmann::json::array();
  for (auto r : rows)
    items.push_back(conversation_json(r));
  return {{"items", items}, {"page", page}, {"per_page", per_page}, {"total", total}};
}

std::optional<conversation_row> find_conversation(pqxx::transaction_base& tx, const std::string& clinic_id,
                                                  const std::string& id) {
  auto rows = tx.exec_params(
    std::string("SELECT ") + conversation_columns +
      // The account the patient last wrote to; for a conversation the clinic opened (a
      // reminder to a patient who never wrote), the clinic's own account on that channel.
      ", coalesce(cm.state::text, '{}'), coalesce(last_in.account_id, (SELECT h.account_id"
      "   FROM atendeai.clinic_channels h WHERE h.clinic_id = cv.clinic_id AND h.channel = cv.channel AND h.active"
      "   ORDER BY h.created_at, h.account_id LIMIT 1), '')"
      " FROM atendeai.conversations cv JOIN atendeai.contacts ct"
      " ON ct.clinic_id = cv.clinic_id AND ct.id = cv.contact_id"
      " LEFT JOIN atendeai.conversation_memory cm ON cm.clinic_id = cv.clinic_id AND cm.conversation_id = cv.id"
      " LEFT JOIN LATERAL (SELECT m.payload ->> 'account_id' AS account_id FROM atendeai.messages m"
      "   WHERE m.clinic_id = cv.clinic_id AND m.conversation_id = cv.id AND m.direction = 'in'"
      "   ORDER BY m.created_at DESC LIMIT 1) last_in ON true"
      " WHERE cv.clinic_id = $1 AND cv.id = $2 AND ct.erased_at IS NULL AND ct.restricted_at IS NULL",
    clinic_id, id);
  if (rows.empty())
    return std::nullopt;
  auto r = rows[0];
  conversation_row out;
  out.json = conversation_json(r);
  out.json["state"] = nlohmann::json::parse(r[8].as<std::string>());
  out.channel = r[1].as<std::string>();
  out.recipient = r[5].as<std::string>();
  out.handoff = r[2].as<std::string>() == "handoff";
  out.account_id = r[9].as<std::string>();
  return out;
}

nlohmann::json list_messages(pqxx::transaction_base& tx, const std::string& clinic_id,
                             const std::string& conversation_id, const std::string& before, int page,
                             int per_page) {
  // Newest first by (created_at, id); the cursor is the last message of the previous page.
  auto rows = tx.exec_params(
    "SELECT m.id::text, m.direction, m.type, coalesce(m.body, ''), m.status, coalesce(m.intent, ''), "
    "coalesce(m.staff_user_id::text, ''), "
    "to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), coalesce(m.error, ''), "
    "m.direction = 'out' AND coalesce(m.payload ->> 'generated', '') = 'true', "
    "CASE WHEN m.direction = 'in' AND m.type = 'audio' THEN (SELECT o.payload ->> 'transcript' "
    "  FROM atendeai.outbound_messages o WHERE o.clinic_id = m.clinic_id AND o.cause_id = m.id) END "
    "FROM atendeai.messages m WHERE m.clinic_id = $1 AND m.conversation_id = $2 "
    "AND ($3::uuid IS NULL OR (m.created_at, m.id) < (SELECT c.created_at, c.id FROM atendeai.messages c "
    "  WHERE c.clinic_id = $1 AND c.conversation_id = $2 AND c.id = $3::uuid)) "
    "ORDER BY m.created_at DESC, m.id DESC LIMIT $4 OFFSET $5",
    clinic_id, conversation_id, null_if_empty(before), per_page + 1, static_cast<int64_t>(page - 1) * per_page);
  auto items = nlohmann::json::array();
  auto or_null = [](const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); };
  for (auto r : rows) {
    if (static_cast<int>(items.size()) == per_page)
      break;
    items.push_back({{"id", r[0].as<std::string>()},
                     {"direction", r[1].as<std::string>()},
                     {"type", r[2].as<std::string>()},
                     {"text", r[3].as<std::string>()},
                     {"status", r[4].as<std::string>()},
                     {"intent", or_null(r[5].as<std::string>())},
                     {"staff_user_id", or_null(r[6].as<std::string>())},
                     {"created_at", r[7].as<std::string>()},
                     // Why the channel refused it (failed), or what happened on the way.
                     {"error", or_null(r[8].as<std::string>())},
                     // Written by the language model, not by the rules or staff.
                     {"generated", r[9].as<bool>()},
                     // A voice note as the provider transcribed it.
                     {"transcript", r[10].is_null() ? nlohmann::json() : nlohmann::json(r[10].as<std::string>())}});
  }
  bool more = static_cast<int>(rows.size()) > per_page;
  return {{"items", items},
          {"page", page},
          {"per_page", per_page},
          {"next_before", more && !items.empty() ? items.back()["id"] : nlohmann::json()}};
}

std::optional<std::string> conversation_clinic(pqxx::transaction_base& tx, const std::string& conversation_id) {
  auto r = tx.exec_params("SELECT atendeai.conversation_clinic($1::uuid)::text", conversation_id);
  if (r.empty() || r[0][0].is_null())
    return std::nullopt;
  return r[0][0].as<std::string>();
}

} // namespace atendeai::persistence
