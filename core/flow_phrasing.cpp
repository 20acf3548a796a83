#include "core/flow_phrasing.hpp"

#include <algorithm>
#include <cctype>

#include "core/date_rules.hpp"
#include "core/flow.hpp"
#include "core/flow_internal.hpp"
#include "core/format.hpp"

namespace atendeai::core {

namespace detail {

namespace {

// Cuts UTF-8 text to at most `max` code points.
std::string utf8_truncate(const std::string& s, std::size_t max) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (count == max)
        return s.substr(0, i);
      ++count;
    }
  }
  return s;
}

std::string lang_code(bool en) { return en ? "en" : "pt-BR"; }

} // namespace

std::string service_name(const clinic_profile& c, const std::string& id, bool en) {
  const auto* s = find_service(c, id);
  return s ? display_name(*s, en ? "en" : "pt-BR") : std::string{};
}

std::string professional_ref(const clinic_profile& c, const std::string& id, bool en) {
  const auto* p = find_professional(c, id);
  if (!p)
    return {};
  if (en)
    return p->name;
  auto starts_with = [&](const char* prefix) { return p->name.rfind(prefix, 0) == 0; };
  if (starts_with("Dra.") || starts_with("Dra "))
    return "a " + p->name;
  if (starts_with("Dr.") || starts_with("Dr "))
    return "o " + p->name;
  return p->name;
}

std::string with_professional(const clinic_profile& c, const std::string& id, bool en) {
  auto ref = professional_ref(c, id, en);
  if (ref.empty())
    return {};
  return (en ? "with " : "com ") + ref;
}

std::string capitalize(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z')
    s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string when_long(const date::time_zone* tz, instant t, bool en) {
  auto d = local_date(tz, t);
  return weekday_name(weekday_of(d), lang_code(en), false) + " " + format_ddmm(d) +
         (en ? " at " : " às ") + format_hhmm(local_minute(tz, t));
}

std::string when_prompt(const date::time_zone* tz, instant t, bool en) {
  auto d = local_date(tz, t);
  auto wd = weekday_of(d);
  std::string prep = en ? "on " : (wd == 0 || wd == 6 ? "no " : "na ");
  return prep + weekday_name(wd, lang_code(en), false) + ", " + format_ddmm(d) +
         (en ? ", at " : ", às ") + format_hhmm(local_minute(tz, t));
}

std::string when_short(const date::time_zone* tz, instant t, bool en) {
  auto d = local_date(tz, t);
  return weekday_name(weekday_of(d), lang_code(en), true) + " " + format_ddmm(d) + " · " +
         format_hhmm(local_minute(tz, t));
}

std::string day_phrase(const date::year_month_day& d, const date::year_month_day& today, bool en,
                       bool sentence_start) {
  auto wd = weekday_of(d);
  std::string s;
  auto paren = " (" + weekday_name(wd, lang_code(en), true) + " " + format_ddmm(d) + ")";
  if (d == today)
    s = (en ? "today" : "hoje") + paren;
  else if (date::sys_days{d} == date::sys_days{today} + date::days{1})
    s = (en ? "tomorrow" : "amanhã") + paren;
  else if (en)
    s = "on " + weekday_name(wd, "en", false) + " " + format_ddmm(d);
  else
    s = std::string(wd == 0 || wd == 6 ? "no " : "na ") + weekday_name(wd, "pt-BR", false) + " " +
        format_ddmm(d);
  return sentence_start ? capitalize(s) : s;
}

std::string period_phrase(day_period p, bool en) {
  switch (p) {
    case day_period::morning: return en ? "in the morning" : "de manhã";
    case day_period::afternoon: return en ? "in the afternoon" : "à tarde";
    case day_period::evening: return en ? "in the evening" : "à noite";
  }
  return {};
}

std::string join_words(std::initializer_list<std::string> parts) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty())
      continue;
    if (!out.empty())
      out += ' ';
    out += p;
  }
  return out;
}

std::string appointment_summary(const clinic_profile& c, const date::time_zone* tz,
                                const std::string& service_id, const std::string& professional_id,
                                instant start, bool en) {
  return join_words({service_name(c, service_id, en), with_professional(c, professional_id, en)}) + ", " +
         when_long(tz, start, en);
}

std::string confirmed_text(const clinic_profile& c, const appointment& a, bool en, bool moved) {
  const auto* tz = clinic_zone(c);
  std::string s = en ? (moved ? "Done! Appointment moved: " : "Done! Appointment confirmed: ")
                     : (moved ? "Pronto! Consulta remarcada: " : "Pronto! Consulta confirmada: ");
  s += join_words({service_name(c, a.service_id, en), with_professional(c, a.professional_id, en)});
  s += ", " + when_long(tz, a.start, en);
  if (!c.address.empty())
    s += (en ? ", at " : ", na ") + c.address;
  s += en ? ". Please arrive 10 minutes early. See you! 💙" : ". Chegue 10 minutos antes. Até lá! 💙";
  return s;
}

outbound_message buttons(std::string text, std::vector<choice> choices) {
  outbound_message m;
  m.text = std::move(text);
  m.style = choice_style::buttons;
  for (auto& c : choices)
    c.title = utf8_truncate(c.title, 20);
  if (choices.size() > max_buttons)
    choices.resize(max_buttons);
  m.choices = std::move(choices);
  return m;
}

outbound_message list(std::string text, std::vector<choice> rows, std::string button) {
  outbound_message m;
  m.text = utf8_truncate(text, 1024);
  m.style = choice_style::list;
  if (rows.size() > max_list_rows)
    rows.resize(max_list_rows);
  for (auto& r : rows) {
    r.title = utf8_truncate(r.title, 24);
    r.description = utf8_truncate(r.description, 72);
  }
  m.choices = std::move(rows);
  m.list_button = utf8_truncate(button, 20);
  return m;
}

std::string first_name(const std::string& full) {
  auto begin = full.find_first_not_of(" \t");
  if (begin == std::string::npos)
    return {};
  auto end = full.find_first_of(" \t", begin);
  auto word = full.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  if (std::any_of(word.begin(), word.end(), [](unsigned char c) { return std::isdigit(c); }))
    return {};
  return word;
}

std::string greeting_to(const std::string& first_name, bool en) {
  if (first_name.empty())
    return en ? "Hello!" : "Olá!";
  return (en ? "Hello, " : "Olá, ") + first_name + "!";
}

std::string addressee(const std::string& first_name, bool en) {
  return first_name.empty() ? std::string(en ? "patient" : "paciente") : first_name;
}

template_call notice_call(const std::string& name, const std::string& language, const std::string& first_name,
                          std::string said, bool en) {
  template_call t;
  t.name = name;
  t.language = language;
  t.parameters = {addressee(first_name, en), std::move(said)};
  return t;
}

} // namespace detail

using namespace detail;

outbound_message my_appointments_reply(const clinic_profile& clinic, const std::vector<appointment>& appointments,
                                       instant now, std::string_view lang) {
  const bool en = is_en(lang);
  const auto* tz = clinic_zone(clinic);
  const auto future = upcoming_appointments(appointments, now);
  outbound_message m;
  if (future.empty()) {
    m.text = en ? "You have no appointments booked at the moment." : "Você não tem consultas marcadas no momento.";
    return m;
  }
  m.text = future.size() == 1 ? (en ? "Your upcoming appointment:" : "Sua próxima consulta:")
                              : (en ? "Your upcoming appointments:" : "Suas próximas consultas:");
  std::size_t shown = 0;
  for (const auto& a : future) {
    if (shown++ == max_list_rows)
      break;
    m.text += "\n• " + appointment_summary(clinic, tz, a.service_id, a.professional_id, a.start, en);
  }
  m.text += en ? "\nTo reschedule or cancel, just tell me." : "\nPara remarcar ou cancelar, é só me dizer.";
  return m;
}

std::string booking_confirmed_text(const clinic_profile& clinic, const appointment& a, std::string_view lang) {
  return confirmed_text(clinic, a, is_en(lang), false);
}

} // namespace atendeai::core
