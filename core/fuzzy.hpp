#pragma once
/// Small string-similarity helpers for understanding typed (and mistyped) messages.

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace atendeai::core {

/// Optimal-string-alignment edit distance (insert, delete, substitute, swap neighbours),
/// stopping early: returns `limit + 1` as soon as the distance must exceed `limit`.
int edit_distance(std::string_view a, std::string_view b, int limit);

/// Collapses runs of the same letter ("siiim" → "sim", "obrigaddo" → "obrigado").
std::string squeeze_repeats(std::string_view s);

/// Length of the common prefix of two strings.
std::size_t common_prefix(std::string_view a, std::string_view b);

/// True when the word `s` is one of `words`.
bool one_of(std::string_view s, std::initializer_list<const char*> words);

/// Splits normalised text on single spaces.
std::vector<std::string> split_words(std::string_view normalized);

} // namespace atendeai::core
