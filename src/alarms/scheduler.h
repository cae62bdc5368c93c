#pragma once
// Drives alarm evaluation with injected time.
//
// Tick(now) evaluates every metric alarm that is due at `now`: an alarm is due once per
// evaluation boundary (each minute; every 10 s for periods under a minute — EvaluationEnd() in
// evaluator.h) and after a configuration change; with `evaluate_on_new_data` also at the first
// tick after data of its metrics arrived (so that datapoints sent for past periods count at once,
// which live tests and demos want; AWS would wait for the next minute). A state set with
// SetAlarmState therefore holds until the next boundary or new data. Evaluation fetches the range's
// datapoints from the MetricStore (computing metric math when the alarm has Metrics), calls the
// pure Evaluate(), and hands the changes to AlarmService::ApplyTransitions in batches (one
// transaction per batch).
//
// Tests call Tick() directly with a SimulatedClock's time; Start() runs a background thread that
// ticks every `tick_interval` of real time (sleeping on a condition variable, so Stop() returns
// at once) and a second one for the maintenance work (metric checkpoints, compaction, history
// trimming), so that a long checkpoint never delays an evaluation.
//
// Thread-safety: Tick() is not reentrant (the background thread or one test thread calls it);
// Start/Stop from one thread. Copy/move: neither.

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "alarms/alarm_service.h"
#include "alarms/evaluator.h"
#include "alarms/metric_store.h"
#include "common/clock.h"
#include "common/mutex.h"

namespace klaxon::alarms {

struct SchedulerOptions {
  absl::Duration tick_interval = absl::Seconds(10);
  bool evaluate_on_new_data = false;
  bool evaluate_every_tick = false;  // benchmarks: every alarm on every tick
  size_t batch_size = 256;
  absl::Duration checkpoint_interval = absl::Seconds(10);
  absl::Duration compaction_interval = absl::Minutes(1);
  absl::Duration history_trim_interval = absl::Hours(1);
};

struct TickStats {
  int evaluated = 0;
  int transitions = 0;
  absl::Duration cpu;  // thread CPU time spent evaluating (not committing)
};

class AlarmScheduler {
 public:
  AlarmScheduler(AlarmService& alarms, MetricStore& metrics, Clock& clock,
                 SchedulerOptions options = {});
  AlarmScheduler(const AlarmScheduler&) = delete;
  AlarmScheduler& operator=(const AlarmScheduler&) = delete;
  ~AlarmScheduler();

  // Evaluates the alarms due at `now` and applies the transitions. Errors: Store failures while
  // applying (the transitions are retried at the next tick).
  absl::StatusOr<TickStats> Tick(absl::Time now);

  // Evaluation of one alarm at `now` without applying it (also used by tests).
  Evaluation EvaluateAlarm(const std::string& account, const MetricAlarm& alarm,
                           absl::Time now) const;

  // The datapoints of the evaluation range of `alarm` at `now`, newest first.
  std::vector<RangeDatapoint> FetchRange(const std::string& account, const MetricAlarm& alarm,
                                         absl::Time now) const;

  void Start();
  void Stop();

 private:
  void Loop();
  // Checkpoints, compaction and history trimming run on a thread of their own, so that a long
  // checkpoint (many changed series) never delays an evaluation.
  void MaintenanceLoop();
  void Maintenance(absl::Time now);

  AlarmService& alarms_;
  MetricStore& metrics_;
  Clock& clock_;
  const SchedulerOptions options_;
  // Per alarm (key account\x1dname): the configuration version, evaluation boundary and data
  // sequence of its last evaluation.
  struct Last {
    int64_t version = -1;
    int64_t boundary = 0;
    uint64_t data = 0;
  };
  absl::flat_hash_map<std::string, Last> last_;

  Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::condition_variable stop_cv_;  // notified by Stop()
  std::unique_ptr<std::thread> thread_;
  std::unique_ptr<std::thread> maintenance_thread_;
  absl::Time last_checkpoint_ = absl::InfinitePast();
  absl::Time last_compaction_ = absl::InfinitePast();
  absl::Time last_trim_ = absl::InfinitePast();
};

}  // namespace klaxon::alarms
