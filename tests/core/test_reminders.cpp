// Appointment reminders as decisions (core/reminders): the clinic's settings and their
// validation, what a due reminder becomes (sent, held for quiet hours, skipped and why),
// its text and template in the clinic's voice, and the patient's answers (buttons,
// typed words, opt-out).

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/demo_clinic.hpp"
#include "core/reminders.hpp"
#include "support/dates.hpp"
#include "support/demo_ids.hpp"

using namespace atendeai::core;
using nlohmann::json;

namespace {

using namespace atendeai::test;
using namespace atendeai::test::demo;

/// A reminder 24 h before Wednesday 2030-03-06 10:00 in São Paulo, due now, whose
/// patient wrote an hour ago.
due_reminder due_for_wednesday() {
  due_reminder r;
  r.clinic_id = clinic_id;
  r.job_id = "11111111-1111-1111-1111-111111111111";
  r.appointment_id = "22222222-2222-2222-2222-222222222222";
  r.offset_minutes = 1440;
  r.planned_start = sp(2030, 3, 6, 10);
  r.appointment_status = "scheduled";
  r.starts_at = r.planned_start;
  r.ends_at = sp(2030, 3, 6, 11);
  r.professional_id = ana;
  r.service_id = cardio;
  r.conversation_id = "33333333-3333-3333-3333-333333333333";
  r.patient_name = "Maria da Silva";
  r.account_id = "demo-phone-number-id";
  r.contact = "5511900002001";
  r.window_until = sp(2030, 3, 5, 9) + std::chrono::hours(24);
  return r;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string skip_reason(const due_reminder& r, instant now) {
  auto p = plan_reminder(r, demo_clinic(), now);
  return p.what == reminder_plan::action::skip ? p.reason : "not skipped";
}

} // namespace

TEST_CASE("A due reminder is sent with three buttons and, for outside the window, the clinic's template",
          "[reminders]") {
  auto r = due_for_wednesday();
  auto p = plan_reminder(r, demo_clinic(), sp(2030, 3, 5, 10));
  REQUIRE(p.what == reminder_plan::action::send);
  CHECK(p.interactive.text == "Olá, Maria! Lembrete da sua consulta de Cardiologia com a Dra. Ana Souza quarta 06/03 "
                              "às 10:00, na " + address + ". Você confirma?");
  REQUIRE(p.interactive.style == choice_style::buttons);
  REQUIRE(p.interactive.choices.size() == 3);
  CHECK(p.interactive.choices[0].id == "remind:confirm:" + r.appointment_id);
  CHECK(p.interactive.choices[0].title == "Confirmar");
  CHECK(p.interactive.choices[1].id == "remind:reschedule:" + r.appointment_id);
  CHECK(p.interactive.choices[1].title == "Remarcar");
  CHECK(p.interactive.choices[2].id == "remind:cancel:" + r.appointment_id);
  CHECK(p.interactive.choices[2].title == "Cancelar");
  REQUIRE(p.templated.templ);
  CHECK(p.templated.templ->name == "lembrete_consulta");
  CHECK(p.templated.templ->language == "pt_BR");
  CHECK(p.templated.templ->parameters ==
        std::vector<std::string>{"Maria", "Cardiologia", "a Dra. Ana Souza", "quarta 06/03 às 10:00", address});
  CHECK(p.templated.templ->button_payloads ==
        std::vector<std::string>{"remind:confirm:" + r.appointment_id, "remind:reschedule:" + r.appointment_id,
                                 "remind:cancel:" + r.appointment_id});
  CHECK(p.templated.text == p.interactive.text);
}

TEST_CASE("A reminder names no one when the patient's name is a number, and speaks English for an English clinic",
          "[reminders]") {
  auto r = due_for_wednesday();
  r.patient_name = "+55 11 90000";
  auto clinic = demo_clinic();
  auto pt = plan_reminder(r, clinic, sp(2030, 3, 5, 10));
  CHECK(pt.interactive.text.rfind("Olá! Lembrete", 0) == 0);
  CHECK(pt.templated.templ->parameters[0] == "paciente");
  clinic.language = "en";
  auto en = plan_reminder(r, clinic, sp(2030, 3, 5, 10));
  CHECK(en.interactive.text.rfind("Hello! A reminder of your", 0) == 0);
  CHECK(en.interactive.choices[0].title == "Confirm");
  CHECK(en.interactive.choices[1].title == "Reschedule");
  CHECK(en.interactive.choices[2].title == "Cancel");
}

TEST_CASE("A due reminder is skipped, with why, when it no longer applies", "[reminders]") {
  auto now = sp(2030, 3, 5, 10);
  auto r = due_for_wednesday();
  r.appointment_status = "cancelled";
  CHECK(skip_reason(r, now) == "cancelled");
  r = due_for_wednesday();
  r.appointment_status = "";
  CHECK(skip_reason(r, now) == "cancelled"); // gone
  r = due_for_wednesday();
  r.appointment_status = "attended";
  CHECK(skip_reason(r, now) == "cancelled");
  r = due_for_wednesday();
  r.starts_at = sp(2030, 3, 6, 15); // moved: its new time has reminders of its own
  CHECK(skip_reason(r, now) == "moved");
  r = due_for_wednesday();
  CHECK(skip_reason(r, sp(2030, 3, 6, 10)) == "past");
  r = due_for_wednesday();
  r.settings.enabled = false;
  CHECK(skip_reason(r, now) == "disabled");
  r = due_for_wednesday();
  r.settings.offsets_minutes = {120}; // the 24-hour offset was removed meanwhile
  CHECK(skip_reason(r, now) == "disabled");
  r = due_for_wednesday();
  r.opted_out = true;
  CHECK(skip_reason(r, now) == "opted_out");
  r = due_for_wednesday();
  r.conversation_id.clear();
  CHECK(skip_reason(r, now) == "no_conversation");
  r = due_for_wednesday();
  r.appointment_status = "confirmed"; // a confirmed appointment is still reminded
  CHECK(skip_reason(r, now) == "not skipped");
}

TEST_CASE("A clinic that requires the opt-in sends no template to a patient without one", "[reminders]") {
  auto now = sp(2030, 3, 5, 10);
  auto r = due_for_wednesday();
  r.settings.require_opt_in = true;
  auto p = plan_reminder(r, demo_clinic(), now);
  REQUIRE(p.what == reminder_plan::action::send);
  CHECK_FALSE(p.templated.templ.has_value()); // outside the window: nothing to send
  CHECK(p.no_template == "no_opt_in");
  CHECK(p.interactive.choices.size() == 3); // inside it: the buttons as usual
  r.opt_in = true;
  p = plan_reminder(r, demo_clinic(), now);
  REQUIRE(p.templated.templ.has_value());
  CHECK(p.templated.templ->name == "lembrete_consulta");
  CHECK(p.no_template.empty());
}

TEST_CASE("Quiet hours hold a reminder until they end, unless that is too late for it", "[reminders]") {
  auto r = due_for_wednesday();
  // Due at 22:30 on Tuesday (quiet from 21:00 to 08:00): held until Wednesday 08:00.
  auto held = plan_reminder(r, demo_clinic(), sp(2030, 3, 5, 22, 30));
  REQUIRE(held.what == reminder_plan::action::hold);
  CHECK(held.hold_until == sp(2030, 3, 6, 8));
  // Due at 06:30 on Wednesday: held until 08:00, still before the 10:00 appointment.
  auto early = plan_reminder(r, demo_clinic(), sp(2030, 3, 6, 6, 30));
  REQUIRE(early.what == reminder_plan::action::hold);
  CHECK(early.hold_until == sp(2030, 3, 6, 8));
  // An appointment at 07:30 whose 2-hour reminder is due at 05:30: holding it past the
  // start would make it useless, so it goes (the clinic's own offset put it there).
  r.planned_start = r.starts_at = sp(2030, 3, 6, 7, 30);
  r.offset_minutes = 120;
  r.settings.offsets_minutes = {1440, 120};
  CHECK(plan_reminder(r, demo_clinic(), sp(2030, 3, 6, 5, 30)).what == reminder_plan::action::send);
  // Quiet hours within one day (13:00–14:00) and none at all (equal bounds).
  r = due_for_wednesday();
  r.settings.quiet_start = 13 * 60;
  r.settings.quiet_end = 14 * 60;
  CHECK(plan_reminder(r, demo_clinic(), sp(2030, 3, 5, 13, 15)).hold_until == sp(2030, 3, 5, 14));
  CHECK(plan_reminder(r, demo_clinic(), sp(2030, 3, 5, 22)).what == reminder_plan::action::send);
  r.settings.quiet_start = r.settings.quiet_end = 0;
  CHECK(plan_reminder(r, demo_clinic(), sp(2030, 3, 5, 3)).what == reminder_plan::action::send);
}

TEST_CASE("The 24-hour window", "[reminders]") {
  auto wrote = sp(2030, 3, 4, 9);
  CHECK(window_open(wrote + service_window, wrote + std::chrono::hours(23)));
  CHECK_FALSE(window_open(wrote + service_window, wrote + std::chrono::hours(24)));
  CHECK_FALSE(window_open(std::nullopt, wrote));
}

TEST_CASE("Reminder payloads name an answer and an appointment", "[reminders]") {
  CHECK(reminder_choice_id(reminder_answer::cancel, "abc") == "remind:cancel:abc");
  auto r = parse_reminder_choice("remind:reschedule:22222222-2222-2222-2222-222222222222");
  REQUIRE(r);
  CHECK(r->first == reminder_answer::reschedule);
  CHECK(r->second == "22222222-2222-2222-2222-222222222222");
  CHECK_FALSE(parse_reminder_choice("remind:delete:abc"));
  CHECK_FALSE(parse_reminder_choice("remind:confirm:"));
  CHECK_FALSE(parse_reminder_choice("appointment:abc"));
  CHECK_FALSE(parse_reminder_choice(""));
}

TEST_CASE("Typed answers to a reminder", "[reminders]") {
  using a = reminder_answer;
  for (auto text : {"confirmo", "Confirmado!", "sim", "vou sim", "estarei lá", "ok, tudo certo", "yes",
                    "I'll be there", "confirmed"}) {
    INFO(text);
    CHECK(read_reminder_answer(text) == a::confirm);
  }
  for (auto text : {"não vou poder ir", "Nao vou conseguir", "cancela", "quero cancelar", "can't make it",
                    "I won't be able to come"}) {
    INFO(text);
    CHECK(read_reminder_answer(text) == a::cancel);
  }
  for (auto text : {"pode remarcar?", "não vou poder ir, pode remarcar?", "preciso reagendar", "outro dia",
                    "can I reschedule?"}) {
    INFO(text);
    CHECK(read_reminder_answer(text) == a::reschedule);
  }
  for (auto text : {"qual o endereço?", "não", "oi", "quanto custa?"}) {
    INFO(text);
    CHECK_FALSE(read_reminder_answer(text));
  }
}

TEST_CASE("Opting out of proactive messages", "[reminders]") {
  for (auto text : {"PARAR", "sair", "Stop", "não quero mais receber mensagens", "parar lembretes", "STOP reminders"})
    CHECK(reads_opt_out(text));
  for (auto text : {"quero parar de fumar, tem clínico?", "que horas vocês saem?", "bus stop", "oi"})
    CHECK_FALSE(reads_opt_out(text));
}

TEST_CASE("Reminder settings: defaults, a change, and refusals that name the member", "[reminders]") {
  reminder_settings d;
  CHECK(to_json(d) == json::parse(R"({"enabled":true,"offsets_minutes":[1440,120],
    "template":{"name":"lembrete_consulta","language":"pt_BR"},"quiet_hours":{"start":"21:00","end":"08:00"},
    "notify_staff_changes":{"created":true,"moved":true,"cancelled":true,
                            "template":{"name":"aviso_consulta","language":"pt_BR"}},
    "no_show_after_minutes":null,"require_opt_in":false})"));
  auto s = reminder_settings_from_json(
    json::parse(R"({"offsets_minutes":[60,2880],"quiet_hours":{"start":"22:00","end":"07:30"}})"), d);
  CHECK(s.offsets_minutes == std::vector<int>{2880, 60});
  CHECK(s.quiet_start == 22 * 60);
  CHECK(s.quiet_end == 7 * 60 + 30);
  CHECK(s.enabled);
  CHECK(s.template_name == "lembrete_consulta");
  auto refused = [&](const char* body) -> std::string {
    try {
      reminder_settings_from_json(json::parse(body), d);
    } catch (const std::invalid_argument& e) {
      std::string what = e.what();
      return what.substr(0, what.find(':'));
    }
    return "accepted";
  };
  CHECK(refused(R"({"offsets_minutes":[60,4]})") == "offsets_minutes[1]");
  CHECK(refused(R"({"offsets_minutes":[60,20161]})") == "offsets_minutes[1]");
  CHECK(refused(R"({"offsets_minutes":[60,60]})") == "offsets_minutes[1]");
  CHECK(refused(R"({"offsets_minutes":[]})") == "offsets_minutes");
  CHECK(refused(R"({"offsets_minutes":[1,2,3,4,5,6]})") == "offsets_minutes");
  CHECK(refused(R"({"offsets_minutes":["60"]})") == "offsets_minutes[0]");
  CHECK(refused(R"({"enabled":"yes"})") == "enabled");
  CHECK(refused(R"({"template":{"name":""}})") == "template.name");
  CHECK(refused(R"({"template":{"lang":"pt_BR"}})") == "template.lang");
  CHECK(refused(R"({"quiet_hours":{"start":"25:00","end":"08:00"}})") == "quiet_hours.start");
  CHECK(refused(R"({"quiet_hours":{"start":"21:00"}})") == "quiet_hours");
  CHECK(refused(R"({"remind":true})") == "remind");
  CHECK(refused(R"({"notify_staff_changes":{"created":"no"}})") == "notify_staff_changes.created");
  CHECK(refused(R"({"notify_staff_changes":{"deleted":true}})") == "notify_staff_changes.deleted");
  CHECK(refused(R"({"notify_staff_changes":{"template":{"name":1}}})") == "notify_staff_changes.template.name");
  CHECK(refused(R"({"no_show_after_minutes":4})") == "no_show_after_minutes");
  CHECK(refused(R"({"no_show_after_minutes":10081})") == "no_show_after_minutes");
  CHECK(refused(R"({"no_show_after_minutes":"30"})") == "no_show_after_minutes");
  CHECK(refused(R"({"require_opt_in":1})") == "require_opt_in");
  CHECK(refused(R"({"enabled":false})") == "accepted");
  auto grace = reminder_settings_from_json(json::parse(R"({"no_show_after_minutes":30})"), d);
  CHECK(grace.no_show_after_minutes == 30);
  CHECK(to_json(grace)["no_show_after_minutes"] == 30);
  CHECK_FALSE(reminder_settings_from_json(json::parse(R"({"no_show_after_minutes":null})"), grace)
                .no_show_after_minutes.has_value());
  auto off = reminder_settings_from_json(json::parse(R"({"notify_staff_changes":{"moved":false}})"), d);
  CHECK(off.notify_created);
  CHECK_FALSE(off.notify_moved);
}

TEST_CASE("Notices of staff changes: what they say, and when they are skipped", "[reminders][notices]") {
  auto now = sp(2030, 3, 5, 10);
  auto notice = [](const char* change) {
    auto r = due_for_wednesday();
    r.kind = "notify";
    r.change = change;
    r.offset_minutes = 0;
    return r;
  };
  auto created = plan_reminder(notice("created"), demo_clinic(), now);
  REQUIRE(created.what == reminder_plan::action::send);
  CHECK(created.interactive.text == "Olá, Maria! Sua consulta de Cardiologia com a Dra. Ana Souza foi marcada para "
                                    "quarta 06/03 às 10:00, na " + address + ". Você confirma?");
  CHECK(created.interactive.choices.size() == 3);
  CHECK(created.answerable);
  REQUIRE(created.templated.templ);
  CHECK(created.templated.templ->name == "aviso_consulta");
  CHECK(created.templated.templ->parameters ==
        std::vector<std::string>{"Maria", "Sua consulta de Cardiologia com a Dra. Ana Souza foi marcada para quarta "
                                          "06/03 às 10:00, na " + address + ". Você confirma?"});
  CHECK(created.templated.templ->button_payloads.empty());
  CHECK(contains(plan_reminder(notice("moved"), demo_clinic(), now).interactive.text, "foi remarcada para quarta 06/03"));
  // A cancellation is told whatever the status now (it is cancelled), with nothing to answer.
  auto gone = notice("cancelled");
  gone.appointment_status = "cancelled";
  auto cancelled = plan_reminder(gone, demo_clinic(), now);
  REQUIRE(cancelled.what == reminder_plan::action::send);
  CHECK(cancelled.interactive.text ==
        "Olá, Maria! Sua consulta de Cardiologia com a Dra. Ana Souza quarta 06/03 às 10:00 foi cancelada pela "
        "clínica. Se quiser marcar outro horário, é só responder esta mensagem.");
  CHECK(cancelled.interactive.choices.empty());
  CHECK_FALSE(cancelled.answerable);
  // A booking notice for an appointment cancelled or moved since: that change has its own.
  auto stale = notice("created");
  stale.appointment_status = "cancelled";
  CHECK(skip_reason(stale, now) == "superseded");
  stale = notice("moved");
  stale.starts_at = sp(2030, 3, 6, 15);
  CHECK(skip_reason(stale, now) == "superseded");
  auto off = notice("cancelled");
  off.settings.notify_cancelled = false;
  CHECK(skip_reason(off, now) == "disabled");
  // Reminders turned off do not silence notices.
  auto on = notice("created");
  on.settings.enabled = false;
  CHECK(skip_reason(on, now) == "not skipped");
  CHECK(skip_reason(notice("created"), sp(2030, 3, 6, 10)) == "past");
}

TEST_CASE("An automatic no-show: marked after the grace, else skipped with why", "[reminders][no_show]") {
  // Wednesday 2030-03-06 10:00-11:00 in São Paulo, a 30-minute grace: due at 11:30.
  auto r = due_for_wednesday();
  r.kind = "no_show";
  r.planned_end = r.ends_at;
  r.after_minutes = 30;
  r.settings.no_show_after_minutes = 30;
  auto due = sp(2030, 3, 6, 11) + std::chrono::minutes(30);
  CHECK_FALSE(no_show_skip(r, due).has_value());
  CHECK_FALSE(no_show_skip(r, due + std::chrono::hours(5)).has_value());
  CHECK(no_show_skip(r, due - std::chrono::minutes(1)) == "early");
  r.appointment_status = "confirmed"; // confirmed and still not there: a no-show too
  CHECK_FALSE(no_show_skip(r, due).has_value());
  for (const char* settled : {"attended", "cancelled", "no_show"}) {
    auto s = r;
    s.appointment_status = settled;
    CHECK(no_show_skip(s, due) == settled);
  }
  auto gone = r;
  gone.appointment_status = "";
  CHECK(no_show_skip(gone, due) == "gone");
  auto moved = r;
  moved.ends_at = moved.planned_end + std::chrono::hours(24);
  CHECK(no_show_skip(moved, due) == "moved");
  auto off = r;
  off.settings.no_show_after_minutes.reset();
  CHECK(no_show_skip(off, due) == "disabled");
  auto changed = r;
  changed.settings.no_show_after_minutes = 60; // its own job is planned for 12:00
  CHECK(no_show_skip(changed, due) == "disabled");
}
