#include "core/json_text.hpp"

#include <charconv>
#include <cmath>

#include "core/utf8.hpp"

namespace atendeai::core {

void json_text::separate() {
  if (!first_)
    out_ += ',';
  first_ = false;
}

void json_text::escaped(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string repaired;
  if (!is_valid_utf8(s)) { // as a JSON parser would refuse it: U+FFFD per ill-formed part
    repaired.assign(s);
    sanitise_utf8(repaired);
    s = repaired;
  }
  out_ += '"';
  size_t run = 0; // start of the bytes not yet copied
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    out_.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
    case '"': out_ += "\\\""; break;
    case '\\': out_ += "\\\\"; break;
    case '\n': out_ += "\\n"; break;
    case '\r': out_ += "\\r"; break;
    case '\t': out_ += "\\t"; break;
    case '\b': out_ += "\\b"; break;
    case '\f': out_ += "\\f"; break;
    default:
      out_ += "\\u00";
      out_ += hex[c >> 4];
      out_ += hex[c & 0xF];
    }
  }
  out_.append(s.data() + run, s.size() - run);
  out_ += '"';
}

json_text& json_text::begin_object() {
  separate();
  out_ += '{';
  first_ = true;
  return *this;
}

json_text& json_text::end_object() {
  out_ += '}';
  first_ = false;
  return *this;
}

json_text& json_text::begin_array() {
  separate();
  out_ += '[';
  first_ = true;
  return *this;
}

json_text& json_text::end_array() {
  out_ += ']';
  first_ = false;
  return *this;
}

json_text& json_text::key(std::string_view name) {
  separate();
  escaped(name);
  out_ += ':';
  first_ = true;
  return *this;
}

json_text& json_text::string(std::string_view s) {
  separate();
  escaped(s);
  return *this;
}

json_text& json_text::string_or_null(std::string_view s) { return s.empty() ? null() : string(s); }

json_text& json_text::integer(int64_t v) {
  separate();
  char buf[24];
  auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  out_.append(buf, end);
  return *this;
}

json_text& json_text::number(double v) {
  if (!std::isfinite(v))
    return null();
  separate();
  char buf[32];
  auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  out_.append(buf, end);
  return *this;
}

json_text& json_text::boolean(bool v) {
  separate();
  out_ += v ? "true" : "false";
  return *this;
}

json_text& json_text::null() {
  separate();
  out_ += "null";
  return *this;
}

json_text& json_text::raw(std::string_view json) {
  separate();
  out_.append(json);
  return *this;
}

} // namespace atendeai::core
