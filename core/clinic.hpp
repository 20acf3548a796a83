#pragma once
/// A clinic's data as the conversation and scheduling logic sees it (the seeds'
/// contextualization JSON plus catalogue). Pure values, no I/O.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace atendeai::core {

/// Minutes since local midnight, 0..1440.
using minute_of_day = int;

/// A half-open local time interval [start, end) within one day.
struct time_interval {
  minute_of_day start = 0;
  minute_of_day end = 0;
  friend bool operator==(const time_interval& a, const time_interval& b) {
    return a.start == b.start && a.end == b.end;
  }
};

/// Opening intervals per weekday, index 0 = Sunday .. 6 = Saturday.
using weekly_hours = std::array<std::vector<time_interval>, 7>;

/// The assistant's voice (seeds: ai_personality).
struct personality {
  std::string name = "Sofia";             ///< assistant name
  std::string tone = "friendly";          ///< friendly | professional_friendly | formal
  std::string formality_level = "medium"; ///< low | medium | high
  std::vector<std::string> languages{"pt-BR", "en"};
  std::string greeting;                   ///< optional custom greeting (clinic language)
  std::string farewell;                   ///< optional custom farewell (clinic language)
};

/// How the assistant behaves (seeds: ai_behavior).
struct behavior {
  bool proactivity = true;
  bool suggestions = true;
  bool feedback = true;
  bool auto_escalation = true;
  int escalation_threshold = 3; ///< messages in a row not understood before hand-over
  /// The clinic lets the deployment's language model (ai.enabled) answer what the rules
  /// cannot and transcribe voice notes: patients' messages then go to the provider
  /// (redacted), the clinic's decision under LGPD.
  bool use_model = false;
};

/// Booking rules (seeds: scheduling_policies).
struct scheduling_policy {
  int min_advance_hours = 2;
  int max_advance_days = 30;
  int slot_duration_minutes = 60;
  int max_daily_appointments = 8; ///< per professional and day
};

/// A bookable service.
struct service {
  std::string id;   ///< UUID
  std::string name; ///< e.g. "Cardiologia"
  int duration_minutes = 60;
  int64_t price_cents = 0; ///< BRL cents
  bool active = true;
  std::string name_en; ///< the English name, e.g. "Cardiology"; "" = none given
};

/// The name patients read in `lang` ("en": the English name when the clinic gave one).
const std::string& display_name(const service& s, std::string_view lang);

/// A professional and the services they perform.
struct professional {
  std::string id; ///< UUID
  std::string name; ///< e.g. "Dra. Ana Souza"
  std::string crm;
  std::vector<std::string> specialties;
  std::vector<std::string> service_ids;
  std::optional<weekly_hours> hours; ///< own hours; absent = the clinic's
  /// Own booking rules (the clinic's with this professional's overrides); absent = the clinic's.
  std::optional<scheduling_policy> policy;
  bool active = true;
};

/// One entry of the clinic's knowledge base (`/api/v1/clinics/{id}/faq`): what patients
/// ask ("Vocês aceitam Unimed?") and the clinic's own answer.
struct faq_entry {
  std::string id;                ///< UUID
  std::string question;          ///< as a patient would ask it
  std::string answer;            ///< sent as written
  std::vector<std::string> tags; ///< e.g. {"insurance", "convênio", "unimed"}
  std::string lang;              ///< "pt-BR", "en" or "" (any language)
};

/// The zone of a clinic that names none, and the fallback for a name the tz database
/// does not know.
inline constexpr const char* default_timezone = "America/Sao_Paulo";

/// A clinic's choices (GET/PUT /api/v1/clinics/{id}/privacy).
struct privacy_settings {
  /// health_protection (LGPD art. 11 II f: care without consent, the notice is shown) or
  /// consent (asked before health matters); none: the deployment's privacy.default_legal_basis.
  std::optional<std::string> legal_basis;
  std::string notice;      ///< the clinic's own short notice; "": one built from its data
  std::string policy_url;  ///< the full privacy policy
  std::string dpo_contact; ///< the data protection officer (encarregado): e-mail or phone
  int retention_days = 365;             ///< conversations kept this long
  std::string on_erasure = "anonymise"; ///< anonymise | restrict (a legal duty to keep records)
};

/// Everything about one clinic that answers and bookings need.
struct clinic_profile {
  std::string id;   ///< UUID
  std::string name; ///< "Clínica Exemplo"
  std::string timezone = default_timezone; ///< IANA zone
  std::string language = "pt-BR";             ///< default language: pt-BR | en
  std::string address;
  std::string phone;
  personality ai_personality;
  behavior ai_behavior;
  weekly_hours working_hours;
  scheduling_policy policy;
  std::vector<service> services;
  std::vector<professional> professionals;
  std::vector<faq_entry> faq; ///< the knowledge base, for questions the rules do not answer
  privacy_settings privacy;   ///< legal basis, notice, retention (LGPD)
};

/// Parses "HH:MM" into minutes since midnight; nullopt when malformed.
std::optional<minute_of_day> parse_hhmm(const std::string& s);
/// Formats minutes since midnight as "HH:MM".
std::string format_hhmm(minute_of_day m);
/// English weekday key used in JSON ("sunday".."saturday") for index 0..6.
const char* weekday_key(int weekday);

/// True when `name` is an IANA time zone known to the tz database ("America/Sao_Paulo").
bool known_timezone(const std::string& name);

/// The seeds' contextualization JSON {ai_personality, ai_behavior, working_hours,
/// scheduling_policies} of a profile.
nlohmann::json context_to_json(const clinic_profile& p);
/// Fills the context parts of a profile from JSON: sections and members present replace
/// the profile's, absent ones are kept. Unknown members, wrong types, out-of-range values
/// and bad hours throw std::invalid_argument "<json path>: <reason>"
/// ("working_hours.monday[1].end: must be after start").
void context_from_json(const nlohmann::json& j, clinic_profile& p);
/// Booking rules from JSON: the members present override `base`; unknown members, types
/// and ranges are refused (std::invalid_argument naming "path.member").
scheduling_policy policy_from_json(const nlohmann::json& j, scheduling_policy base,
                                   const std::string& path = "scheduling_policies");
/// Booking rules as {min_advance_hours, max_advance_days, slot_duration_minutes, max_daily_appointments}.
nlohmann::json policy_to_json(const scheduling_policy& s);
/// Weekly hours to/from {"monday":[{"start":"08:00","end":"12:00"}],...}; the parser
/// validates (end after start, no overlap, known weekday) and throws std::invalid_argument
/// naming the field.
nlohmann::json hours_to_json(const weekly_hours& h);
weekly_hours hours_from_json(const nlohmann::json& j, const std::string& field = "working_hours");

} // namespace atendeai::core
