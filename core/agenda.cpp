#include "core/agenda.hpp"

#include <cctype>
#include <cstdio>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace atendeai::core {

namespace {

using nlohmann::json;

// Reads digits s[pos, pos+n) as a number; -1 when they are not all digits.
int read_number(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size())
    return -1;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i])))
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

const json& field(const json& j, const char* name, const std::string& prefix) {
  if (!j.is_object() || !j.contains(name))
    throw std::invalid_argument(prefix + name + ": missing");
  return j.at(name);
}

std::string string_field(const json& j, const char* name, const std::string& prefix) {
  const auto& v = field(j, name, prefix);
  if (!v.is_string())
    throw std::invalid_argument(prefix + name + ": must be a string");
  return v.get<std::string>();
}

instant instant_field(const json& j, const char* name, const std::string& prefix) {
  auto t = parse_iso(string_field(j, name, prefix));
  if (!t)
    throw std::invalid_argument(prefix + name + ": not an ISO 8601 instant");
  return *t;
}

date::year_month_day date_field(const json& j, const char* name, const std::string& prefix) {
  auto d = parse_ymd(string_field(j, name, prefix));
  if (!d)
    throw std::invalid_argument(prefix + name + ": not a YYYY-MM-DD date");
  return *d;
}

slot parse_slot(const json& j, const std::string& prefix) {
  if (!j.is_object())
    throw std::invalid_argument(prefix.empty() ? "slot: must be an object" : prefix + ": must be an object");
  std::string p = prefix.empty() ? "" : prefix + ".";
  slot s;
  s.professional_id = string_field(j, "professional_id", p);
  s.service_id = string_field(j, "service_id", p);
  s.start = instant_field(j, "start", p);
  s.end = instant_field(j, "end", p);
  if (s.end <= s.start)
    throw std::invalid_argument(p + "end: must be after start");
  return s;
}

} // namespace

std::string_view to_string(appointment_status s) {
  switch (s) {
    case appointment_status::scheduled: return "scheduled";
    case appointment_status::confirmed: return "confirmed";
    case appointment_status::attended: return "attended";
    case appointment_status::no_show: return "no_show";
    case appointment_status::cancelled: return "cancelled";
  }
  return "scheduled";
}

std::optional<appointment_status> appointment_status_from_string(std::string_view s) {
  for (auto st : {appointment_status::scheduled, appointment_status::confirmed,
                  appointment_status::attended, appointment_status::no_show,
                  appointment_status::cancelled})
    if (to_string(st) == s)
      return st;
  return std::nullopt;
}

bool is_active(appointment_status s) {
  return s == appointment_status::scheduled || s == appointment_status::confirmed;
}

std::string format_iso(instant t) {
  auto day = date::floor<date::days>(t);
  date::year_month_day ymd{day};
  date::hh_mm_ss<std::chrono::milliseconds> hms{t - day};
  char buf[40];
  auto ms = hms.subseconds().count();
  if (ms != 0)
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                  unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                  int(hms.minutes().count()), int(hms.seconds().count()), int(ms));
  else
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", int(ymd.year()),
                  unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                  int(hms.minutes().count()), int(hms.seconds().count()));
  return buf;
}

std::optional<instant> parse_iso(std::string_view s) {
  // YYYY-MM-DDTHH:MM[:SS[.fff...]](Z|+HH:MM|-HH:MM|+HHMM)
  if (s.size() < 17 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      s[13] != ':')
    return std::nullopt;
  auto d = parse_ymd(s.substr(0, 10));
  int hh = read_number(s, 11, 2), mm = read_number(s, 14, 2);
  if (!d || hh < 0 || hh > 23 || mm < 0 || mm > 59)
    return std::nullopt;
  std::size_t pos = 16;
  int ss = 0, ms = 0;
  if (pos < s.size() && s[pos] == ':') {
    ss = read_number(s, pos + 1, 2);
    if (ss < 0 || ss > 60)
      return std::nullopt;
    pos += 3;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      int digits = 0;
      while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
        if (digits < 3)
          ms = ms * 10 + (s[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0)
        return std::nullopt;
      for (int i = digits; i < 3; ++i)
        ms *= 10;
    }
  }
  int offset_minutes = 0;
  if (pos >= s.size())
    return std::nullopt;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int sign = s[pos] == '-' ? -1 : 1;
    int oh = read_number(s, pos + 1, 2);
    std::size_t mpos = pos + 3;
    if (mpos < s.size() && s[mpos] == ':')
      ++mpos;
    int om = read_number(s, mpos, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59)
      return std::nullopt;
    offset_minutes = sign * (oh * 60 + om);
    pos = mpos + 2;
  } else {
    return std::nullopt;
  }
  if (pos != s.size())
    return std::nullopt;
  using namespace std::chrono;
  auto t = date::sys_days{*d} + hours{hh} + minutes{mm} + seconds{ss} + milliseconds{ms} -
           minutes{offset_minutes};
  return time_point_cast<milliseconds>(t);
}

std::string format_ymd(const date::year_month_day& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(d.year()), unsigned(d.month()),
                unsigned(d.day()));
  return buf;
}

std::optional<date::year_month_day> parse_ymd(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-')
    return std::nullopt;
  int y = read_number(s, 0, 4), m = read_number(s, 5, 2), d = read_number(s, 8, 2);
  if (y < 0 || m < 0 || d < 0)
    return std::nullopt;
  date::year_month_day ymd{date::year{y}, date::month{unsigned(m)}, date::day{unsigned(d)}};
  if (!ymd.ok())
    return std::nullopt;
  return ymd;
}

nlohmann::json to_json(const appointment& a) {
  return json{{"id", a.id},
              {"professional_id", a.professional_id},
              {"service_id", a.service_id},
              {"start", format_iso(a.start)},
              {"end", format_iso(a.end)},
              {"status", std::string(to_string(a.status))},
              {"contact_id", a.contact_id}};
}

appointment appointment_from_json(const nlohmann::json& j) {
  if (!j.is_object())
    throw std::invalid_argument("appointment: must be an object");
  appointment a;
  a.id = string_field(j, "id", "");
  a.professional_id = string_field(j, "professional_id", "");
  a.service_id = string_field(j, "service_id", "");
  a.start = instant_field(j, "start", "");
  a.end = instant_field(j, "end", "");
  if (a.end <= a.start)
    throw std::invalid_argument("end: must be after start");
  if (j.contains("status")) {
    auto st = appointment_status_from_string(string_field(j, "status", ""));
    if (!st)
      throw std::invalid_argument("status: unknown appointment status");
    a.status = *st;
  }
  if (j.contains("contact_id") && !j.at("contact_id").is_null())
    a.contact_id = string_field(j, "contact_id", "");
  return a;
}

nlohmann::json to_json(const slot& s) {
  return json{{"professional_id", s.professional_id},
              {"service_id", s.service_id},
              {"start", format_iso(s.start)},
              {"end", format_iso(s.end)}};
}

slot slot_from_json(const nlohmann::json& j) { return parse_slot(j, ""); }

nlohmann::json to_json(const hold& h) {
  return json{{"slot", to_json(h.slot)}, {"expires_at", format_iso(h.expires_at)}, {"owner", h.owner}};
}

hold hold_from_json(const nlohmann::json& j) {
  hold h;
  h.slot = parse_slot(field(j, "slot", ""), "slot");
  h.expires_at = instant_field(j, "expires_at", "");
  h.owner = string_field(j, "owner", "");
  return h;
}

nlohmann::json to_json(const absence& a) {
  return json{{"professional_id", a.professional_id}, {"from", format_iso(a.from)}, {"to", format_iso(a.to)}};
}

absence absence_from_json(const nlohmann::json& j) {
  absence a;
  a.professional_id = string_field(j, "professional_id", "");
  a.from = instant_field(j, "from", "");
  a.to = instant_field(j, "to", "");
  if (a.to <= a.from)
    throw std::invalid_argument("to: must be after from");
  return a;
}

nlohmann::json to_json(const closure& c) {
  return json{{"from", format_ymd(c.from)}, {"to", format_ymd(c.to)}, {"reason", c.reason}};
}

closure closure_from_json(const nlohmann::json& j) {
  if (!j.is_object())
    throw std::invalid_argument("closure: must be an object");
  closure c;
  if (j.contains("date")) {
    c.from = c.to = date_field(j, "date", "");
  } else {
    c.from = date_field(j, "from", "");
    c.to = j.contains("to") ? date_field(j, "to", "") : c.from;
  }
  if (c.to < c.from)
    throw std::invalid_argument("to: must not be before from");
  if (j.contains("reason") && !j.at("reason").is_null())
    c.reason = string_field(j, "reason", "");
  return c;
}

} // namespace atendeai::core
