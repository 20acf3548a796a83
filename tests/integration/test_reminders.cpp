// Appointment reminders and the 24-hour window (issue 18), end to end on a test clock
// (Monday 2030-03-04 09:00 in São Paulo): the durable job scheduler plans one reminder
// per offset when an appointment is booked or moved, sends it when due (interactive
// inside the window, the template outside it), never twice, never for a cancelled
// appointment, never to a patient who opted out; the patient's taps and typed answers
// confirm, cancel or move the appointment; another patient's payload changes nothing;
// staff replies outside the window answer 409; reminder settings are validated.
#include <catch2/catch.hpp>

#include <thread>

#include <date/date.h>

#include "core/slots.hpp"
#include "support/clock_node.hpp"

using namespace atendeai::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

using namespace atendeai::test::demo;

/// The reminder tests' node: a clock node that lists an appointment's jobs.
struct reminder_node : clock_node {
  /// The appointment's reminder jobs as "offset state outcome" (notices: "change state
  /// outcome"), by due time.
  std::vector<std::string> jobs_of(const std::string& appointment, const std::string& kind = "reminder") {
    std::vector<std::string> out;
    auto c = db.connect();
    pqxx::read_transaction tx(*c);
    for (auto row : tx.exec("SELECT coalesce(payload ->> 'offset_minutes', payload ->> 'change') || ' ' || state || "
                            "' ' || coalesce(outcome, '') FROM atendeai.jobs WHERE kind = '" + kind +
                            "' AND payload ->> 'appointment_id' = '" + appointment + "' ORDER BY due_at, created_at"))
      out.push_back(row[0].as<std::string>());
    return out;
  }
};

} // namespace

TEST_CASE("Reminders at each offset: the template outside the window, buttons inside it, taps and typed answers",
          "[reminders]") {
  reminder_node n;
  n.no_notices();
  const std::string p = "5511900003001";
  CHECK(contains_text(text_of(n.say_now(p, "oi")), "Sofia")); // Monday 09:00: the window opens until Tuesday 09:00
  // Wednesday 2030-03-06 10:00 local: reminders due Tuesday 10:00 (24 h) and Wednesday 08:00 (2 h).
  auto aid = n.book(p, "2030-03-06T10:00:00-03:00");
  REQUIRE(eventually([&] { return n.jobs_of(aid) == std::vector<std::string>{"1440 pending ", "120 pending "}; }));

  // Tuesday 09:59: nothing is due yet.
  n.advance(std::chrono::hours(24) + std::chrono::minutes(59));
  REQUIRE(n.jobs_settled());
  CHECK(n.jobs_of(aid) == std::vector<std::string>{"1440 pending ", "120 pending "});
  CHECK(sent_to(n.graph, p).size() == 1);

  // Tuesday 10:00: the 24-hour reminder, as the template (the window closed at 09:00).
  n.advance(std::chrono::minutes(1));
  REQUIRE(eventually([&] { return sent_to(n.graph, p).size() == 2; }));
  auto reminder = sent_to(n.graph, p)[1];
  INFO(reminder.dump());
  REQUIRE(reminder["type"] == "template");
  CHECK(reminder["template"]["name"] == "lembrete_consulta");
  CHECK(reminder["template"]["language"]["code"] == "pt_BR");
  REQUIRE(eventually([&] { return n.jobs_of(aid) == std::vector<std::string>{"1440 done sent", "120 pending "}; }));
  // The stored message is what the patient reads.
  CHECK(contains_text(n.scalar("SELECT body FROM atendeai.outbound_messages WHERE intent = 'reminder'"),
                      "Lembrete da sua consulta de Cardiologia com a Dra. Ana Souza quarta 06/03 às 10:00"));

  // The patient taps the template's Confirmar.
  auto thanks = n.tap_template(p, "remind:confirm:" + aid, "Confirmar");
  CHECK(contains_text(text_of(thanks), "Obrigado! Sua consulta está confirmada: Cardiologia com a Dra. Ana Souza"));
  CHECK(n.status_of(aid) == "confirmed");

  // Wednesday 08:00: the 2-hour reminder, interactive (the patient wrote on Tuesday 10:00).
  n.advance(std::chrono::hours(22));
  REQUIRE(eventually([&] { return sent_to(n.graph, p).size() == 4; }));
  auto second = sent_to(n.graph, p)[3];
  REQUIRE(second["type"] == "interactive");
  CHECK(ids_of(second) == std::vector<std::string>{"remind:confirm:" + aid, "remind:reschedule:" + aid,
                                                    "remind:cancel:" + aid});
  CHECK(contains_text(text_of(second), "Olá, Maria! Lembrete da sua consulta"));

  // A typed answer: cancelled after a confirmation question; the slot is free again.
  auto question = n.say_now(p, "não vou poder ir");
  CHECK(contains_text(text_of(question), "Quer cancelar Cardiologia com a Dra. Ana Souza"));
  auto cancelled = n.say_now(p, "sim");
  CHECK(contains_text(text_of(cancelled), "Consulta cancelada"));
  CHECK(n.status_of(aid) == "cancelled");

  // Each reminder was written once, and both jobs are done.
  REQUIRE(eventually([&] { return n.jobs_of(aid) == std::vector<std::string>{"1440 done sent", "120 done sent"}; }));
  CHECK(n.count("SELECT count(*) FROM atendeai.outbound_messages WHERE intent = 'reminder'") == 2);
  CHECK(n.metric("atendeai_proactive_messages_total{kind=\"reminder\",outcome=\"sent_template\"}") == 1);
  CHECK(n.metric("atendeai_proactive_messages_total{kind=\"reminder\",outcome=\"sent_interactive\"}") == 1);
}

TEST_CASE("Cancelled and moved appointments, opt-out, and another patient's payload", "[reminders]") {
  reminder_node n;
  // Only the 2-hour reminder, to keep the day readable.
  n.no_notices();
  n.call(n.admin, "PUT", "/api/v1/clinics/" + clinic_id + "/reminders", {{"offsets_minutes", {120}}}, 200);
  const std::string cancelled = "5511900003101";
  const std::string moved = "5511900003102";
  const std::string quiet = "5511900003103";
  const std::string other = "5511900003104";
  for (auto& p : {cancelled, moved, quiet, other})
    n.say_now(p, "oi");
  // Tuesday: 10:00 (reminder due 08:00), 15:00 (13:00), 14:00 moved to 16:00 (12:00 → 14:00).
  auto a_cancelled = n.book(cancelled, "2030-03-05T10:00:00-03:00");
  auto a_quiet = n.book(quiet, "2030-03-05T15:00:00-03:00");
  auto a_moved = n.book(moved, "2030-03-05T14:00:00-03:00");
  n.call(n.admin, "POST", "/api/v1/clinics/" + clinic_id + "/appointments/" + a_cancelled + "/cancel",
         {{"reason", "patient called"}}, 200);
  n.call(n.admin, "POST", "/api/v1/clinics/" + clinic_id + "/appointments/" + a_moved + "/reschedule",
         {{"starts_at", "2030-03-05T16:00:00-03:00"}}, 200);
  // The patient asks for no more messages.
  CHECK(contains_text(text_of(n.say_now(quiet, "PARAR")), "você não vai mais receber lembretes"));
  // Another patient taps a payload naming someone else's appointment: nothing changes,
  // and the answer is the one to a message not understood.
  auto forged = n.tap_button(other, "remind:cancel:" + a_quiet, "Cancelar");
  CHECK_FALSE(contains_text(text_of(forged), "Quer cancelar"));
  CHECK_FALSE(contains_text(text_of(forged), "Consulta cancelada"));
  CHECK(n.status_of(a_quiet) == "scheduled");

  // Tuesday 13:30 local: the reminders due at 08:00, 12:00 and 13:00 were run.
  n.advance(std::chrono::hours(28) + std::chrono::minutes(30));
  REQUIRE(n.jobs_settled());
  CHECK(n.jobs_of(a_cancelled) == std::vector<std::string>{"120 skipped cancelled"});
  CHECK(n.jobs_of(a_quiet) == std::vector<std::string>{"120 skipped opted_out"});
  CHECK(n.jobs_of(a_moved) == std::vector<std::string>{"120 skipped moved", "120 pending "});
  CHECK(sent_to(n.graph, cancelled).size() == 1);
  CHECK(sent_to(n.graph, quiet).size() == 2);
  CHECK(sent_to(n.graph, moved).size() == 1);
  // 14:00: the moved appointment is reminded at its new time (by template: the patient
  // last wrote on Monday).
  n.advance(std::chrono::minutes(30));
  REQUIRE(eventually([&] { return sent_to(n.graph, moved).size() == 2; }));
  CHECK(sent_to(n.graph, moved)[1]["type"] == "template");
  CHECK(contains_text(n.scalar("SELECT body FROM atendeai.outbound_messages WHERE intent = 'reminder'"), "16:00"));
  CHECK(n.count("SELECT count(*) FROM atendeai.outbound_messages WHERE intent = 'reminder'") == 1);
}

TEST_CASE("A staff reply outside the 24-hour window answers 409 window_closed", "[reminders][inbox]") {
  reminder_node n;
  const std::string p = "5511900003201";
  n.say_now(p, "oi");
  auto cid = n.conversation_of(p);
  auto path = "/api/v1/clinics/" + clinic_id + "/conversations/" + cid;
  auto conversation = n.call(n.admin, "GET", path, nullptr, 200);
  CHECK(conversation["window_open_until"] == "2030-03-05T12:00:00Z");
  n.call(n.admin, "POST", path + "/messages", {{"text", "Olá! Aqui é a recepção."}}, 201);
  n.advance(std::chrono::hours(24));
  n.refused(n.admin, "POST", path + "/messages", {{"text", "Ainda está aí?"}}, 409, "text");
  auto r = http_post(n.url(path + "/messages"), json{{"text", "Ainda está aí?"}}.dump(), bearer_header(n.admin));
  CHECK(r.json()["error"]["code"] == "window_closed");
  CHECK(sent_to(n.graph, p).size() == 2);

  // A registered template goes at any time; its text is stored as the patient reads it.
  auto [_, attendant] = n.user("attendant");
  auto sent = n.call(attendant, "POST", path + "/messages",
                     {{"template", {{"name", "aviso_consulta"}, {"language", "pt_BR"},
                                    {"parameters", {"Maria", "Temos um horário livre amanhã às 9h. Quer marcar?"}}}}},
                     201);
  CHECK(sent["text"] == "Olá Maria! Temos um horário livre amanhã às 9h. Quer marcar?");
  CHECK(sent["template"] == json({{"name", "aviso_consulta"}, {"language", "pt_BR"}}));
  REQUIRE(eventually([&] { return sent_to(n.graph, p).size() == 3; }));
  auto delivered = sent_to(n.graph, p)[2];
  CHECK(delivered["type"] == "template");
  CHECK(delivered["template"]["name"] == "aviso_consulta");
  CHECK(delivered["template"]["components"][0]["parameters"][1]["text"] ==
        "Temos um horário livre amanhã às 9h. Quer marcar?");
  REQUIRE(eventually([&] {
    return n.scalar("SELECT status FROM atendeai.outbox WHERE message_id = '" + sent["id"].get<std::string>() + "'") ==
           "sent";
  }));
  // Not registered, or with the wrong number of parameters: 422 naming the member.
  n.refused(attendant, "POST", path + "/messages",
            {{"template", {{"name", "promocao"}, {"language", "pt_BR"}, {"parameters", {"Maria"}}}}}, 422,
            "template.name");
  n.refused(attendant, "POST", path + "/messages",
            {{"template", {{"name", "aviso_consulta"}, {"language", "pt_BR"}, {"parameters", {"Maria"}}}}}, 422,
            "template.parameters");
  n.refused(attendant, "POST", path + "/messages",
            {{"template", {{"name", "aviso_consulta"}, {"language", "pt_BR"}, {"parameters", {"Maria", ""}}}}}, 422,
            "template.parameters[1]");
  n.refused(attendant, "POST", path + "/messages", {{"template", {{"language", "pt_BR"}}}}, 422, "template.name");
  n.refused(attendant, "POST", path + "/messages",
            {{"text", "oi"}, {"template", {{"name", "aviso_consulta"}, {"language", "pt_BR"}}}}, 422, "template");

  // Meta refuses a template (not approved, say): failed at once, never retried, and staff
  // see Meta's code on the message.
  n.graph.fail_next(1, 400, 132001);
  auto refused = n.call(attendant, "POST", path + "/messages",
                        {{"template", {{"name", "aviso_consulta"}, {"language", "pt_BR"},
                                       {"parameters", {"Maria", "Podemos confirmar sua consulta?"}}}}},
                        201);
  auto id = refused["id"].get<std::string>();
  REQUIRE(eventually([&] {
    return n.scalar("SELECT status FROM atendeai.outbox WHERE message_id = '" + id + "'") == "failed";
  }));
  auto listed = n.call(attendant, "GET", path + "/messages", nullptr, 200)["items"][0];
  INFO(listed.dump());
  CHECK(listed["id"] == id);
  CHECK(listed["status"] == "failed");
  CHECK(contains_text(listed["error"].get<std::string>(), "Meta error 132001: injected failure"));
  CHECK(n.scalar("SELECT attempts FROM atendeai.outbox WHERE message_id = '" + id + "'") == "1");
  CHECK(n.metric("atendeai_outbox_refused_total{code=\"132001\"}") == 1);
  CHECK(sent_to(n.graph, p).size() == 3);
}

TEST_CASE("Reminder settings: read, changed, refused naming the member, and re-planned", "[reminders]") {
  reminder_node n;
  auto path = "/api/v1/clinics/" + clinic_id + "/reminders";
  CHECK(n.call(n.admin, "GET", path, nullptr, 200) ==
        json::parse(R"({"enabled":true,"offsets_minutes":[1440,120],
          "template":{"name":"lembrete_consulta","language":"pt_BR"},"quiet_hours":{"start":"21:00","end":"08:00"},
          "notify_staff_changes":{"created":true,"moved":true,"cancelled":true,
                                  "template":{"name":"aviso_consulta","language":"pt_BR"}},
          "no_show_after_minutes":null,"require_opt_in":false})"));
  const std::string p = "5511900003301";
  n.say_now(p, "oi");
  auto aid = n.book(p, "2030-03-07T10:00:00-03:00");
  REQUIRE(eventually([&] { return n.jobs_of(aid).size() == 2; }));
  auto changed = n.call(n.admin, "PUT", path, {{"offsets_minutes", {2880, 60}}}, 200);
  CHECK(changed["offsets_minutes"] == json({2880, 60}));
  CHECK(n.call(n.admin, "GET", path, nullptr, 200)["offsets_minutes"] == json({2880, 60}));
  // The appointment gets reminders at the new offsets too (the removed ones are skipped when due).
  CHECK(n.jobs_of(aid) == std::vector<std::string>{"2880 pending ", "1440 pending ", "120 pending ", "60 pending "});
  n.refused(n.admin, "PUT", path, {{"offsets_minutes", {60, 3}}}, 422, "offsets_minutes[1]");
  n.refused(n.admin, "PUT", path, {{"quiet_hours", {{"start", "9pm"}, {"end", "08:00"}}}}, 422, "quiet_hours.start");
  n.refused(n.admin, "PUT", path, {{"often", true}}, 422, "often");
  n.refused(n.admin, "PUT", path, {{"template", {{"name", "lembrete"}, {"language", "pt_BR"}}}}, 422, "template.name");
  n.refused(n.admin, "PUT", path, {{"notify_staff_changes", {{"template", {{"language", "es"}}}}}}, 422,
            "notify_staff_changes.template.name");
  n.call(n.admin, "PUT", path, {{"template", {{"name", "lembrete_consulta"}, {"language", "en_US"}}}}, 200);
  auto [_, attendant] = n.user("attendant");
  n.refused(attendant, "GET", path, nullptr, 403, "");
  CHECK(n.count("SELECT count(*) FROM atendeai.audit_log WHERE action = 'reminders.update'") == 2);
}

TEST_CASE("Patients are told of staff changes: buttons inside the window, the notice template outside it",
          "[reminders][notices]") {
  reminder_node n;
  const std::string p = "5511900003401";
  n.say_now(p, "oi");
  auto aid = n.book(p, "2030-03-06T10:00:00-03:00");
  REQUIRE(eventually([&] { return sent_to(n.graph, p).size() == 2; }));
  auto booked = sent_to(n.graph, p)[1];
  CHECK(text_of(booked) == "Olá, Maria! Sua consulta de Cardiologia com a Dra. Ana Souza foi marcada para quarta 06/03 "
                           "às 10:00, na " + address + ". Você confirma?");
  CHECK(ids_of(booked) == std::vector<std::string>{"remind:confirm:" + aid, "remind:reschedule:" + aid,
                                                    "remind:cancel:" + aid});
  // Meta refuses the next one: the window closed after all (131047). It goes as the template.
  n.graph.fail_next(1, 400, 131047);
  n.call(n.admin, "POST", "/api/v1/clinics/" + clinic_id + "/appointments/" + aid + "/reschedule",
         {{"starts_at", "2030-03-06T11:00:00-03:00"}}, 200);
  REQUIRE(eventually([&] { return sent_to(n.graph, p).size() == 3; }));
  auto moved = sent_to(n.graph, p)[2];
  CHECK(moved["type"] == "template");
  CHECK(moved["template"]["name"] == "aviso_consulta");
  CHECK(contains_text(moved.dump(), "foi remarcada para quarta 06/03 às 11:00"));
  CHECK(n.metric("atendeai_outbox_window_fallbacks_total") == 1);
  // The patient answers the notice's Confirmar.
  CHECK(contains_text(text_of(n.tap_button(p, "remind:confirm:" + aid, "Confirmar")), "Sua consulta está confirmada"));
  CHECK(n.status_of(aid) == "confirmed");

  // A day later (the window closed): the cancellation goes as the notice template.
  n.advance(std::chrono::hours(25));
  n.call(n.admin, "POST", "/api/v1/clinics/" + clinic_id + "/appointments/" + aid + "/cancel",
         {{"reason", "doctor away"}}, 200);
  REQUIRE(eventually([&] { return sent_to(n.graph, p).size() == 5; }));
  auto cancelled = sent_to(n.graph, p)[4];
  INFO(cancelled.dump());
  REQUIRE(cancelled["type"] == "template");
  CHECK(cancelled["template"]["name"] == "aviso_consulta");
  CHECK(contains_text(cancelled.dump(), "foi cancelada pela clínica"));
  REQUIRE(eventually([&] {
    return n.jobs_of(aid, "notify") ==
           std::vector<std::string>{"created done sent", "moved done sent", "cancelled done sent"};
  }));

  // A clinic that turned booking notices off: the job is skipped, nothing is sent.
  n.call(n.admin, "PUT", "/api/v1/clinics/" + clinic_id + "/reminders",
         {{"notify_staff_changes", {{"created", false}}}}, 200);
  const std::string q = "5511900003402";
  n.say_now(q, "oi");
  auto other = n.book(q, "2030-03-07T10:00:00-03:00");
  REQUIRE(eventually([&] { return n.jobs_of(other, "notify") == std::vector<std::string>{"created skipped disabled"}; }));
  CHECK(sent_to(n.graph, q).size() == 1);
}

TEST_CASE("Automatic no-shows after the clinic's grace, a patient's history with counts, the opt-in on record",
          "[reminders][no_show]") {
  reminder_node n;
  n.no_notices();
  const std::string base = "/api/v1/clinics/" + clinic_id;
  auto no_show_jobs = [&](const std::string& appointment) {
    return n.scalar("SELECT string_agg(state || ' ' || coalesce(outcome, ''), ', ' ORDER BY due_at) "
                    "FROM atendeai.jobs WHERE kind = 'no_show' AND payload ->> 'appointment_id' = '" + appointment + "'");
  };
  // Off by default: a booking gets reminders, no no-show job.
  CHECK(n.call(n.admin, "GET", base + "/reminders", nullptr, 200)["no_show_after_minutes"].is_null());
  const std::string p = "5511900003401", q = "5511900003402";
  auto missed = n.book(p, "2030-03-04T11:00:00-03:00"); // Monday 11:00-12:00 local (two hours ahead at least)
  auto next_day = n.book(p, "2030-03-05T10:00:00-03:00");
  // One reader plans both in turn: once the second has its reminders, the first was planned.
  REQUIRE(eventually([&] { return !n.jobs_of(next_day).empty(); }));
  CHECK(n.count("SELECT count(*) FROM atendeai.jobs WHERE kind = 'no_show'") == 0);

  n.refused(n.admin, "PUT", base + "/reminders", {{"no_show_after_minutes", 4}}, 422, "no_show_after_minutes");
  n.refused(n.admin, "PUT", base + "/reminders", {{"no_show_after_minutes", "30"}}, 422, "no_show_after_minutes");
  auto attendant = n.user("attendant").second;
  n.refused(attendant, "PUT", base + "/reminders", {{"no_show_after_minutes", 30}}, 403, "");
  CHECK(n.call(n.admin, "PUT", base + "/reminders", {{"no_show_after_minutes", 30}}, 200)["no_show_after_minutes"] ==
        30);
  // The change planned the booked appointments; new bookings get their own.
  CHECK(no_show_jobs(missed) == "pending ");
  auto came = n.book(q, "2030-03-04T14:00:00-03:00");
  REQUIRE(eventually([&] { return no_show_jobs(came) == "pending "; }));
  CHECK(no_show_jobs(next_day) == "pending ");

  // Monday 14:05: the 11:00 one passed its end + 30 minutes; q came and staff say so.
  n.advance(std::chrono::hours(5) + std::chrono::minutes(5));
  attendant = n.user("attendant").second; // the last token expired on the node's clock
  REQUIRE(eventually([&] { return n.status_of(missed) == "no_show"; }));
  REQUIRE(eventually([&] { return no_show_jobs(missed) == "done marked no_show"; }));
  CHECK(n.count("SELECT count(*) FROM atendeai.audit_log WHERE action = 'appointment.no_show' AND target_id = '" +
                missed + "' AND actor_role = 'system' AND actor_user_id IS NULL") == 1);
  n.call(attendant, "POST", base + "/appointments/" + came + "/attended", nullptr, 200);
  // Monday 15:35: q's grace ran out, but they came: nothing changes, the job says why.
  n.advance(std::chrono::minutes(90));
  attendant = n.user("attendant").second;
  REQUIRE(n.jobs_settled());
  CHECK(no_show_jobs(came) == "skipped attended");
  CHECK(n.status_of(came) == "attended");
  CHECK(n.status_of(next_day) == "scheduled");
  CHECK(no_show_jobs(next_day) == "pending ");
  CHECK(n.metric("atendeai_proactive_messages_total{kind=\"no_show\",outcome=\"marked\"}") == 1);

  // Turned off again: the pending one is skipped, nothing is marked.
  n.call(n.admin, "PUT", base + "/reminders", {{"no_show_after_minutes", nullptr}}, 200);
  CHECK(no_show_jobs(next_day) == "skipped superseded");

  // The patient's history: latest first, with the count in each status.
  auto contact = n.call(n.admin, "GET", base + "/appointments/" + missed, nullptr, 200)["patient"]["contact_id"];
  const std::string history = base + "/contacts/" + contact.get<std::string>() + "/appointments";
  auto h = n.call(attendant, "GET", history, nullptr, 200);
  INFO(h.dump());
  CHECK(h["total"] == 2);
  REQUIRE(h["items"].size() == 2);
  CHECK(h["items"][0]["id"] == next_day);
  CHECK(h["items"][1]["id"] == missed);
  CHECK(h["items"][1]["status"] == "no_show");
  CHECK(h["contact"]["phone"] == p);
  CHECK(h["contact"]["name"] == "Maria Teste");
  CHECK(h["contact"]["opt_in"].is_null());
  CHECK(h["contact"]["appointment_counts"] ==
        json({{"scheduled", 1}, {"confirmed", 0}, {"attended", 0}, {"no_show", 1}, {"cancelled", 0}, {"total", 2}}));
  auto only = n.call(attendant, "GET", history + "?status=no_show", nullptr, 200);
  CHECK(only["total"] == 1);
  CHECK(only["items"][0]["id"] == missed);
  n.refused(attendant, "GET", history + "?status=late", nullptr, 422, "status");
  n.refused(attendant, "GET", base + "/contacts/00000000-0000-4000-8000-000000000000/appointments", nullptr, 404, "");
  // Another clinic's staff do not even learn the patient exists.
  auto outsider = n.user("clinic_admin", n.other_clinic()).second;
  n.refused(outsider, "GET", history, nullptr, 404, "");

  // The opt-in the clinic collected: recorded with its source and who, withdrawn, audited.
  const std::string opt_in = base + "/contacts/" + contact.get<std::string>() + "/opt-in";
  n.refused(attendant, "PUT", opt_in, {{"source", "  "}}, 422, "source");
  n.refused(attendant, "PUT", opt_in, json::object(), 422, "source");
  n.refused(attendant, "PUT", base + "/contacts/00000000-0000-4000-8000-000000000000/opt-in",
            {{"source", "ficha na recepção"}}, 404, "");
  auto recorded = n.call(attendant, "PUT", opt_in, {{"source", "ficha na recepção"}}, 200);
  CHECK(recorded["opt_in"]["source"] == "ficha na recepção");
  CHECK(recorded["opt_in"]["at"] == "2030-03-04T18:35:00Z"); // the node's clock
  CHECK(n.call(attendant, "GET", history, nullptr, 200)["contact"]["opt_in"]["source"] == "ficha na recepção");
  CHECK(n.call(attendant, "DELETE", opt_in, nullptr, 200)["opt_in"].is_null());
  CHECK(n.count("SELECT count(*) FROM atendeai.audit_log WHERE target_id = '" + contact.get<std::string>() +
                "' AND action IN ('contact.opt_in', 'contact.opt_in_withdrawn')") == 2);
}

TEST_CASE("A clinic that requires the opt-in sends reminder templates only to patients whose opt-in it recorded",
          "[reminders]") {
  reminder_node n;
  n.no_notices();
  const std::string base = "/api/v1/clinics/" + clinic_id;
  const std::string p = "5511900003501", q = "5511900003502";
  // Both wrote on Monday 09:00 (the window closes Tuesday 09:00); Wednesday 10:00 and 11:00:
  // 24-hour reminders due Tuesday, outside the window, so only a template may go.
  n.say_now(p, "oi");
  n.say_now(q, "oi");
  auto first = n.book(p, "2030-03-06T10:00:00-03:00");
  auto second = n.book(q, "2030-03-06T11:00:00-03:00");
  CHECK(n.call(n.admin, "PUT", base + "/reminders", {{"require_opt_in", true}}, 200)["require_opt_in"] == true);
  n.refused(n.admin, "PUT", base + "/reminders", {{"require_opt_in", "yes"}}, 422, "require_opt_in");
  // The clinic records p's opt-in (a form at the reception); q's it never got.
  auto contact = n.call(n.admin, "GET", base + "/appointments/" + first, nullptr, 200)["patient"]["contact_id"];
  n.call(n.admin, "PUT", base + "/contacts/" + contact.get<std::string>() + "/opt-in", {{"source", "ficha"}}, 200);

  // Tuesday 11:01: both are due.
  n.advance(std::chrono::hours(26) + std::chrono::minutes(1));
  REQUIRE(n.jobs_settled());
  REQUIRE(eventually([&] { return sent_to(n.graph, p).size() == 2; }));
  auto reminder = sent_to(n.graph, p)[1];
  INFO(reminder.dump());
  CHECK(reminder["type"] == "template");
  CHECK(reminder["template"]["name"] == "lembrete_consulta");
  CHECK(n.jobs_of(first) == std::vector<std::string>{"1440 done sent", "120 pending "});
  // No opt-in on record: nothing goes to q, and the job says why.
  REQUIRE(eventually([&] { return n.jobs_of(second) == std::vector<std::string>{"1440 skipped no_opt_in", "120 pending "}; }));
  CHECK(sent_to(n.graph, q).size() == 1); // only the answer to "oi"
  CHECK(n.metric("atendeai_proactive_messages_total{kind=\"reminder\",outcome=\"skipped_no_opt_in\"}") == 1);
}

TEST_CASE("A patient booked by staff who never wrote gets the reminder template, and the answer comes back",
          "[reminders]") {
  reminder_node n;
  n.no_notices();
  const std::string p = "5511900003601";
  // Booked by phone at the front desk: Wednesday 10:00, the 24-hour reminder due Tuesday 10:00.
  auto aid = n.book(p, "2030-03-06T10:00:00-03:00");
  REQUIRE(eventually([&] { return n.jobs_of(aid) == std::vector<std::string>{"1440 pending ", "120 pending "}; }));
  REQUIRE(n.jobs_settled()); // the notice of the booking (turned off) was claimed: it opened nothing
  CHECK(n.conversation_of(p).empty());

  n.advance(std::chrono::hours(25) + std::chrono::minutes(1));
  REQUIRE(eventually([&] { return sent_to(n.graph, p).size() == 1; }));
  auto reminder = sent_to(n.graph, p)[0];
  INFO(reminder.dump());
  CHECK(reminder["type"] == "template"); // no window was ever open
  CHECK(reminder["template"]["name"] == "lembrete_consulta");
  REQUIRE(eventually([&] { return n.jobs_of(aid) == std::vector<std::string>{"1440 done sent", "120 pending "}; }));
  // The reminder opened the patient's conversation, from the clinic's account.
  auto cid = n.conversation_of(p);
  REQUIRE_FALSE(cid.empty());
  CHECK(n.count("SELECT count(*) FROM atendeai.outbound_messages WHERE intent = 'reminder' AND account_id = '" +
                std::string(demo_phone_number_id) + "' AND conversation_id = '" + cid + "'") == 1);

  // Staff may follow up there before the patient answers: a template, not free text.
  const auto messages = "/api/v1/clinics/" + clinic_id + "/conversations/" + cid + "/messages";
  n.refused(n.admin, "POST", messages, {{"text", "Olá! Conseguiu ver o lembrete?"}}, 409, "text");
  n.call(n.admin, "POST", messages,
         {{"template", {{"name", "aviso_consulta"}, {"language", "pt_BR"},
                        {"parameters", {"Maria", "Conseguiu ver o lembrete da sua consulta?"}}}}},
         201);
  REQUIRE(eventually([&] { return sent_to(n.graph, p).size() == 2; }));
  CHECK(sent_to(n.graph, p)[1]["template"]["name"] == "aviso_consulta");
  // A staff message takes the conversation over; handed back, the assistant answers again.
  n.call(n.admin, "POST", "/api/v1/clinics/" + clinic_id + "/conversations/" + cid + "/release", nullptr, 200);

  // The patient taps Confirmar: the answer arrives in that conversation and confirms.
  auto thanks = n.tap_template(p, "remind:confirm:" + aid, "Confirmar");
  CHECK(contains_text(text_of(thanks), "Sua consulta está confirmada"));
  CHECK(n.status_of(aid) == "confirmed");
  CHECK(n.conversation_of(p) == cid);
  CHECK(n.metric("atendeai_reminder_answers_total{answer=\"confirm\"}") == 1);
}

TEST_CASE("PostgreSQL down when reminders fall due: after it is back, one still ahead is sent, one whose "
          "appointment started is skipped as past",
          "[reminders][outage]") {
  reminder_node n;
  n.no_notices();
  const std::string p = "5511900003701", q = "5511900003702";
  n.say_now(p, "oi"); // Monday 09:00: their windows close Tuesday 09:00
  n.say_now(q, "oi");
  auto ahead = n.book(p, "2030-03-06T10:00:00-03:00"); // Wednesday: 24-hour reminder due Tuesday 10:00
  auto started = n.book(q, "2030-03-05T11:00:00-03:00"); // Tuesday 11:00: due Monday 11:00 and Tuesday 09:00
  REQUIRE(eventually([&] { return n.jobs_of(started).size() == 2 && n.jobs_of(ahead).size() == 2; }));

  services("stop", "pg");
  bool back = false;
  struct restart_pg {
    bool& back;
    ~restart_pg() {
      if (!back)
        services("start", "pg"); // the test failed on the way: the next ones need it
    }
  } restart{back};
  // Tuesday 11:30 on the node's clock: every one of them fell due while PostgreSQL was away.
  REQUIRE(http_post(n.url("/test/clock"), json{{"advance_s", 26 * 3600 + 30 * 60}}.dump()).status == 200);
  n.now += std::chrono::hours(26) + std::chrono::minutes(30);
  std::this_thread::sleep_for(std::chrono::seconds(2)); // the scheduler tries, and fails, meanwhile
  services("start", "pg");
  back = true;

  REQUIRE(eventually([&] { return n.jobs_of(ahead) == std::vector<std::string>{"1440 done sent", "120 pending "}; },
                     60s));
  REQUIRE(n.jobs_settled());
  CHECK(n.jobs_of(started) == std::vector<std::string>{"1440 skipped past", "120 skipped past"});
  REQUIRE(eventually([&] { return sent_to(n.graph, p).size() == 2; }));
  CHECK(sent_to(n.graph, p)[1]["type"] == "template"); // the window closed at 09:00
  CHECK(sent_to(n.graph, q).size() == 1);              // only the answer to "oi"
  CHECK(n.metric("atendeai_proactive_messages_total{kind=\"reminder\",outcome=\"skipped_past\"}") == 2);
}
