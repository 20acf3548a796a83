#pragma once
/// A JSON text written straight into a string: the write path's rows (thousands per
/// second per writer) without building a tree to dump it. Strings are escaped as
/// RFC 8259 asks (quote, backslash, control characters, NUL as `\u0000`); a string that
/// is not well-formed UTF-8 has its ill-formed parts (and NULs) replaced with U+FFFD, so
/// the text always parses. The caller writes a well-formed structure: keys inside
/// objects, each begin matched by its end.

#include <cstdint>
#include <string>
#include <string_view>

namespace atendeai::core {

class json_text {
public:
  json_text& begin_object();
  json_text& end_object();
  json_text& begin_array();
  json_text& end_array();
  /// The next member's name (inside an object).
  json_text& key(std::string_view name);
  json_text& string(std::string_view s);
  /// `s`, or null when it is empty.
  json_text& string_or_null(std::string_view s);
  json_text& integer(int64_t v);
  /// Shortest text that reads back as `v`; null when it is not finite.
  json_text& number(double v);
  json_text& boolean(bool v);
  json_text& null();
  /// A value serialised elsewhere, written as it is.
  json_text& raw(std::string_view json);

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

private:
  void separate();
  void escaped(std::string_view s);

  std::string out_;
  bool first_ = true; ///< nothing written yet at this level, or a key was just written
};

} // namespace atendeai::core
