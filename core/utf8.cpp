#include "core/utf8.hpp"

namespace atendeai::core {

namespace {

/// At `i`: the length of the well-formed sequence starting there, or 0 with `bad` set to
/// the length of its maximal ill-formed subpart (at least 1 byte).
size_t sequence_at(std::string_view s, size_t i, size_t& bad) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80)
    return 1;
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF; // range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F; // no UTF-16 surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F; // nothing past U+10FFFF
  } else {
    bad = 1;
    return 0;
  }
  for (size_t k = 1; k < len; ++k) {
    if (i + k >= s.size()) {
      bad = k;
      return 0;
    }
    unsigned char b = byte(i + k);
    bool ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    if (!ok) {
      bad = k;
      return 0;
    }
  }
  return len;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// The code unit of a `\uXXXX` escape starting at `i` (the backslash), or -1.
long escape_unit(std::string_view s, size_t i) {
  if (i + 6 > s.size() || s[i] != '\\' || s[i + 1] != 'u')
    return -1;
  long v = 0;
  for (size_t k = 2; k < 6; ++k) {
    int h = hex_value(s[i + k]);
    if (h < 0)
      return -1;
    v = v * 16 + h;
  }
  return v;
}

} // namespace

bool is_valid_utf8(std::string_view s) {
  size_t bad = 0;
  for (size_t i = 0; i < s.size();) {
    size_t len = sequence_at(s, i, bad);
    if (len == 0)
      return false;
    i += len;
  }
  return true;
}

bool sanitise_utf8(std::string& s) {
  bool clean = s.find('\0') == std::string::npos && is_valid_utf8(s);
  if (clean)
    return false;
  std::string out;
  out.reserve(s.size() + 8);
  size_t bad = 0;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '\0') {
      out += replacement_character;
      ++i;
      continue;
    }
    size_t len = sequence_at(s, i, bad);
    if (len == 0) {
      out += replacement_character;
      i += bad;
      continue;
    }
    out.append(s, i, len);
    i += len;
  }
  s = std::move(out);
  return true;
}

size_t utf8_prefix_bytes(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes)
    return s.size();
  size_t keep = max_bytes;
  // Back off continuation bytes so the cut lands on the start of a character.
  while (keep > 0 && (static_cast<unsigned char>(s[keep]) & 0xC0) == 0x80 && max_bytes - keep < 4)
    --keep;
  return keep;
}

bool cut_utf8(std::string& s, size_t max_bytes) {
  if (s.size() <= max_bytes)
    return false;
  s.resize(utf8_prefix_bytes(s, max_bytes));
  return true;
}

std::string repair_json_text(std::string_view text, bool& changed) {
  changed = false;
  std::string out;
  out.reserve(text.size() + 16);
  bool in_string = false;
  size_t bad = 0;
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      size_t len = sequence_at(text, i, bad);
      if (len == 0) {
        out += replacement_character;
        changed = true;
        i += bad;
      } else {
        out.append(text, i, len);
        i += len;
      }
      continue;
    }
    if (!in_string) {
      in_string = c == '"';
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = false;
      out += '"';
      ++i;
    } else if (c < 0x20) {
      static const char* hex = "0123456789abcdef";
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
      changed = true;
      ++i;
    } else if (c == '\\' && i + 1 < text.size() && text[i + 1] == 'u') {
      long unit = escape_unit(text, i);
      if (unit >= 0xD800 && unit <= 0xDBFF) {
        long low = escape_unit(text, i + 6);
        if (low >= 0xDC00 && low <= 0xDFFF) {
          out.append(text, i, 12);
          i += 12;
        } else {
          out += "\\ufffd";
          changed = true;
          i += 6;
        }
      } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
        out += "\\ufffd";
        changed = true;
        i += 6;
      } else {
        out.append(text, i, 2); // a malformed \u escape stays malformed
        i += 2;
      }
    } else if (c == '\\' && i + 1 < text.size()) {
      out.append(text, i, 2); // \" \\ \/ \n ...: never ends the string
      i += 2;
    } else {
      out += static_cast<char>(c);
      ++i;
    }
  }
  return out;
}

} // namespace atendeai::core
