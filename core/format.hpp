#pragma once
/// Text helpers shared by understanding and replies: normalisation of patient text and
/// the clinic's ways of writing prices, weekdays, dates and opening hours.

#include <cstdint>
#include <string>
#include <string_view>

#include <date/date.h>

#include "core/clinic.hpp"

namespace atendeai::core {

/// Lower-cases UTF-8 text, folds Portuguese accents (á→a, ç→c, ...), turns emojis and
/// punctuation into single spaces and trims: "Olá, Dr. José! 😊" → "ola dr jose".
/// Apostrophes are dropped ("what's" → "whats"); ':' and '/' between two digits are kept
/// so times and dates survive ("14:30", "25/11").
std::string normalize_text(std::string_view s);

/// A BRL price for patients: "R$ 350" for whole reais, "R$ 350,50" otherwise (any lang).
std::string format_price(int64_t cents, std::string_view lang);

/// The weekday's name, 0 = Sunday: pt "segunda"/"seg", en "Monday"/"Mon".
std::string weekday_name(int weekday, std::string_view lang, bool abbreviated);

/// A date as patients read it: "25/11".
std::string format_ddmm(const date::year_month_day& d);

/// Opening hours in one sentence fragment, consecutive days with equal intervals grouped,
/// closed days omitted: pt "de segunda a sexta, das 08:00 às 18:00; sábado, das 08:00 às
/// 12:00", en "Monday to Friday 08:00–18:00; Saturday 08:00–12:00".
std::string format_hours_summary(const weekly_hours& h, std::string_view lang);

} // namespace atendeai::core
