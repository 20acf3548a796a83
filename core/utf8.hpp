#pragma once
/// UTF-8 text that PostgreSQL can store: validation, replacement of what it refuses (NUL,
/// ill-formed sequences) with U+FFFD, cutting at code point boundaries, and the repair of
/// JSON text whose strings hold bytes a JSON parser refuses.

#include <cstddef>
#include <string>
#include <string_view>

namespace atendeai::core {

/// U+FFFD REPLACEMENT CHARACTER in UTF-8.
inline constexpr std::string_view replacement_character = "\xEF\xBF\xBD";

/// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF).
bool is_valid_utf8(std::string_view s);

/// Replaces every NUL and every ill-formed UTF-8 sequence of `s` with U+FFFD (one per
/// maximal ill-formed subpart, as Unicode recommends); true when anything changed.
/// PostgreSQL text and jsonb hold neither.
bool sanitise_utf8(std::string& s);

/// The byte length of the longest prefix of `s` of at most `max_bytes` bytes that ends on
/// a code point boundary (a cut never splits a character).
size_t utf8_prefix_bytes(std::string_view s, size_t max_bytes);

/// Cuts `s` to at most `max_bytes` bytes on a code point boundary; true when it was cut.
bool cut_utf8(std::string& s, size_t max_bytes);

/// Makes JSON text parseable where only its strings' bytes are at fault: ill-formed UTF-8
/// anywhere and lone UTF-16 surrogate escapes (`\ud800`) inside strings become U+FFFD,
/// raw control characters inside strings become `\u00XX` escapes. Structure is never
/// touched, so text broken otherwise stays broken. `changed` tells whether anything was.
std::string repair_json_text(std::string_view text, bool& changed);

} // namespace atendeai::core
