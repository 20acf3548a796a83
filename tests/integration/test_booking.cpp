// Booking by chat, end to end (issue 6): a running node, the fake Graph API, the real
// PostgreSQL. Whole bookings (typed text and interactive taps) with the confirmation's
// content and the appointments row; reschedule and cancel by chat; 50 patients racing
// for one slot; the exclusion constraint against a direct INSERT; a restart in the
// middle of a flow; a flow expiring under a test clock. The other tests use the real
// clock, so their dates are chosen relative to now.

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/agenda.hpp"
#include "core/demo_clinic.hpp"
#include "core/flow.hpp"
#include "core/password.hpp"
#include "core/slots.hpp"
#include "support/chat.hpp"
#include "support/harness.hpp"

using namespace atendeai::test;
using namespace std::chrono_literals;
using nlohmann::json;
namespace core = atendeai::core;

namespace {

using namespace atendeai::test::demo;

/// The `n`-th weekday (Mon–Fri) from two days after today on, in the clinic's zone: far
/// enough from "now" for the 2-hour advance rule whatever the time of day.
clinic_day weekday_ahead(int n = 0) {
  const auto* tz = core::clinic_zone(core::demo_clinic());
  auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  date::sys_days d = date::sys_days{core::local_date(tz, now)} + date::days{2};
  for (;; d += date::days{1}) {
    auto wd = date::weekday{d}.c_encoding();
    if (wd == 0 || wd == 6)
      continue;
    if (n-- > 0)
      continue;
    return clinic_day_of(date::year_month_day{d});
  }
}

/// A node on a scratch database answering through the fake Graph API.
struct booking_node : chat_node {
  booking_node() { start(); }
};

/// The appointment columns the tests compare, for one patient (by their phone).
std::string appointment_row(const booking_node& n, const std::string& patient) {
  return n.scalar("SELECT a.professional_id || ' ' || a.service_id || ' ' || "
                  "to_char(a.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') || ' ' || "
                  "to_char(a.ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') || ' ' || a.status "
                  "FROM atendeai.appointments a JOIN atendeai.contacts c "
                  "ON c.clinic_id = a.clinic_id AND c.id = a.contact_id "
                  "WHERE c.external_id = '" + patient + "' ORDER BY a.created_at DESC LIMIT 1");
}

std::string expected_row(const std::string& professional, const std::string& service, const clinic_day& d, int hour,
                         const std::string& status = "scheduled") {
  return professional + " " + service + " " + d.utc(hour) + " " + d.utc(hour + 1) + " " + status;
}

} // namespace

TEST_CASE("A whole booking by chat with typed text only", "[booking]") {
  booking_node n;
  const std::string p = "5511900001001";
  auto day = weekday_ahead(0);

  CHECK(contains_text(text_of(n.say(p, "oi")), "Sofia"));

  auto services = n.say(p, "quero marcar uma consulta");
  CHECK(contains_text(text_of(services), "Qual serviço"));
  CHECK(ids_of(services).size() == 3);

  auto slots = n.say(p, "cardiologia");
  CHECK(contains_text(text_of(slots), "Cardiologia"));
  CHECK(contains_text(text_of(slots), "Dra. Ana Souza"));
  CHECK(ids_of(slots).size() >= 3);

  auto prompt = n.say(p, "dia " + day.ddmm + " às 14h");
  INFO(text_of(prompt));
  CHECK(text_of(prompt) == "Posso confirmar Cardiologia com a Dra. Ana Souza na " + day.weekday + ", " + day.ddmm +
                               ", às 14:00?");
  CHECK(ids_of(prompt) == std::vector<std::string>{"confirm", "other_time", "cancel"});

  auto done = n.say(p, "sim");
  CHECK(text_of(done) == "Pronto! Consulta confirmada: Cardiologia com a Dra. Ana Souza, " + day.weekday + " " +
                             day.ddmm + " às 14:00, na " + address + ". Chegue 10 minutos antes. Até lá! 💙");
  CHECK(appointment_row(n, p) == expected_row(ana, cardio, day, 14));
  CHECK(n.count("SELECT count(*) FROM atendeai.appointments") == 1);
  CHECK(n.scalar("SELECT a.conversation_id = cv.id FROM atendeai.appointments a JOIN atendeai.conversations cv "
                 "ON cv.clinic_id = a.clinic_id AND cv.contact_id = a.contact_id") == "t");
  // The flow is over: the persisted conversation state has no open flow.
  CHECK(n.scalar("SELECT state -> 'flow' FROM atendeai.conversation_memory") == "null");
  // One reply per inbound message, every one answered.
  CHECK(n.count("SELECT count(*) FROM atendeai.messages WHERE direction = 'in'") == 5);
  CHECK(n.count("SELECT count(*) FROM atendeai.outbox") == 5);
  CHECK(n.count("SELECT count(*) FROM atendeai.messages WHERE direction = 'in' AND answered_at IS NULL") == 0);
}

TEST_CASE("A whole booking by chat with interactive replies", "[booking]") {
  booking_node n;
  const std::string p = "5511900001002";

  auto services = n.say(p, "quero marcar uma consulta");
  auto offered = ids_of(services);
  std::sort(offered.begin(), offered.end());
  REQUIRE(offered == std::vector<std::string>{"service:" + clinico, "service:" + cardio, "service:" + dermato});

  auto slots = n.tap(p, "list_reply", "service:" + dermato, "Dermatologia");
  CHECK(contains_text(text_of(slots), "Dermatologia"));
  auto rows = ids_of(slots);
  REQUIRE(rows.size() >= 2);
  // Take the second row offered: "slot:<professional>:<ISO start>".
  auto chosen = core::parse_slot_choice_id(rows[1]);
  REQUIRE(chosen);
  CHECK(chosen->first == carlos);
  const auto* tz = core::clinic_zone(core::demo_clinic());
  auto local = core::local_date(tz, chosen->second);
  char ddmm[8];
  std::snprintf(ddmm, sizeof ddmm, "%02u/%02u", static_cast<unsigned>(local.day()), static_cast<unsigned>(local.month()));
  auto minute = core::local_minute(tz, chosen->second);
  char hhmm[8];
  std::snprintf(hhmm, sizeof hhmm, "%02d:%02d", minute / 60, minute % 60);

  auto prompt = n.tap(p, "list_reply", rows[1], "slot");
  CHECK(contains_text(text_of(prompt), "Posso confirmar Dermatologia com o Dr. Carlos Lima"));
  CHECK(contains_text(text_of(prompt), std::string(ddmm) + ", às " + hhmm));
  REQUIRE(ids_of(prompt) == std::vector<std::string>{"confirm", "other_time", "cancel"});

  auto done = n.tap(p, "button_reply", "confirm", "Confirmar");
  auto text = text_of(done);
  INFO(text);
  CHECK(contains_text(text, "Pronto! Consulta confirmada: Dermatologia com o Dr. Carlos Lima, "));
  CHECK(contains_text(text, std::string(ddmm) + " às " + hhmm));
  CHECK(contains_text(text, address));
  static const char* names[] = {"domingo", "segunda", "terça", "quarta", "quinta", "sexta", "sábado"};
  CHECK(contains_text(text, names[core::local_weekday(tz, chosen->second)]));
  CHECK(n.scalar("SELECT professional_id || ' ' || service_id || ' ' || "
                 "to_char(starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') || ' ' || status "
                 "FROM atendeai.appointments") ==
        carlos + " " + dermato + " " + core::format_iso(chosen->second) + " scheduled");
}

TEST_CASE("Reschedule, list and cancel by chat", "[booking]") {
  booking_node n;
  const std::string p = "5511900001003";
  auto day = weekday_ahead(0);
  auto later = weekday_ahead(1);

  auto prompt = n.say(p, "quero uma consulta de cardiologia dia " + day.ddmm + " às 14h");
  CHECK(contains_text(text_of(prompt), "Posso confirmar Cardiologia com a Dra. Ana Souza"));
  CHECK(contains_text(text_of(n.say(p, "sim")), "Pronto! Consulta confirmada"));
  REQUIRE(appointment_row(n, p) == expected_row(ana, cardio, day, 14));
  auto id = n.scalar("SELECT id FROM atendeai.appointments");

  auto mine = n.say(p, "minhas consultas");
  CHECK(contains_text(text_of(mine), "Sua próxima consulta:"));
  CHECK(contains_text(text_of(mine), day.ddmm));

  auto ask = n.say(p, "preciso remarcar minha consulta");
  INFO(text_of(ask));
  CHECK(contains_text(text_of(ask), "Sua consulta de Cardiologia é " + day.weekday + " " + day.ddmm + " às 14:00"));
  auto move = n.say(p, "dia " + later.ddmm + " às 10h");
  CHECK(contains_text(text_of(move), "Posso remarcar sua consulta de Cardiologia"));
  CHECK(contains_text(text_of(move), later.ddmm + ", às 10:00"));
  auto moved = n.say(p, "sim");
  CHECK(contains_text(text_of(moved), "Pronto! Consulta remarcada: Cardiologia com a Dra. Ana Souza, " + later.weekday + " " +
                                          later.ddmm + " às 10:00, na " + address));
  // The same row, moved.
  CHECK(n.scalar("SELECT id FROM atendeai.appointments") == id);
  CHECK(appointment_row(n, p) == expected_row(ana, cardio, later, 10));

  auto cancel = n.say(p, "cancelar minha consulta");
  CHECK(text_of(cancel) == "Quer cancelar Cardiologia com a Dra. Ana Souza, " + later.weekday + " " + later.ddmm +
                               " às 10:00?");
  CHECK(ids_of(cancel) == std::vector<std::string>{"confirm", "keep"});
  auto cancelled = n.tap(p, "button_reply", "confirm", "Sim, cancelar");
  CHECK(text_of(cancelled) == "Consulta cancelada. Se quiser marcar outra, é só me chamar.");
  CHECK(appointment_row(n, p) == expected_row(ana, cardio, later, 10, "cancelled"));
  CHECK(n.scalar("SELECT cancel_reason IS NOT NULL FROM atendeai.appointments") == "t");

  CHECK(text_of(n.say(p, "minhas consultas")) == "Você não tem consultas marcadas no momento.");
  // The freed time can be booked again.
  auto again = n.say(p, "quero uma consulta de cardiologia dia " + later.ddmm + " às 10h");
  CHECK(contains_text(text_of(again), "Posso confirmar Cardiologia com a Dra. Ana Souza na " + later.weekday));
}

TEST_CASE("50 patients at once for one slot: one appointment, the others offered other times", "[booking][race]") {
  booking_node n;
  auto day = weekday_ahead(2);
  const int patients = 50;
  auto phone = [](int i) { return "55119100" + std::to_string(10000 + i); };
  const std::string wanted_start = day.utc(15);

  // Everyone asks for the same time at the same moment.
  std::vector<std::thread> threads;
  std::atomic<int> accepted{0};
  for (int i = 0; i < patients; ++i)
    threads.emplace_back([&, i] {
      auto body = webhook_body({{phone(i), "wamid.race-a-" + std::to_string(i),
                                 "quero uma consulta de cardiologia dia " + day.ddmm + " às 15h"}});
      if (post_webhook(*n.node, body).status == 200)
        ++accepted;
    });
  for (auto& t : threads)
    t.join();
  threads.clear();
  REQUIRE(accepted == patients);
  REQUIRE(eventually([&] { return n.graph.count() >= static_cast<size_t>(patients); }, 60s));
  REQUIRE(quiescent(n.db, 60s)); // a second reply would have been delivered by now
  REQUIRE(n.graph.count() == static_cast<size_t>(patients));

  int offered_it = 0;
  std::string winner;
  for (int i = 0; i < patients; ++i) {
    auto replies = sent_to(n.graph, phone(i));
    REQUIRE(replies.size() == 1);
    auto text = text_of(replies[0]);
    CAPTURE(text);
    CHECK_FALSE(contains_text(text, "Desculpe"));
    CHECK_FALSE(contains_text(text, "recepção"));
    if (contains_text(text, "Posso confirmar Cardiologia com a Dra. Ana Souza na " + day.weekday + ", " + day.ddmm + ", às 15:00?")) {
      ++offered_it;
      winner = phone(i);
    } else {
      // Other times, as choices, never the wanted one.
      auto ids = ids_of(replies[0]);
      CHECK(ids.size() >= 1);
      for (auto& id : ids) {
        auto s = core::parse_slot_choice_id(id);
        REQUIRE(s);
        CHECK(core::format_iso(s->second) != wanted_start);
      }
    }
  }
  CHECK(offered_it == 1);

  // Everyone says yes at once: only the one holding the slot books it.
  for (int i = 0; i < patients; ++i)
    threads.emplace_back([&, i] {
      post_webhook(*n.node, webhook_body({{phone(i), "wamid.race-b-" + std::to_string(i), "sim"}}));
    });
  for (auto& t : threads)
    t.join();
  REQUIRE(eventually([&] { return n.graph.count() >= static_cast<size_t>(2 * patients); }, 60s));
  CHECK(n.count("SELECT count(*) FROM atendeai.appointments WHERE status IN ('scheduled', 'confirmed') "
                "AND starts_at = '" + wanted_start + "'::timestamptz") == 1);
  CHECK(n.count("SELECT count(*) FROM atendeai.appointments") == 1);
  REQUIRE_FALSE(winner.empty());
  CHECK(contains_text(text_of(sent_to(n.graph, winner).back()), "Pronto! Consulta confirmada"));
  CHECK(n.count("SELECT count(*) FROM atendeai.outbox") == 2 * patients);
}

TEST_CASE("The exclusion constraint refuses an overlapping appointment written directly in SQL", "[booking][sql]") {
  booking_node n;
  auto conn = n.db.connect();
  auto insert = [&](const std::string& professional, const std::string& from, const std::string& to,
                    const std::string& status = "scheduled") {
    pqxx::work tx(*conn);
    tx.exec_params("SELECT set_config('app.clinic_id', $1, true)", clinic_id);
    tx.exec_params("INSERT INTO atendeai.contacts (clinic_id, id, channel, external_id) VALUES "
                   "($1, '00000000-0000-4000-8000-0000000000d1', 'whatsapp', '5511900009999') ON CONFLICT DO NOTHING",
                   clinic_id);
    tx.exec_params("INSERT INTO atendeai.appointments (clinic_id, professional_id, service_id, contact_id, starts_at, "
                   "ends_at, status) VALUES ($1, $2, $3, '00000000-0000-4000-8000-0000000000d1', $4::timestamptz, "
                   "$5::timestamptz, $6)",
                   clinic_id, professional, cardio, from, to, status);
    tx.commit();
  };
  auto refused = [&](auto&& f) -> std::string {
    try {
      f();
      return "accepted";
    } catch (const pqxx::sql_error& e) {
      return e.sqlstate();
    }
  };
  insert(ana, "2030-03-04T14:00:00-03:00", "2030-03-04T15:00:00-03:00");
  CHECK(refused([&] { insert(ana, "2030-03-04T14:30:00-03:00", "2030-03-04T15:30:00-03:00"); }) == "23P01");
  CHECK(refused([&] { insert(ana, "2030-03-04T14:00:00-03:00", "2030-03-04T15:00:00-03:00", "confirmed"); }) == "23P01");
  // Back to back, another professional, or an inactive status: no overlap.
  CHECK(refused([&] { insert(ana, "2030-03-04T15:00:00-03:00", "2030-03-04T16:00:00-03:00"); }) == "accepted");
  CHECK(refused([&] { insert(carlos, "2030-03-04T14:00:00-03:00", "2030-03-04T15:00:00-03:00"); }) == "accepted");
  CHECK(refused([&] { insert(ana, "2030-03-04T14:00:00-03:00", "2030-03-04T15:00:00-03:00", "cancelled"); }) ==
        "accepted");
  // Moving an appointment onto another is refused too.
  CHECK(refused([&] {
          pqxx::work tx(*conn);
          tx.exec_params("SELECT set_config('app.clinic_id', $1, true)", clinic_id);
          tx.exec("UPDATE atendeai.appointments SET starts_at = '2030-03-04T14:30:00-03:00' "
                  "WHERE starts_at = '2030-03-04T15:00:00-03:00' AND professional_id = '" + ana + "'");
          tx.commit();
        }) == "23P01");
  CHECK(n.count("SELECT count(*) FROM atendeai.appointments WHERE status = 'scheduled'") == 3);
  // Row-level security: the app role sees nothing without a clinic scope.
  CHECK(n.scalar("SET ROLE atendeai_app; SELECT count(*) FROM atendeai.appointments") == "0");
}

TEST_CASE("A node restart in the middle of a flow resumes it", "[booking][restart]") {
  booking_node n;
  const std::string p = "5511900001004";
  auto day = weekday_ahead(1);

  CHECK(contains_text(text_of(n.say(p, "quero marcar uma consulta")), "Qual serviço"));
  auto slots = n.say(p, "cardiologia");
  CHECK(contains_text(text_of(slots), "Dra. Ana Souza"));
  REQUIRE(eventually([&] {
    return n.scalar("SELECT state -> 'flow' ->> 'step' FROM atendeai.conversation_memory") == "date_time";
  }));

  n.restart();

  // The service was remembered: a day and time is enough.
  auto prompt = n.say(p, "dia " + day.ddmm + " às 11h");
  CHECK(text_of(prompt) == "Posso confirmar Cardiologia com a Dra. Ana Souza na " + day.weekday + ", " + day.ddmm +
                               ", às 11:00?");
  n.restart();
  auto done = n.say(p, "sim");
  CHECK(contains_text(text_of(done), "Pronto! Consulta confirmada: Cardiologia com a Dra. Ana Souza, " + day.weekday + " " +
                                         day.ddmm + " às 11:00"));
  CHECK(appointment_row(n, p) == expected_row(ana, cardio, day, 11));
}

TEST_CASE("A flow left silent expires: the patient is told (though passivated) and the held time is free again",
          "[booking][expiry]") {
  // Under a test clock (Monday 2030-03-04 09:00 in São Paulo) moved past the default
  // 30-minute expiry instead of waiting for it.
  fake_graph_api graph;
  scratch_database db;
  node_options o{graph.base_url(), "test-token",
                 {{"ATENDEAI_TEST_CLOCK", "2030-03-04T12:00:00Z"},
                  {"ATENDEAI_AUTH_JWT_SECRET", "expiry-tests-jwt-secret-0123456789abcdef"}}};
  auto node = serve_node(db, o);
  // A super admin, to see when each flow last looked at the clock (inspection).
  {
    auto c = db.connect();
    pqxx::work tx(*c);
    tx.exec("SELECT set_config('app.clinic_id', '00000000-0000-0000-0000-000000000000', true)");
    tx.exec_params("INSERT INTO atendeai.users (clinic_id, email, name, role, password_hash) VALUES "
                   "('00000000-0000-0000-0000-000000000000', 'root@expiry.test', 'Root', 'super_admin', $1)",
                   core::hash_password("Expiry-tests-42", 4));
    tx.commit();
  }
  auto day = clinic_day_of(date::year_month_day{date::year{2030}, date::month{3}, date::day{7}});
  const std::string a = "5511900001005";
  const std::string b = "5511900001006";
  auto to = [&](const std::string& p) { return sent_to(graph, p); };
  const std::string ask = "quero uma consulta de cardiologia dia " + day.ddmm + " às 16h";
  CHECK(contains_text(text_of(exchange(*node, db, graph, a, webhook_body({{a, "wamid.exp-1", ask}}))),
                      "Posso confirmar Cardiologia com a Dra. Ana Souza na quinta, 07/03, às 16:00?"));

  // B wants the same time while A holds it.
  CHECK_FALSE(contains_text(text_of(exchange(*node, db, graph, b, webhook_body({{b, "wamid.exp-2", ask}}))), "Posso confirmar"));

  // 29 minutes of silence: nothing yet, and both conversations passivate (idle for more
  // than the default 10 minutes) while their flows stay open.
  auto moved = http_post(node->url("/test/clock"), R"({"advance_s":1740})");
  REQUIRE(moved.status == 200);
  CHECK(moved.json()["now"] == "2030-03-04T12:29:00Z");
  REQUIRE(eventually(
    [&] { return scrape_metrics(*node)["atendeai_actors_passivated_total{kind=\"conversation\"}"] >= 2; }, 30s));
  // Both flows have looked at the clock since it moved (and are still open), and nothing
  // is in flight: a notice sent at 29 minutes would have been delivered by now.
  auto login = http_post(node->url("/api/v1/auth/login"), R"({"email":"root@expiry.test","password":"Expiry-tests-42"})");
  REQUIRE(login.status == 200);
  const std::map<std::string, std::string> super{{"Authorization", "Bearer " + login.json()["access_token"].get<std::string>()}};
  auto checked_since_move = [&](const std::string& patient) {
    auto cid = db.scalar("SELECT cv.id::text FROM atendeai.conversations cv JOIN atendeai.contacts ct "
                         "ON ct.clinic_id = cv.clinic_id AND ct.id = cv.contact_id WHERE ct.external_id = '" + patient + "'");
    auto r = http_get(node->url("/api/v1/admin/flows/" + cid), super);
    return r.status == 200 && r.json()["checked_at"].is_string() &&
           r.json()["checked_at"].get<std::string>() >= "2030-03-04T12:29:00";
  };
  REQUIRE(eventually([&] { return checked_since_move(a) && checked_since_move(b); }, 30s));
  REQUIRE(quiescent(db));
  CHECK(to(a).size() == 1);
  CHECK(to(b).size() == 1);

  // Past the expiry: A is told, unprompted, and A's flow is closed.
  REQUIRE(http_post(node->url("/test/clock"), R"({"advance_s":120})").status == 200);
  REQUIRE(eventually([&] { return to(a).size() == 2; }, 30s));
  CHECK(contains_text(text_of(to(a)[1]), "Como não tive resposta, encerrei este agendamento e liberei o horário reservado"));
  CHECK(eventually([&] {
    return db.scalar("SELECT count(*) FROM atendeai.conversation_memory cm "
                     "JOIN atendeai.conversations c ON c.clinic_id = cm.clinic_id AND c.id = cm.conversation_id "
                     "JOIN atendeai.contacts ct ON ct.clinic_id = c.clinic_id AND ct.id = c.contact_id "
                     "WHERE ct.external_id = '" + a + "' AND cm.state -> 'flow' = 'null'::jsonb")
           == "1";
  }));

  // The time is free again for B (B's own flow expired too: a fresh start).
  REQUIRE(eventually([&] { return to(b).size() == 2; }, 30s));
  CHECK(contains_text(text_of(exchange(*node, db, graph, b, webhook_body({{b, "wamid.exp-3", ask}}))),
                      "Posso confirmar Cardiologia com a Dra. Ana Souza na quinta, 07/03, às 16:00?"));
  CHECK(db.scalar("SELECT count(*) FROM atendeai.appointments") == "0");
}
