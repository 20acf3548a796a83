#include "core/flow.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/format.hpp"

namespace atendeai::core {

namespace {

using nlohmann::json;

// ---------------------------------------------------------------- JSON helpers

std::optional<day_period> period_from_label(std::string_view s) {
  for (auto p : {day_period::morning, day_period::afternoon, day_period::evening})
    if (to_string(p) == s)
      return p;
  return std::nullopt;
}

template <class T, class F>
void put_opt(json& j, const char* key, const std::optional<T>& v, F&& f) {
  if (v)
    j[key] = f(*v);
}

std::string get_string(const json& j, const char* key, const std::string& fallback = {}) {
  if (!j.contains(key) || j.at(key).is_null())
    return fallback;
  if (!j.at(key).is_string())
    throw std::invalid_argument(std::string(key) + ": must be a string");
  return j.at(key).get<std::string>();
}

std::optional<std::string> get_opt_string(const json& j, const char* key) {
  if (!j.contains(key) || j.at(key).is_null())
    return std::nullopt;
  return get_string(j, key);
}

std::optional<date::year_month_day> get_opt_date(const json& j, const char* key) {
  auto s = get_opt_string(j, key);
  if (!s)
    return std::nullopt;
  auto d = parse_ymd(*s);
  if (!d)
    throw std::invalid_argument(std::string(key) + ": not a YYYY-MM-DD date");
  return d;
}

instant get_instant(const json& j, const char* key) {
  auto s = get_opt_string(j, key);
  if (!s)
    return instant{};
  auto t = parse_iso(*s);
  if (!t)
    throw std::invalid_argument(std::string(key) + ": not an ISO 8601 instant");
  return *t;
}

template <class T, class F>
std::optional<T> get_opt_object(const json& j, const char* key, F&& parse) {
  if (!j.contains(key) || j.at(key).is_null())
    return std::nullopt;
  try {
    return parse(j.at(key));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string(key) + "." + e.what());
  }
}

template <class T, class F>
std::vector<T> get_array(const json& j, const char* key, F&& parse) {
  std::vector<T> out;
  if (!j.contains(key) || j.at(key).is_null())
    return out;
  if (!j.at(key).is_array())
    throw std::invalid_argument(std::string(key) + ": must be an array");
  std::size_t i = 0;
  for (const auto& item : j.at(key)) {
    try {
      out.push_back(parse(item));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string(key) + "[" + std::to_string(i) + "]." + e.what());
    }
    ++i;
  }
  return out;
}

} // namespace

// ---------------------------------------------------------------- labels

std::string_view to_string(flow_kind k) {
  switch (k) {
    case flow_kind::book: return "book";
    case flow_kind::reschedule: return "reschedule";
    case flow_kind::cancel: return "cancel";
    case flow_kind::confirm: return "confirm";
  }
  return "book";
}

std::string_view to_string(flow_step s) {
  switch (s) {
    case flow_step::start: return "start";
    case flow_step::service_selection: return "service_selection";
    case flow_step::date_time: return "date_time";
    case flow_step::confirmation: return "confirmation";
    case flow_step::waitlist: return "waitlist";
    case flow_step::done: return "done";
    case flow_step::cancelled: return "cancelled";
    case flow_step::expired: return "expired";
  }
  return "start";
}

std::string_view to_string(flow_action_kind k) {
  switch (k) {
    case flow_action_kind::hold_slot: return "hold_slot";
    case flow_action_kind::release_hold: return "release_hold";
    case flow_action_kind::book: return "book";
    case flow_action_kind::reschedule: return "reschedule";
    case flow_action_kind::cancel_appointment: return "cancel_appointment";
    case flow_action_kind::confirm_appointment: return "confirm_appointment";
    case flow_action_kind::join_waitlist: return "join_waitlist";
  }
  return "hold_slot";
}

std::optional<flow_kind> flow_kind_from_string(std::string_view s) {
  for (auto k : {flow_kind::book, flow_kind::reschedule, flow_kind::cancel, flow_kind::confirm})
    if (to_string(k) == s)
      return k;
  return std::nullopt;
}

std::optional<flow_step> flow_step_from_string(std::string_view s) {
  for (auto k : {flow_step::start, flow_step::service_selection, flow_step::date_time, flow_step::confirmation,
                 flow_step::waitlist, flow_step::done, flow_step::cancelled, flow_step::expired})
    if (to_string(k) == s)
      return k;
  return std::nullopt;
}

// ---------------------------------------------------------------- the flow state

nlohmann::json to_json(const flow_state& s) {
  json j;
  j["kind"] = std::string(to_string(s.kind));
  j["step"] = std::string(to_string(s.step));
  j["lang"] = s.lang;
  j["hold_owner"] = s.hold_owner;
  put_opt(j, "service_id", s.service_id, [](const std::string& v) { return v; });
  put_opt(j, "professional_id", s.professional_id, [](const std::string& v) { return v; });
  auto ymd = [](const date::year_month_day& d) { return format_ymd(d); };
  put_opt(j, "date", s.date, ymd);
  put_opt(j, "date_from", s.date_from, ymd);
  put_opt(j, "date_to", s.date_to, ymd);
  put_opt(j, "time", s.time, [](minute_of_day m) { return format_hhmm(m); });
  put_opt(j, "period", s.period, [](day_period p) { return std::string(to_string(p)); });
  put_opt(j, "chosen", s.chosen, [](const slot& v) { return to_json(v); });
  j["awaiting_clinic"] = s.awaiting_clinic;
  j["offered_slots"] = json::array();
  for (const auto& v : s.offered_slots)
    j["offered_slots"].push_back(to_json(v));
  j["offered_services"] = s.offered_services;
  j["offered_appointments"] = json::array();
  for (const auto& v : s.offered_appointments)
    j["offered_appointments"].push_back(to_json(v));
  put_opt(j, "target", s.target, [](const appointment& v) { return to_json(v); });
  put_opt(j, "result", s.result, [](const appointment& v) { return to_json(v); });
  j["started_at"] = format_iso(s.started_at);
  j["last_activity"] = format_iso(s.last_activity);
  return j;
}

flow_state flow_state_from_json(const nlohmann::json& j) {
  if (!j.is_object())
    throw std::invalid_argument("flow: must be an object");
  flow_state s;
  if (auto k = get_opt_string(j, "kind")) {
    auto v = flow_kind_from_string(*k);
    if (!v)
      throw std::invalid_argument("kind: unknown flow kind");
    s.kind = *v;
  }
  if (auto k = get_opt_string(j, "step")) {
    auto v = flow_step_from_string(*k);
    if (!v)
      throw std::invalid_argument("step: unknown flow step");
    s.step = *v;
  }
  s.lang = get_string(j, "lang", "pt-BR");
  s.hold_owner = get_string(j, "hold_owner");
  s.service_id = get_opt_string(j, "service_id");
  s.professional_id = get_opt_string(j, "professional_id");
  s.date = get_opt_date(j, "date");
  s.date_from = get_opt_date(j, "date_from");
  s.date_to = get_opt_date(j, "date_to");
  if (auto t = get_opt_string(j, "time")) {
    auto m = parse_hhmm(*t);
    if (!m)
      throw std::invalid_argument("time: not HH:MM");
    s.time = m;
  }
  if (auto p = get_opt_string(j, "period")) {
    s.period = period_from_label(*p);
    if (!s.period)
      throw std::invalid_argument("period: unknown period");
  }
  s.chosen = get_opt_object<slot>(j, "chosen", slot_from_json);
  if (j.contains("awaiting_clinic") && !j.at("awaiting_clinic").is_null()) {
    if (!j.at("awaiting_clinic").is_boolean())
      throw std::invalid_argument("awaiting_clinic: must be a boolean");
    s.awaiting_clinic = j.at("awaiting_clinic").get<bool>();
  }
  s.offered_slots = get_array<slot>(j, "offered_slots", slot_from_json);
  s.offered_services = get_array<std::string>(j, "offered_services", [](const json& v) {
    if (!v.is_string())
      throw std::invalid_argument("must be a string");
    return v.get<std::string>();
  });
  s.offered_appointments = get_array<appointment>(j, "offered_appointments", appointment_from_json);
  s.target = get_opt_object<appointment>(j, "target", appointment_from_json);
  s.result = get_opt_object<appointment>(j, "result", appointment_from_json);
  s.started_at = get_instant(j, "started_at");
  s.last_activity = get_instant(j, "last_activity");
  return s;
}

} // namespace atendeai::core
