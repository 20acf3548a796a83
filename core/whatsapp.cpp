#include "core/whatsapp.hpp"

#include <cctype>
#include <map>
#include <optional>

#include "core/json_limits.hpp"
#include "core/templates.hpp"
#include "core/utf8.hpp"

namespace atendeai::core {

namespace {

using nlohmann::json;

/// The member `key` of an object, or nullptr.
const json* member(const json& obj, const std::string& key) {
  if (!obj.is_object())
    return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

/// A string (or number) member as text, "" otherwise; not yet cleaned.
std::string str(const json& obj, const char* key) {
  auto* v = member(obj, key);
  if (!v)
    return {};
  if (v->is_string())
    return v->get<std::string>();
  if (v->is_number())
    return v->dump();
  return {};
}

/// Cleans what a message keeps so PostgreSQL can store it, noting whether anything changed.
struct cleaner {
  bool changed = false;

  /// An id: U+FFFD for NUL/ill-formed UTF-8, at most max_id_bytes.
  std::string id(std::string s) {
    changed |= sanitise_utf8(s);
    changed |= cut_utf8(s, max_id_bytes);
    return s;
  }

  /// Text meant for people: U+FFFD for NUL/ill-formed UTF-8, at most `max_chars` code points.
  std::string text(std::string s, size_t max_chars) {
    changed |= sanitise_utf8(s);
    auto cut = truncate_utf8(s, max_chars);
    if (cut != s)
      changed = true;
    return cut;
  }

  /// Every string and member name of a payload (its depth is bounded by the parser's
  /// limit, so this recursion is too).
  void payload(json& j) {
    if (j.is_string()) {
      changed |= sanitise_utf8(j.get_ref<std::string&>());
    } else if (j.is_array()) {
      for (auto& item : j)
        payload(item);
    } else if (j.is_object()) {
      auto& members = *j.get_ptr<json::object_t*>();
      bool names_clean = true;
      for (auto& [name, value] : members) {
        names_clean = names_clean && name.find('\0') == std::string::npos && is_valid_utf8(name);
        payload(value);
      }
      if (!names_clean) {
        json::object_t renamed;
        for (auto& [name, value] : members) {
          auto clean = name;
          sanitise_utf8(clean);
          renamed[std::move(clean)] = std::move(value);
        }
        members = std::move(renamed);
        changed = true;
      }
    }
  }
};

/// True when a kept string of `j` holds U+FFFD (a repaired body's replacements).
bool holds_replacement(const json& j) {
  if (j.is_string())
    return j.get_ref<const std::string&>().find(replacement_character) != std::string::npos;
  if (j.is_array())
    for (auto& item : j)
      if (holds_replacement(item))
        return true;
  if (j.is_object())
    for (auto& [name, value] : j.items())
      if (name.find(replacement_character) != std::string::npos || holds_replacement(value))
        return true;
  return false;
}

/// A usable timestamp: whole seconds in 1..max_timestamp, as digits or an integer.
std::optional<int64_t> timestamp_in_range(const json& v) {
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    return u >= 1 && u <= static_cast<uint64_t>(max_timestamp) ? std::optional<int64_t>(static_cast<int64_t>(u))
                                                                : std::nullopt;
  }
  if (v.is_number_integer()) {
    auto i = v.get<int64_t>();
    return i >= 1 && i <= max_timestamp ? std::optional<int64_t>(i) : std::nullopt;
  }
  if (!v.is_string())
    return std::nullopt;
  const auto& s = v.get_ref<const std::string&>();
  size_t first = s.find_first_not_of('0');
  if (s.empty() || s.size() > 32)
    return std::nullopt;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return std::nullopt;
  if (first == std::string::npos || s.size() - first > 12)
    return std::nullopt;
  auto n = std::stoll(s.substr(first));
  return n <= max_timestamp ? std::optional<int64_t>(n) : std::nullopt;
}

/// The timestamp member of a message or status: usable, or the receipt time with the
/// original as text in `raw` ("" when there was none).
int64_t timestamp_of(const json& obj, int64_t received_at, std::string& raw) {
  auto* v = member(obj, "timestamp");
  if (!v)
    return received_at;
  if (auto t = timestamp_in_range(*v))
    return *t;
  raw = v->is_string() ? v->get<std::string>() : v->dump();
  sanitise_utf8(raw);
  cut_utf8(raw, max_raw_timestamp_bytes);
  if (raw.empty())
    raw = "\"\"";
  return received_at;
}

/// Fills text/reply_id/payload from the type-specific part of a message; `type` is the
/// member name as sent (before cleaning).
void read_content(const json& m, const std::string& type, inbound_message& out, cleaner& clean) {
  const json* found = member(m, type);
  static const json none;
  const json& part = found ? *found : none;
  const auto& t = out.type;
  if (t == "text") {
    out.text = clean.text(str(part, "body"), max_text_chars);
  } else if (t == "interactive") {
    auto kind = str(part, "type");
    auto* reply = member(part, kind);
    out.text = clean.text(reply ? str(*reply, "title") : std::string(), max_text_chars);
    out.reply_id = clean.id(reply ? str(*reply, "id") : std::string());
  } else if (t == "button") {
    out.text = clean.text(str(part, "text"), max_text_chars);
    out.reply_id = clean.id(str(part, "payload"));
  } else if (t == "image" || t == "video" || t == "document") {
    out.text = clean.text(str(part, "caption"), max_text_chars);
  } else if (t == "location") {
    auto text = str(part, "name");
    if (auto addr = str(part, "address"); !addr.empty())
      text += (text.empty() ? "" : ", ") + addr;
    out.text = clean.text(std::move(text), max_text_chars);
  } else if (t == "reaction") {
    out.text = clean.text(str(part, "emoji"), max_text_chars);
  }
  // audio, sticker, contacts, unsupported and unknown types carry no text.
  out.payload = part;
  clean.payload(out.payload);
}

/// Where a change's value sits in the body, for matching the parser's cuts.
struct value_place {
  std::string pointer; ///< "/entry/<e>/changes/<c>/value"
  const std::vector<json_cut>* cuts;
  bool repaired; ///< the body's text was repaired before parsing
};

void parse_value(const json& value, const value_place& where, int64_t received_at, whatsapp_notification& out) {
  static const json none;
  auto* metadata = member(value, "metadata");
  auto account = str(metadata ? *metadata : none, "phone_number_id");
  std::map<std::string, std::string> names;
  if (auto* contacts = member(value, "contacts"); contacts && contacts->is_array())
    for (auto& c : *contacts)
      if (c.is_object()) {
        auto* profile = member(c, "profile");
        names[str(c, "wa_id")] = str(profile ? *profile : none, "name");
      }
  auto messages_pointer = where.pointer + "/messages";
  for (auto& cut : *where.cuts)
    if (cut.problem == json_problem::too_many_items && cut.pointer == messages_pointer)
      out.dropped += cut.dropped;
  if (auto* messages = member(value, "messages"); messages && messages->is_array()) {
    for (size_t i = 0; i < messages->size(); ++i) {
      const auto& m = (*messages)[i];
      cleaner clean;
      inbound_message msg;
      auto raw_type = str(m, "type");
      // Only the type-specific part is kept whole: a value nested past the limit there
      // drops the message; one elsewhere in the message was never going to be kept.
      auto kept = messages_pointer + "/" + std::to_string(i);
      append_pointer_token(kept, raw_type);
      auto whole = messages_pointer + "/" + std::to_string(i);
      bool too_deep = false;
      for (auto& cut : *where.cuts)
        if (pointer_within(cut.pointer, kept)) {
          too_deep = too_deep || cut.problem == json_problem::too_deep;
          clean.changed = true; // a string or array of the kept part was cut
        } else if (pointer_within(cut.pointer, whole) && cut.problem == json_problem::too_deep) {
          out.ignored.push_back("a value nested too deep in a part of a message that is not kept");
        }
      if (too_deep) {
        ++out.dropped;
        if (auto id = clean.id(str(m, "id")); !id.empty())
          out.dropped_ids.push_back(std::move(id));
        continue;
      }
      msg.account_id = clean.id(account);
      msg.contact = clean.id(str(m, "from"));
      msg.external_id = clean.id(str(m, "id"));
      msg.type = clean.id(raw_type);
      msg.timestamp = timestamp_of(m, received_at, msg.raw_timestamp);
      if (!msg.raw_timestamp.empty())
        clean.changed = true;
      if (msg.account_id.empty() || msg.contact.empty() || msg.external_id.empty() || msg.type.empty()) {
        out.ignored.push_back("message without metadata.phone_number_id, from, id or type");
        continue;
      }
      if (auto it = names.find(str(m, "from")); it != names.end())
        msg.contact_name = clean.text(it->second, max_name_chars);
      if (auto* context = member(m, "context"); context && context->is_object())
        msg.context_id = clean.id(str(*context, "id"));
      read_content(m, raw_type, msg, clean);
      msg.sanitised = clean.changed;
      if (where.repaired && !msg.sanitised)
        msg.sanitised = holds_replacement(m);
      out.messages.push_back(std::move(msg));
    }
  }
  if (auto* statuses = member(value, "statuses"); statuses && statuses->is_array()) {
    for (auto& s : *statuses) {
      cleaner clean;
      status_update st;
      std::string raw;
      st.account_id = clean.id(account);
      st.external_id = clean.id(str(s, "id"));
      st.status = clean.id(str(s, "status"));
      st.timestamp = timestamp_of(s, received_at, raw);
      st.recipient = clean.id(str(s, "recipient_id"));
      if (auto* errors = member(s, "errors"); errors && errors->is_array() && !errors->empty())
        st.error = clean.text(str((*errors)[0], "code") + ": " + str((*errors)[0], "title"), max_name_chars);
      if (st.account_id.empty() || st.external_id.empty()
          || (st.status != "sent" && st.status != "delivered" && st.status != "read" && st.status != "failed")) {
        out.ignored.push_back("status without id or with unknown status");
        continue;
      }
      out.statuses.push_back(std::move(st));
    }
  }
}

} // namespace

std::variant<whatsapp_notification, notification_error> parse_whatsapp_notification(std::string_view body,
                                                                                    int64_t received_at) {
  json_parse_options options;
  options.overflow = json_overflow::cut;
  options.repair_text = true;
  auto parsed = parse_json_limited(body, webhook_json_limits, options);
  if (auto* err = std::get_if<json_error>(&parsed))
    return notification_error{field_of_pointer(err->pointer), "body is " + (err->problem == json_problem::syntax
                                                                                ? err->message
                                                                                : "refused: " + err->message)};
  auto& doc = std::get<json_document>(parsed);
  const json& j = doc.value;
  if (!j.is_object() || !j.contains("object"))
    return notification_error{"object", "required"};
  auto* entries = member(j, "entry");
  if (!entries || !entries->is_array())
    return notification_error{"entry", "required, an array"};
  whatsapp_notification out;
  if (j["object"] != "whatsapp_business_account") {
    out.ignored.push_back("object is not whatsapp_business_account");
    return out;
  }
  // Cuts outside the messages lose nothing we keep whole; say so, one line each.
  for (auto& cut : doc.cuts)
    if (cut.pointer.find("/messages/") == std::string::npos
        && !(cut.problem == json_problem::too_many_items && cut.pointer.size() > 9
             && cut.pointer.compare(cut.pointer.size() - 9, 9, "/messages") == 0))
      out.ignored.push_back("a value over the limits (" + std::string(to_string(cut.problem)) + ") outside the messages");
  for (size_t e = 0; e < entries->size(); ++e) {
    const auto& entry = (*entries)[e];
    auto* changes = member(entry, "changes");
    if (!changes || !changes->is_array()) {
      out.ignored.push_back("entry without changes");
      continue;
    }
    for (size_t c = 0; c < changes->size(); ++c) {
      const auto& change = (*changes)[c];
      auto* value = member(change, "value");
      if (str(change, "field") != "messages" || !value || !value->is_object()) {
        auto field = str(change, "field");
        sanitise_utf8(field);
        cut_utf8(field, 64);
        out.ignored.push_back("change of field " + field);
        continue;
      }
      value_place where{"/entry/" + std::to_string(e) + "/changes/" + std::to_string(c) + "/value", &doc.cuts,
                        doc.repaired};
      parse_value(*value, where, received_at, out);
    }
  }
  return out;
}

std::string truncate_utf8(std::string_view s, size_t max_chars) {
  auto next = [&](size_t i) {
    auto c = static_cast<unsigned char>(s[i]);
    return i + (c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4);
  };
  size_t chars = 0;
  size_t keep = 0; // byte length of the first max_chars - 1 code points
  for (size_t i = 0; i < s.size(); i = next(i)) {
    if (++chars == max_chars)
      keep = i;
    if (chars > max_chars)
      return std::string(s.substr(0, keep)) + "…";
  }
  return std::string(s);
}

namespace {

/// Meta's template message: the registered name and language, a body component with
/// the parameters as text (only when there are any) and one quick_reply button
/// component per payload, indexed from "0" in the template's button order.
nlohmann::json template_request(const template_call& t) {
  auto components = nlohmann::json::array();
  if (!t.parameters.empty()) {
    auto parameters = nlohmann::json::array();
    for (auto& p : t.parameters)
      parameters.push_back({{"type", "text"}, {"text", template_parameter_text(p)}});
    components.push_back({{"type", "body"}, {"parameters", std::move(parameters)}});
  }
  for (size_t i = 0; i < t.button_payloads.size(); ++i) {
    auto payload = nlohmann::json{{"type", "payload"}, {"payload", t.button_payloads[i]}};
    components.push_back({{"type", "button"},
                          {"sub_type", "quick_reply"},
                          {"index", std::to_string(i)},
                          {"parameters", nlohmann::json::array({std::move(payload)})}});
  }
  return {{"name", t.name}, {"language", {{"code", t.language}}}, {"components", std::move(components)}};
}

} // namespace

nlohmann::json render_whatsapp_message(const outbound_message& msg, const std::string& to) {
  nlohmann::json req = {{"messaging_product", "whatsapp"}, {"recipient_type", "individual"}, {"to", to}};
  if (msg.templ) {
    req["type"] = "template";
    req["template"] = template_request(*msg.templ);
    return req;
  }
  if (msg.style == choice_style::none || msg.choices.empty()) {
    req["type"] = "text";
    req["text"] = {{"body", truncate_utf8(msg.text, 4096)}, {"preview_url", false}};
    return req;
  }
  req["type"] = "interactive";
  auto body = nlohmann::json{{"text", truncate_utf8(msg.text, 1024)}};
  if (msg.style == choice_style::buttons && msg.choices.size() <= 3) {
    auto buttons = nlohmann::json::array();
    for (auto& c : msg.choices)
      buttons.push_back({{"type", "reply"},
                         {"reply", {{"id", truncate_utf8(c.id, 256)}, {"title", truncate_utf8(c.title, 20)}}}});
    req["interactive"] = {{"type", "button"}, {"body", body}, {"action", {{"buttons", buttons}}}};
    return req;
  }
  auto rows = nlohmann::json::array();
  for (size_t i = 0; i < msg.choices.size() && i < 10; ++i) {
    auto& c = msg.choices[i];
    nlohmann::json row = {{"id", truncate_utf8(c.id, 200)}, {"title", truncate_utf8(c.title, 24)}};
    if (!c.description.empty())
      row["description"] = truncate_utf8(c.description, 72);
    rows.push_back(std::move(row));
  }
  req["interactive"] = {
    {"type", "list"},
    {"body", body},
    {"action",
     {{"button", truncate_utf8(msg.list_button, 20)},
      {"sections", nlohmann::json::array({{{"title", truncate_utf8(msg.list_button, 24)}, {"rows", rows}}})}}}};
  return req;
}

void write_json(json_text& out, const inbound_message& m) {
  out.begin_object()
    .key("channel").string(m.channel)
    .key("account_id").string(m.account_id)
    .key("contact").string(m.contact)
    .key("contact_name").string(m.contact_name)
    .key("external_id").string(m.external_id)
    .key("timestamp").integer(m.timestamp)
    .key("type").string(m.type)
    .key("text").string(m.text)
    .key("reply_id").string(m.reply_id)
    .key("context_id").string(m.context_id)
    .key("content").raw(m.payload.dump());
  if (!m.raw_timestamp.empty())
    out.key("raw_timestamp").string(m.raw_timestamp);
  if (m.sanitised)
    out.key("sanitised").boolean(true);
  out.end_object();
}

nlohmann::json to_json(const inbound_message& m) {
  json_text out;
  write_json(out, m);
  return nlohmann::json::parse(out.str());
}

inbound_message inbound_from_json(const nlohmann::json& j) {
  inbound_message m;
  m.channel = j.value("channel", "whatsapp");
  m.account_id = j.value("account_id", "");
  m.contact = j.value("contact", "");
  m.contact_name = j.value("contact_name", "");
  m.external_id = j.value("external_id", "");
  m.timestamp = j.value("timestamp", int64_t{0});
  m.type = j.value("type", "");
  m.text = j.value("text", "");
  m.reply_id = j.value("reply_id", "");
  m.context_id = j.value("context_id", "");
  if (j.contains("content"))
    m.payload = j["content"];
  m.raw_timestamp = j.value("raw_timestamp", "");
  m.sanitised = j.value("sanitised", false);
  return m;
}

void write_json(json_text& out, const outbound_message& msg) {
  out.begin_object().key("text").string(msg.text);
  if (msg.style != choice_style::none) {
    out.key("style").string(msg.style == choice_style::buttons ? "buttons" : "list");
    out.key("choices").begin_array();
    for (auto& c : msg.choices)
      out.begin_object()
        .key("id").string(c.id)
        .key("title").string(c.title)
        .key("description").string(c.description)
        .end_object();
    out.end_array().key("list_button").string(msg.list_button);
  }
  auto write_template = [&out](const char* key, const template_call& t) {
    auto strings = [&out](const std::vector<std::string>& items) {
      out.begin_array();
      for (auto& s : items)
        out.string(s);
      out.end_array();
    };
    out.key(key).begin_object()
      .key("name").string(t.name)
      .key("language").string(t.language)
      .key("parameters");
    strings(t.parameters);
    out.key("button_payloads");
    strings(t.button_payloads);
    out.end_object();
  };
  if (msg.templ)
    write_template("template", *msg.templ);
  if (msg.fallback)
    write_template("fallback", *msg.fallback);
  if (msg.generated)
    out.key("generated").boolean(true);
  if (!msg.transcript.empty())
    out.key("transcript").string(msg.transcript);
  out.end_object();
}

nlohmann::json to_json(const outbound_message& msg) {
  json_text out;
  write_json(out, msg);
  return nlohmann::json::parse(out.str());
}

outbound_message outbound_from_json(const nlohmann::json& j) {
  outbound_message m;
  m.text = j.value("text", "");
  auto style = j.value("style", "");
  m.style = style == "buttons" ? choice_style::buttons : style == "list" ? choice_style::list : choice_style::none;
  if (j.contains("choices"))
    for (auto& c : j["choices"])
      m.choices.push_back({c.value("id", ""), c.value("title", ""), c.value("description", "")});
  m.list_button = j.value("list_button", m.list_button);
  auto read_template = [&j](const char* key) -> std::optional<template_call> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_object())
      return std::nullopt;
    template_call t;
    t.name = it->value("name", "");
    t.language = it->value("language", "");
    if (auto p = it->find("parameters"); p != it->end() && p->is_array())
      for (auto& v : *p)
        t.parameters.push_back(v.is_string() ? v.get<std::string>() : std::string());
    if (auto b = it->find("button_payloads"); b != it->end() && b->is_array())
      for (auto& v : *b)
        t.button_payloads.push_back(v.is_string() ? v.get<std::string>() : std::string());
    return t;
  };
  m.templ = read_template("template");
  m.fallback = read_template("fallback");
  if (auto g = j.find("generated"); g != j.end() && g->is_boolean())
    m.generated = g->get<bool>();
  if (auto t = j.find("transcript"); t != j.end() && t->is_string())
    m.transcript = t->get<std::string>();
  return m;
}

} // namespace atendeai::core
