#include "core/waitlist.hpp"

#include <algorithm>

#include "core/flow.hpp"
#include "core/flow_internal.hpp"
#include "core/flow_phrasing.hpp"
#include "core/format.hpp"
#include "core/reading.hpp"
#include "core/slots.hpp"

namespace atendeai::core {

using namespace detail;

namespace {

constexpr std::string_view choice_prefix = "waitlist:";

/// "de Cardiologia com a Dra. Ana Souza, de manhã" / "for Cardiology with Dra. Ana Souza, in the morning".
std::string wish_phrase(const clinic_profile& clinic, const waitlist_wish& w, bool en) {
  std::string out = (en ? "for " : "de ") + service_name(clinic, w.service_id, en);
  if (w.professional_id)
    out += " " + with_professional(clinic, *w.professional_id, en);
  if (w.period)
    out += ", " + period_phrase(*w.period, en);
  if (w.date_from && w.date_to && *w.date_from == *w.date_to)
    out += (en ? ", on " : ", no dia ") + format_ddmm(*w.date_from);
  else if (w.date_from && w.date_to)
    out += (en ? ", between " : ", entre ") + format_ddmm(*w.date_from) + (en ? " and " : " e ") + format_ddmm(*w.date_to);
  else if (w.date_from)
    out += (en ? ", from " : ", a partir de ") + format_ddmm(*w.date_from);
  return out;
}

} // namespace

waitlist_wish waitlist_wish_of(const flow_state& s) {
  waitlist_wish w;
  w.service_id = s.service_id.value_or("");
  w.professional_id = s.professional_id;
  w.period = s.period;
  if (s.date) {
    w.date_from = s.date;
    w.date_to = s.date;
  } else {
    w.date_from = s.date_from;
    w.date_to = s.date_to;
  }
  return w;
}

std::optional<slot> waitlist_slot_for(const waitlist_candidate& c, const slot& freed, const clinic_profile& clinic) {
  const auto& w = c.wish;
  if (w.professional_id && *w.professional_id != freed.professional_id)
    return std::nullopt;
  const auto* p = find_professional(clinic, freed.professional_id);
  const auto* svc = find_service(clinic, w.service_id);
  if (!p || !svc || !p->active || !svc->active ||
      std::find(p->service_ids.begin(), p->service_ids.end(), svc->id) == p->service_ids.end())
    return std::nullopt;
  slot s{freed.professional_id, svc->id, freed.start, freed.start + std::chrono::minutes(svc->duration_minutes)};
  if (s.end > freed.end)
    return std::nullopt;
  const auto* tz = clinic_zone(clinic);
  auto day = local_date(tz, s.start);
  if ((w.date_from && day < *w.date_from) || (w.date_to && day > *w.date_to))
    return std::nullopt;
  if (w.period && !in_period(local_minute(tz, s.start), *w.period))
    return std::nullopt;
  return s;
}

std::string waitlist_hold_owner(const std::string& entry_id) { return "waitlist:" + entry_id; }

std::string waitlist_choice_id(waitlist_answer a, const std::string& offer_id) {
  return std::string(choice_prefix) + (a == waitlist_answer::accept ? "accept:" : "decline:") + offer_id;
}

std::optional<std::pair<waitlist_answer, std::string>> parse_waitlist_choice(std::string_view id) {
  if (id.substr(0, choice_prefix.size()) != choice_prefix)
    return std::nullopt;
  id.remove_prefix(choice_prefix.size());
  for (auto [verb, a] : {std::pair{std::string_view("accept:"), waitlist_answer::accept},
                         std::pair{std::string_view("decline:"), waitlist_answer::decline}})
    if (id.size() > verb.size() && id.substr(0, verb.size()) == verb)
      return std::make_pair(a, std::string(id.substr(verb.size())));
  return std::nullopt;
}

std::optional<waitlist_answer> read_waitlist_answer(std::string_view text) {
  auto norm = normalize_text(text);
  static const word_list declining = {"nao posso", "nao vou poder", "nao consigo", "nao da", "nao quero",
                                      "nao serve", "nao tenho como", "cant make it", "cannot make it", "i cant",
                                      "no thanks", "not this one", "pass"};
  // "quero" alone takes it; "quero falar com a recepção" does not.
  static const word_list taking_alone = {"quero", "eu quero", "quero sim", "aceito", "serve", "pode", "pode sim",
                                         "i want it", "want it"};
  static const word_list taking = {"pode ser", "pode marcar", "marca pra mim", "marca para mim", "fico com ele",
                                   "fico com esse", "quero esse", "quero este", "quero o horario", "quero sim",
                                   "ill take it", "take it", "book it", "works for me"};
  auto a = read_answer(norm, std::nullopt);
  if (has_any_phrase(norm, declining) || a.no || a.give_up)
    return waitlist_answer::decline;
  if (in_list(norm, taking_alone) || has_any_phrase(norm, taking) || has_any_phrase(norm, confirm_words()) || a.yes)
    return waitlist_answer::accept;
  return std::nullopt;
}

waitlist_offer_message offer_message(const clinic_profile& clinic, const waitlist_candidate& c, const slot& s,
                                     instant hold_until, const std::string& offer_id,
                                     const std::string& notice_template, const std::string& notice_language) {
  const bool en = is_en(c.lang);
  const auto* tz = clinic_zone(clinic);
  auto name = first_name(c.patient_name);
  auto summary = appointment_summary(clinic, tz, s.service_id, s.professional_id, s.start, en);
  auto until = format_hhmm(local_minute(tz, hold_until));
  const auto greeting = greeting_to(name, en);
  std::string said = en ? "A time opened up on the waitlist you are on: " + summary + ". I'm holding it for you until " +
                              until + ". Do you want it?"
                        : "Abriu um horário na lista de espera em que você está: " + summary +
                              ". Estou segurando para você até as " + until + ". Quer ficar com ele?";
  waitlist_offer_message m;
  m.interactive = buttons(greeting + " " + said,
                          {{waitlist_choice_id(waitlist_answer::accept, offer_id), en ? "I want it" : "Quero este horário", {}},
                           {waitlist_choice_id(waitlist_answer::decline, offer_id), en ? "I can't" : "Não posso", {}}});
  // The notice template has no buttons: a typed answer is read (read_waitlist_answer).
  std::string typed = said + (en ? " Reply YES to take it or NO to pass it on." : " Responda SIM para ficar com ele ou NÃO para liberar.");
  m.templated.text = greeting + " " + typed;
  m.templated.templ = notice_call(notice_template, notice_language, name, typed, en);
  return m;
}

bool reads_waitlist_leave(std::string_view text) {
  auto norm = normalize_text(text);
  static const word_list waitlist = {"lista de espera", "waitlist", "waiting list"};
  static const word_list leaving = {"sair", "sai", "tirar", "tira", "tire", "remover", "remove", "cancelar", "cancela",
                                    "desistir", "desisto", "nao quero mais", "leave", "take me off", "dont need"};
  return has_any_phrase(norm, waitlist) && has_any_phrase(norm, leaving);
}

std::string waitlist_left_text(bool en, bool left) {
  if (!left)
    return en ? "You're not on any waitlist at the moment." : "Você não está em nenhuma lista de espera no momento.";
  return en ? "Done, I've taken you off the waitlist. Message me whenever you want to book 🙂"
            : "Pronto, tirei você da lista de espera. Quando quiser marcar, é só me chamar 🙂";
}

std::string waitlist_joined_text(const clinic_profile& clinic, const waitlist_wish& w, bool en) {
  return en ? "Done! You're on the waitlist " + wish_phrase(clinic, w, en) +
                  ". As soon as a time opens up I'll message you here and hold it for you for a few minutes 🙂"
            : "Pronto! Coloquei você na lista de espera " + wish_phrase(clinic, w, en) +
                  ". Assim que abrir um horário eu te aviso por aqui e seguro ele para você por alguns minutos 🙂";
}

std::string waitlist_declined_text(bool en) {
  return en ? "No problem, I've passed this time on. You're still on the waitlist and I'll let you know about the next one."
            : "Tudo bem, passei este horário adiante. Você continua na lista de espera e eu aviso quando abrir outro.";
}

std::string waitlist_gone_text(bool en, bool still_waiting) {
  std::string s = en ? "Sorry, that time is no longer held for you 😕" : "Desculpe, esse horário não está mais reservado para você 😕";
  if (still_waiting)
    s += en ? " You're still on the waitlist and I'll let you know about the next one."
            : " Você continua na lista de espera e eu aviso quando abrir outro.";
  return s;
}

} // namespace atendeai::core
