#include "core/clinic.hpp"

#include <algorithm>
#include <initializer_list>
#include <cstdio>
#include <stdexcept>

#include <date/tz.h>
#include <nlohmann/json.hpp>

namespace atendeai::core {

const std::string& display_name(const service& s, std::string_view lang) {
  return lang == "en" && !s.name_en.empty() ? s.name_en : s.name;
}


namespace {

constexpr const char* weekday_keys[7] = {"sunday", "monday", "tuesday", "wednesday",
                                         "thursday", "friday", "saturday"};

[[noreturn]] void bad(const std::string& field, const std::string& why) {
  throw std::invalid_argument(field + ": " + why);
}

template <class T>
T get_field(const nlohmann::json& obj, const char* key, const std::string& path, T fallback) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return fallback;
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    bad(path + "." + key, "wrong type");
  }
}

/// Refuses members of `obj` not in `allowed`, naming "path.member".
void only_members(const nlohmann::json& obj, const std::string& path, std::initializer_list<const char*> allowed) {
  for (auto& [k, _] : obj.items()) {
    bool known = false;
    for (auto a : allowed)
      known = known || k == a;
    if (!known)
      bad(path + "." + (k.size() > 64 ? k.substr(0, 64) : k), "unknown field");
  }
}

/// A string member of at most `max_len` bytes without control characters; when
/// `choices` is not empty, one of them.
std::string get_text(const nlohmann::json& obj, const char* key, const std::string& path, std::string fallback,
                     size_t max_len, std::initializer_list<const char*> choices = {}) {
  auto v = get_field<std::string>(obj, key, path, std::move(fallback));
  if (v.size() > max_len)
    bad(path + "." + key, "must have at most " + std::to_string(max_len) + " bytes");
  for (unsigned char c : v)
    if (c < 0x20 || c == 0x7f)
      bad(path + "." + key, "must not contain control characters");
  if (choices.size() == 0)
    return v;
  std::string names;
  for (auto c : choices) {
    if (v == c)
      return v;
    names += names.empty() ? c : std::string(", ") + c;
  }
  bad(path + "." + key, "must be one of " + names);
}

int get_int(const nlohmann::json& obj, const char* key, const std::string& path, int fallback,
            int lo, int hi) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return fallback;
  if (!it->is_number_integer())
    bad(path + "." + key, "must be an integer");
  auto v = it->get<int64_t>();
  if (v < lo || v > hi)
    bad(path + "." + key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return static_cast<int>(v);
}

} // namespace

std::optional<minute_of_day> parse_hhmm(const std::string& s) {
  if (s.size() != 5 || s[2] != ':')
    return std::nullopt;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!digit(s[0]) || !digit(s[1]) || !digit(s[3]) || !digit(s[4]))
    return std::nullopt;
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0))
    return std::nullopt;
  return h * 60 + m;
}

std::string format_hhmm(minute_of_day m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d", m / 60, m % 60);
  return buf;
}

const char* weekday_key(int weekday) {
  return weekday_keys[((weekday % 7) + 7) % 7];
}

nlohmann::json hours_to_json(const weekly_hours& h) {
  auto j = nlohmann::json::object();
  for (int d = 0; d < 7; ++d) {
    auto arr = nlohmann::json::array();
    for (auto& iv : h[d])
      arr.push_back({{"start", format_hhmm(iv.start)}, {"end", format_hhmm(iv.end)}});
    j[weekday_keys[d]] = std::move(arr);
  }
  return j;
}

weekly_hours hours_from_json(const nlohmann::json& j, const std::string& field) {
  if (!j.is_object())
    bad(field, "must be an object of weekdays");
  weekly_hours h;
  for (auto& [key, value] : j.items()) {
    int day = -1;
    for (int d = 0; d < 7; ++d)
      if (key == weekday_keys[d])
        day = d;
    auto path = field + "." + key;
    if (day < 0)
      bad(path, "unknown weekday (use monday..sunday)");
    if (!value.is_array())
      bad(path, "must be an array of {start,end}");
    if (value.size() > 12)
      bad(path, "must have at most 12 intervals");
    std::vector<std::pair<time_interval, size_t>> ivs; // interval, index in the request
    for (size_t i = 0; i < value.size(); ++i) {
      auto ipath = path + "[" + std::to_string(i) + "]";
      auto& iv = value[i];
      if (!iv.is_object())
        bad(ipath, "must be an object {start,end}");
      for (auto& [k, _] : iv.items())
        if (k != "start" && k != "end")
          bad(ipath + "." + k, "unknown field");
      auto read = [&](const char* k) {
        auto it = iv.find(k);
        if (it == iv.end() || !it->is_string())
          bad(ipath + "." + k, "required, \"HH:MM\"");
        auto m = parse_hhmm(it->get<std::string>());
        if (!m)
          bad(ipath + "." + k, "must be \"HH:MM\"");
        return *m;
      };
      time_interval t{read("start"), read("end")};
      if (t.end <= t.start)
        bad(ipath + ".end", "must be after start");
      ivs.emplace_back(t, i);
    }
    std::sort(ivs.begin(), ivs.end(), [](const auto& a, const auto& b) { return a.first.start < b.first.start; });
    for (size_t i = 1; i < ivs.size(); ++i)
      if (ivs[i].first.start < ivs[i - 1].first.end) {
        // Name the interval whose start falls inside the other one.
        bad(path + "[" + std::to_string(ivs[i].second) + "].start",
            "overlaps " + path + "[" + std::to_string(ivs[i - 1].second) + "]");
      }
    std::vector<time_interval> sorted;
    for (auto& [t, _] : ivs)
      sorted.push_back(t);
    h[day] = std::move(sorted);
  }
  return h;
}

bool known_timezone(const std::string& name) {
  if (name.empty() || name.size() > 64)
    return false;
  try {
    date::locate_zone(name);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

nlohmann::json context_to_json(const clinic_profile& p) {
  auto& pe = p.ai_personality;
  auto& b = p.ai_behavior;
  return {
    {"ai_personality",
     {{"name", pe.name}, {"tone", pe.tone}, {"formality_level", pe.formality_level},
      {"languages", pe.languages}, {"greeting", pe.greeting}, {"farewell", pe.farewell}}},
    {"ai_behavior",
     {{"proactivity", b.proactivity}, {"suggestions", b.suggestions}, {"feedback", b.feedback},
      {"auto_escalation", b.auto_escalation}, {"escalation_threshold", b.escalation_threshold},
      {"use_model", b.use_model}}},
    {"working_hours", hours_to_json(p.working_hours)},
    {"scheduling_policies", policy_to_json(p.policy)},
  };
}

scheduling_policy policy_from_json(const nlohmann::json& j, scheduling_policy base, const std::string& path) {
  if (!j.is_object())
    bad(path, "must be an object");
  only_members(j, path, {"min_advance_hours", "max_advance_days", "slot_duration_minutes", "max_daily_appointments"});
  base.min_advance_hours = get_int(j, "min_advance_hours", path, base.min_advance_hours, 0, 24 * 60);
  base.max_advance_days = get_int(j, "max_advance_days", path, base.max_advance_days, 1, 730);
  base.slot_duration_minutes = get_int(j, "slot_duration_minutes", path, base.slot_duration_minutes, 5, 480);
  base.max_daily_appointments = get_int(j, "max_daily_appointments", path, base.max_daily_appointments, 1, 500);
  return base;
}

nlohmann::json policy_to_json(const scheduling_policy& s) {
  return {{"min_advance_hours", s.min_advance_hours},
          {"max_advance_days", s.max_advance_days},
          {"slot_duration_minutes", s.slot_duration_minutes},
          {"max_daily_appointments", s.max_daily_appointments}};
}

void context_from_json(const nlohmann::json& j, clinic_profile& p) {
  if (!j.is_object())
    bad("context", "must be an object");
  for (auto& [k, _] : j.items())
    if (k != "ai_personality" && k != "ai_behavior" && k != "working_hours" && k != "scheduling_policies")
      bad(k.size() > 64 ? k.substr(0, 64) : k, "unknown field");
  if (auto it = j.find("ai_personality"); it != j.end()) {
    const std::string path = "ai_personality";
    if (!it->is_object())
      bad(path, "must be an object");
    only_members(*it, path, {"name", "tone", "formality_level", "languages", "greeting", "farewell"});
    auto& pe = p.ai_personality;
    pe.name = get_text(*it, "name", path, pe.name, 60);
    pe.tone = get_text(*it, "tone", path, pe.tone, 40, {"friendly", "professional_friendly", "formal"});
    pe.formality_level = get_text(*it, "formality_level", path, pe.formality_level, 10, {"low", "medium", "high"});
    pe.greeting = get_text(*it, "greeting", path, pe.greeting, 500);
    pe.farewell = get_text(*it, "farewell", path, pe.farewell, 500);
    if (auto langs = it->find("languages"); langs != it->end() && !langs->is_null()) {
      if (!langs->is_array() || langs->empty() || langs->size() > 2)
        bad(path + ".languages", "must be a list of 1 or 2 of pt-BR, en");
      std::vector<std::string> out;
      for (size_t i = 0; i < langs->size(); ++i) {
        auto& l = (*langs)[i];
        if (!l.is_string() || (l != "pt-BR" && l != "en"))
          bad(path + ".languages[" + std::to_string(i) + "]", "must be pt-BR or en");
        out.push_back(l.get<std::string>());
      }
      pe.languages = std::move(out);
    }
    if (pe.name.empty())
      bad(path + ".name", "must have 1 to 60 characters");
  }
  if (auto it = j.find("ai_behavior"); it != j.end()) {
    const std::string path = "ai_behavior";
    if (!it->is_object())
      bad(path, "must be an object");
    only_members(*it, path, {"proactivity", "suggestions", "feedback", "auto_escalation", "escalation_threshold",
                                   "use_model"});
    auto& b = p.ai_behavior;
    b.proactivity = get_field<bool>(*it, "proactivity", path, b.proactivity);
    b.suggestions = get_field<bool>(*it, "suggestions", path, b.suggestions);
    b.feedback = get_field<bool>(*it, "feedback", path, b.feedback);
    b.auto_escalation = get_field<bool>(*it, "auto_escalation", path, b.auto_escalation);
    b.escalation_threshold = get_int(*it, "escalation_threshold", path, b.escalation_threshold, 1, 20);
    b.use_model = get_field<bool>(*it, "use_model", path, b.use_model);
  }
  if (auto it = j.find("working_hours"); it != j.end())
    p.working_hours = hours_from_json(*it, "working_hours");
  if (auto it = j.find("scheduling_policies"); it != j.end())
    p.policy = policy_from_json(*it, p.policy, "scheduling_policies");
}

} // namespace atendeai::core
