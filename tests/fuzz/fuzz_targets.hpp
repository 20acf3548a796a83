#pragma once
/// Fuzz targets over core/ (issue 26): each takes arbitrary bytes, runs one entry point
/// that sees outside input and checks what must hold whatever the input. A broken
/// invariant calls fuzz_failure(), which aborts (the driver saves the input first).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace atendeai::fuzz {

/// One target: its name (also its corpus folder under tests/data/fuzz/), entry point and
/// the largest input worth trying (what the caller lets through: a webhook body of 3 MB,
/// an admin body of 64 KiB, a message of a few thousand characters).
struct target {
  const char* name;
  void (*run)(std::string_view input);
  size_t max_input;
};

/// Every target.
const std::vector<target>& targets();

/// Reports a broken invariant and aborts.
[[noreturn]] void fuzz_failure(const std::string& what);

} // namespace atendeai::fuzz
