#pragma once
/// Finds the clinic's services and professionals in a patient's words, tolerating typos,
/// missing accents, abbreviations ("dermato", "cardio", "dra ana") and a few common
/// synonyms ("cardiologista", "general practitioner"). Only names from the catalogue match.

#include <optional>
#include <string>
#include <vector>

#include "core/clinic.hpp"

namespace atendeai::core {

/// The id of the active service best named in `words` (normalize_text output split on
/// spaces), or nullopt.
std::optional<std::string> match_service(const std::vector<std::string>& words,
                                         const clinic_profile& clinic);

/// The id of the active professional best named in `words`, or nullopt.
std::optional<std::string> match_professional(const std::vector<std::string>& words,
                                              const clinic_profile& clinic);

} // namespace atendeai::core
