#pragma once
// Typed records of the CloudWatch domain: metrics and their identity, statistics, metric alarms,
// composite alarms, alarm history. Value types (copyable, movable); the API layer
// (api/services/cloudwatch) maps them to and from the model's shapes, the Store holds them as
// JSON (alarm_records.h).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace klaxon::alarms {

// Who acts and where. Every read and write is confined to (account_id, region).
struct Scope {
  std::string account_id;
  std::string region;
  std::string caller_arn;
};

// ---------------------------------------------------------------------------------------------
// Metrics

struct Dimension {
  std::string name;
  std::string value;
  bool operator==(const Dimension&) const = default;
  auto operator<=>(const Dimension&) const = default;
};

// A metric: namespace + name + dimension set. Two metrics with the same dimensions in another
// order are the same metric; `dimensions` is kept sorted by name (Normalize()).
struct MetricId {
  std::string ns;
  std::string name;
  std::vector<Dimension> dimensions;
  bool operator==(const MetricId&) const = default;

  void Normalize();  // sorts dimensions by (name, value)
  // A stable text key ("ns\x1fname\x1fd1\x1ev1\x1f..."); equal metrics give equal keys.
  std::string Key() const;
};

// The StandardUnit enum of the model; "None" for data sent without a unit.
bool IsValidUnit(std::string_view unit);
inline constexpr std::string_view kUnitNone = "None";

// ---------------------------------------------------------------------------------------------
// Statistics

enum class StatKind {
  kSampleCount,
  kAverage,
  kSum,
  kMinimum,
  kMaximum,
  kPercentile,         // pNN
  kTrimmedMean,        // tmNN, TM(a:b)
  kTrimmedCount,       // tcNN, TC(a:b)
  kTrimmedSum,         // tsNN, TS(a:b)
  kWinsorizedMean,     // wmNN, WM(a:b)
  kPercentileRank,     // PR(a:b)
  kInterquartileMean,  // IQM = TM(25%:75%)
};

// A parsed statistic: a standard one (Statistic) or an extended one (ExtendedStatistic / Stat).
// Ranges: [lo, hi] are percentages (0..100) when `percent`, else absolute values; a missing bound
// is open (lo = -inf / 0 %, hi = +inf / 100 %).
struct Stat {
  StatKind kind = StatKind::kAverage;
  double lo = 0;
  double hi = 100;
  bool percent = true;
  std::string text;  // as the caller wrote it (echoed back in outputs)

  bool standard() const { return kind <= StatKind::kMaximum; }
  // The percentile (0..100) when kind is kPercentile.
  double percentile() const { return hi; }
};

// Parses a standard statistic name ("Average") or an extended statistic ("p99", "p99.9", "tm90",
// "TM(10%:90%)", "TC(:0.5)", "PR(100:2000)", "IQM", ...). Errors: InvalidArgument naming the text.
absl::StatusOr<Stat> ParseStat(std::string_view text);
// Standard statistic names only (Statistic members of the model).
absl::StatusOr<Stat> ParseStandardStat(std::string_view text);

// ---------------------------------------------------------------------------------------------
// Alarms

enum class StateValue { kOk, kAlarm, kInsufficientData };
std::string_view StateName(StateValue state);  // "OK" | "ALARM" | "INSUFFICIENT_DATA"
std::optional<StateValue> ParseState(std::string_view name);

enum class Comparison {
  kGreaterThanOrEqualToThreshold,
  kGreaterThanThreshold,
  kLessThanThreshold,
  kLessThanOrEqualToThreshold,
};
std::string_view ComparisonName(Comparison op);
std::optional<Comparison> ParseComparison(std::string_view name);
bool Breaches(Comparison op, double value, double threshold);

enum class TreatMissing { kMissing, kIgnore, kBreaching, kNotBreaching };
std::string_view TreatMissingName(TreatMissing treat);
std::optional<TreatMissing> ParseTreatMissing(std::string_view name);

// The model's MetricStat.
struct MetricStat {
  MetricId metric;
  int period = 60;
  std::string stat;  // as given ("Average", "p99", ...)
  std::optional<std::string> unit;
};

// The model's MetricDataQuery.
struct MetricDataQuery {
  std::string id;
  std::optional<MetricStat> metric_stat;
  std::optional<std::string> expression;
  std::optional<std::string> label;
  bool return_data = true;
  std::optional<int> period;
  std::optional<std::string> account_id;
};

// The parts common to metric and composite alarms.
struct AlarmCommon {
  std::string name;
  std::string arn;  // arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME
  std::optional<std::string> description;
  bool actions_enabled = true;
  std::vector<std::string> ok_actions;
  std::vector<std::string> alarm_actions;
  std::vector<std::string> insufficient_data_actions;
  absl::Time configuration_updated;

  StateValue state = StateValue::kInsufficientData;
  std::string state_reason = "Unchecked: Initial alarm creation";
  std::optional<std::string> state_reason_data;
  absl::Time state_updated;
  absl::Time state_transitioned;

  std::map<std::string, std::string> tags;
  // Bookkeeping (not on the wire): bumped on every configuration write, so a concurrent
  // evaluation never overwrites the state of a newer configuration.
  int64_t version = 0;
  // A stable id for the metric of single-metric alarms in events ("metrics[0].id").
  std::string event_metric_id;
};

struct MetricAlarm : AlarmCommon {
  // Single metric (metric_name set) or metric math (metrics non-empty).
  std::optional<MetricId> metric;
  std::optional<std::string> statistic;           // SampleCount|Average|Sum|Minimum|Maximum
  std::optional<std::string> extended_statistic;  // p99, tm90, ...
  std::optional<int> period;
  std::optional<std::string> unit;
  int evaluation_periods = 1;
  std::optional<int> datapoints_to_alarm;
  std::optional<double> threshold;
  Comparison comparison = Comparison::kGreaterThanThreshold;
  std::optional<std::string> treat_missing_data;                    // as given; nullopt = default
  std::optional<std::string> evaluate_low_sample_count_percentile;  // "evaluate" | "ignore"
  std::vector<MetricDataQuery> metrics;
  std::optional<std::string> threshold_metric_id;

  int DatapointsToAlarm() const { return datapoints_to_alarm.value_or(evaluation_periods); }
  // The period every evaluated datapoint covers (Period, or the returned query's period).
  int EvaluationPeriod() const;
  // TreatMissingData in force: the given one, else `ignore` for AWS/DynamoDB, else `missing`.
  TreatMissing EffectiveTreatMissing() const;
};

struct CompositeAlarm : AlarmCommon {
  std::string alarm_rule;
  std::optional<std::string> actions_suppressor;
  std::optional<int> actions_suppressor_wait_period;
  std::optional<int> actions_suppressor_extension_period;
  std::optional<std::string> actions_suppressed_by;  // WaitPeriod | ExtensionPeriod | Alarm
  std::optional<std::string> actions_suppressed_reason;
};

enum class AlarmType { kMetricAlarm, kCompositeAlarm };
std::string_view AlarmTypeName(AlarmType type);  // "MetricAlarm" | "CompositeAlarm"

enum class HistoryItemType { kConfigurationUpdate, kStateUpdate, kAction };
std::string_view HistoryItemTypeName(HistoryItemType type);
std::optional<HistoryItemType> ParseHistoryItemType(std::string_view name);

struct AlarmHistoryItem {
  std::string alarm_name;
  AlarmType alarm_type = AlarmType::kMetricAlarm;
  absl::Time timestamp;
  HistoryItemType type = HistoryItemType::kStateUpdate;
  std::string summary;
  std::string data;  // JSON text
};

// One page of a list call ("" next_token = last page).
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_token;
};

// ARN of an alarm.
std::string AlarmArn(std::string_view region, std::string_view account, std::string_view name);

// AWS time formats used in reasons, reason data and events.
std::string FormatAwsMillis(absl::Time t);      // 2019-10-02T17:04:40.985+0000
std::string FormatReasonDate(absl::Time t);     // 02/10/19 16:59:00
std::string FormatCompositeDate(absl::Time t);  // Friday 22 July, 2022 15:57:45 UTC
// A double as Java's Double.toString writes it (AWS's reasons and reason data): "50.0",
// "99.50160229693434", "1.0E-5", "1.2345678E7".
std::string FormatJavaDouble(double v);

}  // namespace klaxon::alarms
