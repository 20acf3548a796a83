#pragma once
/// Dates and local times as the core unit tests write them: a calendar day, a local time
/// in a zone, and a local time in São Paulo (the demo clinic's zone, UTC-3 all year).
/// Header-only, no CAF.

#include <date/tz.h>

#include "core/slots.hpp"

namespace atendeai::test {

/// The calendar day y-m-d.
inline date::year_month_day ymd(int y, unsigned m, unsigned d) {
  return date::year_month_day{date::year{y}, date::month{m}, date::day{d}};
}

/// A local time in a zone as an instant.
inline core::instant local(const char* zone, int y, unsigned m, unsigned d, int h, int mi = 0) {
  return *core::local_instant(date::locate_zone(zone), ymd(y, m, d), h * 60 + mi);
}

/// A local time in São Paulo as an instant.
inline core::instant sp(int y, unsigned m, unsigned d, int h, int mi = 0) {
  return local("America/Sao_Paulo", y, m, d, h, mi);
}

} // namespace atendeai::test
