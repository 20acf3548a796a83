#include "core/templates.hpp"

#include <algorithm>
#include <set>

namespace atendeai::core {

namespace {

/// One `{{...}}` of a body: where it starts and ends (past the closing braces) and its
/// number, or 0 when what is inside is not a number written as Meta writes it.
struct placeholder {
  size_t begin = 0;
  size_t end = 0;
  int number = 0;
};

/// The placeholder starting at `at` (which holds "{{"); `end` is npos when it is not closed.
placeholder read_placeholder(std::string_view body, size_t at) {
  placeholder p;
  p.begin = at;
  auto close = body.find("}}", at + 2);
  if (close == std::string_view::npos) {
    p.end = std::string_view::npos;
    return p;
  }
  p.end = close + 2;
  auto inside = body.substr(at + 2, close - at - 2);
  // 1..999: digits only, no sign, no spaces, no leading zero.
  if (inside.empty() || inside.size() > 3 || inside[0] == '0')
    return p;
  int n = 0;
  for (char c : inside) {
    if (c < '0' || c > '9')
      return p;
    n = n * 10 + (c - '0');
  }
  p.number = n;
  return p;
}

bool blank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

/// Code points of a well-formed UTF-8 string (the bytes that do not continue one).
size_t code_points(std::string_view s) {
  return static_cast<size_t>(
    std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::optional<template_problem> problem(std::string field, std::string message) {
  return template_problem{std::move(field), std::move(message)};
}

} // namespace

const std::vector<std::string_view>& template_languages() {
  // Meta's supported languages for message templates (WhatsApp Business Platform,
  // "Supported languages"): the code is sent as template.language.code.
  static const std::vector<std::string_view> codes = {
    "af",    "sq",    "ar",    "az",    "bn",    "bg",    "ca",    "zh_CN", "zh_HK", "zh_TW", "hr",    "cs",
    "da",    "nl",    "en",    "en_GB", "en_US", "et",    "fil",   "fi",    "fr",    "ka",    "de",    "el",
    "gu",    "ha",    "he",    "hi",    "hu",    "id",    "ga",    "it",    "ja",    "kn",    "kk",    "rw_RW",
    "ko",    "ky_KG", "lo",    "lv",    "lt",    "mk",    "ms",    "ml",    "mr",    "nb",    "fa",    "pl",
    "pt_BR", "pt_PT", "pa",    "ro",    "ru",    "sr",    "sk",    "sl",    "es",    "es_AR", "es_ES", "es_MX",
    "sw",    "sv",    "ta",    "te",    "th",    "tr",    "uk",    "ur",    "uz",    "vi",    "zu",
  };
  return codes;
}

bool is_template_language(std::string_view code) {
  auto& codes = template_languages();
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

std::optional<template_problem> validate_template_body(std::string_view body) {
  if (blank(body))
    return problem("body", "must not be empty");
  if (body.size() > max_template_body_bytes)
    return problem("body", "must have at most " + std::to_string(max_template_body_bytes) + " bytes");
  std::set<int> used;
  for (size_t at = body.find("{{"); at != std::string_view::npos; at = body.find("{{", at)) {
    auto p = read_placeholder(body, at);
    if (p.end == std::string_view::npos)
      return problem("body", "has a parameter opened with {{ and never closed with }}");
    if (p.number == 0)
      return problem("body", "has a parameter that is not written {{1}}, {{2}} ... (a number from 1, no spaces)");
    used.insert(p.number);
    at = p.end;
  }
  int expected = 1;
  for (int n : used) {
    if (n != expected)
      return problem("body", "parameters must be numbered {{1}} to {{" + std::to_string(used.size())
                               + "}} without gaps: {{" + std::to_string(expected) + "}} is missing");
    ++expected;
  }
  return std::nullopt;
}

std::optional<template_problem> validate_template_buttons(const std::vector<std::string>& buttons) {
  if (buttons.size() > max_template_buttons)
    return problem("buttons", "must have at most " + std::to_string(max_template_buttons) + " items");
  for (size_t i = 0; i < buttons.size(); ++i) {
    auto field = "buttons[" + std::to_string(i) + "]";
    auto& b = buttons[i];
    if (blank(b))
      return problem(field, "must not be empty");
    if (code_points(b) > max_template_button_chars)
      return problem(field, "must have at most " + std::to_string(max_template_button_chars) + " characters");
    for (unsigned char c : b)
      if (c < 0x20 || c == 0x7f)
        return problem(field, "must not contain control characters or line breaks");
    if (std::find(buttons.begin(), buttons.begin() + static_cast<std::ptrdiff_t>(i), b)
        != buttons.begin() + static_cast<std::ptrdiff_t>(i))
      return problem(field, "repeats another button");
  }
  return std::nullopt;
}

std::optional<template_problem> validate_template(const message_template& t) {
  if (t.name.empty() || t.name.size() > max_template_name_bytes
      || !std::all_of(t.name.begin(), t.name.end(),
                      [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }))
    return problem("name", "must be 1 to 512 of a-z, 0-9 and _ (Meta's template names)");
  if (!is_template_language(t.language))
    return problem("language", "must be one of Meta's template language codes (pt_BR, en_US, es ...)");
  if (t.category != "utility" && t.category != "marketing")
    return problem("category", "must be utility or marketing");
  if (auto p = validate_template_body(t.body))
    return p;
  return validate_template_buttons(t.buttons);
}

int parameter_count(const std::string& body) {
  int count = 0;
  for (size_t at = body.find("{{"); at != std::string::npos; at = body.find("{{", at)) {
    auto p = read_placeholder(body, at);
    if (p.end == std::string::npos)
      break;
    count = std::max(count, p.number);
    at = p.number ? p.end : at + 1;
  }
  return count;
}

std::string template_parameter_text(std::string_view parameter) {
  std::string out;
  out.reserve(parameter.size());
  bool space = false;
  for (char c : parameter) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
      continue;
    }
    if (space)
      out += ' ';
    space = false;
    out += c;
  }
  if (space)
    out += ' ';
  return out;
}

std::string fill_template(const std::string& body, const std::vector<std::string>& parameters) {
  std::string out;
  out.reserve(body.size());
  size_t from = 0;
  for (size_t at = body.find("{{"); at != std::string::npos; at = body.find("{{", at)) {
    auto p = read_placeholder(body, at);
    if (p.end == std::string::npos)
      break;
    if (p.number == 0 || static_cast<size_t>(p.number) > parameters.size()) {
      at += 1; // not one we fill: stays as written
      continue;
    }
    out.append(body, from, at - from);
    out += template_parameter_text(parameters[static_cast<size_t>(p.number) - 1]);
    from = at = p.end;
  }
  out.append(body, from, std::string::npos);
  return out;
}

} // namespace atendeai::core
