#pragma once
/// A reply as the conversation logic produces it, independent of the channel.

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

/// A message to send to a patient.
struct outbound_message {
  std::string text;                       ///< body text (≤ 1,024 when interactive)
  choice_style style = choice_style::none;
  std::vector<choice> choices;            ///< ≤ 3 buttons or ≤ 10 list rows
  std::string list_button = "Ver opções"; ///< list action label ≤ 20
};

} // namespace atendeai::core
