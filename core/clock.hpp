#pragma once
/// The one injectable clock every component reads "now" from.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace atendeai::core {

/// Milliseconds since the Unix epoch, UTC.
using instant = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

/// Source of the current time; production uses the system clock, tests a manual one.
class clock {
public:
  virtual ~clock() = default;
  /// The current instant.
  virtual instant now() const = 0;
  /// True when "now" may jump (a test clock): timers must re-check it often instead of
  /// sleeping until a computed instant.
  virtual bool jumps() const { return false; }
};

/// Wall clock.
class system_clock final : public clock {
public:
  instant now() const override {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  }
};

/// A clock that only moves when told (tests; test builds start the node on one with
/// ATENDEAI_TEST_CLOCK); thread safe.
class manual_clock final : public clock {
public:
  explicit manual_clock(instant start) : ms_(start.time_since_epoch().count()) {}
  instant now() const override { return instant{std::chrono::milliseconds{ms_.load()}}; }
  /// Jump to an instant.
  void set(instant t) { ms_.store(t.time_since_epoch().count()); }
  /// Move forward by a duration.
  void advance(std::chrono::milliseconds d) { ms_.fetch_add(d.count()); }
  bool jumps() const override { return true; }

private:
  std::atomic<int64_t> ms_;
};

} // namespace atendeai::core
