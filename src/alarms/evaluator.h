#pragma once
// Metric alarm evaluation as AWS documents it (wire-contract §3.6; "Configuring how CloudWatch
// alarms treat missing data", "Avoiding premature transitions to alarm state").
//
// Evaluate() is a pure function of (alarm settings, current state, the datapoints of the
// evaluation range, now): no clock, no store. The scheduler (scheduler.h) fetches the datapoints
// and applies the result.
//
// The evaluation range. Every evaluation looks at the R = N + 2 most recent periods (N =
// EvaluationPeriods), the range AWS's worked examples use ("5 for N = 3"; AWS does not publish the
// rule). Periods are aligned on the evaluation time: the newest one ends at `now` rounded down to
// the minute (to 10 seconds for periods under a minute), as the startDate of AWS's reason data
// shows (queryDate 17:04:40 → startDate 16:59:00 for a 300 s period).
//
// The rules, with M = DatapointsToAlarm and "real" = periods that have a datapoint:
//  1. At least N real datapoints in the range: the N most recent real ones are evaluated; ALARM if
//     at least M breach, else OK. TreatMissingData is not used.
//  2. Fewer than N real datapoints:
//     breaching / notBreaching: all real datapoints plus N − (real) filled ones (breaching or not)
//       are evaluated; ALARM if at least M breach, else OK.
//     missing / ignore: no real datapoint at all → INSUFFICIENT_DATA (missing) or no change
//       (ignore). Otherwise the premature-alarm rule: when every real datapoint of the range
//       breaches and the oldest one is at least M periods old, the alarm goes to ALARM (missing)
//       or keeps its state (ignore). Otherwise the real datapoints alone decide: ALARM if at least
//       M breach, else OK.
//  3. EvaluateLowSampleCountPercentile = ignore (percentile alarms): when an evaluated datapoint
//     has fewer samples than the percentile needs to be significant (1 / (1 − p/100), e.g. 100
//     for p99), the state does not change.
// These rules reproduce all ten rows of AWS's two tables (evaluator_test.cc) for all four
// TreatMissingData values. Decisions where AWS is silent are marked in docs/compat/cloudwatch.md.
//
// Reasons and reason data follow AWS's formats: "Threshold Crossed: 1 out of the last 1
// datapoints [99.50160229693434 (02/10/19 16:59:00)] was greater than the threshold (50.0)
// (minimum 1 datapoint for OK -> ALARM transition)." and {"version":"1.0","queryDate":…,
// "startDate":…,"statistic":"Average","period":300,"recentDatapoints":[…],"threshold":50.0}.

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "alarms/types.h"

namespace klaxon::alarms {

inline constexpr int kEvaluationRangeExtra = 2;

// What the evaluator needs of an alarm.
struct EvaluationSettings {
  int period_seconds = 60;
  int evaluation_periods = 1;   // N
  int datapoints_to_alarm = 1;  // M
  double threshold = 0;
  Comparison comparison = Comparison::kGreaterThanThreshold;
  TreatMissing treat_missing = TreatMissing::kMissing;
  // Reason data: "statistic" (standard) or "extendedStatistic"; both empty for metric math.
  std::string statistic;
  std::string extended_statistic;
  // EvaluateLowSampleCountPercentile = ignore with a percentile statistic: the percentile (0..100).
  std::optional<double> low_sample_ignore_percentile;
};

// One period of the evaluation range.
struct RangeDatapoint {
  absl::Time start;
  std::optional<double> value;  // nullopt = missing
  double sample_count = 0;
};

struct Evaluation {
  bool change = false;  // false: the state stays
  StateValue state = StateValue::kInsufficientData;
  // Filled only when `change` is true.
  std::string reason;
  std::string reason_data;  // JSON text
};

// Number of periods in the evaluation range for N evaluation periods.
inline int EvaluationRange(int evaluation_periods) {
  return evaluation_periods + kEvaluationRangeExtra;
}

// End of the newest period evaluated at `now` (see the header comment).
absl::Time EvaluationEnd(absl::Time now, int period_seconds);

// Evaluates `range` (newest first, EvaluationRange(N) entries; fewer entries count as missing
// periods beyond the end) for an alarm currently in `current`. `change` is true when the result
// differs from `current`.
Evaluation Evaluate(const EvaluationSettings& settings, StateValue current,
                    const std::vector<RangeDatapoint>& range, absl::Time now);

}  // namespace klaxon::alarms
