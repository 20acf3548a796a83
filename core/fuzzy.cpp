#include "core/fuzzy.hpp"

#include <algorithm>
#include <cstdlib>

namespace atendeai::core {

int edit_distance(std::string_view a, std::string_view b, int limit) {
  const int n = static_cast<int>(a.size());
  const int m = static_cast<int>(b.size());
  if (std::abs(n - m) > limit)
    return limit + 1;
  // Three rolling rows are enough for the transposition rule; words are short, so they
  // live on the stack (long inputs fall back to the heap).
  constexpr int small = 48;
  int buf[3][small + 1];
  std::vector<int> heap;
  int* prev2 = buf[0];
  int* prev = buf[1];
  int* cur = buf[2];
  if (m > small) {
    heap.resize(3 * (m + 1));
    prev2 = heap.data();
    prev = prev2 + (m + 1);
    cur = prev + (m + 1);
  }
  for (int j = 0; j <= m; ++j)
    prev[j] = j;
  for (int i = 1; i <= n; ++i) {
    cur[0] = i;
    int row_min = cur[0];
    for (int j = 1; j <= m; ++j) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      int v = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        v = std::min(v, prev2[j - 2] + 1);
      cur[j] = v;
      row_min = std::min(row_min, v);
    }
    if (row_min > limit)
      return limit + 1;
    int* oldest = prev2;
    prev2 = prev;
    prev = cur;
    cur = oldest;
  }
  return std::min(prev[m], limit + 1);
}

std::string squeeze_repeats(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s)
    if (out.empty() || out.back() != c || (c >= '0' && c <= '9'))
      out += c;
  return out;
}

std::size_t common_prefix(std::string_view a, std::string_view b) {
  std::size_t k = 0;
  while (k < a.size() && k < b.size() && a[k] == b[k])
    ++k;
  return k;
}

bool one_of(std::string_view s, std::initializer_list<const char*> words) {
  // The first letter first: most candidates differ there, and it spares measuring them.
  const char first = s.empty() ? '\0' : s[0];
  for (auto w : words)
    if (w[0] == first && s == w)
      return true;
  return false;
}

std::vector<std::string> split_words(std::string_view normalized) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < normalized.size()) {
    auto j = normalized.find(' ', i);
    if (j == std::string_view::npos)
      j = normalized.size();
    if (j > i)
      words.emplace_back(normalized.substr(i, j - i));
    i = j + 1;
  }
  return words;
}

} // namespace atendeai::core
