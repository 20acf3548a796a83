// The appointment flow (core/flow): every transition, the shortcuts, change of mind,
// giving up, slots taken meanwhile, expiry, reschedule, cancel, "minhas consultas",
// English, and the persisted state.

#include <catch2/catch.hpp>

#include <set>

#include <nlohmann/json.hpp>

#include "core/demo_clinic.hpp"
#include "core/flow.hpp"
#include "core/slots.hpp"
#include "core/waitlist.hpp"
#include "support/dates.hpp"
#include "support/demo_ids.hpp"

using namespace atendeai::core;
using date::year_month_day;
using std::chrono::minutes;

namespace {

using namespace atendeai::test;
using namespace atendeai::test::demo;

slot slot_at(const std::string& prof, const std::string& service, instant start, int len = 60) {
  return slot{prof, service, start, start + minutes{len}};
}

std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80)
      ++n;
  return n;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// Builds a patient message as the understanding would have produced it.
struct msg {
  patient_message m;
  explicit msg(std::string text, intent i = intent::unknown, std::string lang = "pt-BR") {
    m.text = std::move(text);
    m.u.intent = i;
    m.u.lang = std::move(lang);
    m.u.confidence = i == intent::unknown ? 0.0 : 0.9;
  }
  msg& service(const std::string& id) { m.u.entities.service = id; return *this; }
  msg& professional(const std::string& id) { m.u.entities.professional = id; return *this; }
  msg& on(year_month_day d) { m.u.entities.date = d; return *this; }
  msg& range(year_month_day a, year_month_day b) { m.u.entities.date_from = a; m.u.entities.date_to = b; return *this; }
  msg& at(int h, int mi = 0) { m.u.entities.time = h * 60 + mi; return *this; }
  msg& period(day_period p) { m.u.entities.period = p; return *this; }
  msg& yes(bool v) { m.u.entities.yes_no = v; return *this; }
  operator patient_message() const { return m; }
};

/// A tap on a button or list row.
patient_message tap(const std::string& id, const std::string& title = "") {
  patient_message m;
  m.text = title;
  m.reply_id = id;
  return m;
}

/// Checks WhatsApp's limits on every message a transition produces.
void check_limits(const flow_transition& t) {
  CHECK(t.messages.size() <= 1);
  for (const auto& m : t.messages) {
    CHECK(!m.text.empty());
    if (m.style == choice_style::buttons) {
      CHECK(m.choices.size() >= 1);
      CHECK(m.choices.size() <= 3);
      for (const auto& c : m.choices) {
        CHECK(code_points(c.title) <= 20);
        CHECK(!c.id.empty());
      }
    } else if (m.style == choice_style::list) {
      CHECK(m.choices.size() >= 1);
      CHECK(m.choices.size() <= 10);
      CHECK(code_points(m.text) <= 1024);
      CHECK(code_points(m.list_button) <= 20);
      for (const auto& c : m.choices) {
        CHECK(code_points(c.title) <= 24);
        CHECK(code_points(c.description) <= 72);
        CHECK(!c.id.empty());
      }
    } else {
      CHECK(m.choices.empty());
    }
  }
}

/// One patient's flow against the demo clinic's agenda at a settable "now".
struct harness {
  clinic_profile clinic = demo_clinic();
  instant now = sp(2026, 11, 23, 8); // Monday 23/11/2026 08:00
  agenda_view busy;
  std::vector<appointment> mine;
  minutes expiry{30};
  flow_state state = new_flow("conv-1", sp(2026, 11, 23, 8));
  flow_transition last{};

  flow_transition feed(const flow_event& e) {
    flow_context ctx{clinic, now,
                     [this](const slot_query& q) { return free_slots(clinic, q, busy, now); },
                     mine, expiry};
    last = next_flow_state(state, e, ctx);
    check_limits(last);
    state = last.state;
    return last;
  }
  flow_transition send(const patient_message& m) { return feed(flow_event{m}); }
  flow_transition result(clinic_result r) { return feed(flow_event{std::move(r)}); }
  flow_transition tick() { return feed(flow_event{expiry_tick{}}); }

  const outbound_message& reply() const {
    REQUIRE(last.messages.size() == 1);
    return last.messages.front();
  }
  std::string text() const { return reply().text; }
  std::vector<std::string> titles() const {
    std::vector<std::string> out;
    for (const auto& c : reply().choices)
      out.push_back(c.title);
    return out;
  }
  std::vector<std::string> ids() const {
    std::vector<std::string> out;
    for (const auto& c : reply().choices)
      out.push_back(c.id);
    return out;
  }
  /// The appointment the clinic would store for the chosen slot.
  appointment booked_from_chosen(const std::string& id = "appt-1") const {
    REQUIRE(state.chosen);
    return appointment{id, state.chosen->professional_id, state.chosen->service_id, state.chosen->start,
                       state.chosen->end, appointment_status::scheduled, "contact-1"};
  }
};

appointment appt(const std::string& id, const std::string& prof, const std::string& service, instant start,
                 appointment_status st = appointment_status::scheduled) {
  return appointment{id, prof, service, start, start + minutes{60}, st, "contact-1"};
}

flow_action hold_of(const slot& s) { return {flow_action_kind::hold_slot, s, {}}; }
flow_action release_of(const slot& s) { return {flow_action_kind::release_hold, s, {}}; }

} // namespace

TEST_CASE("flow: booking step by step (CONVERSATIONS 1)", "[flow]") {
  harness h;
  // "oi" is not for the flow.
  auto t = h.send(msg("oi", intent::greeting));
  CHECK_FALSE(t.consumed);
  CHECK(t.messages.empty());
  CHECK(h.state.step == flow_step::start);

  // INÍCIO → SELEÇÃO DE SERVIÇO
  h.send(msg("quero marcar uma consulta", intent::book));
  CHECK(h.state.step == flow_step::service_selection);
  CHECK(h.state.kind == flow_kind::book);
  CHECK(h.reply().style == choice_style::list);
  CHECK(h.text() == "Claro! Qual serviço você procura?");
  CHECK(h.titles() == std::vector<std::string>{"Clínico geral", "Cardiologia", "Dermatologia"});
  CHECK(h.reply().choices[1].description == "R$ 350");
  CHECK(h.ids()[1] == "service:" + cardio);
  CHECK(h.last.actions.empty());

  // SELEÇÃO DE SERVIÇO → DATA E HORÁRIO
  h.send(tap("service:" + cardio, "Cardiologia"));
  CHECK(h.state.step == flow_step::date_time);
  CHECK(h.state.service_id == cardio);
  CHECK(h.reply().style == choice_style::list);
  CHECK(h.text() == "Estes são os próximos horários de Cardiologia com a Dra. Ana Souza:");
  REQUIRE(h.reply().choices.size() == 10);
  // Now is Monday 08:00 and 2 h in advance are needed: the first is Monday 10:00.
  CHECK(h.titles().front() == "seg 23/11 · 10:00");
  CHECK(h.reply().choices.front().description == "Dra. Ana Souza");
  CHECK(h.titles()[5] == "ter 24/11 · 08:00"); // spread over two days
  CHECK(h.state.offered_slots.size() == 10);

  // DATA E HORÁRIO → CONFIRMAÇÃO (a tap; the row ids come back)
  auto wed14 = slot_at(ana, cardio, sp(2026, 11, 25, 14));
  h.send(tap(slot_choice_id(wed14), "qua 25/11 · 14:00"));
  CHECK(h.state.step == flow_step::confirmation);
  CHECK(h.state.chosen == wed14);
  CHECK(h.last.actions == std::vector<flow_action>{hold_of(wed14)});
  CHECK(h.reply().style == choice_style::buttons);
  CHECK(h.text() == "Posso confirmar Cardiologia com a Dra. Ana Souza na quarta, 25/11, às 14:00?");
  CHECK(h.titles() == std::vector<std::string>{"Confirmar", "Outro horário", "Cancelar"});
  CHECK(h.ids() == std::vector<std::string>{"confirm", "other_time", "cancel"});

  // CONFIRMAÇÃO → book action, then the clinic's answer → FINALIZAÇÃO
  h.send(tap("confirm", "Confirmar"));
  CHECK(h.last.messages.empty());
  CHECK(h.last.actions == std::vector<flow_action>{{flow_action_kind::book, wed14, {}}});
  CHECK(h.state.awaiting_clinic);
  CHECK(h.state.step == flow_step::confirmation);
  CHECK(pending_action(h.state) == flow_action{flow_action_kind::book, wed14, {}});

  h.result({clinic_result::outcome::booked, h.booked_from_chosen(), {}});
  CHECK(h.state.step == flow_step::done);
  CHECK_FALSE(h.state.awaiting_clinic);
  CHECK(h.last.actions.empty());
  CHECK(h.text() == "Pronto! Consulta confirmada: Cardiologia com a Dra. Ana Souza, quarta 25/11 às 14:00, na " +
                        address + ". Chegue 10 minutos antes. Até lá! 💙");
  REQUIRE(h.state.result);
  CHECK(h.state.result->id == "appt-1");
  CHECK_FALSE(pending_action(h.state));
  // A repeated answer says nothing more.
  h.result({clinic_result::outcome::booked, h.state.result, {}});
  CHECK(h.last.messages.empty());
}

TEST_CASE("flow: typed answers instead of taps", "[flow]") {
  harness h;
  h.send(msg("quero marcar uma consulta", intent::book));
  SECTION("the service by its name and by position") {
    h.send(msg("cardiologia"));
    CHECK(h.state.service_id == cardio);
    CHECK(h.state.step == flow_step::date_time);
  }
  SECTION("the second option") {
    h.send(msg("a segunda opção"));
    CHECK(h.state.service_id == cardio);
  }
  SECTION("a number") {
    h.send(msg("3"));
    CHECK(h.state.service_id == dermato);
  }
  SECTION("something unknown asks again") {
    h.send(msg("pediatria"));
    CHECK(h.state.step == flow_step::service_selection);
    CHECK(h.text() == "Não encontrei esse serviço 😅 Qual serviço você procura?");
    CHECK(h.reply().choices.size() == 3);
  }
  SECTION("slots: an ordinal, a time, a day and time, the last one") {
    h.send(msg("cardiologia").service(cardio));
    REQUIRE(h.state.offered_slots.size() == 10);
    auto offered = h.state.offered_slots;
    SECTION("a segunda opção") {
      h.send(msg("a segunda opção"));
      CHECK(h.state.chosen == offered[1]);
      CHECK(h.text() == "Posso confirmar Cardiologia com a Dra. Ana Souza na segunda, 23/11, às 11:00?");
    }
    SECTION("a última") {
      h.send(msg("a última"));
      CHECK(h.state.chosen == offered.back());
    }
    SECTION("\"ter 24/11 09:00\"") {
      h.send(msg("ter 24/11 09:00").on(ymd(2026, 11, 24)).at(9));
      CHECK(h.state.chosen == slot_at(ana, cardio, sp(2026, 11, 24, 9)));
    }
    SECTION("\"11h\" matches the offered 11:00") {
      h.send(msg("11h").at(11));
      CHECK(h.state.chosen == slot_at(ana, cardio, sp(2026, 11, 23, 11)));
    }
    SECTION("a day and time not in the list but free") {
      h.send(msg("qua 25/11 14:00").on(ymd(2026, 11, 25)).at(14));
      CHECK(h.state.step == flow_step::confirmation);
      CHECK(h.state.chosen == slot_at(ana, cardio, sp(2026, 11, 25, 14)));
      CHECK(has(h.text(), "na quarta, 25/11, às 14:00"));
    }
    SECTION("nonsense shows the same choices again") {
      h.send(msg("hmmm"));
      CHECK(h.state.step == flow_step::date_time);
      CHECK(has(h.text(), "Desculpe, não entendi"));
      CHECK(h.state.offered_slots == offered);
      CHECK(h.reply().choices.size() == 10);
    }
  }
}

TEST_CASE("flow: everything said at once goes straight to confirmation", "[flow][shortcut]") {
  harness h;
  // "quero uma consulta de cardiologia sexta às 14h"
  auto fri = ymd(2026, 11, 27);
  h.send(msg("quero uma consulta de cardiologia sexta às 14h", intent::book).service(cardio).on(fri).at(14));
  auto fri14 = slot_at(ana, cardio, sp(2026, 11, 27, 14));
  CHECK(h.state.step == flow_step::confirmation);
  CHECK(h.state.chosen == fri14);
  CHECK(h.last.actions == std::vector<flow_action>{hold_of(fri14)});
  CHECK(h.text() == "Posso confirmar Cardiologia com a Dra. Ana Souza na sexta, 27/11, às 14:00?");
  h.send(msg("sim").yes(true));
  CHECK(h.last.actions == std::vector<flow_action>{{flow_action_kind::book, fri14, {}}});
  h.result({clinic_result::outcome::booked, h.booked_from_chosen(), {}});
  CHECK(h.text() == "Pronto! Consulta confirmada: Cardiologia com a Dra. Ana Souza, sexta 27/11 às 14:00, na " +
                        address + ". Chegue 10 minutos antes. Até lá! 💙");
}

TEST_CASE("flow: everything at once, but that time is not free", "[flow][shortcut]") {
  harness h;
  h.busy.appointments = {appt("x", ana, cardio, sp(2026, 11, 27, 14))};
  h.send(msg("quero uma consulta de cardiologia sexta às 14h", intent::book)
             .service(cardio)
             .on(ymd(2026, 11, 27))
             .at(14));
  CHECK(h.state.step == flow_step::date_time);
  CHECK_FALSE(h.state.chosen);
  CHECK(h.last.actions.empty());
  CHECK(h.text() == "Não tenho horário livre na sexta 27/11 às 14:00 😕 Os mais próximos são:");
  CHECK(h.reply().style == choice_style::buttons);
  CHECK(h.titles() == std::vector<std::string>{"12:00", "13:00", "15:00"});
  // "15h" picks the offered one.
  h.send(msg("15h").at(15));
  CHECK(h.state.chosen == slot_at(ana, cardio, sp(2026, 11, 27, 15)));
}

TEST_CASE("flow: service, day and period at once (CONVERSATIONS 2)", "[flow][shortcut]") {
  harness h;
  h.busy.appointments = {appt("x", carlos, dermato, sp(2026, 11, 24, 10))};
  h.send(msg("qro uma consulta de dermato amanha de manha", intent::book)
             .service(dermato)
             .on(ymd(2026, 11, 24))
             .period(day_period::morning));
  CHECK(h.state.step == flow_step::date_time);
  CHECK(h.reply().style == choice_style::buttons);
  CHECK(h.text() == "Amanhã (ter 24/11) de manhã tenho com o Dr. Carlos Lima:");
  CHECK(h.titles() == std::vector<std::string>{"08:00", "09:00", "11:00"});
  h.send(msg("9h").at(9));
  CHECK(h.state.step == flow_step::confirmation);
  CHECK(h.text() == "Posso confirmar Dermatologia com o Dr. Carlos Lima na terça, 24/11, às 09:00?");
  CHECK(h.titles() == std::vector<std::string>{"Confirmar", "Outro horário", "Cancelar"});
}

TEST_CASE("flow: other shortcuts", "[flow][shortcut]") {
  harness h;
  SECTION("a professional with two services asks which one, among theirs") {
    h.send(msg("quero marcar com o Dr. Carlos", intent::book).professional(carlos));
    CHECK(h.state.step == flow_step::service_selection);
    CHECK(h.titles() == std::vector<std::string>{"Clínico geral", "Dermatologia"});
    h.send(tap("service:" + clinico));
    CHECK(h.text() == "Estes são os próximos horários de Clínico geral com o Dr. Carlos Lima:");
    for (const auto& s : h.state.offered_slots)
      CHECK(s.professional_id == carlos);
  }
  SECTION("a service two professionals perform lists both") {
    h.send(msg("consulta de clínico geral", intent::book).service(clinico));
    CHECK(h.text() == "Estes são os próximos horários de Clínico geral:");
    CHECK(h.reply().style == choice_style::list);
    std::set<std::string> names;
    for (const auto& c : h.reply().choices)
      names.insert(c.description);
    CHECK(names == std::set<std::string>{"Dra. Ana Souza", "Dr. Carlos Lima"});
  }
  SECTION("only a period") {
    h.send(msg("cardiologia à tarde", intent::book).service(cardio).period(day_period::afternoon));
    CHECK(h.text() == "Estes são os próximos horários de Cardiologia com a Dra. Ana Souza à tarde:");
    for (const auto& s : h.state.offered_slots)
      CHECK(local_minute(clinic_zone(h.clinic), s.start) >= 12 * 60);
  }
  SECTION("a range (next week)") {
    h.send(msg("cardiologia semana que vem", intent::book).service(cardio).range(ymd(2026, 11, 30), ymd(2026, 12, 6)));
    CHECK(h.text() == "Estes são os próximos horários de Cardiologia com a Dra. Ana Souza entre 30/11 e 06/12:");
    for (const auto& s : h.state.offered_slots)
      CHECK(local_date(clinic_zone(h.clinic), s.start) >= ymd(2026, 11, 30));
  }
  SECTION("a closed day offers the nearest") {
    h.send(msg("cardiologia domingo", intent::book).service(cardio).on(ymd(2026, 11, 29)));
    CHECK(h.text() == "Não tenho horário livre no domingo 29/11 😕 Os mais próximos são:");
    CHECK(h.reply().style == choice_style::buttons);
    CHECK(h.titles() == std::vector<std::string>{"sáb 28/11 · 09:00", "sáb 28/11 · 10:00", "sáb 28/11 · 11:00"});
  }
  SECTION("a professional who does not do the service is said so") {
    h.send(msg("cardiologia com o Dr. Carlos", intent::book).service(cardio).professional(carlos));
    CHECK(h.text() == "O Dr. Carlos Lima não atende Cardiologia. Estes são os próximos horários de Cardiologia com a Dra. Ana Souza:");
  }
  SECTION("nothing free in the whole window offers the service's waitlist") {
    h.busy.closures = {{ymd(2026, 11, 1), ymd(2027, 1, 31), "Reforma"}};
    h.send(msg("cardiologia de manhã", intent::book).service(cardio).period(day_period::morning));
    CHECK(h.state.step == flow_step::waitlist);
    CHECK(h.text() == "Não encontrei horários livres de Cardiologia nos próximos 30 dias. Quer entrar na lista de "
                      "espera? Aviso aqui assim que abrir um horário (se preferir, posso chamar alguém da recepção).");
    CHECK(h.ids() == std::vector<std::string>{"confirm", "cancel"});
    CHECK(h.titles() == std::vector<std::string>{"Entrar na lista", "Não, obrigado"});
    SECTION("a tap joins it through the clinic; its answer ends the flow") {
      h.send(tap("confirm", "Entrar na lista"));
      CHECK(h.last.actions == std::vector<flow_action>{{flow_action_kind::join_waitlist, std::nullopt, {}}});
      CHECK(h.last.messages.empty());
      CHECK(h.state.awaiting_clinic);
      REQUIRE(pending_action(h.state));
      CHECK(pending_action(h.state)->kind == flow_action_kind::join_waitlist);
      auto wish = waitlist_wish_of(h.state);
      CHECK(wish.service_id == cardio);
      CHECK(wish.period == day_period::morning);
      CHECK_FALSE(wish.professional_id);
      clinic_result r;
      r.what = clinic_result::outcome::waitlisted;
      h.result(r);
      CHECK(h.state.step == flow_step::done);
      CHECK(h.text() == "Pronto! Coloquei você na lista de espera de Cardiologia, de manhã. Assim que abrir um horário "
                        "eu te aviso por aqui e seguro ele para você por alguns minutos 🙂");
    }
    SECTION("typed words join it too") {
      h.send(msg("pode ser"));
      CHECK(h.state.awaiting_clinic);
      CHECK(h.last.actions.front().kind == flow_action_kind::join_waitlist);
    }
    SECTION("no thanks ends the flow, nothing joined") {
      h.send(msg("não, obrigado", intent::goodbye));
      CHECK(h.last.actions.empty());
      CHECK(h.state.step == flow_step::cancelled);
      CHECK(h.text() == "Tudo bem! Se quiser tentar outras datas ou falar com a recepção, é só me chamar 🙂");
    }
    SECTION("asking for the front desk is the conversation's") {
      auto t = h.send(msg("quero falar com a recepção", intent::human));
      CHECK_FALSE(t.consumed);
    }
  }
  SECTION("a reschedule with nothing free ends politely (no waitlist for a move)") {
    h.mine = {appt("appt-9", ana, cardio, sp(2026, 11, 24, 9))};
    h.busy.appointments = h.mine;
    h.busy.closures = {{ymd(2026, 11, 24), ymd(2027, 1, 31), "Reforma"}};
    h.now = sp(2026, 11, 23, 20);
    h.send(msg("quero remarcar minha consulta", intent::reschedule));
    CHECK(h.state.step == flow_step::cancelled);
    CHECK(h.text().find("Quer que eu chame alguém da recepção?") != std::string::npos);
  }
}

TEST_CASE("flow: change of mind", "[flow][change]") {
  harness h;
  h.send(msg("cardiologia sexta 14h", intent::book).service(cardio).on(ymd(2026, 11, 27)).at(14));
  auto fri14 = slot_at(ana, cardio, sp(2026, 11, 27, 14));
  REQUIRE(h.state.chosen == fri14);
  SECTION("another service releases the hold and offers that service") {
    h.send(msg("na verdade quero dermatologia").service(dermato));
    CHECK(h.last.actions.front() == release_of(fri14));
    CHECK(h.state.service_id == dermato);
    CHECK_FALSE(h.state.professional_id); // Ana does not do it
    // The day and time wish stays: Friday 14:00 with Carlos is free.
    CHECK(h.state.step == flow_step::confirmation);
    auto carlos14 = slot_at(carlos, dermato, sp(2026, 11, 27, 14));
    CHECK(h.state.chosen == carlos14);
    CHECK(h.last.actions == std::vector<flow_action>{release_of(fri14), hold_of(carlos14)});
    CHECK(h.text() == "Posso confirmar Dermatologia com o Dr. Carlos Lima na sexta, 27/11, às 14:00?");
  }
  SECTION("another day keeps the time waiting for confirmation (one message saved)") {
    h.send(msg("melhor na quinta").on(ymd(2026, 11, 26)));
    auto thu14 = slot_at(ana, cardio, sp(2026, 11, 26, 14));
    CHECK(h.last.actions == std::vector<flow_action>{release_of(fri14), hold_of(thu14)});
    CHECK(h.state.step == flow_step::confirmation);
    CHECK(h.state.chosen == thu14);
    CHECK(h.text() == "Posso confirmar Cardiologia com a Dra. Ana Souza na quinta, 26/11, às 14:00?");
  }
  SECTION("another day where that time is taken offers the day's times") {
    h.busy.appointments.push_back(appt("other", ana, cardio, sp(2026, 11, 26, 14)));
    h.send(msg("melhor na quinta").on(ymd(2026, 11, 26)));
    CHECK(h.last.actions == std::vector<flow_action>{release_of(fri14)});
    CHECK(h.state.step == flow_step::date_time);
    CHECK(h.text().find("quinta 26/11") != std::string::npos);
    CHECK(!h.reply().choices.empty());
  }
  SECTION("another time the same day") {
    h.send(msg("pode ser às 16h?").at(16).yes(true)); // labelled yes as well
    CHECK(h.state.chosen == slot_at(ana, cardio, sp(2026, 11, 27, 16)));
    CHECK(h.last.actions.size() == 2);
    CHECK(h.text() == "Posso confirmar Cardiologia com a Dra. Ana Souza na sexta, 27/11, às 16:00?");
  }
}

TEST_CASE("flow: going back for another time", "[flow][back]") {
  harness h;
  h.send(msg("cardiologia sexta 14h", intent::book).service(cardio).on(ymd(2026, 11, 27)).at(14));
  auto fri14 = slot_at(ana, cardio, sp(2026, 11, 27, 14));
  SECTION("tap") { h.send(tap("other_time", "Outro horário")); }
  SECTION("typed") { h.send(msg("outro horário")); }
  SECTION("a plain no") { h.send(msg("não").yes(false)); }
  CHECK(h.state.step == flow_step::date_time);
  CHECK_FALSE(h.state.chosen);
  CHECK(h.last.actions == std::vector<flow_action>{release_of(fri14)});
  CHECK(h.text() == "Na sexta 27/11 tenho com a Dra. Ana Souza:");
  for (const auto& s : h.state.offered_slots)
    CHECK(s.start != fri14.start);
  // And again from the slot list: later times.
  auto before = h.state.offered_slots;
  REQUIRE(!before.empty());
  h.send(msg("outros horários"));
  CHECK(h.state.step == flow_step::date_time);
  REQUIRE(!h.state.offered_slots.empty());
  CHECK(h.state.offered_slots.front().start > before.back().start);
  CHECK(has(h.text(), "Sem problema! Estes são outros horários de Cardiologia"));
}

TEST_CASE("flow: giving up", "[flow][give_up]") {
  harness h;
  SECTION("in the service list") {
    h.send(msg("quero marcar", intent::book));
    h.send(msg("desisto"));
    CHECK(h.state.step == flow_step::cancelled);
    CHECK(h.last.actions.empty());
  }
  SECTION("in the slot list") {
    h.send(msg("cardiologia", intent::book).service(cardio));
    h.send(msg("não quero mais").yes(false));
    CHECK(h.state.step == flow_step::cancelled);
  }
  SECTION("at confirmation, by tap and by text: the hold is released") {
    h.send(msg("cardiologia sexta 14h", intent::book).service(cardio).on(ymd(2026, 11, 27)).at(14));
    auto held = *h.state.chosen;
    SECTION("tap") { h.send(tap("cancel", "Cancelar")); }
    SECTION("cancela") { h.send(msg("cancela", intent::cancel)); }
    CHECK(h.state.step == flow_step::cancelled);
    CHECK(h.last.actions == std::vector<flow_action>{release_of(held)});
    CHECK_FALSE(h.state.chosen);
  }
  CHECK(h.text() == "Tudo bem, cancelei este agendamento. Se quiser marcar depois, é só me chamar 🙂");
  // The next booking message starts a fresh flow.
  h.send(msg("quero marcar dermatologia", intent::book).service(dermato));
  CHECK(h.state.step == flow_step::date_time);
  CHECK(h.state.kind == flow_kind::book);
  CHECK(h.state.service_id == dermato);
}

TEST_CASE("flow: a slot taken meanwhile", "[flow][taken]") {
  harness h;
  h.send(msg("cardiologia", intent::book).service(cardio));
  auto offered = h.state.offered_slots;
  REQUIRE(offered.size() >= 3);
  SECTION("picked from the list after someone else booked it") {
    h.busy.appointments = {appt("other", ana, cardio, offered[2].start)};
    h.send(tap(slot_choice_id(offered[2])));
    CHECK(h.state.step == flow_step::date_time);
    CHECK_FALSE(h.state.chosen);
    CHECK(h.last.actions.empty());
    CHECK(h.text() == "Esse horário acabou de ser reservado 😕 Os mais próximos são:");
    CHECK(h.reply().style == choice_style::buttons);
    for (const auto& s : h.state.offered_slots)
      CHECK(s.start != offered[2].start);
    CHECK(h.state.offered_slots.size() == 3);
  }
  SECTION("the hold fails: the actor feeds slot_taken instead of sending the confirmation") {
    h.send(tap(slot_choice_id(offered[1])));
    REQUIRE(h.last.actions == std::vector<flow_action>{hold_of(offered[1])});
    h.busy.appointments = {appt("other", ana, cardio, offered[1].start)};
    h.result({clinic_result::outcome::slot_taken, std::nullopt, {}});
    CHECK(h.state.step == flow_step::date_time);
    CHECK_FALSE(h.state.chosen);
    CHECK(h.text() == "Esse horário acabou de ser reservado 😕 Os mais próximos são:");
    CHECK(h.titles() == std::vector<std::string>{"10:00", "12:00", "13:00"});
  }
  SECTION("the hold fails or the booking loses the race") {
    h.send(tap(slot_choice_id(offered[2])));
    auto held = *h.state.chosen;
    h.send(tap("confirm"));
    h.busy.appointments = {appt("other", ana, cardio, held.start)};
    h.result({clinic_result::outcome::slot_taken, std::nullopt, {}});
    CHECK(h.state.step == flow_step::date_time);
    CHECK_FALSE(h.state.awaiting_clinic);
    CHECK(h.last.actions == std::vector<flow_action>{release_of(held)});
    CHECK(h.text() == "Esse horário acabou de ser reservado 😕 Os mais próximos são:");
    CHECK_FALSE(has(h.text(), "erro"));
    for (const auto& s : h.state.offered_slots)
      CHECK(s.start != held.start);
    // Picking one of the new choices goes on normally.
    h.send(tap(h.ids().front()));
    CHECK(h.state.step == flow_step::confirmation);
  }
  SECTION("the clinic sends the alternatives") {
    h.send(tap(slot_choice_id(offered[0])));
    h.send(tap("confirm"));
    std::vector<slot> alts = {slot_at(ana, cardio, sp(2026, 11, 26, 10)), slot_at(ana, cardio, sp(2026, 11, 26, 11))};
    h.result({clinic_result::outcome::slot_taken, std::nullopt, alts});
    CHECK(h.state.offered_slots == alts);
    CHECK(h.titles() == std::vector<std::string>{"qui 26/11 · 10:00", "qui 26/11 · 11:00"});
  }
}

TEST_CASE("flow: expiry", "[flow][expiry]") {
  harness h;
  h.send(msg("cardiologia sexta 14h", intent::book).service(cardio).on(ymd(2026, 11, 27)).at(14));
  auto held = *h.state.chosen;
  CHECK(flow_expires_at(h.state, minutes{30}) == h.now + minutes{30});
  h.now += minutes{29};
  h.tick();
  CHECK(h.state.step == flow_step::confirmation);
  CHECK(h.last.messages.empty());
  CHECK(h.last.actions.empty());
  SECTION("no answer within 30 minutes") {
    h.now += minutes{1};
    h.tick();
    CHECK(h.state.step == flow_step::expired);
    CHECK(h.last.actions == std::vector<flow_action>{release_of(held)});
    CHECK(h.text() == "Como não tive resposta, encerrei este agendamento e liberei o horário reservado. "
                      "Quando quiser marcar, é só me chamar 🙂");
    // Ticks after the end say nothing.
    h.now += minutes{30};
    h.tick();
    CHECK(h.last.messages.empty());
    CHECK(h.state.step == flow_step::expired);
  }
  SECTION("an answer restarts the clock") {
    h.now += minutes{1};
    h.send(msg("hmm?"));
    h.now += minutes{29};
    h.tick();
    CHECK(h.state.step == flow_step::confirmation);
  }
  SECTION("a shorter expiry from the caller") {
    h.expiry = minutes{10};
    h.tick();
    CHECK(h.state.step == flow_step::expired);
  }
  SECTION("never while the clinic is booking") {
    h.send(tap("confirm"));
    h.now += minutes{120};
    h.tick();
    CHECK(h.state.step == flow_step::confirmation);
    CHECK(h.state.awaiting_clinic);
  }
}

TEST_CASE("flow: reschedule by chat (CONVERSATIONS 3)", "[flow][reschedule]") {
  harness h;
  auto wed = appt("appt-9", ana, cardio, sp(2026, 11, 25, 14));
  h.mine = {wed};
  h.busy.appointments = {wed};
  h.send(msg("preciso remarcar minha consulta de quarta", intent::reschedule).on(ymd(2026, 11, 25)));
  CHECK(h.state.kind == flow_kind::reschedule);
  CHECK(h.state.step == flow_step::date_time);
  REQUIRE(h.state.target);
  CHECK(h.state.target->id == "appt-9");
  CHECK(h.text() == "Sua consulta de Cardiologia é quarta 25/11 às 14:00. Para quando quer mudar?");
  CHECK(h.reply().style == choice_style::list);
  for (const auto& s : h.state.offered_slots) {
    CHECK(s.professional_id == ana);
    CHECK(s.start != wed.start);
  }
  // The new time: Thursday 26/11 10:00.
  auto thu10 = slot_at(ana, cardio, sp(2026, 11, 26, 10));
  h.send(msg("qui 26/11 10:00").on(ymd(2026, 11, 26)).at(10));
  CHECK(h.state.step == flow_step::confirmation);
  CHECK(h.last.actions == std::vector<flow_action>{hold_of(thu10)});
  CHECK(h.text() == "Posso remarcar sua consulta de Cardiologia de quarta 25/11 às 14:00 para quinta, 26/11, às "
                    "10:00, com a Dra. Ana Souza?");
  h.send(tap("confirm"));
  CHECK(h.last.actions == std::vector<flow_action>{{flow_action_kind::reschedule, thu10, "appt-9"}});
  CHECK(h.last.messages.empty());
  CHECK(pending_action(h.state) == flow_action{flow_action_kind::reschedule, thu10, "appt-9"});
  auto moved = wed;
  moved.start = thu10.start;
  moved.end = thu10.end;
  h.result({clinic_result::outcome::rescheduled, moved, {}});
  CHECK(h.state.step == flow_step::done);
  CHECK(h.text() == "Pronto! Consulta remarcada: Cardiologia com a Dra. Ana Souza, quinta 26/11 às 10:00, na " +
                        address + ". Chegue 10 minutos antes. Até lá! 💙");
}

TEST_CASE("flow: reschedule details", "[flow][reschedule]") {
  harness h;
  auto wed = appt("appt-9", ana, cardio, sp(2026, 11, 25, 14));
  auto fri = appt("appt-10", carlos, dermato, sp(2026, 11, 27, 9));
  h.mine = {fri, wed, appt("old", ana, cardio, sp(2026, 11, 20, 9)),
            appt("gone", ana, cardio, sp(2026, 11, 30, 9), appointment_status::cancelled)};
  h.busy.appointments = {wed, fri};
  SECTION("several appointments: the patient picks one") {
    h.send(msg("quero remarcar", intent::reschedule));
    CHECK(h.state.step == flow_step::service_selection);
    CHECK(h.text() == "Qual consulta você quer remarcar?");
    CHECK(h.titles() == std::vector<std::string>{"qua 25/11 · 14:00", "sex 27/11 · 09:00"});
    CHECK(h.reply().choices[0].description == "Cardiologia — Dra. Ana Souza");
    CHECK(h.ids()[1] == "appointment:appt-10");
    SECTION("tap") { h.send(tap("appointment:appt-10")); }
    SECTION("typed: a segunda") { h.send(msg("a segunda")); }
    SECTION("typed: the service") { h.send(msg("a de dermatologia").service(dermato)); }
    CHECK(h.state.target->id == "appt-10");
    CHECK(h.text() == "Sua consulta de Dermatologia é sexta 27/11 às 09:00. Para quando quer mudar?");
  }
  SECTION("a new day in the same message") {
    h.mine = {wed};
    h.send(msg("remarcar para sexta de manhã", intent::reschedule).on(ymd(2026, 11, 27)).period(day_period::morning));
    CHECK(h.state.target->id == "appt-9");
    CHECK(h.state.date == ymd(2026, 11, 27));
    CHECK(h.text() == "Sua consulta de Cardiologia é quarta 25/11 às 14:00. Na sexta 27/11 de manhã tenho com a "
                      "Dra. Ana Souza:");
    CHECK(h.reply().style == choice_style::buttons);
    CHECK(h.titles() == std::vector<std::string>{"08:00", "09:00", "10:00"});
  }
  SECTION("the appointment's own day stays bookable around it") {
    h.mine = {wed};
    h.clinic.policy.max_daily_appointments = 1; // Ana's only one that day is the one moving
    h.send(msg("remarcar minha consulta", intent::reschedule));
    h.send(msg("quarta 15h").on(ymd(2026, 11, 25)).at(15));
    CHECK(h.state.step == flow_step::confirmation);
    CHECK(h.state.chosen == slot_at(ana, cardio, sp(2026, 11, 25, 15)));
  }
  SECTION("giving up keeps the appointment") {
    h.mine = {wed};
    h.send(msg("remarcar minha consulta", intent::reschedule));
    h.send(msg("deixa pra lá"));
    CHECK(h.state.step == flow_step::cancelled);
    CHECK(h.text() == "Tudo bem, sua consulta de Cardiologia continua quarta 25/11 às 14:00.");
  }
  SECTION("no appointments") {
    h.mine = {};
    h.send(msg("quero remarcar", intent::reschedule));
    CHECK(h.state.step == flow_step::done);
    CHECK(h.text() == "Você não tem consultas marcadas no momento.");
  }
  SECTION("the appointment vanished meanwhile") {
    h.mine = {wed};
    h.send(msg("remarcar minha consulta", intent::reschedule));
    h.send(msg("a primeira"));
    h.send(tap("confirm"));
    h.result({clinic_result::outcome::not_found, std::nullopt, {}});
    CHECK(h.state.step == flow_step::cancelled);
    CHECK(has(h.text(), "Não encontrei mais essa consulta"));
  }
}

TEST_CASE("flow: cancel by chat (CONVERSATIONS 3)", "[flow][cancel]") {
  harness h;
  auto wed = appt("appt-9", ana, cardio, sp(2026, 11, 25, 14));
  h.mine = {wed};
  h.send(msg("cancelar minha consulta", intent::cancel));
  CHECK(h.state.kind == flow_kind::cancel);
  CHECK(h.state.step == flow_step::confirmation);
  CHECK(h.reply().style == choice_style::buttons);
  CHECK(h.text() == "Quer cancelar Cardiologia com a Dra. Ana Souza, quarta 25/11 às 14:00?");
  CHECK(h.titles() == std::vector<std::string>{"Sim, cancelar", "Não"});
  CHECK(h.ids() == std::vector<std::string>{"confirm", "keep"});
  CHECK(h.last.actions.empty());
  SECTION("yes") {
    SECTION("typed") { h.send(msg("sim").yes(true)); }
    SECTION("tap") { h.send(tap("confirm", "Sim, cancelar")); }
    SECTION("pode cancelar") { h.send(msg("pode cancelar", intent::cancel)); }
    CHECK(h.last.actions == std::vector<flow_action>{{flow_action_kind::cancel_appointment, std::nullopt, "appt-9"}});
    CHECK(h.last.messages.empty());
    CHECK(pending_action(h.state) == flow_action{flow_action_kind::cancel_appointment, std::nullopt, "appt-9"});
    h.result({clinic_result::outcome::cancelled, wed, {}});
    CHECK(h.state.step == flow_step::done);
    CHECK(h.text() == "Consulta cancelada. Se quiser marcar outra, é só me chamar.");
    CHECK(h.state.result->status == appointment_status::cancelled);
  }
  SECTION("no") {
    SECTION("tap") { h.send(tap("keep", "Não")); }
    SECTION("typed") { h.send(msg("não").yes(false)); }
    CHECK(h.last.actions.empty());
    CHECK(h.state.step == flow_step::cancelled);
    CHECK(h.text() == "Tudo bem, sua consulta continua marcada.");
  }
  SECTION("unclear asks again") {
    h.send(msg("hã?"));
    CHECK(h.state.step == flow_step::confirmation);
    CHECK(h.text() == "Desculpe, não entendi 😅 Quer cancelar Cardiologia com a Dra. Ana Souza, quarta 25/11 às 14:00?");
  }
  SECTION("changing to a reschedule keeps the appointment chosen") {
    h.send(msg("na verdade quero remarcar", intent::reschedule));
    CHECK(h.state.kind == flow_kind::reschedule);
    CHECK(h.state.target->id == "appt-9");
    CHECK(h.text() == "Sua consulta de Cardiologia é quarta 25/11 às 14:00. Para quando quer mudar?");
  }
}

TEST_CASE("flow: cancel with several or no appointments", "[flow][cancel]") {
  harness h;
  SECTION("none") {
    h.send(msg("cancelar minha consulta", intent::cancel));
    CHECK(h.state.step == flow_step::done);
    CHECK(h.text() == "Você não tem consultas marcadas no momento.");
  }
  SECTION("two, chosen by day") {
    h.mine = {appt("a", ana, cardio, sp(2026, 11, 25, 14)), appt("b", carlos, dermato, sp(2026, 11, 27, 9))};
    h.send(msg("cancelar a consulta de sexta", intent::cancel).on(ymd(2026, 11, 27)));
    CHECK(h.state.target->id == "b");
    CHECK(h.text() == "Quer cancelar Dermatologia com o Dr. Carlos Lima, sexta 27/11 às 09:00?");
  }
  SECTION("two, asked which") {
    h.mine = {appt("a", ana, cardio, sp(2026, 11, 25, 14)), appt("b", carlos, dermato, sp(2026, 11, 27, 9))};
    h.send(msg("cancelar minha consulta", intent::cancel));
    CHECK(h.text() == "Qual consulta você quer cancelar?");
    h.send(tap("appointment:a"));
    CHECK(h.state.step == flow_step::confirmation);
    CHECK(h.state.target->id == "a");
    h.send(msg("desisto"));
    CHECK(h.state.step == flow_step::cancelled);
    CHECK(h.text() == "Tudo bem, sua consulta continua marcada.");
  }
}

TEST_CASE("flow: minhas consultas", "[flow][my_appointments]") {
  harness h;
  SECTION("none") {
    h.send(msg("minhas consultas", intent::my_appointments));
    CHECK(h.text() == "Você não tem consultas marcadas no momento.");
    CHECK(h.state.step == flow_step::done);
  }
  SECTION("future active ones only, in order") {
    h.mine = {appt("b", carlos, dermato, sp(2026, 11, 27, 9)), appt("a", ana, cardio, sp(2026, 11, 25, 14)),
              appt("past", ana, cardio, sp(2026, 11, 20, 9)),
              appt("x", ana, cardio, sp(2026, 11, 26, 9), appointment_status::cancelled)};
    h.send(msg("minhas consultas", intent::my_appointments));
    CHECK(h.text() == "Suas próximas consultas:\n"
                      "• Cardiologia com a Dra. Ana Souza, quarta 25/11 às 14:00\n"
                      "• Dermatologia com o Dr. Carlos Lima, sexta 27/11 às 09:00\n"
                      "Para remarcar ou cancelar, é só me dizer.");
  }
  SECTION("in the middle of a booking the flow stays where it was") {
    h.send(msg("cardiologia", intent::book).service(cardio));
    auto offered = h.state.offered_slots;
    h.send(msg("quais são minhas consultas?", intent::my_appointments));
    CHECK(h.text() == "Você não tem consultas marcadas no momento.");
    CHECK(h.state.step == flow_step::date_time);
    CHECK(h.state.offered_slots == offered);
  }
  SECTION("English") {
    h.mine = {appt("a", ana, cardio, sp(2026, 11, 25, 14))};
    auto m = my_appointments_reply(h.clinic, h.mine, h.now, "en");
    CHECK(m.text == "Your upcoming appointment:\n• Cardiology with Dra. Ana Souza, Wednesday 25/11 at 14:00\n"
                    "To reschedule or cancel, just tell me.");
    CHECK(my_appointments_reply(h.clinic, {}, h.now, "en").text == "You have no appointments booked at the moment.");
  }
}

TEST_CASE("flow: English", "[flow][en]") {
  harness h;
  h.send(msg("I'd like to book an appointment", intent::book, "en"));
  CHECK(h.state.lang == "en");
  CHECK(h.text() == "Sure! Which service are you looking for?");
  CHECK(h.reply().list_button == "See services");
  CHECK(h.titles() == std::vector<std::string>{"General practice", "Cardiology", "Dermatology"});
  h.send(tap("service:" + cardio, "Cardiology"));
  CHECK(h.text() == "These are the next times for Cardiology with Dra. Ana Souza:");
  CHECK(h.titles().front() == "Mon 23/11 · 10:00");
  h.send(msg("Friday at 2pm", intent::unknown, "en").on(ymd(2026, 11, 27)).at(14));
  CHECK(h.text() == "Shall I confirm Cardiology with Dra. Ana Souza on Friday, 27/11, at 14:00?");
  CHECK(h.titles() == std::vector<std::string>{"Confirm", "Other time", "Cancel"});
  // A short reply detected as pt-BR by default does not switch the language back.
  h.send(msg("ok").yes(true));
  CHECK(h.state.lang == "en");
  CHECK(h.last.actions.front().kind == flow_action_kind::book);
  h.result({clinic_result::outcome::booked, h.booked_from_chosen(), {}});
  CHECK(h.text() == "Done! Appointment confirmed: Cardiology with Dra. Ana Souza, Friday 27/11 at 14:00, at " + address +
                        ". Please arrive 10 minutes early. See you! 💙");
  SECTION("taken, give up, expiry and cancel in English") {
    harness e;
    e.send(msg("cardiology tomorrow morning", intent::book, "en")
               .service(cardio)
               .on(ymd(2026, 11, 24))
               .period(day_period::morning));
    CHECK(e.text() == "Tomorrow (Tue 24/11) in the morning I have these times with Dra. Ana Souza:");
    auto first = e.state.offered_slots.front();
    e.busy.appointments = {appt("o", ana, cardio, first.start)};
    e.send(tap(slot_choice_id(first)));
    CHECK(e.text() == "That time was just booked by someone else 😕 The nearest are:");
    e.send(msg("never mind", intent::unknown, "en"));
    CHECK(e.text() == "No problem, I've stopped this booking. Message me whenever you want to book 🙂");
    harness c;
    c.mine = {appt("a", ana, cardio, sp(2026, 11, 25, 14))};
    c.send(msg("cancel my appointment", intent::cancel, "en"));
    CHECK(c.text() == "Do you want to cancel Cardiology with Dra. Ana Souza, Wednesday 25/11 at 14:00?");
    CHECK(c.titles() == std::vector<std::string>{"Yes, cancel", "No"});
    c.send(msg("yes", intent::unknown, "en").yes(true));
    c.result({clinic_result::outcome::cancelled, c.mine[0], {}});
    CHECK(c.text() == "Appointment cancelled. If you want to book another one, just message me.");
  }
  SECTION("a service without an English name keeps its name") {
    harness p;
    p.clinic.services[1].name_en.clear();
    p.mine = {appt("a", ana, cardio, sp(2026, 11, 25, 14))};
    p.send(msg("cancel my appointment", intent::cancel, "en"));
    CHECK(p.text() == "Do you want to cancel Cardiologia with Dra. Ana Souza, Wednesday 25/11 at 14:00?");
    harness pt;
    pt.mine = {appt("a", ana, cardio, sp(2026, 11, 25, 14))};
    pt.send(msg("cancelar minha consulta", intent::cancel));
    CHECK(pt.text() == "Quer cancelar Cardiologia com a Dra. Ana Souza, quarta 25/11 às 14:00?");
  }
}

TEST_CASE("flow: a weekday and a day of the month that no date has both", "[flow][dates]") {
  harness h;
  // "sexta, 25/11" on Monday 23/11: the 25th is a Wednesday.
  auto m = msg("quero marcar cardiologia sexta, 25/11", intent::book).service(cardio);
  m.m.u.entities.date_choices = {ymd(2026, 11, 25), ymd(2026, 11, 27)};
  h.send(m);
  CHECK(h.text() == "Qual dia você quis dizer: quarta, 25/11 ou sexta, 27/11?");
  CHECK(h.reply().style == choice_style::buttons);
  CHECK(h.ids() == std::vector<std::string>{"date:2026-11-25", "date:2026-11-27"});
  CHECK(h.last.actions.empty());
  CHECK(h.state.service_id == cardio);
  // The tap: its title names the day.
  auto pick = tap("date:2026-11-27", "sexta, 27/11");
  pick.u.entities.date = ymd(2026, 11, 27);
  h.send(pick);
  CHECK(has(h.text(), "sexta 27/11"));
  for (const auto& s : h.state.offered_slots)
    CHECK(local_date(date::locate_zone("America/Sao_Paulo"), s.start) == ymd(2026, 11, 27));
}

TEST_CASE("flow: a reschedule from one day to another", "[flow][reschedule][dates]") {
  harness h;
  auto tue = appt("appt-tue", ana, cardio, sp(2026, 11, 24, 9));
  auto wed = appt("appt-wed", ana, cardio, sp(2026, 11, 25, 14));
  h.mine = {tue, wed};
  h.busy.appointments = {tue, wed};
  // "de amanhã para sexta": the appointment is Tuesday's, the wish Friday.
  auto m = msg("preciso remarcar minha consulta de amanhã para sexta", intent::reschedule).on(ymd(2026, 11, 27));
  m.m.u.entities.original_date = ymd(2026, 11, 24);
  m.m.u.entities.new_date = ymd(2026, 11, 27);
  h.send(m);
  REQUIRE(h.state.target);
  CHECK(h.state.target->id == "appt-tue");
  CHECK(h.state.date == ymd(2026, 11, 27));
  REQUIRE_FALSE(h.state.offered_slots.empty());
  for (const auto& s : h.state.offered_slots)
    CHECK(local_date(date::locate_zone("America/Sao_Paulo"), s.start) == ymd(2026, 11, 27));
}

TEST_CASE("flow: messages that are not for the flow", "[flow]") {
  harness h;
  CHECK_FALSE(h.send(msg("qual o endereço?", intent::location)).consumed);
  CHECK(h.state.step == flow_step::start);
  h.send(msg("cardiologia", intent::book).service(cardio));
  auto before = to_json(h.state);
  h.now += minutes{3};
  auto t = h.send(msg("vocês abrem sábado?", intent::hours));
  CHECK_FALSE(t.consumed);
  CHECK(t.messages.empty());
  CHECK(t.actions.empty());
  CHECK(to_json(h.state) == before); // untouched, not even last_activity
  // After the end, only scheduling messages start a new flow.
  h.send(msg("desisto"));
  CHECK_FALSE(h.send(msg("obrigado", intent::goodbye)).consumed);
  CHECK(h.state.step == flow_step::cancelled);
}

TEST_CASE("flow: a message while the clinic is booking", "[flow]") {
  harness h;
  h.send(msg("cardiologia sexta 14h", intent::book).service(cardio).on(ymd(2026, 11, 27)).at(14));
  h.send(tap("confirm"));
  h.send(msg("e aí?"));
  CHECK(h.text() == "Só um instante, estou finalizando para você… ⏳");
  CHECK(h.last.actions.empty());
  CHECK(h.state.awaiting_clinic);
}

TEST_CASE("flow: state JSON round trip and resume after a restart", "[flow][json]") {
  harness h;
  h.mine = {appt("appt-9", ana, cardio, sp(2026, 11, 25, 14))};
  h.send(msg("remarcar minha consulta", intent::reschedule, "pt-BR").period(day_period::afternoon));
  REQUIRE(h.state.step == flow_step::date_time);
  auto j = to_json(h.state);
  CHECK(j["kind"] == "reschedule");
  CHECK(j["step"] == "date_time");
  CHECK(j["period"] == "afternoon");
  CHECK(j["target"]["id"] == "appt-9");
  auto restored = flow_state_from_json(nlohmann::json::parse(j.dump()));
  CHECK(to_json(restored) == j);

  // The same next step from the restored state and from the live one.
  harness other = h;
  other.state = restored;
  auto pick = tap(h.ids()[1]);
  h.send(pick);
  other.send(pick);
  CHECK(to_json(other.state) == to_json(h.state));
  CHECK(other.text() == h.text());
  CHECK(other.last.actions == h.last.actions);

  // Every field survives.
  flow_state s = h.state;
  s.date = ymd(2026, 11, 27);
  s.date_from = ymd(2026, 11, 30);
  s.date_to = ymd(2026, 12, 6);
  s.time = 14 * 60;
  s.offered_services = {cardio, dermato};
  s.offered_appointments = h.mine;
  s.result = h.mine[0];
  s.awaiting_clinic = true;
  CHECK(to_json(flow_state_from_json(to_json(s))) == to_json(s));

  // Lenient on missing fields, strict on wrong ones.
  auto minimal = flow_state_from_json(nlohmann::json::object());
  CHECK(minimal.step == flow_step::start);
  CHECK(minimal.kind == flow_kind::book);
  CHECK_THROWS_AS(flow_state_from_json(nlohmann::json{{"step", "nowhere"}}), std::invalid_argument);
  CHECK_THROWS_AS(flow_state_from_json(nlohmann::json{{"time", "25:99"}}), std::invalid_argument);
  CHECK_THROWS_AS(flow_state_from_json(nlohmann::json{{"offered_slots", {{{"start", "x"}}}}}), std::invalid_argument);
  CHECK_THROWS_AS(flow_state_from_json(nlohmann::json::array()), std::invalid_argument);
}

TEST_CASE("flow: labels, slot ids and helpers", "[flow]") {
  for (auto s : {flow_step::start, flow_step::service_selection, flow_step::date_time, flow_step::confirmation,
                 flow_step::done, flow_step::cancelled, flow_step::expired})
    CHECK(flow_step_from_string(to_string(s)) == s);
  for (auto k : {flow_kind::book, flow_kind::reschedule, flow_kind::cancel})
    CHECK(flow_kind_from_string(to_string(k)) == k);
  CHECK(is_terminal(flow_step::done));
  CHECK(is_terminal(flow_step::cancelled));
  CHECK(is_terminal(flow_step::expired));
  CHECK_FALSE(is_terminal(flow_step::confirmation));
  CHECK(to_string(flow_action_kind::cancel_appointment) == "cancel_appointment");

  auto s = slot_at(ana, cardio, sp(2026, 11, 25, 14));
  CHECK(slot_choice_id(s) == "slot:" + ana + ":2026-11-25T17:00:00Z");
  CHECK(code_points(slot_choice_id(s)) <= 200);
  auto parsed = parse_slot_choice_id(slot_choice_id(s));
  REQUIRE(parsed);
  CHECK(parsed->first == ana);
  CHECK(parsed->second == s.start);
  CHECK_FALSE(parse_slot_choice_id("slot:abc"));
  CHECK_FALSE(parse_slot_choice_id("service:abc"));

  appointment a{"1", carlos, dermato, sp(2026, 11, 28, 9), sp(2026, 11, 28, 10), appointment_status::scheduled, ""};
  CHECK(booking_confirmed_text(demo_clinic(), a, "pt-BR") ==
        "Pronto! Consulta confirmada: Dermatologia com o Dr. Carlos Lima, sábado 28/11 às 09:00, na " + address +
            ". Chegue 10 minutos antes. Até lá! 💙");
  auto f = new_flow("conv-7", sp(2026, 11, 23, 8), "en");
  CHECK(f.hold_owner == "conv-7");
  CHECK(f.lang == "en");
  CHECK(f.step == flow_step::start);
}

TEST_CASE("flow: holds are not hidden from their owner", "[flow]") {
  harness h;
  h.send(msg("cardiologia sexta 14h", intent::book).service(cardio).on(ymd(2026, 11, 27)).at(14));
  auto held = *h.state.chosen;
  // The clinic now holds it for this flow's owner; choosing it again still works.
  h.busy.holds = {{held, h.now + minutes{10}, "conv-1"}};
  h.send(tap(slot_choice_id(held)));
  CHECK(h.state.step == flow_step::confirmation);
  CHECK(h.state.chosen == held);
  CHECK(h.last.actions.empty()); // already held: no second hold
  // Someone else's hold hides it.
  harness g;
  g.busy.holds = {{held, g.now + minutes{10}, "conv-2"}};
  g.send(msg("cardiologia sexta 14h", intent::book).service(cardio).on(ymd(2026, 11, 27)).at(14));
  CHECK(g.state.step == flow_step::date_time);
  CHECK(has(g.text(), "Não tenho horário livre na sexta 27/11 às 14:00"));
}

TEST_CASE("flow: messages as the understanding actually labels them", "[flow][labels]") {
  // understand() calls "outro horário" an hours question, "9h" and "a segunda opção" a
  // booking (the latter with Monday as date), "ok" a pt-BR yes, and so on.
  harness h;
  h.send(msg("cardiologia", intent::book).service(cardio));
  auto offered = h.state.offered_slots;
  SECTION("a segunda opção (with a Monday date)") {
    h.send(msg("a segunda opção", intent::book).on(ymd(2026, 11, 30)));
    CHECK(h.state.chosen == offered[1]);
  }
  SECTION("11h labelled book picks the offered 11:00") {
    h.send(msg("11h", intent::book).at(11));
    CHECK(h.state.chosen == offered[1]);
  }
  SECTION("outro horário labelled hours, at confirmation") {
    h.send(tap(slot_choice_id(offered[0])));
    h.send(msg("outro horário", intent::hours));
    CHECK(h.last.consumed);
    CHECK(h.state.step == flow_step::date_time);
    CHECK(h.last.actions == std::vector<flow_action>{release_of(offered[0])});
  }
  SECTION("outros horários labelled hours, in the list") {
    h.send(msg("outros horários", intent::hours));
    CHECK(h.last.consumed);
    CHECK(h.state.offered_slots.front().start > offered.back().start);
  }
  SECTION("an hours question naming a day while choosing a time is about slots") {
    h.send(msg("vocês têm sábado?", intent::hours).on(ymd(2026, 11, 28)));
    CHECK(h.last.consumed);
    CHECK(h.text() == "No sábado 28/11 tenho com a Dra. Ana Souza:");
  }
  SECTION("confirmar without a yes label") {
    h.send(tap(slot_choice_id(offered[0])));
    h.send(msg("confirmar"));
    CHECK(h.last.actions == std::vector<flow_action>{{flow_action_kind::book, offered[0], {}}});
  }
  SECTION("ok labelled yes") {
    h.send(tap(slot_choice_id(offered[0])));
    h.send(msg("ok").yes(true));
    CHECK(h.state.awaiting_clinic);
  }
  SECTION("cancelar minha consulta in the middle of a booking turns into a cancel") {
    h.mine = {appt("a", ana, cardio, sp(2026, 11, 25, 14))};
    h.send(msg("quero cancelar minha consulta", intent::cancel));
    CHECK(h.state.kind == flow_kind::cancel);
    CHECK(h.text() == "Quer cancelar Cardiologia com a Dra. Ana Souza, quarta 25/11 às 14:00?");
  }
  SECTION("remarcar minha consulta in the middle of a booking turns into a reschedule") {
    h.send(tap(slot_choice_id(offered[0])));
    h.mine = {appt("a", ana, cardio, sp(2026, 11, 25, 14))};
    h.send(msg("quero remarcar minha consulta", intent::reschedule));
    CHECK(h.state.kind == flow_kind::reschedule);
    CHECK(h.last.actions.front() == release_of(offered[0]));
    CHECK(h.text() == "Sua consulta de Cardiologia é quarta 25/11 às 14:00. Para quando quer mudar?");
  }
}

TEST_CASE("flow: labels that must not switch flows", "[flow][labels]") {
  harness h;
  h.mine = {appt("a", ana, cardio, sp(2026, 11, 25, 14)), appt("b", carlos, dermato, sp(2026, 11, 27, 9))};
  h.send(msg("cancelar minha consulta", intent::cancel));
  REQUIRE(h.state.step == flow_step::service_selection);
  // "a de cardiologia" is labelled a booking; here it picks the appointment.
  h.send(msg("a de cardiologia", intent::book).service(cardio));
  CHECK(h.state.kind == flow_kind::cancel);
  REQUIRE(h.state.target);
  CHECK(h.state.target->id == "a");
  SECTION("an hours question at the service list is left to the conversation") {
    harness g;
    g.send(msg("quero marcar", intent::book));
    CHECK_FALSE(g.send(msg("vocês abrem sábado?", intent::hours).on(ymd(2026, 11, 28))).consumed);
    CHECK(g.state.step == flow_step::service_selection);
  }
  SECTION("a greeting or a price question mid-flow is left to the conversation") {
    harness g;
    g.send(msg("cardiologia", intent::book).service(cardio));
    CHECK_FALSE(g.send(msg("oi", intent::greeting)).consumed);
    CHECK_FALSE(g.send(msg("quanto custa dermatologia?", intent::services).service(dermato)).consumed);
    CHECK(g.state.service_id == cardio);
  }
}

TEST_CASE("flow: remaining ends", "[flow]") {
  harness h;
  SECTION("expiry while choosing a time: nothing held, nothing released") {
    h.send(msg("cardiologia", intent::book).service(cardio));
    h.now += minutes{30};
    h.tick();
    CHECK(h.state.step == flow_step::expired);
    CHECK(h.last.actions.empty());
    CHECK(h.text() == "Como não tive resposta, encerrei este agendamento. Quando quiser marcar, é só me chamar 🙂");
  }
  SECTION("expiry of a reschedule and of a cancel keeps the appointment") {
    h.mine = {appt("a", ana, cardio, sp(2026, 11, 25, 14))};
    h.send(msg("remarcar minha consulta", intent::reschedule));
    h.send(msg("a primeira"));
    auto held = *h.state.chosen;
    h.now += minutes{31};
    h.tick();
    CHECK(h.last.actions == std::vector<flow_action>{release_of(held)});
    CHECK(h.text() == "Como não tive resposta, encerrei a remarcação; sua consulta continua como estava.");
    harness c;
    c.mine = h.mine;
    c.send(msg("cancelar minha consulta", intent::cancel));
    c.now += minutes{30};
    c.tick();
    CHECK(c.state.step == flow_step::expired);
    CHECK(c.last.actions.empty());
    CHECK(c.text() == "Como não tive resposta, não cancelei nada: sua consulta continua marcada.");
  }
  SECTION("the clinic cannot book for another reason") {
    h.send(msg("cardiologia sexta 14h", intent::book).service(cardio).on(ymd(2026, 11, 27)).at(14));
    auto held = *h.state.chosen;
    h.send(tap("confirm"));
    h.result({clinic_result::outcome::not_found, std::nullopt, {}});
    CHECK(h.state.step == flow_step::cancelled);
    CHECK(h.last.actions == std::vector<flow_action>{release_of(held)});
    CHECK(h.text() == "Desculpe, não consegui concluir este agendamento. Quer que eu chame alguém da recepção?");
  }
  SECTION("a new booking after a finished one starts over") {
    h.send(msg("cardiologia sexta 14h", intent::book).service(cardio).on(ymd(2026, 11, 27)).at(14));
    h.send(tap("confirm"));
    h.result({clinic_result::outcome::booked, h.booked_from_chosen(), {}});
    REQUIRE(h.state.step == flow_step::done);
    h.send(msg("quero marcar outra consulta", intent::book));
    CHECK(h.state.step == flow_step::service_selection);
    CHECK_FALSE(h.state.result);
    CHECK_FALSE(h.state.service_id);
  }
}
