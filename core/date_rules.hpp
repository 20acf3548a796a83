#pragma once
/// How patients' words for days, times and parts of the day become dates and clock times
/// (the rules of API.md), relative to "today" in the clinic's zone.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <date/date.h>

#include "core/clinic.hpp"
#include "core/understanding.hpp"

namespace atendeai::core {

/// Weekday of a date, 0 = Sunday .. 6 = Saturday.
int weekday_of(const date::year_month_day& d);

/// The date `n` days after `d` (n may be negative).
date::year_month_day add_days(const date::year_month_day& d, int n);

/// The next date with this weekday strictly after today ("sexta", "próxima segunda").
date::year_month_day next_weekday_after(const date::year_month_day& today, int weekday);

/// The next date on or after today whose day of month is `day` ("dia 25"); months without
/// that day are skipped ("dia 31" in November is 31 December). Requires 1 <= day <= 31.
date::year_month_day next_day_of_month(const date::year_month_day& today, unsigned day);

/// The next date on or after today with this day and month ("25/11"); 29/02 waits for a
/// leap year. nullopt when the day never exists in that month (31/04).
std::optional<date::year_month_day> next_day_month(const date::year_month_day& today,
                                                   unsigned day, unsigned month);

/// The first date from today on (within a year) with this weekday and day of the month,
/// and month when `month` is not 0; nullopt when there is none.
std::optional<date::year_month_day> next_weekday_and_day(const date::year_month_day& today, int weekday,
                                                         unsigned day, unsigned month = 0);

/// Monday..Sunday of the week after today's ("semana que vem", "next week").
std::pair<date::year_month_day, date::year_month_day>
next_week(const date::year_month_day& today);

/// Dates, clock time and period found in a message's words (normalize_text output split on
/// spaces). Only the date-related fields of the result are filled. The first day named is
/// `date`; a weekday and a day of the month said together name one date that has both
/// (or `date_choices` when none has); a second day named after "para"/"pra"/"to" makes
/// the first `original_date` and the second `new_date`.
entities scan_when(const std::vector<std::string>& words, const date::year_month_day& today);

} // namespace atendeai::core
