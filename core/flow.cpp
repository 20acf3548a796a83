#include "core/flow.hpp"

#include <algorithm>
#include <utility>

#include "core/date_rules.hpp"
#include "core/flow_internal.hpp"
#include "core/flow_phrasing.hpp"
#include "core/format.hpp"
#include "core/reading.hpp"
#include "core/reminders.hpp"
#include "core/waitlist.hpp"

namespace atendeai::core {

using namespace detail;

namespace {

using namespace std::chrono;

// ---------------------------------------------------------------- catalogue lookups

bool performs(const professional& p, const std::string& service_id) {
  return std::find(p.service_ids.begin(), p.service_ids.end(), service_id) != p.service_ids.end();
}

// Active services that at least one active professional (the given one, if any) performs.
std::vector<const service*> bookable_services(const clinic_profile& c, const professional* only) {
  std::vector<const service*> out;
  for (const auto& s : c.services) {
    if (!s.active)
      continue;
    bool someone = false;
    for (const auto& p : c.professionals)
      if (p.active && performs(p, s.id) && (!only || only->id == p.id))
        someone = true;
    if (someone)
      out.push_back(&s);
  }
  return out;
}

// ---------------------------------------------------------------- reading a message

// What a patient message says about the flow beyond intent and entities: a tap on one of
// the flow's buttons or rows, or typed words read by core/reading.
struct signals {
  std::string norm;                                       // normalised text
  std::optional<std::string> service_choice;              // "service:<id>"
  std::optional<std::pair<std::string, instant>> slot_choice; // "slot:..."
  std::optional<std::string> appointment_choice;          // "appointment:<id>"
  std::optional<std::pair<reminder_answer, std::string>> reminder; // "remind:<answer>:<id>"
  int ordinal = 0;                                        // 1-based, -1 last, 0 none
  bool confirm = false;
  bool other_time = false;
  bool give_up = false; // "cancela", "desisto", ...
  bool quit = false;    // give-up words other than "cancel" ("desisto", "never mind")
  bool keep = false;    // "Não" on the cancel confirmation
  bool no = false;
  bool reply = false;   // an interactive reply
};

signals read_signals(const patient_message& m) {
  signals sg;
  sg.norm = normalize_text(m.text);
  if (m.reply_id && !m.reply_id->empty()) {
    sg.reply = true;
    const auto& id = *m.reply_id;
    if (id.rfind("service:", 0) == 0)
      sg.service_choice = id.substr(8);
    else if (id.rfind("slot:", 0) == 0)
      sg.slot_choice = parse_slot_choice_id(id);
    else if (id.rfind("appointment:", 0) == 0)
      sg.appointment_choice = id.substr(12);
    else if (id == "confirm")
      sg.confirm = true;
    else if (id == "other_time")
      sg.other_time = true;
    else if (id == "cancel")
      sg.give_up = sg.quit = true;
    else if (id == "keep")
      sg.keep = true;
    else
      sg.reminder = parse_reminder_choice(id);
    return sg;
  }
  const auto a = read_answer(sg.norm, m.u.entities.yes_no);
  sg.quit = a.quit;
  sg.give_up = a.give_up;
  sg.other_time = a.other_time;
  sg.confirm = a.yes;
  sg.no = a.no;
  sg.ordinal = a.choice;
  return sg;
}

bool has_flow_entities(const entities& e) {
  return e.service || e.professional || e.date || e.date_from || e.date_to || e.time || e.period ||
         !e.date_choices.empty();
}

// ---------------------------------------------------------------- the engine

struct engine {
  const flow_context& ctx;
  const date::time_zone* tz;
  date::year_month_day today;
  flow_transition t;

  flow_state& st() { return t.state; }
  bool en() const { return is_en(t.state.lang); }
  const clinic_profile& clinic() const { return ctx.clinic; }

  void say(outbound_message m) { t.messages.push_back(std::move(m)); }
  void say(std::string text) {
    outbound_message m;
    m.text = std::move(text);
    say(std::move(m));
  }
  void hold(const slot& s) { t.actions.push_back({flow_action_kind::hold_slot, s, {}}); }
  void release(const slot& s) { t.actions.push_back({flow_action_kind::release_hold, s, {}}); }
  void release_chosen() {
    if (st().chosen)
      release(*st().chosen);
    st().chosen.reset();
  }

  date::year_month_day last_day() const {
    return date::year_month_day{date::sys_days{today} +
                                date::days{std::max(0, ctx.clinic.policy.max_advance_days)}};
  }

  // Free slots of the flow's service over [from, to], minus the appointment being moved.
  std::vector<slot> query(const std::optional<std::string>& professional_id, date::year_month_day from,
                          date::year_month_day to) {
    if (!st().service_id || !ctx.find_slots)
      return {};
    slot_query q;
    q.service_id = *st().service_id;
    q.professional_id = professional_id;
    q.from = from;
    q.to = to;
    if (!st().hold_owner.empty())
      q.ignore_hold_owner = st().hold_owner;
    if (st().target)
      q.ignore_appointment_id = st().target->id;
    auto v = ctx.find_slots(q);
    if (st().target) {
      const auto& a = *st().target;
      v.erase(std::remove_if(v.begin(), v.end(),
                             [&](const slot& s) {
                               return s.professional_id == a.professional_id && s.start == a.start;
                             }),
              v.end());
    }
    return v;
  }

  // The whole booking window (today .. today + max_advance_days).
  std::vector<slot> window(const std::optional<std::string>& professional_id) {
    return query(professional_id, today, last_day());
  }

  std::vector<appointment> future_appointments() const {
    return upcoming_appointments(ctx.patient_appointments, ctx.now);
  }
};


// ---------------------------------------------------------------- prompts

void ask_service(engine& x, const std::string& prefix) {
  auto& st = x.st();
  const bool en = x.en();
  auto services = bookable_services(x.clinic(), find_professional(x.clinic(), st.professional_id));
  if (services.empty()) {
    x.say(en ? "Sorry, there are no services to book online right now. Shall I call someone from the front desk?"
             : "No momento não há serviços para agendar por aqui. Quer que eu chame alguém da recepção?");
    st.step = flow_step::cancelled;
    return;
  }
  std::vector<choice> rows;
  st.offered_services.clear();
  for (const auto* s : services) {
    if (rows.size() == max_list_rows)
      break;
    rows.push_back({"service:" + s->id, display_name(*s, st.lang), format_price(s->price_cents, st.lang)});
    st.offered_services.push_back(s->id);
  }
  std::string text = prefix.empty() ? (en ? "Sure! Which service are you looking for?"
                                          : "Claro! Qual serviço você procura?")
                                    : prefix + (en ? "Which service are you looking for?"
                                                   : "Qual serviço você procura?");
  x.say(list(text, rows, en ? "See services" : "Ver serviços"));
  st.offered_slots.clear();
  st.step = flow_step::service_selection;
}

outbound_message confirmation_prompt(engine& x) {
  auto& st = x.st();
  const bool en = x.en();
  const auto& s = *st.chosen;
  std::string text;
  if (st.kind == flow_kind::reschedule && st.target) {
    text = en ? "Shall I move your " + service_name(x.clinic(), s.service_id, en) + " appointment from " +
                    when_long(x.tz, st.target->start, true) + " to " + when_prompt(x.tz, s.start, true).substr(3) +
                    ", " + with_professional(x.clinic(), s.professional_id, true) + "?"
              : "Posso remarcar sua consulta de " + service_name(x.clinic(), s.service_id, en) + " de " +
                    when_long(x.tz, st.target->start, false) + " para " +
                    when_prompt(x.tz, s.start, false).substr(3) + ", " +
                    with_professional(x.clinic(), s.professional_id, false) + "?";
  } else {
    text = (en ? "Shall I confirm " : "Posso confirmar ") +
           join_words({service_name(x.clinic(), s.service_id, en), with_professional(x.clinic(), s.professional_id, en),
                       when_prompt(x.tz, s.start, en)}) +
           "?";
  }
  return buttons(text, {{"confirm", en ? "Confirm" : "Confirmar", {}},
                        {"other_time", en ? "Other time" : "Outro horário", {}},
                        {"cancel", en ? "Cancel" : "Cancelar", {}}});
}

void choose_slot(engine& x, const slot& s, const std::string& prefix = {}) {
  auto& st = x.st();
  if (st.chosen && *st.chosen != s)
    x.release(*st.chosen);
  if (!st.chosen || *st.chosen != s)
    x.hold(s);
  st.chosen = s;
  st.step = flow_step::confirmation;
  auto m = confirmation_prompt(x);
  m.text = prefix + m.text;
  x.say(std::move(m));
}

// Why slots are being offered; decides the opening sentence.
enum class offer_mode { normal, other_time, taken, reschedule_intro, not_understood };

bool same_professional(const std::vector<slot>& v) {
  return !v.empty() && std::all_of(v.begin(), v.end(), [&](const slot& s) {
    return s.professional_id == v.front().professional_id;
  });
}

bool same_day(const engine& x, const std::vector<slot>& v) {
  return !v.empty() && std::all_of(v.begin(), v.end(), [&](const slot& s) {
    return local_date(x.tz, s.start) == local_date(x.tz, v.front().start);
  });
}

// Describes the patient's wish: "amanhã (ter 24/11) de manhã", "às 14:00".
std::string preference_phrase(engine& x, bool sentence_start) {
  auto& st = x.st();
  const bool en = x.en();
  std::string day;
  if (st.date)
    day = day_phrase(*st.date, x.today, en, false);
  else if (st.date_from && st.date_to)
    day = (en ? "between " : "entre ") + format_ddmm(*st.date_from) + (en ? " and " : " e ") +
          format_ddmm(*st.date_to);
  else if (st.date_from)
    day = (en ? "from " : "a partir de ") + format_ddmm(*st.date_from);
  std::string s = join_words({day, st.period ? period_phrase(*st.period, en) : std::string{},
                              st.time ? (en ? "at " : "às ") + format_hhmm(*st.time) : std::string{}});
  return sentence_start ? capitalize(s) : s;
}

// The instant the patient aimed at, for "the nearest" when nothing matched.
instant preference_target(engine& x) {
  auto& st = x.st();
  auto day = st.date ? *st.date : st.date_from ? *st.date_from : x.today;
  minute_of_day m = st.time ? *st.time
                    : st.period ? (*st.period == day_period::morning     ? 6 * 60
                                   : *st.period == day_period::afternoon ? 12 * 60
                                                                         : 18 * 60)
                                : 0;
  auto t = local_instant(x.tz, day, m);
  if (!t || *t < x.ctx.now)
    return x.ctx.now;
  return *t;
}

// Shows slots as buttons (≤ 3, one professional; "HH:MM" when all fall on `day`) or a list.
void present_slots(engine& x, const std::string& text, const std::vector<slot>& top3,
                   const std::vector<slot>& rows, bool prefer_buttons,
                   std::optional<date::year_month_day> day) {
  auto& st = x.st();
  const bool en = x.en();
  if (prefer_buttons && same_professional(top3) && top3.size() <= max_buttons) {
    bool one_day = day && same_day(x, top3) && local_date(x.tz, top3.front().start) == *day;
    std::vector<choice> bs;
    for (const auto& s : top3)
      bs.push_back({slot_choice_id(s),
                    one_day ? format_hhmm(local_minute(x.tz, s.start)) : when_short(x.tz, s.start, en), {}});
    x.say(buttons(text, std::move(bs)));
    st.offered_slots = top3;
  } else {
    std::vector<choice> rs;
    for (const auto& s : rows) {
      const auto* p = find_professional(x.clinic(), s.professional_id);
      rs.push_back({slot_choice_id(s), when_short(x.tz, s.start, en), p ? p->name : std::string{}});
    }
    x.say(list(text, std::move(rs), en ? "See times" : "Ver horários"));
    st.offered_slots = rows;
  }
  st.offered_services.clear();
  st.step = flow_step::date_time;
}

// Offers slots for the flow's service and preferences, or goes straight to confirmation
// when the patient named a free day and time.
void offer(engine& x, offer_mode mode, std::optional<instant> anchor = {},
           const std::vector<slot>* given = nullptr, std::string note = {}) {
  auto& st = x.st();
  const bool en = x.en();
  const auto& c = x.clinic();
  std::vector<slot> all = given ? *given : x.window(st.professional_id);
  if (anchor && mode == offer_mode::other_time)
    all.erase(std::remove_if(all.begin(), all.end(), [&](const slot& s) { return s.start == *anchor; }),
              all.end());
  if (all.empty() && st.professional_id && !given) {
    auto any = x.window(std::nullopt);
    if (!any.empty()) {
      note += capitalize(professional_ref(c, *st.professional_id, en)) +
              (en ? " has no free times in the coming days. " : " não tem horários livres nos próximos dias. ");
      st.professional_id.reset();
      all = std::move(any);
    }
  }
  const auto svc = service_name(c, st.service_id.value_or(""), en);
  if (all.empty()) {
    const int days = c.policy.max_advance_days;
    std::string text = mode == offer_mode::taken
                           ? (en ? "That time was just booked by someone else 😕 "
                                 : "Esse horário acabou de ser reservado 😕 ")
                           : std::string{};
    st.offered_slots.clear();
    if (st.kind == flow_kind::book && st.service_id) {
      // The service's waitlist: the patient is told when a time opens up.
      text += en ? "I couldn't find free times for " + svc + " in the next " + std::to_string(days) +
                       " days. Shall I put you on the waitlist? I'll message you as soon as a time opens up "
                       "(or, if you prefer, I can call someone from the front desk)."
                 : "Não encontrei horários livres de " + svc + " nos próximos " + std::to_string(days) +
                       " dias. Quer entrar na lista de espera? Aviso aqui assim que abrir um horário "
                       "(se preferir, posso chamar alguém da recepção).";
      x.say(buttons(note + text, {{"confirm", en ? "Join the waitlist" : "Entrar na lista", {}},
                                  {"cancel", en ? "No, thanks" : "Não, obrigado", {}}}));
      st.step = flow_step::waitlist;
      return;
    }
    text += en ? "I couldn't find free times for " + svc + " in the next " + std::to_string(days) +
                     " days. Shall I call someone from the front desk?"
               : "Não encontrei horários livres de " + svc + " nos próximos " + std::to_string(days) +
                     " dias. Quer que eu chame alguém da recepção?";
    x.say(note + text);
    st.step = flow_step::cancelled;
    return;
  }

  // A free day and time named: straight to confirmation.
  if (st.date && st.time && mode != offer_mode::taken) {
    for (const auto& s : all)
      if (local_date(x.tz, s.start) == *st.date && local_minute(x.tz, s.start) == *st.time &&
          (mode != offer_mode::other_time || !anchor || s.start != *anchor)) {
        choose_slot(x, s, note);
        return;
      }
  }

  slot_preference pref;
  pref.date = st.date;
  pref.date_from = st.date_from;
  pref.date_to = st.date_to;
  pref.period = st.period;
  pref.time = st.time;
  std::vector<slot> top3, rows;
  bool missed = false;
  if (mode == offer_mode::taken && anchor) {
    top3 = nearest_slots(all, *anchor, max_buttons);
    rows = nearest_slots(all, *anchor, max_list_rows);
  } else {
    top3 = suggest_slots(all, pref, max_buttons, x.tz);
    rows = suggest_slots(all, pref, max_list_rows, x.tz);
    bool exact_missed = st.date && st.time; // a free exact match returned above
    if (top3.empty() || exact_missed) {
      missed = true;
      if (top3.empty()) {
        auto target = preference_target(x);
        top3 = nearest_slots(all, target, max_buttons);
        rows = nearest_slots(all, target, max_list_rows);
      }
    }
  }

  const bool one_prof = same_professional(rows);
  const std::string who = one_prof ? with_professional(c, rows.front().professional_id, en) : std::string{};
  std::string text;
  bool prefer_buttons = st.date.has_value() || missed || mode == offer_mode::taken;
  if (mode == offer_mode::taken) {
    text = en ? "That time was just booked by someone else 😕 The nearest are:"
              : "Esse horário acabou de ser reservado 😕 Os mais próximos são:";
  } else if (missed) {
    text = en ? "I have no free time " + preference_phrase(x, false) + " 😕 The nearest are:"
              : "Não tenho horário livre " + preference_phrase(x, false) + " 😕 Os mais próximos são:";
  } else if (mode == offer_mode::reschedule_intro && !st.date && !st.date_from && !st.date_to && !st.time &&
             !st.period) {
    text = en ? "When would you like to move it to?" : "Para quando quer mudar?";
  } else if (st.date && same_professional(top3)) {
    text = join_words({day_phrase(*st.date, x.today, en, true),
                       st.period ? period_phrase(*st.period, en) : std::string{},
                       en ? "I have these times " + with_professional(c, top3.front().professional_id, true) + ":"
                          : "tenho " + with_professional(c, top3.front().professional_id, false) + ":"});
  } else if (st.date) {
    text = join_words({day_phrase(*st.date, x.today, en, true),
                       st.period ? period_phrase(*st.period, en) : std::string{},
                       en ? "I have these times for " + svc + ":" : "tenho estes horários de " + svc + ":"});
  } else {
    std::string lead = mode == offer_mode::other_time
                           ? (en ? "No problem! Here are other times for " : "Sem problema! Estes são outros horários de ")
                       : mode == offer_mode::not_understood
                           ? (en ? "Sorry, I didn't get that 😅 These are the next times for "
                                 : "Desculpe, não entendi 😅 Estes são os próximos horários de ")
                           : (en ? "These are the next times for " : "Estes são os próximos horários de ");
    std::string wish = preference_phrase(x, false);
    text = lead + join_words({svc, who, wish}) + ":";
  }
  if (mode == offer_mode::reschedule_intro && st.target) {
    const auto& a = *st.target;
    text = (en ? "Your " + service_name(c, a.service_id, en) + " appointment is on " + when_long(x.tz, a.start, true) + ". "
               : "Sua consulta de " + service_name(c, a.service_id, en) + " é " + when_long(x.tz, a.start, false) + ". ") +
           text;
  }
  std::optional<date::year_month_day> day = st.date;
  if (mode == offer_mode::taken && anchor)
    day = local_date(x.tz, *anchor);
  present_slots(x, note + text, top3, rows, prefer_buttons, day);
}

// Re-shows the current choices after a message that could not be matched.
void reprompt(engine& x) {
  auto& st = x.st();
  const bool en = x.en();
  if (st.step == flow_step::confirmation && st.chosen) {
    auto m = confirmation_prompt(x);
    m.text = (en ? "Sorry, I didn't get that 😅 " : "Desculpe, não entendi 😅 ") + m.text;
    x.say(std::move(m));
    return;
  }
  if (st.step == flow_step::date_time && !st.offered_slots.empty()) {
    std::vector<slot> shown = st.offered_slots;
    std::string text = en ? "Sorry, I didn't get that 😅 Pick one of these times or tell me the day and time you prefer:"
                          : "Desculpe, não entendi 😅 Escolha um destes horários ou me diga o dia e o horário que prefere:";
    std::optional<date::year_month_day> day;
    if (same_day(x, shown))
      day = local_date(x.tz, shown.front().start);
    present_slots(x, text, shown, shown, shown.size() <= max_buttons, day);
    return;
  }
  offer(x, offer_mode::not_understood);
}

void give_up(engine& x) {
  auto& st = x.st();
  const bool en = x.en();
  x.release_chosen();
  switch (st.kind) {
    case flow_kind::book:
      x.say(en ? "No problem, I've stopped this booking. Message me whenever you want to book 🙂"
               : "Tudo bem, cancelei este agendamento. Se quiser marcar depois, é só me chamar 🙂");
      break;
    case flow_kind::reschedule:
      if (st.target)
        x.say(en ? "No problem, your " + service_name(x.clinic(), st.target->service_id, en) + " appointment stays on " +
                       when_long(x.tz, st.target->start, true) + "."
                 : "Tudo bem, sua consulta de " + service_name(x.clinic(), st.target->service_id, en) +
                       " continua " + when_long(x.tz, st.target->start, false) + ".");
      else
        x.say(en ? "No problem, I've left everything as it was." : "Tudo bem, deixei tudo como estava.");
      break;
    case flow_kind::cancel:
    case flow_kind::confirm:
      x.say(en ? "No problem, your appointment stays booked." : "Tudo bem, sua consulta continua marcada.");
      break;
  }
  st.offered_slots.clear();
  st.offered_services.clear();
  st.offered_appointments.clear();
  st.step = flow_step::cancelled;
}

// Matches typed text ("9h", "qua 25/11 14:00") against the offered slots.
std::optional<slot> match_offered(engine& x, const entities& e) {
  const auto& st = x.st();
  if (!e.time)
    return std::nullopt;
  for (const auto& s : st.offered_slots) {
    if (local_minute(x.tz, s.start) != *e.time)
      continue;
    if (e.date && local_date(x.tz, s.start) != *e.date)
      continue;
    if (e.professional && s.professional_id != *e.professional)
      continue;
    return s;
  }
  return std::nullopt;
}

std::optional<slot> pick_by_ordinal(const std::vector<slot>& offered, int ordinal) {
  if (ordinal == 0 || offered.empty())
    return std::nullopt;
  if (ordinal == -1)
    return offered.back();
  if (static_cast<std::size_t>(ordinal) > offered.size())
    return std::nullopt;
  return offered[static_cast<std::size_t>(ordinal) - 1];
}

// The patient picked (professional, start): confirm it if still free, else the nearest.
void pick_slot(engine& x, const std::string& professional_id, instant start) {
  auto& st = x.st();
  if (!st.service_id) {
    for (const auto& s : st.offered_slots)
      if (s.professional_id == professional_id && s.start == start)
        st.service_id = s.service_id;
    if (!st.service_id) {
      ask_service(x, {});
      return;
    }
  }
  auto day = local_date(x.tz, start);
  for (const auto& s : x.query(professional_id, day, day))
    if (s.start == start) {
      choose_slot(x, s);
      return;
    }
  x.release_chosen();
  offer(x, offer_mode::taken, start);
}

// Booking (and the slot part of rescheduling): fills what is missing, in any order.
void fill_slot(engine& x, const patient_message& m, const signals& sg) {
  auto& st = x.st();
  const auto& e = m.u.entities;
  const auto& c = x.clinic();
  const bool en = x.en();

  // Choices of the current step.
  std::optional<std::string> picked_service = sg.service_choice;
  if (st.step == flow_step::service_selection && !picked_service && !e.service) {
    if (sg.ordinal > 0 && static_cast<std::size_t>(sg.ordinal) <= st.offered_services.size())
      picked_service = st.offered_services[static_cast<std::size_t>(sg.ordinal) - 1];
    else if (sg.ordinal == -1 && !st.offered_services.empty())
      picked_service = st.offered_services.back();
    else
      for (const auto& id : st.offered_services) {
        const auto* s = find_service(c, id);
        if (s && !sg.norm.empty() && (has_phrase(sg.norm, normalize_text(s->name)) ||
                                        (!s->name_en.empty() && has_phrase(sg.norm, normalize_text(s->name_en)))))
          picked_service = id;
      }
  }
  std::optional<std::pair<std::string, instant>> picked_slot = sg.slot_choice;
  if (!picked_slot && (st.step == flow_step::date_time || st.step == flow_step::confirmation)) {
    std::optional<slot> s = pick_by_ordinal(st.offered_slots, sg.ordinal);
    if (!s && !e.service)
      s = match_offered(x, e);
    if (s)
      picked_slot = std::make_pair(s->professional_id, s->start);
  }

  // Answers to the confirmation question.
  const bool new_info = picked_slot || picked_service || has_flow_entities(e);
  if (st.step == flow_step::confirmation && st.chosen && !new_info) {
    if (sg.other_time || sg.no) {
      auto previous = st.chosen->start;
      x.release_chosen();
      st.time.reset();
      offer(x, offer_mode::other_time, previous);
      return;
    }
    if (sg.confirm) {
      if (st.kind == flow_kind::reschedule && st.target)
        x.t.actions.push_back({flow_action_kind::reschedule, st.chosen, st.target->id});
      else
        x.t.actions.push_back({flow_action_kind::book, st.chosen, {}});
      st.awaiting_clinic = true;
      return;
    }
    reprompt(x);
    return;
  }
  if (st.step == flow_step::date_time && sg.other_time && !new_info) {
    std::optional<instant> last_shown;
    if (!st.offered_slots.empty())
      last_shown = st.offered_slots.back().start;
    st.date.reset();
    st.date_from.reset();
    st.date_to.reset();
    st.time.reset();
    st.period.reset();
    // Show what comes after the last one offered.
    auto all = x.window(st.professional_id);
    if (last_shown) {
      std::vector<slot> later;
      for (const auto& s : all)
        if (s.start > *last_shown)
          later.push_back(s);
      if (!later.empty())
        all = std::move(later);
    }
    offer(x, offer_mode::other_time, std::nullopt, &all);
    return;
  }

  // A slot picked from the choices or typed.
  if (picked_slot) {
    pick_slot(x, picked_slot->first, picked_slot->second);
    return;
  }

  // Merge what the message says into the preferences (a change of mind replaces).
  bool changed = false;
  std::string note;
  auto new_service = picked_service ? picked_service : e.service;
  if (st.kind == flow_kind::book && new_service && new_service != st.service_id) {
    st.service_id = new_service;
    changed = true;
    const auto* p = find_professional(c, st.professional_id);
    if (p && !performs(*p, *st.service_id))
      st.professional_id.reset();
  }
  if (e.professional && e.professional != st.professional_id) {
    const auto* p = find_professional(c, e.professional);
    if (p && st.service_id && !performs(*p, *st.service_id)) {
      note = capitalize(professional_ref(c, p->id, en)) + (en ? " does not do " : " não atende ") +
             service_name(c, *st.service_id, en) + ". ";
    } else if (p) {
      st.professional_id = e.professional;
      changed = true;
    }
  }
  // "melhor na quinta" while a time waits for confirmation: the same time on that day.
  const bool same_time_other_day = e.date && !e.time && !e.period && st.step == flow_step::confirmation
                                   && st.chosen && local_date(x.tz, st.chosen->start) != *e.date;
  if (e.date) {
    st.date = e.date;
    st.date_from.reset();
    st.date_to.reset();
    if (same_time_other_day)
      st.time = local_minute(x.tz, st.chosen->start);
    else if (!e.time)
      st.time.reset();
    if (!e.period)
      st.period.reset();
    changed = true;
  } else if (e.date_from || e.date_to) {
    st.date.reset();
    st.date_from = e.date_from;
    st.date_to = e.date_to;
    if (!e.time)
      st.time.reset();
    if (!e.period)
      st.period.reset();
    changed = true;
  }
  if (e.time) {
    st.time = e.time;
    if (!e.period)
      st.period.reset();
    changed = true;
  }
  if (e.period) {
    st.period = e.period;
    if (!e.time)
      st.time.reset();
    changed = true;
  }

  // "sexta dia 5" when no 5th is a Friday: which one?
  if (!e.date && e.date_choices.size() == 2) {
    std::vector<choice> days;
    for (const auto& d : e.date_choices)
      days.push_back({"date:" + format_ymd(d), weekday_name(weekday_of(d), st.lang, false) + ", " + format_ddmm(d), {}});
    auto question = en ? "Which day did you mean: " + days[0].title + " or " + days[1].title + "?"
                       : "Qual dia você quis dizer: " + days[0].title + " ou " + days[1].title + "?";
    x.say(buttons(std::move(question), std::move(days)));
    if (st.step == flow_step::start)
      st.step = flow_step::date_time;
    return;
  }
  if (!st.service_id) {
    auto services = bookable_services(c, find_professional(c, st.professional_id));
    if (services.size() == 1) {
      st.service_id = services.front()->id;
    } else {
      bool lost = st.step == flow_step::service_selection && !changed;
      ask_service(x, note + (lost ? (en ? "I couldn't find that service 😅 " : "Não encontrei esse serviço 😅 ")
                                  : std::string{}));
      return;
    }
  }
  if (changed && st.chosen)
    x.release_chosen();
  if (!changed && (st.step == flow_step::date_time || st.step == flow_step::confirmation)) {
    if (note.empty())
      reprompt(x);
    else
      offer(x, offer_mode::normal, std::nullopt, nullptr, note);
    return;
  }
  offer(x, st.kind == flow_kind::reschedule && st.step == flow_step::start ? offer_mode::reschedule_intro
                                                                         : offer_mode::normal,
        std::nullopt, nullptr, note);
}

void ask_which_appointment(engine& x, const std::vector<appointment>& appts, const std::string& prefix) {
  auto& st = x.st();
  const bool en = x.en();
  std::vector<choice> rows;
  st.offered_appointments.clear();
  for (const auto& a : appts) {
    if (rows.size() == max_list_rows)
      break;
    const auto* p = find_professional(x.clinic(), a.professional_id);
    rows.push_back({"appointment:" + a.id, when_short(x.tz, a.start, en),
                    service_name(x.clinic(), a.service_id, en) + (p ? " — " + p->name : std::string{})});
    st.offered_appointments.push_back(a);
  }
  std::string q = st.kind == flow_kind::cancel
                      ? (en ? "Which appointment do you want to cancel?" : "Qual consulta você quer cancelar?")
                      : (en ? "Which appointment do you want to reschedule?" : "Qual consulta você quer remarcar?");
  x.say(list(prefix + q, std::move(rows), en ? "See appointments" : "Ver consultas"));
  st.step = flow_step::service_selection;
}

void ask_cancel_confirmation(engine& x, const std::string& prefix = {}) {
  auto& st = x.st();
  const bool en = x.en();
  const auto& a = *st.target;
  std::string text = (en ? "Do you want to cancel " : "Quer cancelar ") +
                     appointment_summary(x.clinic(), x.tz, a.service_id, a.professional_id, a.start, en) + "?";
  x.say(buttons(prefix + text, {{"confirm", en ? "Yes, cancel" : "Sim, cancelar", {}}, {"keep", en ? "No" : "Não", {}}}));
  st.step = flow_step::confirmation;
}

// Reschedule and cancel: pick one of the patient's appointments first.
void manage_appointment(engine& x, const patient_message& m, const signals& sg) {
  auto& st = x.st();
  const auto& e = m.u.entities;
  const bool en = x.en();
  // In a cancel flow "cancela" means yes; only "desisto"-like words give up.
  if (st.kind == flow_kind::cancel ? sg.quit : sg.give_up) {
    give_up(x);
    return;
  }
  if (!st.target) {
    auto appts = x.future_appointments();
    if (appts.empty()) {
      x.say(en ? "You have no appointments booked at the moment." : "Você não tem consultas marcadas no momento.");
      st.step = flow_step::done;
      return;
    }
    std::optional<appointment> pick;
    bool entities_used = false;
    std::vector<appointment> candidates = appts;
    if (sg.appointment_choice) {
      for (const auto& a : appts)
        if (a.id == *sg.appointment_choice)
          pick = a;
    } else if (st.step == flow_step::service_selection && sg.ordinal != 0 && !st.offered_appointments.empty()) {
      const auto& off = st.offered_appointments;
      if (sg.ordinal == -1)
        pick = off.back();
      else if (static_cast<std::size_t>(sg.ordinal) <= off.size())
        pick = off[static_cast<std::size_t>(sg.ordinal) - 1];
    } else {
      std::vector<appointment> filtered;
      // "de amanhã para sexta": the appointment is tomorrow's, the time after "para" is the wish.
      const auto& day = e.original_date ? e.original_date : e.date;
      const bool time_of_it = e.time && !e.new_date;
      for (const auto& a : appts) {
        if (day && local_date(x.tz, a.start) != *day)
          continue;
        if (time_of_it && local_minute(x.tz, a.start) != *e.time)
          continue;
        if (e.service && a.service_id != *e.service)
          continue;
        if (e.professional && a.professional_id != *e.professional)
          continue;
        filtered.push_back(a);
      }
      if ((day || time_of_it || e.service || e.professional) && !filtered.empty()) {
        candidates = filtered;
        entities_used = true;
      }
      if (candidates.size() == 1)
        pick = candidates.front();
    }
    if (!pick) {
      bool lost = st.step == flow_step::service_selection;
      ask_which_appointment(x, candidates,
                            lost ? (en ? "Sorry, I didn't get which one 😅 " : "Desculpe, não entendi qual 😅 ")
                                 : std::string{});
      return;
    }
    st.target = pick;
    st.offered_appointments.clear();
    st.service_id = pick->service_id;
    st.professional_id = pick->professional_id;
    if (st.kind == flow_kind::cancel) {
      ask_cancel_confirmation(x);
      return;
    }
    // Reschedule: what the message said beyond choosing the appointment is the new wish.
    patient_message rest = m;
    if (entities_used) {
      rest.u.entities.date.reset();
      rest.u.entities.time.reset();
      rest.u.entities.service.reset();
      rest.u.entities.professional.reset();
    }
    if (e.new_date) { // where the patient wants it moved stays the wish
      rest.u.entities.date = e.new_date;
      rest.u.entities.time = e.time;
    }
    rest.u.entities.service.reset();
    st.step = flow_step::start;
    signals none;
    none.norm = sg.norm;
    fill_slot(x, rest, none);
    return;
  }
  if (st.kind == flow_kind::cancel) {
    if (sg.keep || sg.no) {
      st.step = flow_step::cancelled;
      x.say(en ? "No problem, your appointment stays booked." : "Tudo bem, sua consulta continua marcada.");
      return;
    }
    if (sg.confirm || sg.give_up || m.u.intent == intent::cancel) { // quit was handled above
      x.t.actions.push_back({flow_action_kind::cancel_appointment, std::nullopt, st.target->id});
      st.awaiting_clinic = true;
      return;
    }
    ask_cancel_confirmation(x, en ? "Sorry, I didn't get that 😅 " : "Desculpe, não entendi 😅 ");
    return;
  }
  fill_slot(x, m, sg);
}

void reset_for(engine& x, flow_kind kind) {
  auto& st = x.st();
  x.release_chosen();
  flow_state fresh = new_flow(st.hold_owner, x.ctx.now, st.lang);
  fresh.started_at = st.started_at;
  fresh.kind = kind;
  st = std::move(fresh);
}

// A tap on (or typed answer to) a reminder's Confirmar / Remarcar / Cancelar: about one of
// this patient's active future appointments, or not for the flow at all (another
// patient's appointment, a forged or stale payload: answered like any unknown message).
void answer_reminder(engine& x, const patient_message& m, const std::pair<reminder_answer, std::string>& r) {
  std::optional<appointment> target;
  for (const auto& a : x.future_appointments())
    if (a.id == r.second)
      target = a;
  if (!target || x.st().awaiting_clinic) {
    x.t.consumed = false;
    return;
  }
  auto& st = x.st();
  reset_for(x, r.first == reminder_answer::confirm      ? flow_kind::confirm
               : r.first == reminder_answer::reschedule ? flow_kind::reschedule
                                                        : flow_kind::cancel);
  st.last_activity = x.ctx.now;
  st.target = target;
  st.service_id = target->service_id;
  st.professional_id = target->professional_id;
  switch (r.first) {
    case reminder_answer::confirm:
      x.t.actions.push_back({flow_action_kind::confirm_appointment, std::nullopt, target->id});
      st.awaiting_clinic = true;
      return;
    case reminder_answer::cancel:
      ask_cancel_confirmation(x);
      return;
    case reminder_answer::reschedule: {
      signals none;
      none.norm = normalize_text(m.text);
      fill_slot(x, m, none);
      return;
    }
  }
}

void on_message(engine& x, const patient_message& m, const flow_state& original) {
  auto& st = x.st();
  const auto in = m.u.intent;
  const bool scheduling = in == intent::book || in == intent::reschedule || in == intent::cancel ||
                          in == intent::my_appointments;
  signals sg = read_signals(m);
  const auto& e = m.u.entities;

  if (sg.reminder) {
    answer_reminder(x, m, *sg.reminder);
    return;
  }
  if (is_terminal(st.step)) {
    if (!scheduling && !e.service) {
      x.t.consumed = false;
      return;
    }
    flow_state fresh = new_flow(st.hold_owner, x.ctx.now, st.lang);
    st = std::move(fresh);
  }
  if (st.step == flow_step::start && !scheduling && !e.service && !e.professional && !sg.reply) {
    x.t.consumed = false;
    return;
  }
  // Small talk and questions in the middle of a flow belong to the conversation. An
  // hours question naming a day or time while slots are on the table is about slots.
  // Asked to join the waitlist, "não, obrigado" and "pode ser" answer that question.
  const auto waitlist_typed =
    st.step == flow_step::waitlist && !sg.reply ? read_waitlist_answer(m.text) : std::nullopt;
  const bool flow_signal =
    sg.reply || sg.give_up || sg.other_time || sg.confirm || sg.ordinal != 0 || waitlist_typed.has_value();
  const bool slot_talk = (st.step == flow_step::date_time || st.step == flow_step::confirmation) &&
                         (e.date || e.date_from || e.time || e.period);
  const bool aside = (in == intent::greeting && !has_flow_entities(e) && !e.yes_no) ||
                     (in == intent::hours && !slot_talk) || in == intent::services ||
                     in == intent::location || in == intent::human || in == intent::goodbye;
  if (st.step != flow_step::start && !flow_signal && aside) {
    x.t.state = original;
    x.t.consumed = false;
    return;
  }

  // The language follows the patient, but short replies ("ok", "9h", "25/11") are too
  // short to tell and keep it.
  if (!m.u.lang.empty() && !sg.reply && (st.step == flow_step::start || tells_language(sg.norm)))
    st.lang = m.u.lang;
  st.last_activity = x.ctx.now;
  if (st.started_at == instant{})
    st.started_at = x.ctx.now;
  const bool en = x.en();

  if (st.awaiting_clinic) {
    x.say(en ? "Just a moment, I'm finishing that for you… ⏳" : "Só um instante, estou finalizando para você… ⏳");
    return;
  }
  if (in == intent::my_appointments && !sg.reply) {
    x.say(my_appointments_reply(x.clinic(), x.ctx.patient_appointments, x.ctx.now, st.lang));
    if (st.step == flow_step::start)
      st.step = flow_step::done;
    return;
  }

  // Asked to join the waitlist: yes joins it, no ends the flow; a new wish (another day,
  // professional, service) is looked up again below.
  if (st.step == flow_step::waitlist && !has_flow_entities(e)) {
    const auto& typed = waitlist_typed;
    if (sg.confirm || typed == waitlist_answer::accept) {
      x.t.actions.push_back({flow_action_kind::join_waitlist, std::nullopt, {}});
      st.awaiting_clinic = true;
      return;
    }
    if (sg.give_up || sg.no || typed == waitlist_answer::decline) {
      x.say(en ? "All right! If you'd like to try other dates or talk to the front desk, just message me 🙂"
               : "Tudo bem! Se quiser tentar outras datas ou falar com a recepção, é só me chamar 🙂");
      st.step = flow_step::cancelled;
      return;
    }
  }

  // Which flow this is, and switches between them (only on explicit words, since short
  // answers are easily mislabelled).
  const bool mine = has_any_phrase(sg.norm, mine_words()) && has_any_phrase(sg.norm, appointment_words());
  if (st.step == flow_step::start) {
    st.kind = in == intent::reschedule ? flow_kind::reschedule
              : in == intent::cancel   ? flow_kind::cancel
                                       : flow_kind::book;
  } else if (!sg.reply) {
    const bool says_reschedule = has_any_phrase(sg.norm, reschedule_words());
    const bool says_book = has_any_phrase(sg.norm, book_words());
    if (in == intent::reschedule && st.kind != flow_kind::reschedule && says_reschedule && !sg.other_time) {
      auto target = st.kind == flow_kind::cancel ? st.target : std::nullopt;
      reset_for(x, flow_kind::reschedule);
      st.target = target;
    } else if (in == intent::cancel && st.kind == flow_kind::reschedule && (mine || sg.norm.find("consulta") != std::string::npos)) {
      auto target = st.target;
      reset_for(x, flow_kind::cancel);
      st.target = target;
    } else if (in == intent::cancel && st.kind == flow_kind::book && mine && st.step != flow_step::confirmation) {
      reset_for(x, flow_kind::cancel);
    } else if (in == intent::book && st.kind != flow_kind::book && !st.target && says_book && !sg.give_up) {
      reset_for(x, flow_kind::book);
    }
  }
  if (st.kind == flow_kind::book) {
    if (sg.give_up) {
      give_up(x);
      return;
    }
    fill_slot(x, m, sg);
    return;
  }
  if (st.kind == flow_kind::cancel && st.target && st.step == flow_step::start) {
    ask_cancel_confirmation(x);
    return;
  }
  if (st.kind == flow_kind::reschedule && st.target && st.step == flow_step::start) {
    st.service_id = st.target->service_id;
    st.professional_id = st.target->professional_id;
    signals none;
    none.norm = sg.norm;
    fill_slot(x, m, none);
    return;
  }
  manage_appointment(x, m, sg);
}

void on_result(engine& x, const clinic_result& r) {
  auto& st = x.st();
  const bool en = x.en();
  if (is_terminal(st.step))
    return; // a late or repeated answer: nothing more to say
  st.awaiting_clinic = false;
  switch (r.what) {
    case clinic_result::outcome::booked:
    case clinic_result::outcome::rescheduled: {
      appointment a;
      if (r.appointment) {
        a = *r.appointment;
      } else if (st.chosen) {
        a.professional_id = st.chosen->professional_id;
        a.service_id = st.chosen->service_id;
        a.start = st.chosen->start;
        a.end = st.chosen->end;
        if (st.target)
          a.id = st.target->id;
      }
      x.say(confirmed_text(x.clinic(), a, en, r.what == clinic_result::outcome::rescheduled));
      st.result = a;
      st.chosen.reset();
      st.offered_slots.clear();
      st.step = flow_step::done;
      return;
    }
    case clinic_result::outcome::cancelled:
      x.say(en ? "Appointment cancelled. If you want to book another one, just message me."
               : "Consulta cancelada. Se quiser marcar outra, é só me chamar.");
      st.result = r.appointment ? r.appointment : st.target;
      if (st.result)
        st.result->status = appointment_status::cancelled;
      st.step = flow_step::done;
      return;
    case clinic_result::outcome::confirmed: {
      auto a = r.appointment ? *r.appointment : st.target.value_or(appointment{});
      x.say(reminder_confirmed_text(x.clinic(), a, en));
      st.result = a;
      st.result->status = appointment_status::confirmed;
      st.step = flow_step::done;
      return;
    }
    case clinic_result::outcome::slot_taken: {
      if (st.kind == flow_kind::cancel)
        break;
      auto anchor = st.chosen ? st.chosen->start : x.ctx.now;
      x.release_chosen();
      offer(x, offer_mode::taken, anchor, r.alternatives.empty() ? nullptr : &r.alternatives);
      return;
    }
    case clinic_result::outcome::waitlisted:
      x.say(waitlist_joined_text(x.clinic(), waitlist_wish_of(st), en));
      st.step = flow_step::done;
      return;
    case clinic_result::outcome::not_found:
      break;
  }
  x.release_chosen();
  if (st.kind == flow_kind::book)
    x.say(en ? "Sorry, I couldn't finish this booking. Shall I call someone from the front desk?"
             : "Desculpe, não consegui concluir este agendamento. Quer que eu chame alguém da recepção?");
  else
    x.say(en ? "I couldn't find that appointment anymore; it may have been changed or cancelled already."
             : "Não encontrei mais essa consulta; ela pode já ter sido alterada ou cancelada.");
  st.step = flow_step::cancelled;
}

void on_tick(engine& x) {
  auto& st = x.st();
  const bool en = x.en();
  if (is_terminal(st.step) || st.awaiting_clinic || x.ctx.now < flow_expires_at(st, x.ctx.expiry))
    return;
  const bool held = st.chosen.has_value();
  x.release_chosen();
  switch (st.kind) {
    case flow_kind::book:
      x.say(en ? std::string("As I didn't hear back, I closed this booking") +
                     (held ? " and released the time I was holding" : "") + ". Message me whenever you want to book 🙂"
               : std::string("Como não tive resposta, encerrei este agendamento") +
                     (held ? " e liberei o horário reservado" : "") + ". Quando quiser marcar, é só me chamar 🙂");
      break;
    case flow_kind::reschedule:
      x.say(en ? "As I didn't hear back, I closed the rescheduling; your appointment stays as it was."
               : "Como não tive resposta, encerrei a remarcação; sua consulta continua como estava.");
      break;
    case flow_kind::cancel:
    case flow_kind::confirm:
      x.say(en ? "As I didn't hear back, I didn't cancel anything: your appointment stays booked."
               : "Como não tive resposta, não cancelei nada: sua consulta continua marcada.");
      break;
  }
  st.offered_slots.clear();
  st.step = flow_step::expired;
}

} // namespace

// ---------------------------------------------------------------- public functions

bool is_terminal(flow_step s) {
  return s == flow_step::done || s == flow_step::cancelled || s == flow_step::expired;
}

flow_state new_flow(std::string hold_owner, instant now, std::string lang) {
  flow_state s;
  s.hold_owner = std::move(hold_owner);
  s.lang = std::move(lang);
  s.started_at = now;
  s.last_activity = now;
  return s;
}

instant flow_expires_at(const flow_state& s, std::chrono::minutes expiry) {
  return s.last_activity + expiry;
}

std::optional<flow_action> pending_action(const flow_state& s) {
  if (!s.awaiting_clinic)
    return std::nullopt;
  switch (s.kind) {
    case flow_kind::book:
      if (s.step == flow_step::waitlist)
        return flow_action{flow_action_kind::join_waitlist, std::nullopt, {}};
      if (s.chosen)
        return flow_action{flow_action_kind::book, s.chosen, {}};
      break;
    case flow_kind::reschedule:
      if (s.chosen && s.target)
        return flow_action{flow_action_kind::reschedule, s.chosen, s.target->id};
      break;
    case flow_kind::cancel:
      if (s.target)
        return flow_action{flow_action_kind::cancel_appointment, std::nullopt, s.target->id};
      break;
    case flow_kind::confirm:
      if (s.target)
        return flow_action{flow_action_kind::confirm_appointment, std::nullopt, s.target->id};
      break;
  }
  return std::nullopt;
}

std::string slot_choice_id(const slot& s) { return "slot:" + s.professional_id + ":" + format_iso(s.start); }

std::optional<std::pair<std::string, instant>> parse_slot_choice_id(std::string_view id) {
  if (id.rfind("slot:", 0) != 0)
    return std::nullopt;
  id.remove_prefix(5);
  auto colon = id.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return std::nullopt;
  auto start = parse_iso(id.substr(colon + 1));
  if (!start)
    return std::nullopt;
  return std::make_pair(std::string(id.substr(0, colon)), *start);
}

flow_transition next_flow_state(const flow_state& s, const flow_event& e, const flow_context& ctx) {
  const auto* tz = clinic_zone(ctx.clinic);
  engine x{ctx, tz, local_date(tz, ctx.now), flow_transition{s, {}, {}, true}};
  if (const auto* m = std::get_if<patient_message>(&e))
    on_message(x, *m, s);
  else if (const auto* r = std::get_if<clinic_result>(&e))
    on_result(x, *r);
  else
    on_tick(x);
  return std::move(x.t);
}

} // namespace atendeai::core
