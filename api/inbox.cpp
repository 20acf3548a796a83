/// Admin API: the staff inbox: conversations, their messages, replies as staff, ending a hand-over.
///
/// Reads run here on the worker's connection under the clinic's row-level security.
/// Replies and releases go to the live conversation actor (router → clinic →
/// conversation, re-created if it was passivated) so that its memory and state match the
/// database; the actor writes them through its batch writer — the same outbox and sender
/// as the assistant's replies — with the audit row in the same transaction, and the
/// handler answers once that transaction has committed.
#include "api/call.hpp"
#include "api/clinic_rows.hpp"
#include "api/validation.hpp"

#include <caf/all.hpp>

#include "core/reminders.hpp"
#include "core/templates.hpp"
#include "persistence/inbox.hpp"
#include "persistence/privacy.hpp"
#include "persistence/jobs.hpp"
#include "persistence/templates.hpp"

namespace atendeai::api {

using namespace actors; // the router's typed interface and its atoms

namespace {

using nlohmann::json;

/// How long a staff action may take to reach its conversation and commit.
constexpr auto staff_commit_timeout = std::chrono::seconds(15);

/// A conversation as the inbox shows it, with the end of its 24-hour window.
struct inbox_conversation {
  persistence::conversation_row row;
  std::optional<core::instant> window_until; ///< none: the patient never wrote
};

/// The conversation named by :cid in the call's clinic; 404 when it is not there. Its
/// JSON shows `window_open_until` (null when the patient never wrote).
inbox_conversation conversation_of(api_call& call) {
  auto cid = call.id_param("cid", "conversation");
  auto found = call.w.db->run([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    persistence::set_clinic(tx, call.clinic_id);
    std::optional<inbox_conversation> out;
    if (auto row = persistence::find_conversation(tx, call.clinic_id, cid))
      out = inbox_conversation{std::move(*row), persistence::window_until(tx, call.clinic_id, cid)};
    return out;
  });
  if (!found)
    fail(core::error_code::not_found, "no such conversation");
  found->row.json["window_open_until"] =
    found->window_until ? json(core::format_iso(*found->window_until)) : json(nullptr);
  return std::move(*found);
}

/// Sends a staff action to its conversation and waits for its commit; returns the
/// outbound message id ("" for a release).
std::string carry_out(api_call& call, const persistence::conversation_row& row, staff_action a, const char* action,
                      json before, json after) {
  auto cid = row.json["id"].get<std::string>();
  a.clinic_id = call.clinic_id;
  a.conversation_id = cid;
  a.staff_user_id = call.p.user.id;
  a.channel = row.channel;
  a.account_id = row.account_id;
  a.recipient = row.recipient;
  a.audit = std::make_shared<persistence::audit_entry>(
    api_worker::audit_row(call.r, &call.p, call.clinic_id, action, "conversation", cid, std::move(before),
                          std::move(after)));
  return commit_staff_action(call, std::move(a));
}

void list_conversations(api_call& call) {
  auto q = parse_query(call.r.query, {"handoff", "since"});
  persistence::conversation_filter f;
  if (auto it = q.rest.find("handoff"); it != q.rest.end()) {
    if (it->second != "true" && it->second != "false")
      fail(core::error_code::validation_failed, "must be true or false", "handoff");
    f.handoff = it->second == "true";
  }
  f.since = q.rest["since"];
  if (!f.since.empty() && !plausible_timestamp(f.since))
    fail(core::error_code::validation_failed, "must be an ISO-8601 date or timestamp", "since");
  try {
    auto page = call.w.db->run([&](pqxx::connection& c) {
      pqxx::read_transaction tx(c);
      persistence::set_clinic(tx, call.clinic_id);
      return persistence::list_conversations(tx, call.clinic_id, f, q.page, q.per_page);
    });
    call.reply(200, page);
  } catch (const pqxx::data_exception&) {
    fail(core::error_code::validation_failed, "must be an ISO-8601 date or timestamp", "since");
  }
}

/// Staff opening a conversation read a patient's data: an audit row names the contact
/// (GET /api/v1/audit?contact_id=), and the patient's consent state is shown.
json opened(api_call& call, json conversation, const char* action) {
  auto contact = conversation["contact"]["id"].get<std::string>();
  conversation["consent"] = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    audit(call, tx, action, "contact", contact, nullptr, {{"conversation_id", conversation["id"]}});
    return persistence::latest_consent(tx, call.clinic_id, contact);
  });
  return conversation;
}

void get_conversation(api_call& call) {
  call.reply(200, opened(call, conversation_of(call).row.json, "conversation.read"));
}

void list_messages(api_call& call) {
  auto row = conversation_of(call).row;
  opened(call, row.json, "conversation.messages.read");
  auto q = parse_query(call.r.query, {"before"});
  auto before = lower(q.rest["before"]);
  if (!before.empty() && !valid_uuid(before))
    fail(core::error_code::validation_failed, "must be a message id", "before");
  auto page = call.w.db->run([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    persistence::set_clinic(tx, call.clinic_id);
    return persistence::list_messages(tx, call.clinic_id, row.json["id"], before, q.page, q.per_page);
  });
  call.reply(200, page);
}

/// A staff message's registered template: {"name","language","parameters":[...]}, found
/// among the clinic's templates (422 naming template.name when it is not registered) with
/// as many parameters as its body takes.
core::template_call template_of(api_call& call, const json& body, std::string& text) {
  auto t = nested_body(body, "template", {{"name", ftype::string, true, core::max_template_name_bytes},
                                          {"language", ftype::string, true, 16},
                                          {"parameters", ftype::array, false, 20}});
  core::template_call out;
  out.name = str(t, "name");
  out.language = str(t, "language");
  if (t.contains("parameters"))
    for (size_t i = 0; i < t["parameters"].size(); ++i) {
      auto& p = t["parameters"][i];
      auto field = "template.parameters[" + std::to_string(i) + "]";
      if (!p.is_string() || p.get<std::string>().find_first_not_of(" \n\t") == std::string::npos)
        fail(core::error_code::validation_failed, "must be a non-empty string", field);
      if (p.get<std::string>().size() > 1024)
        fail(core::error_code::validation_failed, "must have at most 1024 bytes", field);
      out.parameters.push_back(p.get<std::string>());
    }
  auto registered = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    return registered_template(tx, call.clinic_id, out.name, out.language, "template.name");
  });
  auto wanted = core::parameter_count(registered.body);
  if (static_cast<int>(out.parameters.size()) != wanted)
    fail(core::error_code::validation_failed, "the template takes " + std::to_string(wanted) + " parameter(s)",
         "template.parameters");
  text = core::fill_template(registered.body, out.parameters);
  return out;
}

/// POST .../messages: free text inside WhatsApp's 24-hour window ({"text"}), or a
/// registered template at any time ({"template":{...}}).
void reply_as_staff(api_call& call) {
  auto found = conversation_of(call);
  auto& row = found.row;
  auto body = parse_body(call.r.body, {{"text", ftype::text, false, 4096}, {"template", ftype::object, false, 0}});
  if (body.contains("text") == body.contains("template"))
    fail(core::error_code::validation_failed, "give either text or a template", body.contains("text") ? "template" : "text");
  std::string text;
  std::optional<core::template_call> templ;
  if (body.contains("template")) {
    templ = template_of(call, body, text);
  } else {
    text = str(body, "text");
    if (text.find_first_not_of(" \n\t") == std::string::npos)
      fail(core::error_code::validation_failed, "must not be empty", "text");
  }
  if (row.account_id.empty())
    fail(core::error_code::conflict, "the patient never wrote on a channel account we can answer on");
  if (!templ && row.channel == "whatsapp" && !core::window_open(found.window_until, call.w.node->clock->now()))
    fail(core::error_code::window_closed,
         "the patient last wrote more than 24 hours ago: WhatsApp delivers only a registered template now", "text");
  staff_action a;
  a.what = staff_action::kind::reply;
  a.text = text;
  a.templ = templ;
  // A staff reply takes the conversation over: the assistant stays silent until release.
  auto id = carry_out(call, row, std::move(a), "conversation.reply", json{{"handoff", row.handoff}},
                      json{{"handoff", true}});
  json out = {{"id", id},
              {"conversation_id", row.json["id"]},
              {"direction", "out"},
              {"text", text},
              {"staff_user_id", call.p.user.id},
              {"status", "pending"}};
  if (templ)
    out["template"] = {{"name", templ->name}, {"language", templ->language}};
  call.reply(201, out);
}

void release(api_call& call) {
  auto row = conversation_of(call).row;
  if (!call.r.body.empty())
    parse_body(call.r.body, {});
  if (!row.handoff)
    fail(core::error_code::conflict, "the conversation is not handed over");
  staff_action a;
  a.what = staff_action::kind::release;
  carry_out(call, row, std::move(a), "conversation.release", json{{"handoff", true}}, json{{"handoff", false}});
  auto out = row.json;
  out["status"] = "open";
  out["handoff"] = false;
  out["state"]["handoff"] = false;
  call.reply(200, out);
}

} // namespace

std::string commit_staff_action(api_call& call, staff_action a) {
  auto receipt = std::make_shared<staff_receipt>();
  a.receipt = receipt;
  caf::anon_send(call.w.node->router(), staff_atom::value, std::move(a));
  auto outcome = receipt->wait(staff_commit_timeout);
  if (!outcome)
    fail(core::error_code::service_unavailable, "the conversation did not confirm in time; retry later");
  auto [ok, message_id] = *outcome;
  if (!ok)
    fail(core::error_code::internal_error, "the change could not be stored");
  return message_id;
}

void add_inbox_handlers(api_handlers& h) {
  h["conversations.list"] = list_conversations;
  h["conversations.get"] = get_conversation;
  h["conversations.messages"] = list_messages;
  h["conversations.reply"] = reply_as_staff;
  h["conversations.release"] = release;
}

} // namespace atendeai::api
