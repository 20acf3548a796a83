// LGPD decisions (core/privacy): the clinic's settings and their refusals, the notice
// built from its data, the consent request and its answers in both languages, what needs
// no personal data, and a patient asking for their data.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/demo_clinic.hpp"
#include "core/privacy.hpp"

using namespace atendeai::core;
using nlohmann::json;

TEST_CASE("privacy: settings read, defaulted and refused naming the member", "[privacy]") {
  privacy_settings s;
  CHECK(to_json(s, "health_protection")["legal_basis"] == "health_protection");
  CHECK(to_json(s, "consent")["legal_basis"] == "consent");
  s = privacy_settings_from_json({{"legal_basis", "consent"}, {"retention_days", 730}, {"on_erasure", "restrict"},
                                  {"policy_url", "https://x.example/p"}},
                                 s);
  CHECK(legal_basis_of(s, "health_protection") == "consent");
  CHECK(s.retention_days == 730);
  CHECK(s.on_erasure == "restrict");
  auto refusal = [&](const json& j) {
    try {
      privacy_settings_from_json(j, s);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(refusal({{"legal_basis", "legitimate_interest"}}).rfind("legal_basis:", 0) == 0);
  CHECK(refusal({{"retention_days", 29}}).rfind("retention_days:", 0) == 0);
  CHECK(refusal({{"retention_days", "365"}}).rfind("retention_days:", 0) == 0);
  CHECK(refusal({{"policy_url", "javascript:alert(1)"}}).rfind("policy_url:", 0) == 0);
  CHECK(refusal({{"notice", std::string(701, 'a')}}).rfind("notice:", 0) == 0);
  CHECK(refusal({{"whatever", 1}}).rfind("whatever:", 0) == 0);
  CHECK(refusal(json::array()).rfind("body:", 0) == 0);
}

TEST_CASE("privacy: the notice, on the first reply, within WhatsApp's limit", "[privacy]") {
  auto clinic = demo_clinic();
  privacy_settings s;
  s.dpo_contact = "dpo@clinica.example";
  s.policy_url = "https://clinica.example/lgpd";
  auto pt = privacy_notice_text(clinic, s, false);
  CHECK(pt == "🔒 A Clínica Exemplo usa seus dados para o seu atendimento e agendamentos (LGPD). Encarregado de "
              "dados: dpo@clinica.example. Política de privacidade: https://clinica.example/lgpd");
  CHECK(privacy_notice_text(clinic, s, true).rfind("🔒 Clínica Exemplo uses your data", 0) == 0);
  s.notice = "Aviso da clínica.";
  CHECK(privacy_notice_text(clinic, s, false) == "Aviso da clínica.");

  outbound_message plain;
  plain.text = "Olá!";
  CHECK(add_privacy_notice(plain, "Aviso."));
  CHECK(plain.text == "Olá!\n\nAviso.");
  outbound_message long_buttons;
  long_buttons.style = choice_style::buttons;
  long_buttons.text = std::string(1000, 'a');
  CHECK_FALSE(add_privacy_notice(long_buttons, "Aviso da clínica com mais de vinte e quatro letras."));
  CHECK(long_buttons.text.size() == 1000);
}

TEST_CASE("privacy: the consent request and its answers", "[privacy]") {
  auto clinic = demo_clinic();
  privacy_settings s;
  auto ask = consent_request(clinic, s, false, false);
  REQUIRE(ask.choices.size() == 2);
  CHECK(ask.choices[0].id == "consent:give");
  CHECK(ask.choices[0].title == "Aceito");
  CHECK(ask.choices[1].title == "Não aceito");
  CHECK(ask.text.find("você concorda com o uso dos seus dados") != std::string::npos);
  CHECK(consent_request(clinic, s, false, true).text.find("Como você não concordou") != std::string::npos);
  CHECK(consent_request(clinic, s, true, false).choices[0].title == "I agree");

  CHECK(read_consent("consent:give", "Aceito", false) == consent_event::given);
  CHECK(read_consent("consent:refuse", "Não aceito", false) == consent_event::refused);
  CHECK_FALSE(read_consent("confirm", "Confirmar", true));
  // Typed answers count only right after the request; a revocation at any time.
  for (auto yes : {"aceito", "Concordo!", "sim", "I agree", "de acordo"})
    CHECK(read_consent("", yes, true) == consent_event::given);
  for (auto no : {"não aceito", "nao concordo", "não", "I don't agree"})
    CHECK(read_consent("", no, true) == consent_event::refused);
  CHECK_FALSE(read_consent("", "sim", false));
  CHECK_FALSE(read_consent("", "quero marcar consulta", true));
  for (auto revoke : {"quero revogar consentimento", "retiro meu consentimento", "I want to withdraw my consent"})
    CHECK(read_consent("", revoke, false) == consent_event::revoked);

  CHECK(consent_answer_text(consent_event::refused, clinic, false).find("respeitamos sua escolha") != std::string::npos);
  CHECK(to_string(consent_event::revoked) == "revoked");
}

TEST_CASE("privacy: what is answered before consent, and a patient asking for their data", "[privacy]") {
  for (auto i : {intent::hours, intent::location, intent::services, intent::greeting, intent::goodbye})
    CHECK(needs_no_personal_data(i));
  for (auto i : {intent::book, intent::reschedule, intent::cancel, intent::my_appointments, intent::clinic_question,
                 intent::unknown, intent::human})
    CHECK_FALSE(needs_no_personal_data(i));
  for (auto ask : {"quero meus dados", "Quero uma cópia dos meus dados pessoais", "please send me my personal data"})
    CHECK(reads_data_request(ask));
  for (auto other : {"quero marcar", "meu dado de contato mudou?", "qual o endereço"})
    CHECK_FALSE(reads_data_request(other));
}

TEST_CASE("privacy: a patient asking for their data to be erased, and confirming it", "[privacy]") {
  for (auto ask : {"quero apagar meus dados", "Por favor excluam meu cadastro", "please delete my data",
                   "erase my personal data", "pode remover minhas informações?"})
    CHECK(reads_erasure_request(ask));
  for (auto other : {"quero meus dados", "apagar a consulta de amanhã", "delete my appointment", "quero marcar"})
    CHECK_FALSE(reads_erasure_request(other));
  CHECK(read_erasure_answer("erasure:confirm", "Apagar meus dados", false) == true);
  CHECK(read_erasure_answer("erasure:cancel", "Não apagar", false) == false);
  CHECK_FALSE(read_erasure_answer("consent:give", "Aceito", true));
  CHECK(read_erasure_answer("", "sim, pode apagar", true) == true);
  CHECK(read_erasure_answer("", "não, deixa", true) == false);
  CHECK_FALSE(read_erasure_answer("", "sim", false)); // not asked: a "sim" is about something else
  CHECK_FALSE(read_erasure_answer("", "qual o endereço?", true));
  auto q = erasure_question("anonymise", false);
  CHECK(q.text.find("apagar de vez") != std::string::npos);
  CHECK(erasure_question("restrict", true).text.find("locked") != std::string::npos);
  CHECK(erasure_answer_text(true, "anonymise", false).find("apagados") != std::string::npos);
  CHECK(erasure_answer_text(false, "anonymise", true).find("nothing was erased") != std::string::npos);
}
