#include "alarms/records.h"

#include <charconv>
#include <cmath>

#include "boost/json.hpp"

namespace klaxon::alarms {
namespace {

namespace json = boost::json;

json::value Micros(absl::Time t) { return absl::ToUnixMicros(t); }

json::array Strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(json::string(s));
  return a;
}

json::object MetricJson(const MetricId& m) {
  json::array dims;
  for (const Dimension& d : m.dimensions) dims.push_back(json::array{d.name, d.value});
  return json::object{{"ns", m.ns}, {"name", m.name}, {"dims", std::move(dims)}};
}

json::object QueryJson(const MetricDataQuery& q) {
  json::object o{{"id", q.id}, {"returnData", q.return_data}};
  if (q.metric_stat) {
    json::object ms{{"metric", MetricJson(q.metric_stat->metric)},
                    {"period", q.metric_stat->period},
                    {"stat", q.metric_stat->stat}};
    if (q.metric_stat->unit) ms["unit"] = *q.metric_stat->unit;
    o["metricStat"] = std::move(ms);
  }
  if (q.expression) o["expression"] = *q.expression;
  if (q.label) o["label"] = *q.label;
  if (q.period) o["period"] = *q.period;
  if (q.account_id) o["accountId"] = *q.account_id;
  return o;
}

void CommonJson(const AlarmCommon& a, json::object& o) {
  o["name"] = a.name;
  o["arn"] = a.arn;
  if (a.description) o["description"] = *a.description;
  o["actionsEnabled"] = a.actions_enabled;
  o["okActions"] = Strings(a.ok_actions);
  o["alarmActions"] = Strings(a.alarm_actions);
  o["insufficientDataActions"] = Strings(a.insufficient_data_actions);
  o["configUpdated"] = Micros(a.configuration_updated);
  o["state"] = std::string(StateName(a.state));
  o["stateReason"] = a.state_reason;
  if (a.state_reason_data) o["stateReasonData"] = *a.state_reason_data;
  o["stateUpdated"] = Micros(a.state_updated);
  o["stateTransitioned"] = Micros(a.state_transitioned);
  json::object tags;
  for (const auto& [k, v] : a.tags) tags[k] = v;
  o["tags"] = std::move(tags);
  o["version"] = a.version;
  o["eventMetricId"] = a.event_metric_id;
}

// Readers tolerant of absent members (defaults), strict on wrong types.
struct Reader {
  const json::object& o;
  bool ok = true;

  const json::value* Get(const char* key) const { return o.if_contains(key); }
  std::string Str(const char* key) {
    const json::value* v = Get(key);
    if (!v) return "";
    if (!v->is_string()) {
      ok = false;
      return "";
    }
    return std::string(v->get_string());
  }
  std::optional<std::string> OptStr(const char* key) {
    const json::value* v = Get(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_string()) {
      ok = false;
      return std::nullopt;
    }
    return std::string(v->get_string());
  }
  int64_t Int(const char* key, int64_t def = 0) {
    const json::value* v = Get(key);
    if (!v) return def;
    if (!v->is_number()) {
      ok = false;
      return def;
    }
    return v->to_number<int64_t>();
  }
  std::optional<int64_t> OptInt(const char* key) {
    const json::value* v = Get(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_number()) {
      ok = false;
      return std::nullopt;
    }
    return v->to_number<int64_t>();
  }
  std::optional<double> OptDouble(const char* key) {
    const json::value* v = Get(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_number()) {
      ok = false;
      return std::nullopt;
    }
    return v->to_number<double>();
  }
  bool Bool(const char* key, bool def) {
    const json::value* v = Get(key);
    if (!v) return def;
    if (!v->is_bool()) {
      ok = false;
      return def;
    }
    return v->get_bool();
  }
  std::vector<std::string> Strs(const char* key) {
    std::vector<std::string> out;
    const json::value* v = Get(key);
    if (!v) return out;
    if (!v->is_array()) {
      ok = false;
      return out;
    }
    for (const auto& e : v->get_array()) {
      if (!e.is_string()) {
        ok = false;
        continue;
      }
      out.emplace_back(e.get_string());
    }
    return out;
  }
  absl::Time Time(const char* key) { return absl::FromUnixMicros(Int(key)); }
};

bool MetricFrom(const json::value* v, MetricId& m) {
  if (v == nullptr || !v->is_object()) return false;
  Reader r{v->get_object()};
  m.ns = r.Str("ns");
  m.name = r.Str("name");
  const json::value* dims = r.Get("dims");
  if (dims && dims->is_array()) {
    for (const auto& d : dims->get_array()) {
      if (!d.is_array() || d.get_array().size() != 2 || !d.get_array()[0].is_string() ||
          !d.get_array()[1].is_string()) {
        return false;
      }
      m.dimensions.push_back(
          {std::string(d.get_array()[0].get_string()), std::string(d.get_array()[1].get_string())});
    }
  }
  return r.ok;
}

bool QueryFrom(const json::value& v, MetricDataQuery& q) {
  if (!v.is_object()) return false;
  Reader r{v.get_object()};
  q.id = r.Str("id");
  q.return_data = r.Bool("returnData", true);
  if (const json::value* ms = r.Get("metricStat"); ms && ms->is_object()) {
    Reader mr{ms->get_object()};
    MetricStat stat;
    if (!MetricFrom(mr.Get("metric"), stat.metric)) return false;
    stat.period = static_cast<int>(mr.Int("period", 60));
    stat.stat = mr.Str("stat");
    stat.unit = mr.OptStr("unit");
    if (!mr.ok) return false;
    q.metric_stat = std::move(stat);
  }
  q.expression = r.OptStr("expression");
  q.label = r.OptStr("label");
  if (auto p = r.OptInt("period")) q.period = static_cast<int>(*p);
  q.account_id = r.OptStr("accountId");
  return r.ok;
}

bool CommonFrom(Reader& r, AlarmCommon& a) {
  a.name = r.Str("name");
  a.arn = r.Str("arn");
  a.description = r.OptStr("description");
  a.actions_enabled = r.Bool("actionsEnabled", true);
  a.ok_actions = r.Strs("okActions");
  a.alarm_actions = r.Strs("alarmActions");
  a.insufficient_data_actions = r.Strs("insufficientDataActions");
  a.configuration_updated = r.Time("configUpdated");
  auto state = ParseState(r.Str("state"));
  if (!state) return false;
  a.state = *state;
  a.state_reason = r.Str("stateReason");
  a.state_reason_data = r.OptStr("stateReasonData");
  a.state_updated = r.Time("stateUpdated");
  a.state_transitioned = r.Time("stateTransitioned");
  if (const json::value* tags = r.Get("tags"); tags && tags->is_object()) {
    for (const auto& [k, v] : tags->get_object()) {
      if (v.is_string()) a.tags[std::string(k)] = std::string(v.get_string());
    }
  }
  a.version = r.Int("version");
  a.event_metric_id = r.Str("eventMetricId");
  return r.ok;
}

void AppendNumber(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    out += std::to_string(static_cast<int64_t>(v));
    return;
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, res.ptr);
}

void AppendString(std::string& out, json::string_view s) {
  out += json::serialize(json::string(s));
}

void Serialize(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      out += "null";
      return;
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      return;
    case json::kind::int64:
      out += std::to_string(v.get_int64());
      return;
    case json::kind::uint64:
      out += std::to_string(v.get_uint64());
      return;
    case json::kind::double_:
      AppendNumber(out, v.get_double());
      return;
    case json::kind::string:
      AppendString(out, v.get_string());
      return;
    case json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        Serialize(out, e);
      }
      out.push_back(']');
      return;
    }
    case json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, e] : v.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        AppendString(out, k);
        out.push_back(':');
        Serialize(out, e);
      }
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

std::string SerializeJson(const json::value& v) {
  std::string out;
  Serialize(out, v);
  return out;
}

json::value JsonNumber(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    return json::value(static_cast<int64_t>(v));
  }
  return json::value(v);
}

std::string EncodeAlarm(const AnyAlarm& any) {
  json::object o;
  if (const auto* m = std::get_if<MetricAlarm>(&any)) {
    o["type"] = "metric";
    CommonJson(*m, o);
    if (m->metric) o["metric"] = MetricJson(*m->metric);
    if (m->statistic) o["statistic"] = *m->statistic;
    if (m->extended_statistic) o["extendedStatistic"] = *m->extended_statistic;
    if (m->period) o["period"] = *m->period;
    if (m->unit) o["unit"] = *m->unit;
    o["evaluationPeriods"] = m->evaluation_periods;
    if (m->datapoints_to_alarm) o["datapointsToAlarm"] = *m->datapoints_to_alarm;
    if (m->threshold) o["threshold"] = *m->threshold;
    o["comparison"] = std::string(ComparisonName(m->comparison));
    if (m->treat_missing_data) o["treatMissingData"] = *m->treat_missing_data;
    if (m->evaluate_low_sample_count_percentile) {
      o["evaluateLowSampleCountPercentile"] = *m->evaluate_low_sample_count_percentile;
    }
    json::array metrics;
    for (const auto& q : m->metrics) metrics.emplace_back(QueryJson(q));
    o["metrics"] = std::move(metrics);
    if (m->threshold_metric_id) o["thresholdMetricId"] = *m->threshold_metric_id;
  } else {
    const auto& c = std::get<CompositeAlarm>(any);
    o["type"] = "composite";
    CommonJson(c, o);
    o["alarmRule"] = c.alarm_rule;
    if (c.actions_suppressor) o["actionsSuppressor"] = *c.actions_suppressor;
    if (c.actions_suppressor_wait_period) {
      o["actionsSuppressorWaitPeriod"] = *c.actions_suppressor_wait_period;
    }
    if (c.actions_suppressor_extension_period) {
      o["actionsSuppressorExtensionPeriod"] = *c.actions_suppressor_extension_period;
    }
    if (c.actions_suppressed_by) o["actionsSuppressedBy"] = *c.actions_suppressed_by;
    if (c.actions_suppressed_reason) o["actionsSuppressedReason"] = *c.actions_suppressed_reason;
  }
  return json::serialize(o);
}

absl::StatusOr<AnyAlarm> DecodeAlarm(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !v.is_object()) return absl::DataLossError("cw_alarms: row does not decode");
  Reader r{v.get_object()};
  std::string type = r.Str("type");
  if (type == "metric") {
    MetricAlarm m;
    if (!CommonFrom(r, m)) return absl::DataLossError("cw_alarms: bad alarm");
    if (const json::value* metric = r.Get("metric")) {
      MetricId id;
      if (!MetricFrom(metric, id)) return absl::DataLossError("cw_alarms: bad metric");
      m.metric = std::move(id);
    }
    m.statistic = r.OptStr("statistic");
    m.extended_statistic = r.OptStr("extendedStatistic");
    if (auto p = r.OptInt("period")) m.period = static_cast<int>(*p);
    m.unit = r.OptStr("unit");
    m.evaluation_periods = static_cast<int>(r.Int("evaluationPeriods", 1));
    if (auto d = r.OptInt("datapointsToAlarm")) m.datapoints_to_alarm = static_cast<int>(*d);
    m.threshold = r.OptDouble("threshold");
    auto op = ParseComparison(r.Str("comparison"));
    if (!op) return absl::DataLossError("cw_alarms: bad comparison");
    m.comparison = *op;
    m.treat_missing_data = r.OptStr("treatMissingData");
    m.evaluate_low_sample_count_percentile = r.OptStr("evaluateLowSampleCountPercentile");
    if (const json::value* metrics = r.Get("metrics"); metrics && metrics->is_array()) {
      for (const auto& q : metrics->get_array()) {
        MetricDataQuery query;
        if (!QueryFrom(q, query)) return absl::DataLossError("cw_alarms: bad query");
        m.metrics.push_back(std::move(query));
      }
    }
    m.threshold_metric_id = r.OptStr("thresholdMetricId");
    if (!r.ok) return absl::DataLossError("cw_alarms: bad alarm");
    return AnyAlarm(std::move(m));
  }
  if (type == "composite") {
    CompositeAlarm c;
    if (!CommonFrom(r, c)) return absl::DataLossError("cw_alarms: bad alarm");
    c.alarm_rule = r.Str("alarmRule");
    c.actions_suppressor = r.OptStr("actionsSuppressor");
    if (auto w = r.OptInt("actionsSuppressorWaitPeriod")) {
      c.actions_suppressor_wait_period = static_cast<int>(*w);
    }
    if (auto e = r.OptInt("actionsSuppressorExtensionPeriod")) {
      c.actions_suppressor_extension_period = static_cast<int>(*e);
    }
    c.actions_suppressed_by = r.OptStr("actionsSuppressedBy");
    c.actions_suppressed_reason = r.OptStr("actionsSuppressedReason");
    if (!r.ok) return absl::DataLossError("cw_alarms: bad alarm");
    return AnyAlarm(std::move(c));
  }
  return absl::DataLossError("cw_alarms: unknown alarm type");
}

std::string EncodeHistoryItem(const AlarmHistoryItem& item) {
  json::object o{{"name", item.alarm_name},
                 {"alarmType", std::string(AlarmTypeName(item.alarm_type))},
                 {"ts", absl::ToUnixMicros(item.timestamp)},
                 {"type", std::string(HistoryItemTypeName(item.type))},
                 {"summary", item.summary},
                 {"data", item.data}};
  return json::serialize(o);
}

absl::StatusOr<AlarmHistoryItem> DecodeHistoryItem(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !v.is_object()) return absl::DataLossError("cw_alarm_history: row does not decode");
  Reader r{v.get_object()};
  AlarmHistoryItem item;
  item.alarm_name = r.Str("name");
  item.alarm_type =
      r.Str("alarmType") == "CompositeAlarm" ? AlarmType::kCompositeAlarm : AlarmType::kMetricAlarm;
  item.timestamp = r.Time("ts");
  auto type = ParseHistoryItemType(r.Str("type"));
  if (!type) return absl::DataLossError("cw_alarm_history: bad item type");
  item.type = *type;
  item.summary = r.Str("summary");
  item.data = r.Str("data");
  if (!r.ok) return absl::DataLossError("cw_alarm_history: bad item");
  return item;
}

}  // namespace klaxon::alarms
