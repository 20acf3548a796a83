// LGPD (issue 21), end to end: the clinic's legal basis and notice through the API; under
// health_protection the first reply carries the notice once; under consent health matters
// wait for Aceito (hours and the address are answered meanwhile), a refusal is respected
// and recorded, "revogar consentimento" revokes, every event is an append-only row and
// staff see the state in the inbox; a patient's data is exported as one document and each
// read of it is audited; "quero meus dados" goes to staff.
#include <catch2/catch.hpp>

#include "support/clock_node.hpp"

using namespace atendeai::test;
using nlohmann::json;

namespace {

using namespace atendeai::test::demo;

struct privacy_node : clock_node {
  json set_privacy(const json& body) { return call(admin, "PUT", path("/privacy"), body, 200); }
  std::string contact_of(const std::string& patient) {
    return scalar("SELECT id FROM atendeai.contacts WHERE external_id = '" + patient + "'");
  }
  std::string events_of(const std::string& patient) {
    return scalar("SELECT string_agg(event, ',' ORDER BY at, id) FROM atendeai.consent_events WHERE contact_id = '" +
                  contact_of(patient) + "'");
  }
};

} // namespace

TEST_CASE("Privacy under health_protection: the first reply carries the notice once, settings are checked",
          "[privacy]") {
  privacy_node n;
  auto shown = n.call(n.admin, "GET", n.path("/privacy"), json(), 200);
  CHECK(shown["legal_basis"] == "health_protection"); // the deployment's default
  CHECK(shown["retention_days"] == 365);
  auto set = n.set_privacy({{"dpo_contact", "dpo@clinica.example"}, {"policy_url", "https://clinica.example/lgpd"}});
  CHECK(set["dpo_contact"] == "dpo@clinica.example");
  CHECK(n.scalar("SELECT action FROM atendeai.audit_log WHERE action = 'privacy.update'") == "privacy.update");

  const std::string p = "5511900005001";
  auto first = text_of(n.say_now(p, "oi"));
  CHECK(contains_text(first, "🔒 A Clínica Exemplo usa seus dados para o seu atendimento e agendamentos (LGPD)."));
  CHECK(contains_text(first, "Encarregado de dados: dpo@clinica.example."));
  CHECK(contains_text(first, "https://clinica.example/lgpd"));
  auto second = text_of(n.say_now(p, "que horas vocês abrem?"));
  CHECK_FALSE(contains_text(second, "LGPD"));
  // A booking takes the same messages as before: straight to the times.
  CHECK(contains_text(text_of(n.say_now(p, "quero marcar cardiologia")), "Cardiologia"));

  n.refused(n.admin, "PUT", n.path("/privacy"), {{"legal_basis", "maybe"}}, 422, "legal_basis");
  n.refused(n.admin, "PUT", n.path("/privacy"), {{"retention_days", 5}}, 422, "retention_days");
  n.refused(n.admin, "PUT", n.path("/privacy"), {{"policy_url", "ftp://x"}}, 422, "policy_url");
  n.refused(n.admin, "PUT", n.path("/privacy"), {{"on_erasure", "shred"}}, 422, "on_erasure");
  n.refused(n.admin, "PUT", n.path("/privacy"), {{"foo", 1}}, 422, "foo");
  auto attendant = n.user("attendant").second;
  n.call(attendant, "PUT", n.path("/privacy"), {{"notice", "x"}}, 403);
}

TEST_CASE("Privacy under consent: asked before health matters, refused, accepted, revoked, each event recorded",
          "[privacy]") {
  privacy_node n;
  n.set_privacy({{"legal_basis", "consent"}, {"dpo_contact", "dpo@clinica.example"}});
  const std::string p = "5511900005101";

  auto hello = n.say_now(p, "oi");
  CHECK(contains_text(text_of(hello), "você concorda com o uso dos seus dados"));
  CHECK(n.button_ids(hello) == std::vector<std::string>{"consent:give", "consent:refuse"});
  // A health matter waits for consent; the opening hours need no personal data.
  CHECK(contains_text(text_of(n.say_now(p, "quero marcar cardiologia")), "você concorda"));
  CHECK_FALSE(contains_text(text_of(n.say_now(p, "qual o endereço de vocês?")), "você concorda"));
  CHECK(n.count("SELECT count(*) FROM atendeai.consent_events") == 0);

  // Refused: respected and recorded; asked again (worded for it) when a health matter comes.
  CHECK(contains_text(text_of(n.tap_button(p, "consent:refuse", "Não aceito")), "respeitamos sua escolha"));
  CHECK(contains_text(text_of(n.say_now(p, "quero marcar cardiologia")), "Como você não concordou"));
  // Accepted by typing: the booking goes on as usual.
  CHECK(contains_text(text_of(n.say_now(p, "aceito")), "Obrigado! Como posso ajudar?"));
  CHECK(contains_text(text_of(n.say_now(p, "quero marcar cardiologia")), "Cardiologia"));
  // Revoked at any time.
  CHECK(contains_text(text_of(n.say_now(p, "quero revogar consentimento")), "revogado"));
  CHECK(contains_text(text_of(n.say_now(p, "quero remarcar minha consulta")), "você concorda"));
  CHECK(n.events_of(p) == "refused,given,revoked");
  CHECK(n.scalar("SELECT DISTINCT legal_basis FROM atendeai.consent_events") == "consent");
  CHECK(n.scalar("SELECT length(text_version) FROM atendeai.consent_events LIMIT 1") == "64");

  // Staff see the state in the inbox; the application role cannot change an event.
  auto cid = n.conversation_of(p);
  auto conversation = n.call(n.admin, "GET", n.path("/conversations/" + cid), json(), 200);
  CHECK(conversation["consent"]["state"] == "revoked");
  {
    auto c = n.db.connect();
    pqxx::work tx(*c);
    tx.exec("SET ROLE atendeai_app");
    tx.exec("SELECT set_config('app.clinic_id', '" + clinic_id + "', true)");
    CHECK(tx.exec("SELECT count(*) FROM atendeai.consent_events")[0][0].as<int>() == 3); // it reads them
    std::string refused;
    try {
      tx.exec("UPDATE atendeai.consent_events SET event = 'given'");
    } catch (const pqxx::sql_error& e) {
      refused = e.what();
    }
    CHECK(contains_text(refused, "permission denied"));
  }
  CHECK(n.events_of(p) == "refused,given,revoked");

  // English, by a tap.
  const std::string en = "5511900005102";
  auto asked = n.say_now(en, "hello, I'd like to book a dermatology appointment");
  CHECK(contains_text(text_of(asked), "do you agree"));
  CHECK(contains_text(text_of(n.tap_button(en, "consent:give", "I agree")), "Thank you! How can I help you?"));
  CHECK(n.events_of(en) == "given");
}

TEST_CASE("A patient's data: exported as one document, every read audited, and asked for in the chat",
          "[privacy]") {
  privacy_node n;
  n.no_notices();
  const std::string p = "5511900005201";
  n.say_now(p, "oi");
  auto aid = n.book(p, "2030-03-06T10:00:00-03:00");
  auto contact = n.contact_of(p);
  auto doc = n.call(n.admin, "GET", n.path("/contacts/" + contact + "/export"), json(), 200);
  CHECK(doc["contact"]["phone"] == p);
  CHECK(doc["contact"]["name"] == "Maria Teste");
  REQUIRE(doc["conversations"].size() == 1);
  auto messages = doc["conversations"][0]["messages"];
  REQUIRE(messages.size() >= 2);
  CHECK(messages[0]["direction"] == "in");
  CHECK(messages[0]["text"] == "oi");
  CHECK(messages[1]["direction"] == "out");
  CHECK(contains_text(messages[1]["text"].get<std::string>(), "LGPD"));
  REQUIRE(doc["appointments"].size() == 1);
  CHECK(doc["appointments"][0]["id"] == aid);
  CHECK(doc["appointments"][0]["service"] == "Cardiologia");
  CHECK(doc["consent_events"].empty());

  // Each read names the contact in the audit: "who saw my data".
  n.call(n.admin, "GET", n.path("/conversations/" + n.conversation_of(p)), json(), 200);
  auto seen = n.call(n.admin, "GET", "/api/v1/audit?clinic_id=" + clinic_id + "&contact_id=" + contact, json(), 200);
  std::vector<std::string> actions;
  for (auto& row : seen["items"])
    actions.push_back(row["action"].get<std::string>());
  CHECK(std::find(actions.begin(), actions.end(), "contact.export") != actions.end());
  CHECK(std::find(actions.begin(), actions.end(), "conversation.read") != actions.end());

  n.call(n.admin, "GET", n.path("/contacts/00000000-0000-4000-8000-000000000000/export"), json(), 404);
  auto professional = n.user("professional").second;
  n.call(professional, "GET", n.path("/contacts/" + contact + "/export"), json(), 403);

  // Asked for in the chat: staff are told (the conversation is handed over), nothing is sent.
  CHECK(contains_text(text_of(n.say_now(p, "quero uma cópia dos meus dados")), "Recebemos seu pedido"));
  CHECK(n.call(n.admin, "GET", n.path("/conversations/" + n.conversation_of(p)), json(), 200)["handoff"] == true);
}
