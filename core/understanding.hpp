#pragma once
/// Understanding of one patient message: intent with confidence, language, entities.
/// Pure: no network, no clock reads (the caller passes "today" in the clinic's zone).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <date/date.h>
#include <nlohmann/json_fwd.hpp>

#include "core/clinic.hpp"

namespace atendeai::core {

/// Intent labels, exactly as in API.md.
enum class intent {
  greeting, book, reschedule, cancel, my_appointments, hours, services, location,
  human, goodbye, clinic_question, unknown
};

/// Part of the day: morning 06–12, afternoon 12–18, evening 18–22.
enum class day_period { morning, afternoon, evening };

/// Entities found in a message; absent ones are empty.
struct entities {
  std::optional<date::year_month_day> date;      ///< a single day (a reschedule: the new one)
  /// A weekday and a day of the month that no date within a year has both ("sexta dia
  /// 5" when no 5th is a Friday): the two dates they name apart, to ask which one.
  std::vector<date::year_month_day> date_choices;
  std::optional<date::year_month_day> original_date; ///< a reschedule "de amanhã para sexta": from
  std::optional<date::year_month_day> new_date;      ///< ... and to (also in `date`)
  std::optional<date::year_month_day> date_from; ///< a range ("semana que vem")
  std::optional<date::year_month_day> date_to;
  std::optional<minute_of_day> time;             ///< "às 14h" → 840
  std::optional<day_period> period;
  std::optional<std::string> service;            ///< matched service id (catalogue)
  std::optional<std::string> professional;       ///< matched professional id (catalogue)
  std::optional<bool> yes_no;                    ///< "sim"/"não", "yes"/"no"
};

/// The result of understanding one message.
struct understanding {
  core::intent intent = core::intent::unknown;
  double confidence = 0.0; ///< 0..1
  std::string lang = "pt-BR"; ///< "pt-BR" or "en"
  core::entities entities;
  /// For `unknown`: the message is about the clinic but outside what the assistant knows
  /// (a symptom, a vague request): the reply offers a human instead of "I only help with".
  /// Always true for `clinic_question`.
  bool clinic_topic = false;
  /// For `clinic_question`: what it asks about ("insurance", "payment", "parking",
  /// "transport", "preparation", "accessibility", "results", "documents", "companion",
  /// "amenities", "walk_in", "telehealth", "duration", "language", "other"); empty
  /// otherwise.
  std::string topic;
};

/// The label of an intent ("my_appointments").
std::string_view to_string(intent i);
/// The label of a period ("morning").
std::string_view to_string(day_period p);

/// Understands one message. `today` is the current local date in the clinic's zone;
/// `clinic` supplies the catalogue for service/professional matching (may be empty);
/// `lang_hint` ("pt-BR", "en" or empty) breaks ties in language detection.
understanding understand(std::string_view text, const date::year_month_day& today,
                         const clinic_profile& clinic, std::string_view lang_hint = {});

/// The language a text is written in, by its common words: "en", "pt-BR", or empty when
/// its words do not tell (used for the clinic's own texts, e.g. a FAQ answer).
std::string language_of(std::string_view text);

/// The JSON form printed by `atendeai understand`: {"intent","confidence","lang",
/// "entities":{...}} with absent entities omitted, service/professional by name, and
/// "topic" beside "intent" for a `clinic_question`.
nlohmann::json to_json(const understanding& u, const clinic_profile& clinic);

} // namespace atendeai::core
