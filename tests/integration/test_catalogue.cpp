// Catalogue admin API (issue 6, clinic data): clinics, context, working hours, channels,
// services, professionals, absences, closures — against a running node and the real
// PostgreSQL. Exact bodies, validation naming the field, conflicts, tenant isolation,
// audit rows with before/after, and changes reaching the clinic actor at once (a patient's
// next question is answered with the new data, through the fake Graph API).

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "support/admin_node.hpp"

using namespace atendeai::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string demo_id = demo::clinic_id;
using demo::cardio;

/// A node answering through the fake Graph API, with the demo administrators logged in.
struct catalogue_node : logged_in_node {

  /// Creates a clinic as the super admin (and its admin user); returns its id and the admin's token.
  std::pair<std::string, std::string> clinic_with_admin(const std::string& name, const std::string& email) {
    auto c = call(super, "POST", "/api/v1/clinics", {{"name", name}}, 201);
    std::string id = c["id"];
    call(super, "POST", "/api/v1/users",
         {{"email", email}, {"password", "Correct-horse-42"}, {"role", "clinic_admin"}, {"clinic_id", id}}, 201);
    return {id, api_login(*node, email, "Correct-horse-42")};
  }
};

/// The audit row of an action on a target: {before, after} as JSON.
json audit_of(const catalogue_node& n, const std::string& action, const std::string& target) {
  auto row = n.scalar("SELECT jsonb_build_object('before', before, 'after', after, 'actor_role', actor_role) "
                      "FROM atendeai.audit_log WHERE action = '" + action + "' AND target_id = '" + target +
                      "' ORDER BY at DESC LIMIT 1");
  INFO(action << " on " << target);
  REQUIRE(!row.empty());
  return json::parse(row);
}

bool contains(const json& sent, const std::string& part) {
  return sent.dump().find(part) != std::string::npos;
}

} // namespace

TEST_CASE("catalogue: clinics create, read, update, list, deactivate, context and working hours", "[catalogue]") {
  catalogue_node n;
  json create = {{"name", "Clínica Sorriso"},
                 {"timezone", "America/Manaus"},
                 {"language", "en"},
                 {"address", "Av. Brasil, 500"},
                 {"phone", "+55 92 3333-0000"},
                 {"context",
                  {{"ai_personality", {{"name", "Lia"}, {"tone", "formal"}}},
                   {"working_hours", {{"monday", {{{"start", "08:00"}, {"end", "12:00"}}, {{"start", "13:00"}, {"end", "17:00"}}}}}},
                   {"scheduling_policies", {{"slot_duration_minutes", 30}, {"max_daily_appointments", 20}}}}}};
  auto c = n.call(n.super, "POST", "/api/v1/clinics", create, 201);
  std::string id = c["id"];
  CHECK(c["name"] == "Clínica Sorriso");
  CHECK(c["timezone"] == "America/Manaus");
  CHECK(c["language"] == "en");
  CHECK(c["address"] == "Av. Brasil, 500");
  CHECK(c["phone"] == "+55 92 3333-0000");
  CHECK(c["active"] == true);
  CHECK(c["context"]["ai_personality"]["name"] == "Lia");
  CHECK(c["context"]["ai_personality"]["tone"] == "formal");
  CHECK(c["context"]["ai_personality"]["formality_level"] == "medium"); // defaults fill the rest
  CHECK(c["context"]["scheduling_policies"] ==
        json({{"min_advance_hours", 2}, {"max_advance_days", 30}, {"slot_duration_minutes", 30},
              {"max_daily_appointments", 20}}));
  CHECK(c["context"]["working_hours"]["monday"] ==
        json::parse(R"([{"start":"08:00","end":"12:00"},{"start":"13:00","end":"17:00"}])"));
  CHECK(c["context"]["working_hours"]["sunday"] == json::array());
  CHECK(n.scalar("SELECT name || '|' || timezone || '|' || active FROM atendeai.clinics WHERE id = '" + id + "'")
        == "Clínica Sorriso|America/Manaus|true");
  auto created_audit = audit_of(n, "clinic.create", id);
  CHECK(created_audit["before"].is_null());
  CHECK(created_audit["after"]["name"] == "Clínica Sorriso");
  CHECK(created_audit["actor_role"] == "super_admin");

  // Read, and update some members (the others stay).
  CHECK(n.call(n.super, "GET", "/api/v1/clinics/" + id, nullptr, 200) == c);
  auto u = n.call(n.super, "PUT", "/api/v1/clinics/" + id, {{"name", "Clínica Sorriso Centro"}, {"address", "Rua 7, 10"}}, 200);
  CHECK(u["name"] == "Clínica Sorriso Centro");
  CHECK(u["address"] == "Rua 7, 10");
  CHECK(u["timezone"] == "America/Manaus");
  CHECK(u["context"] == c["context"]);
  auto upd = audit_of(n, "clinic.update", id);
  CHECK(upd["before"]["name"] == "Clínica Sorriso");
  CHECK(upd["after"]["name"] == "Clínica Sorriso Centro");

  // Context: GET in the seeds' shape, PUT merges the sections given.
  auto ctx = n.call(n.super, "GET", "/api/v1/clinics/" + id + "/context", nullptr, 200);
  CHECK(ctx["clinic_id"] == id);
  CHECK(ctx["ai_behavior"] == json({{"proactivity", true}, {"suggestions", true}, {"feedback", true},
                                    {"auto_escalation", true}, {"escalation_threshold", 3}, {"use_model", false}}));
  auto ctx2 = n.call(n.super, "PUT", "/api/v1/clinics/" + id + "/context",
                     {{"clinic_id", id}, {"ai_behavior", {{"escalation_threshold", 5}, {"suggestions", false}}}}, 200);
  CHECK(ctx2["ai_behavior"]["escalation_threshold"] == 5);
  CHECK(ctx2["ai_behavior"]["suggestions"] == false);
  CHECK(ctx2["ai_behavior"]["proactivity"] == true);
  CHECK(ctx2["ai_personality"]["name"] == "Lia");
  auto ctx_audit = audit_of(n, "clinic.context.update", id);
  CHECK(ctx_audit["before"]["context"]["ai_behavior"]["escalation_threshold"] == 3);
  CHECK(ctx_audit["after"]["context"]["ai_behavior"]["escalation_threshold"] == 5);

  // Working hours: several intervals a day, sorted; GET shows every weekday.
  json hours = {{"tuesday", {{{"start", "14:00"}, {"end", "18:00"}}, {{"start", "07:30"}, {"end", "11:30"}}}},
                {"saturday", {{{"start", "08:00"}, {"end", "12:00"}}}}};
  auto h = n.call(n.super, "PUT", "/api/v1/clinics/" + id + "/working-hours", {{"working_hours", hours}}, 200);
  CHECK(h["working_hours"]["tuesday"] ==
        json::parse(R"([{"start":"07:30","end":"11:30"},{"start":"14:00","end":"18:00"}])"));
  CHECK(h["working_hours"]["monday"] == json::array());
  CHECK(h["working_hours"].size() == 7);
  CHECK(n.call(n.super, "GET", "/api/v1/clinics/" + id + "/working-hours", nullptr, 200) == h);
  auto hours_audit = audit_of(n, "clinic.hours.update", id);
  CHECK(hours_audit["before"]["context"]["working_hours"]["monday"].size() == 2);
  CHECK(hours_audit["after"]["context"]["working_hours"]["monday"].empty());

  // Listing: the super admin sees every clinic (paged), a clinic admin its own only.
  auto all = n.call(n.super, "GET", "/api/v1/clinics?per_page=1", nullptr, 200);
  CHECK(all["total"] == 2);
  CHECK(all["items"].size() == 1);
  CHECK(all["items"][0]["id"] == demo_id);
  auto page2 = n.call(n.super, "GET", "/api/v1/clinics?per_page=1&page=2", nullptr, 200);
  CHECK(page2["items"][0]["id"] == id);
  auto own = n.call(n.demo_admin, "GET", "/api/v1/clinics", nullptr, 200);
  CHECK(own["total"] == 1);
  REQUIRE(own["items"].size() == 1);
  CHECK(own["items"][0]["id"] == demo_id);
  // A clinic admin may not create, deactivate or switch a clinic on and off.
  CHECK(api(*n.node, n.demo_admin, "POST", "/api/v1/clinics", R"({"name":"Mine"})").status == 403);
  CHECK(api(*n.node, n.demo_admin, "DELETE", "/api/v1/clinics/" + demo_id).status == 403);
  n.refused(n.demo_admin, "PUT", "/api/v1/clinics/" + demo_id, {{"active", false}}, 403, "active");

  // Deactivate: the row stays, inactive; listed with ?active=false.
  auto d = n.call(n.super, "DELETE", "/api/v1/clinics/" + id, nullptr, 200);
  CHECK(d["active"] == false);
  CHECK(n.scalar("SELECT active FROM atendeai.clinics WHERE id = '" + id + "'") == "f");
  auto inactive = n.call(n.super, "GET", "/api/v1/clinics?active=false", nullptr, 200);
  CHECK(inactive["total"] == 1);
  CHECK(inactive["items"][0]["id"] == id);
  auto deact = audit_of(n, "clinic.deactivate", id);
  CHECK(deact["before"]["active"] == true);
  CHECK(deact["after"]["active"] == false);
  // And back on (super admin).
  CHECK(n.call(n.super, "PUT", "/api/v1/clinics/" + id, {{"active", true}}, 200)["active"] == true);
}

TEST_CASE("catalogue: validation answers 422 naming the field and writes nothing", "[catalogue]") {
  catalogue_node n;
  const std::string c = "/api/v1/clinics/" + demo_id;
  auto context_before = n.scalar("SELECT context::text FROM atendeai.clinics WHERE id = '" + demo_id + "'");
  auto services_before = n.count("SELECT count(*) FROM atendeai.services");
  auto audit_before = n.count("SELECT count(*) FROM atendeai.audit_log WHERE action NOT LIKE 'auth.%'");
  auto wh = [](json day) { return json{{"working_hours", day}}; };
  auto iv = [](const char* s, const char* e) { return json{{"start", s}, {"end", e}}; };

  // Working hours: end before start, overlap, unknown weekday, malformed time, wrong type.
  n.refused(n.demo_admin, "PUT", c + "/working-hours", wh({{"monday", {iv("08:00", "12:00"), iv("14:00", "13:00")}}}),
            422, "working_hours.monday[1].end");
  n.refused(n.demo_admin, "PUT", c + "/working-hours", wh({{"monday", {iv("08:00", "12:00"), iv("11:00", "13:00")}}}),
            422, "working_hours.monday[1].start");
  n.refused(n.demo_admin, "PUT", c + "/working-hours", wh({{"monday", {iv("13:00", "18:00"), iv("08:00", "13:30")}}}),
            422, "working_hours.monday[0].start");
  n.refused(n.demo_admin, "PUT", c + "/working-hours", wh({{"funday", {iv("08:00", "12:00")}}}), 422,
            "working_hours.funday");
  n.refused(n.demo_admin, "PUT", c + "/working-hours", wh({{"friday", {iv("8h", "12:00")}}}), 422,
            "working_hours.friday[0].start");
  n.refused(n.demo_admin, "PUT", c + "/working-hours", wh({{"friday", {iv("08:00", "25:00")}}}), 422,
            "working_hours.friday[0].end");
  n.refused(n.demo_admin, "PUT", c + "/working-hours", wh({{"friday", "08:00-12:00"}}), 422, "working_hours.friday");
  n.refused(n.demo_admin, "PUT", c + "/working-hours", {{"working_hours", {}}, {"extra", 1}}, 422, "extra");
  n.refused(n.demo_admin, "PUT", c + "/working-hours", json::object(), 422, "working_hours");

  // Context: unknown members at any depth, wrong types, ranges, choices.
  n.refused(n.demo_admin, "PUT", c + "/context", {{"ai_behavior", {{"mood", "happy"}}}}, 422, "ai_behavior.mood");
  n.refused(n.demo_admin, "PUT", c + "/context", {{"ai_behavior", {{"escalation_threshold", "high"}}}}, 422,
            "ai_behavior.escalation_threshold");
  n.refused(n.demo_admin, "PUT", c + "/context", {{"ai_behavior", {{"escalation_threshold", 99}}}}, 422,
            "ai_behavior.escalation_threshold");
  n.refused(n.demo_admin, "PUT", c + "/context", {{"ai_behavior", {{"proactivity", "yes"}}}}, 422,
            "ai_behavior.proactivity");
  n.refused(n.demo_admin, "PUT", c + "/context", {{"ai_personality", {{"tone", "grumpy"}}}}, 422, "ai_personality.tone");
  n.refused(n.demo_admin, "PUT", c + "/context", {{"ai_personality", {{"languages", {"pt-BR", "fr"}}}}}, 422,
            "ai_personality.languages[1]");
  n.refused(n.demo_admin, "PUT", c + "/context", {{"scheduling_policies", {{"slot_duration_minutes", 0}}}}, 422,
            "scheduling_policies.slot_duration_minutes");
  // A slot size the demo services (60 min) do not fit.
  n.refused(n.demo_admin, "PUT", c + "/context", {{"scheduling_policies", {{"slot_duration_minutes", 45}}}}, 422,
            "scheduling_policies.slot_duration_minutes");
  n.refused(n.demo_admin, "PUT", c + "/context", {{"ai_mood", {}}}, 422, "ai_mood");
  n.refused(n.demo_admin, "PUT", c + "/context", {{"clinic_id", "11111111-1111-4111-8111-111111111111"}}, 422,
            "clinic_id");
  n.refused(n.demo_admin, "PUT", c + "/context", {{"working_hours", {{"monday", {iv("10:00", "09:00")}}}}}, 422,
            "working_hours.monday[0].end");
  n.refused(n.demo_admin, "PUT", c, {{"context", {{"ai_behavior", {{"feedback", 1}}}}}}, 422,
            "context.ai_behavior.feedback");

  // Clinics.
  n.refused(n.super, "POST", "/api/v1/clinics", {{"name", "X"}, {"timezone", "America/Atlantis"}}, 422, "timezone");
  n.refused(n.super, "POST", "/api/v1/clinics", {{"name", "X"}, {"language", "fr"}}, 422, "language");
  n.refused(n.super, "POST", "/api/v1/clinics", {{"timezone", "UTC"}}, 422, "name");
  n.refused(n.super, "POST", "/api/v1/clinics", {{"name", "<script>"}}, 422, "name");
  n.refused(n.super, "POST", "/api/v1/clinics", {{"name", "X"}, {"phone", "call me"}}, 422, "phone");
  n.refused(n.super, "POST", "/api/v1/clinics", {{"name", 42}}, 422, "name");

  // Services: negative price, duration not a multiple of the slot, unknown field, wrong type.
  json svc = {{"name", "Pediatria"}, {"duration_minutes", 60}, {"price", 180}};
  auto with = [&](const char* k, json v) {
    auto b = svc;
    b[k] = std::move(v);
    return b;
  };
  n.refused(n.demo_admin, "POST", c + "/services", with("price", -1), 422, "price");
  n.refused(n.demo_admin, "POST", c + "/services", with("price", 10.005), 422, "price");
  n.refused(n.demo_admin, "POST", c + "/services", json{{"name", "P"}, {"duration_minutes", 60}, {"price_cents", -100}},
            422, "price_cents");
  n.refused(n.demo_admin, "POST", c + "/services", with("duration_minutes", 45), 422, "duration_minutes");
  n.refused(n.demo_admin, "POST", c + "/services", with("duration_minutes", "sixty"), 422, "duration_minutes");
  n.refused(n.demo_admin, "POST", c + "/services", with("colour", "blue"), 422, "colour");
  n.refused(n.demo_admin, "POST", c + "/services", with("active", "yes"), 422, "active");
  n.refused(n.demo_admin, "POST", c + "/services", json{{"duration_minutes", 60}, {"price", 1}}, 422, "name");
  n.refused(n.demo_admin, "PUT", c + "/services/" + cardio, {{"price", -0.5}}, 422, "price");
  n.refused(n.demo_admin, "PUT", c + "/services/" + cardio, {{"duration_minutes", 90}}, 422, "duration_minutes");

  // Professionals: services of this clinic only, own hours and policy checked the same way.
  n.refused(n.demo_admin, "POST", c + "/professionals",
            {{"name", "Dr. Novo"}, {"service_ids", {cardio, "11111111-1111-4111-8111-111111111111"}}}, 422,
            "service_ids[1]");
  n.refused(n.demo_admin, "POST", c + "/professionals", {{"name", "Dr. Novo"}, {"service_ids", json::array({"not-a-uuid"})}}, 422,
            "service_ids[0]");
  n.refused(n.demo_admin, "POST", c + "/professionals",
            {{"name", "Dr. Novo"}, {"working_hours", {{"tuesday", {iv("08:00", "12:00"), iv("09:00", "10:00")}}}}},
            422, "working_hours.tuesday[1].start");
  n.refused(n.demo_admin, "POST", c + "/professionals", {{"name", "Dr. Novo"}, {"scheduling_policies", {{"foo", 1}}}},
            422, "scheduling_policies.foo");
  n.refused(n.demo_admin, "POST", c + "/professionals",
            {{"name", "Dr. Novo"}, {"scheduling_policies", {{"max_daily_appointments", -3}}}}, 422,
            "scheduling_policies.max_daily_appointments");
  n.refused(n.demo_admin, "POST", c + "/professionals", {{"name", "Dr. Novo"}, {"specialties", json::array({1})}}, 422,
            "specialties[0]");

  // Absences and closures.
  const std::string ana = c + "/professionals/" + demo::ana;
  n.refused(n.demo_admin, "POST", ana + "/absences",
            {{"starts_at", "2030-01-10T08:00:00-03:00"}, {"ends_at", "2030-01-10T07:00:00-03:00"}}, 422, "ends_at");
  n.refused(n.demo_admin, "POST", ana + "/absences",
            {{"starts_at", "2030-01-10T08:00:00"}, {"ends_at", "2030-01-10T12:00:00-03:00"}}, 422, "starts_at");
  n.refused(n.demo_admin, "POST", ana + "/absences", {{"starts_at", "2030-01-10T08:00:00Z"}}, 422, "ends_at");
  n.refused(n.demo_admin, "POST", c + "/closures", {{"starts_on", "2030-12-25"}, {"ends_on", "2030-12-24"}}, 422,
            "ends_on");
  n.refused(n.demo_admin, "POST", c + "/closures", {{"starts_on", "2030-02-30"}, {"ends_on", "2030-03-01"}}, 422,
            "starts_on");

  // Channels.
  n.refused(n.demo_admin, "POST", c + "/channels", {{"phone_number_id", "123 456"}}, 422, "phone_number_id");
  n.refused(n.demo_admin, "POST", c + "/channels", {{"phone_number_id", "123"}, {"channel", "telegram"}}, 422, "channel");
  n.refused(n.demo_admin, "POST", c + "/channels", json::object(), 422, "phone_number_id");

  // Unparseable JSON: 400.
  auto bad = api(*n.node, n.demo_admin, "POST", c + "/services", "{\"name\":");
  CHECK(bad.status == 400);
  CHECK(bad.json()["error"]["code"] == "bad_request");

  // Nothing was written.
  CHECK(n.scalar("SELECT context::text FROM atendeai.clinics WHERE id = '" + demo_id + "'") == context_before);
  CHECK(n.count("SELECT count(*) FROM atendeai.services") == services_before);
  CHECK(n.count("SELECT count(*) FROM atendeai.professionals") == 2);
  CHECK(n.count("SELECT count(*) FROM atendeai.professional_absences") == 0);
  CHECK(n.count("SELECT count(*) FROM atendeai.closures") == 0);
  CHECK(n.count("SELECT count(*) FROM atendeai.clinic_channels") == 1);
  CHECK(n.count("SELECT count(*) FROM atendeai.clinics") == 1);
  CHECK(n.count("SELECT count(*) FROM atendeai.audit_log WHERE action NOT LIKE 'auth.%'") == audit_before);
}

TEST_CASE("catalogue: a service's English name is stored, shown, cleared and used when the patient writes English",
          "[catalogue][en]") {
  catalogue_node n;
  const std::string c = "/api/v1/clinics/" + demo_id;
  // The demo clinic's services have theirs.
  auto cardiology = n.call(n.demo_admin, "GET", c + "/services/" + cardio, nullptr, 200);
  CHECK(cardiology["name"] == "Cardiologia");
  CHECK(cardiology["name_en"] == "Cardiology");
  auto s = n.call(n.demo_admin, "POST", c + "/services",
                  {{"name", "Pediatria"}, {"name_en", "Paediatrics"}, {"duration_minutes", 60}, {"price", 150}}, 201);
  CHECK(s["name_en"] == "Paediatrics");
  CHECK(n.scalar("SELECT name_en FROM atendeai.services WHERE id = '" + s["id"].get<std::string>() + "'") ==
        "Paediatrics");
  n.refused(n.demo_admin, "PUT", c + "/services/" + s["id"].get<std::string>(), {{"name_en", 3}}, 422, "name_en");
  // English replies name the services in English; Portuguese ones in Portuguese.
  auto en = text_of(n.reply("5511970000001", "What services do you offer?"));
  INFO(en);
  CHECK(en.find("Cardiology") != std::string::npos);
  CHECK(en.find("Paediatrics") != std::string::npos);
  CHECK(en.find("Cardiologia") == std::string::npos);
  auto pt = text_of(n.reply("5511970000002", "Quais serviços vocês oferecem?"));
  INFO(pt);
  CHECK(pt.find("Cardiologia") != std::string::npos);
  CHECK(pt.find("Cardiology") == std::string::npos);
  // Cleared with "": English conversations use the one name there is.
  auto cleared = n.call(n.demo_admin, "PUT", c + "/services/" + s["id"].get<std::string>(), {{"name_en", ""}}, 200);
  CHECK(cleared["name_en"].is_null());
  auto again = text_of(n.reply("5511970000003", "What services do you offer?"));
  INFO(again);
  CHECK(again.find("Pediatria") != std::string::npos);
}

TEST_CASE("catalogue: services, professionals, absences and closures with their audit rows", "[catalogue]") {
  catalogue_node n;
  const std::string c = "/api/v1/clinics/" + demo_id;

  // Services: create (price in reais or cents), unique name, read, update, deactivate.
  auto s = n.call(n.demo_admin, "POST", c + "/services", {{"name", "Pediatria"}, {"duration_minutes", 120}, {"price", 180.5}},
                  201);
  std::string sid = s["id"];
  CHECK(s["name"] == "Pediatria");
  CHECK(s["duration_minutes"] == 120);
  CHECK(s["price_cents"] == 18050);
  CHECK(s["price"] == 180.5);
  CHECK(s["active"] == true);
  CHECK(n.scalar("SELECT name || '|' || duration_minutes || '|' || price_cents FROM atendeai.services WHERE id = '" +
                 sid + "'") == "Pediatria|120|18050");
  n.refused(n.demo_admin, "POST", c + "/services", {{"name", "Pediatria"}, {"duration_minutes", 60}, {"price_cents", 100}},
            409, "name");
  n.refused(n.demo_admin, "PUT", c + "/services/" + sid, {{"name", "Cardiologia"}}, 409, "name");
  CHECK(n.call(n.demo_admin, "GET", c + "/services/" + sid, nullptr, 200) == s);
  auto s2 = n.call(n.demo_admin, "PUT", c + "/services/" + sid, {{"price_cents", 20000}, {"name", "Pediatria geral"}}, 200);
  CHECK(s2["price_cents"] == 20000);
  CHECK(s2["name"] == "Pediatria geral");
  CHECK(s2["duration_minutes"] == 120);
  auto s_audit = audit_of(n, "service.update", sid);
  CHECK(s_audit["before"]["price_cents"] == 18050);
  CHECK(s_audit["after"]["price_cents"] == 20000);
  CHECK(audit_of(n, "service.create", sid)["after"]["name"] == "Pediatria");
  auto listed = n.call(n.demo_admin, "GET", c + "/services", nullptr, 200)["items"];
  CHECK(listed.size() == 4);
  auto gone = n.call(n.demo_admin, "DELETE", c + "/services/" + sid, nullptr, 200);
  CHECK(gone["active"] == false);
  CHECK(n.scalar("SELECT active FROM atendeai.services WHERE id = '" + sid + "'") == "f");
  CHECK(n.call(n.demo_admin, "GET", c + "/services?active=true", nullptr, 200)["items"].size() == 3);
  CHECK(n.call(n.demo_admin, "GET", c + "/services?active=false", nullptr, 200)["items"][0]["id"] == sid);
  auto s_del = audit_of(n, "service.deactivate", sid);
  CHECK(s_del["before"]["active"] == true);
  CHECK(s_del["after"]["active"] == false);

  // Professionals: services, specialties, own hours and policy overrides; clearing them.
  json pro = {{"name", "Dra. Bia Lima"},
              {"crm", "CRM/SP 123456"},
              {"specialties", {"Cardiologia", "Clínica médica"}},
              {"service_ids", json::array({cardio})},
              {"working_hours", {{"wednesday", {{{"start", "13:00"}, {"end", "18:00"}}}}}},
              {"scheduling_policies", {{"max_daily_appointments", 4}}}};
  auto p = n.call(n.demo_admin, "POST", c + "/professionals", pro, 201);
  std::string pid = p["id"];
  CHECK(p["name"] == "Dra. Bia Lima");
  CHECK(p["crm"] == "CRM/SP 123456");
  CHECK(p["specialties"] == pro["specialties"]);
  CHECK(p["service_ids"] == json::array({cardio}));
  CHECK(p["working_hours"]["wednesday"] == pro["working_hours"]["wednesday"]);
  CHECK(p["working_hours"]["monday"] == json::array());
  CHECK(p["scheduling_policies"] == json({{"max_daily_appointments", 4}}));
  CHECK(p["active"] == true);
  auto got = n.call(n.demo_admin, "GET", c + "/professionals/" + pid, nullptr, 200);
  // GET adds the professional's secret ICS feed, made with the professional.
  CHECK(got["ics_url"].get<std::string>().find("/ics/") != std::string::npos);
  got.erase("ics_url");
  CHECK(got == p);
  CHECK(n.call(n.demo_admin, "GET", c + "/professionals", nullptr, 200)["items"].size() == 3);
  auto p2 = n.call(n.demo_admin, "PUT", c + "/professionals/" + pid,
                   {{"working_hours", nullptr}, {"specialties", json::array({"Cardiologia"})}}, 200);
  CHECK(p2["working_hours"].is_null());
  CHECK(p2["specialties"] == json::array({"Cardiologia"}));
  CHECK(p2["scheduling_policies"] == json({{"max_daily_appointments", 4}}));
  CHECK(n.scalar("SELECT hours IS NULL FROM atendeai.professionals WHERE id = '" + pid + "'") == "t");
  auto p_audit = audit_of(n, "professional.update", pid);
  CHECK(p_audit["before"]["working_hours"]["wednesday"].size() == 1);
  CHECK(p_audit["after"]["working_hours"].is_null());

  // Absences of the professional.
  auto a = n.call(n.demo_admin, "POST", c + "/professionals/" + pid + "/absences",
                  {{"starts_at", "2030-01-10T08:00:00-03:00"}, {"ends_at", "2030-01-12T18:00:00-03:00"},
                   {"reason", "Congresso"}},
                  201);
  std::string abid = a["id"];
  CHECK(a["professional_id"] == pid);
  CHECK(a["reason"] == "Congresso");
  CHECK(n.scalar("SELECT starts_at = '2030-01-10T11:00:00Z' AND ends_at = '2030-01-12T21:00:00Z' "
                 "FROM atendeai.professional_absences WHERE id = '" + abid + "'") == "t");
  auto absences = n.call(n.demo_admin, "GET", c + "/professionals/" + pid + "/absences", nullptr, 200)["items"];
  REQUIRE(absences.size() == 1);
  CHECK(absences[0]["id"] == abid);
  CHECK(audit_of(n, "absence.create", abid)["after"]["reason"] == "Congresso");
  n.call(n.demo_admin, "DELETE", c + "/professionals/" + pid + "/absences/" + abid, nullptr, 200);
  CHECK(n.count("SELECT count(*) FROM atendeai.professional_absences") == 0);
  CHECK(audit_of(n, "absence.delete", abid)["before"]["reason"] == "Congresso");
  CHECK(api(*n.node, n.demo_admin, "DELETE", c + "/professionals/" + pid + "/absences/" + abid).status == 404);

  // Deactivating a professional keeps the row.
  CHECK(n.call(n.demo_admin, "DELETE", c + "/professionals/" + pid, nullptr, 200)["active"] == false);
  CHECK(audit_of(n, "professional.deactivate", pid)["after"]["active"] == false);

  // Closures.
  auto cl = n.call(n.demo_admin, "POST", c + "/closures",
                   {{"starts_on", "2030-12-24"}, {"ends_on", "2030-12-26"}, {"reason", "Natal"}}, 201);
  std::string clid = cl["id"];
  CHECK(cl["starts_on"] == "2030-12-24");
  CHECK(cl["ends_on"] == "2030-12-26");
  CHECK(cl["reason"] == "Natal");
  CHECK(n.call(n.demo_admin, "GET", c + "/closures", nullptr, 200)["items"][0]["id"] == clid);
  CHECK(audit_of(n, "closure.create", clid)["after"]["starts_on"] == "2030-12-24");
  n.call(n.demo_admin, "DELETE", c + "/closures/" + clid, nullptr, 200);
  CHECK(n.count("SELECT count(*) FROM atendeai.closures") == 0);
  CHECK(audit_of(n, "closure.delete", clid)["before"]["reason"] == "Natal");

  // Attendants read the catalogue but do not change it.
  n.call(n.super, "POST", "/api/v1/users",
         {{"email", "desk@example.com"}, {"password", "Correct-horse-42"}, {"role", "attendant"}, {"clinic_id", demo_id}},
         201);
  auto desk = api_login(*n.node, "desk@example.com", "Correct-horse-42");
  CHECK(n.call(desk, "GET", c + "/services", nullptr, 200)["items"].size() == 4);
  CHECK(api(*n.node, desk, "POST", c + "/services", R"({"name":"X","duration_minutes":60,"price":1})").status == 403);
}

TEST_CASE("catalogue: channels never echo the token, a phone_number_id belongs to one clinic, changes apply at once",
          "[catalogue]") {
  catalogue_node n;
  auto [clinic_b, b_admin] = n.clinic_with_admin("Clínica B", "admin.b@example.com");
  const std::string cb = "/api/v1/clinics/" + clinic_b;
  n.call(b_admin, "PUT", cb + "/working-hours",
         {{"working_hours", {{"monday", {{{"start", "07:00"}, {"end", "11:00"}}}}}}}, 200);

  // Before it is connected, the account is unknown: nothing stored, nothing answered.
  auto r = post_webhook(*n.node, webhook_body({{"5511911110000", "wamid.b-0", "oi"}}, "b-phone-1"));
  CHECK(r.status == 200);
  CHECK(n.count("SELECT count(*) FROM atendeai.messages") == 0);

  const std::string secret_token = "EAAB-secret-token-of-b";
  auto ch = n.call(b_admin, "POST", cb + "/channels", {{"phone_number_id", "b-phone-1"}, {"access_token", secret_token}},
                   201);
  std::string chid = ch["id"];
  CHECK(ch["phone_number_id"] == "b-phone-1");
  CHECK(ch["channel"] == "whatsapp");
  CHECK(ch["has_token"] == true);
  CHECK(ch.dump().find(secret_token) == std::string::npos);
  auto list = n.call(b_admin, "GET", cb + "/channels", nullptr, 200);
  CHECK(list.dump().find(secret_token) == std::string::npos);
  REQUIRE(list["items"].size() == 1);
  CHECK(list["items"][0]["has_token"] == true);
  auto ch_audit = audit_of(n, "channel.create", chid);
  CHECK(ch_audit["after"]["phone_number_id"] == "b-phone-1");
  CHECK(ch_audit.dump().find(secret_token) == std::string::npos);
  CHECK(n.node->output().find(secret_token) == std::string::npos);

  // One clinic per phone_number_id: the demo clinic cannot take B's, nor B the demo's.
  n.refused(n.demo_admin, "POST", "/api/v1/clinics/" + demo_id + "/channels", {{"phone_number_id", "b-phone-1"}}, 409,
            "phone_number_id");
  n.refused(b_admin, "POST", cb + "/channels", {{"phone_number_id", demo_phone_number_id}}, 409, "phone_number_id");
  CHECK(n.count("SELECT count(*) FROM atendeai.clinic_channels") == 2);

  // At once (the router had cached the account as unknown): B answers with its own hours
  // and its own token.
  auto reply = n.reply("5511911110000", "qual o horário de vocês?", "b-phone-1");
  CHECK(contains(reply, "07:00"));
  CHECK(contains(reply, "11:00"));
  bool with_b_token = false;
  for (auto& [path, auth] : n.graph.calls())
    with_b_token = with_b_token || auth == "Bearer " + secret_token;
  CHECK(with_b_token);

  // Disconnected: at once no longer answered nor stored (the 200 comes after the commit).
  auto stored = n.count("SELECT count(*) FROM atendeai.messages WHERE direction = 'in'");
  auto del = n.call(b_admin, "DELETE", cb + "/channels/" + chid, nullptr, 200);
  CHECK(del["status"] == "disconnected");
  CHECK(audit_of(n, "channel.delete", chid)["before"]["phone_number_id"] == "b-phone-1");
  CHECK(post_webhook(*n.node, webhook_body({{"5511911110000", "wamid.b-2", "oi"}}, "b-phone-1")).status == 200);
  CHECK(n.count("SELECT count(*) FROM atendeai.messages WHERE direction = 'in'") == stored);
  CHECK(api(*n.node, b_admin, "DELETE", cb + "/channels/" + chid).status == 404);

  // Reconnected with a new token: the next reply goes out with it (the senders read the
  // account's token again after the change), not with the one they used before.
  const std::string rotated_token = "EAAB-rotated-token-of-b";
  n.call(b_admin, "POST", cb + "/channels", {{"phone_number_id", "b-phone-1"}, {"access_token", rotated_token}}, 201);
  n.reply("5511911110000", "oi", "b-phone-1");
  REQUIRE_FALSE(n.graph.calls().empty());
  CHECK(n.graph.calls().back().second == "Bearer " + rotated_token);

  // Then the clinic deactivated: its patients are no longer answered.
  n.call(n.super, "DELETE", cb, nullptr, 200);
  stored = n.count("SELECT count(*) FROM atendeai.messages WHERE direction = 'in'");
  CHECK(post_webhook(*n.node, webhook_body({{"5511911110000", "wamid.b-4", "oi"}}, "b-phone-1")).status == 200);
  CHECK(n.count("SELECT count(*) FROM atendeai.messages WHERE direction = 'in'") == stored);
}

TEST_CASE("catalogue: a change reaches the clinic actor at once, without a restart", "[catalogue]") {
  catalogue_node n;
  const std::string c = "/api/v1/clinics/" + demo_id;
  const std::string patient = "5511922220000";
  // The clinic actor and this patient's conversation are live before the changes.
  auto first = n.reply(patient, "quais serviços vocês oferecem?");
  CHECK(contains(first, "Cardiologia"));
  CHECK_FALSE(contains(first, "Pediatria"));

  auto s = n.call(n.demo_admin, "POST", c + "/services", {{"name", "Pediatria"}, {"duration_minutes", 60}, {"price", 180}},
                  201);
  auto second = n.reply(patient, "quais serviços vocês oferecem?");
  CHECK(contains(second, "Pediatria"));
  CHECK(contains(second, "180"));

  // Deactivated: no longer offered.
  n.call(n.demo_admin, "DELETE", c + "/services/" + s["id"].get<std::string>(), nullptr, 200);
  auto third = n.reply(patient, "quais serviços vocês oferecem?");
  CHECK(contains(third, "Cardiologia"));
  CHECK_FALSE(contains(third, "Pediatria"));

  // Opening hours: Saturday added.
  auto before = n.reply(patient, "vocês abrem sábado?");
  CHECK_FALSE(contains(before, "09:30"));
  n.call(n.demo_admin, "PUT", c + "/working-hours",
         {{"working_hours",
           {{"monday", {{{"start", "08:00"}, {"end", "18:00"}}}},
            {"saturday", {{{"start", "09:30"}, {"end", "13:00"}}}}}}},
         200);
  auto after = n.reply(patient, "vocês abrem sábado?");
  CHECK(contains(after, "09:30"));
  CHECK(contains(after, "13:00"));
  // A new patient (a new conversation) sees the same.
  auto other = n.reply("5511933330000", "qual o horário de vocês?");
  CHECK(contains(other, "09:30"));

  // The assistant's voice comes from the context.
  n.call(n.demo_admin, "PUT", c + "/context",
         {{"ai_personality", {{"name", "Clara"}, {"greeting", "Olá! Aqui é a Clara, da Clínica Exemplo. Como posso ajudar?"}}}},
         200);
  auto hello = n.reply("5511944440000", "oi");
  CHECK(contains(hello, "Clara"));
}

TEST_CASE("catalogue: clinic A's admin reaches nothing of clinic B (404, nothing changed)", "[catalogue][tenant]") {
  catalogue_node n;
  auto [clinic_b, b_admin] = n.clinic_with_admin("Clínica B", "admin.b@example.com");
  const std::string cb = "/api/v1/clinics/" + clinic_b;
  std::string sid = n.call(b_admin, "POST", cb + "/services", {{"name", "Ortopedia"}, {"duration_minutes", 60}, {"price", 250}},
                           201)["id"];
  std::string pid = n.call(b_admin, "POST", cb + "/professionals", {{"name", "Dr. Beto"}, {"service_ids", json::array({sid})}}, 201)["id"];
  std::string abid = n.call(b_admin, "POST", cb + "/professionals/" + pid + "/absences",
                            {{"starts_at", "2030-01-10T08:00:00Z"}, {"ends_at", "2030-01-11T08:00:00Z"}}, 201)["id"];
  std::string clid = n.call(b_admin, "POST", cb + "/closures", {{"starts_on", "2030-05-01"}, {"ends_on", "2030-05-01"}},
                            201)["id"];
  std::string chid = n.call(b_admin, "POST", cb + "/channels", {{"phone_number_id", "b-phone-9"}}, 201)["id"];

  auto snapshot = [&] {
    return n.scalar("SELECT concat_ws('|', (SELECT string_agg(c::text, ',' ORDER BY id) FROM atendeai.clinics c), "
                    "(SELECT string_agg(s::text, ',' ORDER BY id) FROM atendeai.services s), "
                    "(SELECT string_agg(p::text, ',' ORDER BY id) FROM atendeai.professionals p), "
                    "(SELECT string_agg(a::text, ',' ORDER BY id) FROM atendeai.professional_absences a), "
                    "(SELECT string_agg(x::text, ',' ORDER BY id) FROM atendeai.closures x), "
                    "(SELECT string_agg(h::text, ',' ORDER BY id) FROM atendeai.clinic_channels h), "
                    "(SELECT count(*) FROM atendeai.audit_log WHERE action NOT LIKE 'auth.%'))");
  };
  auto before = snapshot();
  const std::string ca = "/api/v1/clinics/" + demo_id;
  std::vector<std::tuple<std::string, std::string, json>> attempts = {
    {"GET", cb, nullptr},
    {"PUT", cb, {{"name", "Hacked"}}},
    {"GET", cb + "/context", nullptr},
    {"PUT", cb + "/context", {{"ai_personality", {{"name", "Hacked"}}}}},
    {"GET", cb + "/working-hours", nullptr},
    {"PUT", cb + "/working-hours", {{"working_hours", json::object()}}},
    {"GET", cb + "/channels", nullptr},
    {"POST", cb + "/channels", {{"phone_number_id", "a-into-b"}}},
    {"DELETE", cb + "/channels/" + chid, nullptr},
    {"GET", cb + "/services", nullptr},
    {"POST", cb + "/services", {{"name", "Hacked"}, {"duration_minutes", 60}, {"price", 1}}},
    {"GET", cb + "/services/" + sid, nullptr},
    {"PUT", cb + "/services/" + sid, {{"price", 1}}},
    {"DELETE", cb + "/services/" + sid, nullptr},
    {"GET", cb + "/professionals/" + pid, nullptr},
    {"PUT", cb + "/professionals/" + pid, {{"name", "Hacked"}}},
    {"DELETE", cb + "/professionals/" + pid, nullptr},
    {"GET", cb + "/professionals/" + pid + "/absences", nullptr},
    {"POST", cb + "/professionals/" + pid + "/absences", {{"starts_at", "2030-01-10T08:00:00Z"}, {"ends_at", "2030-01-11T08:00:00Z"}}},
    {"DELETE", cb + "/professionals/" + pid + "/absences/" + abid, nullptr},
    {"GET", cb + "/closures", nullptr},
    {"POST", cb + "/closures", {{"starts_on", "2030-06-01"}, {"ends_on", "2030-06-01"}}},
    {"DELETE", cb + "/closures/" + clid, nullptr},
    // B's ids under A's own clinic path: row-level security hides them.
    {"GET", ca + "/services/" + sid, nullptr},
    {"PUT", ca + "/services/" + sid, {{"price", 1}}},
    {"DELETE", ca + "/services/" + sid, nullptr},
    {"GET", ca + "/professionals/" + pid, nullptr},
    {"PUT", ca + "/professionals/" + pid, {{"name", "Hacked"}}},
    {"DELETE", ca + "/professionals/" + pid, nullptr},
    {"GET", ca + "/professionals/" + pid + "/absences", nullptr},
    {"POST", ca + "/professionals/" + pid + "/absences", {{"starts_at", "2030-01-10T08:00:00Z"}, {"ends_at", "2030-01-11T08:00:00Z"}}},
    {"DELETE", ca + "/professionals/" + pid + "/absences/" + abid, nullptr},
    {"DELETE", ca + "/closures/" + clid, nullptr},
    {"DELETE", ca + "/channels/" + chid, nullptr},
  };
  for (auto& [method, path, body] : attempts) {
    auto r = api(*n.node, n.demo_admin, method, path, body.is_null() ? std::string() : body.dump());
    INFO(method << " " << path << " → " << r.body);
    CHECK(r.status == 404);
    CHECK(r.json()["error"]["code"] == "not_found");
  }
  // A professional of A cannot be given B's service.
  n.refused(n.demo_admin, "POST", ca + "/professionals", {{"name", "Dr. Misto"}, {"service_ids", json::array({sid})}}, 422,
            "service_ids[0]");
  // A's listings show nothing of B.
  auto services = n.call(n.demo_admin, "GET", ca + "/services", nullptr, 200);
  CHECK(services.dump().find(sid) == std::string::npos);
  auto clinics = n.call(n.demo_admin, "GET", "/api/v1/clinics", nullptr, 200);
  CHECK(clinics.dump().find(clinic_b) == std::string::npos);
  CHECK(snapshot() == before);
}
