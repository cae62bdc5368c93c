#pragma once
// CloudWatch alarms: configuration, state, history, actions and events, for every account of one
// Region. The domain behind PutMetricAlarm, PutCompositeAlarm, DescribeAlarms,
// DescribeAlarmsForMetric, DeleteAlarms, SetAlarmState, DescribeAlarmHistory,
// Enable/DisableAlarmActions and the alarm tag operations; the scheduler (scheduler.h) feeds it
// evaluated transitions.
//
// Design. The Store is the source of truth (tables below); an in-memory registry of every alarm
// (immutable snapshots, shared_ptr<const>) serves reads and the scheduler without touching the
// Store. Every mutation holds `write_mu_`, writes one Store transaction and then swaps the
// registry entry, so the registry always equals the committed state. (One node evaluates a
// Region's alarms; several nodes over one shared database are not supported for CloudWatch.)
//
// A state transition, in ONE transaction: the new state, a StateUpdate history item, a
// "CloudWatch Alarm State Change" event (EventPublisher, when the node has one) and, when actions
// are enabled and not suppressed, one durable outbox entry per action of the new state. The
// outbox delivers each entry at least once and RunAction() is idempotent per entry (its id is the
// StartIncident clientToken), so each action happens exactly once per transition. Without an
// outbox (nodes built before it existed) actions run right after the commit, not durably.
//
// Tables (account = the alarm's account; ids start with the Region):
//   cw_alarms               REGION/NAME                        -> alarm (records.h)
//   cw_alarm_history        REGION/<inverted µs>/<uniq>        -> history item
//   cw_alarm_history_name   REGION/<len>/<NAME>/<inverted µs>/<uniq> -> id in cw_alarm_history
//   cw_meta (account "")    REGION/alarm-account/ACCOUNT       -> ""  (accounts to load)
//
// Errors carry the CloudWatch model's exceptions: ResourceNotFound (alarm names),
// ResourceNotFoundException (tag ARNs), LimitExceededFault, InvalidFormatFault,
// InvalidNextToken, and ValidationError (generic, for configuration rules).
//
// Thread-safety: all methods are thread-safe. Copy/move: neither.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "alarms/records.h"
#include "alarms/types.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "storage/store.h"

namespace klaxon::outbox {
class Outbox;
}
namespace klaxon::events {
class EventPublisher;
}
namespace klaxon::incidents {
class IncidentService;
}
namespace klaxon::opsitems {
class OpsItemService;
}

namespace klaxon::alarms {

struct AlarmServiceOptions {
  std::string region = "us-east-1";
  size_t max_alarms_per_account = 10000;  // AWS's quota; LimitExceededFault beyond it
  absl::Duration history_retention = absl::Hours(24 * 14);
  int default_page_size = 50;  // DescribeAlarms
  int default_history_page_size = 100;
  int max_composite_passes = 16;  // composite-of-composite propagation per change
};

// Where actions go. Any pointer may be null: events are then not published, incident and
// OpsItem actions fail (Action history "Failed"), and without an outbox actions run directly.
struct AlarmDependencies {
  outbox::Outbox* outbox = nullptr;
  events::EventPublisher* events = nullptr;
  incidents::IncidentService* incidents = nullptr;
  opsitems::OpsItemService* ops_items = nullptr;
};

struct DescribeAlarmsRequest {
  std::vector<std::string> names;
  std::optional<std::string> name_prefix;
  std::vector<AlarmType> types;  // empty: metric alarms only (as AWS)
  std::optional<std::string> children_of;
  std::optional<std::string> parents_of;
  std::optional<StateValue> state;
  std::optional<std::string> action_prefix;
  std::optional<int> max_records;
  std::string next_token;
};

struct DescribeAlarmsResult {
  std::vector<MetricAlarm> metric_alarms;
  std::vector<CompositeAlarm> composite_alarms;
  std::string next_token;
};

struct DescribeAlarmsForMetricRequest {
  MetricId metric;
  std::optional<std::string> statistic;
  std::optional<std::string> extended_statistic;
  std::optional<int> period;
  std::optional<std::string> unit;
};

struct AlarmHistoryRequest {
  std::optional<std::string> name;
  std::vector<AlarmType> types;  // empty: both
  std::optional<HistoryItemType> type;
  std::optional<absl::Time> start;
  std::optional<absl::Time> end;
  std::optional<int> max_records;
  std::string next_token;
  bool ascending = false;
};

// A state change computed by the scheduler for the alarm configuration `version`.
struct Transition {
  std::string account;
  std::string name;
  int64_t version = 0;
  StateValue to = StateValue::kOk;
  std::string reason;
  std::string reason_data;
};

// Payload kind of alarm actions in the outbox.
inline constexpr char kAlarmActionKind[] = "alarms.action";

class AlarmService {
 public:
  AlarmService(storage::Store& store, Clock& clock, AlarmServiceOptions options,
               AlarmDependencies deps);
  AlarmService(const AlarmService&) = delete;
  AlarmService& operator=(const AlarmService&) = delete;

  // Loads every alarm of the Region into the registry. Call once before anything else.
  absl::Status Load();

  const AlarmServiceOptions& options() const { return options_; }
  const std::string& region() const { return options_.region; }

  // Creates or replaces a metric alarm (`alarm` holds the requested configuration; name, ARN,
  // state and bookkeeping are filled here). On update the state is kept and tags are ignored,
  // as AWS does. Errors: ValidationError, LimitExceededFault.
  absl::Status PutMetricAlarm(const Scope& scope, MetricAlarm alarm);

  // Same for a composite alarm; its rule is evaluated at once.
  absl::Status PutCompositeAlarm(const Scope& scope, CompositeAlarm alarm);

  // Errors: ValidationError (conflicting filters), InvalidNextToken.
  absl::StatusOr<DescribeAlarmsResult> DescribeAlarms(const Scope& scope,
                                                      const DescribeAlarmsRequest& request) const;

  std::vector<MetricAlarm> DescribeAlarmsForMetric(
      const Scope& scope, const DescribeAlarmsForMetricRequest& request) const;

  // Deletes all or nothing. Errors: ResourceNotFound naming the first missing alarm.
  absl::Status DeleteAlarms(const Scope& scope, const std::vector<std::string>& names);

  // Sets the state until the next evaluation; actions run on a change. Errors: ResourceNotFound,
  // InvalidFormatFault (StateReasonData not JSON).
  absl::Status SetAlarmState(const Scope& scope, const std::string& name, StateValue state,
                             const std::string& reason,
                             const std::optional<std::string>& reason_data);

  // Unknown names are ignored (as AWS does).
  absl::Status SetActionsEnabled(const Scope& scope, const std::vector<std::string>& names,
                                 bool enabled);

  // Errors: InvalidNextToken.
  absl::StatusOr<Page<AlarmHistoryItem>> DescribeAlarmHistory(
      const Scope& scope, const AlarmHistoryRequest& request) const;

  // Tags of the alarm with this ARN. Errors: ResourceNotFoundException, InvalidParameterValue.
  absl::StatusOr<std::map<std::string, std::string>> ListTags(const Scope& scope,
                                                              const std::string& arn) const;
  absl::Status TagResource(const Scope& scope, const std::string& arn,
                           const std::map<std::string, std::string>& tags);
  absl::Status UntagResource(const Scope& scope, const std::string& arn,
                             const std::vector<std::string>& keys);

  // --- for the scheduler ---------------------------------------------------------------------

  // Every metric alarm of the Region with its account.
  std::vector<std::pair<std::string, std::shared_ptr<const MetricAlarm>>> MetricAlarms() const;

  // Applies evaluated transitions (stale ones — configuration changed meanwhile, or already in
  // the target state — are skipped), in batches of at most `batch` per transaction, then
  // re-evaluates the composite alarms of the accounts concerned. Returns the number applied.
  absl::StatusOr<int> ApplyTransitions(const std::vector<Transition>& transitions,
                                       size_t batch = 256);

  // Evaluates every composite alarm of `accounts` (all accounts when empty) and applies changes.
  absl::Status EvaluateComposites(const std::set<std::string>& accounts);

  // Runs one alarm action: the outbox handler of kAlarmActionKind (and the direct path without
  // an outbox). Idempotent per `entry_id`. Errors: retryable (kUnavailable, kInternal, ...)
  // when the effect may succeed later; others are permanent (recorded as a failed Action).
  absl::Status RunAction(const std::string& entry_id, const std::string& payload);

  // Deletes history items older than the retention.
  absl::Status TrimHistory(absl::Time now);

  // Observer of committed transitions (tests and benchmarks measure latency with it). Called
  // after the commit, outside locks.
  void SetTransitionObserver(
      std::function<void(const std::string& account, const std::string& name, StateValue to)>
          observer);

 private:
  using AlarmPtr = std::shared_ptr<const AnyAlarm>;
  struct PendingAction {
    std::string account;
    std::string payload;
  };
  // One committed change: what to put in the registry (null = erase).
  struct RegistryUpdate {
    std::string account;
    std::string name;
    AlarmPtr alarm;
  };

  std::string AlarmRowId(const std::string& name) const;
  AlarmPtr Find(const std::string& account, const std::string& name) const ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status ValidateCommon(const Scope& scope, const AlarmCommon& alarm) const;
  absl::Status ValidateMetricAlarm(const Scope& scope, const MetricAlarm& alarm) const;
  absl::Status WriteHistoryInTxn(storage::WriteTxn& txn, const std::string& account,
                                 const AlarmHistoryItem& item, const std::string& uniq) const;
  // `event_id` empty: the bus generates the envelope id.
  absl::Status PublishInTxn(storage::WriteTxn& txn, const std::string& account,
                            const std::string& arn, const char* detail_type,
                            const std::string& detail_json, absl::Time time,
                            std::string event_id = "") const;
  // Writes a configuration (create/update/delete) with history and event.
  absl::Status WriteConfiguration(const Scope& scope, const AnyAlarm* previous,
                                  const AnyAlarm* next) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // The transition of `current` to (state, reason, data) inside `txn`; appends actions to run.
  absl::StatusOr<AnyAlarm> TransitionInTxn(storage::WriteTxn& txn, const std::string& account,
                                           const AnyAlarm& current, StateValue to,
                                           const std::string& reason,
                                           const std::optional<std::string>& reason_data,
                                           absl::Time now, std::vector<PendingAction>& actions,
                                           bool& enqueued) const;
  // Commits a batch of (alarm, new state) transitions; returns the new records.
  struct Change {
    std::string account;
    AlarmPtr current;
    StateValue to;
    std::string reason;
    std::optional<std::string> reason_data;
  };
  absl::StatusOr<int> CommitTransitions(const std::vector<Change>& changes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status EvaluateCompositesLocked(const std::set<std::string>& accounts)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  void ApplyRegistry(const std::vector<RegistryUpdate>& updates) ABSL_LOCKS_EXCLUDED(mu_);
  void RunDirect(std::vector<PendingAction> actions);
  absl::Status RecordActionHistory(const std::string& entry_id, const std::string& account,
                                   const std::string& name, AlarmType type,
                                   absl::Time transition_time, const std::string& action, bool ok,
                                   const std::string& detail);
  std::optional<std::string> ResolveTagArn(const Scope& scope, const std::string& arn) const;

  storage::Store& store_;
  Clock& clock_;
  const AlarmServiceOptions options_;
  const AlarmDependencies deps_;

  Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable Mutex mu_;
  // account -> name -> alarm
  std::map<std::string, std::map<std::string, AlarmPtr>> registry_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> known_accounts_ ABSL_GUARDED_BY(write_mu_);

  Mutex observer_mu_;
  std::function<void(const std::string&, const std::string&, StateValue)> observer_
      ABSL_GUARDED_BY(observer_mu_);
};

}  // namespace klaxon::alarms
