/// Admin API: the clinic's knowledge base (FAQ entries: question, answer, tags, optional
/// language), which the conversation answers clinic questions from.
///
/// As in api/catalogue.cpp: every handler runs after the worker's checks (401/429/403/404
/// tenant), validates the body (422 naming the member), writes in one transaction scoped
/// to the clinic with its audit row (before/after), and after the commit has the live
/// clinic actor reload its profile, so the next patient question gets the new answer.
#include "api/call.hpp"
#include "api/clinic_rows.hpp"
#include "api/validation.hpp"

#include <algorithm>

#include "core/faq.hpp"
#include "persistence/faq.hpp"

namespace atendeai::api {

namespace {

using nlohmann::json;
using core::error_code;
namespace db = persistence;

constexpr size_t max_tags = 20;
constexpr size_t max_tag_bytes = 60;

const std::initializer_list<field_rule>& faq_rules() {
  static const std::initializer_list<field_rule> rules = {
    {"question", ftype::text, false, 500},
    {"answer", ftype::text, false, 2000},
    {"tags", ftype::array, false, max_tags},
    {"lang", ftype::string, false, 8},
  };
  return rules;
}

/// A text member that must hold more than blanks.
std::string required_text(const json& body, const char* field) {
  auto s = str(body, field);
  if (s.find_first_not_of(" \t\r\n") == std::string::npos)
    fail(error_code::validation_failed, "must not be empty", field);
  return s;
}

/// The members of an entry body over `f` (create: question and answer required).
db::faq_fields faq_body(const json& body, db::faq_fields f) {
  if (body.contains("question"))
    f.question = required_text(body, "question");
  if (body.contains("answer"))
    f.answer = required_text(body, "answer");
  if (body.contains("tags")) {
    f.tags = json::array();
    auto& tags = body["tags"];
    for (size_t i = 0; i < tags.size(); ++i) {
      auto field = "tags[" + std::to_string(i) + "]";
      if (!tags[i].is_string())
        fail(error_code::validation_failed, "must be a string", field);
      auto t = tags[i].get<std::string>();
      if (t.find_first_not_of(" \t") == std::string::npos)
        fail(error_code::validation_failed, "must not be empty", field);
      if (t.size() > max_tag_bytes)
        fail(error_code::validation_failed, "must have at most " + std::to_string(max_tag_bytes) + " bytes", field);
      for (unsigned char c : t)
        if (c < 0x20 || c == 0x7f)
          fail(error_code::validation_failed, "must not contain control characters", field);
      if (std::find(f.tags.begin(), f.tags.end(), t) == f.tags.end())
        f.tags.push_back(t);
    }
  }
  if (body.contains("lang")) {
    auto lang = str(body, "lang");
    if (!lang.empty() && lang != "pt-BR" && lang != "en")
      fail(error_code::validation_failed, "must be pt-BR or en (or empty: any language)", "lang");
    f.lang = lang;
  }
  return f;
}

db::faq_fields fields_of(const json& row) {
  db::faq_fields f;
  f.question = row["question"].get<std::string>();
  f.answer = row["answer"].get<std::string>();
  f.tags = row["tags"];
  f.lang = row["lang"].is_string() ? row["lang"].get<std::string>() : std::string();
  return f;
}

json entry_row(pqxx::transaction_base& tx, api_call& call, const std::string& id) {
  auto row = db::find_faq(tx, call.clinic_id, id);
  if (!row)
    fail(error_code::not_found, "no such faq entry");
  return *row;
}

void faq_list(api_call& call) {
  parse_query(call.r.query, {});
  auto items =
    in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) { return db::list_faq(tx, call.clinic_id); });
  call.reply(200, {{"items", items}});
}

void faq_create(api_call& call) {
  auto body = parse_body(call.r.body, faq_rules());
  for (auto field : {"question", "answer"})
    if (!body.contains(field))
      fail(error_code::validation_failed, "is required", field);
  auto f = faq_body(body, {});
  auto row = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    auto created = db::insert_faq(tx, call.clinic_id, f);
    audit(call, tx, "faq.create", "faq", created["id"].get<std::string>(), nullptr, created);
    return created;
  });
  changed(call, call.clinic_id);
  call.reply(201, row);
}

void faq_get(api_call& call) {
  no_body(call);
  auto id = call.id_param("qid", "faq entry");
  call.reply(200,
             in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) { return entry_row(tx, call, id); }));
}

/// PUT and PATCH: the members given replace the entry's, the others stay.
void faq_update(api_call& call) {
  auto id = call.id_param("qid", "faq entry");
  auto body = parse_body(call.r.body, faq_rules());
  auto row = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    auto before = entry_row(tx, call, id);
    auto after = db::update_faq(tx, call.clinic_id, id, faq_body(body, fields_of(before)));
    audit(call, tx, "faq.update", "faq", id, before, after);
    return after;
  });
  changed(call, call.clinic_id);
  call.reply(200, row);
}

void faq_delete(api_call& call) {
  auto id = call.id_param("qid", "faq entry");
  no_body(call);
  auto before = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    auto gone = db::delete_faq(tx, call.clinic_id, id);
    if (!gone)
      fail(error_code::not_found, "no such faq entry");
    audit(call, tx, "faq.delete", "faq", id, *gone, nullptr);
    return *gone;
  });
  changed(call, call.clinic_id);
  call.reply(200, {{"status", "deleted"}, {"faq", before}});
}

} // namespace

void add_faq_handlers(api_handlers& h) {
  h["faq.list"] = faq_list;
  h["faq.create"] = faq_create;
  h["faq.get"] = faq_get;
  h["faq.update"] = faq_update;
  h["faq.patch"] = faq_update;
  h["faq.delete"] = faq_delete;
}

} // namespace atendeai::api
