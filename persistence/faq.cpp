#include "persistence/faq.hpp"

#include "persistence/json_rows.hpp"

namespace atendeai::persistence {

namespace {

using nlohmann::json;

// Each row as the API shows it, built by PostgreSQL (fixed SQL, values only as parameters).
constexpr const char* faq_json =
  "jsonb_build_object('id', id, 'question', question, 'answer', answer, 'tags', tags, 'lang', lang, "
  "'created_at', created_at, 'updated_at', updated_at)::text";

std::string sql(const char* head, const char* tail = "") {
  return std::string(head) + faq_json + tail;
}

} // namespace

json list_faq(pqxx::transaction_base& tx, const std::string& clinic_id) {
  return json_rows(tx.exec_params(sql("SELECT ", " FROM atendeai.faq_entries WHERE clinic_id = $1 ORDER BY created_at, id"),
                                        clinic_id));
}

std::optional<json> find_faq(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& faq_id) {
  return maybe_json_row(tx.exec_params(sql("SELECT ", " FROM atendeai.faq_entries WHERE clinic_id = $1 AND id = $2"),
                                       clinic_id, faq_id));
}

json insert_faq(pqxx::transaction_base& tx, const std::string& clinic_id, const faq_fields& f) {
  return json_row(tx.exec_params(sql("INSERT INTO atendeai.faq_entries (clinic_id, question, answer, tags, lang) "
                                     "VALUES ($1, $2, $3, $4::jsonb, nullif($5, '')) RETURNING "),
                                 clinic_id, f.question, f.answer, f.tags.dump(), f.lang));
}

json update_faq(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& faq_id,
                const faq_fields& f) {
  return json_row(tx.exec_params(sql("UPDATE atendeai.faq_entries SET question = $3, answer = $4, tags = $5::jsonb, "
                                     "lang = nullif($6, ''), updated_at = now() "
                                     "WHERE clinic_id = $1 AND id = $2 RETURNING "),
                                 clinic_id, faq_id, f.question, f.answer, f.tags.dump(), f.lang));
}

std::optional<json> delete_faq(pqxx::transaction_base& tx, const std::string& clinic_id, const std::string& faq_id) {
  return maybe_json_row(tx.exec_params(sql("DELETE FROM atendeai.faq_entries WHERE clinic_id = $1 AND id = $2 RETURNING "),
                                       clinic_id, faq_id));
}

std::vector<core::faq_entry> load_faq(pqxx::transaction_base& tx, const std::string& clinic_id) {
  std::vector<core::faq_entry> out;
  for (auto row : tx.exec_params("SELECT id::text, question, answer, tags::text, coalesce(lang, '') "
                                 "FROM atendeai.faq_entries WHERE clinic_id = $1 ORDER BY created_at, id",
                                 clinic_id)) {
    core::faq_entry e;
    e.id = row[0].as<std::string>();
    e.question = row[1].as<std::string>();
    e.answer = row[2].as<std::string>();
    for (auto& t : json::parse(row[3].as<std::string>()))
      if (t.is_string())
        e.tags.push_back(t.get<std::string>());
    e.lang = row[4].as<std::string>();
    out.push_back(std::move(e));
  }
  return out;
}

} // namespace atendeai::persistence
