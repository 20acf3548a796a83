#include "core/supervision.hpp"

#include <algorithm>

namespace atendeai::core {

restart_intensity::restart_intensity(int max_restarts, std::chrono::milliseconds window)
  : max_restarts_(static_cast<size_t>(std::max(0, max_restarts))), window_(window) {
}

void restart_intensity::forget_before(instant t) {
  while (!restarts_.empty() && restarts_.front() <= t - window_)
    restarts_.pop_front();
}

bool restart_intensity::record(instant t) {
  forget_before(t);
  restarts_.push_back(t);
  return restarts_.size() > max_restarts_;
}

size_t restart_intensity::recent(instant t) {
  forget_before(t);
  return restarts_.size();
}

} // namespace atendeai::core
