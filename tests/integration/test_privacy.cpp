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

namespace {

/// The tables of schema atendeai where any row's text holds `needle` (every column,
/// case-insensitively), comma-separated; "" when none does.
std::string tables_holding(const privacy_node& n, const std::string& needle) {
  return n.scalar("SELECT coalesce(string_agg(t, ',' ORDER BY t), '') FROM (SELECT c.relname::text AS t FROM pg_class c "
                  "JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'atendeai' AND c.relkind = 'r') x "
                  "WHERE (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM atendeai.%I r "
                  "WHERE r::text ILIKE %L', t, '%" + needle + "%'), false, true, '')))[1]::text::int > 0");
}

json erase(privacy_node& n, const std::string& contact, const json& body, int status) {
  return n.call(n.admin, "DELETE", n.path("/contacts/" + contact), body, status);
}

} // namespace

TEST_CASE("Erasure by staff: the patient's texts, name and number gone from every table and actor, idempotent",
          "[privacy]") {
  privacy_node n;
  n.no_notices();
  const std::string p = "5511900005301";
  n.say_now(p, "oi, sou a Joana Xavantes, meu email é joana.secreta@example.com");
  auto aid = n.book(p, "2030-03-06T10:00:00-03:00");
  n.say_now(p, "quero marcar dermatologia"); // the conversation's memory holds a flow now
  auto contact = n.contact_of(p);
  auto conversation = n.conversation_of(p);
  REQUIRE(tables_holding(n, "Xavantes") != "");
  REQUIRE(tables_holding(n, p) != "");

  // Bad input.
  n.refused(n.admin, "DELETE", n.path("/contacts/" + contact), json::object(), 422, "reason");
  n.refused(n.admin, "DELETE", n.path("/contacts/" + contact), {{"reason", " "}}, 422, "reason");
  erase(n, "00000000-0000-4000-8000-000000000000", {{"reason", "pedido do paciente"}}, 404);
  auto attendant = n.user("attendant").second;
  n.call(attendant, "DELETE", n.path("/contacts/" + contact), {{"reason", "pedido do paciente"}}, 403);
  CHECK(tables_holding(n, "Xavantes") != "");

  erase(n, contact, {{"reason", "pedido do paciente"}}, 204);
  for (const auto& needle : {std::string("Xavantes"), std::string("joana.secreta"), p, std::string("Maria Teste")})
    CHECK(tables_holding(n, needle) == "");
  // Nothing of it in the inbox, the export or the live actors.
  n.call(n.admin, "GET", n.path("/conversations/" + conversation), json(), 404);
  CHECK(n.call(n.admin, "GET", n.path("/conversations"), json(), 200)["total"] == 0);
  n.call(n.admin, "GET", n.path("/contacts/" + contact + "/export"), json(), 404);
  auto inspected = n.call(n.super_token(), "GET", "/api/v1/admin/clinics/" + clinic_id + "/actors", json(), 200).dump();
  CHECK(inspected.find(conversation) == std::string::npos);
  CHECK(inspected.find(p) == std::string::npos);
  // The agenda keeps the appointment, without the patient's data; the audit keeps who and why.
  CHECK(n.status_of(aid) == "scheduled");
  CHECK(n.scalar("SELECT after ->> 'reason' FROM atendeai.audit_log WHERE action = 'contact.erase' AND target_id = '" +
                 contact + "'") == "pedido do paciente");
  CHECK(n.count("SELECT count(*) FROM atendeai.audit_log WHERE target_id IN ('" + contact + "', '" + conversation +
                "', '" + aid + "') AND action <> 'contact.erase' AND (before IS NOT NULL OR after IS NOT NULL)") == 0);

  // Idempotent.
  erase(n, contact, {{"reason", "pedido do paciente"}}, 204);
  CHECK(n.count("SELECT count(*) FROM atendeai.audit_log WHERE action = 'contact.erase'") == 1);

  // The same phone writing again is a new patient.
  auto again = text_of(n.say_now(p, "oi"));
  CHECK_FALSE(again.empty());
  CHECK(n.count("SELECT count(*) FROM atendeai.contacts WHERE external_id = '" + p + "'") == 1);
  CHECK(n.contact_of(p) != contact);
  CHECK(n.conversation_of(p) != conversation);
}

TEST_CASE("Erasure asked in the chat: confirmed with a button (or called off), in both languages", "[privacy]") {
  privacy_node n;
  n.no_notices();
  const std::string p = "5511900005401";
  n.say_now(p, "oi, aqui é a Berenice Quintanilha");
  auto asked = n.say_now(p, "quero apagar meus dados");
  CHECK(contains_text(text_of(asked), "Vou apagar de vez suas mensagens"));
  CHECK(n.button_ids(asked) == std::vector<std::string>{"erasure:confirm", "erasure:cancel"});
  CHECK(contains_text(text_of(n.tap_button(p, "erasure:cancel", "Não apagar")), "nada foi apagado"));
  CHECK(tables_holding(n, "Quintanilha") != "");
  n.say_now(p, "quero apagar meus dados");
  CHECK(contains_text(text_of(n.say_now(p, "sim, pode apagar")), "seus dados estão sendo apagados"));
  auto contact = n.contact_of(p);
  REQUIRE(eventually([&] { return n.scalar("SELECT erased_at IS NOT NULL FROM atendeai.contacts WHERE external_id = "
                                           "'erased:' || id AND clinic_id = '" + clinic_id + "'") == "t"; }));
  CHECK(tables_holding(n, "Quintanilha") == "");
  CHECK(tables_holding(n, p) == "");
  CHECK(n.scalar("SELECT after ->> 'by' FROM atendeai.audit_log WHERE action = 'contact.erase'") == "patient");

  const std::string q = "5511900005402";
  auto en = n.say_now(q, "please delete my data");
  CHECK(contains_text(text_of(en), "permanently erase your messages"));
  CHECK(contains_text(text_of(n.tap_button(q, "erasure:confirm", "Erase my data")), "your data is being erased"));
  REQUIRE(eventually([&] { return tables_holding(n, q) == ""; }));
}

TEST_CASE("Erasure where records must be kept: restricted, hidden from every view, exported only for the authorities",
          "[privacy]") {
  privacy_node n;
  n.no_notices();
  n.set_privacy({{"on_erasure", "restrict"}});
  const std::string p = "5511900005501";
  n.say_now(p, "oi, sou o Teodoro Albuquerque");
  auto contact = n.contact_of(p);
  auto conversation = n.conversation_of(p);
  erase(n, contact, {{"reason", "pedido do paciente"}}, 204);
  // Kept (the clinic's legal duty), identifiable, but out of every view and use.
  CHECK(tables_holding(n, "Albuquerque") != "");
  n.call(n.admin, "GET", n.path("/conversations/" + conversation), json(), 404);
  CHECK(n.call(n.admin, "GET", n.path("/conversations"), json(), 200)["total"] == 0);
  n.call(n.admin, "GET", n.path("/contacts/" + contact + "/export"), json(), 404);
  auto doc = n.call(n.admin, "GET", n.path("/contacts/" + contact + "/export?purpose=authorities"), json(), 200);
  CHECK(doc["contact"]["phone"] == p);
  CHECK_FALSE(doc["contact"]["restricted_at"].is_null());
  auto curious = api(*n.node, n.admin, "GET", n.path("/contacts/" + contact + "/export?purpose=curiosity"), "");
  CHECK(curious.status == 422);
  CHECK(curious.json()["error"].value("field", "") == "purpose");
  CHECK(n.scalar("SELECT action FROM atendeai.audit_log WHERE action = 'contact.export_authorities'") ==
        "contact.export_authorities");
  erase(n, contact, {{"reason", "pedido do paciente"}}, 204);
  // A new message from the same phone starts a fresh contact.
  n.say_now(p, "oi");
  CHECK(n.contact_of(p) != contact);
}

TEST_CASE("Retention: the daily job anonymises messages and memories older than the clinic's retention",
          "[privacy]") {
  privacy_node n;
  n.no_notices();
  n.set_privacy({{"retention_days", 30}});
  const std::string old_patient = "5511900005601", recent_patient = "5511900005602";
  n.say_now(old_patient, "oi, sou a Rosalina Pimentel");
  n.say_now(recent_patient, "oi, sou o Anacleto Vasconcelos");
  const auto old_conversation = n.conversation_of(old_patient);
  // Their rows as if written 40 and 5 days ago (ages are PostgreSQL's, which stamped
  // them); the memories as left by a booking the patient never finished, and a request
  // for no proactive messages.
  auto age = [&](const std::string& conversation, int days) {
    auto when = "now() - interval '" + std::to_string(days) + " days'";
    for (auto table : {"inbound_messages", "outbound_messages"})
      n.scalar("WITH u AS (UPDATE atendeai." + std::string(table) + " SET created_at = " + when +
               " WHERE conversation_id = '" + conversation + "' RETURNING 1) SELECT count(*) FROM u");
    n.scalar("WITH u AS (INSERT INTO atendeai.conversation_memory (clinic_id, conversation_id, state, updated_at) "
             "SELECT clinic_id, id, '{\"lang\": \"\", \"opted_out\": true, \"flow\": {\"step\": \"pick_slot\"}}', " +
             when + " FROM atendeai.conversations WHERE id = '" + conversation +
             "' ON CONFLICT (clinic_id, conversation_id) DO UPDATE SET state = excluded.state || "
             "atendeai.conversation_memory.state - 'flow' - 'opted_out', updated_at = excluded.updated_at RETURNING 1) "
             "SELECT count(*) FROM u");
  };
  age(old_conversation, 40);
  age(n.conversation_of(recent_patient), 5);
  REQUIRE(tables_holding(n, "Rosalina") != "");
  const std::string old_memory =
    "SELECT state::text FROM atendeai.conversation_memory WHERE conversation_id = '" + old_conversation + "'";
  REQUIRE(contains_text(n.scalar(old_memory), "\"flow\": {"));

  // The next local day's job (03:00 in São Paulo) runs on the clinic's owner.
  n.advance(std::chrono::hours(24));
  REQUIRE(eventually([&] { return tables_holding(n, "Rosalina") == ""; }));
  auto memory = json::parse(n.scalar(old_memory));
  CHECK_FALSE(memory.contains("flow"));  // what the patient was booking: gone
  CHECK(memory["opted_out"] == true);    // their choice: kept
  CHECK(tables_holding(n, "Vasconcelos") != ""); // 5 days old: kept
  CHECK(n.count("SELECT count(*) FROM atendeai.inbound_messages WHERE conversation_id = '" + old_conversation +
                "'") == 1); // the row and its time stay
  CHECK(n.scalar("SELECT state FROM atendeai.jobs WHERE kind = 'retention' AND cause_key = 'retention:2030-03-05'") ==
        "done");
  CHECK(n.metric("atendeai_retention_anonymised_total{what=\"messages\"}") >= 2);
  CHECK(n.metric("atendeai_retention_anonymised_total{what=\"memories\"}") >= 1);
}
