#include "core/reminders.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/flow_internal.hpp"
#include "core/flow_phrasing.hpp"
#include "core/format.hpp"
#include "core/reading.hpp"
#include "core/slots.hpp"

namespace atendeai::core {

namespace {

using nlohmann::json;

[[noreturn]] void invalid(const std::string& path, const std::string& why) {
  throw std::invalid_argument(path + ": " + why);
}

minute_of_day hhmm_member(const json& j, const char* key, const std::string& path) {
  if (!j[key].is_string())
    invalid(path + "." + key, "must be a string \"HH:MM\"");
  auto m = parse_hhmm(j[key].get<std::string>());
  if (!m)
    invalid(path + "." + key, "must be a time \"HH:MM\"");
  return *m;
}

/// A {"name","language"} member naming a registered template.
void template_member(const json& t, const std::string& path, std::string& name, std::string& language) {
  if (!t.is_object())
    invalid(path, "must be an object {\"name\",\"language\"}");
  for (auto& [key, _] : t.items())
    if (key != "name" && key != "language")
      invalid(path + "." + key, "unknown member");
  for (const char* key : {"name", "language"}) {
    if (!t.contains(key))
      continue;
    if (!t[key].is_string() || t[key].get<std::string>().empty() || t[key].get<std::string>().size() > 512)
      invalid(path + "." + key, "must be a non-empty string");
  }
  if (t.contains("name"))
    name = t["name"].get<std::string>();
  if (t.contains("language"))
    language = t["language"].get<std::string>();
}

/// True when local minute `m` lies in [start, end) of a range that may wrap midnight.
bool in_quiet(minute_of_day m, minute_of_day start, minute_of_day end) {
  if (start == end)
    return false; // no quiet hours
  return start < end ? (m >= start && m < end) : (m >= start || m < end);
}

constexpr std::string_view choice_prefix = "remind:";

} // namespace

json to_json(const reminder_settings& s) {
  return {{"enabled", s.enabled},
          {"offsets_minutes", s.offsets_minutes},
          {"template", {{"name", s.template_name}, {"language", s.template_language}}},
          {"quiet_hours", {{"start", format_hhmm(s.quiet_start)}, {"end", format_hhmm(s.quiet_end)}}},
          {"notify_staff_changes",
           {{"created", s.notify_created},
            {"moved", s.notify_moved},
            {"cancelled", s.notify_cancelled},
            {"template", {{"name", s.notice_template_name}, {"language", s.notice_template_language}}}}},
          {"no_show_after_minutes", s.no_show_after_minutes ? json(*s.no_show_after_minutes) : json()},
          {"require_opt_in", s.require_opt_in}};
}

reminder_settings reminder_settings_from_json(const json& j, reminder_settings s) {
  if (!j.is_object())
    invalid("", "must be an object");
  for (auto& [key, _] : j.items())
    if (key != "enabled" && key != "offsets_minutes" && key != "template" && key != "quiet_hours" &&
        key != "notify_staff_changes" && key != "no_show_after_minutes" && key != "require_opt_in")
      invalid(key, "unknown member");
  if (j.contains("enabled")) {
    if (!j["enabled"].is_boolean())
      invalid("enabled", "must be true or false");
    s.enabled = j["enabled"].get<bool>();
  }
  if (j.contains("offsets_minutes")) {
    auto& o = j["offsets_minutes"];
    if (!o.is_array() || o.empty() || o.size() > 5)
      invalid("offsets_minutes", "must be an array of 1 to 5 offsets in minutes");
    std::vector<int> offsets;
    std::set<int> seen;
    for (size_t i = 0; i < o.size(); ++i) {
      auto path = "offsets_minutes[" + std::to_string(i) + "]";
      if (!o[i].is_number_integer() || o[i].get<int64_t>() < 5 || o[i].get<int64_t>() > 20160)
        invalid(path, "must be a whole number of minutes from 5 to 20160 (14 days)");
      if (!seen.insert(o[i].get<int>()).second)
        invalid(path, "repeats an offset");
      offsets.push_back(o[i].get<int>());
    }
    std::sort(offsets.rbegin(), offsets.rend());
    s.offsets_minutes = std::move(offsets);
  }
  if (j.contains("template"))
    template_member(j["template"], "template", s.template_name, s.template_language);
  if (j.contains("quiet_hours")) {
    auto& q = j["quiet_hours"];
    if (!q.is_object() || !q.contains("start") || !q.contains("end"))
      invalid("quiet_hours", "must be an object {\"start\":\"HH:MM\",\"end\":\"HH:MM\"}");
    for (auto& [key, _] : q.items())
      if (key != "start" && key != "end")
        invalid("quiet_hours." + key, "unknown member");
    s.quiet_start = hhmm_member(q, "start", "quiet_hours");
    s.quiet_end = hhmm_member(q, "end", "quiet_hours");
  }
  if (j.contains("notify_staff_changes")) {
    auto& n = j["notify_staff_changes"];
    if (!n.is_object())
      invalid("notify_staff_changes", "must be an object {\"created\",\"moved\",\"cancelled\",\"template\"}");
    for (auto& [key, value] : n.items()) {
      auto path = "notify_staff_changes." + key;
      if (key == "template") {
        template_member(value, path, s.notice_template_name, s.notice_template_language);
        continue;
      }
      bool* flag = key == "created" ? &s.notify_created : key == "moved" ? &s.notify_moved
                   : key == "cancelled"                 ? &s.notify_cancelled
                                                        : nullptr;
      if (!flag)
        invalid(path, "unknown member");
      if (!value.is_boolean())
        invalid(path, "must be true or false");
      *flag = value.get<bool>();
    }
  }
  if (j.contains("require_opt_in")) {
    if (!j["require_opt_in"].is_boolean())
      invalid("require_opt_in", "must be true or false");
    s.require_opt_in = j["require_opt_in"].get<bool>();
  }
  if (j.contains("no_show_after_minutes")) {
    auto& m = j["no_show_after_minutes"];
    if (m.is_null())
      s.no_show_after_minutes.reset();
    else if (!m.is_number_integer() || m.get<int64_t>() < 5 || m.get<int64_t>() > 10080)
      invalid("no_show_after_minutes", "must be null (off) or a whole number of minutes from 5 to 10080 (7 days)");
    else
      s.no_show_after_minutes = m.get<int>();
  }
  return s;
}

bool window_open(const std::optional<instant>& window_until, instant now) {
  return window_until && now < *window_until;
}

namespace {

/// Why a due reminder no longer applies; nullptr when it does.
const char* reminder_skip(const due_reminder& r, instant now) {
  auto status = appointment_status_from_string(r.appointment_status);
  if (!status || !is_active(*status))
    return "cancelled";
  if (r.starts_at != r.planned_start)
    return "moved"; // its new time has reminders of its own
  if (r.starts_at <= now)
    return "past";
  const auto& s = r.settings;
  if (!s.enabled ||
      std::find(s.offsets_minutes.begin(), s.offsets_minutes.end(), r.offset_minutes) == s.offsets_minutes.end())
    return "disabled";
  return nullptr;
}

/// Why a due notice of a staff change no longer applies; nullptr when it does.
const char* notice_skip(const due_reminder& r, instant now) {
  const auto& s = r.settings;
  bool wanted = r.change == "created" ? s.notify_created : r.change == "moved" ? s.notify_moved
                : r.change == "cancelled"                                     ? s.notify_cancelled
                                                                              : false;
  if (!wanted)
    return "disabled";
  if (r.planned_start <= now)
    return "past";
  if (r.change == "cancelled")
    return nullptr; // told whatever happened since
  auto status = appointment_status_from_string(r.appointment_status);
  if (!status || !is_active(*status) || r.starts_at != r.planned_start)
    return "superseded"; // cancelled or moved again since: that change has its own notice
  return nullptr;
}

} // namespace

std::optional<std::string> no_show_skip(const due_reminder& r, instant now) {
  auto status = appointment_status_from_string(r.appointment_status);
  if (!status)
    return "gone";
  if (!is_active(*status))
    return std::string(to_string(*status)); // attended, cancelled or marked already
  if (r.ends_at != r.planned_end)
    return "moved"; // its new end has a job of its own
  if (r.settings.no_show_after_minutes != r.after_minutes)
    return "disabled";
  if (now < r.ends_at + std::chrono::minutes(r.after_minutes))
    return "early";
  return std::nullopt;
}

std::optional<instant> quiet_until(const reminder_settings& s, const date::time_zone* tz, instant now) {
  auto minute = local_minute(tz, now);
  if (!in_quiet(minute, s.quiet_start, s.quiet_end))
    return std::nullopt;
  // Minutes until the quiet hours end, from this minute.
  int wait = (s.quiet_end - minute + 24 * 60) % (24 * 60);
  return std::chrono::time_point_cast<std::chrono::milliseconds>(
    std::chrono::time_point_cast<std::chrono::minutes>(now) + std::chrono::minutes(wait));
}

reminder_plan plan_reminder(const due_reminder& r, const clinic_profile& clinic, instant now) {
  reminder_plan p;
  const bool notice = r.kind == "notify";
  const char* why = notice ? notice_skip(r, now) : reminder_skip(r, now);
  if (!why && r.opted_out)
    why = "opted_out";
  if (!why && (r.conversation_id.empty() || r.contact.empty() || r.account_id.empty()))
    why = "no_conversation";
  if (why) {
    p.what = reminder_plan::action::skip;
    p.reason = why;
    return p;
  }
  const auto& s = r.settings;
  const auto* tz = zone_or_default(clinic.timezone);
  if (auto until = quiet_until(s, tz, now); until && *until < r.planned_start) {
    p.what = reminder_plan::action::hold;
    p.hold_until = *until;
    return p;
  }
  p.what = reminder_plan::action::send;
  const bool en = clinic.language == "en";
  auto name = detail::first_name(r.patient_name);
  auto service = detail::service_name(clinic, r.service_id, en);
  auto professional = detail::professional_ref(clinic, r.professional_id, en);
  auto with = detail::with_professional(clinic, r.professional_id, en);
  auto when = detail::when_long(tz, r.planned_start, en);
  auto at = clinic.address.empty() ? std::string{} : (en ? ", at " : ", na ") + clinic.address;
  const auto greeting = detail::greeting_to(name, en);
  // What follows the greeting.
  std::string said;
  if (!notice)
    said = en ? "A reminder of your " + service + " appointment " + with + " on " + when + at + ". Can you confirm?"
              : "Lembrete da sua consulta de " + service + " " + with + " " + when + at + ". Você confirma?";
  else if (r.change == "created")
    said = en ? "Your " + service + " appointment " + with + " is booked for " + when + at + ". Can you confirm?"
              : "Sua consulta de " + service + " " + with + " foi marcada para " + when + at + ". Você confirma?";
  else if (r.change == "moved")
    said = en ? "Your " + service + " appointment " + with + " was moved to " + when + at + ". Can you confirm?"
              : "Sua consulta de " + service + " " + with + " foi remarcada para " + when + at + ". Você confirma?";
  else
    said = en ? "Your " + service + " appointment " + with + " on " + when +
                  " was cancelled by the clinic. To book another time, just reply to this message."
              : "Sua consulta de " + service + " " + with + " " + when +
                  " foi cancelada pela clínica. Se quiser marcar outro horário, é só responder esta mensagem.";
  auto text = greeting + " " + said;
  const bool answerable = !(notice && r.change == "cancelled");
  std::vector<std::string> payloads;
  if (answerable)
    payloads = {reminder_choice_id(reminder_answer::confirm, r.appointment_id),
                reminder_choice_id(reminder_answer::reschedule, r.appointment_id),
                reminder_choice_id(reminder_answer::cancel, r.appointment_id)};
  if (answerable)
    p.interactive = detail::buttons(text, {{payloads[0], en ? "Confirm" : "Confirmar", {}},
                                           {payloads[1], en ? "Reschedule" : "Remarcar", {}},
                                           {payloads[2], en ? "Cancel" : "Cancelar", {}}});
  else
    p.interactive.text = text;
  p.templated.text = text;
  template_call t;
  if (notice) {
    // The notice template: "Olá {{1}}! {{2}}" (no buttons: typed answers still work).
    t = detail::notice_call(s.notice_template_name, s.notice_template_language, name, said, en);
  } else {
    // The reminder template's parameters: first name, service, professional, when, address.
    t.name = s.template_name;
    t.language = s.template_language;
    t.parameters = {detail::addressee(name, en), service, professional, when,
                    clinic.address.empty() ? clinic.name : clinic.address};
    t.button_payloads = payloads;
  }
  if (s.require_opt_in && !r.opt_in)
    p.no_template = "no_opt_in"; // buttons inside the window only
  else
    p.templated.templ = std::move(t);
  p.answerable = answerable;
  return p;
}

std::string reminder_choice_id(reminder_answer a, const std::string& appointment_id) {
  const char* verb = a == reminder_answer::confirm ? "confirm" : a == reminder_answer::reschedule ? "reschedule" : "cancel";
  return std::string(choice_prefix) + verb + ":" + appointment_id;
}

std::optional<std::pair<reminder_answer, std::string>> parse_reminder_choice(std::string_view id) {
  if (id.substr(0, choice_prefix.size()) != choice_prefix)
    return std::nullopt;
  id.remove_prefix(choice_prefix.size());
  auto colon = id.find(':');
  if (colon == std::string_view::npos || colon + 1 >= id.size())
    return std::nullopt;
  auto verb = id.substr(0, colon);
  std::string appointment(id.substr(colon + 1));
  if (verb == "confirm")
    return std::make_pair(reminder_answer::confirm, appointment);
  if (verb == "reschedule")
    return std::make_pair(reminder_answer::reschedule, appointment);
  if (verb == "cancel")
    return std::make_pair(reminder_answer::cancel, appointment);
  return std::nullopt;
}

std::optional<reminder_answer> read_reminder_answer(std::string_view text) {
  auto norm = normalize_text(text);
  // Moving and calling off first: "não vou poder ir, pode remarcar?" moves it.
  if (has_any_phrase(norm, reschedule_words()) || has_any_phrase(norm, other_time_phrases()) ||
      has_phrase(norm, "outro dia") || has_phrase(norm, "another day"))
    return reminder_answer::reschedule;
  static const word_list cannot = {"nao vou poder", "nao poderei", "nao vou conseguir", "nao consigo ir",
                                   "nao vou", "nao posso ir", "nao irei", "cant make it", "cannot make it",
                                   "wont be able", "cant come", "cant go", "will not be able"};
  if (has_any_phrase(norm, cancel_words()) || has_any_phrase(norm, cannot))
    return reminder_answer::cancel;
  static const word_list attending = {"vou sim", "estarei la", "estarei ai", "vou comparecer", "compareco",
                                      "confirmado", "confirmada", "tudo certo", "ill be there", "see you",
                                      "confirmed"};
  auto a = read_answer(norm, std::nullopt);
  if (a.no)
    return std::nullopt;
  if (has_any_phrase(norm, confirm_words()) || has_any_phrase(norm, attending) || a.yes)
    return reminder_answer::confirm;
  return std::nullopt;
}

bool reads_opt_out(std::string_view text) {
  auto norm = normalize_text(text);
  static const word_list alone = {"parar", "pare", "sair", "stop", "unsubscribe", "descadastrar"};
  static const word_list phrases = {"parar lembretes", "parar de receber", "nao quero mais receber",
                                    "nao quero receber", "cancelar lembretes", "stop reminders",
                                    "stop messages", "sair da lista"};
  return in_list(norm, alone) || has_any_phrase(norm, phrases);
}

std::string reminder_confirmed_text(const clinic_profile& clinic, const appointment& a, bool en) {
  const auto* tz = zone_or_default(clinic.timezone);
  auto summary = detail::appointment_summary(clinic, tz, a.service_id, a.professional_id, a.start, en);
  return en ? "Thank you! Your appointment is confirmed: " + summary + ". See you then! 💙"
            : "Obrigado! Sua consulta está confirmada: " + summary + ". Até lá! 💙";
}

std::string opted_out_text(bool en) {
  return en ? "All right, you won't get reminders or other messages from us unless you write again. "
              "Write anytime if you need us."
            : "Tudo bem, você não vai mais receber lembretes nem outras mensagens nossas, a menos que volte a "
              "escrever. Se precisar, é só chamar.";
}

} // namespace atendeai::core
