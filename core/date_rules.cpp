#include "core/date_rules.hpp"

#include <array>
#include <cstring>

#include "core/fuzzy.hpp"

namespace atendeai::core {

namespace {

using date::year_month_day;

bool is_number(std::string_view s) {
  if (s.empty() || s.size() > 4)
    return false;
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  return true;
}

int to_int(std::string_view s) {
  int v = 0;
  for (char c : s)
    v = v * 10 + (c - '0');
  return v;
}

/// Weekday named by a word (pt or en, plural and small typos accepted), or -1.
int weekday_word(std::string_view w) {
  struct name {
    const char* word;
    int day;
  };
  static constexpr name names[] = {
    {"domingo", 0}, {"segunda", 1}, {"terca", 2},   {"quarta", 3},   {"quinta", 4},
    {"sexta", 5},   {"sabado", 6},  {"sunday", 0},  {"monday", 1},   {"tuesday", 2},
    {"wednesday", 3}, {"thursday", 4}, {"friday", 5}, {"saturday", 6},
  };
  static constexpr name exact_only[] = {
    {"seg", 1}, {"sab", 6}, {"sabd", 6}, {"qui", 4}, {"dom", 0}, {"qua", 3}, {"qta", 4},
    {"mon", 1}, {"tue", 2}, {"tues", 2}, {"wed", 3}, {"weds", 3}, {"thu", 4}, {"thur", 4},
    {"thurs", 4}, {"fri", 5}, {"sat", 6},
  };
  // Real words one typo away from a weekday name.
  if (one_of(w, {"segundo", "segundos", "quarto", "quartos", "quinto", "sexto", "sexo",
                 "pesta", "festa", "cesta", "testa", "dominio"}))
    return -1;
  for (auto& n : exact_only)
    if (w == n.word)
      return n.day;
  for (auto& n : names) {
    auto len = std::strlen(n.word);
    if (w == n.word)
      return n.day;
    // Plurals ("sábados", "mondays") and "-feira" typed together ("segundafeira").
    if (w.size() > len && w.substr(0, len) == n.word
        && (w.substr(len) == "s" || w.substr(len) == "feira"))
      return n.day;
  }
  if (w.size() >= 5)
    for (auto& n : names)
      if (edit_distance(w, n.word, 1) <= 1)
        return n.day;
  return -1;
}

/// Month named by a word (pt or en, full or abbreviated), 1..12, or 0.
unsigned month_word(std::string_view w) {
  static constexpr std::array<std::array<const char*, 4>, 12> names{{
    {"janeiro", "jan", "january", ""},  {"fevereiro", "fev", "february", "feb"},
    {"marco", "mar", "march", ""},      {"abril", "abr", "april", "apr"},
    {"maio", "mai", "may", ""},         {"junho", "jun", "june", ""},
    {"julho", "jul", "july", ""},       {"agosto", "ago", "august", "aug"},
    {"setembro", "set", "september", "sep"}, {"outubro", "out", "october", "oct"},
    {"novembro", "nov", "november", ""}, {"dezembro", "dez", "december", "dec"},
  }};
  for (unsigned m = 0; m < 12; ++m)
    for (auto n : names[m])
      if (*n && w == n)
        return m + 1;
  return 0;
}

/// "15th", "3rd", "1st", "22nd" → the number, else 0.
int ordinal_day(std::string_view w) {
  if (w.size() < 3 || w.size() > 4)
    return 0;
  auto suffix = w.substr(w.size() - 2);
  if (!one_of(suffix, {"st", "nd", "rd", "th"}) || !is_number(w.substr(0, w.size() - 2)))
    return 0;
  int d = to_int(w.substr(0, w.size() - 2));
  return d >= 1 && d <= 31 ? d : 0;
}

/// The period word i names, honouring greetings ("boa tarde") and "mais tarde".
/// `raw` are the words as typed, `sq` the same with repeated letters squeezed.
std::optional<day_period> period_word(const std::vector<std::string>& raw,
                                      const std::vector<std::string>& sq, size_t i) {
  auto is = [&](size_t k, std::initializer_list<const char*> list) {
    return k < raw.size() && (one_of(raw[k], list) || one_of(sq[k], list));
  };
  auto after = [&](std::initializer_list<const char*> list) { return i > 0 && is(i - 1, list); };
  if (is(i, {"manha", "manhazinha", "morning"}))
    return after({"good", "bom", "nice", "great", "lovely"}) ? std::nullopt : std::optional(day_period::morning);
  if (is(i, {"tarde", "tardinha", "afternoon", "tardi"}))
    return after({"boa", "bo", "good", "mais", "muito", "to", "ta", "tao"})
             ? std::nullopt : std::optional(day_period::afternoon);
  if (is(i, {"noite", "noitinha", "evening", "night", "tonight", "noiti"}))
    return after({"boa", "bo", "good", "nice", "great", "lovely"}) ? std::nullopt : std::optional(day_period::evening);
  return std::nullopt;
}

/// An hour said in words ("duas", "onze", "two", "eleven"), 1..12, or 0.
int hour_word(std::string_view w) {
  static constexpr std::array<std::array<const char*, 2>, 12> names{{
    {"uma", "one"},     {"duas", "two"},   {"tres", "three"}, {"quatro", "four"},
    {"cinco", "five"},  {"seis", "six"},   {"sete", "seven"}, {"oito", "eight"},
    {"nove", "nine"},   {"dez", "ten"},    {"onze", "eleven"}, {"doze", "twelve"},
  }};
  for (int h = 0; h < 12; ++h)
    for (auto n : names[h])
      if (w == n)
        return h + 1;
  return 0;
}

/// Minutes said in words after an hour ("meia", "quinze", "thirty", "quarenta e cinco"),
/// reading from word i; sets `used` to the number of words read. -1 when none.
int minute_words(const std::vector<std::string>& w, size_t i, size_t& used) {
  used = 0;
  if (i >= w.size())
    return -1;
  struct name {
    const char* word;
    int minutes;
  };
  static constexpr name tens[] = {
    {"meia", 30}, {"dez", 10}, {"quinze", 15}, {"vinte", 20}, {"trinta", 30}, {"quarenta", 40},
    {"cinquenta", 50}, {"cinco", 5}, {"ten", 10}, {"fifteen", 15}, {"twenty", 20},
    {"thirty", 30}, {"forty", 40}, {"fifty", 50}, {"five", 5},
  };
  for (auto& t : tens) {
    if (w[i] != t.word)
      continue;
    used = 1;
    int m = t.minutes;
    // "quarenta e cinco", "vinte e cinco", "forty five"
    if (m >= 20 && m != 30 && std::string_view(t.word) != "meia") {
      size_t k = i + 1;
      if (k < w.size() && w[k] == "e")
        ++k;
      if (k < w.size() && (w[k] == "cinco" || w[k] == "five")) {
        m += 5;
        used = k - i + 1;
      }
    }
    return m;
  }
  return -1;
}

/// Parses "14:30", "14h", "14hs", "14hrs", "14h30", "2pm", "10:30am" into hour/minute
/// and whether an am/pm marker was given (1 = am, 2 = pm).
bool clock_token(std::string_view t, int& h, int& m, int& ampm) {
  ampm = 0;
  if (t.size() > 2 && (t.substr(t.size() - 2) == "am" || t.substr(t.size() - 2) == "pm")) {
    ampm = t.substr(t.size() - 2) == "am" ? 1 : 2;
    t = t.substr(0, t.size() - 2);
  }
  size_t k = 0;
  while (k < t.size() && t[k] >= '0' && t[k] <= '9')
    ++k;
  if (k == 0 || k > 2)
    return false;
  h = to_int(t.substr(0, k));
  m = 0;
  auto rest = t.substr(k);
  if (rest.empty())
    return ampm != 0 && h >= 1 && h <= 12;
  if (rest[0] == ':') {
    // 14:30, and with a unit after it as patients write it: 14:30h, 14:30hs, 14:30hrs
    auto mm = rest.substr(1, 2);
    if (mm.size() != 2 || !is_number(mm) || !one_of(rest.substr(3), {"", "h", "hs", "hr", "hrs", "min"}))
      return false;
    m = to_int(mm);
  } else if (rest[0] == 'h') {
    auto after = rest.substr(1);
    if (one_of(after, {"", "s", "r", "rs", "oras", "ora", "rz"})) {
      // 14h, 14hs, 14hr, 14hrs, 14horas
    } else {
      if (after.size() > 3 && after.substr(after.size() - 3) == "min")
        after = after.substr(0, after.size() - 3);
      if (after.size() != 2 || !is_number(after))
        return false;
      m = to_int(after);
    }
  } else {
    return false;
  }
  if (h > 23 || m > 59 || (ampm != 0 && (h < 1 || h > 12)))
    return false;
  return true;
}

} // namespace

int weekday_of(const year_month_day& d) {
  return static_cast<int>(date::weekday{date::sys_days{d}}.c_encoding());
}

year_month_day add_days(const year_month_day& d, int n) {
  return year_month_day{date::sys_days{d} + date::days{n}};
}

year_month_day next_weekday_after(const year_month_day& today, int weekday) {
  int diff = ((weekday - weekday_of(today)) % 7 + 7) % 7;
  return add_days(today, diff == 0 ? 7 : diff);
}

year_month_day next_day_of_month(const year_month_day& today, unsigned day) {
  auto ym = today.year() / today.month();
  if (static_cast<unsigned>(today.day()) > day)
    ym += date::months{1};
  for (int k = 0; k < 24; ++k, ym += date::months{1}) {
    year_month_day c{ym / date::day{day}};
    if (c.ok())
      return c;
  }
  return today; // unreachable for 1..31
}

std::optional<year_month_day> next_day_month(const year_month_day& today, unsigned day,
                                             unsigned month) {
  if (day < 1 || day > 31 || month < 1 || month > 12)
    return std::nullopt;
  auto y = today.year();
  for (int k = 0; k < 9; ++k, y += date::years{1}) {
    year_month_day c{y / date::month{month} / date::day{day}};
    if (c.ok() && c >= today)
      return c;
  }
  return std::nullopt;
}

std::optional<year_month_day> next_weekday_and_day(const year_month_day& today, int weekday, unsigned day,
                                                   unsigned month) {
  for (int k = 0; k <= 366; ++k) {
    auto d = add_days(today, k);
    if (static_cast<unsigned>(d.day()) == day && (month == 0 || static_cast<unsigned>(d.month()) == month) &&
        weekday_of(d) == weekday)
      return d;
  }
  return std::nullopt;
}

std::pair<year_month_day, year_month_day> next_week(const year_month_day& today) {
  // Weeks run Monday..Sunday; days until next Monday: Monday 7, Sunday 1.
  int wd = weekday_of(today);
  int to_monday = wd == 0 ? 1 : 8 - wd;
  auto monday = add_days(today, to_monday);
  return {monday, add_days(monday, 6)};
}

namespace {

/// A day named in a message: a date outright, a weekday, a day of the month (and month),
/// or a weekday and a day said together.
struct day_mention {
  size_t at = 0;                    ///< index of its (first) word
  std::optional<year_month_day> date; ///< "amanhã", "25/11/2027"
  int weekday = -1;                 ///< "sexta"
  unsigned day = 0;                 ///< "dia 4", "25/11"
  unsigned month = 0;               ///< 0: any month
  size_t end = 0;                   ///< index of its last word
  bool calendar = false;            ///< `date` written out ("25/11/2027"), not relative
};

/// The date a mention names; nullopt (with `choices` filled) when a weekday and a day
/// contradict each other within a year.
std::optional<year_month_day> resolve(const day_mention& m, const year_month_day& today,
                                      std::vector<year_month_day>& choices) {
  std::optional<year_month_day> by_day;
  if (m.date)
    by_day = m.date;
  else if (m.day != 0)
    by_day = m.month != 0 ? next_day_month(today, m.day, m.month) : std::optional(next_day_of_month(today, m.day));
  if (m.weekday < 0)
    return by_day;
  if (!by_day)
    return next_weekday_after(today, m.weekday);
  if (weekday_of(*by_day) == m.weekday)
    return by_day;
  if (!m.date)
    if (auto both = next_weekday_and_day(today, m.weekday, m.day, m.month))
      return both;
  choices = {*by_day, next_weekday_after(today, m.weekday)};
  if (choices[1] < choices[0])
    std::swap(choices[0], choices[1]);
  return std::nullopt;
}

} // namespace

entities scan_when(const std::vector<std::string>& words, const year_month_day& today) {
  entities e;
  std::vector<day_mention> mentions;
  const size_t n = words.size();
  std::vector<std::string> w;
  w.reserve(n);
  for (auto& x : words)
    w.push_back(squeeze_repeats(x));
  // Words as typed where English doubles letters ("week", "afternoon"), squeezed where
  // patients stretch them ("amanhãã"): a word matches a list if either form is in it.
  auto at = [&](size_t i) -> std::string_view {
    return i < n ? std::string_view(w[i]) : std::string_view();
  };
  auto is = [&](size_t i, std::initializer_list<const char*> list) {
    return i < n && (one_of(words[i], list) || one_of(w[i], list));
  };
  size_t word = 0; // the word being read (a mention may span several)
  auto add = [&](day_mention m) {
    m.at = word;
    m.end = word;
    mentions.push_back(m);
  };
  auto set_date = [&](const year_month_day& d) {
    day_mention m;
    m.date = d;
    add(m);
  };
  auto set_day = [&](unsigned day, unsigned month) {
    day_mention m;
    m.day = day;
    m.month = month;
    add(m);
  };
  auto set_time = [&](int h, int m, size_t after) {
    if (e.time)
      return;
    // "3 da tarde", "8 da noite", "3 pm" written apart.
    bool pm = false;
    bool am = false;
    for (size_t k = after; k < n && k < after + 4; ++k) {
      if (is(k, {"tarde", "noite", "pm"}))
        pm = true;
      if (is(k, {"manha", "am", "morning"}))
        am = true;
      if (is(k, {"afternoon", "evening"}))
        pm = true;
    }
    if (pm && h < 12)
      h += 12;
    else if (!am && h >= 1 && h <= 6)
      h += 12; // nobody books a clinic at 3 in the morning
    e.time = h * 60 + m;
  };
  auto month_after = [&](size_t i) -> unsigned {
    // "25 de dezembro", "25 dezembro", "15th of november"
    if (is(i, {"de", "of"}))
      return month_word(at(i + 1));
    return month_word(at(i));
  };

  for (size_t i = 0; i < n; ++i) {
    word = i;
    const std::string_view t = w[i];
    const std::string_view raw = words[i];
    // -- relative days ---
    if (is(i, {"hoje", "hj", "hje", "today", "todays"})) {
      set_date(today);
    } else if (is(i, {"tonight"})) {
      set_date(today);
    } else if (is(i, {"amanha", "amnha", "amanah", "amanh", "amanhan"})) {
      bool after = (i >= 2 && is(i - 1, {"de", "d"}) && is(i - 2, {"depois", "dps", "dpois"}))
                   || (i >= 1 && is(i - 1, {"depois", "dps"}));
      set_date(add_days(today, after ? 2 : 1));
    } else if (is(i, {"tomorrow", "tomorrows", "tomorow", "tomorows", "tmrw", "tmr", "tomorw", "tommorow"})) {
      bool after = i >= 2 && is(i - 1, {"after"}) && is(i - 2, {"day"});
      set_date(add_days(today, after ? 2 : 1));
    } else if (is(i, {"this"}) && i + 1 < n && is(i + 1, {"morning", "afternoon", "evening"})) {
      set_date(today);
    }
    // "dia primeiro", "dia 1o" (the first of the month)
    if (i > 0 && is(i - 1, {"dia"}) && is(i, {"primeiro", "1o"})) {
      set_day(1, 0);
      continue;
    }
    // "daqui a 2 dias", "daqui 3 dias", "em 2 dias", "in 2 days"
    if (is(i + 1, {"dias", "days"}) && i > 0 && (is(i - 1, {"daqui", "in", "em"}) || (is(i - 1, {"a"}) && i > 1 && is(i - 2, {"daqui"})))) {
      int k = is_number(t) ? to_int(t) : one_of(t, {"dois", "duas", "two"}) ? 2 : one_of(t, {"tres", "three"}) ? 3 : 0;
      if (k >= 1 && k <= 14) {
        set_date(add_days(today, k));
        ++i;
        continue;
      }
    }
    // -- ranges ---
    if (is(i, {"semana"}) || is(i, {"semna"})) {
      bool next = (is(i + 1, {"que", "q"}) && is(i + 2, {"vem"}))
                  || (i > 0 && is(i - 1, {"proxima", "prox", "proxma", "proxim"}));
      if (next && !e.date_from) {
        auto [from, to] = next_week(today);
        e.date_from = from;
        e.date_to = to;
      }
    } else if (is(i, {"week"}) && i > 0 && is(i - 1, {"next"}) && !e.date_from) {
      auto [from, to] = next_week(today);
      e.date_from = from;
      e.date_to = to;
    }
    // -- weekdays ---
    // "segunda via" is a copy of a document, not Monday.
    // A day in the past ("desde segunda", "sexta passada", "last monday") is when something
    // happened, not a day to book.
    const bool past = (i > 0 && is(i - 1, {"desde", "since", "last", "ultima", "ultimo", "ontem", "yesterday"}))
                      || (i > 1 && is(i - 2, {"desde", "since", "ontem", "yesterday"})
                          && is(i - 1, {"a", "o", "de", "the", "hoje", "dia", "in", "this"}))
                      || (i > 2 && is(i - 3, {"desde", "since"}) && is(i - 1, {"dia", "the"}))
                      || is(i + 1, {"passada", "passado", "retrasada", "retrasado"})
                      || (is(i + 1, {"feira"}) && is(i + 2, {"passada", "retrasada"}));
    if (int wd = weekday_word(t); wd >= 0 && !past && !(wd == 1 && is(i + 1, {"via", "vez", "opiniao"}))) {
      day_mention m;
      m.weekday = wd;
      add(m);
    }
    // -- dd/mm[/yyyy] ---
    if (raw.find('/') != std::string_view::npos) {
      auto p1 = raw.find('/');
      auto p2 = raw.find('/', p1 + 1);
      auto dd = raw.substr(0, p1);
      auto mm = p2 == std::string_view::npos ? raw.substr(p1 + 1) : raw.substr(p1 + 1, p2 - p1 - 1);
      if (is_number(dd) && is_number(mm) && dd.size() <= 2 && mm.size() <= 2) {
        unsigned d = to_int(dd), m = to_int(mm);
        if (p2 != std::string_view::npos && is_number(raw.substr(p2 + 1))) {
          int y = to_int(raw.substr(p2 + 1));
          if (y < 100)
            y += 2000;
          year_month_day c{date::year{y} / date::month{m} / date::day{d}};
          if (c.ok()) {
            set_date(c);
            mentions.back().calendar = true;
          }
        } else if (next_day_month(today, d, m)) {
          set_day(d, m);
        }
      }
      continue;
    }
    // -- "dia 25", "25 de dezembro", "the 15th", "december 25" ---
    if (int od = ordinal_day(t); od > 0) {
      if (auto m = month_after(i + 1); m != 0) {
        if (next_day_month(today, od, m))
          set_day(od, m);
      } else {
        set_day(od, 0);
      }
      continue;
    }
    if (auto m = month_word(t); m != 0 && i + 1 < n) {
      int d = is_number(at(i + 1)) ? to_int(at(i + 1)) : ordinal_day(at(i + 1));
      if (d >= 1 && d <= 31 && !(i > 0 && is_number(at(i - 1)))) {
        if (next_day_month(today, d, m))
          set_day(d, m);
        ++i;
        continue;
      }
    }
    if (is_number(t)) {
      int v = to_int(t);
      if (v >= 1 && v <= 31) {
        if (auto m = month_after(i + 1); m != 0) {
          if (next_day_month(today, v, m))
            set_day(v, m);
          continue;
        }
        if (i > 0 && is(i - 1, {"dia"}) && !is(i + 1, {"h", "hs", "hrs", "horas", "hora", "e"})) {
          if (!past)
            set_day(v, 0);
          continue;
        }
      }
      // "1430", "0930": a clock time without its colon
      if (t.size() == 4 && !e.time) {
        int hh = v / 100, mm = v % 100;
        const bool said_at = i > 0 && is(i - 1, {"as", "at", "pelas", "umas", "das"});
        const bool year_like = i > 0 && (is(i - 1, {"de", "of", "em", "in", "ano", "year"}) || month_word(at(i - 1)) != 0);
        if (hh >= 6 && hh <= 21 && one_of(t.substr(2), {"00", "10", "15", "20", "30", "40", "45", "50"})
            && !year_like && (hh != 20 || said_at)) {
          set_time(hh, mm, i + 1);
          continue;
        }
      }
      // -- times written with spaces ---
      if (v <= 23) {
        if (is(i + 1, {"h", "hs", "hr", "hrs", "horas", "hora", "oclock"}) || (is(i + 1, {"o"}) && is(i + 2, {"clock"}))) {
          set_time(v, 0, i + 2);
          continue;
        }
        if (is(i + 1, {"e"}) && is(i + 2, {"meia", "mea"})) {
          set_time(v, 30, i + 3);
          i += 2;
          continue;
        }
        if (v >= 1 && v <= 12 && is(i + 1, {"pm", "am"})) {
          int h = v % 12 + (is(i + 1, {"pm"}) ? 12 : 0);
          if (!e.time)
            e.time = h * 60;
          continue;
        }
        if (i > 0 && is(i - 1, {"as", "at", "pelas", "umas", "after", "das", "around", "about", "till", "until"})
            && !(i + 1 < n && month_word(at(i + 1)) != 0)
            && !is(i + 1, {"dias", "semanas", "meses", "days", "weeks", "months", "minutos", "minutes", "pessoas", "people"})) {
          // "às 14 30", "às 14 e 30", "às 9 e 15"
          size_t k = is(i + 1, {"e"}) ? i + 2 : i + 1;
          if (k < n && words[k].size() == 2 && is_number(words[k]) && to_int(words[k]) < 60) {
            set_time(v, to_int(words[k]), k + 1);
            i = k;
          } else {
            set_time(v, 0, i + 1);
          }
          continue;
        }
        // "half past 9", "quarter past 10", "quarter to 4"
        if (i >= 2 && v >= 1 && v <= 12 && is(i - 1, {"past", "to"})
            && (is(i - 2, {"half"}) || is(i - 2, {"quarter"})) && !(is(i - 2, {"half"}) && is(i - 1, {"to"}))) {
          if (is(i - 1, {"to"}))
            set_time(v == 1 ? 12 : v - 1, 45, i + 1);
          else
            set_time(v, is(i - 2, {"half"}) ? 30 : 15, i + 1);
          continue;
        }
        // "9 da manhã", "3 da tarde", "9 in the morning"
        if (v >= 1 && v <= 12
            && ((is(i + 1, {"da", "de"}) && is(i + 2, {"manha", "tarde", "noite"}))
                || (is(i + 1, {"in"}) && is(i + 2, {"the"})
                    && is(i + 3, {"morning", "afternoon", "evening"})))) {
          set_time(v, 0, i + 1);
          continue;
        }
      }
    }
    // -- times in one token ---
    {
      int h = 0, m = 0, ampm = 0;
      if (clock_token(raw, h, m, ampm)) {
        if (ampm == 2 && h < 12)
          h += 12;
        else if (ampm == 1 && h == 12)
          h = 0;
        // "2:30" reads like "às 2" (the afternoon, or "pm" after it); "06:00" and "2:30am" as written.
        if (ampm != 0 || raw[0] == '0') {
          if (!e.time)
            e.time = h * 60 + m;
        } else {
          set_time(h, m, i + 1);
        }
        continue;
      }
    }
    // -- times in words: "às duas", "duas e meia", "oito da manhã", "ten thirty" ---
    if (int h = hour_word(t); h > 0 && !e.time) {
      const bool before = i > 0 && is(i - 1, {"as", "pelas", "umas", "at", "ate", "das", "por", "volta"});
      size_t used = 0;
      int m = -1;
      size_t next = i + 1;
      if (is(i + 1, {"e"})) {
        m = minute_words(w, i + 2, used);
        if (m >= 0)
          next = i + 2 + used;
      } else if (h > 1 || !is(i - 1, {"a"})) {
        // "ten thirty" (not "uma e meia"'s own form)
        m = minute_words(w, i + 1, used);
        if (m >= 0 && one_of(w[i + 1], {"meia", "dez", "cinco"}))
          m = -1; // Portuguese minutes come after "e"
        if (m >= 0)
          next = i + 1 + used;
      }
      // "half past two", "quarter to four"
      if (i >= 2 && is(i - 1, {"past", "to"}) && is(i - 2, {"half", "quarter"})
          && !(is(i - 2, {"half"}) && is(i - 1, {"to"}))) {
        if (is(i - 1, {"to"}))
          set_time(h == 1 ? 12 : h - 1, 45, i + 1);
        else
          set_time(h, is(i - 2, {"half"}) ? 30 : 15, i + 1);
        continue;
      }
      const bool unit = is(next, {"h", "hs", "hora", "horas", "oclock", "am", "pm"})
                        || (is(next, {"o"}) && is(next + 1, {"clock"}))
                        || (is(next, {"da", "de"}) && is(next + 1, {"manha", "tarde", "noite"}))
                        || (is(next, {"in"}) && is(next + 1, {"the"}) && is(next + 2, {"morning", "afternoon", "evening"}));
      // "uma" and "one" are mostly articles and numbers: only with a unit or minutes.
      const bool ambiguous = is(i, {"uma", "one"});
      // "as duas consultas" counts things, not hours.
      const bool counts = is(i + 1, {"consultas", "vezes", "pessoas", "semanas", "dias", "meses", "criancas",
                                     "people", "times", "days", "weeks", "months", "kids", "of"});
      const bool pt_minutes = m >= 0 && is(i + 1, {"e"});
      if (!counts && ((before && !ambiguous) || unit || pt_minutes || (m >= 0 && (before || !ambiguous)))) {
        if (is(next, {"pm"}) && h < 12)
          h += 12;
        else if (is(next, {"am"}) && h == 12)
          h = 0;
        set_time(h, m < 0 ? 0 : m, next);
        i = next > i ? next - 1 : i;
        continue;
      }
    }
    if ((is(i, {"meio"}) && is(i + 1, {"dia", "di"})) || is(i, {"meiodia"}) || is(i, {"noon"})) {
      int m = 0;
      size_t next = is(i, {"meio"}) ? i + 2 : i + 1;
      if (is(next, {"e"}) && is(next + 1, {"meia"}))
        m = 30;
      if (!e.time)
        e.time = 12 * 60 + m;
      if (is(i, {"meio"}))
        ++i;
      continue;
    }
    // -- periods ---
    if (!e.period && !past)
      if (auto p = period_word(words, w, i))
        e.period = p;
    // "cedinho", "amanhã cedo", "bem cedo" (not "mais cedo": earlier)
    if (!e.period && (is(i, {"cedinho"})
                      || (is(i, {"cedo"}) && i > 0
                          && (is(i - 1, {"bem", "amanha", "hoje", "hj", "manha"}) || weekday_word(at(i - 1)) >= 0))))
      e.period = day_period::morning;
    // "depois do almoço", "após o almoço", "after lunch"
    if (!e.period && is(i, {"almoco", "lunch"}) && i > 0
        && (is(i - 1, {"after"}) || (i > 1 && is(i - 1, {"do", "o"}) && is(i - 2, {"depois", "apos", "dps"}))))
      e.period = day_period::afternoon;
    if (is(i, {"tonight"}) && !e.period)
      e.period = day_period::evening;
  }

  // A weekday and a day of the month said together ("sexta dia 4", "quarta, 25/11",
  // "dia 4, sexta") name one day.
  auto together = [&](const day_mention& a, const day_mention& b) {
    if (b.at - a.end > 4)
      return false;
    for (size_t k = a.end + 1; k < b.at; ++k)
      if (!is(k, {"dia", "de", "do", "o", "a", "the", "que", "vem", "feira", "proxima", "proximo", "next", "this",
                  "essa", "esta", "nessa", "nesta", "on", "of"}))
        return false;
    return true;
  };
  for (size_t k = 0; k + 1 < mentions.size(); ++k) {
    auto& a = mentions[k];
    auto& b = mentions[k + 1];
    const bool day_a = (a.day != 0 || a.calendar) && a.weekday < 0, day_b = (b.day != 0 || b.calendar) && b.weekday < 0;
    const bool wd_a = a.weekday >= 0 && a.day == 0 && !a.date, wd_b = b.weekday >= 0 && b.day == 0 && !b.date;
    if (together(a, b) && ((wd_a && day_b) || (day_a && wd_b))) {
      if (wd_a) {
        a.day = b.day;
        a.month = b.month;
        a.date = b.date;
      } else {
        a.weekday = b.weekday;
      }
      a.end = b.end;
      mentions.erase(mentions.begin() + static_cast<std::ptrdiff_t>(k) + 1);
    }
  }
  if (mentions.empty())
    return e;
  e.date = resolve(mentions[0], today, e.date_choices);
  // "de amanhã para sexta": where it is and where it goes.
  for (size_t k = 1; k < mentions.size(); ++k) {
    const auto& m = mentions[k];
    // ("pode ser segunda", "could it be wednesday": the day it would move to)
    const bool to = (m.at >= 1 && is(m.at - 1, {"para", "pra", "pro", "p", "to", "for", "ate", "ser", "be"})) ||
                    (m.at >= 2 && is(m.at - 2, {"para", "pra", "pro", "p", "to", "for", "ate"}) &&
                     is(m.at - 1, {"a", "o", "dia", "the", "next", "proxima", "proximo"}));
    if (!to || !e.date)
      continue;
    std::vector<year_month_day> ignored;
    if (auto d = resolve(m, today, ignored); d && *d != *e.date) {
      e.original_date = e.date;
      e.new_date = d;
    }
    break;
  }
  return e;
}

} // namespace atendeai::core
