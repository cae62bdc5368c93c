#include "common/metrics.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace klaxon::metrics {
namespace {

std::string RenderLabels(const std::vector<std::pair<std::string, std::string>>& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ",";
    absl::StrAppend(&out, labels[i].first, "=\"",
                    absl::StrReplaceAll(labels[i].second,
                                        {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}}),
                    "\"");
  }
  out += "}";
  return out;
}

// Adds `extra` (e.g. le="0.5") to an already rendered label set.
std::string WithLabel(const std::string& rendered, const std::string& extra) {
  if (rendered.empty()) return "{" + extra + "}";
  return rendered.substr(0, rendered.size() - 1) + "," + extra + "}";
}

std::string FormatDouble(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return absl::StrCat(v);
}

}  // namespace

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double seconds) {
  size_t i = 0;
  while (i < bounds_.size() && seconds > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_nanos_.fetch_add(static_cast<uint64_t>(std::max(0.0, seconds) * 1e9),
                       std::memory_order_relaxed);
}

double Histogram::sum() const { return static_cast<double>(sum_nanos_.load()) / 1e9; }

const std::vector<double>& DefaultLatencyBounds() {
  static const std::vector<double> bounds = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                             0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                             0.5,     1,      2.5,     5,      10};
  return bounds;
}

Counter& Registry::GetCounter(const std::string& name, const std::string& help,
                              const std::vector<std::pair<std::string, std::string>>& labels) {
  klaxon::MutexLock lock(&mu_);
  Family& family = families_[name];
  family.help = help;
  auto& slot = family.counters[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Histogram& Registry::GetHistogram(const std::string& name, const std::string& help,
                                  const std::vector<std::pair<std::string, std::string>>& labels,
                                  const std::vector<double>& bounds) {
  klaxon::MutexLock lock(&mu_);
  Family& family = families_[name];
  family.help = help;
  family.histogram = true;
  auto& slot = family.histograms[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Histogram>(bounds);
  return *slot;
}

std::string Registry::Render() const {
  klaxon::MutexLock lock(&mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    absl::StrAppend(&out, "# HELP ", name, " ", family.help, "\n");
    absl::StrAppend(&out, "# TYPE ", name, family.histogram ? " histogram\n" : " counter\n");
    for (const auto& [labels, counter] : family.counters) {
      absl::StrAppend(&out, name, labels, " ", counter->value(), "\n");
    }
    for (const auto& [labels, h] : family.histograms) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i <= h->bounds().size(); ++i) {
        cumulative += h->bucket(i);
        double le = i < h->bounds().size() ? h->bounds()[i] : INFINITY;
        absl::StrAppend(&out, name, "_bucket", WithLabel(labels, "le=\"" + FormatDouble(le) + "\""),
                        " ", cumulative, "\n");
      }
      absl::StrAppend(&out, name, "_sum", labels, " ", FormatDouble(h->sum()), "\n");
      absl::StrAppend(&out, name, "_count", labels, " ", h->count(), "\n");
    }
  }
  return out;
}

}  // namespace klaxon::metrics
