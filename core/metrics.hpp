#pragma once
/// A small thread-safe Prometheus registry: counters, gauges and histograms with
/// labels, rendered in the text exposition format (0.0.4). Handles returned by
/// `with()` stay valid for the registry's lifetime, so hot paths look them up once.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace atendeai::core {

/// Label pairs, e.g. {{"route","/health"},{"status","200"}}.
using labels = std::vector<std::pair<std::string, std::string>>;

/// A monotonically increasing count.
class counter {
public:
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<uint64_t> value_{0};
};

/// A value that goes up and down.
class gauge {
public:
  void set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void add(int64_t d) { value_.fetch_add(d, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<int64_t> value_{0};
};

/// Observations in cumulative buckets (seconds or any unit).
class histogram {
public:
  explicit histogram(std::vector<double> bounds);
  void observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  /// Per-bucket counts (not cumulative), the +Inf bucket last.
  std::vector<uint64_t> counts() const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const;

private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

/// The registry of every metric of a node.
class metrics_registry {
public:
  /// The counter of family `name` with `l`, created on first use.
  counter& counter_with(const std::string& name, const std::string& help, const labels& l = {});
  gauge& gauge_with(const std::string& name, const std::string& help, const labels& l = {});
  histogram& histogram_with(const std::string& name, const std::string& help, const labels& l = {},
                            const std::vector<double>& bounds = default_latency_bounds());
  /// A gauge read when rendering (process memory, mailbox totals ...).
  void gauge_callback(const std::string& name, const std::string& help, std::function<double()> f);

  /// Text exposition of every family.
  std::string render() const;

  /// 0.5 ms .. 10 s, for latencies in seconds.
  static const std::vector<double>& default_latency_bounds();

private:
  struct family {
    std::string type;
    std::string help;
    std::map<std::string, std::unique_ptr<counter>> counters;
    std::map<std::string, std::unique_ptr<gauge>> gauges;
    std::map<std::string, std::unique_ptr<histogram>> histograms;
    std::function<double()> callback;
  };
  family& family_of(const std::string& name, const std::string& type, const std::string& help);

  mutable std::mutex mutex_;
  std::map<std::string, family> families_;
};

} // namespace atendeai::core
