#include "app/understand_command.hpp"

#include <chrono>
#include <istream>
#include <optional>
#include <ostream>
#include <sstream>

#include <date/date.h>
#include <date/tz.h>
#include <nlohmann/json.hpp>

#include "core/demo_clinic.hpp"
#include "core/understanding.hpp"

namespace atendeai::app {

namespace {

using instant = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

/// Parses "2026-11-23T10:00:00Z", "2026-11-23T10:00:00.250Z", "2026-11-23T07:00:00-03:00"
/// (also with a space instead of 'T' or "+0000" offsets).
std::optional<instant> parse_instant(std::string s) {
  if (s.size() > 10 && s[10] == ' ')
    s[10] = 'T';
  for (const char* fmt : {"%FT%TZ", "%FT%Tz", "%FT%T%Ez", "%FT%T%z", "%FT%RZ", "%FT%R%Ez"}) {
    std::istringstream is(s);
    instant t;
    is >> date::parse(fmt, t);
    if (!is.fail() && is.peek() == std::char_traits<char>::eof())
      return t;
  }
  return std::nullopt;
}

} // namespace

int understand_command(const understand_options& opts, std::istream& in, std::ostream& out,
                       std::ostream& err) {
  if (!opts.lang.empty() && opts.lang != "pt-BR" && opts.lang != "en") {
    err << "--lang: expected pt-BR or en, got \"" << opts.lang << "\"\n";
    return 2;
  }
  instant now;
  if (opts.now.empty()) {
    now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  } else if (auto t = parse_instant(opts.now)) {
    now = *t;
  } else {
    err << "--now: expected an ISO-8601 instant such as 2026-11-23T10:00:00Z or "
           "2026-11-23T07:00:00-03:00, got \"" << opts.now << "\"\n";
    return 2;
  }
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(opts.tz);
  } catch (const std::exception&) {
    err << "--tz: unknown IANA time zone \"" << opts.tz << "\" (e.g. America/Sao_Paulo)\n";
    return 2;
  }
  core::clinic_profile clinic;
  if (opts.clinic == "demo") {
    clinic = core::demo_clinic();
  } else if (!opts.clinic.empty()) {
    err << "--clinic: only \"demo\" is known, got \"" << opts.clinic << "\"\n";
    return 2;
  }
  auto local = zone->to_local(now);
  const date::year_month_day today{date::floor<date::days>(local)};
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    auto u = core::understand(line, today, clinic, opts.lang);
    out << core::to_json(u, clinic).dump() << '\n';
  }
  out.flush();
  return 0;
}

} // namespace atendeai::app
