#include "core/phone.hpp"

namespace atendeai::core {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// A Brazilian national number (area code + subscriber) in canonical form, or why not.
phone_result brazilian(std::string national) {
  if (national.size() != 10 && national.size() != 11)
    return {std::nullopt, "must have an area code and 8 or 9 digits (Brazil)"};
  if (national[0] == '0' || national[1] == '0')
    return {std::nullopt, "the area code must be 11 to 99"};
  const char first = national[2];
  if (national.size() == 10) {
    if (first >= '6' && first <= '9')
      national.insert(2, 1, '9'); // a mobile written without its ninth digit
    else if (first < '2')
      return {std::nullopt, "must be a landline (2–5) or a mobile (6–9, or 9 and 8 digits)"};
  } else if (first != '9') {
    return {std::nullopt, "a 9-digit number must be a mobile starting with 9"};
  }
  return {"+55" + national, {}};
}

} // namespace

phone_result normalize_phone(std::string_view raw) {
  if (raw.substr(0, 9) == "whatsapp:")
    raw.remove_prefix(9);
  std::string digits;
  bool international = false;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (is_digit(c))
      digits += c;
    else if (c == '+' && digits.empty() && !international)
      international = true;
    else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')')
      return {std::nullopt, "must be a phone number (digits, optionally with +)"};
  }
  if (!international && digits.size() > 2 && digits.compare(0, 2, "00") == 0) {
    international = true;
    digits.erase(0, 2);
  }
  if (!international) {
    if ((digits.size() == 11 || digits.size() == 12) && digits[0] == '0') // trunk 0: 0 11 8765-4321
      digits.erase(0, 1);
    if (digits.size() == 10 || digits.size() == 11)
      return brazilian(digits);
    if ((digits.size() == 12 || digits.size() == 13) && digits.compare(0, 2, "55") == 0)
      return brazilian(digits.substr(2));
    if (digits.size() < 10)
      return {std::nullopt, "must have 10 to 15 digits (country and area code included)"};
  }
  if (digits.empty() || digits[0] == '0')
    return {std::nullopt, "the country code must not start with 0"};
  if (digits.compare(0, 2, "55") == 0)
    return brazilian(digits.substr(2));
  if (digits.size() < 8 || digits.size() > 15)
    return {std::nullopt, "must have 8 to 15 digits (E.164)"};
  return {"+" + digits, {}};
}

std::string contact_phone(std::string_view channel, std::string_view contact_id) {
  if (channel != "whatsapp" && channel != "twilio" && channel != "sms")
    return {};
  // A wa_id always has its country code, without "+".
  std::string id(contact_id);
  if (channel == "whatsapp" && !id.empty() && is_digit(id[0]))
    id.insert(0, 1, '+');
  auto r = normalize_phone(id);
  return r.e164 ? *r.e164 : std::string();
}

std::vector<std::string> whatsapp_ids(const std::string& e164) {
  std::vector<std::string> out;
  if (e164.size() < 2 || e164[0] != '+')
    return out;
  out.push_back(e164.substr(1));
  // +55 AA 9 XXXXXXXX whose 8-digit rest starts with 6–9: also without the 9.
  if (e164.size() == 14 && e164.compare(0, 3, "+55") == 0 && e164[5] == '9' && e164[6] >= '6')
    out.push_back(e164.substr(1, 4) + e164.substr(6));
  return out;
}

} // namespace atendeai::core
