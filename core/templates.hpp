#pragma once
/// WhatsApp message templates a clinic has registered with Meta (lembrete_consulta ...):
/// their validation by Meta's rules, their numbered parameters and the text a patient
/// reads once they are filled in. Pure: no I/O. Sending one is core::template_call
/// (core/outbound.hpp), rendered by core::render_whatsapp_message.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atendeai::core {

/// One registered template (a clinic holds one per name and language).
struct message_template {
  std::string id;
  std::string name;                 ///< ^[a-z0-9_]{1,512}$, e.g. lembrete_consulta
  std::string language;             ///< one of Meta's template language codes, e.g. pt_BR
  std::string category;             ///< utility | marketing
  std::string body;                 ///< with numbered parameters {{1}}..{{n}}
  std::vector<std::string> buttons; ///< quick-reply button texts, ≤ 3
};

/// Longest template name, in bytes (Meta's limit).
inline constexpr size_t max_template_name_bytes = 512;
/// Longest template body, in bytes.
inline constexpr size_t max_template_body_bytes = 1024;
/// Most quick-reply buttons a template holds.
inline constexpr size_t max_template_buttons = 3;
/// Longest quick-reply button text, in code points (Meta's limit).
inline constexpr size_t max_template_button_chars = 20;

/// Why a template is refused: the JSON member at fault (`name`, `language`, `category`,
/// `body`, `buttons`, `buttons[1]` ...) and what is wrong with it.
struct template_problem {
  std::string field;
  std::string message;
};

/// Meta's template language codes (pt_BR, en_US ...), in one table.
const std::vector<std::string_view>& template_languages();
/// True when `code` is one of template_languages() (case-sensitive, as Meta's).
bool is_template_language(std::string_view code);

/// The first problem of `t` by Meta's rules, checked member by member in the order
/// name, language, category, body, buttons; nullopt when it can be registered.
std::optional<template_problem> validate_template(const message_template& t);
/// The first problem of a body alone (field `body`): blank, over 1,024 bytes, or
/// parameters other than {{1}}..{{n}} each used (a {{0}}, a gap, a leading zero, a
/// non-number between double braces, or braces left open).
std::optional<template_problem> validate_template_body(std::string_view body);
/// The first problem of the buttons alone (fields `buttons`, `buttons[i]`).
std::optional<template_problem> validate_template_buttons(const std::vector<std::string>& buttons);

/// How many parameters a body takes: the highest n of its well-formed {{n}} (0 if none).
int parameter_count(const std::string& body);

/// A parameter as Meta delivers it: line breaks, tabs and runs of spaces become one
/// space (Meta refuses parameters with new lines, tabs or more than four spaces in a row).
std::string template_parameter_text(std::string_view parameter);

/// The body as the patient reads it: each {{n}} replaced by `parameters[n - 1]` (as
/// template_parameter_text gives it); a {{n}} without a parameter stays as written.
std::string fill_template(const std::string& body, const std::vector<std::string>& parameters);

} // namespace atendeai::core
