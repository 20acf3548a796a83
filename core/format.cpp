#include "core/format.hpp"

#include <cstdio>
#include <vector>

namespace atendeai::core {

namespace {

/// Decodes one UTF-8 code point at s[i], advancing i; invalid bytes yield U+FFFD.
char32_t next_code_point(std::string_view s, size_t& i) {
  auto b0 = static_cast<unsigned char>(s[i]);
  int extra = 0;
  char32_t cp = 0;
  if (b0 < 0x80) {
    ++i;
    return b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    extra = 1;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    extra = 2;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    extra = 3;
    cp = b0 & 0x07;
  } else {
    ++i;
    return 0xFFFD;
  }
  if (i + extra >= s.size()) {
    i = s.size();
    return 0xFFFD;
  }
  for (int k = 1; k <= extra; ++k) {
    auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  i += extra + 1;
  return cp;
}

/// Latin-1 letters U+00C0..U+00FF folded to lower-case ASCII; 0 = not a letter.
constexpr char latin1_fold[64] = {
  'a', 'a', 'a', 'a', 'a', 'a', 'a', 'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i', // C0-CF
  'd', 'n', 'o', 'o', 'o', 'o', 'o', 0,   'o', 'u', 'u', 'u', 'u', 'y', 0,   's', // D0-DF
  'a', 'a', 'a', 'a', 'a', 'a', 'a', 'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i', // E0-EF
  'd', 'n', 'o', 'o', 'o', 'o', 'o', 0,   'o', 'u', 'u', 'u', 'u', 'y', 0,   'y', // F0-FF
};

/// True for code points that are symbols, emojis or joiners rather than letters.
bool is_symbol(char32_t cp) {
  return (cp >= 0x80 && cp < 0xC0) || cp == 0xD7 || cp == 0xF7 || (cp >= 0x2000 && cp < 0x2C00)
         || (cp >= 0x3000 && cp < 0x3040) || (cp >= 0xFE00 && cp < 0xFE10) || cp == 0xFEFF
         || cp == 0xFFFD || cp >= 0x1F000;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

} // namespace

std::string normalize_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  auto put = [&](char c) {
    if (pending_space && !out.empty())
      out += ' ';
    pending_space = false;
    out += c;
  };
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    char32_t cp = next_code_point(s, i);
    if (cp < 0x80) {
      char c = static_cast<char>(cp);
      if (c >= 'A' && c <= 'Z')
        put(static_cast<char>(c - 'A' + 'a'));
      else if ((c >= 'a' && c <= 'z') || is_digit(c))
        put(c);
      else if (c == '\'')
        continue; // "what's" -> "whats"
      else if ((c == ':' || c == '/') && !pending_space && !out.empty() && is_digit(out.back())
               && i < s.size() && is_digit(s[i]))
        out += c;
      else
        pending_space = true;
    } else if (cp == 0x2019 || cp == 0x2018) {
      continue; // typographic apostrophes
    } else if (cp >= 0xC0 && cp <= 0xFF) {
      char f = latin1_fold[cp - 0xC0];
      if (f)
        put(f);
      else
        pending_space = true;
    } else if (is_symbol(cp)) {
      pending_space = true;
    } else {
      // Other scripts: keep the letter as written.
      if (pending_space && !out.empty())
        out += ' ';
      pending_space = false;
      out.append(s.substr(start, i - start));
    }
  }
  return out;
}

std::string format_price(int64_t cents, std::string_view /*lang*/) {
  std::string sign;
  if (cents < 0) {
    sign = "-";
    cents = -cents;
  }
  auto reais = std::to_string(cents / 100);
  std::string grouped;
  for (size_t k = 0; k < reais.size(); ++k) {
    if (k > 0 && (reais.size() - k) % 3 == 0)
      grouped += '.';
    grouped += reais[k];
  }
  auto result = sign + "R$ " + grouped;
  if (auto rest = cents % 100; rest != 0) {
    char buf[8];
    std::snprintf(buf, sizeof buf, ",%02d", static_cast<int>(rest));
    result += buf;
  }
  return result;
}

std::string weekday_name(int weekday, std::string_view lang, bool abbreviated) {
  static constexpr const char* pt[7] = {"domingo", "segunda", "terça", "quarta",
                                        "quinta", "sexta", "sábado"};
  static constexpr const char* pt_short[7] = {"dom", "seg", "ter", "qua", "qui", "sex", "sáb"};
  static constexpr const char* en[7] = {"Sunday", "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday"};
  static constexpr const char* en_short[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  int d = ((weekday % 7) + 7) % 7;
  if (lang == "en")
    return abbreviated ? en_short[d] : en[d];
  return abbreviated ? pt_short[d] : pt[d];
}

std::string format_ddmm(const date::year_month_day& d) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02u/%02u", static_cast<unsigned>(d.day()),
                static_cast<unsigned>(d.month()));
  return buf;
}

std::string format_hours_summary(const weekly_hours& h, std::string_view lang) {
  const bool en = lang == "en";
  // Monday-first week so that "segunda a sexta" and the weekend read naturally.
  static constexpr int order[7] = {1, 2, 3, 4, 5, 6, 0};
  struct group {
    int first;
    int last;
    int count;
  };
  std::vector<group> groups;
  for (int k = 0; k < 7; ++k) {
    int d = order[k];
    if (h[d].empty())
      continue;
    if (!groups.empty() && order[(k + 6) % 7] == groups.back().last && k > 0
        && h[groups.back().last] == h[d]) {
      groups.back().last = d;
      ++groups.back().count;
    } else {
      groups.push_back({d, d, 1});
    }
  }
  auto intervals = [&](const std::vector<time_interval>& ivs) {
    std::string s;
    for (size_t k = 0; k < ivs.size(); ++k) {
      if (k > 0)
        s += en ? " and " : " e ";
      if (en)
        s += format_hhmm(ivs[k].start) + "–" + format_hhmm(ivs[k].end);
      else
        s += "das " + format_hhmm(ivs[k].start) + " às " + format_hhmm(ivs[k].end);
    }
    return s;
  };
  std::string out;
  for (auto& g : groups) {
    if (!out.empty())
      out += "; ";
    auto first = weekday_name(g.first, lang, false);
    auto last = weekday_name(g.last, lang, false);
    if (g.count == 1)
      out += first;
    else if (g.count == 2)
      out += first + (en ? " and " : " e ") + last;
    else
      out += en ? first + " to " + last : "de " + first + " a " + last;
    out += en ? " " : ", ";
    out += intervals(h[g.first]);
  }
  return out;
}

} // namespace atendeai::core
