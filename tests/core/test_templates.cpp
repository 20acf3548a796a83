// WhatsApp message templates (issue 18): validation by Meta's rules, each refusal naming
// its JSON member; the parameter count and the text the patient reads; the Graph API
// template message (body parameters, quick-reply payloads); the outbox's JSON form of a
// template message; and a tapped quick reply coming back as the patient's choice.

#include <catch2/catch.hpp>

#include <string>
#include <variant>

#include "core/demo_clinic.hpp"
#include "core/templates.hpp"
#include "core/whatsapp.hpp"

using namespace atendeai::core;
using nlohmann::json;

namespace {

const std::string reminder_body =
  "Olá {{1}}! Lembrete da sua consulta de {{2}} com {{3}} em {{4}}, no endereço {{5}}. Podemos confirmar?";

message_template reminder() {
  return {"", "lembrete_consulta", "pt_BR", "utility", reminder_body, {"Confirmar", "Remarcar", "Cancelar"}};
}

/// The field validate_template names for `t` ("" when it is valid).
std::string field_of(const message_template& t) {
  auto p = validate_template(t);
  if (p)
    CHECK_FALSE(p->message.empty());
  return p ? p->field : std::string();
}

std::string body_field(const std::string& body) {
  auto t = reminder();
  t.body = body;
  return field_of(t);
}

} // namespace

// -- validation ---------------------------------------------------------------------------

TEST_CASE("A template by Meta's rules is valid, and so are the demo clinic's", "[templates][validation]") {
  CHECK(field_of(reminder()).empty());
  auto plain = reminder();
  plain.body = "Sua consulta foi confirmada.";
  plain.buttons.clear();
  plain.category = "marketing";
  plain.language = "en";
  CHECK(field_of(plain).empty());
  auto all = demo_templates();
  REQUIRE(all.size() == 4);
  for (auto& t : all) {
    INFO(t.name << " " << t.language);
    CHECK(field_of(t).empty());
  }
  // The reminder (pt_BR, en_US), then the notice of a staff change ("Olá {{1}}! {{2}}").
  std::vector<message_template> demo(all.begin(), all.begin() + 2);
  for (auto& t : demo) {
    INFO(t.language);
    CHECK(t.name == "lembrete_consulta");
    CHECK(parameter_count(t.body) == 5);
    CHECK(t.buttons.size() == 3);
  }
  for (size_t i = 2; i < 4; ++i) {
    CHECK(all[i].name == "aviso_consulta");
    CHECK(parameter_count(all[i].body) == 2);
    CHECK(all[i].buttons.empty());
  }
  CHECK(all[2].language == "pt_BR");
  CHECK(all[3].language == "en_US");
  CHECK(demo[0].language == "pt_BR");
  CHECK(demo[0].body == reminder_body);
  CHECK(demo[0].buttons == std::vector<std::string>{"Confirmar", "Remarcar", "Cancelar"});
  CHECK(demo[1].language == "en_US");
  CHECK(demo[1].buttons == std::vector<std::string>{"Confirm", "Reschedule", "Cancel"});
}

TEST_CASE("Template names are 1 to 512 of a-z, 0-9 and _", "[templates][validation]") {
  auto with_name = [](std::string name) {
    auto t = reminder();
    t.name = std::move(name);
    return field_of(t);
  };
  CHECK(with_name("a").empty());
  CHECK(with_name("lembrete_2").empty());
  CHECK(with_name(std::string(512, 'a')).empty());
  CHECK(with_name("") == "name");
  CHECK(with_name(std::string(513, 'a')) == "name");
  CHECK(with_name("Lembrete") == "name");
  CHECK(with_name("lembrete consulta") == "name");
  CHECK(with_name("lembrete-consulta") == "name");
  CHECK(with_name("lembrete_ção") == "name");
}

TEST_CASE("Template languages come from Meta's table and categories are utility or marketing",
          "[templates][validation]") {
  for (auto code : {"pt_BR", "pt_PT", "en", "en_US", "en_GB", "es", "es_ES", "es_MX", "es_AR"}) {
    INFO(code);
    CHECK(is_template_language(code));
    auto t = reminder();
    t.language = code;
    CHECK(field_of(t).empty());
  }
  for (auto code : {"", "pt-BR", "pt_br", "PT_BR", "pt", "en-US", "xx", "pt_BR "}) {
    INFO(code);
    CHECK_FALSE(is_template_language(code));
    auto t = reminder();
    t.language = code;
    CHECK(field_of(t) == "language");
  }
  for (auto category : {"", "authentication", "Utility", "MARKETING"}) {
    INFO(category);
    auto t = reminder();
    t.category = category;
    CHECK(field_of(t) == "category");
  }
}

TEST_CASE("Template bodies: not blank, at most 1024 bytes, parameters {{1}}..{{n}} each used",
          "[templates][validation]") {
  CHECK(body_field("") == "body");
  CHECK(body_field(" \n\t ") == "body");
  CHECK(body_field(std::string(1024, 'a')).empty());
  CHECK(body_field(std::string(1025, 'a')) == "body");
  // Bytes, not characters: 512 "ç" are 1,024 bytes, 513 are too many.
  std::string accents;
  for (int i = 0; i < 512; ++i)
    accents += "ç";
  CHECK(body_field(accents).empty());
  CHECK(body_field(accents + "ç") == "body");
  CHECK(body_field("Olá {{1}}, até {{2}}.").empty());
  CHECK(body_field("{{2}} antes de {{1}}").empty()); // order in the text is free
  CHECK(body_field("{{1}} e de novo {{1}}").empty()); // a parameter may repeat
  CHECK(body_field("chaves simples {1} e }} soltas").empty());
  CHECK(body_field("Olá {{0}}") == "body");          // numbered from 1
  CHECK(body_field("Olá {{2}}") == "body");          // {{1}} missing
  CHECK(body_field("{{1}}, {{3}}") == "body");       // a gap
  CHECK(body_field("Olá {{nome}}") == "body");       // not a number
  CHECK(body_field("Olá {{ 1 }}") == "body");        // spaces
  CHECK(body_field("Olá {{01}}") == "body");         // leading zero
  CHECK(body_field("Olá {{-1}}") == "body");
  CHECK(body_field("Olá {{}}") == "body");
  CHECK(body_field("Olá {{1}") == "body");           // never closed
  CHECK(body_field("Olá {{1}} e {{2") == "body");
  CHECK(validate_template_body("Olá {{1}}, {{2}} e {{3}}.") == std::nullopt);
}

TEST_CASE("Template buttons: at most 3 distinct, non-blank, at most 20 characters", "[templates][validation]") {
  auto with_buttons = [](std::vector<std::string> buttons) {
    auto t = reminder();
    t.buttons = std::move(buttons);
    return field_of(t);
  };
  CHECK(with_buttons({}).empty());
  CHECK(with_buttons({"Sim"}).empty());
  CHECK(with_buttons({"a", "b", "c", "d"}) == "buttons");
  CHECK(with_buttons({"Confirmar", ""}) == "buttons[1]");
  CHECK(with_buttons({"Confirmar", "Remarcar", "   "}) == "buttons[2]");
  CHECK(with_buttons({"Confirmar", "Confirmar"}) == "buttons[1]");
  CHECK(with_buttons({std::string(20, 'a')}).empty());
  CHECK(with_buttons({std::string(21, 'a')}) == "buttons[0]");
  // 20 characters of two bytes each are 40 bytes and still fit: code points count.
  std::string accents;
  for (int i = 0; i < 20; ++i)
    accents += "ç";
  CHECK(with_buttons({accents}).empty());
  CHECK(with_buttons({accents + "a"}) == "buttons[0]");
  CHECK(with_buttons({"Sim", "Não\nTalvez"}) == "buttons[1]");
}

TEST_CASE("Validation names the first member at fault, in the order of the body", "[templates][validation]") {
  message_template t{"", "Bad Name", "xx", "other", "", {""}};
  CHECK(field_of(t) == "name");
  t.name = "ok";
  CHECK(field_of(t) == "language");
  t.language = "pt_BR";
  CHECK(field_of(t) == "category");
  t.category = "utility";
  CHECK(field_of(t) == "body");
  t.body = "Oi";
  CHECK(field_of(t) == "buttons[0]");
  t.buttons = {"Ok"};
  CHECK(field_of(t).empty());
}

// -- parameters and the patient's text ----------------------------------------------------

TEST_CASE("parameter_count is the highest {{n}}", "[templates]") {
  CHECK(parameter_count("") == 0);
  CHECK(parameter_count("Sem parâmetros.") == 0);
  CHECK(parameter_count(reminder_body) == 5);
  CHECK(parameter_count("{{2}} e {{1}} e {{2}}") == 2);
  CHECK(parameter_count("{{nome}} {{1}}") == 1);
  CHECK(parameter_count("{{{1}}}") == 1);
  CHECK(parameter_count("{{1}} {{2") == 1);
}

TEST_CASE("fill_template gives the body as the patient reads it", "[templates]") {
  CHECK(fill_template(reminder_body, {"Maria", "Cardiologia", "Dra. Ana Souza", "terça, 25/11 às 09:00",
                                      "Rua Exemplo, 123 — Centro, São Paulo/SP"})
        == "Olá Maria! Lembrete da sua consulta de Cardiologia com Dra. Ana Souza em terça, 25/11 às 09:00, no "
           "endereço Rua Exemplo, 123 — Centro, São Paulo/SP. Podemos confirmar?");
  CHECK(fill_template("Sem parâmetros.", {}) == "Sem parâmetros.");
  CHECK(fill_template("{{2}}, {{1}}, {{2}}", {"a", "b"}) == "b, a, b");
  // A parameter is not read again as a template.
  CHECK(fill_template("{{1}} {{2}}", {"{{2}}", "x"}) == "{{2}} x");
  // Missing parameters and what is not a parameter stay as written.
  CHECK(fill_template("{{1}} {{2}} {{x}} {{3", {"a"}) == "a {{2}} {{x}} {{3");
  // Line breaks, tabs and runs of spaces in a parameter become one space, as Meta sends it.
  CHECK(fill_template("Olá {{1}}!", {"Maria\n  da\tSilva"}) == "Olá Maria da Silva!");
  CHECK(template_parameter_text("a     b") == "a b");
  CHECK(template_parameter_text("") == "");
}

// -- rendering for the Graph API ------------------------------------------------------------

TEST_CASE("A template message renders as Meta's template message with body parameters and quick replies",
          "[templates][whatsapp][render]") {
  outbound_message msg;
  msg.text = "Olá Maria! ...";
  msg.style = choice_style::buttons; // ignored for a template
  msg.choices = {{"x", "X", ""}};
  msg.templ = template_call{"lembrete_consulta", "pt_BR",
                            {"Maria", "Cardiologia", "Dra. Ana Souza", "terça, 25/11 às 09:00", "Rua Exemplo, 123"},
                            {"reminder:confirm:a1", "reminder:reschedule:a1", "reminder:cancel:a1"}};
  auto req = render_whatsapp_message(msg, "5511987654321");
  auto expected = json::parse(R"({
    "messaging_product": "whatsapp",
    "recipient_type": "individual",
    "to": "5511987654321",
    "type": "template",
    "template": {
      "name": "lembrete_consulta",
      "language": {"code": "pt_BR"},
      "components": [
        {"type": "body", "parameters": [
          {"type": "text", "text": "Maria"},
          {"type": "text", "text": "Cardiologia"},
          {"type": "text", "text": "Dra. Ana Souza"},
          {"type": "text", "text": "terça, 25/11 às 09:00"},
          {"type": "text", "text": "Rua Exemplo, 123"}]},
        {"type": "button", "sub_type": "quick_reply", "index": "0",
         "parameters": [{"type": "payload", "payload": "reminder:confirm:a1"}]},
        {"type": "button", "sub_type": "quick_reply", "index": "1",
         "parameters": [{"type": "payload", "payload": "reminder:reschedule:a1"}]},
        {"type": "button", "sub_type": "quick_reply", "index": "2",
         "parameters": [{"type": "payload", "payload": "reminder:cancel:a1"}]}
      ]
    }
  })");
  CHECK(req == expected);
  CHECK_FALSE(req.contains("text"));
  CHECK_FALSE(req.contains("interactive"));
}

TEST_CASE("A template without parameters has no body component, and parameters are sent as Meta takes them",
          "[templates][whatsapp][render]") {
  outbound_message msg;
  msg.text = "Sua consulta foi confirmada.";
  msg.templ = template_call{"consulta_confirmada", "en_US", {}, {}};
  auto req = render_whatsapp_message(msg, "5511987654321");
  CHECK(req == json::parse(R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"5511987654321",
    "type":"template","template":{"name":"consulta_confirmada","language":{"code":"en_US"},"components":[]}})"));

  msg.templ = template_call{"aviso", "pt_BR", {}, {"ok"}};
  auto buttons_only = render_whatsapp_message(msg, "5511987654321")["template"]["components"];
  REQUIRE(buttons_only.size() == 1);
  CHECK(buttons_only[0]["type"] == "button");
  CHECK(buttons_only[0]["index"] == "0");

  msg.templ = template_call{"aviso", "pt_BR", {"Maria\nda   Silva"}, {}};
  auto params = render_whatsapp_message(msg, "5511987654321")["template"]["components"];
  REQUIRE(params.size() == 1);
  CHECK(params[0]["parameters"][0]["text"] == "Maria da Silva");
}

TEST_CASE("A template message survives its outbox JSON form", "[templates][whatsapp][render]") {
  outbound_message msg;
  msg.text = "Olá Maria! Lembrete ...";
  msg.templ = template_call{"lembrete_consulta", "pt_BR", {"Maria", "", "Dra. Ana \"Souza\""},
                            {"reminder:confirm:a1", "reminder:cancel:a1"}};
  auto back = outbound_from_json(to_json(msg));
  CHECK(back.text == msg.text);
  REQUIRE(back.templ);
  CHECK(back.templ->name == "lembrete_consulta");
  CHECK(back.templ->language == "pt_BR");
  CHECK(back.templ->parameters == msg.templ->parameters);
  CHECK(back.templ->button_payloads == msg.templ->button_payloads);
  // Rendered the same from the outbox as when decided.
  CHECK(render_whatsapp_message(back, "5511987654321") == render_whatsapp_message(msg, "5511987654321"));
  // The text form the write path uses is the same JSON.
  json_text out;
  write_json(out, msg);
  CHECK(json::parse(out.str()) == to_json(msg));

  // A plain reply has no template, before and after.
  outbound_message plain;
  plain.text = "Oi";
  CHECK_FALSE(to_json(plain).contains("template"));
  CHECK_FALSE(outbound_from_json(to_json(plain)).templ);
}

// -- the patient's tap ----------------------------------------------------------------------

TEST_CASE("A tapped template quick reply comes back with its payload and text", "[templates][whatsapp][parse]") {
  auto body = json{
    {"object", "whatsapp_business_account"},
    {"entry",
     {{{"id", "WABA_ID"},
       {"changes",
        {{{"field", "messages"},
          {"value",
           {{"messaging_product", "whatsapp"},
            {"metadata", {{"display_phone_number", "15550001111"}, {"phone_number_id", "PHONE_NUMBER_ID"}}},
            {"contacts", {{{"profile", {{"name", "Maria"}}}, {"wa_id", "5511987654321"}}}},
            {"messages",
             {{{"context", {{"from", "15550001111"}, {"id", "wamid.reminder"}}},
               {"from", "5511987654321"},
               {"id", "wamid.tap"},
               {"timestamp", "1732350000"},
               {"type", "button"},
               {"button", {{"payload", "reminder:confirm:a1"}, {"text", "Confirmar"}}}}}}}}}}}}}}};
  auto result = parse_whatsapp_notification(body.dump(), 1732350500);
  REQUIRE(std::holds_alternative<whatsapp_notification>(result));
  auto& n = std::get<whatsapp_notification>(result);
  REQUIRE(n.messages.size() == 1);
  auto& m = n.messages[0];
  CHECK(m.type == "button");
  CHECK(m.reply_id == "reminder:confirm:a1");
  CHECK(m.text == "Confirmar");
  CHECK(m.context_id == "wamid.reminder");
  CHECK(m.contact == "5511987654321");
  // Stored and read back the same.
  auto back = inbound_from_json(to_json(m));
  CHECK(back.reply_id == "reminder:confirm:a1");
  CHECK(back.text == "Confirmar");
}
