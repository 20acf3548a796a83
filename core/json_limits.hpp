#pragma once
/// JSON parsed under limits: nesting depth, items of an array, members of an object,
/// bytes of a string and values in all, enforced while parsing (nlohmann's SAX
/// interface), so no recursive walk, copy, dump or destructor ever meets a document
/// deeper or larger than we allow. Every request body (webhooks, admin API) goes
/// through here.
///
/// Over a per-value limit (depth, items, string bytes) the parser either refuses the
/// whole document or cuts the part out and says where (RFC 6901 pointers), so a caller
/// can drop or mark just the message that held it.

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace atendeai::core {

/// The limits a document must keep.
struct json_limits {
  size_t max_depth = 32;               ///< nesting of arrays/objects; the root container is depth 1
  size_t max_array_items = 1000;       ///< items of one array
  size_t max_object_members = 1000;    ///< members of one object
  size_t max_string_bytes = 64 * 1024; ///< bytes of one string or key
  size_t max_values = 200'000;         ///< values built in all (always refused past it)
  size_t max_cuts = 1000;              ///< parts cut out (json_overflow::cut) before refusing
};

/// Webhook bodies (3 MB at most, up to 1,000 updates of a few dozen values each): a
/// WhatsApp message nests 10 levels deep and its longest string (a 4,096-character text)
/// takes at most 16 KiB.
inline constexpr json_limits webhook_json_limits{32, 1000, 1000, 16 * 1024, 200'000, 1000};

/// Admin API bodies (64 KiB at most).
inline constexpr json_limits api_json_limits{32, 1000, 1000, 64 * 1024, 50'000, 0};

/// What the parser does with a value over a per-value limit.
enum class json_overflow {
  refuse, ///< the whole document is refused (admin API: 422)
  cut,    ///< the part is cut out and reported (webhooks): too deep → null, extra items
          ///< dropped, long strings and keys shortened on a UTF-8 boundary
};

/// Which limit a value broke.
enum class json_problem {
  syntax,           ///< not JSON (or a number beyond a double)
  too_deep,         ///< nesting deeper than max_depth
  too_many_items,   ///< an array or object longer than its limit
  too_long_string,  ///< a string or key longer than max_string_bytes
  too_many_values,  ///< more than max_values values, or more than max_cuts cuts
};

/// The snake_case name of a problem ("too_deep").
std::string_view to_string(json_problem p);

/// A part cut out of the document (json_overflow::cut).
struct json_cut {
  json_problem problem = json_problem::too_deep;
  std::string pointer; ///< RFC 6901 pointer of the value cut (the container whose items were dropped)
  size_t dropped = 0;  ///< items dropped (too_many_items)
};

/// Why a document was refused.
struct json_error {
  json_problem problem = json_problem::syntax;
  std::string message; ///< human, never quoting the document ("nesting deeper than 32 levels")
  std::string pointer; ///< where, when known ("" for the root or a syntax error)
  size_t offset = 0;   ///< byte offset of a syntax error
};

/// A document parsed within its limits.
struct json_document {
  nlohmann::json value;
  std::vector<json_cut> cuts; ///< parts cut out, in document order
  bool repaired = false;      ///< the text had to be repaired (repair_json_text) to parse
};

/// Options of parse_json_limited beyond the limits.
struct json_parse_options {
  json_overflow overflow = json_overflow::refuse;
  /// When the text does not parse, repair its strings' bytes (ill-formed UTF-8, lone
  /// surrogate escapes, raw control characters; core/utf8.hpp) and try once more.
  bool repair_text = false;
};

/// Parses `text` under `limits`. Never recurses: safe on any input.
std::variant<json_document, json_error> parse_json_limited(std::string_view text, const json_limits& limits,
                                                           const json_parse_options& options = {});

/// The API error of a refused body: bad_request (400) when it is not JSON,
/// validation_failed (422) when it broke a limit.
error_code api_error_of(const json_error& e);

/// Appends `/token` to an RFC 6901 pointer, escaping `~` and `/`.
void append_pointer_token(std::string& pointer, std::string_view token);

/// True when `pointer` is `prefix` or lies inside it ("/a/1/b" is inside "/a/1").
bool pointer_within(std::string_view pointer, std::string_view prefix);

/// The dotted field path the API's error bodies use for a pointer ("/hours/monday/0" →
/// "hours.monday.0").
std::string field_of_pointer(std::string_view pointer);

} // namespace atendeai::core
