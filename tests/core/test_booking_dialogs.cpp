// Booking in few messages (issue 17): scripted booking dialogs in both languages — one-shot
// requests with service, day and time, partial ones, changes of mind — driven through the
// real understanding, the conversation's replies and the appointment flow against the demo
// clinic's agenda, exactly as the conversation actor routes them (the flow while one is open
// or for scheduling intents and taps; decide_reply otherwise). Each dialog must end with
// the appointment booked; the test reports the number of patient messages per dialog and
// their median, which must be at most 4.

#include <catch2/catch.hpp>

#include <algorithm>
#include <iostream>

#include <date/tz.h>

#include "core/conversation.hpp"
#include "core/demo_clinic.hpp"
#include "core/flow.hpp"
#include "core/slots.hpp"

using namespace atendeai::core;
using std::chrono::minutes;

namespace {

/// One scripted dialog: the patient's messages in order. "[tap N]" taps the N-th choice of
/// the last reply, "[tap confirm]" the choice with that id; anything else is typed.
struct dialog {
  const char* name;
  std::vector<std::string> turns;
};

instant sao_paulo(date::year_month_day d, int h) {
  return *local_instant(date::locate_zone("America/Sao_Paulo"), d, h * 60);
}

/// A patient talking to the demo clinic on Monday 23/11/2026 at 10:00 (São Paulo), with
/// some of the agenda already taken.
struct patient {
  clinic_profile clinic = demo_clinic();
  date::year_month_day today = date::year{2026} / 11 / 23;
  instant now = sao_paulo(today, 10);
  agenda_view busy;
  conversation_state conversation;
  std::optional<flow_state> flow;
  std::optional<outbound_message> last_reply;
  std::vector<std::string> transcript;
  bool booked = false;
  int messages = 0;

  patient() {
    // Tuesday 24/11 09:00 is taken with each professional.
    for (auto& p : clinic.professionals)
      busy.appointments.push_back(appointment{"busy-" + p.id, p.id, p.service_ids.empty() ? "" : p.service_ids[0],
                                              sao_paulo(date::year{2026} / 11 / 24, 9),
                                              sao_paulo(date::year{2026} / 11 / 24, 10), appointment_status::scheduled,
                                              "someone-else"});
  }

  flow_context context() {
    return flow_context{clinic, now, [this](const slot_query& q) { return free_slots(clinic, q, busy, now); }, {},
                        minutes{30}};
  }

  /// Carries out a transition's actions as the clinic actor would (holds succeed, a book
  /// becomes the stored appointment), keeping the one reply.
  void apply(flow_transition t) {
    flow = t.state;
    if (!t.messages.empty())
      last_reply = t.messages.front();
    for (auto& a : t.actions)
      if (a.kind == flow_action_kind::book && a.slot) {
        appointment stored{"appt-1", a.slot->professional_id, a.slot->service_id, a.slot->start, a.slot->end,
                           appointment_status::scheduled, "contact-1"};
        busy.appointments.push_back(stored);
        apply(next_flow_state(*flow, flow_event{clinic_result{clinic_result::outcome::booked, stored, {}}}, context()));
        return;
      }
    if (flow->step == flow_step::done && flow->result)
      booked = true;
  }

  void say(const std::string& turn) {
    ++messages;
    patient_message m;
    if (turn.rfind("[tap ", 0) == 0) {
      REQUIRE(last_reply);
      auto which = turn.substr(5, turn.size() - 6);
      const choice* c = nullptr;
      for (size_t i = 0; i < last_reply->choices.size(); ++i)
        if (last_reply->choices[i].id == which || std::to_string(i + 1) == which)
          c = &last_reply->choices[i];
      INFO("no choice " << which << " in: " << last_reply->text);
      REQUIRE(c);
      m.reply_id = c->id;
      m.text = c->title;
    } else {
      m.text = turn;
    }
    m.u = understand(m.text, today, clinic, conversation.lang);
    transcript.push_back("patient: " + turn + "  [" + std::string(to_string(m.u.intent)) + "]");
    const bool open = flow && !is_terminal(flow->step);
    const bool for_flow = open || m.reply_id || m.u.intent == intent::book || m.u.intent == intent::reschedule
                          || m.u.intent == intent::cancel;
    if (for_flow) {
      auto state = open ? *flow : new_flow("conv-1", now, m.u.lang);
      auto t = next_flow_state(state, flow_event{m}, context());
      if (t.consumed) {
        conversation.lang = t.state.lang;
        apply(std::move(t));
        transcript.push_back("  bot: " + (last_reply ? last_reply->text : std::string()));
        return;
      }
    }
    auto d = decide_reply(m.u, clinic, conversation, messages == 1, m.text);
    last_reply = d.reply;
    transcript.push_back("  bot: " + (last_reply ? last_reply->text : std::string()));
  }
};

const std::vector<dialog>& dialogs() {
  static const std::vector<dialog> all = {
    // -- Portuguese: everything at once
    {"pt one-shot", {"quero marcar cardiologia amanhã às 14h", "sim"}},
    {"pt one-shot with a doctor", {"marcar clínico geral com o dr carlos quinta 10h", "pode confirmar"}},
    {"pt one-shot day of month", {"agendar dermato dia 25 às 10h", "ok"}},
    {"pt one-shot next monday", {"marca pra mim cardiologia na segunda que vem às 10", "sim"}},
    {"pt voice to text", {"bom dia eu queria marcar uma consulta de dermatologia pra quinta feira às 15 horas", "isso"}},
    // -- Portuguese: partial
    {"pt service and period", {"qro uma consulta de dermato amanha de manha", "10h", "confirmar"}},
    {"pt indirect need", {"preciso de um dermatologista na sexta à tarde", "[tap 1]", "sim"}},
    {"pt openings on a day", {"bom dia, tem vaga pra cardiologia na quarta?", "[tap 1]", "[tap confirm]"}},
    {"pt service then day", {"quero agendar uma consulta", "dermatologia", "amanhã às 15h", "sim"}},
    {"pt doctor then period", {"queria marcar com a dra ana", "cardiologia", "amanhã de tarde", "[tap 1]", "sim"}},
    {"pt doctor and morning", {"tem horário com o dr carlos sexta de manhã?", "[tap 2]", "[tap 1]", "confirmo"}},
    {"pt check-up", {"quero marcar um checkup", "[tap 1]", "[tap confirm]"}},
    {"pt step by step", {"oi", "quero marcar uma consulta", "[tap 2]", "[tap 1]", "[tap confirm]"}},
    {"pt introduction first", {"oi, sou a Marta", "queria marcar uma consulta de cardiologia", "[tap 1]", "sim"}},
    {"pt urgent today", {"preciso de consulta urgente com clínico geral hoje", "[tap 1]", "sim"}},
    {"pt service then weekday time", {"quero marcar cardiologia", "quarta às 16h", "sim"}},
    {"pt by number", {"agendar consulta", "3", "sexta 10h", "sim"}},
    // -- Portuguese: changes of mind
    {"pt other time", {"quero marcar cardio sexta 9h", "na verdade prefiro às 11h", "sim"}},
    {"pt other day same time", {"quero marcar dermatologia amanhã às 14h", "melhor na quinta", "sim"}},
    {"en other day same time", {"book dermatology tomorrow at 2pm", "can we do thursday instead?", "yes"}},
    {"pt no, another hour", {"quero marcar dermatologia na terça às 8h", "não, prefiro às 10h", "sim"}},
    {"pt other time button", {"quero marcar cardiologia amanhã às 14h", "[tap other_time]", "[tap 1]", "sim"}},
    {"pt other service", {"quero marcar cardiologia amanhã às 11h", "pensando bem, quero dermatologia", "sim"}},
    // -- English
    {"en one-shot", {"I'd like to book a cardiology appointment tomorrow at 2pm", "yes"}},
    {"en one-shot with a doctor", {"book general practice with dr carlos on thursday at 10am", "confirm"}},
    {"en day of month", {"schedule a dermatology visit for the 25th at 10am", "sure"}},
    {"en morning", {"can I see a dermatologist on friday morning?", "[tap 1]", "yes please"}},
    {"en openings", {"any slots for cardiology on wednesday afternoon?", "[tap 1]", "yes"}},
    {"en partial", {"I need an appointment", "dermatology", "tomorrow at 3pm", "yes"}},
    {"en step by step", {"hi", "I want to book an appointment", "[tap 3]", "[tap 1]", "[tap confirm]"}},
    {"en change of time", {"book cardiology friday 9am", "actually make it 11am", "yes"}},
    {"en doctor by name", {"I want to see dr ana next monday at 10", "cardiology", "yes"}},
    {"en check-up next week", {"hello, I need a check-up next week", "[tap 1]", "yes"}},
    {"en service then time", {"book me in for cardiology", "thursday at 4pm", "ok"}},
    {"en morning then hour", {"I'd like to book dermatology tomorrow morning", "10am", "yes"}},
  };
  return all;
}

} // namespace

TEST_CASE("booking dialogs: every scripted dialog ends booked, in a median of at most 4 patient messages",
          "[flow][dialogs]") {
  std::vector<int> counts;
  int booked = 0;
  for (auto& d : dialogs()) {
    patient p;
    for (auto& turn : d.turns) {
      if (p.booked)
        break;
      p.say(turn);
    }
    std::string transcript;
    for (auto& line : p.transcript)
      transcript += line + "\n";
    INFO(d.name << "\n" << transcript);
    CHECK(p.booked);
    CHECK(p.messages == static_cast<int>(d.turns.size())); // no message left over
    booked += p.booked;
    counts.push_back(p.messages);
    std::cout << "  " << d.name << ": " << p.messages << " patient messages" << (p.booked ? "" : " (NOT BOOKED)")
              << "\n";
  }
  std::sort(counts.begin(), counts.end());
  double median = counts.size() % 2 ? counts[counts.size() / 2]
                                    : (counts[counts.size() / 2 - 1] + counts[counts.size() / 2]) / 2.0;
  std::cout << "Booking dialogs: " << counts.size() << " dialogs, " << booked << " booked, median "
            << median << " patient messages per booking (max " << counts.back() << ")\n";
  CHECK(counts.size() >= 30);
  CHECK(booked == static_cast<int>(counts.size()));
  CHECK(median <= 4);
}
