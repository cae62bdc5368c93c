#pragma once
// Aggregates of metric samples and the statistics computed from them.
//
// An Aggregate is what CloudWatch keeps per metric, unit and time bucket: SampleCount, Sum,
// Minimum, Maximum, plus the value distribution needed for percentiles and the other extended
// statistics. The distribution is exact (value, weight) pairs up to kExactValues distinct values;
// beyond that it becomes a log-bucketed sketch with relative error kSketchRelativeError (values
// are replaced by the midpoint of their bucket), which bounds its memory: a sketch over values in
// [1e-9, 1e9] has at most ~2100 buckets per sign, and in practice a few dozen.
//
// Percentiles follow CloudWatch's rule for statistic sets: a StatisticValues sample contributes
// to percentiles only when SampleCount is 1 or Minimum == Maximum; otherwise the aggregate has
// no percentile data ("percentiles unavailable").
//
// Value types; not thread-safe (callers lock).

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "alarms/types.h"

namespace klaxon::alarms {

inline constexpr size_t kExactValues = 32;
inline constexpr double kSketchRelativeError = 0.01;

class Distribution {
 public:
  // Adds `weight` samples of `value`.
  void Add(double value, double weight);
  void Merge(const Distribution& other);
  bool empty() const { return entries_.empty(); }
  bool sketched() const { return sketched_; }
  // (value, weight) in ascending value order.
  const std::vector<std::pair<double, double>>& entries() const { return entries_; }
  double total_weight() const;
  size_t MemoryBytes() const { return entries_.capacity() * sizeof(entries_[0]); }

  // Text form for persistence: "v:w,v:w,..." with a leading "~" when sketched.
  std::string Encode() const;
  static std::optional<Distribution> Decode(std::string_view text);

 private:
  void Insert(double value, double weight);
  void Sketch();  // converts exact entries to sketch buckets
  std::vector<std::pair<double, double>> entries_;
  bool sketched_ = false;
};

// Maps a value to its sketch bucket representative (exposed for tests).
double SketchValue(double value);

struct Aggregate {
  double count = 0;
  double sum = 0;
  double min = 0;
  double max = 0;
  // False once a statistic set that cannot feed percentiles was merged in.
  bool percentiles_ok = true;
  Distribution values;

  bool empty() const { return count <= 0; }
  void AddValue(double value, double weight = 1);
  // A StatisticValues sample.
  void AddStatisticSet(double sample_count, double sum, double min, double max);
  void Merge(const Aggregate& other);
  size_t MemoryBytes() const { return sizeof(Aggregate) + values.MemoryBytes(); }

  std::string Encode() const;
  static std::optional<Aggregate> Decode(std::string_view text);
};

// The statistic of `agg`, or nullopt when it is not available (empty aggregate; percentile of an
// aggregate without percentile data; an empty trimmed range).
std::optional<double> ComputeStat(const Aggregate& agg, const Stat& stat);

}  // namespace klaxon::alarms
