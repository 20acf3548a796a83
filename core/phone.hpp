#pragma once
/// Patients' phone numbers as one canonical form: E.164 ("+5511987654321"), whatever
/// form they were typed or sent in. Brazil (country code 55) is the default country, and
/// a Brazilian mobile is always written with its ninth digit, so that the two forms
/// WhatsApp may give of one mobile ("+55 11 98765-4321" and "+55 11 8765-4321") are the
/// same number. Pure: no I/O.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atendeai::core {

/// A phone number after normalize_phone: the E.164 form, or why there is none.
struct phone_result {
  std::optional<std::string> e164; ///< "+5511987654321" when valid
  std::string error;               ///< what is wrong when not (for a 422 message)
};

/// Normalises a phone as staff type it or a channel sends it: spaces, dashes, dots and
/// parentheses are ignored; "+" or "00" starts an international number; a Twilio
/// "whatsapp:" prefix is dropped. Without a country, 10 or 11 digits (area code and
/// number, an optional leading trunk 0) are Brazilian; 12 or 13 digits starting with 55
/// are a Brazilian number without its "+" (a WhatsApp wa_id). A Brazilian number has a
/// two-digit area code (11–99) and 8 digits (landline, first digit 2–5; a mobile, 6–9,
/// gets its ninth digit 9) or 9 digits starting with 9 (a mobile). Other countries: 8 to
/// 15 digits in all, kept as given.
phone_result normalize_phone(std::string_view raw);

/// The canonical number of a channel's contact id, or "" when the channel does not
/// identify patients by phone or the id is not a valid number: WhatsApp's wa_id,
/// Twilio's "whatsapp:+55..." or "+55..." address. (Telegram and web chat ids are not
/// phones.)
std::string contact_phone(std::string_view channel, std::string_view contact_id);

/// The WhatsApp ids (E.164 without "+") one canonical number may arrive as: itself, and
/// for a Brazilian mobile also the form without the ninth digit.
std::vector<std::string> whatsapp_ids(const std::string& e164);

} // namespace atendeai::core
