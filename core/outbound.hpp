#pragma once
/// A reply as the conversation logic produces it, independent of the channel.

#include <optional>
#include <string>
#include <vector>

namespace atendeai::core {

/// One choice offered to the patient (a reply button or a list row).
struct choice {
  std::string id;          ///< comes back as button_reply/list_reply id
  std::string title;       ///< button title ≤ 20, list row title ≤ 24 (channel trims)
  std::string description; ///< list rows only, ≤ 72
};

/// How choices are shown.
enum class choice_style { none, buttons, list };

/// A registered WhatsApp message template sent instead of free text (the only kind of
/// message Meta delivers outside the 24-hour customer-service window).
struct template_call {
  std::string name;                         ///< as registered for the clinic, e.g. lembrete_consulta
  std::string language;                     ///< Meta's code, e.g. pt_BR, en_US
  std::vector<std::string> parameters;      ///< the body's {{1}}, {{2}} ... in order
  std::vector<std::string> button_payloads; ///< the quick-reply buttons' payloads, by button index
};

/// A message to send to a patient.
struct outbound_message {
  std::string text;                       ///< body text (≤ 1,024 when interactive)
  choice_style style = choice_style::none;
  std::vector<choice> choices;            ///< ≤ 3 buttons or ≤ 10 list rows
  std::string list_button = "Ver opções"; ///< list action label ≤ 20
  /// Sent as this template (text then holds its body with the parameters filled in, as
  /// the patient reads it); style and choices are ignored.
  std::optional<template_call> templ;
  /// A proactive message sent as free text or buttons that Meta refuses because the
  /// window closed after all (error 131047) goes again as this template.
  std::optional<template_call> fallback;
  /// Written by the language model (stored with the message, shown to staff).
  bool generated = false;
  /// The voice note this replies to, as transcribed (stored with the reply, shown to staff).
  std::string transcript;
};

} // namespace atendeai::core
