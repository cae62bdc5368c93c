#pragma once
// Process metrics rendered in the Prometheus text format at /metrics.
//
// A Registry owns metric families; a family is a name + help + label names; a series is one set of
// label values. Looking a series up takes a lock; updating it is lock-free (atomics), so hot paths
// keep the Counter*/Histogram* they looked up. Series live as long as the Registry.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"

namespace klaxon::metrics {

class Counter {
 public:
  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Fixed-bucket histogram of seconds.
class Histogram {
 public:
  explicit Histogram(const std::vector<double>& bounds);
  void Observe(double seconds);
  const std::vector<double>& bounds() const { return bounds_; }
  uint64_t bucket(size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1 (the +Inf bucket)
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_nanos_{0};
};

// Latency buckets from 50us to 10s.
const std::vector<double>& DefaultLatencyBounds();

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The counter `name{labels}`; created on first use. Thread-safe.
  Counter& GetCounter(const std::string& name, const std::string& help,
                      const std::vector<std::pair<std::string, std::string>>& labels = {});
  Histogram& GetHistogram(const std::string& name, const std::string& help,
                          const std::vector<std::pair<std::string, std::string>>& labels = {},
                          const std::vector<double>& bounds = DefaultLatencyBounds());

  // Prometheus text exposition format 0.0.4.
  std::string Render() const;

 private:
  struct Family {
    std::string help;
    bool histogram = false;
    std::map<std::string, std::unique_ptr<Counter>> counters;      // by rendered label set
    std::map<std::string, std::unique_ptr<Histogram>> histograms;  // by rendered label set
  };
  mutable klaxon::Mutex mu_;
  std::map<std::string, Family> families_ ABSL_GUARDED_BY(mu_);
};

}  // namespace klaxon::metrics
