#pragma once
/// iCalendar (RFC 5545) feeds of a professional's or a clinic's appointments: the events
/// as calendar applications read them, rendered as text. Pure: no I/O, no clock reads.

#include <string>
#include <string_view>
#include <vector>

#include <date/date.h>

namespace atendeai::core {

/// One appointment as a calendar event.
struct ics_event {
  std::string uid;          ///< stable per appointment ("<appointment id>@atendeai")
  int sequence = 0;         ///< bumped by every change of time, professional, service or status
  date::sys_seconds starts_at;
  date::sys_seconds ends_at;
  date::sys_seconds stamp; ///< when the appointment last changed (DTSTAMP, LAST-MODIFIED)
  std::string summary;      ///< e.g. "Cardiologia — Maria" (patient data minimised)
  std::string description;
  std::string location;
  bool cancelled = false;   ///< STATUS:CANCELLED (the event stays, so calendars remove it)
  bool confirmed = false;   ///< STATUS:CONFIRMED, else TENTATIVE
};

/// The whole calendar: VCALENDAR with X-WR-CALNAME `name`, one VEVENT per event, times in
/// UTC, text escaped (backslash, semicolon, comma, newlines), lines folded at 75 octets
/// without splitting a UTF-8 character, CRLF line ends.
std::string render_ics(std::string_view name, const std::vector<ics_event>& events);

/// A text value escaped for iCalendar (RFC 5545 3.3.11).
std::string ics_escape(std::string_view text);

/// The first word of a name ("Maria da Silva" → "Maria"); "" for an empty name.
std::string first_name(std::string_view name);

} // namespace atendeai::core
