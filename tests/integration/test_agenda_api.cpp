// The admin agenda API (issue 6), end to end: a running node under a test clock (Monday
// 2030-03-04 09:00 in São Paulo), the real PostgreSQL, the fake Graph API for the chat
// side. Slots equal what the chat offers; create/reschedule/cancel/attended/no-show with
// their rows and audit entries; validation naming the field; 409 with alternatives; 50
// chat and API attempts at one slot; a professional's own agenda; another clinic's ids.

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <vector>

#include "core/agenda.hpp"
#include "core/agenda_rules.hpp"
#include "core/demo_clinic.hpp"
#include "core/flow.hpp"
#include "core/password.hpp"
#include "core/slots.hpp"
#include "support/admin_api.hpp"
#include "support/chat.hpp"
#include "support/harness.hpp"

using namespace atendeai::test;
using namespace std::chrono_literals;
using nlohmann::json;
namespace core = atendeai::core;

namespace {

using namespace atendeai::test::demo;
const std::string password = "Agenda-tests-42";

/// The node's "now": Monday 2030-03-04 09:00 in São Paulo.
const char* test_now = "2030-03-04T12:00:00Z";
clinic_day day_of_march(unsigned d) {
  return clinic_day_of(date::year_month_day{date::year{2030}, date::month{3}, date::day{d}});
}
const clinic_day monday = day_of_march(4);
const clinic_day wednesday = day_of_march(6);
const clinic_day thursday = day_of_march(7);
const clinic_day friday = day_of_march(8);

/// A node under the test clock with one user per role (the professional linked to Dra. Ana).
struct agenda_node : chat_node {
  std::map<std::string, std::string> tokens; ///< by role name
  std::map<std::string, std::string> user_ids;
  std::map<std::string, std::string> emails; ///< by the same keys as tokens

  agenda_node() {
    options.env = admin_settings("agenda-test-jwt-secret-0123456789abcdef", test_var_dir("agenda", db));
    options.env["ATENDEAI_TEST_CLOCK"] = test_now;
    use_test_clock_for_webhooks(test_now);
    start();
    // A super admin with a known password, straight into the database.
    {
      auto c = db.connect();
      pqxx::work tx(*c);
      tx.exec("SELECT set_config('app.clinic_id', '00000000-0000-0000-0000-000000000000', true)");
      tx.exec_params("INSERT INTO atendeai.users (clinic_id, email, name, role, password_hash) VALUES "
                     "('00000000-0000-0000-0000-000000000000', 'root@agenda.test', 'Root', 'super_admin', $1)",
                     core::hash_password(password, 4));
      tx.commit();
    }
    emails["super_admin"] = "root@agenda.test";
    tokens["super_admin"] = login("root@agenda.test");
    add_user("clinic_admin", "");
    add_user("attendant", "");
    add_user("professional", ana);
    // The agenda's tests count the chat's replies: staff changes are not told to patients
    // here (tests/integration/test_reminders.cpp tests those notices).
    auto off = api("PUT", "/reminders",
                   {{"notify_staff_changes", {{"created", false}, {"moved", false}, {"cancelled", false}}}},
                   "super_admin");
    REQUIRE(off.status == 200);
  }

  std::string login(const std::string& email) {
    auto token = api_login(*node, email, password);
    INFO(email);
    REQUIRE(!token.empty());
    return token;
  }

  /// A user of the demo clinic with `role` (linked to `professional` when given).
  void add_user(const std::string& role, const std::string& professional, const std::string& key = "") {
    auto email = (key.empty() ? role : key) + "@agenda.test";
    json body = {{"email", email}, {"password", password}, {"role", role}, {"clinic_id", clinic_id}};
    if (!professional.empty())
      body["professional_id"] = professional;
    auto r = http_post(node->url("/api/v1/users"), body.dump(), bearer("super_admin"));
    INFO(r.body);
    REQUIRE(r.status == 201);
    CHECK(r.json()["professional_id"] == (professional.empty() ? json() : json(professional)));
    user_ids[key.empty() ? role : key] = r.json()["id"];
    emails[key.empty() ? role : key] = email;
    tokens[key.empty() ? role : key] = login(email);
  }

  std::map<std::string, std::string> bearer(const std::string& who) { return bearer_header(tokens[who]); }

  /// An admin API call on the demo clinic's agenda (`path` after /clinics/:id).
  http_response api(const std::string& method, const std::string& path, const json& body = nullptr,
                    const std::string& who = "attendant") {
    return http_request(method, node->url("/api/v1/clinics/" + clinic_id + path), body.is_null() ? "" : body.dump(),
                        bearer(who));
  }

  /// POST /appointments for a patient; the answer.
  http_response book(const std::string& service, const std::string& professional, const std::string& starts_at,
                     const std::string& phone, const std::string& who = "attendant") {
    return api("POST", "/appointments",
               {{"service_id", service},
                {"professional_id", professional},
                {"starts_at", starts_at},
                {"patient", {{"phone", phone}, {"name", "Paciente Teste"}}}},
               who);
  }

  /// The starts_at of the free slots of a service (and professional) on one day.
  std::vector<std::string> slots(const std::string& service, const std::string& professional, const clinic_day& d) {
    auto r = api("GET", "/slots?service_id=" + service + "&professional_id=" + professional +
                          "&from=" + core::format_ymd(d.ymd) + "&to=" + core::format_ymd(d.ymd));
    INFO(r.body);
    REQUIRE(r.status == 200);
    std::vector<std::string> out;
    auto body = r.json();
    for (auto& s : body["slots"])
      out.push_back(s["starts_at"]);
    return out;
  }

  /// Moves the node's clock to an instant; everyone logs in again (tokens last 15 minutes).
  void set_clock(const std::string& iso) {
    auto r = http_post(node->url("/test/clock"), json{{"now", iso}}.dump());
    REQUIRE(r.status == 200);
    for (auto& [who, email] : emails)
      tokens[who] = login(email);
  }


  /// The newest audit row of an action on a target: {actor, before, after}.
  json audit(const std::string& action, const std::string& target) const {
    auto row = db.scalar("SELECT json_build_object('actor', actor_user_id, 'role', actor_role, 'before', before, "
                         "'after', after)::text FROM atendeai.audit_log WHERE action = '" + action +
                         "' AND target_id = '" + target + "' ORDER BY at DESC LIMIT 1");
    return row.empty() ? json() : json::parse(row);
  }
};

/// The ISO start of a slot choice id ("slot:<professional>:<ISO>"), or "".
std::string choice_start(const std::string& id) {
  auto s = core::parse_slot_choice_id(id);
  return s ? core::format_iso(s->second) : "";
}

} // namespace

TEST_CASE("Slots: the API lists what the chat offers, and each side sees the other's bookings and holds",
          "[agenda][slots]") {
  agenda_node n;
  // Wednesday: the clinic's 08:00–18:00 on the 60-minute grid, in the clinic's zone.
  auto r = n.api("GET", "/slots?service_id=" + cardio + "&professional_id=" + ana + "&from=2030-03-06&to=2030-03-06");
  REQUIRE(r.status == 200);
  auto body = r.json();
  CHECK(body["timezone"] == "America/Sao_Paulo");
  REQUIRE(body["slots"].size() == 10);
  CHECK(body["slots"][0] == json{{"professional_id", ana},
                                  {"service_id", cardio},
                                  {"starts_at", "2030-03-06T08:00:00-03:00"},
                                  {"ends_at", "2030-03-06T09:00:00-03:00"}});
  CHECK(body["slots"][9]["starts_at"] == wednesday.local(17));
  // Monday: nothing before 11:00 (now 09:00 + 2 hours' advance); Sunday: closed.
  CHECK(n.slots(cardio, ana, monday).front() == monday.local(11));
  CHECK(n.slots(cardio, ana, day_of_march(10)).empty());

  // The chat offers, for that day, exactly what the same computation picks from the API's list.
  const auto* tz = core::clinic_zone(core::demo_clinic());
  auto chat_offer = [&](const std::string& patient) {
    auto reply = n.say(patient, "quero uma consulta de cardiologia dia " + wednesday.ddmm);
    std::vector<std::string> ids;
    for (auto& id : ids_of(reply))
      ids.push_back(choice_start(id));
    return ids;
  };
  auto expected_offer = [&] {
    std::vector<core::slot> all;
    for (auto& s : n.slots(cardio, ana, wednesday)) {
      auto start = *core::parse_iso(s);
      all.push_back({ana, cardio, start, start + 1h});
    }
    core::slot_preference pref;
    pref.date = wednesday.ymd;
    std::vector<std::string> out;
    for (auto& s : core::suggest_slots(all, pref, 3, tz))
      out.push_back(core::format_iso(s.start));
    return out;
  };
  auto offered = chat_offer("5511900002001");
  CHECK(offered.size() == 3);
  CHECK(offered == expected_offer());

  // Booked through the API: gone from the API's slots and from what the chat offers.
  REQUIRE(n.book(cardio, ana, wednesday.local(8), "5511900002101").status == 201);
  CHECK(n.slots(cardio, ana, wednesday).front() == wednesday.local(9));
  CHECK(n.slots(cardio, ana, wednesday).size() == 9);
  auto after = chat_offer("5511900002002");
  CHECK(after == expected_offer());
  CHECK(std::find(after.begin(), after.end(), wednesday.utc(8)) == after.end());
  auto asked = n.say("5511900002003", "quero uma consulta de cardiologia dia " + wednesday.ddmm + " às 8h");
  CHECK_FALSE(contains_text(text_of(asked), "Posso confirmar"));

  // Held by a patient confirming in chat: not offered by the API, and refused there.
  auto prompt = n.say("5511900002004", "quero uma consulta de cardiologia dia " + wednesday.ddmm + " às 14h");
  REQUIRE(contains_text(text_of(prompt), "Posso confirmar Cardiologia com a Dra. Ana Souza na quarta, 06/03, às 14:00?"));
  auto wed = n.slots(cardio, ana, wednesday);
  CHECK(std::find(wed.begin(), wed.end(), wednesday.local(14)) == wed.end());
  auto refused = n.book(cardio, ana, wednesday.local(14), "5511900002102");
  CHECK(refused.status == 409);
  CHECK(refused.json()["error"]["message"] == "this time is being booked by a patient right now");

  // Booked in chat: gone from the API's slots too.
  REQUIRE(contains_text(text_of(n.say("5511900002004", "sim")), "Pronto! Consulta confirmada"));
  wed = n.slots(cardio, ana, wednesday);
  CHECK(wed.size() == 8);
  CHECK(std::find(wed.begin(), wed.end(), wednesday.local(14)) == wed.end());
  CHECK(n.count("SELECT count(*) FROM atendeai.appointments WHERE status = 'scheduled'") == 2);

  // Any professional: both who perform Clínico geral, sorted by time.
  auto both = n.api("GET", "/slots?service_id=" + clinico + "&from=2030-03-06&to=2030-03-07").json()["slots"];
  CHECK(both.size() == 2 * 2 * 10 - 2); // Ana's 08:00 and 14:00 on Wednesday are taken
  CHECK(both[0]["starts_at"] == wednesday.local(8));
  CHECK(both[0]["professional_id"] == carlos);
}

TEST_CASE("Appointments: create, get, list, reschedule, cancel, attended and no-show, each audited",
          "[agenda][appointments]") {
  agenda_node n;
  auto created = n.api("POST", "/appointments",
                       {{"service_id", cardio},
                        {"professional_id", ana},
                        {"starts_at", "2030-03-06T13:00:00Z"}, // 10:00 in São Paulo
                        {"patient", {{"phone", "+55 (11) 98888-7777"}, {"name", "Maria Silva"}}}});
  INFO(created.body);
  REQUIRE(created.status == 201);
  auto a = created.json();
  auto id = a["id"].get<std::string>();
  CHECK(a["status"] == "scheduled");
  CHECK(a["starts_at"] == wednesday.local(10));
  CHECK(a["ends_at"] == wednesday.local(11));
  CHECK(a["patient"]["phone"] == "+5511988887777"); // E.164
  CHECK(a["patient"]["name"] == "Maria Silva");
  CHECK(n.scalar("SELECT a.professional_id || ' ' || a.service_id || ' ' || a.status || ' ' || c.external_id || ' ' || "
                 "c.name || ' ' || to_char(a.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                 "FROM atendeai.appointments a JOIN atendeai.contacts c ON c.clinic_id = a.clinic_id "
                 "AND c.id = a.contact_id WHERE a.id = '" + id + "'") ==
        ana + " " + cardio + " scheduled 5511988887777 Maria Silva " + wednesday.utc(10));
  auto audit = n.audit("appointment.create", id);
  CHECK(audit["actor"] == n.user_ids["attendant"]);
  CHECK(audit["role"] == "attendant");
  CHECK(audit["before"].is_null());
  CHECK(audit["after"]["status"] == "scheduled");
  CHECK(audit["after"]["starts_at"] == wednesday.utc(10));

  auto got = n.api("GET", "/appointments/" + id);
  REQUIRE(got.status == 200);
  CHECK(got.json() == a);

  // The same patient again, by phone in another form: the same contact.
  REQUIRE(n.book(dermato, carlos, thursday.local(9), "5511988887777").status == 201);
  CHECK(n.count("SELECT count(*) FROM atendeai.contacts WHERE external_id = '5511988887777'") == 1);

  // Reschedule: the same row, moved (and to another professional who performs it).
  auto moved = n.api("POST", "/appointments/" + id + "/reschedule", {{"starts_at", thursday.local(15)}});
  INFO(moved.body);
  REQUIRE(moved.status == 200);
  CHECK(moved.json()["id"] == id);
  CHECK(moved.json()["starts_at"] == thursday.local(15));
  CHECK(n.scalar("SELECT to_char(starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') || ' ' || status "
                 "FROM atendeai.appointments WHERE id = '" + id + "'") == thursday.utc(15) + " scheduled");
  audit = n.audit("appointment.reschedule", id);
  CHECK(audit["before"]["starts_at"] == wednesday.utc(10));
  CHECK(audit["after"]["starts_at"] == thursday.utc(15));
  auto wed = n.slots(cardio, ana, wednesday);
  CHECK(std::find(wed.begin(), wed.end(), wednesday.local(10)) != wed.end()); // freed
  auto thu = n.slots(cardio, ana, thursday);
  CHECK(std::find(thu.begin(), thu.end(), thursday.local(15)) == thu.end()); // taken
  auto to_carlos =
    n.api("POST", "/appointments/" + id + "/reschedule", {{"starts_at", thursday.local(16)}, {"professional_id", carlos}});
  CHECK(to_carlos.json()["error"]["field"] == "professional_id"); // Carlos does not do Cardiologia

  // Listings with filters.
  auto list = [&](const std::string& q) {
    auto r = n.api("GET", "/appointments" + q);
    INFO(q << " → " << r.body);
    REQUIRE(r.status == 200);
    return r.json();
  };
  CHECK(list("")["total"] == 2);
  CHECK(list("?from=2030-03-07&to=2030-03-07")["total"] == 2);
  CHECK(list("?from=2030-03-06&to=2030-03-06")["total"] == 0);
  CHECK(list("?professional_id=" + ana)["items"][0]["id"] == id);
  CHECK(list("?professional_id=" + ana)["total"] == 1);
  CHECK(list("?patient=maria")["total"] == 2);
  CHECK(list("?patient=%2B5511988887777")["total"] == 2);
  CHECK(list("?patient=Jo%C3%A3o")["total"] == 0);
  CHECK(list("?status=scheduled&per_page=1")["items"].size() == 1);
  CHECK(list("?status=scheduled&per_page=1&page=2")["items"].size() == 1);

  // Cancel with a reason; once cancelled, nothing more changes.
  auto cancelled = n.api("POST", "/appointments/" + id + "/cancel", {{"reason", "Paciente pediu por telefone"}});
  REQUIRE(cancelled.status == 200);
  CHECK(cancelled.json()["status"] == "cancelled");
  CHECK(cancelled.json()["cancel_reason"] == "Paciente pediu por telefone");
  CHECK(n.scalar("SELECT status || ' ' || cancel_reason FROM atendeai.appointments WHERE id = '" + id + "'") ==
        "cancelled Paciente pediu por telefone");
  audit = n.audit("appointment.cancel", id);
  CHECK(audit["before"]["status"] == "scheduled");
  CHECK(audit["after"]["status"] == "cancelled");
  for (auto what : {"/cancel", "/attended", "/no-show", "/reschedule"}) {
    json b = std::string(what) == "/cancel" ? json{{"reason", "again"}}
             : std::string(what) == "/reschedule" ? json{{"starts_at", thursday.local(16)}} : json::object();
    auto again = n.api("POST", "/appointments/" + id + what, b);
    INFO(what << " → " << again.body);
    CHECK(again.status == 409);
    CHECK(again.json()["error"]["field"] == "status");
  }
  CHECK(list("?status=cancelled")["total"] == 1);
  thu = n.slots(cardio, ana, thursday);
  CHECK(std::find(thu.begin(), thu.end(), thursday.local(15)) != thu.end()); // free again

  // Attended and no-show only once the appointment has started.
  auto first = n.book(cardio, ana, monday.local(11), "5511900003001").json()["id"].get<std::string>();
  auto second = n.book(cardio, ana, monday.local(12), "5511900003002").json()["id"].get<std::string>();
  auto early = n.api("POST", "/appointments/" + first + "/attended", json::object());
  CHECK(early.status == 409);
  CHECK(early.json()["error"]["message"] == "the appointment has not started yet");
  n.set_clock("2030-03-04T15:30:00Z"); // 12:30 in São Paulo
  auto attended = n.api("POST", "/appointments/" + first + "/attended", nullptr, "professional");
  INFO(attended.body);
  REQUIRE(attended.status == 200);
  CHECK(attended.json()["status"] == "attended");
  auto no_show = n.api("POST", "/appointments/" + second + "/no-show");
  REQUIRE(no_show.status == 200);
  CHECK(no_show.json()["status"] == "no_show");
  CHECK(n.scalar("SELECT string_agg(status, ' ' ORDER BY starts_at) FROM atendeai.appointments "
                 "WHERE id IN ('" + first + "', '" + second + "')") == "attended no_show");
  audit = n.audit("appointment.attended", first);
  CHECK(audit["actor"] == n.user_ids["professional"]);
  CHECK(audit["before"]["status"] == "scheduled");
  CHECK(audit["after"]["status"] == "attended");
  CHECK(n.audit("appointment.no_show", second)["after"]["status"] == "no_show");
  CHECK(n.api("POST", "/appointments/" + first + "/no-show").status == 409);
  // A started appointment is not cancelled any more.
  auto third = n.book(cardio, ana, thursday.local(10), "5511900003003").json()["id"].get<std::string>();
  n.set_clock("2030-03-07T13:10:00Z");
  auto late = n.api("POST", "/appointments/" + third + "/cancel", {{"reason", "tarde demais"}});
  CHECK(late.status == 409);
  CHECK(late.json()["error"]["message"] == "the appointment has already started; mark it attended or no_show");
  CHECK(n.count("SELECT count(*) FROM atendeai.audit_log WHERE action LIKE 'appointment.%'") == 9);
}

TEST_CASE("An appointment staff create for a number that never chatted is the patient's in chat, in any form of "
          "the number",
          "[agenda][appointments][phone]") {
  agenda_node n;
  // Staff type the mobile without the country code; WhatsApp gives it without the ninth digit.
  auto created = n.book(cardio, ana, wednesday.local(10), "(11) 98888-7777");
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(created.json()["patient"]["phone"] == "+5511988887777");
  auto id = created.json()["id"].get<std::string>();
  const std::string wa_id = "551188887777";

  auto mine = text_of(n.say(wa_id, "minhas consultas"));
  INFO(mine);
  CHECK(contains_text(mine, "Cardiologia"));
  CHECK(contains_text(mine, wednesday.ddmm));
  CHECK(contains_text(mine, "10:00"));
  CHECK_FALSE(contains_text(mine, "não tem consultas"));
  // Another patient does not see it.
  CHECK(contains_text(text_of(n.say("5511977776666", "minhas consultas")), "Você não tem consultas marcadas no momento."));

  // Staff book again in yet another form: the contact that chatted, linked to its conversation.
  auto second = n.book(dermato, carlos, thursday.local(9), "+55 11 8888-7777");
  INFO(second.body);
  REQUIRE(second.status == 201);
  CHECK(second.json()["patient"]["phone"] == "+5511988887777");
  CHECK_FALSE(second.json()["conversation_id"].is_null());
  CHECK(n.scalar("SELECT c.external_id FROM atendeai.appointments a JOIN atendeai.contacts c ON c.clinic_id = "
                 "a.clinic_id AND c.id = a.contact_id WHERE a.id = '" + second.json()["id"].get<std::string>() + "'") ==
        wa_id);
  // Both are found by the number, whichever form staff search with.
  CHECK(n.api("GET", "/appointments?patient=%2B5511988887777").json()["total"] == 2);
  CHECK(n.api("GET", "/appointments?patient=1188887777").json()["total"] == 2);

  // Cancelled from the chat.
  auto ask = n.say(wa_id, "quero cancelar minha consulta de cardiologia");
  INFO(text_of(ask));
  CHECK(contains_text(text_of(ask), "Cardiologia"));
  auto done = text_of(n.say(wa_id, "sim"));
  INFO(done);
  CHECK(contains_text(done, "Consulta cancelada"));
  CHECK(n.scalar("SELECT status FROM atendeai.appointments WHERE id = '" + id + "'") == "cancelled");
  // After a restart (nothing in memory) the remaining one is still theirs.
  n.restart();
  auto left = text_of(n.say(wa_id, "minhas consultas"));
  INFO(left);
  CHECK(contains_text(left, "Dermatologia"));
  CHECK_FALSE(contains_text(left, "Cardiologia"));
}

TEST_CASE("Bad patient phones answer 422 naming the field", "[agenda][validation][phone]") {
  agenda_node n;
  for (auto bad : {"12ab", "123", "98765-4321", "+55 11 8765-432", "+55 11 1234-5678", "(11) 88765-4321"}) {
    auto r = n.book(cardio, ana, wednesday.local(10), bad);
    INFO(bad << " " << r.body);
    CHECK(r.status == 422);
    CHECK(r.json()["error"]["field"] == "patient.phone");
  }
  CHECK(n.count("SELECT count(*) FROM atendeai.appointments") == 0);
}

TEST_CASE("Agenda API validation names the field and writes nothing", "[agenda][validation]") {
  agenda_node n;
  auto field_of = [&](const http_response& r) {
    INFO(r.body);
    CHECK(r.status == 422);
    return r.json()["error"].value("field", "");
  };
  auto slots = [&](const std::string& q) { return field_of(n.api("GET", "/slots" + q)); };
  CHECK(slots("?from=2030-03-06&to=2030-03-06") == "service_id");
  CHECK(slots("?service_id=nope&from=2030-03-06&to=2030-03-06") == "service_id");
  CHECK(slots("?service_id=" + cardio + "&professional_id=x&from=2030-03-06&to=2030-03-06") == "professional_id");
  CHECK(slots("?service_id=" + cardio + "&to=2030-03-06") == "from");
  CHECK(slots("?service_id=" + cardio + "&from=2030-02-30&to=2030-03-06") == "from");
  CHECK(slots("?service_id=" + cardio + "&from=2030-03-06") == "to");
  CHECK(slots("?service_id=" + cardio + "&from=2030-03-06&to=2030-03-05") == "to");
  CHECK(slots("?service_id=" + cardio + "&from=2030-03-06&to=2030-04-06") == "to"); // over 31 days
  CHECK(slots("?service_id=" + cardio + "&from=2030-03-06&to=2030-03-06&color=blue") == "color");
  CHECK(slots("?service_id=99999999-9999-4999-8999-999999999999&from=2030-03-06&to=2030-03-06") == "service_id");
  CHECK(slots("?service_id=" + cardio + "&professional_id=" + carlos + "&from=2030-03-06&to=2030-03-06") ==
        "professional_id");

  json good = {{"service_id", cardio},
               {"professional_id", ana},
               {"starts_at", wednesday.local(10)},
               {"patient", {{"phone", "5511900004001"}, {"name", "Ana Paula"}}}};
  auto create = [&](const std::function<void(json&)>& edit) {
    auto b = good;
    edit(b);
    return field_of(n.api("POST", "/appointments", b));
  };
  CHECK(create([](json& b) { b.erase("patient"); }) == "patient");
  CHECK(create([](json& b) { b.erase("starts_at"); }) == "starts_at");
  CHECK(create([](json& b) { b["patient"]["phone"] = "12ab"; }) == "patient.phone");
  CHECK(create([](json& b) { b["patient"]["phone"] = "123"; }) == "patient.phone");
  CHECK(create([](json& b) { b["patient"].erase("phone"); }) == "patient.phone");
  CHECK(create([](json& b) { b["patient"]["name"] = "<script>"; }) == "patient.name");
  CHECK(create([](json& b) { b["patient"]["age"] = 3; }) == "patient.age");
  CHECK(create([](json& b) { b["patient"] = "5511900004001"; }) == "patient");
  CHECK(create([](json& b) { b["notes"] = "x"; }) == "notes");
  CHECK(create([](json& b) { b["service_id"] = 7; }) == "service_id");
  CHECK(create([](json& b) { b["service_id"] = "99999999-9999-4999-8999-999999999999"; }) == "service_id");
  CHECK(create([](json& b) { b["professional_id"] = carlos; }) == "professional_id");
  CHECK(create([](json& b) { b["starts_at"] = "amanhã às 10h"; }) == "starts_at");
  CHECK(create([](json& b) { b["starts_at"] = "2030-03-06T10:00:00"; }) == "starts_at"); // no offset
  // The same checks as the chat: grid, hours, advance, closed days.
  auto reason = [&](const std::string& starts_at) {
    auto b = good;
    b["starts_at"] = starts_at;
    auto r = n.api("POST", "/appointments", b);
    INFO(r.body);
    CHECK(r.status == 422);
    CHECK(r.json()["error"]["field"] == "starts_at");
    return r.json()["error"]["message"].get<std::string>();
  };
  CHECK(contains_text(reason("2030-03-06T10:30:00-03:00"), "slot grid"));
  CHECK(contains_text(reason(wednesday.local(18)), "working hours"));
  CHECK(contains_text(reason(monday.local(10)), "at least 2 hours from now"));
  CHECK(contains_text(reason("2030-04-10T10:00:00-03:00"), "at most 30 days ahead"));
  CHECK(contains_text(reason(day_of_march(10).local(10)), "working hours")); // Sunday
  CHECK(contains_text(reason("2030-03-01T10:00:00-03:00"), "at least 2 hours from now")); // the past
  {
    auto c = n.db.connect();
    pqxx::work tx(*c);
    tx.exec_params("SELECT set_config('app.clinic_id', $1, true)", clinic_id);
    tx.exec_params("INSERT INTO atendeai.closures (clinic_id, starts_on, ends_on, reason) VALUES ($1, '2030-03-06', "
                   "'2030-03-06', 'Feriado')", clinic_id);
    tx.exec_params("INSERT INTO atendeai.professional_absences (clinic_id, professional_id, starts_at, ends_at) VALUES "
                   "($1, $2, '2030-03-07T08:00:00-03:00', '2030-03-07T12:00:00-03:00')", clinic_id, ana);
    tx.commit();
  }
  // Written behind the clinic actor's back: a restart makes it read them.
  n.restart();
  CHECK(contains_text(reason(wednesday.local(10)), "closed on that day (Feriado)"));
  CHECK(contains_text(reason(thursday.local(9)), "professional is away"));
  CHECK(n.slots(cardio, ana, wednesday).empty());
  CHECK(n.slots(cardio, ana, thursday).front() == thursday.local(12));

  CHECK(n.api("POST", "/appointments", nullptr).status == 400);
  auto not_json = http_request("POST", n.node->url("/api/v1/clinics/" + clinic_id + "/appointments"), "{nope",
                               n.bearer("attendant"));
  CHECK(not_json.status == 400);
  CHECK(field_of(n.api("GET", "/appointments?status=lost")) == "status");
  CHECK(field_of(n.api("GET", "/appointments?from=yesterday")) == "from");
  CHECK(field_of(n.api("GET", "/appointments?from=2030-03-08&to=2030-03-07")) == "to");
  CHECK(field_of(n.api("GET", "/appointments?professional_id=123")) == "professional_id");

  // Body rules on an existing appointment (found first: 404 comes before 422).
  auto id = n.book(cardio, ana, friday.local(10), "5511900004002").json()["id"].get<std::string>();
  CHECK(field_of(n.api("POST", "/appointments/" + id + "/cancel", json::object())) == "reason");
  CHECK(field_of(n.api("POST", "/appointments/" + id + "/cancel", {{"reason", "   "}})) == "reason");
  CHECK(field_of(n.api("POST", "/appointments/" + id + "/reschedule", {{"starts_at", "soon"}})) == "starts_at");
  CHECK(field_of(n.api("POST", "/appointments/" + id + "/attended", {{"when", "now"}})) == "when");
  CHECK(n.api("POST", "/appointments/99999999-9999-4999-8999-999999999999/cancel", json::object()).status == 404);
  CHECK(n.api("GET", "/appointments/not-a-uuid").status == 404);
  CHECK(n.count("SELECT count(*) FROM atendeai.appointments") == 1);
  CHECK(n.count("SELECT count(*) FROM atendeai.audit_log WHERE action LIKE 'appointment.%'") == 1);
}

TEST_CASE("A taken time answers 409 with the nearest free slots", "[agenda][conflict]") {
  agenda_node n;
  REQUIRE(n.book(cardio, ana, wednesday.local(10), "5511900005001").status == 201);
  auto r = n.book(cardio, ana, wednesday.local(10), "5511900005002");
  INFO(r.body);
  REQUIRE(r.status == 409);
  auto error = r.json()["error"];
  CHECK(error["code"] == "conflict");
  CHECK(error["field"] == "starts_at");
  CHECK(error["message"] == "this time was just booked");
  REQUIRE(error["alternatives"].size() == 5);
  std::vector<std::string> starts;
  for (auto& s : error["alternatives"]) {
    CHECK(s["professional_id"] == ana);
    CHECK(s["service_id"] == cardio);
    starts.push_back(s["starts_at"]);
  }
  // The nearest around 10:00, sorted, each one free in the slots listing.
  CHECK(starts == std::vector<std::string>{wednesday.local(8), wednesday.local(9), wednesday.local(11),
                                           wednesday.local(12), wednesday.local(13)});
  auto free = n.slots(cardio, ana, wednesday);
  for (auto& s : starts)
    CHECK(std::find(free.begin(), free.end(), s) != free.end());
  // Rescheduling another appointment onto it: the same 409.
  auto other = n.book(cardio, ana, wednesday.local(15), "5511900005003").json()["id"].get<std::string>();
  auto move = n.api("POST", "/appointments/" + other + "/reschedule", {{"starts_at", wednesday.local(10)}});
  CHECK(move.status == 409);
  CHECK(move.json()["error"]["alternatives"].size() == 5);
  // An overlapping time of a longer stay is refused by the database's guard as well.
  CHECK(n.count("SELECT count(*) FROM atendeai.appointments WHERE status = 'scheduled'") == 2);
}

TEST_CASE("50 concurrent attempts at one slot, 25 by API and 25 by chat: exactly one appointment",
          "[agenda][race]") {
  agenda_node n;
  const int each = 25;
  const std::string wanted = friday.utc(15);
  auto patient = [](int i) { return "55119200" + std::to_string(10000 + i); };
  // The patients first choose the service; their next message names the day and time.
  for (int i = 0; i < each; ++i)
    REQUIRE(contains_text(text_of(n.say(patient(i), "quero marcar uma consulta de cardiologia")), "Cardiologia"));
  auto before = n.graph.count();

  std::mutex m;
  std::condition_variable cv;
  bool go = false;
  auto wait_go = [&] {
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [&] { return go; });
  };
  std::vector<http_response> api_answers(each);
  std::vector<long> webhook_status(each);
  std::vector<std::thread> threads;
  for (int i = 0; i < each; ++i) {
    threads.emplace_back([&, i] {
      wait_go();
      api_answers[i] = n.book(cardio, ana, friday.local(15), "55119300" + std::to_string(10000 + i));
    });
    threads.emplace_back([&, i] {
      wait_go();
      webhook_status[i] =
        post_webhook(*n.node, webhook_body({{patient(i), "wamid.race-" + std::to_string(i), "dia 08/03 às 15h"}}))
          .status;
    });
  }
  {
    std::lock_guard<std::mutex> lock(m);
    go = true;
  }
  cv.notify_all();
  for (auto& t : threads)
    t.join();
  for (auto s : webhook_status)
    REQUIRE(s == 200);
  REQUIRE(eventually([&] { return n.graph.count() >= before + each; }, 60s));

  int api_won = 0, chat_won = 0;
  std::string chat_winner;
  for (auto& r : api_answers) {
    INFO(r.body);
    if (r.status == 201) {
      ++api_won;
      continue;
    }
    CHECK(r.status == 409);
    auto error = r.json()["error"];
    CHECK(error["code"] == "conflict");
    CHECK(error["field"] == "starts_at");
    CHECK(error["alternatives"].size() >= 1);
    for (auto& s : error["alternatives"])
      CHECK(s["starts_at"] != friday.local(15));
  }
  for (int i = 0; i < each; ++i) {
    auto replies = sent_to(n.graph, patient(i));
    REQUIRE(replies.size() == 2);
    auto text = text_of(replies[1]);
    CAPTURE(text);
    CHECK_FALSE(contains_text(text, "Desculpe"));
    CHECK_FALSE(contains_text(text, "recepção"));
    if (contains_text(text, "Posso confirmar Cardiologia com a Dra. Ana Souza na sexta, 08/03, às 15:00?")) {
      ++chat_won;
      chat_winner = patient(i);
      continue;
    }
    // Other times offered, as choices, never the wanted one.
    auto ids = ids_of(replies[1]);
    CHECK(ids.size() >= 1);
    for (auto& id : ids) {
      CHECK_FALSE(choice_start(id).empty());
      CHECK(choice_start(id) != wanted);
    }
  }
  CHECK(api_won + chat_won == 1);
  if (chat_won == 1)
    CHECK(contains_text(text_of(n.say(chat_winner, "sim")), "Pronto! Consulta confirmada"));
  CHECK(n.count("SELECT count(*) FROM atendeai.appointments WHERE status IN ('scheduled', 'confirmed') "
                "AND starts_at = '" + wanted + "'::timestamptz") == 1);
  CHECK(n.count("SELECT count(*) FROM atendeai.appointments") == 1);
  CHECK(n.count("SELECT count(*) FROM atendeai.audit_log WHERE action = 'appointment.create'") == api_won);
}

TEST_CASE("A professional sees only their own agenda, and clinic A's staff reach nothing of clinic B",
          "[agenda][tenant]") {
  agenda_node n;
  auto mine = n.book(cardio, ana, wednesday.local(10), "5511900006001").json()["id"].get<std::string>();
  auto theirs = n.book(dermato, carlos, wednesday.local(10), "5511900006002").json()["id"].get<std::string>();

  auto list = n.api("GET", "/appointments", nullptr, "professional");
  REQUIRE(list.status == 200);
  CHECK(list.json()["total"] == 1);
  CHECK(list.json()["items"][0]["id"] == mine);
  CHECK(n.api("GET", "/appointments/" + mine, nullptr, "professional").status == 200);
  CHECK(n.api("GET", "/appointments/" + theirs, nullptr, "professional").status == 404);
  CHECK(n.api("POST", "/appointments/" + theirs + "/attended", nullptr, "professional").status == 404);
  CHECK(n.api("GET", "/appointments?professional_id=" + carlos, nullptr, "professional").status == 403);
  CHECK(n.book(cardio, ana, wednesday.local(11), "5511900006003", "professional").status == 403);
  CHECK(n.api("GET", "/appointments", nullptr, "attendant").json()["total"] == 2);
  // A professional user not linked to a professional sees nothing; links are checked.
  n.add_user("professional", "", "unlinked");
  CHECK(n.api("GET", "/appointments", nullptr, "unlinked").json()["total"] == 0);
  auto bad_link = http_post(n.node->url("/api/v1/users"),
                            json{{"email", "x@agenda.test"}, {"password", password}, {"role", "professional"},
                                 {"clinic_id", clinic_id}, {"professional_id", "99999999-9999-4999-8999-999999999999"}}
                              .dump(),
                            n.bearer("super_admin"));
  CHECK(bad_link.status == 422);
  CHECK(bad_link.json()["error"]["field"] == "professional_id");
  auto relink = http_request("PUT", n.node->url("/api/v1/users/" + n.user_ids["unlinked"]),
                             json{{"professional_id", carlos}}.dump(), n.bearer("clinic_admin"));
  REQUIRE(relink.status == 200);
  CHECK(relink.json()["professional_id"] == carlos);
  CHECK(n.api("GET", "/appointments", nullptr, "unlinked").json()["items"][0]["id"] == theirs);

  // A patient's history: a professional sees, and counts, only their own appointments.
  auto also = n.book(dermato, carlos, wednesday.local(11), "5511900006001");
  INFO(also.body);
  REQUIRE(also.status == 201);
  const auto history = "/contacts/" + also.json()["patient"]["contact_id"].get<std::string>() + "/appointments";
  auto own = n.api("GET", history, nullptr, "professional");
  INFO(own.body);
  REQUIRE(own.status == 200);
  CHECK(own.json()["total"] == 1);
  CHECK(own.json()["items"][0]["id"] == mine);
  CHECK(own.json()["contact"]["appointment_counts"]["total"] == 1);
  auto all = n.api("GET", history, nullptr, "attendant").json();
  CHECK(all["total"] == 2);
  CHECK(all["items"][0]["id"] == also.json()["id"]); // latest first
  CHECK(all["contact"]["appointment_counts"]["scheduled"] == 2);

  // Clinic B with an appointment of its own.
  const std::string clinic_b = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
  const std::string b_appointment = "bbbbbbbb-0000-4000-8000-0000000000a1";
  {
    auto c = n.db.connect();
    pqxx::work tx(*c);
    tx.exec_params("SELECT set_config('app.clinic_id', $1, true)", clinic_b);
    tx.exec_params("INSERT INTO atendeai.clinics (id, name) VALUES ($1, 'Clinic B')", clinic_b);
    tx.exec_params("INSERT INTO atendeai.professionals (clinic_id, id, name) VALUES ($1, "
                   "'bbbbbbbb-0000-4000-8000-0000000000b1', 'Dr. B')", clinic_b);
    tx.exec_params("INSERT INTO atendeai.services (clinic_id, id, name, duration_minutes, price_cents) VALUES ($1, "
                   "'bbbbbbbb-0000-4000-8000-0000000000c1', 'Consulta B', 60, 10000)", clinic_b);
    tx.exec_params("INSERT INTO atendeai.contacts (clinic_id, id, channel, external_id) VALUES ($1, "
                   "'bbbbbbbb-0000-4000-8000-0000000000d1', 'whatsapp', '5511900006999')", clinic_b);
    tx.exec_params("INSERT INTO atendeai.appointments (clinic_id, id, professional_id, service_id, contact_id, "
                   "starts_at, ends_at) VALUES ($1, $2, 'bbbbbbbb-0000-4000-8000-0000000000b1', "
                   "'bbbbbbbb-0000-4000-8000-0000000000c1', 'bbbbbbbb-0000-4000-8000-0000000000d1', "
                   "'2030-03-06T13:00:00Z', '2030-03-06T14:00:00Z')", clinic_b, b_appointment);
    tx.commit();
  }
  auto b_row = [&] { return n.scalar("SELECT status || starts_at::text FROM atendeai.appointments WHERE id = '" +
                                     b_appointment + "'"); };
  auto before = b_row();
  auto audits = n.count("SELECT count(*) FROM atendeai.audit_log");
  for (auto who : {"attendant", "clinic_admin", "professional"}) {
    INFO(who);
    // Through clinic A's path: no such appointment.
    CHECK(n.api("GET", "/appointments/" + b_appointment, nullptr, who).status == 404);
    const long desk_only = std::string(who) == "professional" ? 403 : 404; // the role comes first
    CHECK(n.api("POST", "/appointments/" + b_appointment + "/cancel", {{"reason", "x"}}, who).status == desk_only);
    CHECK(n.api("POST", "/appointments/" + b_appointment + "/reschedule", {{"starts_at", wednesday.local(9)}}, who)
            .status == desk_only);
    CHECK(n.api("POST", "/appointments/" + b_appointment + "/attended", nullptr, who).status == 404);
    CHECK(n.api("POST", "/appointments/" + b_appointment + "/no-show", nullptr, who).status == 404);
    // Through clinic B's path: no such clinic for them.
    auto b_path = n.node->url("/api/v1/clinics/" + clinic_b + "/appointments");
    CHECK(http_get(b_path + "/" + b_appointment, n.bearer(who)).status == 404);
    CHECK(http_get(b_path, n.bearer(who)).status == 404);
    CHECK(http_get(n.node->url("/api/v1/clinics/" + clinic_b + "/slots?service_id=" + cardio +
                               "&from=2030-03-06&to=2030-03-06"),
                   n.bearer(who))
            .status == 404);
  }
  CHECK(b_row() == before);
  CHECK(n.count("SELECT count(*) FROM atendeai.audit_log") == audits);
  // The super admin reaches B through its path.
  auto super = http_get(n.node->url("/api/v1/clinics/" + clinic_b + "/appointments/" + b_appointment),
                        n.bearer("super_admin"));
  CHECK(super.status == 200);
}
