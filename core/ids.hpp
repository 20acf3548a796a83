#pragma once
/// Identifiers the node makes itself: time-ordered UUIDs (RFC 9562 version 7), so rows
/// appended with them land in index order and need no round trip to be named.

#include <cstdint>
#include <random>
#include <string>

namespace atendeai::core {

/// Makes version 7 UUIDs: 48 bits of Unix milliseconds, then 74 random bits. One per
/// actor (not thread-safe).
class uuid_generator {
public:
  uuid_generator();
  /// A fresh UUID for the instant `unix_ms`, in its canonical text form.
  std::string next(int64_t unix_ms);

private:
  std::mt19937_64 rng_;
};

} // namespace atendeai::core
