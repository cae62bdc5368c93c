#include "alarms/alarm_events.h"

#include "boost/json.hpp"
#include "common/clock.h"

namespace klaxon::alarms {
namespace {

namespace json = boost::json;

const AlarmCommon& Common(const AnyAlarm& a) {
  return std::visit([](const auto& x) -> const AlarmCommon& { return x; }, a);
}

json::object MetricJson(const MetricId& m) {
  json::object dims;
  for (const Dimension& d : m.dimensions) dims[d.name] = d.value;
  return json::object{{"dimensions", std::move(dims)}, {"name", m.name}, {"namespace", m.ns}};
}

json::array MetricsJson(const MetricAlarm& m) {
  json::array out;
  if (m.metric) {
    json::object stat{{"metric", MetricJson(*m.metric)},
                      {"period", m.period.value_or(60)},
                      {"stat", m.statistic ? *m.statistic : m.extended_statistic.value_or("")}};
    if (m.unit) stat["unit"] = *m.unit;
    out.push_back(json::object{
        {"id", m.event_metric_id}, {"metricStat", std::move(stat)}, {"returnData", true}});
    return out;
  }
  for (const MetricDataQuery& q : m.metrics) {
    json::object o;
    if (q.expression) {
      o["expression"] = *q.expression;
      o["id"] = q.id;
      if (q.label) o["label"] = *q.label;
      o["returnData"] = q.return_data;
    } else {
      o["id"] = q.id;
      if (q.metric_stat) {
        json::object stat{{"metric", MetricJson(q.metric_stat->metric)},
                          {"period", q.metric_stat->period},
                          {"stat", q.metric_stat->stat}};
        if (q.metric_stat->unit) stat["unit"] = *q.metric_stat->unit;
        o["metricStat"] = std::move(stat);
      }
      if (q.label) o["label"] = *q.label;
      o["returnData"] = q.return_data;
    }
    out.push_back(std::move(o));
  }
  return out;
}

json::array Strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(json::string(s));
  return a;
}

json::object StateJson(const EventState& s, bool with_reason) {
  json::object o;
  if (s.actions_suppressed_by) o["actionsSuppressedBy"] = *s.actions_suppressed_by;
  if (s.actions_suppressed_reason) o["actionsSuppressedReason"] = *s.actions_suppressed_reason;
  o["value"] = std::string(StateName(s.value));
  if (with_reason) {
    o["reason"] = s.reason;
    if (s.reason_data) o["reasonData"] = *s.reason_data;
  }
  o["timestamp"] = FormatAwsMillis(s.timestamp);
  return o;
}

// The configuration as state-change events show it.
json::object StateConfiguration(const AnyAlarm& alarm) {
  json::object o;
  if (const auto* m = std::get_if<MetricAlarm>(&alarm)) {
    if (m->description) o["description"] = *m->description;
    o["metrics"] = MetricsJson(*m);
    return o;
  }
  const auto& c = std::get<CompositeAlarm>(alarm);
  o["alarmRule"] = c.alarm_rule;
  if (c.actions_suppressor) o["actionsSuppressor"] = *c.actions_suppressor;
  if (c.actions_suppressor_wait_period) {
    o["actionsSuppressorWaitPeriod"] = *c.actions_suppressor_wait_period;
  }
  if (c.actions_suppressor_extension_period) {
    o["actionsSuppressorExtensionPeriod"] = *c.actions_suppressor_extension_period;
  }
  if (c.description) o["description"] = *c.description;
  return o;
}

// The configuration as configuration-change events show it.
json::object FullConfiguration(const AnyAlarm& alarm) {
  json::object o;
  const AlarmCommon& common = Common(alarm);
  if (const auto* m = std::get_if<MetricAlarm>(&alarm)) {
    o["evaluationPeriods"] = m->evaluation_periods;
    if (m->datapoints_to_alarm) o["datapointsToAlarm"] = *m->datapoints_to_alarm;
    if (m->threshold) o["threshold"] = JsonNumber(*m->threshold);
    o["comparisonOperator"] = std::string(ComparisonName(m->comparison));
    o["treatMissingData"] = std::string(TreatMissingName(m->EffectiveTreatMissing()));
    if (m->evaluate_low_sample_count_percentile) {
      o["evaluateLowSampleCountPercentile"] = *m->evaluate_low_sample_count_percentile;
    }
    o["metrics"] = MetricsJson(*m);
  } else {
    const auto& c = std::get<CompositeAlarm>(alarm);
    o["alarmRule"] = c.alarm_rule;
    if (c.actions_suppressor) o["actionsSuppressor"] = *c.actions_suppressor;
    if (c.actions_suppressor_wait_period) {
      o["actionsSuppressorWaitPeriod"] = *c.actions_suppressor_wait_period;
    }
    if (c.actions_suppressor_extension_period) {
      o["actionsSuppressorExtensionPeriod"] = *c.actions_suppressor_extension_period;
    }
  }
  o["alarmName"] = common.name;
  if (common.description) o["description"] = *common.description;
  o["actionsEnabled"] = common.actions_enabled;
  o["timestamp"] = FormatAwsMillis(common.configuration_updated);
  o["okActions"] = Strings(common.ok_actions);
  o["alarmActions"] = Strings(common.alarm_actions);
  o["insufficientDataActions"] = Strings(common.insufficient_data_actions);
  return o;
}

}  // namespace

EventState CurrentEventState(const AnyAlarm& alarm) {
  const AlarmCommon& c = Common(alarm);
  EventState s;
  s.value = c.state;
  s.reason = c.state_reason;
  s.reason_data = c.state_reason_data;
  s.timestamp = c.state_updated;
  if (const auto* comp = std::get_if<CompositeAlarm>(&alarm)) {
    s.actions_suppressed_by = comp->actions_suppressed_by;
    s.actions_suppressed_reason = comp->actions_suppressed_reason;
  }
  return s;
}

json::object StateChangeDetail(const AnyAlarm& alarm, const EventState& previous,
                               const EventState& current) {
  return json::object{{"alarmName", Common(alarm).name},
                      {"configuration", StateConfiguration(alarm)},
                      {"previousState", StateJson(previous, true)},
                      {"state", StateJson(current, true)}};
}

json::object ConfigurationChangeDetail(const AnyAlarm& alarm, std::string_view operation,
                                       const AnyAlarm* previous) {
  json::object o{{"alarmName", Common(alarm).name},
                 {"operation", json::string(operation)},
                 {"state", StateJson(CurrentEventState(alarm), false)},
                 {"configuration", FullConfiguration(alarm)}};
  if (previous != nullptr) o["previousConfiguration"] = FullConfiguration(*previous);
  return o;
}

std::string EventJson(std::string_view id, std::string_view detail_type, std::string_view account,
                      std::string_view region, absl::Time time, std::string_view alarm_arn,
                      const json::object& detail) {
  json::object event{{"version", "0"},
                     {"id", json::string(id)},
                     {"detail-type", json::string(detail_type)},
                     {"source", kCloudWatchSource},
                     {"account", json::string(account)},
                     {"time", FormatRfc3339Seconds(time)},
                     {"region", json::string(region)},
                     {"resources", json::array{json::string(alarm_arn)}},
                     {"detail", detail}};
  return SerializeJson(event);
}

}  // namespace klaxon::alarms
