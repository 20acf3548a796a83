#pragma once
/// What a message the node sent to the Graph API says: its text and its choices. The one
/// reading of a sent message for the integration tests (support/harness.hpp's sent_to
/// gives a patient's messages) and for the bench's booker (bench/booker.cpp).
/// Header-only, nlohmann::json only.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace atendeai::test {

/// The text of a message sent to the Graph API (text or interactive body), "" for others.
inline std::string text_of(const nlohmann::json& sent) {
  if (sent.value("type", "") == "text")
    return sent["text"].value("body", "");
  if (sent.value("type", "") == "interactive")
    return sent["interactive"]["body"].value("text", "");
  return "";
}

/// The choice ids of an interactive message (buttons or list rows), in order.
inline std::vector<std::string> ids_of(const nlohmann::json& sent) {
  std::vector<std::string> out;
  if (sent.value("type", "") != "interactive")
    return out;
  const auto& action = sent["interactive"]["action"];
  if (action.contains("buttons"))
    for (const auto& b : action["buttons"])
      out.push_back(b["reply"].value("id", ""));
  if (action.contains("sections"))
    for (const auto& s : action["sections"])
      for (const auto& r : s["rows"])
        out.push_back(r.value("id", ""));
  return out;
}

/// True when `text` contains `part`.
inline bool contains_text(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace atendeai::test
