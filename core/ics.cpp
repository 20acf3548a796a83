#include "core/ics.hpp"

#include <date/date.h>

namespace atendeai::core {

namespace {

std::string utc(date::sys_seconds t) {
  return date::format("%Y%m%dT%H%M%SZ", t);
}

/// Appends one content line, folded at 75 octets (continuations start with a space),
/// never inside a UTF-8 sequence.
void line(std::string& out, std::string_view content) {
  size_t limit = 75;
  while (content.size() > limit) {
    size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(content[cut]) & 0xC0) == 0x80)
      --cut;
    out.append(content.substr(0, cut));
    out += "\r\n ";
    content.remove_prefix(cut);
    limit = 74; // the leading space counts
  }
  out.append(content);
  out += "\r\n";
}

} // namespace

std::string ics_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    switch (c) {
      case '\\': out += "\\\\"; break;
      case ';': out += "\\;"; break;
      case ',': out += "\\,"; break;
      case '\r':
        if (i + 1 < text.size() && text[i + 1] == '\n')
          ++i;
        out += "\\n";
        break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t')
          out += c; // other control characters have no place in a text value
    }
  }
  return out;
}

std::string first_name(std::string_view name) {
  auto start = name.find_first_not_of(" \t");
  if (start == std::string_view::npos)
    return {};
  auto end = name.find_first_of(" \t", start);
  return std::string(name.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
}

std::string render_ics(std::string_view name, const std::vector<ics_event>& events) {
  std::string out;
  line(out, "BEGIN:VCALENDAR");
  line(out, "VERSION:2.0");
  line(out, "PRODID:-//AtendeAI//Agenda//PT");
  line(out, "CALSCALE:GREGORIAN");
  line(out, "METHOD:PUBLISH");
  line(out, "X-WR-CALNAME:" + ics_escape(name));
  line(out, "X-PUBLISHED-TTL:PT15M");
  line(out, "REFRESH-INTERVAL;VALUE=DURATION:PT15M");
  for (auto& e : events) {
    line(out, "BEGIN:VEVENT");
    line(out, "UID:" + ics_escape(e.uid));
    line(out, "SEQUENCE:" + std::to_string(e.sequence));
    line(out, "DTSTAMP:" + utc(e.stamp));
    line(out, "LAST-MODIFIED:" + utc(e.stamp));
    line(out, "DTSTART:" + utc(e.starts_at));
    line(out, "DTEND:" + utc(e.ends_at));
    line(out, "SUMMARY:" + ics_escape(e.summary));
    if (!e.description.empty())
      line(out, "DESCRIPTION:" + ics_escape(e.description));
    if (!e.location.empty())
      line(out, "LOCATION:" + ics_escape(e.location));
    line(out, std::string("STATUS:") + (e.cancelled ? "CANCELLED" : e.confirmed ? "CONFIRMED" : "TENTATIVE"));
    line(out, "TRANSP:OPAQUE");
    line(out, "END:VEVENT");
  }
  line(out, "END:VCALENDAR");
  return out;
}

} // namespace atendeai::core
