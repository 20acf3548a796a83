#pragma once
/// Restart intensity, as an Erlang supervisor counts it: a supervisor may restart its
/// children up to `max_restarts` times within `window`; one more restart inside the
/// window means the children keep failing, and the supervisor gives up and escalates
/// to its own parent (at the root: the node exits non-zero).

#include <chrono>
#include <cstddef>
#include <deque>

#include "core/clock.hpp"

namespace atendeai::core {

/// The restarts one supervisor made recently.
class restart_intensity {
public:
  /// @param max_restarts restarts allowed within `window` (0: the first crash escalates)
  /// @param window the sliding window
  restart_intensity(int max_restarts, std::chrono::milliseconds window);

  /// Records a crash at `t`; true when this restart exceeds the intensity (escalate).
  bool record(instant t);

  /// Restarts inside the window ending at `t`.
  size_t recent(instant t);

private:
  void forget_before(instant t);

  size_t max_restarts_;
  std::chrono::milliseconds window_;
  std::deque<instant> restarts_;
};

} // namespace atendeai::core
