#pragma once
/// Answers from the clinic's knowledge base (FAQ): which entry, if any, answers a patient's
/// question, found with the same typo-tolerant word matching as the rest of the
/// understanding. Pure: no I/O.

#include <string_view>
#include <vector>

#include "core/clinic.hpp"

namespace atendeai::core {

/// How sure a match must be.
enum class faq_strictness {
  /// The message is a recognised clinic question: its topic may pick the entry alone.
  clinic_question,
  /// The message was not understood: only an entry sharing most of its words answers.
  unknown,
};

/// The entry of `faq` that best answers `text`, or nullptr. `topic` is the understanding's
/// topic of a clinic question ("insurance"; may be empty); entries tagged with it, or with
/// one of its usual words, are preferred. Entries in `lang` ("pt-BR"/"en") or in no
/// particular language come first; another language's entry answers only when none does.
const faq_entry* match_faq(const std::vector<faq_entry>& faq, std::string_view text, std::string_view topic,
                           std::string_view lang, faq_strictness strictness);

/// Normalised tags: trimmed, lower case without accents, no empty or repeated ones.
std::vector<std::string> normalise_tags(const std::vector<std::string>& tags);

} // namespace atendeai::core
