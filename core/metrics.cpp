#include "core/metrics.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace atendeai::core {

namespace {

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string label_text(const labels& l) {
  if (l.empty())
    return {};
  std::string out = "{";
  for (size_t i = 0; i < l.size(); ++i)
    out += (i ? "," : "") + l[i].first + "=\"" + escape_label(l[i].second) + "\"";
  return out + "}";
}

std::string with_label(const std::string& key, const std::string& extra) {
  if (key.empty())
    return "{" + extra + "}";
  return key.substr(0, key.size() - 1) + "," + extra + "}";
}

std::string number(double v) {
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

} // namespace

histogram::histogram(std::vector<double> bounds)
  : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i)
    buckets_[i].store(0);
}

void histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i])
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(std::llround(std::max(v, 0.0) * 1e6)),
                        std::memory_order_relaxed);
}

std::vector<uint64_t> histogram::counts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i)
    out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

double histogram::sum() const {
  return static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
}

const std::vector<double>& metrics_registry::default_latency_bounds() {
  static const std::vector<double> b = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                        0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return b;
}

metrics_registry::family& metrics_registry::family_of(const std::string& name, const std::string& type,
                                                      const std::string& help) {
  auto& f = families_[name];
  if (f.type.empty()) {
    f.type = type;
    f.help = help;
  }
  return f;
}

counter& metrics_registry::counter_with(const std::string& name, const std::string& help, const labels& l) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto& slot = family_of(name, "counter", help).counters[label_text(l)];
  if (!slot)
    slot = std::make_unique<counter>();
  return *slot;
}

gauge& metrics_registry::gauge_with(const std::string& name, const std::string& help, const labels& l) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto& slot = family_of(name, "gauge", help).gauges[label_text(l)];
  if (!slot)
    slot = std::make_unique<gauge>();
  return *slot;
}

histogram& metrics_registry::histogram_with(const std::string& name, const std::string& help,
                                            const labels& l, const std::vector<double>& bounds) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto& slot = family_of(name, "histogram", help).histograms[label_text(l)];
  if (!slot)
    slot = std::make_unique<histogram>(bounds);
  return *slot;
}

void metrics_registry::gauge_callback(const std::string& name, const std::string& help,
                                      std::function<double()> f) {
  std::lock_guard<std::mutex> guard(mutex_);
  family_of(name, "gauge", help).callback = std::move(f);
}

std::string metrics_registry::render() const {
  std::lock_guard<std::mutex> guard(mutex_);
  std::ostringstream out;
  for (auto& [name, f] : families_) {
    out << "# HELP " << name << " " << f.help << "\n# TYPE " << name << " " << f.type << "\n";
    for (auto& [key, c] : f.counters)
      out << name << key << " " << c->value() << "\n";
    for (auto& [key, g] : f.gauges)
      out << name << key << " " << g->value() << "\n";
    if (f.callback)
      out << name << " " << number(f.callback()) << "\n";
    for (auto& [key, h] : f.histograms) {
      auto counts = h->counts();
      uint64_t cumulative = 0;
      for (size_t i = 0; i < counts.size(); ++i) {
        cumulative += counts[i];
        auto le = i < h->bounds().size() ? number(h->bounds()[i]) : std::string("+Inf");
        out << name << "_bucket" << with_label(key, "le=\"" + le + "\"") << " " << cumulative << "\n";
      }
      out << name << "_sum" << key << " " << number(h->sum()) << "\n";
      out << name << "_count" << key << " " << cumulative << "\n";
    }
  }
  return out.str();
}

} // namespace atendeai::core
