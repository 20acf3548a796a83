#include "core/conversation.hpp"

#include "core/date_rules.hpp"
#include "core/faq.hpp"
#include "core/format.hpp"

namespace atendeai::core {

namespace {

/// How the assistant words things for one clinic and one patient language.
struct voice {
  const clinic_profile& clinic;
  bool en;
  bool formal;

  /// An emoji with its leading space, or nothing in a formal tone.
  std::string emoji(const char* e) const { return formal ? std::string() : std::string(" ") + e; }
  const std::string& assistant() const { return clinic.ai_personality.name; }
};

voice voice_for(const clinic_profile& clinic, const std::string& lang) {
  auto& p = clinic.ai_personality;
  return {clinic, lang == "en", p.tone == "formal" || p.formality_level == "high"};
}

/// A list row title within WhatsApp's 24 characters, cut on a character boundary.
std::string row_title(const std::string& name) {
  constexpr size_t max_chars = 24;
  size_t chars = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    if ((static_cast<unsigned char>(name[i]) & 0xC0) != 0x80) {
      if (chars == max_chars)
        return name.substr(0, i);
      ++chars;
    }
  }
  return name;
}

std::vector<const service*> active_services(const clinic_profile& clinic) {
  std::vector<const service*> out;
  for (auto& s : clinic.services)
    if (s.active)
      out.push_back(&s);
  return out;
}

/// "Clínico geral — R$ 200" lines and list rows for the active services.
outbound_message services_message(const voice& v, std::string intro, std::string outro) {
  outbound_message msg;
  auto services = active_services(v.clinic);
  msg.text = std::move(intro);
  for (auto* s : services) {
    msg.text += "\n· " + display_name(*s, v.en ? "en" : "pt-BR");
    if (s->price_cents > 0)
      msg.text += " — " + format_price(s->price_cents, v.en ? "en" : "pt-BR");
  }
  if (!outro.empty())
    msg.text += "\n" + outro;
  msg.style = choice_style::list;
  msg.list_button = v.en ? "See services" : "Ver serviços";
  for (auto* s : services) {
    if (msg.choices.size() == 10)
      break;
    msg.choices.push_back({"service:" + s->id, row_title(display_name(*s, v.en ? "en" : "pt-BR")),
                           s->price_cents > 0 ? format_price(s->price_cents, v.en ? "en" : "pt-BR")
                                              : std::string()});
  }
  return msg;
}

outbound_message text(std::string t) {
  outbound_message m;
  m.text = std::move(t);
  return m;
}

std::string offer_human(const voice& v) {
  return v.en ? "Would you like me to call someone from the front desk?"
              : "Quer que eu chame alguém da recepção?";
}

std::string dont_know(const voice& v) {
  return (v.en ? "I don't have that information here. " : "Não tenho essa informação aqui. ")
         + offer_human(v);
}

/// A FAQ answer as sent: the clinic's text, after a short note in the patient's language
/// when the entry is written in another one (its declared language, else its words').
std::string faq_reply(const voice& v, const faq_entry& e) {
  const auto lang = e.lang.empty() ? language_of(e.answer) : e.lang;
  if (lang.empty() || (lang == "en") == v.en)
    return e.answer;
  if (v.en)
    return "Sorry, I only have this answer in "
           + std::string(lang == "pt-BR" ? "Portuguese" : "the clinic's language") + ":\n\n" + e.answer;
  return "Desculpe, tenho essa resposta apenas em "
         + std::string(lang == "en" ? "inglês" : "outro idioma") + ":\n\n" + e.answer;
}

std::string handoff_text(const voice& v) {
  return v.en ? "Sure! I've let the front desk know; someone will continue this conversation "
                "here shortly."
              : "Claro! Já avisei a recepção; alguém vai continuar a conversa por aqui em breve.";
}

std::string escalation_text(const voice& v) {
  return v.en ? "I'm sorry I couldn't help." + v.emoji("😕")
                  + " I've asked the front desk to join; someone will continue this conversation "
                    "here shortly."
              : "Desculpe, não consegui te ajudar." + v.emoji("😕")
                  + " Já chamei a recepção; alguém vai continuar a conversa por aqui em breve.";
}

// -- one reply per intent ---

std::string greeting_text(const voice& v, bool first_message) {
  auto& p = v.clinic.ai_personality;
  if (first_message) {
    if (!v.en && !p.greeting.empty())
      return p.greeting;
    // "... Exemplo 😊 Como posso ajudar?" needs a full stop where a formal voice drops the emoji.
    const std::string pause = v.formal ? "." : " 😊";
    return v.en ? "Hi! I'm " + v.assistant() + ", " + v.clinic.name + "'s assistant" + pause
                    + " How can I help?"
                : "Olá! Eu sou a " + v.assistant() + ", assistente da " + v.clinic.name + pause
                    + " Como posso ajudar?";
  }
  return v.en ? "Hi again! How can I help?"
              : (v.formal ? "Olá! Em que posso ajudar?" : "Oi de novo!" + v.emoji("😊")
                                                           + " Em que posso ajudar?");
}

std::string goodbye_text(const voice& v) {
  auto& p = v.clinic.ai_personality;
  if (!v.en && !p.farewell.empty())
    return p.farewell;
  return v.en ? "Thanks for getting in touch! See you soon" + v.emoji("💙")
              : "Obrigada pelo contato! Até logo" + v.emoji("💙");
}

std::string day_intervals(const std::vector<time_interval>& ivs, bool en) {
  std::string s;
  for (size_t k = 0; k < ivs.size(); ++k) {
    if (k > 0)
      s += en ? " and " : " e ";
    s += en ? format_hhmm(ivs[k].start) + "–" + format_hhmm(ivs[k].end)
            : "das " + format_hhmm(ivs[k].start) + " às " + format_hhmm(ivs[k].end);
  }
  return s;
}

bool no_hours(const weekly_hours& h) {
  for (auto& d : h)
    if (!d.empty())
      return false;
  return true;
}

outbound_message hours_reply(const voice& v, const understanding& u, conversation_state& state) {
  auto& h = v.clinic.working_hours;
  if (no_hours(h)) {
    state.human_offered = true;
    return text(dont_know(v));
  }
  auto summary = format_hours_summary(h, v.en ? "en" : "pt-BR");
  std::string out;
  if (auto d = u.entities.date) {
    int wd = weekday_of(*d);
    auto name = weekday_name(wd, v.en ? "en" : "pt-BR", false);
    auto day = format_ddmm(*d);
    if (v.en)
      out = h[wd].empty() ? "On " + name + ", " + day + ", we're closed. "
                          : "On " + name + ", " + day + ", we're open " + day_intervals(h[wd], true)
                              + ". ";
    else
      out = std::string(wd == 0 || wd == 6 ? "No " : "Na ") + name + ", " + day
            + (h[wd].empty() ? ", não abrimos. " : ", abrimos " + day_intervals(h[wd], false) + ". ");
    out += v.en ? "Our hours: " + summary + "." : "Nosso horário: " + summary + ".";
  } else {
    out = v.en ? "We're open " + summary + "." : "Abrimos " + summary + ".";
  }
  return text(out);
}

outbound_message services_reply(const voice& v, const understanding& u, conversation_state& state) {
  auto services = active_services(v.clinic);
  if (services.empty()) {
    state.human_offered = true;
    return text(dont_know(v));
  }
  if (u.entities.service) {
    for (auto* s : services)
      if (s->id == *u.entities.service && s->price_cents > 0) {
        auto price = format_price(s->price_cents, v.en ? "en" : "pt-BR");
        return text(v.en ? "A " + display_name(*s, v.en ? "en" : "pt-BR") + " appointment costs " + price
                             + ". Would you like to book one?"
                         : "A consulta de " + display_name(*s, v.en ? "en" : "pt-BR") + " custa " + price
                             + ". Quer marcar um horário?" + v.emoji("😊"));
      }
  }
  return services_message(
    v, v.en ? "These are our services and prices:" : "Estes são os nossos serviços e valores:",
    v.en ? "Would you like to book one? If you're looking for something else, I can call the front desk."
         : "Quer marcar algum? Se procura outra coisa, posso chamar a recepção.");
}

outbound_message location_reply(const voice& v, conversation_state& state) {
  auto& c = v.clinic;
  if (c.address.empty()) {
    state.human_offered = true;
    return text(dont_know(v));
  }
  std::string out = v.en ? "We're at " + c.address + "." : "Nosso endereço é " + c.address + "."
                                                             + v.emoji("📍");
  if (!c.phone.empty())
    out += v.en ? " Phone: " + c.phone + "." : " Telefone: " + c.phone + ".";
  return text(out);
}

/// Booking, rescheduling, cancelling and listing appointments belong to the appointment
/// flow (the conversation actor hands these intents to it). This reply is only reached
/// when the flow cannot be asked (the agenda is unreachable): booking still starts by
/// choosing a service (a tap comes back to the flow), the others are honest that the
/// agenda cannot be read right now and offer the reception.
outbound_message scheduling_reply(const voice& v, const understanding& u,
                                  conversation_state& state) {
  if (u.intent == intent::book && !active_services(v.clinic).empty())
    return services_message(v, v.en ? "Sure! Which service are you looking for?"
                                    : "Claro! Qual serviço você procura?",
                            "");
  state.human_offered = true;
  switch (u.intent) {
    case intent::reschedule:
      return text(v.en ? "I can't reach the schedule to change appointments right now. " + offer_human(v)
                       : "Não consigo acessar a agenda para remarcar agora. " + offer_human(v));
    case intent::cancel:
      return text(v.en ? "I can't reach the schedule to cancel appointments right now. " + offer_human(v)
                       : "Não consigo acessar a agenda para cancelar agora. " + offer_human(v));
    case intent::my_appointments:
      return text(v.en ? "I can't look up your appointments right now. " + offer_human(v)
                       : "Não consigo consultar seus agendamentos agora. " + offer_human(v));
    default:
      return text(dont_know(v));
  }
}

void start_handoff(conversation_state& state, reply_decision& d) {
  state.handoff = true;
  state.unknown_streak = 0;
  d.handoff_started = true;
}

} // namespace

nlohmann::json to_json(const conversation_state& s) {
  nlohmann::json j = {{"lang", s.lang},
                      {"unknown_streak", s.unknown_streak},
                      {"handoff", s.handoff},
                      {"flow", s.flow},
                      {"human_offered", s.human_offered}};
  // Written only when set: most conversations never see them.
  if (s.opted_out)
    j["opted_out"] = true;
  if (!s.reminded.empty())
    j["reminded"] = s.reminded;
  if (!s.waitlist_offer.empty())
    j["waitlist_offer"] = s.waitlist_offer;
  if (!s.consent.empty())
    j["consent"] = s.consent;
  if (s.consent_asked)
    j["consent_asked"] = true;
  if (s.notice_shown)
    j["notice_shown"] = true;
  return j;
}

conversation_state conversation_state_from_json(const nlohmann::json& j) {
  conversation_state s;
  if (!j.is_object())
    return s;
  auto read = [&](const char* key, auto& field) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
      return;
    try {
      it->get_to(field);
    } catch (const nlohmann::json::exception&) {
      // Lenient: a field of the wrong type keeps its default.
    }
  };
  read("lang", s.lang);
  read("unknown_streak", s.unknown_streak);
  read("handoff", s.handoff);
  read("human_offered", s.human_offered);
  read("opted_out", s.opted_out);
  read("reminded", s.reminded);
  read("waitlist_offer", s.waitlist_offer);
  read("consent", s.consent);
  read("consent_asked", s.consent_asked);
  read("notice_shown", s.notice_shown);
  if (auto it = j.find("flow"); it != j.end())
    s.flow = *it;
  return s;
}

namespace {
void set_language(const understanding& u, const clinic_profile& clinic, conversation_state& state) {
  state.lang = u.lang == "en" ? "en" : (clinic.language.empty() ? "pt-BR" : clinic.language);
}
} // namespace

reply_decision generated_reply(const understanding& u, const clinic_profile& clinic, conversation_state& state,
                               std::string answer) {
  reply_decision d;
  if (state.handoff)
    return d;
  set_language(u, clinic, state);
  state.unknown_streak = 0;
  state.human_offered = false;
  auto reply = text(std::move(answer));
  reply.generated = true;
  d.reply = std::move(reply);
  return d;
}

reply_decision decide_reply(const understanding& u, const clinic_profile& clinic,
                            conversation_state& state, bool first_message,
                            std::string_view message_text) {
  reply_decision d;
  if (state.handoff)
    return d;
  set_language(u, clinic, state);
  const auto v = voice_for(clinic, state.lang);
  const bool human_was_offered = state.human_offered;
  state.human_offered = false;
  if (u.intent != intent::unknown || u.entities.yes_no)
    state.unknown_streak = 0;

  switch (u.intent) {
    case intent::greeting:
      d.reply = text(greeting_text(v, first_message));
      break;
    case intent::goodbye:
      d.reply = text(goodbye_text(v));
      break;
    case intent::hours:
      d.reply = hours_reply(v, u, state);
      break;
    case intent::services:
      d.reply = services_reply(v, u, state);
      break;
    case intent::location:
      d.reply = location_reply(v, state);
      break;
    case intent::human:
      start_handoff(state, d);
      d.reply = text(handoff_text(v));
      break;
    case intent::book:
    case intent::reschedule:
    case intent::cancel:
    case intent::my_appointments:
      d.reply = scheduling_reply(v, u, state);
      break;
    case intent::clinic_question:
      // The clinic's own answer when its FAQ has one; otherwise say so and offer a human.
      if (auto* e = match_faq(clinic.faq, message_text, u.topic, state.lang,
                              faq_strictness::clinic_question)) {
        d.reply = text(faq_reply(v, *e));
        break;
      }
      state.human_offered = true;
      d.reply = text(dont_know(v));
      break;
    case intent::unknown:
      if (u.entities.yes_no && human_was_offered) {
        if (*u.entities.yes_no) {
          start_handoff(state, d);
          d.reply = text(handoff_text(v));
        } else {
          d.reply = text(v.en ? "All right! Anything else I can help with?"
                              : "Tudo bem! Posso ajudar em mais alguma coisa?");
        }
      } else if (u.entities.yes_no) {
        d.reply = text(v.en ? "Okay! I can help with appointments, opening hours, services and our "
                              "address. What would you like?"
                            : "Certo! Posso ajudar com consultas, horários, serviços e endereço. "
                              "O que você precisa?");
      } else if (auto* e = match_faq(clinic.faq, message_text, {}, state.lang, faq_strictness::unknown)) {
        // Not understood by the rules, but the clinic's FAQ answers it.
        state.unknown_streak = 0;
        d.reply = text(faq_reply(v, *e));
      } else if (++state.unknown_streak >= clinic.ai_behavior.escalation_threshold
                 && clinic.ai_behavior.auto_escalation) {
        start_handoff(state, d);
        d.reply = text(escalation_text(v));
      } else if (u.clinic_topic) {
        state.human_offered = true;
        d.reply = text(dont_know(v));
      } else {
        d.reply = text(v.en ? "I can only help with " + clinic.name
                                + " matters: appointments, opening hours, services and address."
                                + v.emoji("🙂")
                            : "Eu só consigo ajudar com assuntos da " + clinic.name
                                + ": consultas, horários, serviços e endereço." + v.emoji("🙂"));
      }
      break;
  }
  return d;
}

} // namespace atendeai::core
