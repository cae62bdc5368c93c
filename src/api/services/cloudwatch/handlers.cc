#include "api/services/cloudwatch/handlers.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "alarms/metric_math.h"
#include "alarms/statistics.h"
#include "boost/json.hpp"
#include "common/status.h"

namespace klaxon::api::cloudwatch {
namespace {

namespace json = boost::json;
using alarms::AlarmType;
using alarms::MetricId;

// ---------------------------------------------------------------------------------------------
// Errors (the cloudwatch model's exceptions)

absl::Status InvalidValue(std::string_view message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "InvalidParameterValueException", message);
}
absl::Status Combination(std::string_view message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "InvalidParameterCombinationException",
                  message);
}
absl::Status Missing(std::string_view message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "MissingRequiredParameterException", message);
}

// ---------------------------------------------------------------------------------------------
// Readers. The protocol layer validated types against the model; these still refuse a wrong JSON
// type (a handler called directly) with a ValidationError instead of crashing.

absl::Status TypeError(std::string_view member, std::string_view expected) {
  return ValidationError(absl::StrCat("Member '", absl::string_view(member.data(), member.size()),
                                      "' must be ",
                                      absl::string_view(expected.data(), expected.size()), "."));
}

const json::value* Get(const json::object& in, std::string_view member) {
  const json::value* v = in.if_contains(json::string_view(member.data(), member.size()));
  return v == nullptr || v->is_null() ? nullptr : v;
}

absl::StatusOr<std::optional<std::string>> OptString(const json::object& in,
                                                     std::string_view member) {
  const json::value* v = Get(in, member);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return TypeError(member, "a string");
  return std::optional<std::string>(std::string(v->get_string()));
}

absl::StatusOr<std::string> String(const json::object& in, std::string_view member) {
  KLAXON_ASSIGN_OR_RETURN(auto v, OptString(in, member));
  return v.value_or("");
}

absl::StatusOr<std::optional<double>> OptDouble(const json::object& in, std::string_view member) {
  const json::value* v = Get(in, member);
  if (!v) return std::optional<double>();
  if (!v->is_number()) return TypeError(member, "a number");
  return std::optional<double>(v->to_number<double>());
}

absl::StatusOr<std::optional<int64_t>> OptInt(const json::object& in, std::string_view member) {
  const json::value* v = Get(in, member);
  if (!v) return std::optional<int64_t>();
  if (!v->is_number()) return TypeError(member, "an integer");
  double d = v->to_number<double>();
  if (d != std::floor(d)) return TypeError(member, "an integer");
  return std::optional<int64_t>(static_cast<int64_t>(d));
}

absl::StatusOr<std::optional<bool>> OptBool(const json::object& in, std::string_view member) {
  const json::value* v = Get(in, member);
  if (!v) return std::optional<bool>();
  if (!v->is_bool()) return TypeError(member, "a boolean");
  return std::optional<bool>(v->get_bool());
}

absl::StatusOr<std::optional<absl::Time>> OptTime(const json::object& in, std::string_view member) {
  const json::value* v = Get(in, member);
  if (!v) return std::optional<absl::Time>();
  if (!v->is_number()) return TypeError(member, "a timestamp");
  return std::optional<absl::Time>(FromEpochSeconds(v->to_number<double>()));
}

absl::StatusOr<const json::array*> OptArray(const json::object& in, std::string_view member) {
  const json::value* v = Get(in, member);
  if (!v) return nullptr;
  if (!v->is_array()) return TypeError(member, "a list");
  return &v->get_array();
}

absl::StatusOr<std::vector<std::string>> Strings(const json::object& in, std::string_view member) {
  std::vector<std::string> out;
  KLAXON_ASSIGN_OR_RETURN(const json::array* list, OptArray(in, member));
  if (!list) return out;
  for (const auto& e : *list) {
    if (!e.is_string()) return TypeError(member, "a list of strings");
    out.emplace_back(e.get_string());
  }
  return out;
}

// `path` names the list in messages (computed only for an error).
absl::StatusOr<std::vector<alarms::Dimension>> DimensionList(
    const json::array& items, std::string_view member, absl::FunctionRef<std::string()> path) {
  std::vector<alarms::Dimension> out;
  const json::array* list = &items;
  out.reserve(list->size());
  for (const auto& e : *list) {
    if (!e.is_object()) return TypeError(member, "a list of Dimension");
    const json::value* name = Get(e.get_object(), "Name");
    const json::value* value = Get(e.get_object(), "Value");
    if ((name && !name->is_string()) || (value && !value->is_string())) {
      return TypeError(member, "a list of Dimension");
    }
    alarms::Dimension d;
    if (name) d.name.assign(name->get_string().data(), name->get_string().size());
    if (value) d.value.assign(value->get_string().data(), value->get_string().size());
    // At most 30 dimensions (model): a linear scan beats building a set per datum.
    for (const alarms::Dimension& seen : out) {
      if (seen.name == d.name) {
        return InvalidValue(absl::StrCat("The collection ", path(),
                                         " must not contain duplicate dimension names (", d.name,
                                         ")."));
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

absl::StatusOr<std::vector<alarms::Dimension>> Dimensions(const json::object& in,
                                                          std::string_view member,
                                                          std::string_view path) {
  KLAXON_ASSIGN_OR_RETURN(const json::array* list, OptArray(in, member));
  if (!list) return std::vector<alarms::Dimension>();
  return DimensionList(*list, member, [path] { return std::string(path); });
}

alarms::Scope ScopeOf(const CallContext& ctx, const CloudWatchServices& s) {
  return alarms::Scope{ctx.caller.account_id, s.alarms.region(), ctx.caller.principal_arn};
}

// ---------------------------------------------------------------------------------------------
// Writers (model output shapes)

json::array DimensionsJson(const std::vector<alarms::Dimension>& dims) {
  json::array out;
  for (const auto& d : dims) out.push_back(json::object{{"Name", d.name}, {"Value", d.value}});
  return out;
}

json::object MetricJson(const MetricId& m) {
  return json::object{
      {"Namespace", m.ns}, {"MetricName", m.name}, {"Dimensions", DimensionsJson(m.dimensions)}};
}

json::array StringsJson(const std::vector<std::string>& v) {
  json::array out;
  for (const auto& s : v) out.emplace_back(json::string(s));
  return out;
}

json::object QueryJson(const alarms::MetricDataQuery& q) {
  json::object o{{"Id", q.id}};
  if (q.metric_stat) {
    json::object ms{{"Metric", MetricJson(q.metric_stat->metric)},
                    {"Period", q.metric_stat->period},
                    {"Stat", q.metric_stat->stat}};
    if (q.metric_stat->unit) ms["Unit"] = *q.metric_stat->unit;
    o["MetricStat"] = std::move(ms);
  }
  if (q.expression) o["Expression"] = *q.expression;
  if (q.label) o["Label"] = *q.label;
  o["ReturnData"] = q.return_data;
  if (q.period) o["Period"] = *q.period;
  if (q.account_id) o["AccountId"] = *q.account_id;
  return o;
}

void CommonJson(const alarms::AlarmCommon& a, json::object& o) {
  o["AlarmName"] = a.name;
  o["AlarmArn"] = a.arn;
  if (a.description) o["AlarmDescription"] = *a.description;
  o["AlarmConfigurationUpdatedTimestamp"] = ToEpochSeconds(a.configuration_updated);
  o["ActionsEnabled"] = a.actions_enabled;
  o["OKActions"] = StringsJson(a.ok_actions);
  o["AlarmActions"] = StringsJson(a.alarm_actions);
  o["InsufficientDataActions"] = StringsJson(a.insufficient_data_actions);
  o["StateValue"] = std::string(alarms::StateName(a.state));
  o["StateReason"] = a.state_reason;
  if (a.state_reason_data) o["StateReasonData"] = *a.state_reason_data;
  o["StateUpdatedTimestamp"] = ToEpochSeconds(a.state_updated);
  o["StateTransitionedTimestamp"] = ToEpochSeconds(a.state_transitioned);
}

json::object MetricAlarmJson(const alarms::MetricAlarm& a) {
  json::object o;
  CommonJson(a, o);
  if (a.metric) {
    o["MetricName"] = a.metric->name;
    o["Namespace"] = a.metric->ns;
    o["Dimensions"] = DimensionsJson(a.metric->dimensions);
  }
  if (a.statistic) o["Statistic"] = *a.statistic;
  if (a.extended_statistic) o["ExtendedStatistic"] = *a.extended_statistic;
  if (a.period) o["Period"] = *a.period;
  if (a.unit) o["Unit"] = *a.unit;
  o["EvaluationPeriods"] = a.evaluation_periods;
  if (a.datapoints_to_alarm) o["DatapointsToAlarm"] = *a.datapoints_to_alarm;
  if (a.threshold) o["Threshold"] = *a.threshold;
  o["ComparisonOperator"] = std::string(alarms::ComparisonName(a.comparison));
  if (a.treat_missing_data) o["TreatMissingData"] = *a.treat_missing_data;
  if (a.evaluate_low_sample_count_percentile) {
    o["EvaluateLowSampleCountPercentile"] = *a.evaluate_low_sample_count_percentile;
  }
  if (!a.metrics.empty()) {
    json::array metrics;
    for (const auto& q : a.metrics) metrics.push_back(QueryJson(q));
    o["Metrics"] = std::move(metrics);
  }
  if (a.threshold_metric_id) o["ThresholdMetricId"] = *a.threshold_metric_id;
  return o;
}

json::object CompositeAlarmJson(const alarms::CompositeAlarm& a) {
  json::object o;
  CommonJson(a, o);
  o["AlarmRule"] = a.alarm_rule;
  if (a.actions_suppressor) o["ActionsSuppressor"] = *a.actions_suppressor;
  if (a.actions_suppressor_wait_period) {
    o["ActionsSuppressorWaitPeriod"] = *a.actions_suppressor_wait_period;
  }
  if (a.actions_suppressor_extension_period) {
    o["ActionsSuppressorExtensionPeriod"] = *a.actions_suppressor_extension_period;
  }
  if (a.actions_suppressed_by) o["ActionsSuppressedBy"] = *a.actions_suppressed_by;
  if (a.actions_suppressed_reason) o["ActionsSuppressedReason"] = *a.actions_suppressed_reason;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Shared parsing

absl::StatusOr<std::map<std::string, std::string>> Tags(const json::object& in) {
  std::map<std::string, std::string> tags;
  KLAXON_ASSIGN_OR_RETURN(const json::array* list, OptArray(in, "Tags"));
  if (!list) return tags;
  for (const auto& e : *list) {
    if (!e.is_object()) return TypeError("Tags", "a list of Tag");
    KLAXON_ASSIGN_OR_RETURN(std::string key, String(e.get_object(), "Key"));
    KLAXON_ASSIGN_OR_RETURN(std::string value, String(e.get_object(), "Value"));
    tags[key] = value;
  }
  return tags;
}

absl::StatusOr<alarms::MetricStat> ParseMetricStat(const json::object& in) {
  alarms::MetricStat ms;
  const json::value* metric = Get(in, "Metric");
  if (!metric || !metric->is_object()) return Missing("MetricStat.Metric is required.");
  const json::object& m = metric->get_object();
  KLAXON_ASSIGN_OR_RETURN(ms.metric.ns, String(m, "Namespace"));
  KLAXON_ASSIGN_OR_RETURN(ms.metric.name, String(m, "MetricName"));
  KLAXON_ASSIGN_OR_RETURN(ms.metric.dimensions, Dimensions(m, "Dimensions", "Dimensions"));
  if (ms.metric.ns.empty() || ms.metric.name.empty()) {
    return Missing("MetricStat.Metric needs Namespace and MetricName.");
  }
  ms.metric.Normalize();
  KLAXON_ASSIGN_OR_RETURN(auto period, OptInt(in, "Period"));
  ms.period = static_cast<int>(period.value_or(60));
  KLAXON_ASSIGN_OR_RETURN(ms.stat, String(in, "Stat"));
  KLAXON_ASSIGN_OR_RETURN(ms.unit, OptString(in, "Unit"));
  return ms;
}

absl::StatusOr<std::vector<alarms::MetricDataQuery>> ParseQueries(const json::object& in,
                                                                  std::string_view member) {
  std::vector<alarms::MetricDataQuery> out;
  KLAXON_ASSIGN_OR_RETURN(const json::array* list, OptArray(in, member));
  if (!list) return out;
  for (const auto& e : *list) {
    if (!e.is_object()) return TypeError(member, "a list of MetricDataQuery");
    const json::object& o = e.get_object();
    alarms::MetricDataQuery q;
    KLAXON_ASSIGN_OR_RETURN(q.id, String(o, "Id"));
    if (const json::value* ms = Get(o, "MetricStat")) {
      if (!ms->is_object()) return TypeError("MetricStat", "a structure");
      KLAXON_ASSIGN_OR_RETURN(q.metric_stat, ParseMetricStat(ms->get_object()));
    }
    KLAXON_ASSIGN_OR_RETURN(q.expression, OptString(o, "Expression"));
    KLAXON_ASSIGN_OR_RETURN(q.label, OptString(o, "Label"));
    KLAXON_ASSIGN_OR_RETURN(auto rd, OptBool(o, "ReturnData"));
    q.return_data = rd.value_or(true);
    KLAXON_ASSIGN_OR_RETURN(auto period, OptInt(o, "Period"));
    if (period) q.period = static_cast<int>(*period);
    KLAXON_ASSIGN_OR_RETURN(q.account_id, OptString(o, "AccountId"));
    out.push_back(std::move(q));
  }
  return out;
}

bool ValidQueryPeriod(int64_t p) {
  return p == 1 || p == 5 || p == 10 || p == 30 || (p > 0 && p % 60 == 0);
}

// GetMetricStatistics / GetMetricData round StartTime down as AWS does: to the period when it is
// under a minute, else to the minute (to 5 minutes / an hour for data older than 15 / 63 days).
absl::Time RoundStart(absl::Time start, int64_t period, absl::Time now) {
  int64_t granularity = 60;
  if (period < 60) {
    granularity = period;
  } else if (start < now - absl::Hours(24 * 63)) {
    granularity = 3600;
  } else if (start < now - absl::Hours(24 * 15)) {
    granularity = 300;
  }
  int64_t s = absl::ToUnixSeconds(start);
  int64_t q = s / granularity;
  if (s % granularity != 0 && s < 0) --q;
  return absl::FromUnixSeconds(q * granularity);
}

// ---------------------------------------------------------------------------------------------
// Metrics

constexpr double kMaxMagnitude = 1.0e108;  // AWS: values must be within ±2^360 (~2.3e108)

bool ValidValue(double v) { return std::isfinite(v) && std::fabs(v) <= kMaxMagnitude; }

absl::Status BadValue(double v, std::string_view path) {
  return InvalidValue(absl::StrCat("The value ", v, " for parameter ",
                                   absl::string_view(path.data(), path.size()),
                                   " is invalid: values must be finite and within ±2^360."));
}

// The hot path of the API (up to 1000 datums of up to 150 values per request): member paths for
// messages are only built for an error.
absl::StatusOr<json::object> PutMetricData(const CloudWatchServices& s, const CallContext& ctx,
                                           const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string ns, String(in, "Namespace"));
  KLAXON_ASSIGN_OR_RETURN(const json::array* list, OptArray(in, "MetricData"));
  if (!list || list->empty()) {
    return Missing("The parameter MetricData is required.");
  }
  const absl::Time now = s.clock.Now();
  const absl::Time newest = now + absl::Hours(2), oldest = now - absl::Hours(24 * 14);
  std::vector<alarms::MetricDatum> data;
  data.reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    auto path = [i] { return absl::StrCat("MetricData.member.", i + 1); };
    const json::value& e = (*list)[i];
    if (!e.is_object()) return TypeError("MetricData", "a list of MetricDatum");
    const json::object& o = e.get_object();
    // One pass over the datum's members (instead of a lookup per member name).
    const json::value *name_v = nullptr, *dims_v = nullptr, *unit_v = nullptr, *ts_v = nullptr,
                      *res_v = nullptr, *value_v = nullptr, *values_v = nullptr,
                      *counts_v = nullptr, *stats_v = nullptr;
    for (const auto& kv : o) {
      if (kv.value().is_null()) continue;
      const json::string_view k = kv.key();
      const json::value* v = &kv.value();
      if (k == "MetricName") {
        name_v = v;
      } else if (k == "Dimensions") {
        dims_v = v;
      } else if (k == "Value") {
        value_v = v;
      } else if (k == "Values") {
        values_v = v;
      } else if (k == "Counts") {
        counts_v = v;
      } else if (k == "Timestamp") {
        ts_v = v;
      } else if (k == "Unit") {
        unit_v = v;
      } else if (k == "StorageResolution") {
        res_v = v;
      } else if (k == "StatisticValues") {
        stats_v = v;
      }
    }
    alarms::MetricDatum& d = data.emplace_back();
    d.metric.ns = ns;
    if (name_v != nullptr) {
      if (!name_v->is_string()) return TypeError("MetricName", "a string");
      d.metric.name = std::string(name_v->get_string());
    }
    if (dims_v != nullptr) {
      if (!dims_v->is_array()) return TypeError("Dimensions", "a list");
      KLAXON_ASSIGN_OR_RETURN(
          d.metric.dimensions,
          DimensionList(dims_v->get_array(), "Dimensions", [&] { return path() + ".Dimensions"; }));
      d.metric.Normalize();
    }
    if (unit_v != nullptr) {
      if (!unit_v->is_string()) return TypeError("Unit", "a string");
      d.unit = std::string(unit_v->get_string());
      if (!alarms::IsValidUnit(d.unit)) {
        return InvalidValue(
            absl::StrCat("The value ", d.unit, " for parameter ", path(), ".Unit is invalid."));
      }
    }
    d.timestamp = now;
    if (ts_v != nullptr) {
      if (!ts_v->is_number()) return TypeError("Timestamp", "a timestamp");
      d.timestamp = FromEpochSeconds(ts_v->to_number<double>());
    }
    if (d.timestamp > newest || d.timestamp < oldest) {
      return InvalidValue(absl::StrCat("The parameter ", path(),
                                       ".Timestamp must specify a time no more than two weeks "
                                       "in the past and two hours in the future."));
    }
    if (res_v != nullptr) {
      if (!res_v->is_number() ||
          res_v->to_number<double>() != std::floor(res_v->to_number<double>())) {
        return TypeError("StorageResolution", "an integer");
      }
      const double r = res_v->to_number<double>();
      if (r != 1 && r != 60) {
        return InvalidValue(
            absl::StrCat("The parameter ", path(), ".StorageResolution must be 1 or 60."));
      }
      d.storage_resolution = static_cast<int>(r);
    }
    std::optional<double> value;
    if (value_v != nullptr) {
      if (!value_v->is_number()) return TypeError("Value", "a number");
      value = value_v->to_number<double>();
    }
    if (values_v != nullptr && !values_v->is_array()) return TypeError("Values", "a list");
    if (counts_v != nullptr && !counts_v->is_array()) return TypeError("Counts", "a list");
    const json::array* values = values_v ? &values_v->get_array() : nullptr;
    const json::array* counts = counts_v ? &counts_v->get_array() : nullptr;
    const json::value* stats = stats_v;
    const int kinds = (value ? 1 : 0) + (values ? 1 : 0) + (stats ? 1 : 0);
    if (kinds > 1) {
      const std::string p = path();
      return Combination(absl::StrCat("The parameters ", p, ".Value, ", p, ".Values and ", p,
                                      ".StatisticValues are mutually exclusive."));
    }
    if (kinds == 0) {
      const std::string p = path();
      return Missing(absl::StrCat("One of the parameters ", p, ".Value, ", p, ".Values or ", p,
                                  ".StatisticValues must be specified."));
    }
    if (counts && !values) {
      const std::string p = path();
      return Combination(absl::StrCat("The parameter ", p, ".Counts requires ", p, ".Values."));
    }
    if (value) {
      if (!ValidValue(*value)) return BadValue(*value, path() + ".Value");
      d.kind = alarms::MetricDatum::Kind::kValue;
      d.value = *value;
    } else if (values) {
      if (values->size() > 150) {
        return InvalidValue(
            absl::StrCat("The parameter ", path(), ".Values must have at most 150 values."));
      }
      if (counts && counts->size() != values->size()) {
        const std::string p = path();
        return InvalidValue(absl::StrCat("The parameters ", p, ".Values and ", p,
                                         ".Counts must have the same number of entries."));
      }
      d.kind = alarms::MetricDatum::Kind::kValues;
      d.values.reserve(values->size());
      if (counts) d.counts.reserve(counts->size());
      for (size_t k = 0; k < values->size(); ++k) {
        if (!(*values)[k].is_number()) return TypeError("Values", "a list of numbers");
        double v = (*values)[k].to_number<double>();
        if (!ValidValue(v)) return BadValue(v, absl::StrCat(path(), ".Values.member.", k + 1));
        d.values.push_back(v);
        if (counts) {
          if (!(*counts)[k].is_number()) return TypeError("Counts", "a list of numbers");
          double c = (*counts)[k].to_number<double>();
          if (!std::isfinite(c) || c < 0) {
            return InvalidValue(absl::StrCat("The parameter ", path(), ".Counts.member.", k + 1,
                                             " must not be negative."));
          }
          d.counts.push_back(c);
        }
      }
    } else {
      if (!stats->is_object()) return TypeError("StatisticValues", "a StatisticSet");
      const json::object& so = stats->get_object();
      KLAXON_ASSIGN_OR_RETURN(auto sc, OptDouble(so, "SampleCount"));
      KLAXON_ASSIGN_OR_RETURN(auto sum, OptDouble(so, "Sum"));
      KLAXON_ASSIGN_OR_RETURN(auto mn, OptDouble(so, "Minimum"));
      KLAXON_ASSIGN_OR_RETURN(auto mx, OptDouble(so, "Maximum"));
      if (!sc || !sum || !mn || !mx) {
        return Missing(absl::StrCat("The parameter ", path(),
                                    ".StatisticValues needs SampleCount, Sum, Minimum and "
                                    "Maximum."));
      }
      for (auto [v, name] : {std::pair{*sc, "SampleCount"}, std::pair{*sum, "Sum"},
                             std::pair{*mn, "Minimum"}, std::pair{*mx, "Maximum"}}) {
        if (!ValidValue(v)) return BadValue(v, absl::StrCat(path(), ".StatisticValues.", name));
      }
      if (*sc <= 0) {
        return InvalidValue(absl::StrCat("The parameter ", path(),
                                         ".StatisticValues.SampleCount must be greater than 0."));
      }
      if (*mn > *mx) {
        return InvalidValue(absl::StrCat("The parameter ", path(),
                                         ".StatisticValues.Minimum must not be greater than "
                                         "Maximum."));
      }
      d.kind = alarms::MetricDatum::Kind::kStatisticSet;
      d.sample_count = *sc;
      d.sum = *sum;
      d.min = *mn;
      d.max = *mx;
    }
  }
  KLAXON_RETURN_IF_ERROR(s.metrics.Put(ctx.caller.account_id, data));
  return json::object();
}

absl::StatusOr<json::object> GetMetricStatistics(const CloudWatchServices& s,
                                                 const CallContext& ctx, const json::object& in) {
  MetricId metric;
  KLAXON_ASSIGN_OR_RETURN(metric.ns, String(in, "Namespace"));
  KLAXON_ASSIGN_OR_RETURN(metric.name, String(in, "MetricName"));
  KLAXON_ASSIGN_OR_RETURN(metric.dimensions, Dimensions(in, "Dimensions", "Dimensions"));
  metric.Normalize();
  KLAXON_ASSIGN_OR_RETURN(auto start, OptTime(in, "StartTime"));
  KLAXON_ASSIGN_OR_RETURN(auto end, OptTime(in, "EndTime"));
  KLAXON_ASSIGN_OR_RETURN(auto period, OptInt(in, "Period"));
  KLAXON_ASSIGN_OR_RETURN(std::vector<std::string> statistics, Strings(in, "Statistics"));
  KLAXON_ASSIGN_OR_RETURN(std::vector<std::string> extended, Strings(in, "ExtendedStatistics"));
  KLAXON_ASSIGN_OR_RETURN(auto unit, OptString(in, "Unit"));
  if (!start || !end || !period) {
    return Missing("StartTime, EndTime and Period are required.");
  }
  if (statistics.empty() && extended.empty()) {
    return Combination(
        "At least one of the parameters Statistics and ExtendedStatistics must "
        "be specified.");
  }
  if (!ValidQueryPeriod(*period)) {
    return InvalidValue("The parameter Period must be 1, 5, 10, 30 or a multiple of 60.");
  }
  if (*start >= *end) {
    return InvalidValue("The parameter StartTime must be less than the parameter EndTime.");
  }
  std::vector<std::pair<std::string, alarms::Stat>> stats;
  for (const std::string& name : statistics) {
    auto stat = alarms::ParseStandardStat(name);
    if (!stat.ok()) return InvalidValue(absl::StrCat("The statistic ", name, " is not valid."));
    stats.emplace_back(name, *stat);
  }
  std::vector<std::pair<std::string, alarms::Stat>> percentiles;
  for (const std::string& name : extended) {
    auto stat = alarms::ParseStat(name);
    if (!stat.ok() || stat->kind != alarms::StatKind::kPercentile) {
      return InvalidValue(absl::StrCat("The value ", name,
                                       " for parameter ExtendedStatistics is not a percentile "
                                       "between p0.0 and p100."));
    }
    percentiles.emplace_back(name, *stat);
  }
  const absl::Time now = s.clock.Now();
  const absl::Time first = RoundStart(*start, *period, now);
  const int64_t n = (absl::ToInt64Seconds(*end - first) + *period - 1) / *period;
  if (n > 1440) {
    return Combination(absl::StrCat("You have requested up to ", n,
                                    " datapoints, which exceeds the limit of 1,440. You may "
                                    "reduce the datapoints requested by increasing Period, or "
                                    "decreasing the time range."));
  }
  auto by_unit = s.metrics.QueryByUnit(ctx.caller.account_id, metric, unit, first,
                                       absl::Seconds(*period), static_cast<int>(n));
  json::array datapoints;
  for (int64_t i = 0; i < n; ++i) {
    for (const auto& [u, windows] : by_unit) {
      const alarms::Aggregate& agg = windows[i];
      if (agg.empty()) continue;
      json::object dp{{"Timestamp", ToEpochSeconds(first + absl::Seconds(*period * i))}};
      for (const auto& [name, stat] : stats) {
        if (auto v = alarms::ComputeStat(agg, stat)) dp[name] = *v;
      }
      if (!percentiles.empty()) {
        json::object ext;
        for (const auto& [name, stat] : percentiles) {
          if (auto v = alarms::ComputeStat(agg, stat)) ext[name] = *v;
        }
        if (!ext.empty()) dp["ExtendedStatistics"] = std::move(ext);
      }
      dp["Unit"] = u;
      datapoints.push_back(std::move(dp));
    }
  }
  return json::object{{"Label", metric.name}, {"Datapoints", std::move(datapoints)}};
}

absl::StatusOr<json::object> GetMetricData(const CloudWatchServices& s, const CallContext& ctx,
                                           const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(auto queries, ParseQueries(in, "MetricDataQueries"));
  KLAXON_ASSIGN_OR_RETURN(auto start, OptTime(in, "StartTime"));
  KLAXON_ASSIGN_OR_RETURN(auto end, OptTime(in, "EndTime"));
  KLAXON_ASSIGN_OR_RETURN(auto scan_by, OptString(in, "ScanBy"));
  KLAXON_ASSIGN_OR_RETURN(auto max_points, OptInt(in, "MaxDatapoints"));
  KLAXON_ASSIGN_OR_RETURN(std::string next_token, String(in, "NextToken"));
  if (queries.empty()) return Missing("The parameter MetricDataQueries is required.");
  if (queries.size() > 500) {
    return InvalidValue("The collection MetricDataQueries must not have more than 500 members.");
  }
  if (!start || !end) return Missing("StartTime and EndTime are required.");
  if (*start >= *end) {
    return InvalidValue("The parameter StartTime must be less than the parameter EndTime.");
  }
  int64_t grid = 0;
  for (const auto& q : queries) {
    if (q.metric_stat.has_value() == q.expression.has_value()) {
      return ValidationError(
          absl::StrCat("Exactly one of MetricStat and Expression must be "
                       "specified for the query ",
                       q.id, "."));
    }
    if (q.metric_stat) {
      if (!ValidQueryPeriod(q.metric_stat->period)) {
        return InvalidValue(absl::StrCat("The period of query ", q.id,
                                         " must be 1, 5, 10, 30 or a multiple of 60."));
      }
      if (!alarms::ParseStat(q.metric_stat->stat).ok()) {
        return InvalidValue(absl::StrCat("The statistic ", q.metric_stat->stat, " of query ", q.id,
                                         " is not valid."));
      }
      if (grid == 0) grid = q.metric_stat->period;
    }
    if (q.expression && q.period && grid == 0) grid = *q.period;
  }
  if (grid == 0) grid = 60;
  const absl::Time now = s.clock.Now();
  const absl::Time first = RoundStart(*start, grid, now);
  const int64_t n64 = (absl::ToInt64Seconds(*end - first) + grid - 1) / grid;
  if (n64 > 100800) {
    return Combination(
        "The time range and period request more than 100,800 datapoints per "
        "query.");
  }
  const int n = static_cast<int>(n64);
  const std::string& account = ctx.caller.account_id;
  auto fetch = [&](const alarms::MetricStat& ms) {
    alarms::TimeSeries series(n);
    auto stat = alarms::ParseStat(ms.stat);
    if (!stat.ok()) return series;
    auto windows = s.metrics.Query(account, ms.metric, ms.unit, first, absl::Seconds(grid), n);
    for (int i = 0; i < n; ++i) series[i] = alarms::ComputeStat(windows[i], *stat);
    return series;
  };
  auto results = alarms::EvaluateQueries(queries, n, grid, fetch);
  if (!results.ok()) return ValidationError(std::string(results.status().message()));

  const bool ascending = scan_by && *scan_by == "TimestampAscending";
  // One (id, label, timestamps, values) per returned series, then paged by datapoints.
  struct Out {
    std::string id;
    std::string label;
    std::vector<double> timestamps;
    std::vector<double> values;
  };
  std::vector<Out> outs;
  auto add_series = [&](const std::string& id, const std::string& label,
                        const alarms::TimeSeries& series, int64_t period) {
    Out out{id, label, {}, {}};
    for (int i = 0; i < static_cast<int>(series.size()); ++i) {
      int k = ascending ? i : static_cast<int>(series.size()) - 1 - i;
      if (!series[k]) continue;
      out.timestamps.push_back(ToEpochSeconds(first + absl::Seconds(period * k)));
      out.values.push_back(*series[k]);
    }
    outs.push_back(std::move(out));
  };
  for (const auto& q : queries) {
    if (!q.return_data) continue;
    if (q.metric_stat) {
      const std::string label = q.label.value_or(q.metric_stat->metric.name);
      if (q.metric_stat->period == grid) {
        add_series(q.id, label, results->at(q.id).series, grid);
      } else {
        // A MetricStat with its own period: fetched on its own grid.
        const int64_t p = q.metric_stat->period;
        const absl::Time own_first = RoundStart(*start, p, now);
        const int m = static_cast<int>(
            std::min<int64_t>((absl::ToInt64Seconds(*end - own_first) + p - 1) / p, 100800));
        auto stat = alarms::ParseStat(q.metric_stat->stat);
        auto windows = s.metrics.Query(account, q.metric_stat->metric, q.metric_stat->unit,
                                       own_first, absl::Seconds(p), m);
        alarms::TimeSeries series(m);
        for (int i = 0; i < m; ++i) series[i] = alarms::ComputeStat(windows[i], *stat);
        Out out{q.id, label, {}, {}};
        for (int i = 0; i < m; ++i) {
          int k = ascending ? i : m - 1 - i;
          if (!series[k]) continue;
          out.timestamps.push_back(ToEpochSeconds(own_first + absl::Seconds(p * k)));
          out.values.push_back(*series[k]);
        }
        outs.push_back(std::move(out));
      }
      continue;
    }
    const alarms::MathValue& v = results->at(q.id);
    const std::string label = q.label.value_or(q.id);
    switch (v.kind) {
      case alarms::MathValue::Kind::kSeries:
        add_series(q.id, label, v.series, grid);
        break;
      case alarms::MathValue::Kind::kScalar:
        add_series(q.id, label,
                   alarms::TimeSeries(
                       n, std::isfinite(v.scalar) ? std::optional<double>(v.scalar) : std::nullopt),
                   grid);
        break;
      case alarms::MathValue::Kind::kArray:
        for (size_t i = 0; i < v.array.size(); ++i) {
          add_series(q.id, i < v.labels.size() ? v.labels[i] : label, v.array[i], grid);
        }
        break;
    }
  }
  // Pagination by datapoints: the token is the number of datapoints already returned.
  size_t skip = 0;
  if (!next_token.empty()) {
    if (next_token.rfind("o:", 0) != 0 ||
        !absl::SimpleAtoi(absl::string_view(next_token).substr(2), &skip)) {
      return AwsError(absl::StatusCode::kInvalidArgument, "InvalidNextToken",
                      "The value of the NextToken parameter is invalid.");
    }
  }
  const size_t limit = static_cast<size_t>(std::max<int64_t>(1, max_points.value_or(100800)));
  json::array results_json;
  size_t seen = 0, emitted = 0;
  bool more = false;
  for (const Out& out : outs) {
    json::array ts, vs;
    for (size_t i = 0; i < out.values.size(); ++i, ++seen) {
      if (seen < skip) continue;
      if (emitted == limit) {
        more = true;
        break;
      }
      ts.emplace_back(out.timestamps[i]);
      vs.emplace_back(out.values[i]);
      ++emitted;
    }
    json::object r{{"Id", out.id},
                   {"Label", out.label},
                   {"Timestamps", std::move(ts)},
                   {"Values", std::move(vs)},
                   {"StatusCode", more ? "PartialData" : "Complete"}};
    results_json.push_back(std::move(r));
    if (more) break;
  }
  json::object result{{"MetricDataResults", std::move(results_json)}, {"Messages", json::array()}};
  if (more) result["NextToken"] = absl::StrCat("o:", skip + emitted);
  return result;
}

absl::StatusOr<json::object> ListMetrics(const CloudWatchServices& s, const CallContext& ctx,
                                         const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(auto ns, OptString(in, "Namespace"));
  KLAXON_ASSIGN_OR_RETURN(auto name, OptString(in, "MetricName"));
  KLAXON_ASSIGN_OR_RETURN(auto recent, OptString(in, "RecentlyActive"));
  KLAXON_ASSIGN_OR_RETURN(std::string token, String(in, "NextToken"));
  std::vector<alarms::DimensionFilter> filters;
  KLAXON_ASSIGN_OR_RETURN(const json::array* dims, OptArray(in, "Dimensions"));
  if (dims) {
    for (const auto& e : *dims) {
      if (!e.is_object()) return TypeError("Dimensions", "a list of DimensionFilter");
      alarms::DimensionFilter f;
      KLAXON_ASSIGN_OR_RETURN(f.name, String(e.get_object(), "Name"));
      KLAXON_ASSIGN_OR_RETURN(f.value, OptString(e.get_object(), "Value"));
      filters.push_back(std::move(f));
    }
  }
  const absl::Time now = s.clock.Now();
  absl::Time since = now - s.metrics.options().list_window;
  if (recent) since = now - absl::Hours(3);
  auto metrics = s.metrics.List(ctx.caller.account_id, ns, name, filters, since);
  size_t offset = 0;
  if (!token.empty() && (token.rfind("o:", 0) != 0 ||
                         !absl::SimpleAtoi(absl::string_view(token).substr(2), &offset))) {
    return InvalidValue("The value of the NextToken parameter is invalid.");
  }
  constexpr size_t kPage = 500;
  json::array out;
  for (size_t i = offset; i < metrics.size() && i < offset + kPage; ++i) {
    out.push_back(MetricJson(metrics[i].metric));
  }
  json::object result{{"Metrics", std::move(out)}};
  if (offset + kPage < metrics.size()) result["NextToken"] = absl::StrCat("o:", offset + kPage);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Alarms

absl::Status ReadCommon(const json::object& in, alarms::AlarmCommon& a) {
  KLAXON_ASSIGN_OR_RETURN(a.name, String(in, "AlarmName"));
  KLAXON_ASSIGN_OR_RETURN(a.description, OptString(in, "AlarmDescription"));
  KLAXON_ASSIGN_OR_RETURN(auto enabled, OptBool(in, "ActionsEnabled"));
  a.actions_enabled = enabled.value_or(true);
  KLAXON_ASSIGN_OR_RETURN(a.ok_actions, Strings(in, "OKActions"));
  KLAXON_ASSIGN_OR_RETURN(a.alarm_actions, Strings(in, "AlarmActions"));
  KLAXON_ASSIGN_OR_RETURN(a.insufficient_data_actions, Strings(in, "InsufficientDataActions"));
  KLAXON_ASSIGN_OR_RETURN(a.tags, Tags(in));
  return absl::OkStatus();
}

absl::StatusOr<json::object> PutMetricAlarm(const CloudWatchServices& s, const CallContext& ctx,
                                            const json::object& in) {
  alarms::MetricAlarm a;
  KLAXON_RETURN_IF_ERROR(ReadCommon(in, a));
  KLAXON_ASSIGN_OR_RETURN(auto metric_name, OptString(in, "MetricName"));
  KLAXON_ASSIGN_OR_RETURN(auto ns, OptString(in, "Namespace"));
  KLAXON_ASSIGN_OR_RETURN(auto dims, Dimensions(in, "Dimensions", "Dimensions"));
  if (metric_name) {
    a.metric = MetricId{ns.value_or(""), *metric_name, std::move(dims)};
  } else if (ns || !dims.empty()) {
    return ValidationError("Namespace and Dimensions require MetricName.");
  }
  KLAXON_ASSIGN_OR_RETURN(a.statistic, OptString(in, "Statistic"));
  KLAXON_ASSIGN_OR_RETURN(a.extended_statistic, OptString(in, "ExtendedStatistic"));
  KLAXON_ASSIGN_OR_RETURN(auto period, OptInt(in, "Period"));
  if (period) a.period = static_cast<int>(*period);
  KLAXON_ASSIGN_OR_RETURN(a.unit, OptString(in, "Unit"));
  KLAXON_ASSIGN_OR_RETURN(auto n, OptInt(in, "EvaluationPeriods"));
  if (!n) return ValidationError("EvaluationPeriods is required.");
  a.evaluation_periods = static_cast<int>(*n);
  KLAXON_ASSIGN_OR_RETURN(auto m, OptInt(in, "DatapointsToAlarm"));
  if (m) a.datapoints_to_alarm = static_cast<int>(*m);
  KLAXON_ASSIGN_OR_RETURN(a.threshold, OptDouble(in, "Threshold"));
  KLAXON_ASSIGN_OR_RETURN(std::string op, String(in, "ComparisonOperator"));
  auto comparison = alarms::ParseComparison(op);
  if (!comparison) {
    if (op.empty()) return ValidationError("ComparisonOperator is required.");
    return ValidationError(absl::StrCat("ComparisonOperator ", op,
                                        " (anomaly detection) is not supported by klaxon."));
  }
  a.comparison = *comparison;
  KLAXON_ASSIGN_OR_RETURN(a.treat_missing_data, OptString(in, "TreatMissingData"));
  KLAXON_ASSIGN_OR_RETURN(a.evaluate_low_sample_count_percentile,
                          OptString(in, "EvaluateLowSampleCountPercentile"));
  KLAXON_ASSIGN_OR_RETURN(a.metrics, ParseQueries(in, "Metrics"));
  KLAXON_ASSIGN_OR_RETURN(a.threshold_metric_id, OptString(in, "ThresholdMetricId"));
  if (Get(in, "EvaluationCriteria")) {
    return ValidationError("EvaluationCriteria (PromQL alarms) is not supported by klaxon.");
  }
  KLAXON_RETURN_IF_ERROR(s.alarms.PutMetricAlarm(ScopeOf(ctx, s), std::move(a)));
  return json::object();
}

absl::StatusOr<json::object> PutCompositeAlarm(const CloudWatchServices& s, const CallContext& ctx,
                                               const json::object& in) {
  alarms::CompositeAlarm a;
  KLAXON_RETURN_IF_ERROR(ReadCommon(in, a));
  KLAXON_ASSIGN_OR_RETURN(a.alarm_rule, String(in, "AlarmRule"));
  KLAXON_ASSIGN_OR_RETURN(a.actions_suppressor, OptString(in, "ActionsSuppressor"));
  KLAXON_ASSIGN_OR_RETURN(auto wait, OptInt(in, "ActionsSuppressorWaitPeriod"));
  if (wait) a.actions_suppressor_wait_period = static_cast<int>(*wait);
  KLAXON_ASSIGN_OR_RETURN(auto ext, OptInt(in, "ActionsSuppressorExtensionPeriod"));
  if (ext) a.actions_suppressor_extension_period = static_cast<int>(*ext);
  KLAXON_RETURN_IF_ERROR(s.alarms.PutCompositeAlarm(ScopeOf(ctx, s), std::move(a)));
  return json::object();
}

absl::StatusOr<std::vector<AlarmType>> AlarmTypes(const json::object& in) {
  std::vector<AlarmType> types;
  KLAXON_ASSIGN_OR_RETURN(auto names, Strings(in, "AlarmTypes"));
  for (const auto& n : names) {
    if (n == "MetricAlarm") {
      types.push_back(AlarmType::kMetricAlarm);
    } else if (n == "CompositeAlarm") {
      types.push_back(AlarmType::kCompositeAlarm);
    } else {
      return ValidationError(absl::StrCat("Unknown alarm type ", n, "."));
    }
  }
  return types;
}

absl::StatusOr<json::object> DescribeAlarms(const CloudWatchServices& s, const CallContext& ctx,
                                            const json::object& in) {
  alarms::DescribeAlarmsRequest req;
  KLAXON_ASSIGN_OR_RETURN(req.names, Strings(in, "AlarmNames"));
  KLAXON_ASSIGN_OR_RETURN(req.name_prefix, OptString(in, "AlarmNamePrefix"));
  KLAXON_ASSIGN_OR_RETURN(req.types, AlarmTypes(in));
  KLAXON_ASSIGN_OR_RETURN(req.children_of, OptString(in, "ChildrenOfAlarmName"));
  KLAXON_ASSIGN_OR_RETURN(req.parents_of, OptString(in, "ParentsOfAlarmName"));
  KLAXON_ASSIGN_OR_RETURN(auto state, OptString(in, "StateValue"));
  if (state) req.state = alarms::ParseState(*state);
  KLAXON_ASSIGN_OR_RETURN(req.action_prefix, OptString(in, "ActionPrefix"));
  KLAXON_ASSIGN_OR_RETURN(auto max, OptInt(in, "MaxRecords"));
  if (max) req.max_records = static_cast<int>(*max);
  KLAXON_ASSIGN_OR_RETURN(req.next_token, String(in, "NextToken"));
  KLAXON_ASSIGN_OR_RETURN(auto result, s.alarms.DescribeAlarms(ScopeOf(ctx, s), req));
  json::array metric_alarms, composite_alarms;
  for (const auto& a : result.metric_alarms) metric_alarms.push_back(MetricAlarmJson(a));
  for (const auto& a : result.composite_alarms) composite_alarms.push_back(CompositeAlarmJson(a));
  json::object out{{"MetricAlarms", std::move(metric_alarms)},
                   {"CompositeAlarms", std::move(composite_alarms)}};
  if (!result.next_token.empty()) out["NextToken"] = result.next_token;
  return out;
}

absl::StatusOr<json::object> DescribeAlarmsForMetric(const CloudWatchServices& s,
                                                     const CallContext& ctx,
                                                     const json::object& in) {
  alarms::DescribeAlarmsForMetricRequest req;
  KLAXON_ASSIGN_OR_RETURN(req.metric.ns, String(in, "Namespace"));
  KLAXON_ASSIGN_OR_RETURN(req.metric.name, String(in, "MetricName"));
  KLAXON_ASSIGN_OR_RETURN(req.metric.dimensions, Dimensions(in, "Dimensions", "Dimensions"));
  KLAXON_ASSIGN_OR_RETURN(req.statistic, OptString(in, "Statistic"));
  KLAXON_ASSIGN_OR_RETURN(req.extended_statistic, OptString(in, "ExtendedStatistic"));
  KLAXON_ASSIGN_OR_RETURN(auto period, OptInt(in, "Period"));
  if (period) req.period = static_cast<int>(*period);
  KLAXON_ASSIGN_OR_RETURN(req.unit, OptString(in, "Unit"));
  json::array out;
  for (const auto& a : s.alarms.DescribeAlarmsForMetric(ScopeOf(ctx, s), req)) {
    out.push_back(MetricAlarmJson(a));
  }
  return json::object{{"MetricAlarms", std::move(out)}};
}

absl::StatusOr<json::object> DeleteAlarms(const CloudWatchServices& s, const CallContext& ctx,
                                          const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(auto names, Strings(in, "AlarmNames"));
  KLAXON_RETURN_IF_ERROR(s.alarms.DeleteAlarms(ScopeOf(ctx, s), names));
  return json::object();
}

absl::StatusOr<json::object> SetAlarmState(const CloudWatchServices& s, const CallContext& ctx,
                                           const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string name, String(in, "AlarmName"));
  KLAXON_ASSIGN_OR_RETURN(std::string state_name, String(in, "StateValue"));
  KLAXON_ASSIGN_OR_RETURN(std::string reason, String(in, "StateReason"));
  KLAXON_ASSIGN_OR_RETURN(auto data, OptString(in, "StateReasonData"));
  auto state = alarms::ParseState(state_name);
  if (!state) return ValidationError(absl::StrCat("Invalid StateValue ", state_name, "."));
  KLAXON_RETURN_IF_ERROR(s.alarms.SetAlarmState(ScopeOf(ctx, s), name, *state, reason, data));
  return json::object();
}

absl::StatusOr<json::object> SetActions(const CloudWatchServices& s, const CallContext& ctx,
                                        const json::object& in, bool enabled) {
  KLAXON_ASSIGN_OR_RETURN(auto names, Strings(in, "AlarmNames"));
  KLAXON_RETURN_IF_ERROR(s.alarms.SetActionsEnabled(ScopeOf(ctx, s), names, enabled));
  return json::object();
}

absl::StatusOr<json::object> DescribeAlarmHistory(const CloudWatchServices& s,
                                                  const CallContext& ctx, const json::object& in) {
  alarms::AlarmHistoryRequest req;
  KLAXON_ASSIGN_OR_RETURN(req.name, OptString(in, "AlarmName"));
  KLAXON_ASSIGN_OR_RETURN(req.types, AlarmTypes(in));
  KLAXON_ASSIGN_OR_RETURN(auto type, OptString(in, "HistoryItemType"));
  if (type) {
    req.type = alarms::ParseHistoryItemType(*type);
    if (!req.type) {
      // AlarmContributor* items: klaxon has no contributor alarms, so nothing matches.
      return json::object{{"AlarmHistoryItems", json::array()}};
    }
  }
  KLAXON_ASSIGN_OR_RETURN(req.start, OptTime(in, "StartDate"));
  KLAXON_ASSIGN_OR_RETURN(req.end, OptTime(in, "EndDate"));
  KLAXON_ASSIGN_OR_RETURN(auto max, OptInt(in, "MaxRecords"));
  if (max) req.max_records = static_cast<int>(*max);
  KLAXON_ASSIGN_OR_RETURN(req.next_token, String(in, "NextToken"));
  KLAXON_ASSIGN_OR_RETURN(auto scan, OptString(in, "ScanBy"));
  req.ascending = scan && *scan == "TimestampAscending";
  KLAXON_ASSIGN_OR_RETURN(auto page, s.alarms.DescribeAlarmHistory(ScopeOf(ctx, s), req));
  json::array items;
  for (const auto& item : page.items) {
    items.push_back(
        json::object{{"AlarmName", item.alarm_name},
                     {"AlarmType", std::string(alarms::AlarmTypeName(item.alarm_type))},
                     {"Timestamp", ToEpochSeconds(item.timestamp)},
                     {"HistoryItemType", std::string(alarms::HistoryItemTypeName(item.type))},
                     {"HistorySummary", item.summary},
                     {"HistoryData", item.data}});
  }
  json::object out{{"AlarmHistoryItems", std::move(items)}};
  if (!page.next_token.empty()) out["NextToken"] = page.next_token;
  return out;
}

absl::StatusOr<json::object> TagResource(const CloudWatchServices& s, const CallContext& ctx,
                                         const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string arn, String(in, "ResourceARN"));
  KLAXON_ASSIGN_OR_RETURN(auto tags, Tags(in));
  KLAXON_RETURN_IF_ERROR(s.alarms.TagResource(ScopeOf(ctx, s), arn, tags));
  return json::object();
}

absl::StatusOr<json::object> UntagResource(const CloudWatchServices& s, const CallContext& ctx,
                                           const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string arn, String(in, "ResourceARN"));
  KLAXON_ASSIGN_OR_RETURN(auto keys, Strings(in, "TagKeys"));
  KLAXON_RETURN_IF_ERROR(s.alarms.UntagResource(ScopeOf(ctx, s), arn, keys));
  return json::object();
}

absl::StatusOr<json::object> ListTagsForResource(const CloudWatchServices& s,
                                                 const CallContext& ctx, const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string arn, String(in, "ResourceARN"));
  KLAXON_ASSIGN_OR_RETURN(auto tags, s.alarms.ListTags(ScopeOf(ctx, s), arn));
  json::array out;
  for (const auto& [k, v] : tags) out.push_back(json::object{{"Key", k}, {"Value", v}});
  return json::object{{"Tags", std::move(out)}};
}

}  // namespace

void RegisterCloudWatchHandlers(OperationTable& table, CloudWatchServices services) {
  using Fn = absl::StatusOr<json::object> (*)(const CloudWatchServices&, const CallContext&,
                                              const json::object&);
  const std::pair<const char*, Fn> ops[] = {
      {"PutMetricData", PutMetricData},
      {"GetMetricStatistics", GetMetricStatistics},
      {"GetMetricData", GetMetricData},
      {"ListMetrics", ListMetrics},
      {"PutMetricAlarm", PutMetricAlarm},
      {"PutCompositeAlarm", PutCompositeAlarm},
      {"DescribeAlarms", DescribeAlarms},
      {"DescribeAlarmsForMetric", DescribeAlarmsForMetric},
      {"DeleteAlarms", DeleteAlarms},
      {"SetAlarmState", SetAlarmState},
      {"DescribeAlarmHistory", DescribeAlarmHistory},
      {"TagResource", TagResource},
      {"UntagResource", UntagResource},
      {"ListTagsForResource", ListTagsForResource},
  };
  for (const auto& [name, fn] : ops) {
    table.Add("cloudwatch", name,
              [services, fn = fn](const CallContext& ctx, const json::object& in) {
                return fn(services, ctx, in);
              });
  }
  table.Add("cloudwatch", "EnableAlarmActions",
            [services](const CallContext& ctx, const json::object& in) {
              return SetActions(services, ctx, in, true);
            });
  table.Add("cloudwatch", "DisableAlarmActions",
            [services](const CallContext& ctx, const json::object& in) {
              return SetActions(services, ctx, in, false);
            });
}

}  // namespace klaxon::api::cloudwatch
