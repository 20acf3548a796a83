// Replies: every intent answered from the clinic's own data and personality, in the
// patient's language, with hand-over on request or after repeated misunderstandings.

#include <catch2/catch.hpp>

#include "core/conversation.hpp"
#include "core/demo_clinic.hpp"

using namespace atendeai::core;
using namespace date::literals;

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

/// Understands `text` as a patient of `clinic` would write it today and decides the reply.
reply_decision say(const std::string& text, const clinic_profile& clinic, conversation_state& state,
                   bool first = false) {
  auto u = understand(text, 2026_y / 11 / 23, clinic);
  return decide_reply(u, clinic, state, first, text);
}

std::string reply_text(const std::string& text, const clinic_profile& clinic, bool first = false) {
  conversation_state state;
  auto d = say(text, clinic, state, first);
  REQUIRE(d.reply);
  return d.reply->text;
}

understanding make(intent i, std::string lang = "pt-BR") {
  understanding u;
  u.intent = i;
  u.confidence = 0.9;
  u.lang = std::move(lang);
  return u;
}

} // namespace

TEST_CASE("greetings use the personality", "[replies]") {
  auto c = demo_clinic();
  CHECK(reply_text("oi", c, true) == c.ai_personality.greeting);
  // Without a custom greeting one is built from the assistant's and clinic's names.
  c.ai_personality.greeting.clear();
  c.ai_personality.name = "Clara";
  c.name = "Clínica Sol";
  CHECK(reply_text("oi", c, true) == "Olá! Eu sou a Clara, assistente da Clínica Sol 😊 Como posso ajudar?");
  // Later greetings are shorter.
  auto later = reply_text("oi", c, false);
  CHECK(later.size() < c.ai_personality.greeting.size() + 60);
  CHECK(!contains(later, "Eu sou"));
  // English patients get English.
  CHECK(reply_text("hello", c, true) == "Hi! I'm Clara, Clínica Sol's assistant 😊 How can I help?");
}

TEST_CASE("goodbye uses the farewell", "[replies]") {
  auto c = demo_clinic();
  CHECK(reply_text("obrigado, tchau", c) == c.ai_personality.farewell);
  c.ai_personality.farewell = "Até breve!";
  CHECK(reply_text("valeu", c) == "Até breve!");
  CHECK(contains(reply_text("thanks, bye", c), "See you"));
}

TEST_CASE("hours come from the clinic's profile", "[replies]") {
  auto c = demo_clinic();
  CHECK(reply_text("qual o horário de funcionamento?", c) ==
        "Abrimos de segunda a sexta, das 08:00 às 18:00; sábado, das 08:00 às 12:00.");
  CHECK(reply_text("What are your opening hours?", c) ==
        "We're open Monday to Friday 08:00–18:00; Saturday 08:00–12:00.");
  // Change the profile: the reply follows.
  for (int d = 1; d <= 5; ++d)
    c.working_hours[d] = {{9 * 60, 12 * 60}, {13 * 60 + 30, 19 * 60}};
  c.working_hours[6].clear();
  CHECK(reply_text("horario de funcionamento", c) ==
        "Abrimos de segunda a sexta, das 09:00 às 12:00 e das 13:30 às 19:00.");
  // A day asked about is answered first (23/11/2026 is a Monday; next Saturday is 28/11).
  auto demo = demo_clinic();
  auto sat = reply_text("vcs abrem sabado?", demo);
  CHECK(contains(sat, "No sábado, 28/11, abrimos das 08:00 às 12:00."));
  CHECK(contains(sat, "de segunda a sexta, das 08:00 às 18:00"));
  CHECK(contains(reply_text("funcionam domingo?", demo), "No domingo, 29/11, não abrimos."));
  CHECK(contains(reply_text("are you open on sunday?", demo), "On Sunday, 29/11, we're closed."));
  // No hours known: say so and offer a human, never invent.
  clinic_profile none = demo_clinic();
  none.working_hours = {};
  conversation_state state;
  auto d = say("que horas vcs abrem?", none, state);
  CHECK(d.reply->text == "Não tenho essa informação aqui. Quer que eu chame alguém da recepção?");
  CHECK(state.human_offered);
}

TEST_CASE("services list each active service with its price", "[replies]") {
  auto c = demo_clinic();
  c.services.push_back({"svc-x", "Endocrinologia e Metabologia Avançada", 60, 45050, true});
  c.services.push_back({"svc-off", "Acupuntura", 60, 10000, false});
  conversation_state state;
  auto d = say("quais serviços vcs oferecem?", c, state);
  REQUIRE(d.reply);
  auto& m = *d.reply;
  CHECK(m.style == choice_style::list);
  REQUIRE(m.choices.size() == 4);
  CHECK(m.choices[0].id == "service:" + c.services[0].id);
  CHECK(m.choices[0].title == "Clínico geral");
  CHECK(m.choices[0].description == "R$ 200");
  CHECK(m.choices[1].title == "Cardiologia");
  CHECK(m.choices[1].description == "R$ 350");
  CHECK(m.choices[2].description == "R$ 300");
  CHECK(m.choices[3].title == "Endocrinologia e Metabol"); // 24 characters
  CHECK(m.choices[3].description == "R$ 450,50");
  CHECK(contains(m.text, "Cardiologia — R$ 350"));
  CHECK(contains(m.text, "Dermatologia — R$ 300"));
  CHECK(!contains(m.text, "Acupuntura")); // inactive
  // At most 10 rows.
  for (int k = 0; k < 12; ++k)
    c.services.push_back({"s" + std::to_string(k), "Serviço " + std::to_string(k), 30, 1000, true});
  conversation_state s2;
  CHECK(say("tabela de preços", c, s2).reply->choices.size() == 10);
  // The price of one named service.
  CHECK(reply_text("quanto custa a consulta de cardio?", demo_clinic()) ==
        "A consulta de Cardiologia custa R$ 350. Quer marcar um horário? 😊");
  CHECK(reply_text("how much is dermatology?", demo_clinic()) ==
        "A Dermatology appointment costs R$ 300. Would you like to book one?");
}

TEST_CASE("location gives the address and phone", "[replies]") {
  auto c = demo_clinic();
  auto t = reply_text("kd o endereço", c);
  CHECK(contains(t, c.address));
  CHECK(contains(t, c.phone));
  c.address = "Av. Brasil, 500 — Sala 3";
  c.phone.clear();
  CHECK(reply_text("where are you located?", c) == "We're at Av. Brasil, 500 — Sala 3.");
  c.address.clear();
  CHECK(contains(reply_text("onde fica?", c), "Não tenho essa informação aqui."));
}

TEST_CASE("asking for a person hands over and silences the bot", "[replies][handoff]") {
  auto c = demo_clinic();
  conversation_state state;
  auto d = say("quero falar com uma pessoa", c, state);
  CHECK(d.reply->text == "Claro! Já avisei a recepção; alguém vai continuar a conversa por aqui em breve.");
  CHECK(d.handoff_started);
  CHECK(state.handoff);
  auto next = say("oi??", c, state);
  CHECK(!next.reply);
  CHECK(!next.handoff_started);
}

TEST_CASE("out of scope and unknown clinic questions", "[replies][handoff]") {
  auto c = demo_clinic();
  conversation_state state;
  auto d = say("qual a capital da França?", c, state);
  CHECK(d.reply->text ==
        "Eu só consigo ajudar com assuntos da Clínica Exemplo: consultas, horários, serviços e endereço. 🙂");
  CHECK(state.unknown_streak == 1);
  // A clinic question we have no data for: say so, offer a human; "sim" hands over.
  conversation_state s2;
  auto u = say("aceitam unimed?", c, s2);
  CHECK(u.reply->text == "Não tenho essa informação aqui. Quer que eu chame alguém da recepção?");
  auto yes = say("sim", c, s2);
  CHECK(yes.handoff_started);
  CHECK(s2.handoff);
  CHECK(contains(yes.reply->text, "Já avisei a recepção"));
  // "não" declines politely and keeps the bot on.
  conversation_state s3;
  say("aceitam unimed?", c, s3);
  auto no = say("não", c, s3);
  CHECK(!s3.handoff);
  CHECK(contains(no.reply->text, "mais alguma coisa"));
}

TEST_CASE("three misunderstandings in a row hand over", "[replies][handoff]") {
  auto c = demo_clinic();
  conversation_state state;
  CHECK(!say("qual a capital da França?", c, state).handoff_started);
  CHECK(!say("asdfgh", c, state).handoff_started);
  auto third = say("me conta uma piada", c, state);
  CHECK(third.handoff_started);
  CHECK(state.handoff);
  CHECK(contains(third.reply->text, "recepção"));

  // An understood message resets the streak.
  conversation_state s2;
  say("asdfgh", c, s2);
  say("qual a capital da França?", c, s2);
  say("qual o endereço?", c, s2);
  CHECK(s2.unknown_streak == 0);
  CHECK(!say("asdfgh", c, s2).handoff_started);

  // The threshold comes from ai_behavior.
  c.ai_behavior.escalation_threshold = 1;
  conversation_state s3;
  CHECK(say("asdfgh", c, s3).handoff_started);
  // Without auto escalation the bot keeps answering.
  c.ai_behavior.auto_escalation = false;
  conversation_state s4;
  for (int k = 0; k < 5; ++k)
    CHECK(!say("asdfgh", c, s4).handoff_started);
  CHECK(!s4.handoff);
}

TEST_CASE("scheduling intents until the appointment flow takes them", "[replies]") {
  auto c = demo_clinic();
  conversation_state state;
  auto book = say("quero marcar uma consulta", c, state);
  CHECK(book.reply->text.rfind("Claro! Qual serviço você procura?", 0) == 0);
  CHECK(book.reply->style == choice_style::list);
  CHECK(book.reply->choices.size() == 3);
  CHECK(book.reply->choices[1].id == "service:" + c.services[1].id);
  // Reschedule, cancel and "my appointments" do not pretend to know appointments.
  for (auto text : {"preciso remarcar minha consulta", "cancelar minha consulta", "minhas consultas"}) {
    conversation_state s;
    auto d = say(text, c, s);
    CAPTURE(text);
    CHECK(contains(d.reply->text, "recepção"));
    CHECK(!contains(d.reply->text, "/11"));
    CHECK(s.human_offered);
    CHECK(!s.handoff);
  }
  conversation_state en;
  CHECK(contains(say("I want to cancel my appointment", c, en).reply->text, "front desk"));
}

TEST_CASE("language and formality", "[replies]") {
  auto c = demo_clinic();
  conversation_state state;
  say("What are your opening hours?", c, state);
  CHECK(state.lang == "en");
  say("qual o endereço?", c, state);
  CHECK(state.lang == "pt-BR");
  // An English-only clinic answers unclear messages in English.
  c.language = "en";
  conversation_state s2;
  decide_reply(make(intent::goodbye, "pt-BR"), c, s2, false);
  CHECK(s2.lang == "en");
  // Formal tone: no emojis in built texts.
  auto f = demo_clinic();
  f.ai_personality.tone = "formal";
  f.ai_personality.greeting.clear();
  conversation_state s3;
  auto g = decide_reply(make(intent::greeting), f, s3, true);
  CHECK(g.reply->text == "Olá! Eu sou a Sofia, assistente da Clínica Exemplo. Como posso ajudar?");
  CHECK(reply_text("qual a capital da França?", f).find("🙂") == std::string::npos);
  f.ai_personality.tone = "friendly";
  f.ai_personality.formality_level = "high";
  CHECK(reply_text("qual a capital da França?", f).find("🙂") == std::string::npos);
}

TEST_CASE("conversation state JSON round trip, lenient", "[state]") {
  conversation_state s;
  s.lang = "en";
  s.unknown_streak = 2;
  s.handoff = true;
  s.flow = {{"step", "choose_slot"}};
  s.human_offered = true;
  auto j = to_json(s);
  auto back = conversation_state_from_json(j);
  CHECK(back.lang == "en");
  CHECK(back.unknown_streak == 2);
  CHECK(back.handoff);
  CHECK(back.flow == s.flow);
  CHECK(back.human_offered);
  auto empty = conversation_state_from_json(nlohmann::json::object());
  CHECK(empty.lang.empty());
  CHECK(empty.unknown_streak == 0);
  CHECK(!empty.handoff);
  CHECK(empty.flow.is_null());
  auto odd = conversation_state_from_json({{"unknown_streak", "x"}, {"handoff", true}});
  CHECK(odd.unknown_streak == 0);
  CHECK(odd.handoff);
  CHECK(!conversation_state_from_json(nullptr).handoff);
}

TEST_CASE("clinic questions are answered from the clinic's FAQ, or honestly not", "[replies][faq]") {
  auto c = demo_clinic();
  c.faq = {
    {"f1", "Vocês aceitam convênio?", "Atendemos Unimed e Bradesco Saúde; os demais, como particular com recibo.",
     {"convênio", "plano de saúde"}, "pt-BR"},
    {"f2", "Tem estacionamento?", "Sim! Estacionamento conveniado ao lado, 2 horas grátis.", {"parking"}, ""},
    {"f3", "Do you take health insurance?", "We take Unimed and Bradesco Saúde.", {"insurance"}, "en"},
    {"f4", "Preciso de jejum para o exame de sangue?", "Sim, jejum de 8 horas; água pode.", {"preparo", "exame"},
     "pt-BR"},
  };
  // A recognised clinic question: its topic finds the entry, in the patient's language.
  CHECK(reply_text("aceitam unimed?", c) == c.faq[0].answer);
  CHECK(reply_text("do you accept insurance?", c) == c.faq[2].answer);
  CHECK(reply_text("tem onde estacionar?", c) == c.faq[1].answer);
  // An entry in no particular language, written in Portuguese: said so to an English speaker.
  CHECK(reply_text("is there parking?", c) == "Sorry, I only have this answer in Portuguese:\n\n" + c.faq[1].answer);
  CHECK(reply_text("tenho que ir em jejum pro exame?", c) == c.faq[3].answer);
  // No entry for the topic: "não tenho essa informação" and the offer of a human, whom
  // a "sim" then calls.
  conversation_state state;
  auto d = say("posso pagar com pix?", c, state);
  REQUIRE(d.reply);
  CHECK(contains(d.reply->text, "Não tenho essa informação"));
  CHECK(contains(d.reply->text, "recepção"));
  CHECK(state.human_offered);
  auto yes = say("sim", c, state);
  CHECK(yes.handoff_started);
  // In English when the patient writes English.
  auto en = reply_text("can I pay by card?", c);
  CHECK(contains(en, "I don't have that information"));
  // Without any FAQ the same honest answer.
  CHECK(contains(reply_text("aceitam unimed?", demo_clinic()), "Não tenho essa informação"));
}

TEST_CASE("a FAQ answer only in another language says so politely first", "[replies][faq]") {
  auto c = demo_clinic();
  c.faq = {
    {"f1", "Vocês aceitam convênio?", "Atendemos Unimed e Bradesco Saúde; os demais, como particular com recibo.",
     {"convênio", "plano de saúde"}, "pt-BR"},
    {"f2", "Is there parking?", "Yes, there is free parking for two hours next door.", {"parking"}, "en"},
    {"f3", "Tem wifi?", "Temos sim, a senha fica na recepção.", {"wifi"}, ""},
  };
  // An English speaker, an entry only in Portuguese: an English lead-in, then the clinic's text.
  auto en = reply_text("do you take unimed?", c);
  CHECK(en == "Sorry, I only have this answer in Portuguese:\n\n" + c.faq[0].answer);
  // A Portuguese speaker, an entry only in English: the same in Portuguese.
  auto pt = reply_text("tem estacionamento?", c);
  CHECK(pt == "Desculpe, tenho essa resposta apenas em inglês:\n\n" + c.faq[1].answer);
  // The patient's own language: the text alone, whether declared or read from its words.
  CHECK(reply_text("is there parking?", c) == c.faq[1].answer);
  CHECK(reply_text("vcs tem wifi?", c) == c.faq[2].answer);
  CHECK(reply_text("do you have wifi?", c) == "Sorry, I only have this answer in Portuguese:\n\n" + c.faq[2].answer);
}

TEST_CASE("a message the rules do not understand is answered when it matches a FAQ entry", "[replies][faq]") {
  auto c = demo_clinic();
  c.faq = {{"f1", "Vocês emitem nota fiscal da consulta?", "Sim, a nota fiscal sai por e-mail no mesmo dia.",
            {"nota fiscal"}, "pt-BR"}};
  conversation_state state;
  auto d = say("vcs emitem nota fiscal?", c, state);
  REQUIRE(d.reply);
  CHECK(d.reply->text == c.faq[0].answer);
  CHECK(state.unknown_streak == 0);
  // Unrelated words never pick an entry by accident.
  auto other = say("qual a capital da França?", c, state);
  REQUIRE(other.reply);
  CHECK(other.reply->text != c.faq[0].answer);
}
