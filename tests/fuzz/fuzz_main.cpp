// The fuzz driver (issue 26): for each target, every file of its corpus
// (tests/data/fuzz/<target>/, regressions included) runs as is, then a seeded random
// mutator derives inputs from them — byte flips, inserts, deletions, splices, nesting
// 100,000 deep, huge numbers, NUL and ill-formed UTF-8, long runs — for a bounded time
// or number of iterations. Built with AddressSanitizer and UndefinedBehaviorSanitizer;
// ctest runs each target (tests/CMakeLists.txt).
//
//   fuzz_core [--seconds S] [--iterations N] [--seed N] [--corpus DIR] [--crash-dir DIR] [target...]
//
// A crash or broken invariant saves the input to the crash directory (printed) before
// the process dies: add it under tests/data/fuzz/<target>/ and as a unit test.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#if defined(__has_include)
#if __has_include(<sanitizer/common_interface_defs.h>)
#include <sanitizer/common_interface_defs.h>
#define ATENDEAI_HAVE_SANITIZER_CALLBACK 1
#endif
#endif

#include "tests/fuzz/fuzz_targets.hpp"

namespace fs = std::filesystem;
using atendeai::fuzz::target;

namespace {

// -- what is running, for the crash report ------------------------------------------------

const std::string* current_input = nullptr;
const char* current_target = "";
std::string crash_dir = "fuzz-crashes";

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s)
    h = (h ^ c) * 1099511628211ull;
  return h;
}

/// Saves the input being run (called as the process dies).
void save_current_input() {
  if (!current_input)
    return;
  std::error_code ec;
  fs::create_directories(crash_dir, ec);
  char name[64];
  std::snprintf(name, sizeof name, "%016llx", static_cast<unsigned long long>(fnv1a(*current_input)));
  auto path = fs::path(crash_dir) / (std::string(current_target) + "-" + name + ".crash");
  std::ofstream out(path, std::ios::binary);
  out.write(current_input->data(), static_cast<std::streamsize>(current_input->size()));
  std::fprintf(stderr, "fuzz %s: failing input (%zu bytes) saved to %s\n", current_target, current_input->size(),
               path.c_str());
  current_input = nullptr;
}

// -- the mutator ------------------------------------------------------------------------------

/// Seeded mutations of byte strings, biased towards what breaks JSON and text handling.
class mutator {
public:
  mutator(uint64_t seed, size_t max_size) : rng_(seed), max_size_(max_size) {}

  /// `base` changed by one to four mutations; `others` supplies splices.
  std::string mutate(std::string s, const std::vector<std::string>& others) {
    int rounds = 1 + static_cast<int>(below(4));
    for (int i = 0; i < rounds; ++i)
      once(s, others);
    if (s.size() > max_size_)
      s.resize(max_size_);
    return s;
  }

  uint64_t below(uint64_t n) { return n == 0 ? 0 : rng_() % n; }

private:
  size_t pos(const std::string& s) { return below(s.size() + 1); }

  /// A random position just after one of `chars`, or a random position.
  size_t after_one_of(const std::string& s, const char* chars) {
    std::vector<size_t> at;
    for (size_t i = 0; i < s.size() && at.size() < 4096; ++i)
      if (std::strchr(chars, s[i]))
        at.push_back(i + 1);
    return at.empty() ? pos(s) : at[below(at.size())];
  }

  void once(std::string& s, const std::vector<std::string>& others) {
    static const char* interesting_bytes = "\0\xff\"\\[]{},:0-9.eE \n\t\x80\xc0\xed";
    static const std::vector<std::string> numbers = {
      "1000000000000000000000000000000", "1e30", "1e999", "-1e999", "-1", "0", "-0", "253402300800",
      "253402300799", "9223372036854775807", "-9223372036854775809", "18446744073709551616", "1e-400", "0.5",
      "\"1000000000000000000000000000000\"", "\"-5\"", "\"abc\"", "null", "[]", "{}", "true"};
    static const std::vector<std::string> hostile = {
      "\\u0000", std::string("\0", 1), "\xff", "\xc0\xaf", "\xed\xa0\x80", "\\ud800", "\\udc00x", "\\ud83d\\ude00",
      "\xf4\x90\x80\x80", "\xe2\x82", "\x01", "\\\\", "\\\"", "😀", "ção", "\r\n", "dia 31", "às 25h", "99/99",
      "29/02", "amanhã", "semana que vem", "99999999999999999999", "dia 0", "-1", ":", "/"};
    if (s.empty()) {
      s = others.empty() ? std::string("{}") : others[below(others.size())];
      return;
    }
    switch (below(14)) {
      case 0: // flip a bit
        s[below(s.size())] ^= static_cast<char>(1u << below(8));
        break;
      case 1: // an interesting byte
        s[below(s.size())] = interesting_bytes[below(std::strlen(interesting_bytes + 1) + 1)];
        break;
      case 2: { // insert random bytes
        std::string bytes(1 + below(8), '\0');
        for (auto& c : bytes)
          c = static_cast<char>(below(256));
        s.insert(pos(s), bytes);
        break;
      }
      case 3: { // delete a range
        size_t at = below(s.size());
        s.erase(at, 1 + below(std::min<size_t>(s.size() - at, 64)));
        break;
      }
      case 4: { // duplicate a range elsewhere
        size_t at = below(s.size());
        auto piece = s.substr(at, 1 + below(std::min<size_t>(s.size() - at, 256)));
        s.insert(pos(s), piece);
        break;
      }
      case 5: { // splice a piece of another input
        if (others.empty())
          break;
        auto& o = others[below(others.size())];
        if (o.empty())
          break;
        size_t at = below(o.size());
        s.insert(pos(s), o.substr(at, 1 + below(std::min<size_t>(o.size() - at, 512))));
        break;
      }
      case 6: { // deep nesting, mostly as a new member or array item, sometimes unbalanced
        // Mostly around the limit; now and then the 100,000 (slow to parse: rare).
        static const size_t depths[] = {22, 23, 24, 31, 32, 33, 40, 100, 1000};
        size_t depth = below(16) == 0 && max_size_ > 400'000 ? 100'000 : depths[below(9)];
        bool arrays = below(2) == 0;
        std::string deep = std::string(depth, arrays ? '[' : '{');
        if (!arrays) {
          deep.clear();
          for (size_t i = 0; i < depth; ++i)
            deep += "{\"a\":";
          deep += "1" + std::string(depth, '}');
        } else {
          deep += "1" + std::string(depth, ']');
        }
        if (below(8) == 0)
          deep.resize(deep.size() / 2); // unbalanced
        if (below(2) == 0)
          s.insert(after_one_of(s, "{"), "\"deep\":" + deep + ",");
        else
          s.insert(after_one_of(s, "[:"), deep + ",");
        break;
      }
      case 7: { // a huge or odd number in place of a number (or a quoted one)
        size_t at = after_one_of(s, ":,[");
        size_t end = at;
        while (end < s.size() && (std::isdigit(static_cast<unsigned char>(s[end])) || s[end] == '"' || s[end] == '-'))
          ++end;
        s.replace(at, end - at, numbers[below(numbers.size())]);
        break;
      }
      case 8: // hostile text inside a string
        s.insert(after_one_of(s, "\" "), hostile[below(hostile.size())]);
        break;
      case 9: // truncate
        s.resize(below(s.size()));
        break;
      case 10: { // a long run
        static const size_t lengths[] = {300, 4097, 5000, 16'385, 20'000, 70'000};
        size_t length = std::min(below(32) == 0 ? 1'000'000 : lengths[below(6)], max_size_);
        s.insert(after_one_of(s, "\""), std::string(length, below(2) ? 'a' : '\x01'));
        break;
      }
      case 11: { // repeat an array item many times (past the item limits)
        size_t at = after_one_of(s, "[");
        size_t end = s.find_first_of(",]", at);
        if (end == std::string::npos || end == at)
          break;
        auto item = s.substr(at, end - at) + ",";
        std::string many;
        for (size_t i = 0, n = std::min<size_t>(1 + below(1500), max_size_ / item.size()); i < n; ++i)
          many += item;
        s.insert(at, many);
        break;
      }
      case 12: { // swap structural characters
        size_t at = after_one_of(s, "[]{}\":,");
        if (at > 0 && at <= s.size())
          s[at - 1] = "[]{}\":,"[below(7)];
        break;
      }
      default: { // replace the whole input by another with a piece of this one
        if (others.empty())
          break;
        auto o = others[below(others.size())];
        size_t at = below(s.size());
        o.insert(below(o.size() + 1), s.substr(at, 1 + below(std::min<size_t>(s.size() - at, 128))));
        s = std::move(o);
        break;
      }
    }
  }

  std::mt19937_64 rng_;
  size_t max_size_; ///< inputs are cut to this
};

// -- running ----------------------------------------------------------------------------------

std::vector<std::string> load_corpus(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_regular_file())
      files.push_back(it->path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    out.push_back(text.str());
  }
  return out;
}

struct options {
  double seconds = 10;
  uint64_t iterations = 0; ///< 0: only the time bounds the run
  uint64_t seed = 0;
  bool seeded = false;
  std::string corpus;
  std::vector<std::string> names;
};

int run(const target& t, const options& o) {
  auto corpus = load_corpus(fs::path(o.corpus) / t.name);
  if (corpus.empty()) {
    std::fprintf(stderr, "fuzz %s: no corpus in %s/%s\n", t.name, o.corpus.c_str(), t.name);
    return 2;
  }
  current_target = t.name;
  auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
  // The corpus as is first: real payloads and every regression input.
  for (auto& input : corpus) {
    current_input = &input;
    t.run(input);
  }
  mutator m(o.seed ^ fnv1a(t.name), t.max_input);
  std::string last;
  uint64_t iterations = 0;
  while ((o.iterations == 0 || iterations < o.iterations) && elapsed() < o.seconds) {
    // Mostly a corpus input; now and then the last mutant again (when small), to stack
    // mutations.
    bool again = !last.empty() && last.size() < 64 * 1024 && m.below(3) == 0;
    const std::string& base = again ? last : corpus[m.below(corpus.size())];
    auto input = m.mutate(base, corpus);
    current_input = &input;
    t.run(input);
    current_input = nullptr;
    last = std::move(input);
    ++iterations;
  }
  std::printf("fuzz %s: %llu iterations in %.1f s (%zu corpus inputs, seed %llu)\n", t.name,
              static_cast<unsigned long long>(iterations), elapsed(), corpus.size(),
              static_cast<unsigned long long>(o.seed));
  std::fflush(stdout);
  return 0;
}

} // namespace

[[noreturn]] void atendeai::fuzz::fuzz_failure(const std::string& what) {
  std::fprintf(stderr, "fuzz %s: invariant broken: %s\n", current_target, what.c_str());
  save_current_input();
  std::abort();
}

int main(int argc, char** argv) {
  options o;
#ifdef ATENDEAI_FUZZ_CORPUS
  o.corpus = ATENDEAI_FUZZ_CORPUS;
#endif
  if (const char* s = std::getenv("ATENDEAI_FUZZ_SECONDS"))
    o.seconds = std::atof(s);
  if (const char* s = std::getenv("ATENDEAI_FUZZ_SEED")) {
    o.seed = std::strtoull(s, nullptr, 10);
    o.seeded = true;
  }
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--seconds")
      o.seconds = std::atof(value().c_str());
    else if (a == "--iterations")
      o.iterations = std::strtoull(value().c_str(), nullptr, 10);
    else if (a == "--seed")
      o.seed = std::strtoull(value().c_str(), nullptr, 10), o.seeded = true;
    else if (a == "--corpus")
      o.corpus = value();
    else if (a == "--crash-dir")
      crash_dir = value();
    else if (a == "--help" || a == "-h") {
      std::printf("fuzz_core [--seconds S] [--iterations N] [--seed N] [--corpus DIR] [--crash-dir DIR] [target...]\n");
      return 0;
    } else
      o.names.push_back(a);
  }
  if (!o.seeded)
    o.seed = std::random_device{}();
#ifdef ATENDEAI_HAVE_SANITIZER_CALLBACK
  __sanitizer_set_death_callback(save_current_input);
#endif
  std::set_terminate([] {
    std::fprintf(stderr, "fuzz %s: uncaught exception\n", current_target);
    if (auto e = std::current_exception()) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        std::fprintf(stderr, "  %s\n", x.what());
      } catch (...) {
      }
    }
    save_current_input();
    std::abort();
  });
  int status = 0;
  for (auto& t : atendeai::fuzz::targets()) {
    if (!o.names.empty() && std::find(o.names.begin(), o.names.end(), t.name) == o.names.end())
      continue;
    status |= run(t, o);
  }
  return status;
}
