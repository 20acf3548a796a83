// WhatsApp Cloud API payloads: the signature over the raw body (PROTOCOLS.md vectors),
// notifications parsed into the channel-neutral model (every message type, statuses,
// many entries in one body, malformed and unrecognised bodies), and replies rendered
// within the Graph API's limits (buttons, lists, UTF-8 safe cutting).

#include <catch2/catch.hpp>

#include <string>
#include <variant>

#include "core/signature.hpp"
#include "core/whatsapp.hpp"

using namespace atendeai::core;
using nlohmann::json;

namespace {

/// Number of code points of a valid UTF-8 string; -1 if it is not valid UTF-8.
long utf8_length(const std::string& s) {
  long n = 0;
  for (size_t i = 0; i < s.size(); ++n) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size())
      return -1;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2)
        return -1;
    i += len;
  }
  return n;
}

/// An envelope as in PROTOCOLS.md around one change value.
std::string envelope(const json& value) {
  return json{{"object", "whatsapp_business_account"},
              {"entry", {{{"id", "WABA_ID"}, {"changes", {{{"field", "messages"}, {"value", value}}}}}}}}
    .dump();
}

json value_with(const json& messages, const std::string& phone_number_id = "PHONE_NUMBER_ID") {
  return {{"messaging_product", "whatsapp"},
          {"metadata", {{"display_phone_number", "15550001111"}, {"phone_number_id", phone_number_id}}},
          {"contacts", {{{"profile", {{"name", "Maria"}}}, {"wa_id", "5511987654321"}}}},
          {"messages", messages}};
}

/// A message of `type` with its type-specific part.
json message(const std::string& type, const json& part, const std::string& id = "wamid.1") {
  json m = {{"from", "5511987654321"}, {"id", id}, {"timestamp", "1732350000"}, {"type", type}};
  if (!part.is_null())
    m[type] = part;
  return m;
}

whatsapp_notification parsed(const std::string& body) {
  auto result = parse_whatsapp_notification(body, 1732350500);
  REQUIRE(std::holds_alternative<whatsapp_notification>(result));
  return std::get<whatsapp_notification>(result);
}

/// The single message of a body holding one message.
inbound_message only_message(const json& m) {
  auto n = parsed(envelope(value_with(json::array({m}))));
  REQUIRE(n.messages.size() == 1);
  CHECK(n.ignored.empty());
  return n.messages.front();
}

notification_error error_of(const std::string& body) {
  auto result = parse_whatsapp_notification(body, 1732350500);
  REQUIRE(std::holds_alternative<notification_error>(result));
  return std::get<notification_error>(result);
}

} // namespace

// -- signatures -------------------------------------------------------------------------

TEST_CASE("WhatsApp signature test vector of PROTOCOLS.md", "[whatsapp][signature]") {
  const std::string body = R"({"object":"whatsapp_business_account","entry":[]})";
  const std::string header = "sha256=d3e4f9da0ce6c71ab3dba55929b8eeeee2455349e534924ead19f98d143e904f";
  CHECK(whatsapp_signature("app-secret", body) == header);
  CHECK(verify_whatsapp_signature("app-secret", body, header));
}

TEST_CASE("HMAC-SHA256 test vector of PROTOCOLS.md", "[whatsapp][signature]") {
  CHECK(hmac_sha256_hex("secret", "test") == "0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914");
  auto raw = hmac_sha256("secret", "test");
  REQUIRE(raw.size() == 32);
  CHECK(static_cast<unsigned char>(raw[0]) == 0x03);
  CHECK(static_cast<unsigned char>(raw[31]) == 0x14);
}

TEST_CASE("Wrong, missing or malformed signatures are refused", "[whatsapp][signature]") {
  const std::string body = R"({"object":"whatsapp_business_account","entry":[]})";
  const std::string hex = "d3e4f9da0ce6c71ab3dba55929b8eeeee2455349e534924ead19f98d143e904f";
  CHECK_FALSE(verify_whatsapp_signature("app-secret", body, ""));
  CHECK_FALSE(verify_whatsapp_signature("app-secret", body, hex));           // no "sha256="
  CHECK_FALSE(verify_whatsapp_signature("app-secret", body, "sha1=" + hex)); // other algorithm
  CHECK_FALSE(verify_whatsapp_signature("app-secret", body, "sha256="));
  CHECK_FALSE(verify_whatsapp_signature("app-secret", body, "sha256=" + hex.substr(0, 63)));
  CHECK_FALSE(verify_whatsapp_signature("app-secret", body, "sha256=" + hex + "0"));
  auto flipped = hex;
  flipped[10] = flipped[10] == '0' ? '1' : '0';
  CHECK_FALSE(verify_whatsapp_signature("app-secret", body, "sha256=" + flipped));
  // Another secret, or the body changed by one byte.
  CHECK_FALSE(verify_whatsapp_signature("other-secret", body, "sha256=" + hex));
  CHECK_FALSE(verify_whatsapp_signature("app-secret", body + " ", "sha256=" + hex));
  // Without a configured secret nothing verifies, not even the empty key's own HMAC.
  CHECK_FALSE(verify_whatsapp_signature("", body, whatsapp_signature("", body)));
}

TEST_CASE("Constant-time comparison compares whole strings", "[whatsapp][signature]") {
  CHECK(constant_time_equal("", ""));
  CHECK(constant_time_equal("abc", "abc"));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "xbc"));
  CHECK_FALSE(constant_time_equal("abc", "abcd"));
  CHECK_FALSE(constant_time_equal("abcd", "abc"));
  CHECK_FALSE(constant_time_equal("", "a"));
  using namespace std::string_literals;
  CHECK(constant_time_equal("a\0b"s, "a\0b"s));
  CHECK_FALSE(constant_time_equal("a\0b"s, "a\0c"s));
}

// -- parsing: message types -------------------------------------------------------------

TEST_CASE("The envelope of PROTOCOLS.md parses into one text message", "[whatsapp][parse]") {
  auto body = R"({"object":"whatsapp_business_account","entry":[{"id":"<WABA_ID>","changes":[{"field":"messages",
 "value":{"messaging_product":"whatsapp",
  "metadata":{"display_phone_number":"15550001111","phone_number_id":"<PHONE_NUMBER_ID>"},
  "contacts":[{"profile":{"name":"Maria"},"wa_id":"5511987654321"}],
  "messages":[{"from":"5511987654321","id":"wamid.HBgN...","timestamp":"1732350000","type":"text",
               "text":{"body":"Oi, quero marcar uma consulta"}}]}}]}]})";
  auto n = parsed(body);
  REQUIRE(n.messages.size() == 1);
  CHECK(n.statuses.empty());
  CHECK(n.ignored.empty());
  auto& m = n.messages[0];
  CHECK(m.channel == "whatsapp");
  CHECK(m.account_id == "<PHONE_NUMBER_ID>");
  CHECK(m.contact == "5511987654321");
  CHECK(m.contact_name == "Maria");
  CHECK(m.external_id == "wamid.HBgN...");
  CHECK(m.timestamp == 1732350000);
  CHECK(m.type == "text");
  CHECK(m.text == "Oi, quero marcar uma consulta");
  CHECK(m.reply_id.empty());
  CHECK(m.context_id.empty());
}

TEST_CASE("Interactive button_reply and list_reply come back as the patient's choice", "[whatsapp][parse]") {
  SECTION("button_reply") {
    auto m = only_message(message(
      "interactive", {{"type", "button_reply"}, {"button_reply", {{"id", "svc:clinico"}, {"title", "Clínico geral"}}}}));
    CHECK(m.type == "interactive");
    CHECK(m.text == "Clínico geral");
    CHECK(m.reply_id == "svc:clinico");
  }
  SECTION("list_reply") {
    auto m = only_message(message("interactive", {{"type", "list_reply"},
                                                  {"list_reply",
                                                   {{"id", "slot:2024-11-25T09:00"},
                                                    {"title", "Seg 25/11 09:00"},
                                                    {"description", "Dra. Ana Souza"}}}}));
    CHECK(m.type == "interactive");
    CHECK(m.text == "Seg 25/11 09:00");
    CHECK(m.reply_id == "slot:2024-11-25T09:00");
    CHECK(m.payload["list_reply"]["description"] == "Dra. Ana Souza");
  }
}

TEST_CASE("A template quick-reply button gives its text and payload", "[whatsapp][parse]") {
  auto m = only_message(message("button", {{"text", "Confirmar"}, {"payload", "confirm:123"}}));
  CHECK(m.type == "button");
  CHECK(m.text == "Confirmar");
  CHECK(m.reply_id == "confirm:123");
}

TEST_CASE("Media messages keep their ids and captions", "[whatsapp][parse]") {
  SECTION("image with caption") {
    auto m = only_message(message(
      "image", {{"id", "media-img"}, {"mime_type", "image/jpeg"}, {"sha256", "abc"}, {"caption", "Meu exame"}}));
    CHECK(m.type == "image");
    CHECK(m.text == "Meu exame");
    CHECK(m.payload["id"] == "media-img");
    CHECK(m.payload["mime_type"] == "image/jpeg");
  }
  SECTION("video with caption") {
    auto m = only_message(
      message("video", {{"id", "media-vid"}, {"mime_type", "video/mp4"}, {"sha256", "abc"}, {"caption", "Veja"}}));
    CHECK(m.type == "video");
    CHECK(m.text == "Veja");
    CHECK(m.payload["id"] == "media-vid");
  }
  SECTION("document with caption and filename") {
    auto m = only_message(message("document", {{"id", "media-doc"},
                                               {"mime_type", "application/pdf"},
                                               {"sha256", "abc"},
                                               {"caption", "Pedido médico"},
                                               {"filename", "pedido.pdf"}}));
    CHECK(m.type == "document");
    CHECK(m.text == "Pedido médico");
    CHECK(m.payload["filename"] == "pedido.pdf");
    CHECK(m.payload["id"] == "media-doc");
  }
  SECTION("audio") {
    auto m = only_message(message("audio", {{"id", "media-aud"}, {"mime_type", "audio/ogg; codecs=opus"}}));
    CHECK(m.type == "audio");
    CHECK(m.text.empty());
    CHECK(m.payload["id"] == "media-aud");
    CHECK(m.payload["mime_type"] == "audio/ogg; codecs=opus");
  }
  SECTION("sticker") {
    auto m = only_message(message("sticker", {{"id", "media-stk"}, {"mime_type", "image/webp"}, {"sha256", "s"}}));
    CHECK(m.type == "sticker");
    CHECK(m.text.empty());
    CHECK(m.payload["id"] == "media-stk");
  }
  SECTION("image without caption") {
    auto m = only_message(message("image", {{"id", "media-img2"}, {"mime_type", "image/png"}}));
    CHECK(m.type == "image");
    CHECK(m.text.empty());
    CHECK(m.payload["id"] == "media-img2");
  }
}

TEST_CASE("Location, contacts, reaction and unsupported messages", "[whatsapp][parse]") {
  SECTION("location with name and address") {
    auto m = only_message(message("location", {{"latitude", -23.5614},
                                               {"longitude", -46.6559},
                                               {"name", "Clínica Centro"},
                                               {"address", "Av. Paulista, 1000"}}));
    CHECK(m.type == "location");
    CHECK(m.text == "Clínica Centro, Av. Paulista, 1000");
    CHECK(m.payload["latitude"].get<double>() == Approx(-23.5614));
    CHECK(m.payload["longitude"].get<double>() == Approx(-46.6559));
  }
  SECTION("location with coordinates only") {
    auto m = only_message(message("location", {{"latitude", 1.5}, {"longitude", 2.5}}));
    CHECK(m.type == "location");
    CHECK(m.text.empty());
    CHECK(m.payload["latitude"].get<double>() == Approx(1.5));
  }
  SECTION("contacts") {
    json cards = json::array({{{"name", {{"formatted_name", "João Silva"}}},
                               {"phones", {{{"phone", "+55 11 91234-5678"}, {"type", "CELL"}}}}}});
    auto m = only_message(message("contacts", cards));
    CHECK(m.type == "contacts");
    CHECK(m.text.empty());
    REQUIRE(m.payload.is_array());
    CHECK(m.payload[0]["name"]["formatted_name"] == "João Silva");
  }
  SECTION("reaction") {
    auto m = only_message(message("reaction", {{"message_id", "wamid.ours"}, {"emoji", "👍"}}));
    CHECK(m.type == "reaction");
    CHECK(m.text == "👍");
    CHECK(m.payload["message_id"] == "wamid.ours");
  }
  SECTION("unsupported") {
    json m = message("unsupported", json());
    m["errors"] = {{{"code", 131051}, {"title", "Message type unknown"}}};
    auto in = only_message(m);
    CHECK(in.type == "unsupported");
    CHECK(in.external_id == "wamid.1");
    CHECK(in.text.empty());
  }
}

TEST_CASE("context.id names the message replied to", "[whatsapp][parse]") {
  auto m = message("text", {{"body", "Esse horário serve"}});
  m["context"] = {{"from", "15550001111"}, {"id", "wamid.our-offer"}};
  auto in = only_message(m);
  CHECK(in.context_id == "wamid.our-offer");
  CHECK(in.text == "Esse horário serve");
}

// -- parsing: statuses --------------------------------------------------------------------

TEST_CASE("Status updates sent, delivered, read and failed", "[whatsapp][parse]") {
  auto status = [](const std::string& id, const std::string& st) {
    return json{{"id", id}, {"status", st}, {"timestamp", "1732350100"}, {"recipient_id", "5511987654321"}};
  };
  auto failed = status("wamid.d", "failed");
  failed["errors"] = {{{"code", 131047}, {"title", "Re-engagement message"}}};
  json value = {{"messaging_product", "whatsapp"},
                {"metadata", {{"display_phone_number", "15550001111"}, {"phone_number_id", "PNID"}}},
                {"statuses",
                 {status("wamid.a", "sent"), status("wamid.b", "delivered"), status("wamid.c", "read"), failed}}};
  auto n = parsed(envelope(value));
  CHECK(n.messages.empty());
  CHECK(n.ignored.empty());
  REQUIRE(n.statuses.size() == 4);
  CHECK(n.statuses[0].external_id == "wamid.a");
  CHECK(n.statuses[0].status == "sent");
  CHECK(n.statuses[0].account_id == "PNID");
  CHECK(n.statuses[0].recipient == "5511987654321");
  CHECK(n.statuses[0].timestamp == 1732350100);
  CHECK(n.statuses[0].error.empty());
  CHECK(n.statuses[1].status == "delivered");
  CHECK(n.statuses[2].status == "read");
  CHECK(n.statuses[3].external_id == "wamid.d");
  CHECK(n.statuses[3].status == "failed");
  CHECK(n.statuses[3].error == "131047: Re-engagement message");
}

TEST_CASE("Statuses with an unknown status or without id are ignored", "[whatsapp][parse]") {
  json value = {{"messaging_product", "whatsapp"},
                {"metadata", {{"phone_number_id", "PNID"}}},
                {"statuses",
                 {{{"id", "wamid.a"}, {"status", "deleted"}},
                  {{"status", "read"}},
                  {{"id", "wamid.b"}, {"status", "read"}}}}};
  auto n = parsed(envelope(value));
  REQUIRE(n.statuses.size() == 1);
  CHECK(n.statuses[0].external_id == "wamid.b");
  CHECK(n.ignored.size() == 2);
}

// -- parsing: many updates in one body ------------------------------------------------------

TEST_CASE("Many entries, changes and messages in one body are all read, in order", "[whatsapp][parse]") {
  json entries = json::array();
  int k = 0;
  for (int e = 0; e < 3; ++e) {
    json changes = json::array();
    for (int c = 0; c < 2; ++c) {
      json msgs = json::array();
      for (int i = 0; i < 4; ++i, ++k)
        msgs.push_back(message("text", {{"body", "m" + std::to_string(k)}}, "wamid." + std::to_string(k)));
      auto value = value_with(msgs, "pnid-" + std::to_string(e));
      value["statuses"] = {{{"id", "wamid.out" + std::to_string(e) + std::to_string(c)}, {"status", "read"}}};
      changes.push_back({{"field", "messages"}, {"value", value}});
    }
    entries.push_back({{"id", "waba-" + std::to_string(e)}, {"changes", changes}});
  }
  auto n = parsed(json{{"object", "whatsapp_business_account"}, {"entry", entries}}.dump());
  CHECK(n.ignored.empty());
  REQUIRE(n.messages.size() == 24);
  for (int i = 0; i < 24; ++i) {
    CHECK(n.messages[i].external_id == "wamid." + std::to_string(i));
    CHECK(n.messages[i].text == "m" + std::to_string(i));
    CHECK(n.messages[i].account_id == "pnid-" + std::to_string(i / 8));
  }
  REQUIRE(n.statuses.size() == 6);
  CHECK(n.statuses[5].external_id == "wamid.out21");
  CHECK(n.statuses[5].account_id == "pnid-2");
}

TEST_CASE("A body of 1000 messages parses into 1000 messages", "[whatsapp][parse]") {
  json msgs = json::array();
  for (int i = 0; i < 1000; ++i)
    msgs.push_back(message("text", {{"body", "texto " + std::to_string(i)}}, "wamid.k" + std::to_string(i)));
  auto n = parsed(envelope(value_with(msgs)));
  REQUIRE(n.messages.size() == 1000);
  CHECK(n.messages[999].external_id == "wamid.k999");
  CHECK(n.messages[999].text == "texto 999");
}

// -- parsing: errors and unrecognised content -----------------------------------------------

TEST_CASE("Unparseable JSON and bodies without object or entry are errors naming the field",
          "[whatsapp][parse]") {
  CHECK(error_of("").field == "");
  CHECK(error_of("{not json").field == "");
  CHECK(error_of(R"({"object":"whatsapp_business_account","entry":[)").field == "");
  CHECK_FALSE(error_of("{not json").message.empty());
  CHECK(error_of("[]").field == "object");
  CHECK(error_of("42").field == "object");
  CHECK(error_of(R"({"entry":[]})").field == "object");
  CHECK(error_of(R"({"object":"whatsapp_business_account"})").field == "entry");
  CHECK(error_of(R"({"object":"whatsapp_business_account","entry":{}})").field == "entry");
  CHECK(error_of(R"({"object":"whatsapp_business_account","entry":"x"})").field == "entry");
}

TEST_CASE("Signed content we do not recognise is ignored, not an error", "[whatsapp][parse]") {
  SECTION("another object") {
    auto n = parsed(R"({"object":"page","entry":[{"id":"1","changes":[]}]})");
    CHECK(n.messages.empty());
    CHECK(n.statuses.empty());
    CHECK_FALSE(n.ignored.empty());
  }
  SECTION("another field") {
    auto n = parsed(R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[
      {"field":"account_update","value":{"event":"VERIFIED_ACCOUNT"}}]}]})");
    CHECK(n.messages.empty());
    CHECK(n.statuses.empty());
    CHECK(n.ignored.size() == 1);
  }
  SECTION("entries without changes, values that are not objects") {
    auto n = parsed(R"({"object":"whatsapp_business_account","entry":[{"id":"1"}, 7,
      {"id":"2","changes":[{"field":"messages","value":[]}, "x"]}]})");
    CHECK(n.messages.empty());
    CHECK(n.statuses.empty());
    CHECK(n.ignored.size() == 4);
  }
  SECTION("messages without id, from or metadata") {
    auto no_id = message("text", {{"body", "a"}});
    no_id.erase("id");
    auto no_from = message("text", {{"body", "b"}}, "wamid.2");
    no_from.erase("from");
    auto good = message("text", {{"body", "c"}}, "wamid.3");
    auto n = parsed(envelope(value_with(json::array({no_id, no_from, good}))));
    REQUIRE(n.messages.size() == 1);
    CHECK(n.messages[0].external_id == "wamid.3");
    CHECK(n.ignored.size() == 2);

    json value = value_with(json::array({good}));
    value.erase("metadata");
    auto without_account = parsed(envelope(value));
    CHECK(without_account.messages.empty());
    CHECK(without_account.ignored.size() == 1);
  }
  SECTION("an empty entry list") {
    auto n = parsed(R"({"object":"whatsapp_business_account","entry":[]})");
    CHECK(n.messages.empty());
    CHECK(n.statuses.empty());
    CHECK(n.ignored.empty());
  }
}

TEST_CASE("An inbound message survives its JSON form", "[whatsapp][parse]") {
  auto m = message("interactive", {{"type", "button_reply"}, {"button_reply", {{"id", "b1"}, {"title", "Sim"}}}});
  m["context"] = {{"id", "wamid.ctx"}};
  auto in = only_message(m);
  auto back = inbound_from_json(to_json(in));
  CHECK(back.channel == in.channel);
  CHECK(back.account_id == in.account_id);
  CHECK(back.contact == in.contact);
  CHECK(back.contact_name == "Maria");
  CHECK(back.external_id == in.external_id);
  CHECK(back.timestamp == 1732350000);
  CHECK(back.type == "interactive");
  CHECK(back.text == "Sim");
  CHECK(back.reply_id == "b1");
  CHECK(back.context_id == "wamid.ctx");
  CHECK(back.payload == in.payload);
}

// -- rendering ------------------------------------------------------------------------------

TEST_CASE("A plain reply renders as a text message", "[whatsapp][render]") {
  outbound_message msg;
  msg.text = "Olá! Como posso ajudar?";
  auto req = render_whatsapp_message(msg, "5511987654321");
  CHECK(req["messaging_product"] == "whatsapp");
  CHECK(req["recipient_type"] == "individual");
  CHECK(req["to"] == "5511987654321");
  CHECK(req["type"] == "text");
  CHECK(req["text"]["body"] == "Olá! Como posso ajudar?");
  CHECK(req["text"]["preview_url"] == false);
  CHECK_FALSE(req.contains("interactive"));
}

TEST_CASE("Choices with style none stay a text message", "[whatsapp][render]") {
  outbound_message msg;
  msg.text = "Escolha";
  msg.choices = {{"a", "A", ""}};
  auto req = render_whatsapp_message(msg, "1");
  CHECK(req["type"] == "text");
}

TEST_CASE("Up to three buttons, titles cut to 20 characters", "[whatsapp][render]") {
  outbound_message msg;
  msg.text = "Qual serviço você deseja?";
  msg.style = choice_style::buttons;
  msg.choices = {{"svc:1", "Clínico geral", ""},
                 {"svc:2", "Ortopedia pediátrica avançada", ""},      // 29 characters, accents
                 {"svc:3", "Consulta 😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀", ""}}; // 4-byte code points
  auto req = render_whatsapp_message(msg, "5511987654321");
  CHECK(req["type"] == "interactive");
  auto& in = req["interactive"];
  CHECK(in["type"] == "button");
  CHECK(in["body"]["text"] == "Qual serviço você deseja?");
  auto& buttons = in["action"]["buttons"];
  REQUIRE(buttons.size() == 3);
  CHECK(buttons[0]["type"] == "reply");
  CHECK(buttons[0]["reply"]["id"] == "svc:1");
  CHECK(buttons[0]["reply"]["title"] == "Clínico geral");
  CHECK(buttons[1]["reply"]["id"] == "svc:2");
  CHECK(buttons[2]["reply"]["id"] == "svc:3");
  for (auto& b : buttons) {
    auto title = b["reply"]["title"].get<std::string>();
    auto len = utf8_length(title);
    CHECK(len > 0);
    CHECK(len <= 20);
  }
  auto t1 = buttons[1]["reply"]["title"].get<std::string>();
  CHECK(t1.rfind("Ortopedia pediátric", 0) == 0);
  CHECK(utf8_length(t1) == 20);
  auto t2 = buttons[2]["reply"]["title"].get<std::string>();
  CHECK(t2.rfind("Consulta 😀", 0) == 0);
  CHECK(utf8_length(t2) == 20);
}

TEST_CASE("More than three choices as buttons become a list, never four buttons", "[whatsapp][render]") {
  outbound_message msg;
  msg.text = "Escolha um dia";
  msg.style = choice_style::buttons;
  for (int i = 0; i < 4; ++i)
    msg.choices.push_back({"d" + std::to_string(i), "Dia " + std::to_string(i), ""});
  auto req = render_whatsapp_message(msg, "1");
  CHECK(req["interactive"]["type"] == "list");
  CHECK_FALSE(req["interactive"]["action"].contains("buttons"));
  CHECK(req["interactive"]["action"]["sections"][0]["rows"].size() == 4);
}

TEST_CASE("A list has at most 10 rows, titles ≤ 24 and descriptions ≤ 72", "[whatsapp][render]") {
  outbound_message msg;
  msg.text = "Horários disponíveis";
  msg.style = choice_style::list;
  msg.list_button = "Ver horários disponíveis hoje"; // 29 characters
  for (int i = 0; i < 12; ++i)
    msg.choices.push_back({"slot:" + std::to_string(i),
                           "Segunda-feira, 25/11 às 09:" + std::to_string(10 + i), // 29-30 characters
                           i % 2 ? std::string()
                                 : "Dra. Ana Beatriz Gonçalves de Albuquerque, clínica médica, unidade "
                                   "Paulista — 2º andar"});
  auto req = render_whatsapp_message(msg, "5511987654321");
  CHECK(req["type"] == "interactive");
  auto& in = req["interactive"];
  CHECK(in["type"] == "list");
  CHECK(in["body"]["text"] == "Horários disponíveis");
  auto button = in["action"]["button"].get<std::string>();
  CHECK(utf8_length(button) > 0);
  CHECK(utf8_length(button) <= 20);
  REQUIRE(in["action"]["sections"].size() == 1);
  auto& section = in["action"]["sections"][0];
  CHECK(utf8_length(section["title"].get<std::string>()) <= 24);
  auto& rows = section["rows"];
  REQUIRE(rows.size() == 10);
  for (size_t i = 0; i < rows.size(); ++i) {
    CHECK(rows[i]["id"] == "slot:" + std::to_string(i));
    auto title = rows[i]["title"].get<std::string>();
    CHECK(utf8_length(title) > 0);
    CHECK(utf8_length(title) <= 24);
    CHECK(title.rfind("Segunda-feira, 25/11 à", 0) == 0);
    if (i % 2) {
      CHECK_FALSE(rows[i].contains("description"));
    } else {
      auto d = rows[i]["description"].get<std::string>();
      CHECK(utf8_length(d) > 0);
      CHECK(utf8_length(d) <= 72);
      CHECK(d.rfind("Dra. Ana Beatriz Gonçalves", 0) == 0);
    }
  }
}

TEST_CASE("Interactive bodies are cut to 1024 characters and text bodies to 4096", "[whatsapp][render]") {
  std::string long_text;
  for (int i = 0; i < 1500; ++i)
    long_text += "ç";
  outbound_message msg;
  msg.text = long_text;
  msg.style = choice_style::buttons;
  msg.choices = {{"a", "A", ""}};
  auto req = render_whatsapp_message(msg, "1");
  CHECK(utf8_length(req["interactive"]["body"]["text"].get<std::string>()) == 1024);

  outbound_message plain;
  for (int i = 0; i < 3; ++i)
    plain.text += long_text;
  auto text_req = render_whatsapp_message(plain, "1");
  CHECK(utf8_length(text_req["text"]["body"].get<std::string>()) == 4096);
}

TEST_CASE("truncate_utf8 never splits a code point", "[whatsapp][render]") {
  CHECK(truncate_utf8("", 5) == "");
  CHECK(truncate_utf8("abc", 3) == "abc");
  CHECK(truncate_utf8("abcd", 3) == "ab…");
  CHECK(truncate_utf8("ãéîõü", 5) == "ãéîõü");
  CHECK(truncate_utf8("ãéîõüç", 5) == "ãéîõ…");
  CHECK(truncate_utf8("😀😀😀😀", 3) == "😀😀…");
  CHECK(truncate_utf8("a€😀b€", 4) == "a€😀…");
  // Every cut of a mixed string is valid UTF-8 of exactly the asked length.
  const std::string mixed = "Olá, 😀 ação — 中文 ✓ fim";
  auto total = utf8_length(mixed);
  REQUIRE(total > 0);
  for (long max = 1; max <= total + 2; ++max) {
    auto cut = truncate_utf8(mixed, static_cast<size_t>(max));
    INFO("max " << max << ": " << cut);
    CHECK(utf8_length(cut) == std::min(max, total));
  }
}

TEST_CASE("A reply survives its outbox JSON form", "[whatsapp][render]") {
  outbound_message msg;
  msg.text = "Escolha";
  msg.style = choice_style::list;
  msg.list_button = "Horários";
  msg.choices = {{"s1", "09:00", "Dra. Ana"}, {"s2", "10:00", ""}};
  auto back = outbound_from_json(to_json(msg));
  CHECK(back.text == "Escolha");
  CHECK(back.style == choice_style::list);
  CHECK(back.list_button == "Horários");
  REQUIRE(back.choices.size() == 2);
  CHECK(back.choices[0].id == "s1");
  CHECK(back.choices[0].title == "09:00");
  CHECK(back.choices[0].description == "Dra. Ana");
  CHECK(back.choices[1].description.empty());
}
