// The waitlist's decisions (core/waitlist): which freed time fits a waiting patient, the
// offer's buttons and its template, the payloads and typed answers, and the hold the
// agenda keeps for an offer until its own end.

#include <catch2/catch.hpp>

#include "core/clinic_agenda.hpp"
#include "core/demo_clinic.hpp"
#include "core/waitlist.hpp"
#include "support/dates.hpp"
#include "support/demo_ids.hpp"

using namespace atendeai::core;
using namespace atendeai::test;
using namespace atendeai::test::demo;
using std::chrono::minutes;

namespace {

/// Dra. Ana's hour on Wednesday 25/11/2026 at 10:00 (São Paulo), freed by a cancellation.
slot freed_hour(int len = 60) {
  return slot{ana, cardio, sp(2026, 11, 25, 10), sp(2026, 11, 25, 10) + minutes(len)};
}

waitlist_candidate waiting_for(const std::string& service) {
  waitlist_candidate c;
  c.entry_id = "entry-1";
  c.conversation_id = "conv-1";
  c.patient_name = "Maria Souza";
  c.wish.service_id = service;
  return c;
}

} // namespace

TEST_CASE("waitlist: a freed time fits a waiting patient's wish, or not", "[waitlist]") {
  const auto clinic = demo_clinic();
  auto c = waiting_for(cardio);
  auto s = waitlist_slot_for(c, freed_hour(), clinic);
  REQUIRE(s);
  CHECK(*s == freed_hour());

  SECTION("another professional named") {
    c.wish.professional_id = carlos;
    CHECK_FALSE(waitlist_slot_for(c, freed_hour(), clinic));
  }
  SECTION("a service the freed professional does not do") {
    c.wish.service_id = dermato; // Dr. Carlos only
    CHECK_FALSE(waitlist_slot_for(c, freed_hour(), clinic));
  }
  SECTION("another service of the same professional takes its own length from the freed start") {
    c.wish.service_id = clinico; // Ana does it too
    auto other = waitlist_slot_for(c, freed_hour(), clinic);
    REQUIRE(other);
    CHECK(other->service_id == clinico);
    CHECK(other->start == freed_hour().start);
  }
  SECTION("a freed time too short for the service") {
    CHECK_FALSE(waitlist_slot_for(c, freed_hour(30), clinic));
  }
  SECTION("the part of the day") {
    c.wish.period = day_period::afternoon;
    CHECK_FALSE(waitlist_slot_for(c, freed_hour(), clinic));
    c.wish.period = day_period::morning;
    CHECK(waitlist_slot_for(c, freed_hour(), clinic));
  }
  SECTION("the days") {
    c.wish.date_from = ymd(2026, 11, 26);
    CHECK_FALSE(waitlist_slot_for(c, freed_hour(), clinic));
    c.wish.date_from = ymd(2026, 11, 24);
    c.wish.date_to = ymd(2026, 11, 24);
    CHECK_FALSE(waitlist_slot_for(c, freed_hour(), clinic));
    c.wish.date_to = ymd(2026, 11, 25);
    CHECK(waitlist_slot_for(c, freed_hour(), clinic));
  }
}

TEST_CASE("waitlist: payloads and typed answers", "[waitlist]") {
  CHECK(waitlist_choice_id(waitlist_answer::accept, "o-1") == "waitlist:accept:o-1");
  CHECK(parse_waitlist_choice("waitlist:decline:o-2") == std::make_pair(waitlist_answer::decline, std::string("o-2")));
  for (auto forged : {"waitlist:accept:", "waitlist:maybe:o-1", "remind:confirm:o-1", "waitlist", ""})
    CHECK_FALSE(parse_waitlist_choice(forged));
  for (auto yes : {"quero", "Quero sim!", "pode ser", "sim", "aceito", "I'll take it", "yes"})
    CHECK(read_waitlist_answer(yes) == waitlist_answer::accept);
  for (auto no : {"não posso", "nao da", "não, obrigado", "não", "no thanks", "I can't"})
    CHECK(read_waitlist_answer(no) == waitlist_answer::decline);
  for (auto other : {"qual o endereço?", "oi", "que horas abre", "quero falar com a recepção"})
    CHECK_FALSE(read_waitlist_answer(other));
  for (auto leave : {"quero sair da lista de espera", "pode me tirar da lista de espera?", "please remove me from the waitlist"})
    CHECK(reads_waitlist_leave(leave));
  for (auto stay : {"estou na lista de espera?", "sair", "quero entrar na lista de espera"})
    CHECK_FALSE(reads_waitlist_leave(stay));
}

TEST_CASE("waitlist: the offer with its hold, as buttons and as the notice template", "[waitlist]") {
  const auto clinic = demo_clinic();
  auto c = waiting_for(cardio);
  auto until = sp(2026, 11, 23, 9, 15);
  auto m = offer_message(clinic, c, freed_hour(), until, "o-7", "aviso_consulta", "pt_BR");
  CHECK(m.interactive.style == choice_style::buttons);
  REQUIRE(m.interactive.choices.size() == 2);
  CHECK(m.interactive.choices[0].id == "waitlist:accept:o-7");
  CHECK(m.interactive.choices[1].id == "waitlist:decline:o-7");
  CHECK(m.interactive.choices[0].title == "Quero este horário");
  CHECK(m.interactive.text ==
        "Olá, Maria! Abriu um horário na lista de espera em que você está: Cardiologia com a Dra. Ana Souza, quarta "
        "25/11 às 10:00. Estou segurando para você até as 09:15. Quer ficar com ele?");
  REQUIRE(m.templated.templ);
  CHECK(m.templated.templ->name == "aviso_consulta");
  REQUIRE(m.templated.templ->parameters.size() == 2);
  CHECK(m.templated.templ->parameters[0] == "Maria");
  CHECK(m.templated.templ->parameters[1].find("Responda SIM para ficar com ele ou NÃO para liberar.") !=
        std::string::npos);
  c.lang = "en";
  auto en = offer_message(clinic, c, freed_hour(), until, "o-7", "aviso_consulta", "pt_BR");
  CHECK(en.interactive.choices[0].title == "I want it");
  CHECK(en.interactive.text.find("I'm holding it for you until 09:15") != std::string::npos);
}

TEST_CASE("waitlist: the agenda holds an offered time until the offer's own end", "[waitlist][agenda]") {
  auto clinic = std::make_shared<const clinic_profile>(demo_clinic());
  clinic_agenda agenda(clinic, minutes(10));
  auto now = sp(2026, 11, 23, 9);
  auto until = now + minutes(15);
  REQUIRE(agenda.hold("waitlist:entry-1", freed_hour(), now, until).verdict == agenda_verdict::granted);
  // Past the usual 10 minutes it still keeps the time from everyone else...
  CHECK(agenda.hold("conv-2", freed_hour(), now + minutes(12)).verdict == agenda_verdict::refused);
  // ...and frees it at its own end.
  CHECK(agenda.hold("conv-2", freed_hour(), until).verdict == agenda_verdict::granted);
}
