// The clinic's WhatsApp message templates (issue 18): /api/v1/clinics/{id}/templates[/{tid}]
// against a running node and the real PostgreSQL — the demo clinic's reminder templates
// seeded, create, list, read, update, delete with their audit rows, validation naming the
// field (nothing written), 409 for a name and language the clinic already has, tenant
// isolation (404, nothing changed), roles (403) and tokens (401) — and the lookup by name
// and language that reminders send from.

#include <catch2/catch.hpp>

#include "persistence/database.hpp"
#include "persistence/templates.hpp"
#include "support/admin_node.hpp"

using namespace atendeai::test;
using nlohmann::json;

namespace {

const std::string templates_path = "/api/v1/clinics/" + demo::clinic_id + "/templates";

json appointment_confirmed() {
  return {{"name", "consulta_confirmada"},
          {"language", "pt_BR"},
          {"category", "utility"},
          {"body", "Olá {{1}}, sua consulta de {{2}} está confirmada."},
          {"buttons", {"Ver endereço", "Falar com a recepção"}}};
}

} // namespace

TEST_CASE("templates: the demo clinic's reminders are seeded, and templates are created, listed, read, changed "
          "and deleted, each with its audit row",
          "[templates]") {
  logged_in_node n;
  auto all = n.call(n.demo_admin, "GET", templates_path, nullptr, 200)["items"];
  REQUIRE(all.size() == 4);
  // By name, then language: the notice of a staff change first ("Olá {{1}}! {{2}}").
  CHECK(all[0]["name"] == "aviso_consulta");
  CHECK(all[1]["name"] == "aviso_consulta");
  CHECK(all[1]["body"] == "Olá {{1}}! {{2}}");
  CHECK(all[1]["parameters"] == 2);
  auto seeded = json::array({all[2], all[3]});
  CHECK(seeded[0]["name"] == "lembrete_consulta");
  CHECK(seeded[0]["language"] == "en_US"); // by name, then language
  CHECK(seeded[0]["buttons"] == json::array({"Confirm", "Reschedule", "Cancel"}));
  CHECK(seeded[1]["language"] == "pt_BR");
  CHECK(seeded[1]["category"] == "utility");
  CHECK(seeded[1]["body"]
        == "Olá {{1}}! Lembrete da sua consulta de {{2}} com {{3}} em {{4}}, no endereço {{5}}. Podemos confirmar?");
  CHECK(seeded[1]["buttons"] == json::array({"Confirmar", "Remarcar", "Cancelar"}));
  CHECK(seeded[1]["parameters"] == 5);

  auto created = n.call(n.demo_admin, "POST", templates_path, appointment_confirmed(), 201);
  std::string id = created["id"];
  CHECK(created["name"] == "consulta_confirmada");
  CHECK(created["language"] == "pt_BR");
  CHECK(created["category"] == "utility");
  CHECK(created["body"] == "Olá {{1}}, sua consulta de {{2}} está confirmada.");
  CHECK(created["buttons"] == json::array({"Ver endereço", "Falar com a recepção"}));
  CHECK(created["parameters"] == 2);
  CHECK(created["created_at"].is_string());
  CHECK(created["updated_at"].is_string());
  // Buttons are optional.
  auto plain = n.call(n.demo_admin, "POST", templates_path,
                      {{"name", "novidades"}, {"language", "pt_BR"}, {"category", "marketing"},
                       {"body", "Temos novos horários aos sábados."}},
                      201);
  CHECK(plain["buttons"] == json::array());
  CHECK(plain["parameters"] == 0);
  // The same name in another language is another template.
  n.call(n.demo_admin, "POST", templates_path,
         {{"name", "consulta_confirmada"}, {"language", "en_US"}, {"category", "utility"},
          {"body", "Hello {{1}}, your {{2}} appointment is confirmed."}},
         201);

  CHECK(n.call(n.demo_admin, "GET", templates_path, nullptr, 200)["items"].size() == 7);
  CHECK(n.call(n.demo_admin, "GET", templates_path + "/" + id, nullptr, 200) == created);

  // PUT changes the members given; the others stay.
  auto put = n.call(n.demo_admin, "PUT", templates_path + "/" + id,
                    {{"body", "Olá {{1}}, sua consulta de {{2}} com {{3}} está confirmada."},
                     {"buttons", json::array()}},
                    200);
  CHECK(put["body"] == "Olá {{1}}, sua consulta de {{2}} com {{3}} está confirmada.");
  CHECK(put["parameters"] == 3);
  CHECK(put["buttons"] == json::array());
  CHECK(put["name"] == "consulta_confirmada");
  CHECK(put["language"] == "pt_BR");
  CHECK(put["created_at"] == created["created_at"]);
  CHECK(n.call(n.demo_admin, "GET", templates_path + "/" + id, nullptr, 200) == put);

  auto gone = n.call(n.demo_admin, "DELETE", templates_path + "/" + id, nullptr, 200);
  CHECK(gone["status"] == "deleted");
  CHECK(gone["template"]["id"] == id);
  n.call(n.demo_admin, "GET", templates_path + "/" + id, nullptr, 404);
  n.call(n.demo_admin, "PUT", templates_path + "/" + id, {{"category", "marketing"}}, 404);
  n.call(n.demo_admin, "DELETE", templates_path + "/" + id, nullptr, 404);
  CHECK(n.call(n.demo_admin, "GET", templates_path, nullptr, 200)["items"].size() == 6);
  CHECK(n.count("SELECT count(*) FROM atendeai.message_templates WHERE id = '" + id + "'") == 0);

  // One audit row per change, with before and after.
  for (auto action : {"template.create", "template.update", "template.delete"}) {
    INFO(action);
    CHECK(n.count("SELECT count(*) FROM atendeai.audit_log WHERE target_type = 'template' AND action = '"
                  + std::string(action) + "' AND target_id = '" + id + "'")
          == 1);
  }
  auto audit = json::parse(n.db.scalar("SELECT jsonb_build_object('before', before, 'after', after) FROM "
                                       "atendeai.audit_log WHERE action = 'template.update' AND target_id = '" + id
                                       + "'"));
  CHECK(audit["before"]["body"] == "Olá {{1}}, sua consulta de {{2}} está confirmada.");
  CHECK(audit["after"]["parameters"] == 3);
  // A super admin names the clinic with the path.
  CHECK(n.call(n.super, "GET", templates_path, nullptr, 200)["items"].size() == 6);
}

TEST_CASE("templates: validation answers 422 naming the field and a name and language already there 409, "
          "writing nothing",
          "[templates]") {
  logged_in_node n;
  auto rows = [&] { return n.count("SELECT count(*) FROM atendeai.message_templates"); };
  auto audits = [&] { return n.count("SELECT count(*) FROM atendeai.audit_log WHERE target_type = 'template'"); };
  auto with = [](const char* field, json value) {
    auto b = appointment_confirmed();
    b[field] = std::move(value);
    return b;
  };
  auto without = [](const char* field) {
    auto b = appointment_confirmed();
    b.erase(field);
    return b;
  };
  const auto rows_before = rows();
  for (auto field : {"name", "language", "category", "body"})
    n.refused(n.demo_admin, "POST", templates_path, without(field), 422, field);
  n.refused(n.demo_admin, "POST", templates_path, with("name", "Consulta Confirmada"), 422, "name");
  n.refused(n.demo_admin, "POST", templates_path, with("name", std::string(513, 'a')), 422, "name");
  n.refused(n.demo_admin, "POST", templates_path, with("name", 7), 422, "name");
  n.refused(n.demo_admin, "POST", templates_path, with("language", "pt-BR"), 422, "language");
  n.refused(n.demo_admin, "POST", templates_path, with("language", "klingon"), 422, "language");
  n.refused(n.demo_admin, "POST", templates_path, with("category", "authentication"), 422, "category");
  n.refused(n.demo_admin, "POST", templates_path, with("body", "   "), 422, "body");
  n.refused(n.demo_admin, "POST", templates_path, with("body", std::string(1025, 'a')), 422, "body");
  n.refused(n.demo_admin, "POST", templates_path, with("body", "Olá {{2}}"), 422, "body");
  n.refused(n.demo_admin, "POST", templates_path, with("body", "Olá {{0}}"), 422, "body");
  n.refused(n.demo_admin, "POST", templates_path, with("body", "Olá {{1}} e {{3}}"), 422, "body");
  n.refused(n.demo_admin, "POST", templates_path, with("body", "Olá {{nome}}"), 422, "body");
  n.refused(n.demo_admin, "POST", templates_path, with("buttons", "Confirmar"), 422, "buttons");
  n.refused(n.demo_admin, "POST", templates_path, with("buttons", {"a", "b", "c", "d"}), 422, "buttons");
  n.refused(n.demo_admin, "POST", templates_path, with("buttons", {"Sim", ""}), 422, "buttons[1]");
  n.refused(n.demo_admin, "POST", templates_path, with("buttons", {"Sim", 2}), 422, "buttons[1]");
  n.refused(n.demo_admin, "POST", templates_path, with("buttons", {"Sim", "Sim"}), 422, "buttons[1]");
  n.refused(n.demo_admin, "POST", templates_path, with("buttons", {"Um botão longo demais!"}), 422, "buttons[0]");
  n.refused(n.demo_admin, "POST", templates_path, with("header", "Oi"), 422, "header");
  CHECK(rows() == rows_before);
  CHECK(audits() == 0);

  // 20 characters are fine even when they take more bytes.
  auto created = n.call(n.demo_admin, "POST", templates_path, with("buttons", {"Confirmação já feita"}), 201);
  std::string id = created["id"];
  // The seeded lembrete_consulta in pt_BR exists already; so does this one now.
  auto again = api(*n.node, n.demo_admin, "POST", templates_path, appointment_confirmed().dump());
  CHECK(again.status == 409);
  CHECK(again.json()["error"]["code"] == "conflict");
  CHECK(again.json()["error"]["field"] == "name");
  n.refused(n.demo_admin, "POST", templates_path,
            {{"name", "lembrete_consulta"}, {"language", "pt_BR"}, {"category", "utility"}, {"body", "Oi"}}, 409,
            "name");
  // Renaming onto another template of the same language is a conflict too.
  n.refused(n.demo_admin, "PUT", templates_path + "/" + id, {{"name", "lembrete_consulta"}}, 409, "name");
  n.refused(n.demo_admin, "PUT", templates_path + "/" + id, {{"body", "Olá {{2}}"}}, 422, "body");
  n.refused(n.demo_admin, "PUT", templates_path + "/" + id, {{"buttons", {"a", "a"}}}, 422, "buttons[1]");
  n.refused(n.demo_admin, "PUT", templates_path + "/" + id, {{"language", ""}}, 422, "language");
  CHECK(n.call(n.demo_admin, "GET", templates_path + "/" + id, nullptr, 200) == created);
  CHECK(rows() == rows_before + 1);
  CHECK(audits() == 1);
  // A malformed id is no template at all.
  n.call(n.demo_admin, "GET", templates_path + "/not-a-uuid", nullptr, 404);
}

TEST_CASE("templates: another clinic's templates answer 404 and stay as they were, only admins may call, only "
          "with a token",
          "[templates][tenant]") {
  logged_in_node n;
  auto c = n.call(n.super, "POST", "/api/v1/clinics", {{"name", "Clínica B"}}, 201);
  const std::string clinic_b = c["id"];
  const std::string tb = "/api/v1/clinics/" + clinic_b + "/templates";
  std::string tid = n.call(n.super, "POST", tb, appointment_confirmed(), 201)["id"];
  // B's admin has B's template only.
  auto b_admin = n.user("clinic_admin", clinic_b).second;
  auto b_list = n.call(b_admin, "GET", tb, nullptr, 200)["items"];
  REQUIRE(b_list.size() == 1);
  CHECK(b_list[0]["id"] == tid);

  auto snapshot = [&] {
    return n.db.scalar("SELECT concat_ws('|', (SELECT string_agg(t::text, ',' ORDER BY id) FROM "
                       "atendeai.message_templates t), (SELECT count(*) FROM atendeai.audit_log WHERE target_type = "
                       "'template'))");
  };
  auto before = snapshot();
  std::vector<std::tuple<std::string, std::string, json>> attempts = {
    {"GET", tb, nullptr},
    {"POST", tb, {{"name", "hacked"}, {"language", "pt_BR"}, {"category", "utility"}, {"body", "Hacked"}}},
    {"GET", tb + "/" + tid, nullptr},
    {"PUT", tb + "/" + tid, {{"body", "Hacked"}}},
    {"DELETE", tb + "/" + tid, nullptr},
    // B's template under A's own clinic path: row-level security hides it.
    {"GET", templates_path + "/" + tid, nullptr},
    {"PUT", templates_path + "/" + tid, {{"body", "Hacked"}}},
    {"DELETE", templates_path + "/" + tid, nullptr},
  };
  for (auto& [method, path, body] : attempts) {
    auto r = api(*n.node, n.demo_admin, method, path, body.is_null() ? std::string() : body.dump());
    INFO(method << " " << path << " → " << r.status << " " << r.body);
    CHECK(r.status == 404);
  }
  CHECK(snapshot() == before);

  // Staff who are not admins read the templates (a receptionist sends one) and get 403 on
  // every change, before anything else; no token: 401.
  const std::string own = templates_path + "/" + demo::template_reminder_pt;
  for (auto role : {"attendant", "professional"}) {
    auto token = n.user(role).second;
    CHECK(api(*n.node, token, "GET", templates_path).json()["items"].size() == 4);
    CHECK(api(*n.node, token, "GET", own).json()["name"] == "lembrete_consulta");
    for (auto& [method, path, body] :
         std::vector<std::tuple<std::string, std::string, json>>{{"POST", templates_path, appointment_confirmed()},
                                                                 {"PUT", own, {{"body", "Oi"}}},
                                                                 {"DELETE", own, nullptr}}) {
      INFO(role << " " << method << " " << path);
      auto r = api(*n.node, token, method, path, body.is_null() ? std::string() : body.dump());
      CHECK(r.status == 403);
      CHECK(r.json()["error"]["code"] == "forbidden");
      CHECK(http_request(method, n.url(path), body.is_null() ? std::string() : body.dump()).status == 401);
    }
  }
  CHECK(snapshot() == before);
  CHECK(n.count("SELECT count(*) FROM atendeai.message_templates WHERE clinic_id = '" + demo::clinic_id + "'") == 4);
}

TEST_CASE("templates: a clinic's template is found by name and language, under its row-level security",
          "[templates][persistence]") {
  logged_in_node n;
  auto other = n.other_clinic();
  auto conn = n.db.connect();
  auto in_clinic = [&](const std::string& clinic, const std::string& name, const std::string& language) {
    pqxx::work tx(*conn);
    tx.exec("SET LOCAL ROLE atendeai_app");
    atendeai::persistence::set_clinic(tx, clinic);
    auto found = atendeai::persistence::find_template(tx, demo::clinic_id, name, language);
    tx.commit();
    return found;
  };
  auto pt = in_clinic(demo::clinic_id, "lembrete_consulta", "pt_BR");
  REQUIRE(pt);
  CHECK(pt->id == demo::template_reminder_pt);
  CHECK(pt->category == "utility");
  CHECK(pt->body
        == "Olá {{1}}! Lembrete da sua consulta de {{2}} com {{3}} em {{4}}, no endereço {{5}}. Podemos confirmar?");
  CHECK(pt->buttons == std::vector<std::string>{"Confirmar", "Remarcar", "Cancelar"});
  auto en = in_clinic(demo::clinic_id, "lembrete_consulta", "en_US");
  REQUIRE(en);
  CHECK(en->buttons == std::vector<std::string>{"Confirm", "Reschedule", "Cancel"});
  CHECK_FALSE(in_clinic(demo::clinic_id, "lembrete_consulta", "es"));
  CHECK_FALSE(in_clinic(demo::clinic_id, "lembrete", "pt_BR"));
  // Scoped to another clinic, the demo clinic's template does not exist.
  CHECK_FALSE(in_clinic(other, "lembrete_consulta", "pt_BR"));
}
