#include "core/whatsapp.hpp"

#include <cstdlib>

namespace atendeai::core {

namespace {

std::string str(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object())
    return {};
  auto it = obj.find(key);
  if (it == obj.end())
    return {};
  if (it->is_string())
    return it->get<std::string>();
  if (it->is_number())
    return it->dump();
  return {};
}

int64_t timestamp_of(const nlohmann::json& obj) {
  auto s = str(obj, "timestamp");
  return s.empty() ? 0 : std::strtoll(s.c_str(), nullptr, 10);
}

/// Fills text/reply_id from the type-specific part of a message.
void read_content(const nlohmann::json& m, inbound_message& out) {
  const auto& t = out.type;
  auto part = m.contains(t) ? m[t] : nlohmann::json();
  out.payload = part;
  if (t == "text") {
    out.text = str(part, "body");
  } else if (t == "interactive") {
    auto kind = str(part, "type");
    auto reply = part.is_object() && part.contains(kind) ? part[kind] : nlohmann::json();
    out.text = str(reply, "title");
    out.reply_id = str(reply, "id");
  } else if (t == "button") {
    out.text = str(part, "text");
    out.reply_id = str(part, "payload");
  } else if (t == "image" || t == "video" || t == "document") {
    out.text = str(part, "caption");
  } else if (t == "location") {
    out.text = str(part, "name");
    if (auto addr = str(part, "address"); !addr.empty())
      out.text += (out.text.empty() ? "" : ", ") + addr;
  } else if (t == "reaction") {
    out.text = str(part, "emoji");
  }
  // audio, sticker, contacts, unsupported and unknown types carry no text.
}

void parse_value(const nlohmann::json& value, whatsapp_notification& out) {
  auto account = str(value.contains("metadata") ? value["metadata"] : nlohmann::json(), "phone_number_id");
  std::string name_for_contact;
  auto names = nlohmann::json::object();
  if (value.contains("contacts") && value["contacts"].is_array())
    for (auto& c : value["contacts"])
      if (c.is_object())
        names[str(c, "wa_id")] = str(c.contains("profile") ? c["profile"] : nlohmann::json(), "name");
  if (value.contains("messages") && value["messages"].is_array()) {
    for (auto& m : value["messages"]) {
      inbound_message msg;
      msg.account_id = account;
      msg.contact = str(m, "from");
      msg.external_id = str(m, "id");
      msg.type = str(m, "type");
      msg.timestamp = timestamp_of(m);
      if (account.empty() || msg.contact.empty() || msg.external_id.empty() || msg.type.empty()) {
        out.ignored.push_back("message without metadata.phone_number_id, from, id or type");
        continue;
      }
      if (auto it = names.find(msg.contact); it != names.end() && it->is_string())
        msg.contact_name = it->get<std::string>();
      if (m.contains("context") && m["context"].is_object())
        msg.context_id = str(m["context"], "id");
      read_content(m, msg);
      out.messages.push_back(std::move(msg));
    }
  }
  if (value.contains("statuses") && value["statuses"].is_array()) {
    for (auto& s : value["statuses"]) {
      status_update st;
      st.account_id = account;
      st.external_id = str(s, "id");
      st.status = str(s, "status");
      st.timestamp = timestamp_of(s);
      st.recipient = str(s, "recipient_id");
      if (s.contains("errors") && s["errors"].is_array() && !s["errors"].empty())
        st.error = str(s["errors"][0], "code") + ": " + str(s["errors"][0], "title");
      if (account.empty() || st.external_id.empty()
          || (st.status != "sent" && st.status != "delivered" && st.status != "read" && st.status != "failed")) {
        out.ignored.push_back("status without id or with unknown status");
        continue;
      }
      out.statuses.push_back(std::move(st));
    }
  }
}

} // namespace

std::variant<whatsapp_notification, notification_error> parse_whatsapp_notification(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded())
    return notification_error{"", "body is not valid JSON"};
  if (!j.is_object() || !j.contains("object"))
    return notification_error{"object", "required"};
  if (!j.contains("entry") || !j["entry"].is_array())
    return notification_error{"entry", "required, an array"};
  whatsapp_notification out;
  if (j["object"] != "whatsapp_business_account") {
    out.ignored.push_back("object is not whatsapp_business_account");
    return out;
  }
  for (auto& entry : j["entry"]) {
    if (!entry.is_object() || !entry.contains("changes") || !entry["changes"].is_array()) {
      out.ignored.push_back("entry without changes");
      continue;
    }
    for (auto& change : entry["changes"]) {
      if (!change.is_object() || str(change, "field") != "messages" || !change.contains("value")
          || !change["value"].is_object()) {
        out.ignored.push_back("change of field " + str(change, "field"));
        continue;
      }
      parse_value(change["value"], out);
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

nlohmann::json render_whatsapp_message(const outbound_message& msg, const std::string& to) {
  nlohmann::json req = {{"messaging_product", "whatsapp"}, {"recipient_type", "individual"}, {"to", to}};
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

nlohmann::json to_json(const inbound_message& m) {
  return {{"channel", m.channel},       {"account_id", m.account_id}, {"contact", m.contact},
          {"contact_name", m.contact_name}, {"external_id", m.external_id}, {"timestamp", m.timestamp},
          {"type", m.type},             {"text", m.text},             {"reply_id", m.reply_id},
          {"context_id", m.context_id}, {"content", m.payload}};
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
  return m;
}

nlohmann::json to_json(const outbound_message& msg) {
  nlohmann::json j = {{"text", msg.text}};
  if (msg.style != choice_style::none) {
    j["style"] = msg.style == choice_style::buttons ? "buttons" : "list";
    auto choices = nlohmann::json::array();
    for (auto& c : msg.choices)
      choices.push_back({{"id", c.id}, {"title", c.title}, {"description", c.description}});
    j["choices"] = std::move(choices);
    j["list_button"] = msg.list_button;
  }
  return j;
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
  return m;
}

} // namespace atendeai::core
