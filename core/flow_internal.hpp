#pragma once
/// What the appointment flow's files (flow.cpp: transitions, flow_phrasing.cpp: texts,
/// flow_codec.cpp: JSON form) share; internal to them, not part of the flow's interface.

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/agenda.hpp"
#include "core/clinic.hpp"
#include "core/clock.hpp"

namespace atendeai::core::detail {

/// WhatsApp's limits: rows of a list message, buttons of a button message.
inline constexpr std::size_t max_list_rows = 10;
inline constexpr std::size_t max_buttons = 3;

/// True for English ("en", "en-US"); everything else is Portuguese.
inline bool is_en(std::string_view lang) { return lang.size() >= 2 && lang.substr(0, 2) == "en"; }

/// The clinic's service with this id; nullptr when there is none (or no id).
inline const service* find_service(const clinic_profile& c, const std::optional<std::string>& id) {
  if (!id)
    return nullptr;
  for (const auto& s : c.services)
    if (s.id == *id)
      return &s;
  return nullptr;
}

/// The clinic's professional with this id; nullptr when there is none (or no id).
inline const professional* find_professional(const clinic_profile& c, const std::optional<std::string>& id) {
  if (!id)
    return nullptr;
  for (const auto& p : c.professionals)
    if (p.id == *id)
      return &p;
  return nullptr;
}

/// The active appointments starting at or after `now`, earliest first.
inline std::vector<appointment> upcoming_appointments(const std::vector<appointment>& all, instant now) {
  std::vector<appointment> out;
  for (const auto& a : all)
    if (a.active() && a.start >= now)
      out.push_back(a);
  std::sort(out.begin(), out.end(), [](const appointment& a, const appointment& b) { return a.start < b.start; });
  return out;
}

} // namespace atendeai::core::detail
