#include "alarms/alarm_service.h"

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <limits>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "alarms/actions.h"
#include "alarms/alarm_events.h"
#include "alarms/alarm_rule.h"
#include "alarms/metric_math.h"
#include "boost/json.hpp"
#include "common/ids.h"
#include "common/status.h"
#include "events/publisher.h"
#include "incidents/incident_service.h"
#include "opsitems/ops_item_service.h"
#include "outbox/outbox.h"

namespace klaxon::alarms {
namespace {

namespace json = boost::json;

constexpr char kAlarmsTable[] = "cw_alarms";
constexpr char kHistoryTable[] = "cw_alarm_history";
constexpr char kHistoryByNameTable[] = "cw_alarm_history_name";
constexpr char kMetaTable[] = "cw_meta";

absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

const AlarmCommon& Common(const AnyAlarm& a) {
  return std::visit([](const auto& x) -> const AlarmCommon& { return x; }, a);
}
AlarmCommon& MutableCommon(AnyAlarm& a) {
  return std::visit([](auto& x) -> AlarmCommon& { return x; }, a);
}
AlarmType TypeOf(const AnyAlarm& a) {
  return std::holds_alternative<MetricAlarm>(a) ? AlarmType::kMetricAlarm
                                                : AlarmType::kCompositeAlarm;
}

absl::Status NotFound(const std::string& name) {
  return AwsError(absl::StatusCode::kNotFound, "ResourceNotFound",
                  absl::StrCat("Alarm ", name, " not found"));
}

absl::Status BadToken() {
  return AwsError(absl::StatusCode::kInvalidArgument, "InvalidNextToken",
                  "The value of the NextToken parameter is invalid.");
}

bool Retryable(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kAborted:
      return true;
    default:
      return false;
  }
}

std::string InvertedMicros(absl::Time t) {
  return absl::StrFormat("%019d", std::numeric_limits<int64_t>::max() - absl::ToUnixMicros(t));
}

// Unique suffix of a history row id: items with the same timestamp sort newest first too.
std::string HistoryUniq() {
  static std::atomic<uint64_t> seq{0};
  return absl::StrCat(Hex16(~seq.fetch_add(1)), RandomHex(4));
}

bool ValidPeriod(int period) {
  return period == 10 || period == 30 || (period > 0 && period % 60 == 0);
}

const std::vector<std::string>& ActionsFor(const AlarmCommon& a, StateValue s) {
  switch (s) {
    case StateValue::kOk:
      return a.ok_actions;
    case StateValue::kAlarm:
      return a.alarm_actions;
    case StateValue::kInsufficientData:
      return a.insufficient_data_actions;
  }
  return a.alarm_actions;
}

json::value ReasonDataJson(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text->data(), text->size()), ec);
  if (ec) return json::string(*text);
  return v;
}

json::object HistoryState(const AlarmCommon& a) {
  json::object o{{"stateValue", std::string((StateName(a.state)))},
                 {"stateReason", a.state_reason}};
  if (a.state_reason_data) o["stateReasonData"] = ReasonDataJson(a.state_reason_data);
  return o;
}

// History data of configuration items: the configuration as the event shows it.
std::string ConfigHistoryData(const char* type, const char* key, const AnyAlarm& alarm,
                              const AnyAlarm* previous) {
  json::object detail = ConfigurationChangeDetail(alarm, "update", previous);
  json::object o{{"type", type}, {"version", "1.0"}, {key, detail["configuration"]}};
  if (previous != nullptr) o["originalUpdatedFields"] = detail["previousConfiguration"];
  return SerializeJson(o);
}

}  // namespace

AlarmService::AlarmService(storage::Store& store, Clock& clock, AlarmServiceOptions options,
                           AlarmDependencies deps)
    : store_(store), clock_(clock), options_(std::move(options)), deps_(deps) {}

std::string AlarmService::AlarmRowId(const std::string& name) const {
  return absl::StrCat(options_.region, "/", name);
}

AlarmService::AlarmPtr AlarmService::Find(const std::string& account,
                                          const std::string& name) const {
  MutexLock lock(&mu_);
  auto a = registry_.find(account);
  if (a == registry_.end()) return nullptr;
  auto it = a->second.find(name);
  return it == a->second.end() ? nullptr : it->second;
}

void AlarmService::ApplyRegistry(const std::vector<RegistryUpdate>& updates) {
  MutexLock lock(&mu_);
  for (const RegistryUpdate& u : updates) {
    if (u.alarm) {
      registry_[u.account][u.name] = u.alarm;
    } else {
      auto a = registry_.find(u.account);
      if (a != registry_.end()) a->second.erase(u.name);
    }
  }
}

absl::Status AlarmService::Load() {
  MutexLock write_lock(&write_mu_);
  std::vector<std::string> accounts;
  const std::string meta_prefix = absl::StrCat(options_.region, "/alarm-account/");
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    return txn.Scan(kMetaTable, "", meta_prefix, "", 0, [&](std::string_view id, std::string_view) {
      accounts.emplace_back(id.substr(meta_prefix.size()));
      return true;
    });
  }));
  std::vector<RegistryUpdate> updates;
  const std::string prefix = options_.region + "/";
  for (const std::string& account : accounts) {
    known_accounts_.insert(account);
    absl::Status decode;
    KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
      return txn.Scan(
          kAlarmsTable, account, prefix, "", 0, [&](std::string_view, std::string_view value) {
            auto alarm = DecodeAlarm(value);
            if (!alarm.ok()) {
              decode = alarm.status();
              return false;
            }
            std::string name = Common(*alarm).name;
            updates.push_back({account, name, std::make_shared<const AnyAlarm>(std::move(*alarm))});
            return true;
          });
    }));
    KLAXON_RETURN_IF_ERROR(decode);
  }
  ApplyRegistry(updates);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Validation

absl::Status AlarmService::ValidateCommon(const Scope& scope, const AlarmCommon& alarm) const {
  for (const auto* list :
       {&alarm.ok_actions, &alarm.alarm_actions, &alarm.insufficient_data_actions}) {
    for (const std::string& arn : *list) {
      KLAXON_RETURN_IF_ERROR(ParseAlarmAction(arn, options_.region, scope.account_id).status());
    }
  }
  for (const auto& [key, value] : alarm.tags) {
    if (absl::StartsWith(Absl(key), "aws:")) {
      return ValidationError("Tag keys beginning with 'aws:' are reserved.");
    }
  }
  return absl::OkStatus();
}

absl::Status AlarmService::ValidateMetricAlarm(const Scope& scope, const MetricAlarm& a) const {
  KLAXON_RETURN_IF_ERROR(ValidateCommon(scope, a));
  const bool single = a.metric.has_value();
  const bool math = !a.metrics.empty();
  if (single && math) {
    return ValidationError(
        "Metrics list and MetricName are mutually exclusive: specify either "
        "MetricName with Namespace, or Metrics.");
  }
  if (!single && !math) {
    return ValidationError("Either MetricName (with Namespace) or Metrics must be specified.");
  }
  if (a.threshold_metric_id) {
    return ValidationError(
        "Anomaly detection alarms (ThresholdMetricId) are not supported by "
        "klaxon.");
  }
  if (!a.threshold) {
    return ValidationError("Threshold is required for an alarm with ComparisonOperator " +
                           std::string((ComparisonName(a.comparison))) + ".");
  }
  if (a.evaluation_periods < 1) return ValidationError("EvaluationPeriods must be at least 1.");
  if (a.datapoints_to_alarm &&
      (*a.datapoints_to_alarm < 1 || *a.datapoints_to_alarm > a.evaluation_periods)) {
    return ValidationError("DatapointsToAlarm must be between 1 and EvaluationPeriods.");
  }
  if (a.treat_missing_data && !ParseTreatMissing(*a.treat_missing_data)) {
    return ValidationError(
        "TreatMissingData must be one of breaching, notBreaching, ignore, "
        "missing.");
  }
  if (a.evaluate_low_sample_count_percentile &&
      *a.evaluate_low_sample_count_percentile != "evaluate" &&
      *a.evaluate_low_sample_count_percentile != "ignore") {
    return ValidationError("EvaluateLowSampleCountPercentile must be evaluate or ignore.");
  }
  int period = 0;
  if (single) {
    if (a.metric->ns.empty()) return ValidationError("Namespace is required with MetricName.");
    if (a.statistic.has_value() == a.extended_statistic.has_value()) {
      return ValidationError("Exactly one of Statistic or ExtendedStatistic must be specified.");
    }
    if (a.extended_statistic) {
      KLAXON_ASSIGN_OR_RETURN(Stat stat, ParseStat(*a.extended_statistic));
      if (stat.standard()) {
        return ValidationError(absl::StrCat("ExtendedStatistic ", *a.extended_statistic,
                                            " is a standard statistic: use Statistic."));
      }
    }
    if (!a.period) return ValidationError("Period is required with MetricName.");
    period = *a.period;
  } else {
    if (a.statistic || a.extended_statistic || a.period || a.unit) {
      return ValidationError(
          "Statistic, ExtendedStatistic, Period and Unit cannot be specified "
          "with Metrics.");
    }
    if (auto s = ValidateAlarmQueries(a.metrics); !s.ok())
      return ValidationError(std::string(s.message()));
    for (const MetricDataQuery& q : a.metrics) {
      if (q.metric_stat) {
        if (auto s = ParseStat(q.metric_stat->stat); !s.ok())
          return ValidationError(std::string(s.status().message()));
        if (!ValidPeriod(q.metric_stat->period)) {
          return ValidationError("The period of a metric must be 10, 30 or a multiple of 60.");
        }
      }
      if (q.account_id && *q.account_id != scope.account_id) {
        return ValidationError("Cross-account metric math alarms are not supported by klaxon.");
      }
    }
    period = a.EvaluationPeriod();
  }
  if (!ValidPeriod(period)) return ValidationError("Period must be 10, 30 or a multiple of 60.");
  const int64_t span = static_cast<int64_t>(period) * a.evaluation_periods;
  if ((period < 3600 && span > 86400) || span > 604800) {
    return ValidationError(
        "The evaluation period (Period * EvaluationPeriods) must not exceed "
        "one day (seven days for periods of an hour or more).");
  }
  if (a.evaluate_low_sample_count_percentile && single &&
      !(a.extended_statistic && absl::StartsWith(Absl(*a.extended_statistic), "p"))) {
    return ValidationError(
        "EvaluateLowSampleCountPercentile applies to percentile statistics "
        "only.");
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Writes

absl::Status AlarmService::WriteHistoryInTxn(storage::WriteTxn& txn, const std::string& account,
                                             const AlarmHistoryItem& item,
                                             const std::string& uniq) const {
  std::string id = absl::StrCat(options_.region, "/", InvertedMicros(item.timestamp), "/", uniq);
  std::string by_name =
      absl::StrCat(options_.region, "/", absl::StrFormat("%03d", item.alarm_name.size()), "/",
                   item.alarm_name, "/", InvertedMicros(item.timestamp), "/", uniq);
  KLAXON_RETURN_IF_ERROR(txn.Put(kHistoryTable, account, id, EncodeHistoryItem(item)));
  return txn.Put(kHistoryByNameTable, account, by_name, id);
}

absl::Status AlarmService::PublishInTxn(storage::WriteTxn& txn, const std::string& account,
                                        const std::string& arn, const char* detail_type,
                                        const std::string& detail_json, absl::Time time,
                                        std::string event_id) const {
  if (deps_.events == nullptr) return absl::OkStatus();
  events::ServiceEvent event;
  event.id = std::move(event_id);
  event.account_id = account;
  event.region = options_.region;
  event.source = kCloudWatchSource;
  event.detail_type = detail_type;
  event.detail_json = detail_json;
  event.resources = {arn};
  event.time = time;
  return deps_.events->PublishInTxn(txn, event);
}

absl::Status AlarmService::WriteConfiguration(const Scope& scope, const AnyAlarm* previous,
                                              const AnyAlarm* next) {
  const AnyAlarm& subject = next ? *next : *previous;
  const AlarmCommon& common = Common(subject);
  const absl::Time now = clock_.Now();
  const bool new_account = !known_accounts_.count(scope.account_id);
  AlarmHistoryItem item;
  item.alarm_name = common.name;
  item.alarm_type = TypeOf(subject);
  item.timestamp = now;
  item.type = HistoryItemType::kConfigurationUpdate;
  std::string operation;
  if (previous == nullptr) {
    operation = "create";
    item.summary = absl::StrCat("Alarm \"", common.name, "\" created");
    item.data = ConfigHistoryData("Create", "createdAlarm", subject, nullptr);
  } else if (next == nullptr) {
    operation = "delete";
    item.summary = absl::StrCat("Alarm \"", common.name, "\" deleted");
    item.data = ConfigHistoryData("Delete", "deletedAlarm", subject, nullptr);
  } else {
    operation = "update";
    item.summary = absl::StrCat("Alarm \"", common.name, "\" updated");
    item.data = ConfigHistoryData("Update", "updatedAlarm", *next, previous);
  }
  json::object detail =
      ConfigurationChangeDetail(subject, operation, next && previous ? previous : nullptr);
  KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    if (new_account) {
      KLAXON_RETURN_IF_ERROR(txn.Put(
          kMetaTable, "", absl::StrCat(options_.region, "/alarm-account/", scope.account_id), ""));
    }
    if (next) {
      KLAXON_RETURN_IF_ERROR(
          txn.Put(kAlarmsTable, scope.account_id, AlarmRowId(common.name), EncodeAlarm(*next)));
    } else {
      KLAXON_RETURN_IF_ERROR(txn.Delete(kAlarmsTable, scope.account_id, AlarmRowId(common.name)));
    }
    KLAXON_RETURN_IF_ERROR(WriteHistoryInTxn(txn, scope.account_id, item, HistoryUniq()));
    return PublishInTxn(txn, scope.account_id, common.arn, kConfigurationChangeDetailType,
                        SerializeJson(detail), now);
  }));
  known_accounts_.insert(scope.account_id);
  ApplyRegistry(
      {{scope.account_id, common.name, next ? std::make_shared<const AnyAlarm>(*next) : nullptr}});
  return absl::OkStatus();
}

absl::Status AlarmService::PutMetricAlarm(const Scope& scope, MetricAlarm alarm) {
  if (alarm.metric) alarm.metric->Normalize();
  for (auto& q : alarm.metrics) {
    if (q.metric_stat) q.metric_stat->metric.Normalize();
  }
  KLAXON_RETURN_IF_ERROR(ValidateMetricAlarm(scope, alarm));
  MutexLock write_lock(&write_mu_);
  AlarmPtr previous = Find(scope.account_id, alarm.name);
  if (previous && !std::holds_alternative<MetricAlarm>(*previous)) {
    return ValidationError(absl::StrCat("The alarm ", alarm.name, " exists as a composite alarm."));
  }
  const absl::Time now = clock_.Now();
  alarm.arn = AlarmArn(options_.region, scope.account_id, alarm.name);
  alarm.configuration_updated = now;
  alarm.event_metric_id = NewUuid();
  if (previous) {
    const AlarmCommon& old = Common(*previous);
    alarm.state = old.state;
    alarm.state_reason = old.state_reason;
    alarm.state_reason_data = old.state_reason_data;
    alarm.state_updated = old.state_updated;
    alarm.state_transitioned = old.state_transitioned;
    alarm.tags = old.tags;  // tags of PutMetricAlarm are ignored on update
    alarm.version = old.version + 1;
  } else {
    size_t count = 0;
    {
      MutexLock lock(&mu_);
      auto it = registry_.find(scope.account_id);
      if (it != registry_.end()) count = it->second.size();
    }
    if (count >= options_.max_alarms_per_account) {
      return AwsError(absl::StatusCode::kResourceExhausted, "LimitExceededFault",
                      absl::StrCat("The maximum number of alarms (",
                                   options_.max_alarms_per_account, ") has been reached."));
    }
    alarm.state = StateValue::kInsufficientData;
    alarm.state_reason = "Unchecked: Initial alarm creation";
    alarm.state_reason_data.reset();
    alarm.state_updated = now;
    alarm.state_transitioned = now;
    alarm.version = 1;
  }
  AnyAlarm next(std::move(alarm));
  return WriteConfiguration(scope, previous.get(), &next);
}

absl::Status AlarmService::PutCompositeAlarm(const Scope& scope, CompositeAlarm alarm) {
  KLAXON_RETURN_IF_ERROR(ValidateCommon(scope, alarm));
  auto rule = AlarmRule::Parse(alarm.alarm_rule);
  if (!rule.ok()) return ValidationError(std::string(rule.status().message()));
  {
    MutexLock write_lock(&write_mu_);
    AlarmPtr previous = Find(scope.account_id, alarm.name);
    if (previous && !std::holds_alternative<CompositeAlarm>(*previous)) {
      return ValidationError(absl::StrCat("The alarm ", alarm.name, " exists as a metric alarm."));
    }
    // References must exist, and the new rule must not close a cycle through other composites.
    std::vector<std::string> children;
    for (const std::string& ref : rule->references()) {
      auto name = ResolveAlarmReference(ref, options_.region, scope.account_id);
      if (!name) {
        return ValidationError(absl::StrCat("Error in AlarmRule: ", ref,
                                            " is not an alarm of this account and Region."));
      }
      if (*name == alarm.name) {
        return ValidationError("Error in AlarmRule: an alarm cannot reference itself.");
      }
      if (!Find(scope.account_id, *name)) {
        return ValidationError(
            absl::StrCat("Error in AlarmRule: alarm ", *name, " does not exist."));
      }
      children.push_back(*name);
    }
    {
      std::set<std::string> seen;
      std::vector<std::string> stack = children;
      while (!stack.empty()) {
        std::string name = stack.back();
        stack.pop_back();
        if (name == alarm.name) {
          return ValidationError(
              "Error in AlarmRule: the rule creates a cycle of composite "
              "alarms.");
        }
        if (!seen.insert(name).second) continue;
        AlarmPtr child = Find(scope.account_id, name);
        if (!child || !std::holds_alternative<CompositeAlarm>(*child)) continue;
        auto child_rule = AlarmRule::Parse(std::get<CompositeAlarm>(*child).alarm_rule);
        if (!child_rule.ok()) continue;
        for (const std::string& ref : child_rule->references()) {
          if (auto n = ResolveAlarmReference(ref, options_.region, scope.account_id)) {
            stack.push_back(*n);
          }
        }
      }
    }
    if (alarm.actions_suppressor) {
      auto name =
          ResolveAlarmReference(*alarm.actions_suppressor, options_.region, scope.account_id);
      if (!name || !Find(scope.account_id, *name)) {
        return ValidationError(
            absl::StrCat("ActionsSuppressor ", *alarm.actions_suppressor, " does not exist."));
      }
    }
    const absl::Time now = clock_.Now();
    alarm.arn = AlarmArn(options_.region, scope.account_id, alarm.name);
    alarm.configuration_updated = now;
    if (previous) {
      const auto& old = std::get<CompositeAlarm>(*previous);
      alarm.state = old.state;
      alarm.state_reason = old.state_reason;
      alarm.state_reason_data = old.state_reason_data;
      alarm.state_updated = old.state_updated;
      alarm.state_transitioned = old.state_transitioned;
      alarm.actions_suppressed_by = old.actions_suppressed_by;
      alarm.actions_suppressed_reason = old.actions_suppressed_reason;
      alarm.tags = old.tags;
      alarm.version = old.version + 1;
    } else {
      size_t count = 0;
      {
        MutexLock lock(&mu_);
        auto it = registry_.find(scope.account_id);
        if (it != registry_.end()) count = it->second.size();
      }
      if (count >= options_.max_alarms_per_account) {
        return AwsError(absl::StatusCode::kResourceExhausted, "LimitExceededFault",
                        absl::StrCat("The maximum number of alarms (",
                                     options_.max_alarms_per_account, ") has been reached."));
      }
      alarm.state = StateValue::kInsufficientData;
      alarm.state_reason = "Unchecked: Initial alarm creation";
      alarm.state_updated = now;
      alarm.state_transitioned = now;
      alarm.version = 1;
    }
    AnyAlarm next(std::move(alarm));
    KLAXON_RETURN_IF_ERROR(WriteConfiguration(scope, previous.get(), &next));
    KLAXON_RETURN_IF_ERROR(EvaluateCompositesLocked({scope.account_id}));
  }
  return absl::OkStatus();
}

absl::Status AlarmService::DeleteAlarms(const Scope& scope, const std::vector<std::string>& names) {
  MutexLock write_lock(&write_mu_);
  std::vector<AlarmPtr> found;
  for (const std::string& name : names) {
    AlarmPtr a = Find(scope.account_id, name);
    if (!a) return NotFound(name);
    found.push_back(std::move(a));
  }
  for (const AlarmPtr& a : found) {
    KLAXON_RETURN_IF_ERROR(WriteConfiguration(scope, a.get(), nullptr));
  }
  if (!found.empty()) KLAXON_RETURN_IF_ERROR(EvaluateCompositesLocked({scope.account_id}));
  return absl::OkStatus();
}

absl::Status AlarmService::SetActionsEnabled(const Scope& scope,
                                             const std::vector<std::string>& names, bool enabled) {
  MutexLock write_lock(&write_mu_);
  for (const std::string& name : names) {
    AlarmPtr a = Find(scope.account_id, name);
    if (!a || Common(*a).actions_enabled == enabled) continue;
    AnyAlarm next = *a;
    AlarmCommon& c = MutableCommon(next);
    c.actions_enabled = enabled;
    c.configuration_updated = clock_.Now();
    KLAXON_RETURN_IF_ERROR(WriteConfiguration(scope, a.get(), &next));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Transitions

absl::StatusOr<AnyAlarm> AlarmService::TransitionInTxn(
    storage::WriteTxn& txn, const std::string& account, const AnyAlarm& current, StateValue to,
    const std::string& reason, const std::optional<std::string>& reason_data, absl::Time now,
    std::vector<PendingAction>& actions, bool& enqueued) const {
  AnyAlarm next = current;
  AlarmCommon& c = MutableCommon(next);
  const AlarmCommon& old = Common(current);
  const bool changed = old.state != to;
  c.state = to;
  c.state_reason = reason;
  c.state_reason_data = reason_data;
  c.state_updated = now;
  if (changed) c.state_transitioned = now;

  // Composite actions suppressor: suppressed while the suppressor alarm is in ALARM.
  bool suppressed = false;
  if (auto* comp = std::get_if<CompositeAlarm>(&next)) {
    comp->actions_suppressed_by.reset();
    comp->actions_suppressed_reason.reset();
    if (comp->actions_suppressor) {
      auto name = ResolveAlarmReference(*comp->actions_suppressor, options_.region, account);
      AlarmPtr suppressor = name ? Find(account, *name) : nullptr;
      if (suppressor && Common(*suppressor).state == StateValue::kAlarm) {
        suppressed = true;
        comp->actions_suppressed_by = "Alarm";
        comp->actions_suppressed_reason = "Actions suppressed by Alarm";
      }
    }
  }

  KLAXON_RETURN_IF_ERROR(txn.Put(kAlarmsTable, account, AlarmRowId(c.name), EncodeAlarm(next)));
  if (!changed) return next;

  AlarmHistoryItem item;
  item.alarm_name = c.name;
  item.alarm_type = TypeOf(next);
  item.timestamp = now;
  item.type = HistoryItemType::kStateUpdate;
  item.summary =
      absl::StrCat("Alarm updated from ", Absl(StateName(old.state)), " to ", Absl(StateName(to)));
  item.data = SerializeJson(json::object{
      {"version", "1.0"}, {"oldState", HistoryState(old)}, {"newState", HistoryState(c)}});
  KLAXON_RETURN_IF_ERROR(WriteHistoryInTxn(txn, account, item, HistoryUniq()));

  const std::vector<std::string>& arns = ActionsFor(c, to);
  const bool act = c.actions_enabled && !suppressed && !arns.empty();
  if (deps_.events == nullptr && !act) return next;
  const EventState previous_state = CurrentEventState(current);
  const EventState new_state = CurrentEventState(next);
  json::object detail = StateChangeDetail(next, previous_state, new_state);
  const std::string event_id = NewUuid();
  KLAXON_RETURN_IF_ERROR(
      PublishInTxn(txn, account, c.arn, kStateChangeDetailType, SerializeJson(detail), now,
                   event_id));  // the same id as the incident's rawData below, as on AWS
  if (!act) return next;
  // The event as EventBridge would deliver it: the incident's rawData.
  std::string raw =
      EventJson(event_id, kStateChangeDetailType, account, options_.region, now, c.arn, detail);
  if (raw.size() > 10000) {
    // rawData is limited to 10000 characters: drop the reason data, then the previous state.
    json::object slim = detail;
    slim["state"].as_object().erase("reasonData");
    slim["previousState"].as_object().erase("reasonData");
    raw = EventJson(event_id, kStateChangeDetailType, account, options_.region, now, c.arn, slim);
    if (raw.size() > 10000) {
      slim.erase("previousState");
      raw = EventJson(event_id, kStateChangeDetailType, account, options_.region, now, c.arn, slim);
    }
  }
  json::array resources;
  for (const std::string& r : InvolvedResources(next, options_.region, account)) {
    resources.emplace_back(json::string(r));
  }
  for (const std::string& arn : arns) {
    json::object payload{{"region", options_.region},
                         {"alarmName", c.name},
                         {"alarmArn", c.arn},
                         {"alarmType", std::string((AlarmTypeName(TypeOf(next))))},
                         {"action", arn},
                         {"state", std::string((StateName(to)))},
                         {"time", absl::ToUnixMicros(now)},
                         {"rawData", raw},
                         {"resources", resources}};
    std::string text = json::serialize(payload);
    if (deps_.outbox != nullptr) {
      KLAXON_RETURN_IF_ERROR(
          deps_.outbox->EnqueueInTxn(txn, account, kAlarmActionKind, text).status());
      enqueued = true;
    } else {
      actions.push_back({account, std::move(text)});
    }
  }
  return next;
}

absl::StatusOr<int> AlarmService::CommitTransitions(const std::vector<Change>& changes) {
  if (changes.empty()) return 0;
  const absl::Time now = clock_.Now();
  std::vector<PendingAction> actions;
  std::vector<RegistryUpdate> updates;
  bool enqueued = false;
  KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    actions.clear();
    updates.clear();
    enqueued = false;
    for (const Change& ch : changes) {
      KLAXON_ASSIGN_OR_RETURN(AnyAlarm next,
                              TransitionInTxn(txn, ch.account, *ch.current, ch.to, ch.reason,
                                              ch.reason_data, now, actions, enqueued));
      std::string name = Common(next).name;
      updates.push_back(
          {ch.account, std::move(name), std::make_shared<const AnyAlarm>(std::move(next))});
    }
    return absl::OkStatus();
  }));
  ApplyRegistry(updates);
  if (enqueued) deps_.outbox->Notify();
  std::function<void(const std::string&, const std::string&, StateValue)> observer;
  {
    MutexLock lock(&observer_mu_);
    observer = observer_;
  }
  if (observer) {
    for (size_t i = 0; i < changes.size(); ++i) {
      if (Common(*changes[i].current).state != changes[i].to) {
        observer(changes[i].account, updates[i].name, changes[i].to);
      }
    }
  }
  RunDirect(std::move(actions));
  return static_cast<int>(changes.size());
}

void AlarmService::RunDirect(std::vector<PendingAction> actions) {
  for (const PendingAction& a : actions) {
    // Best effort without an outbox: one attempt, failures are recorded in the history.
    (void)RunAction(NewUuid(), a.payload);
  }
}

absl::Status AlarmService::SetAlarmState(const Scope& scope, const std::string& name,
                                         StateValue state, const std::string& reason,
                                         const std::optional<std::string>& reason_data) {
  if (reason_data) {
    boost::system::error_code ec;
    json::value v = json::parse(json::string_view(reason_data->data(), reason_data->size()), ec);
    if (ec) {
      return AwsError(absl::StatusCode::kInvalidArgument, "InvalidFormatFault",
                      "StateReasonData is not valid JSON.");
    }
  }
  MutexLock write_lock(&write_mu_);
  AlarmPtr current = Find(scope.account_id, name);
  if (!current) return NotFound(name);
  KLAXON_RETURN_IF_ERROR(
      CommitTransitions({Change{scope.account_id, current, state, reason, reason_data}}).status());
  return EvaluateCompositesLocked({scope.account_id});
}

absl::StatusOr<int> AlarmService::ApplyTransitions(const std::vector<Transition>& transitions,
                                                   size_t batch) {
  MutexLock write_lock(&write_mu_);
  std::vector<std::vector<Change>> batches(1);
  std::set<std::string> accounts;
  for (const Transition& t : transitions) {
    AlarmPtr current = Find(t.account, t.name);
    if (!current || Common(*current).version != t.version || Common(*current).state == t.to) {
      continue;
    }
    if (batches.back().size() >= std::max<size_t>(batch, 1)) batches.emplace_back();
    batches.back().push_back(Change{t.account, current, t.to, t.reason, t.reason_data});
    accounts.insert(t.account);
  }
  int applied = 0;
  for (const std::vector<Change>& changes : batches) {
    KLAXON_ASSIGN_OR_RETURN(int n, CommitTransitions(changes));
    applied += n;
  }
  if (!accounts.empty()) KLAXON_RETURN_IF_ERROR(EvaluateCompositesLocked(accounts));
  return applied;
}

absl::Status AlarmService::EvaluateComposites(const std::set<std::string>& accounts) {
  MutexLock write_lock(&write_mu_);
  return EvaluateCompositesLocked(accounts);
}

absl::Status AlarmService::EvaluateCompositesLocked(const std::set<std::string>& accounts) {
  for (int pass = 0; pass < options_.max_composite_passes; ++pass) {
    std::vector<Change> changes;
    {
      MutexLock lock(&mu_);
      for (const auto& entry : registry_) {
        const std::string& account = entry.first;
        const std::map<std::string, AlarmPtr>& alarms = entry.second;
        if (!accounts.empty() && !accounts.count(account)) continue;
        for (const auto& [name, alarm] : alarms) {
          const auto* comp = std::get_if<CompositeAlarm>(alarm.get());
          if (comp == nullptr) continue;
          auto rule = AlarmRule::Parse(comp->alarm_rule);
          if (!rule.ok()) continue;
          const AlarmCommon* trigger = nullptr;
          json::array triggering;
          auto state_of = [&](const std::string& ref) -> std::optional<StateValue> {
            auto n = ResolveAlarmReference(ref, options_.region, account);
            if (!n) return std::nullopt;
            auto it = alarms.find(*n);
            if (it == alarms.end()) return std::nullopt;
            return Common(*it->second).state;
          };
          const bool value = rule->Evaluate(state_of);
          const StateValue to = value ? StateValue::kAlarm : StateValue::kOk;
          if (comp->state == to) continue;
          for (const std::string& ref : rule->references()) {
            auto n = ResolveAlarmReference(ref, options_.region, account);
            if (!n) continue;
            auto it = alarms.find(*n);
            if (it == alarms.end()) continue;
            const AlarmCommon& child = Common(*it->second);
            if (trigger == nullptr || child.state_updated > trigger->state_updated) {
              trigger = &child;
            }
            triggering.push_back(json::object{
                {"arn", child.arn},
                {"state", json::object{{"value", std::string((StateName(child.state)))},
                                       {"timestamp", FormatAwsMillis(child.state_updated)}}}});
          }
          std::string reason;
          if (comp->state_reason == "Unchecked: Initial alarm creation" || trigger == nullptr) {
            reason = absl::StrCat(comp->arn, " was created and its alarm rule evaluates to ",
                                  Absl(StateName(to)));
          } else {
            reason =
                absl::StrCat(trigger->arn, " transitioned to ", Absl(StateName(trigger->state)),
                             " at ", FormatCompositeDate(trigger->state_updated));
          }
          changes.push_back(Change{account, alarm, to, reason,
                                   SerializeJson(json::object{{"triggeringAlarms", triggering}})});
        }
      }
    }
    if (changes.empty()) return absl::OkStatus();
    KLAXON_RETURN_IF_ERROR(CommitTransitions(changes).status());
  }
  return absl::OkStatus();
}

void AlarmService::SetTransitionObserver(
    std::function<void(const std::string&, const std::string&, StateValue)> observer) {
  MutexLock lock(&observer_mu_);
  observer_ = std::move(observer);
}

// ---------------------------------------------------------------------------------------------
// Actions

absl::Status AlarmService::RecordActionHistory(const std::string& entry_id,
                                               const std::string& account, const std::string& name,
                                               AlarmType type, absl::Time transition_time,
                                               const std::string& action, bool ok,
                                               const std::string& detail) {
  AlarmHistoryItem item;
  item.alarm_name = name;
  item.alarm_type = type;
  item.timestamp = transition_time;
  item.type = HistoryItemType::kAction;
  const absl::Time now = clock_.Now();
  json::object data{{"actionState", ok ? "Succeeded" : "Failed"},
                    {"stateUpdateTimestamp", absl::ToUnixMillis(transition_time)},
                    {"notificationResource", action}};
  if (ok) {
    item.summary = absl::StrCat("Successfully executed action ", action);
    data["publishedMessage"] = detail;
  } else {
    item.summary = absl::StrCat("Failed to execute action ", action);
    data["error"] = detail;
  }
  if (item.summary.size() > 255) item.summary.resize(255);
  data["executedTimestamp"] = absl::ToUnixMillis(now);
  item.data = SerializeJson(data);
  // The uniq part is the outbox entry id: a redelivery rewrites the same row.
  std::string uniq = absl::StrCat("a-", entry_id);
  return store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    return WriteHistoryInTxn(txn, account, item, uniq);
  });
}

absl::Status AlarmService::RunAction(const std::string& entry_id, const std::string& payload) {
  boost::system::error_code ec;
  json::value v = json::parse(payload, ec);
  const json::object* p = ec ? nullptr : v.if_object();
  auto str = [&](const char* key) -> std::string {
    const json::value* x = p ? p->if_contains(key) : nullptr;
    return x && x->is_string() ? std::string(x->get_string()) : std::string();
  };
  if (p == nullptr) return absl::InvalidArgumentError("alarm action: payload does not decode");
  const std::string alarm_arn = str("alarmArn");
  const std::string name = str("alarmName");
  const std::string action_arn = str("action");
  const std::string region = str("region");
  const AlarmType type =
      str("alarmType") == "CompositeAlarm" ? AlarmType::kCompositeAlarm : AlarmType::kMetricAlarm;
  const json::value* time_v = p->if_contains("time");
  const absl::Time when =
      absl::FromUnixMicros(time_v && time_v->is_number() ? time_v->to_number<int64_t>()
                                                         : absl::ToUnixMicros(clock_.Now()));
  // arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME
  std::string account;
  {
    std::vector<std::string> parts;
    std::string_view rest(alarm_arn);
    for (int i = 0; i < 5; ++i) {
      size_t colon = rest.find(':');
      if (colon == std::string_view::npos) break;
      parts.emplace_back(rest.substr(0, colon));
      rest.remove_prefix(colon + 1);
    }
    if (parts.size() == 5) account = parts[4];
  }
  if (account.empty()) return absl::InvalidArgumentError("alarm action: bad alarm ARN");

  auto parsed = ParseAlarmAction(action_arn, region, account);
  absl::Status result;
  std::string detail;
  if (!parsed.ok()) {
    result = parsed.status();
  } else if (parsed->kind == AlarmAction::Kind::kStartIncident) {
    if (deps_.incidents == nullptr) {
      result = absl::FailedPreconditionError("Incident Manager is not available on this node");
    } else {
      incidents::StartIncidentRequest req;
      req.response_plan_arn = action_arn;
      req.client_token = entry_id.substr(0, 128);
      incidents::TriggerDetails trigger;
      trigger.source = kCloudWatchSource;
      trigger.trigger_arn = alarm_arn;
      trigger.timestamp = when;
      trigger.raw_data = str("rawData");
      req.trigger_details = std::move(trigger);
      if (const json::value* res = p->if_contains("resources"); res && res->is_array()) {
        for (const auto& r : res->get_array()) {
          if (!r.is_string()) continue;
          incidents::RelatedItem item;
          item.identifier.type = "INVOLVED_RESOURCE";
          item.identifier.value.arn = std::string(r.get_string());
          req.related_items.push_back(std::move(item));
        }
      }
      incidents::RelatedItem metric;
      metric.identifier.type = "METRIC";
      metric.identifier.value.arn = alarm_arn;
      metric.title = name;
      req.related_items.push_back(std::move(metric));
      req.dedupe_key = alarm_arn;
      req.clip_related_items = true;  // an alarm with many dimensions never fails the start
      req.source.created_by = absl::StrCat(
          "arn:aws:sts::", account,
          ":assumed-role/AWSServiceRoleForCloudWatchAlarms_ActionSSMIncidents/CloudWatchAlarms");
      req.source.invoked_by = "cloudwatch.amazonaws.com";
      req.source.source = kCloudWatchSource;
      req.source.resource_arn = alarm_arn;
      incidents::Scope scope{account, region, req.source.created_by};
      auto started = deps_.incidents->Start(scope, req);
      if (started.ok()) {
        detail = started->incident_record_arn;
      } else {
        result = started.status();
      }
    }
  } else {
    if (deps_.ops_items == nullptr) {
      result = absl::FailedPreconditionError("OpsCenter is not available on this node");
    } else {
      opsitems::Scope scope{account, region,
                            absl::StrCat("arn:aws:sts::", account,
                                         ":assumed-role/AWSServiceRoleForCloudWatchAlarms/"
                                         "CloudWatchAlarms")};
      opsitems::NewOpsItem item;
      item.title = absl::StrCat("CloudWatch alarm - '", name, "' is in ", str("state"), " state");
      if (item.title.size() > 1024) item.title.resize(1024);
      item.description = absl::StrCat("CloudWatch alarm ", alarm_arn, " changed to ", str("state"),
                                      " at ", FormatAwsMillis(when), ".");
      item.source = "CloudWatch Alarm";
      item.severity = parsed->severity;
      if (parsed->category) item.category = *parsed->category;
      item.operational_data[opsitems::kResourcesKey] = opsitems::OpsItemDataValue{
          json::serialize(json::array{json::object{{"arn", alarm_arn}}}), "SearchableString"};
      item.operational_data[opsitems::kDedupKey] = opsitems::OpsItemDataValue{
          json::serialize(json::object{{"dedupString", alarm_arn}}), "SearchableString"};
      item.operational_data["/cloudwatch/alarm/event"] =
          opsitems::OpsItemDataValue{str("rawData").substr(0, 20000), "String"};
      auto created = deps_.ops_items->Create(scope, item);
      if (created.ok()) {
        detail = created->ops_item_arn;
      } else {
        result = created.status();
      }
    }
  }
  if (!result.ok() && Retryable(result)) return result;
  absl::Status recorded =
      RecordActionHistory(entry_id, account, name, type, when, action_arn, result.ok(),
                          result.ok() ? detail : std::string(result.message()));
  if (!recorded.ok()) return recorded;  // retry: the effect above is idempotent per entry
  if (!result.ok()) {
    // Permanent: no retry (the outbox moves it to its dead letters).
    return absl::FailedPreconditionError(
        absl::StrCat("alarm action ", action_arn, " failed: ", result.message()));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Reads

absl::StatusOr<DescribeAlarmsResult> AlarmService::DescribeAlarms(
    const Scope& scope, const DescribeAlarmsRequest& req) const {
  const bool family = req.children_of || req.parents_of;
  if (family && (!req.names.empty() || req.name_prefix || !req.types.empty() || req.state ||
                 req.action_prefix || (req.children_of && req.parents_of))) {
    return ValidationError(
        "ChildrenOfAlarmName and ParentsOfAlarmName cannot be combined with "
        "other parameters except MaxRecords and NextToken.");
  }
  if (!req.names.empty() && req.name_prefix) {
    return ValidationError("AlarmNames and AlarmNamePrefix cannot be combined.");
  }
  std::string after;
  if (!req.next_token.empty()) {
    if (req.next_token.rfind("n:", 0) != 0) return BadToken();
    after = req.next_token.substr(2);
  }
  const int limit = std::clamp(req.max_records.value_or(options_.default_page_size), 1, 100);
  bool want_metric =
      req.types.empty() || std::count(req.types.begin(), req.types.end(), AlarmType::kMetricAlarm);
  bool want_composite =
      std::count(req.types.begin(), req.types.end(), AlarmType::kCompositeAlarm) > 0;
  if (family) want_metric = want_composite = true;

  std::set<std::string> children;
  if (req.children_of) {
    AlarmPtr parent = Find(scope.account_id, *req.children_of);
    if (parent) {
      if (const auto* comp = std::get_if<CompositeAlarm>(parent.get())) {
        if (auto rule = AlarmRule::Parse(comp->alarm_rule); rule.ok()) {
          for (const auto& ref : rule->references()) {
            if (auto n = ResolveAlarmReference(ref, options_.region, scope.account_id)) {
              children.insert(*n);
            }
          }
        }
      }
    }
  }

  DescribeAlarmsResult result;
  MutexLock lock(&mu_);
  auto acc = registry_.find(scope.account_id);
  if (acc == registry_.end()) return result;
  const auto& alarms = acc->second;
  int count = 0;
  for (auto it = after.empty() ? alarms.begin() : alarms.upper_bound(after); it != alarms.end();
       ++it) {
    const auto& [name, alarm] = *it;
    const AlarmCommon& c = Common(*alarm);
    const bool is_metric = std::holds_alternative<MetricAlarm>(*alarm);
    if (is_metric ? !want_metric : !want_composite) continue;
    if (req.children_of && !children.count(name)) continue;
    if (req.parents_of) {
      const auto* comp = std::get_if<CompositeAlarm>(alarm.get());
      if (comp == nullptr) continue;
      auto rule = AlarmRule::Parse(comp->alarm_rule);
      if (!rule.ok()) continue;
      bool refers = false;
      for (const auto& ref : rule->references()) {
        auto n = ResolveAlarmReference(ref, options_.region, scope.account_id);
        if (n && *n == *req.parents_of) refers = true;
      }
      if (!refers) continue;
    }
    if (!req.names.empty() &&
        std::find(req.names.begin(), req.names.end(), name) == req.names.end()) {
      continue;
    }
    if (req.name_prefix && !absl::StartsWith(name, *req.name_prefix)) continue;
    if (req.state && c.state != *req.state) continue;
    if (req.action_prefix) {
      bool any = false;
      for (const auto* list : {&c.ok_actions, &c.alarm_actions, &c.insufficient_data_actions}) {
        for (const auto& a : *list) any = any || absl::StartsWith(a, *req.action_prefix);
      }
      if (!any) continue;
    }
    if (count == limit) {
      result.next_token = absl::StrCat("n:", std::prev(it)->first);
      break;
    }
    ++count;
    if (is_metric) {
      result.metric_alarms.push_back(std::get<MetricAlarm>(*alarm));
    } else {
      result.composite_alarms.push_back(std::get<CompositeAlarm>(*alarm));
    }
  }
  return result;
}

std::vector<MetricAlarm> AlarmService::DescribeAlarmsForMetric(
    const Scope& scope, const DescribeAlarmsForMetricRequest& req) const {
  MetricId metric = req.metric;
  metric.Normalize();
  std::vector<MetricAlarm> out;
  MutexLock lock(&mu_);
  auto acc = registry_.find(scope.account_id);
  if (acc == registry_.end()) return out;
  for (const auto& [name, alarm] : acc->second) {
    const auto* m = std::get_if<MetricAlarm>(alarm.get());
    if (m == nullptr) continue;
    bool match = false;
    if (m->metric && *m->metric == metric) {
      match = (!req.statistic || m->statistic == req.statistic) &&
              (!req.extended_statistic || m->extended_statistic == req.extended_statistic) &&
              (!req.period || m->period == req.period) && (!req.unit || m->unit == req.unit);
    }
    for (const MetricDataQuery& q : m->metrics) {
      if (!q.metric_stat || !(q.metric_stat->metric == metric)) continue;
      const std::string& stat = q.metric_stat->stat;
      if (req.statistic && stat != *req.statistic) continue;
      if (req.extended_statistic && stat != *req.extended_statistic) continue;
      if (req.period && q.metric_stat->period != *req.period) continue;
      if (req.unit && q.metric_stat->unit != req.unit) continue;
      match = true;
    }
    if (match) out.push_back(*m);
  }
  return out;
}

absl::StatusOr<Page<AlarmHistoryItem>> AlarmService::DescribeAlarmHistory(
    const Scope& scope, const AlarmHistoryRequest& req) const {
  const int limit =
      std::clamp(req.max_records.value_or(options_.default_history_page_size), 1, 100);
  std::string after;
  size_t offset = 0;
  if (!req.next_token.empty()) {
    if (!req.ascending && req.next_token.rfind("d:", 0) == 0) {
      after = req.next_token.substr(2);
    } else if (req.ascending && req.next_token.rfind("a:", 0) == 0 &&
               absl::SimpleAtoi(Absl(std::string_view(req.next_token).substr(2)), &offset)) {
    } else {
      return BadToken();
    }
  }
  auto matches = [&](const AlarmHistoryItem& item) {
    if (req.name && item.alarm_name != *req.name) return false;
    if (!req.types.empty() &&
        std::find(req.types.begin(), req.types.end(), item.alarm_type) == req.types.end()) {
      return false;
    }
    if (req.type && item.type != *req.type) return false;
    if (req.start && item.timestamp < *req.start) return false;
    if (req.end && item.timestamp > *req.end) return false;
    return true;
  };
  Page<AlarmHistoryItem> page;
  std::vector<std::pair<std::string, AlarmHistoryItem>> all;  // ascending mode only
  absl::Status decode;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    // Candidate ids newest first: from the by-name index or the main table.
    auto visit = [&](const std::string& id, std::string_view value) -> bool {
      auto item = DecodeHistoryItem(value);
      if (!item.ok()) {
        decode = item.status();
        return false;
      }
      if (!matches(*item)) return true;
      if (req.ascending) {
        all.emplace_back(id, std::move(*item));
        return true;
      }
      if (static_cast<int>(page.items.size()) == limit) {
        page.next_token = absl::StrCat("d:", after);
        return false;
      }
      page.items.push_back(std::move(*item));
      after = id;
      return true;
    };
    if (req.name) {
      const std::string prefix = absl::StrCat(
          options_.region, "/", absl::StrFormat("%03d", req.name->size()), "/", *req.name, "/");
      std::vector<std::string> ids;
      std::string index_after;
      if (!after.empty()) {
        // Index keys end with the main id's "<inverted µs>/<uniq>".
        index_after = prefix + after.substr(options_.region.size() + 1);
      }
      KLAXON_RETURN_IF_ERROR(txn.Scan(kHistoryByNameTable, scope.account_id, prefix, index_after, 0,
                                      [&](std::string_view, std::string_view value) {
                                        ids.emplace_back(value);
                                        return true;
                                      }));
      for (const std::string& id : ids) {
        KLAXON_ASSIGN_OR_RETURN(auto value, txn.Get(kHistoryTable, scope.account_id, id));
        if (!value) continue;
        if (!visit(id, *value)) break;
      }
      return absl::OkStatus();
    }
    return txn.Scan(
        kHistoryTable, scope.account_id, options_.region + "/", after, 0,
        [&](std::string_view id, std::string_view value) { return visit(std::string(id), value); });
  }));
  KLAXON_RETURN_IF_ERROR(decode);
  if (req.ascending) {
    std::reverse(all.begin(), all.end());
    for (size_t i = offset; i < all.size(); ++i) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.next_token = absl::StrCat("a:", i);
        break;
      }
      page.items.push_back(std::move(all[i].second));
    }
  }
  return page;
}

std::optional<std::string> AlarmService::ResolveTagArn(const Scope& scope,
                                                       const std::string& arn) const {
  std::string prefix =
      absl::StrCat("arn:aws:cloudwatch:", options_.region, ":", scope.account_id, ":alarm:");
  if (arn.rfind(prefix, 0) != 0 || arn.size() == prefix.size()) return std::nullopt;
  std::string name = arn.substr(prefix.size());
  if (!Find(scope.account_id, name)) return std::nullopt;
  return name;
}

absl::StatusOr<std::map<std::string, std::string>> AlarmService::ListTags(
    const Scope& scope, const std::string& arn) const {
  auto name = ResolveTagArn(scope, arn);
  if (!name) {
    return AwsError(absl::StatusCode::kNotFound, "ResourceNotFoundException",
                    absl::StrCat("The resource ", arn, " does not exist."),
                    json::object{{"ResourceType", "alarm"}, {"ResourceId", arn}});
  }
  AlarmPtr a = Find(scope.account_id, *name);
  if (!a) return std::map<std::string, std::string>();
  return Common(*a).tags;
}

absl::Status AlarmService::TagResource(const Scope& scope, const std::string& arn,
                                       const std::map<std::string, std::string>& tags) {
  for (const auto& [key, value] : tags) {
    if (absl::StartsWith(key, "aws:")) {
      return AwsError(absl::StatusCode::kInvalidArgument, "InvalidParameterValueException",
                      "Tag keys beginning with 'aws:' are reserved.");
    }
  }
  MutexLock write_lock(&write_mu_);
  auto name = ResolveTagArn(scope, arn);
  AlarmPtr current = name ? Find(scope.account_id, *name) : nullptr;
  if (!current) {
    return AwsError(absl::StatusCode::kNotFound, "ResourceNotFoundException",
                    absl::StrCat("The resource ", arn, " does not exist."),
                    json::object{{"ResourceType", "alarm"}, {"ResourceId", arn}});
  }
  AnyAlarm next = *current;
  auto& c = MutableCommon(next);
  for (const auto& [k, v] : tags) c.tags[k] = v;
  if (c.tags.size() > 50) {
    return AwsError(absl::StatusCode::kInvalidArgument, "InvalidParameterValueException",
                    "A resource can have at most 50 tags.");
  }
  KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    return txn.Put(kAlarmsTable, scope.account_id, AlarmRowId(c.name), EncodeAlarm(next));
  }));
  ApplyRegistry({{scope.account_id, c.name, std::make_shared<const AnyAlarm>(std::move(next))}});
  return absl::OkStatus();
}

absl::Status AlarmService::UntagResource(const Scope& scope, const std::string& arn,
                                         const std::vector<std::string>& keys) {
  MutexLock write_lock(&write_mu_);
  auto name = ResolveTagArn(scope, arn);
  AlarmPtr current = name ? Find(scope.account_id, *name) : nullptr;
  if (!current) {
    return AwsError(absl::StatusCode::kNotFound, "ResourceNotFoundException",
                    absl::StrCat("The resource ", arn, " does not exist."),
                    json::object{{"ResourceType", "alarm"}, {"ResourceId", arn}});
  }
  AnyAlarm next = *current;
  auto& c = MutableCommon(next);
  for (const auto& k : keys) c.tags.erase(k);
  KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    return txn.Put(kAlarmsTable, scope.account_id, AlarmRowId(c.name), EncodeAlarm(next));
  }));
  ApplyRegistry({{scope.account_id, c.name, std::make_shared<const AnyAlarm>(std::move(next))}});
  return absl::OkStatus();
}

std::vector<std::pair<std::string, std::shared_ptr<const MetricAlarm>>> AlarmService::MetricAlarms()
    const {
  std::vector<std::pair<std::string, std::shared_ptr<const MetricAlarm>>> out;
  MutexLock lock(&mu_);
  for (const auto& [account, alarms] : registry_) {
    for (const auto& [name, alarm] : alarms) {
      if (const auto* m = std::get_if<MetricAlarm>(alarm.get())) {
        // Aliasing constructor: shares ownership of the variant.
        out.emplace_back(account, std::shared_ptr<const MetricAlarm>(alarm, m));
      }
    }
  }
  return out;
}

absl::Status AlarmService::TrimHistory(absl::Time now) {
  const absl::Time cutoff = now - options_.history_retention;
  // Rows are newest first: everything after the cutoff's key is older.
  const std::string start = absl::StrCat(options_.region, "/", InvertedMicros(cutoff));
  std::vector<std::string> accounts;
  {
    MutexLock write_lock(&write_mu_);
    accounts.assign(known_accounts_.begin(), known_accounts_.end());
  }
  for (const std::string& account : accounts) {
    std::vector<std::pair<std::string, std::string>> doomed;  // (history id, index id)
    KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
      return txn.Scan(kHistoryTable, account, options_.region + "/", start, 10000,
                      [&](std::string_view id, std::string_view value) {
                        auto item = DecodeHistoryItem(value);
                        std::string index;
                        if (item.ok()) {
                          index = absl::StrCat(options_.region, "/",
                                               absl::StrFormat("%03d", item->alarm_name.size()),
                                               "/", item->alarm_name, "/",
                                               Absl(id.substr(options_.region.size() + 1)));
                        }
                        doomed.emplace_back(std::string(id), std::move(index));
                        return true;
                      });
    }));
    if (doomed.empty()) continue;
    KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
      for (const auto& [id, index] : doomed) {
        KLAXON_RETURN_IF_ERROR(txn.Delete(kHistoryTable, account, id));
        if (!index.empty()) KLAXON_RETURN_IF_ERROR(txn.Delete(kHistoryByNameTable, account, index));
      }
      return absl::OkStatus();
    }));
  }
  return absl::OkStatus();
}

}  // namespace klaxon::alarms
