#include "alarms/statistics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace klaxon::alarms {
namespace {

const double kGamma = (1 + kSketchRelativeError) / (1 - kSketchRelativeError);
const double kLogGamma = std::log(kGamma);

absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Shortest text that parses back to the same double.
void AppendDouble(std::string* out, double v) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, res.ptr);
}

bool ParseDouble(absl::string_view s, double* v) { return absl::SimpleAtod(s, v); }

// Value at cumulative weight `target` (0 < target <= W) over sorted entries.
double ValueAtWeight(const std::vector<std::pair<double, double>>& entries, double target) {
  double cum = 0;
  for (const auto& [v, w] : entries) {
    cum += w;
    if (cum >= target - 1e-9 * std::max(1.0, target)) return v;
  }
  return entries.back().first;
}

double PercentileValue(const Aggregate& agg, double p) {
  const auto& entries = agg.values.entries();
  if (p <= 0) return agg.min;
  if (p >= 100) return agg.max;
  double total = agg.values.total_weight();
  double v = ValueAtWeight(entries, p / 100.0 * total);
  return std::clamp(v, agg.min, agg.max);
}

}  // namespace

double SketchValue(double value) {
  if (value == 0 || !std::isfinite(value)) return value;
  double a = std::fabs(value);
  double index = std::ceil(std::log(a) / kLogGamma);
  double rep = 2 * std::pow(kGamma, index) / (kGamma + 1);
  return value < 0 ? -rep : rep;
}

void Distribution::Insert(double value, double weight) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), value,
                             [](const auto& e, double v) { return e.first < v; });
  if (it != entries_.end() && it->first == value) {
    it->second += weight;
  } else {
    entries_.insert(it, {value, weight});
  }
}

void Distribution::Add(double value, double weight) {
  if (weight <= 0) return;
  if (sketched_) value = SketchValue(value);
  Insert(value, weight);
  if (!sketched_ && entries_.size() > kExactValues) Sketch();
}

void Distribution::Sketch() {
  std::vector<std::pair<double, double>> old;
  old.swap(entries_);
  sketched_ = true;
  for (const auto& [v, w] : old) Insert(SketchValue(v), w);
  entries_.shrink_to_fit();
}

void Distribution::Merge(const Distribution& other) {
  if (other.sketched_ && !sketched_) Sketch();
  for (const auto& [v, w] : other.entries_) {
    Insert(sketched_ ? SketchValue(v) : v, w);
  }
  if (!sketched_ && entries_.size() > kExactValues) Sketch();
}

double Distribution::total_weight() const {
  double total = 0;
  for (const auto& e : entries_) total += e.second;
  return total;
}

std::string Distribution::Encode() const {
  std::string out = sketched_ ? "~" : "";
  bool first = true;
  for (const auto& [v, w] : entries_) {
    if (!first) out.push_back(',');
    first = false;
    AppendDouble(&out, v);
    out.push_back(':');
    AppendDouble(&out, w);
  }
  return out;
}

std::optional<Distribution> Distribution::Decode(std::string_view text) {
  Distribution d;
  if (!text.empty() && text.front() == '~') {
    d.sketched_ = true;
    text.remove_prefix(1);
  }
  if (text.empty()) return d;
  for (absl::string_view part : absl::StrSplit(Absl(text), ',')) {
    size_t colon = part.find(':');
    if (colon == absl::string_view::npos) return std::nullopt;
    double v = 0, w = 0;
    if (!ParseDouble(part.substr(0, colon), &v) || !ParseDouble(part.substr(colon + 1), &w)) {
      return std::nullopt;
    }
    d.entries_.emplace_back(v, w);
  }
  std::sort(d.entries_.begin(), d.entries_.end());
  return d;
}

void Aggregate::AddValue(double value, double weight) {
  if (weight <= 0) return;
  if (count <= 0) {
    min = max = value;
  } else {
    min = std::min(min, value);
    max = std::max(max, value);
  }
  count += weight;
  sum += value * weight;
  values.Add(value, weight);
}

void Aggregate::AddStatisticSet(double sample_count, double set_sum, double set_min,
                                double set_max) {
  if (sample_count <= 0) return;
  if (count <= 0) {
    min = set_min;
    max = set_max;
  } else {
    min = std::min(min, set_min);
    max = std::max(max, set_max);
  }
  count += sample_count;
  sum += set_sum;
  if (sample_count == 1 || set_min == set_max) {
    values.Add(set_min, sample_count);
  } else {
    percentiles_ok = false;
  }
}

void Aggregate::Merge(const Aggregate& other) {
  if (other.count <= 0) return;
  if (count <= 0) {
    min = other.min;
    max = other.max;
  } else {
    min = std::min(min, other.min);
    max = std::max(max, other.max);
  }
  count += other.count;
  sum += other.sum;
  percentiles_ok = percentiles_ok && other.percentiles_ok;
  values.Merge(other.values);
}

std::string Aggregate::Encode() const {
  std::string out;
  AppendDouble(&out, count);
  out.push_back(',');
  AppendDouble(&out, sum);
  out.push_back(',');
  AppendDouble(&out, min);
  out.push_back(',');
  AppendDouble(&out, max);
  out.push_back(',');
  out.push_back(percentiles_ok ? '1' : '0');
  out.push_back(';');
  out += values.Encode();
  return out;
}

std::optional<Aggregate> Aggregate::Decode(std::string_view text) {
  size_t semi = text.find(';');
  if (semi == std::string_view::npos) return std::nullopt;
  std::vector<absl::string_view> parts = absl::StrSplit(Absl(text.substr(0, semi)), ',');
  if (parts.size() != 5) return std::nullopt;
  Aggregate agg;
  if (!ParseDouble(parts[0], &agg.count) || !ParseDouble(parts[1], &agg.sum) ||
      !ParseDouble(parts[2], &agg.min) || !ParseDouble(parts[3], &agg.max)) {
    return std::nullopt;
  }
  agg.percentiles_ok = parts[4] == "1";
  auto values = Distribution::Decode(text.substr(semi + 1));
  if (!values) return std::nullopt;
  agg.values = std::move(*values);
  return agg;
}

std::optional<double> ComputeStat(const Aggregate& agg, const Stat& stat) {
  if (agg.count <= 0) return std::nullopt;
  switch (stat.kind) {
    case StatKind::kSampleCount:
      return agg.count;
    case StatKind::kAverage:
      return agg.sum / agg.count;
    case StatKind::kSum:
      return agg.sum;
    case StatKind::kMinimum:
      return agg.min;
    case StatKind::kMaximum:
      return agg.max;
    default:
      break;
  }
  if (!agg.percentiles_ok || agg.values.empty()) return std::nullopt;
  const auto& entries = agg.values.entries();
  const double total = agg.values.total_weight();
  if (stat.kind == StatKind::kPercentile) return PercentileValue(agg, stat.percentile());

  if (stat.kind == StatKind::kPercentileRank) {
    double in = 0;
    for (const auto& [v, w] : entries) {
      if (v > stat.lo && v <= stat.hi) in += w;
    }
    return 100.0 * in / total;
  }

  if (stat.kind == StatKind::kWinsorizedMean) {
    // Values outside the range are replaced by the smallest / largest value inside it.
    double lo_v = stat.lo, hi_v = stat.hi;
    if (stat.percent) {
      const double lo_w = stat.lo / 100.0 * total;
      const double hi_w = stat.hi / 100.0 * total;
      bool found = false;
      double cum = 0;
      for (const auto& [v, w] : entries) {
        double overlap = std::min(cum + w, hi_w) - std::max(cum, lo_w);
        cum += w;
        if (overlap <= 0) continue;
        if (!found) lo_v = v;
        hi_v = v;
        found = true;
      }
      if (!found) return std::nullopt;
    }
    double s = 0;
    for (const auto& [v, w] : entries) s += std::clamp(v, lo_v, hi_v) * w;
    return s / total;
  }

  // Trimmed statistics: the samples whose rank (percent ranges) or value (absolute ranges)
  // lies within the range, with fractional weights at percentile boundaries.
  double in_weight = 0;
  double in_sum = 0;
  if (stat.percent) {
    const double lo_w = stat.lo / 100.0 * total;
    const double hi_w = stat.hi / 100.0 * total;
    double cum = 0;
    for (const auto& [v, w] : entries) {
      double overlap = std::min(cum + w, hi_w) - std::max(cum, lo_w);
      cum += w;
      if (overlap <= 0) continue;
      in_weight += overlap;
      in_sum += v * overlap;
    }
  } else {
    for (const auto& [v, w] : entries) {
      if (v > stat.lo && v <= stat.hi) {
        in_weight += w;
        in_sum += v * w;
      }
    }
  }
  switch (stat.kind) {
    case StatKind::kTrimmedCount:
      return in_weight;
    case StatKind::kTrimmedSum:
      return in_sum;
    case StatKind::kTrimmedMean:
    case StatKind::kInterquartileMean:
      if (in_weight <= 0) return std::nullopt;
      return in_sum / in_weight;
    default:
      return std::nullopt;
  }
}

}  // namespace klaxon::alarms
