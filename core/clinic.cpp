#include "core/clinic.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace atendeai::core {

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
      bad(path, "unknown weekday (use sunday..saturday)");
    if (!value.is_array())
      bad(path, "must be an array of {start,end}");
    std::vector<time_interval> ivs;
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
      ivs.push_back(t);
    }
    std::sort(ivs.begin(), ivs.end(),
              [](const time_interval& a, const time_interval& b) { return a.start < b.start; });
    for (size_t i = 1; i < ivs.size(); ++i)
      if (ivs[i].start < ivs[i - 1].end)
        bad(path, "intervals overlap");
    h[day] = std::move(ivs);
  }
  return h;
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
      {"auto_escalation", b.auto_escalation}, {"escalation_threshold", b.escalation_threshold}}},
    {"working_hours", hours_to_json(p.working_hours)},
    {"scheduling_policies",
     {{"min_advance_hours", p.policy.min_advance_hours},
      {"max_advance_days", p.policy.max_advance_days},
      {"slot_duration_minutes", p.policy.slot_duration_minutes},
      {"max_daily_appointments", p.policy.max_daily_appointments}}},
  };
}

void context_from_json(const nlohmann::json& j, clinic_profile& p) {
  if (!j.is_object())
    bad("context", "must be an object");
  for (auto& [k, _] : j.items())
    if (k != "ai_personality" && k != "ai_behavior" && k != "working_hours"
        && k != "scheduling_policies")
      bad(k, "unknown field");
  if (auto it = j.find("ai_personality"); it != j.end()) {
    if (!it->is_object())
      bad("ai_personality", "must be an object");
    auto& pe = p.ai_personality;
    const std::string path = "ai_personality";
    pe.name = get_field<std::string>(*it, "name", path, pe.name);
    pe.tone = get_field<std::string>(*it, "tone", path, pe.tone);
    pe.formality_level = get_field<std::string>(*it, "formality_level", path, pe.formality_level);
    pe.languages = get_field<std::vector<std::string>>(*it, "languages", path, pe.languages);
    pe.greeting = get_field<std::string>(*it, "greeting", path, pe.greeting);
    pe.farewell = get_field<std::string>(*it, "farewell", path, pe.farewell);
    if (pe.name.empty() || pe.name.size() > 60)
      bad("ai_personality.name", "must have 1 to 60 characters");
  }
  if (auto it = j.find("ai_behavior"); it != j.end()) {
    if (!it->is_object())
      bad("ai_behavior", "must be an object");
    auto& b = p.ai_behavior;
    const std::string path = "ai_behavior";
    b.proactivity = get_field<bool>(*it, "proactivity", path, b.proactivity);
    b.suggestions = get_field<bool>(*it, "suggestions", path, b.suggestions);
    b.feedback = get_field<bool>(*it, "feedback", path, b.feedback);
    b.auto_escalation = get_field<bool>(*it, "auto_escalation", path, b.auto_escalation);
    b.escalation_threshold = get_int(*it, "escalation_threshold", path, b.escalation_threshold, 1, 20);
  }
  if (auto it = j.find("working_hours"); it != j.end())
    p.working_hours = hours_from_json(*it, "working_hours");
  if (auto it = j.find("scheduling_policies"); it != j.end()) {
    if (!it->is_object())
      bad("scheduling_policies", "must be an object");
    auto& s = p.policy;
    const std::string path = "scheduling_policies";
    s.min_advance_hours = get_int(*it, "min_advance_hours", path, s.min_advance_hours, 0, 24 * 60);
    s.max_advance_days = get_int(*it, "max_advance_days", path, s.max_advance_days, 1, 730);
    s.slot_duration_minutes =
      get_int(*it, "slot_duration_minutes", path, s.slot_duration_minutes, 5, 480);
    s.max_daily_appointments =
      get_int(*it, "max_daily_appointments", path, s.max_daily_appointments, 1, 500);
  }
}

} // namespace atendeai::core
