// The clinic's knowledge base (issue 17): /api/v1/clinics/{id}/faq[/{qid}] against a
// running node and the real PostgreSQL — create, list, read, update (PUT and PATCH),
// delete, validation naming the field, tenant isolation (404, nothing changed), audit rows
// — and the conversation answering a clinic question from it (or saying it has no such
// information and offering a human), through the fake Graph API.

#include <catch2/catch.hpp>

#include "support/admin_node.hpp"
#include "support/chat.hpp"

using namespace atendeai::test;
using nlohmann::json;

namespace {

const std::string faq_path = "/api/v1/clinics/" + demo::clinic_id + "/faq";

} // namespace

TEST_CASE("faq: entries are created, listed, read, changed and deleted, each with its audit row", "[faq]") {
  logged_in_node n;
  CHECK(n.call(n.demo_admin, "GET", faq_path, nullptr, 200)["items"] == json::array());
  auto created = n.call(n.demo_admin, "POST", faq_path,
                        {{"question", "Vocês aceitam convênio?"},
                         {"answer", "Atendemos Unimed e Bradesco Saúde."},
                         {"tags", {"convênio", "insurance", "convênio"}},
                         {"lang", "pt-BR"}},
                        201);
  std::string id = created["id"];
  CHECK(created["question"] == "Vocês aceitam convênio?");
  CHECK(created["answer"] == "Atendemos Unimed e Bradesco Saúde.");
  CHECK(created["tags"] == json::array({"convênio", "insurance"})); // repeated tags once
  CHECK(created["lang"] == "pt-BR");
  auto plain = n.call(n.demo_admin, "POST", faq_path, {{"question", "Tem estacionamento?"}, {"answer", "Sim, ao lado."}},
                      201);
  CHECK(plain["tags"] == json::array());
  CHECK(plain["lang"].is_null()); // any language

  auto list = n.call(n.demo_admin, "GET", faq_path, nullptr, 200)["items"];
  REQUIRE(list.size() == 2);
  CHECK(list[0]["id"] == id); // oldest first
  CHECK(n.call(n.demo_admin, "GET", faq_path + "/" + id, nullptr, 200) == created);

  // PUT and PATCH both change only the members given.
  auto put = n.call(n.demo_admin, "PUT", faq_path + "/" + id, {{"answer", "Unimed, Amil e Bradesco Saúde."}}, 200);
  CHECK(put["answer"] == "Unimed, Amil e Bradesco Saúde.");
  CHECK(put["question"] == "Vocês aceitam convênio?");
  auto patched = n.call(n.demo_admin, "PATCH", faq_path + "/" + id, {{"tags", {"plano"}}, {"lang", ""}}, 200);
  CHECK(patched["tags"] == json::array({"plano"}));
  CHECK(patched["lang"].is_null());
  CHECK(patched["answer"] == "Unimed, Amil e Bradesco Saúde.");

  auto gone = n.call(n.demo_admin, "DELETE", faq_path + "/" + id, nullptr, 200);
  CHECK(gone["status"] == "deleted");
  CHECK(gone["faq"]["id"] == id);
  n.call(n.demo_admin, "GET", faq_path + "/" + id, nullptr, 404);
  n.call(n.demo_admin, "DELETE", faq_path + "/" + id, nullptr, 404);
  CHECK(n.call(n.demo_admin, "GET", faq_path, nullptr, 200)["items"].size() == 1);

  // One audit row per change, with before and after.
  for (auto action : {"faq.create", "faq.update", "faq.delete"}) {
    INFO(action);
    CHECK(n.count("SELECT count(*) FROM atendeai.audit_log WHERE target_type = 'faq' AND action = '"
                  + std::string(action) + "' AND target_id = '" + id + "'")
          == (std::string(action) == "faq.update" ? 2 : 1));
  }
  auto audit = json::parse(n.db.scalar("SELECT jsonb_build_object('before', before, 'after', after) FROM "
                                       "atendeai.audit_log WHERE action = 'faq.delete' AND target_id = '" + id + "'"));
  CHECK(audit["before"]["answer"] == "Unimed, Amil e Bradesco Saúde.");
  CHECK(audit["after"].is_null());
}

TEST_CASE("faq: validation answers 422 naming the field and writes nothing", "[faq]") {
  logged_in_node n;
  auto rows = [&] { return n.count("SELECT count(*) FROM atendeai.faq_entries"); };
  auto audits = [&] { return n.count("SELECT count(*) FROM atendeai.audit_log WHERE target_type = 'faq'"); };
  n.refused(n.demo_admin, "POST", faq_path, {{"answer", "Sim."}}, 422, "question");
  n.refused(n.demo_admin, "POST", faq_path, {{"question", "Tem wifi?"}}, 422, "answer");
  n.refused(n.demo_admin, "POST", faq_path, {{"question", "  "}, {"answer", "Sim."}}, 422, "question");
  n.refused(n.demo_admin, "POST", faq_path, {{"question", 3}, {"answer", "Sim."}}, 422, "question");
  n.refused(n.demo_admin, "POST", faq_path, {{"question", std::string(501, 'a')}, {"answer", "Sim."}}, 422, "question");
  n.refused(n.demo_admin, "POST", faq_path, {{"question", "Tem wifi?"}, {"answer", "Sim."}, {"tags", "wifi"}}, 422,
            "tags");
  n.refused(n.demo_admin, "POST", faq_path, {{"question", "Tem wifi?"}, {"answer", "Sim."}, {"tags", {"wifi", 7}}},
            422, "tags[1]");
  n.refused(n.demo_admin, "POST", faq_path, {{"question", "Tem wifi?"}, {"answer", "Sim."}, {"tags", {""}}}, 422,
            "tags[0]");
  n.refused(n.demo_admin, "POST", faq_path, {{"question", "Tem wifi?"}, {"answer", "Sim."}, {"lang", "fr"}}, 422,
            "lang");
  n.refused(n.demo_admin, "POST", faq_path, {{"question", "Tem wifi?"}, {"answer", "Sim."}, {"price", 1}}, 422,
            "price");
  CHECK(rows() == 0);
  std::string id = n.call(n.demo_admin, "POST", faq_path, {{"question", "Tem wifi?"}, {"answer", "Sim."}}, 201)["id"];
  n.refused(n.demo_admin, "PUT", faq_path + "/" + id, {{"answer", ""}}, 422, "answer");
  n.refused(n.demo_admin, "PATCH", faq_path + "/" + id, {{"lang", "es"}}, 422, "lang");
  CHECK(n.call(n.demo_admin, "GET", faq_path + "/" + id, nullptr, 200)["answer"] == "Sim.");
  CHECK(rows() == 1);
  CHECK(audits() == 1);
  // A malformed id is no entry at all.
  n.call(n.demo_admin, "GET", faq_path + "/not-a-uuid", nullptr, 404);
}

TEST_CASE("faq: clinic A's admin reaches nothing of clinic B's knowledge base (404, nothing changed)",
          "[faq][tenant]") {
  logged_in_node n;
  auto c = n.call(n.super, "POST", "/api/v1/clinics", {{"name", "Clínica B"}}, 201);
  const std::string clinic_b = c["id"];
  const std::string fb = "/api/v1/clinics/" + clinic_b + "/faq";
  std::string qid = n.call(n.super, "POST", fb, {{"question", "Tem estacionamento?"}, {"answer", "Não."}}, 201)["id"];
  auto snapshot = [&] {
    return n.db.scalar("SELECT concat_ws('|', (SELECT string_agg(f::text, ',' ORDER BY id) FROM atendeai.faq_entries f), "
                       "(SELECT count(*) FROM atendeai.audit_log WHERE target_type = 'faq'))");
  };
  auto before = snapshot();
  std::vector<std::tuple<std::string, std::string, json>> attempts = {
    {"GET", fb, nullptr},
    {"POST", fb, {{"question", "Hacked?"}, {"answer", "Hacked."}}},
    {"GET", fb + "/" + qid, nullptr},
    {"PUT", fb + "/" + qid, {{"answer", "Hacked."}}},
    {"PATCH", fb + "/" + qid, {{"answer", "Hacked."}}},
    {"DELETE", fb + "/" + qid, nullptr},
    // B's entry under A's own clinic path: row-level security hides it.
    {"GET", faq_path + "/" + qid, nullptr},
    {"PUT", faq_path + "/" + qid, {{"answer", "Hacked."}}},
    {"PATCH", faq_path + "/" + qid, {{"answer", "Hacked."}}},
    {"DELETE", faq_path + "/" + qid, nullptr},
  };
  for (auto& [method, path, body] : attempts) {
    auto r = api(*n.node, n.demo_admin, method, path, body.is_null() ? std::string() : body.dump());
    INFO(method << " " << path << " → " << r.status << " " << r.body);
    CHECK(r.status == 404);
  }
  CHECK(snapshot() == before);
  // A's own list does not show B's entry.
  CHECK(n.call(n.demo_admin, "GET", faq_path, nullptr, 200)["items"] == json::array());
}

TEST_CASE("faq: a patient's clinic question is answered from the FAQ at once, or honestly not", "[faq][conversation]") {
  logged_in_node n;
  // Nothing in the knowledge base yet: no invented answer, the offer of a human.
  auto none = n.say("5511955550001", "vocês aceitam unimed?");
  CHECK(none.find("Não tenho essa informação") != std::string::npos);
  CHECK(none.find("recepção") != std::string::npos);
  auto none_en = n.say("5511955550002", "do you take health insurance?");
  CHECK(none_en.find("I don't have that information") != std::string::npos);

  n.call(n.demo_admin, "POST", faq_path,
         {{"question", "Vocês aceitam convênio?"},
          {"answer", "Atendemos Unimed e Bradesco Saúde; os demais como particular, com recibo para reembolso."},
          {"tags", {"convênio", "plano de saúde"}},
          {"lang", "pt-BR"}},
         201);
  n.call(n.demo_admin, "POST", faq_path,
         {{"question", "Do you take health insurance?"},
          {"answer", "We take Unimed and Bradesco Saúde."},
          {"tags", {"insurance"}},
          {"lang", "en"}},
         201);
  n.call(n.demo_admin, "POST", faq_path,
         {{"question", "Vocês emitem nota fiscal?"}, {"answer", "Sim, a nota fiscal sai por e-mail no mesmo dia."}}, 201);
  // The next question is answered with the new entries, without a restart, in the
  // patient's language.
  // (Each patient writes for the first time: the reply carries the privacy notice.)
  CHECK(n.say("5511955550003", "vocês aceitam unimed?")
        == with_privacy_notice("Atendemos Unimed e Bradesco Saúde; os demais como particular, com recibo para reembolso."));
  CHECK(n.say("5511955550004", "do you take health insurance?") ==
        with_privacy_notice("We take Unimed and Bradesco Saúde.", true));
  // A message the rules do not understand, but the FAQ does.
  CHECK(n.say("5511955550005", "vcs emitem nota fiscal?") ==
        with_privacy_notice("Sim, a nota fiscal sai por e-mail no mesmo dia."));
  // A clinic question the FAQ does not cover still gets the honest answer.
  auto parking = n.say("5511955550006", "tem estacionamento?");
  CHECK(parking.find("Não tenho essa informação") != std::string::npos);
}
