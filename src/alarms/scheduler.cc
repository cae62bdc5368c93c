#include "alarms/scheduler.h"

#include <time.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "alarms/metric_math.h"
#include "spdlog/spdlog.h"

namespace klaxon::alarms {
namespace {

absl::Duration ThreadCpu() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return absl::Seconds(ts.tv_sec) + absl::Nanoseconds(ts.tv_nsec);
}

EvaluationSettings SettingsOf(const MetricAlarm& alarm) {
  EvaluationSettings s;
  s.period_seconds = alarm.EvaluationPeriod();
  s.evaluation_periods = alarm.evaluation_periods;
  s.datapoints_to_alarm = alarm.DatapointsToAlarm();
  s.threshold = alarm.threshold.value_or(0);
  s.comparison = alarm.comparison;
  s.treat_missing = alarm.EffectiveTreatMissing();
  if (alarm.metric) {
    if (alarm.statistic) s.statistic = *alarm.statistic;
    if (alarm.extended_statistic) s.extended_statistic = *alarm.extended_statistic;
  }
  if (alarm.evaluate_low_sample_count_percentile == "ignore" && alarm.extended_statistic) {
    auto stat = ParseStat(*alarm.extended_statistic);
    if (stat.ok() && stat->kind == StatKind::kPercentile) {
      s.low_sample_ignore_percentile = stat->percentile();
    }
  }
  return s;
}

}  // namespace

AlarmScheduler::AlarmScheduler(AlarmService& alarms, MetricStore& metrics, Clock& clock,
                               SchedulerOptions options)
    : alarms_(alarms), metrics_(metrics), clock_(clock), options_(options) {}

AlarmScheduler::~AlarmScheduler() { Stop(); }

std::vector<RangeDatapoint> AlarmScheduler::FetchRange(const std::string& account,
                                                       const MetricAlarm& alarm,
                                                       absl::Time now) const {
  const int period = alarm.EvaluationPeriod();
  const int r = EvaluationRange(alarm.evaluation_periods);
  const absl::Time end = EvaluationEnd(now, period);
  const absl::Time start = end - absl::Seconds(static_cast<int64_t>(period) * r);
  std::vector<RangeDatapoint> range(r);
  for (int i = 0; i < r; ++i) {
    range[i].start = end - absl::Seconds(static_cast<int64_t>(period) * (i + 1));
  }
  if (alarm.metric) {
    auto stat =
        ParseStat(alarm.statistic ? *alarm.statistic : alarm.extended_statistic.value_or(""));
    if (!stat.ok()) return range;
    std::vector<Aggregate> windows =
        metrics_.Query(account, *alarm.metric, alarm.unit, start, absl::Seconds(period), r);
    for (int i = 0; i < r; ++i) {
      const Aggregate& agg = windows[r - 1 - i];  // windows are oldest first
      range[i].value = ComputeStat(agg, *stat);
      range[i].sample_count = agg.count;
    }
    return range;
  }
  // Metric math on the range's grid.
  auto fetch = [&](const MetricStat& ms) {
    TimeSeries series(r);
    auto stat = ParseStat(ms.stat);
    if (!stat.ok()) return series;
    std::vector<Aggregate> windows =
        metrics_.Query(account, ms.metric, ms.unit, start, absl::Seconds(period), r);
    for (int i = 0; i < r; ++i) series[i] = ComputeStat(windows[i], *stat);
    return series;
  };
  auto results = EvaluateQueries(alarm.metrics, r, period, fetch);
  if (!results.ok()) return range;
  for (const MetricDataQuery& q : alarm.metrics) {
    if (!q.return_data) continue;
    auto it = results->find(q.id);
    if (it == results->end()) break;
    const MathValue& v = it->second;
    for (int i = 0; i < r; ++i) {
      std::optional<double> x;
      if (v.kind == MathValue::Kind::kSeries) {
        x = v.series[r - 1 - i];
      } else if (v.kind == MathValue::Kind::kScalar && std::isfinite(v.scalar)) {
        x = v.scalar;
      }
      range[i].value = x;
      range[i].sample_count = x ? 1 : 0;
    }
    break;
  }
  return range;
}

Evaluation AlarmScheduler::EvaluateAlarm(const std::string& account, const MetricAlarm& alarm,
                                         absl::Time now) const {
  return Evaluate(SettingsOf(alarm), alarm.state, FetchRange(account, alarm, now), now);
}

absl::StatusOr<TickStats> AlarmScheduler::Tick(absl::Time now) {
  TickStats stats;
  const absl::Duration cpu0 = ThreadCpu();
  std::vector<Transition> transitions;
  for (const auto& [account, alarm] : alarms_.MetricAlarms()) {
    const int64_t boundary = absl::ToUnixSeconds(EvaluationEnd(now, alarm->EvaluationPeriod()));
    std::string key = absl::StrCat(account, "\x1d", alarm->name);
    Last& last = last_[key];
    uint64_t data = 0;
    if (options_.evaluate_on_new_data) {
      if (alarm->metric) data = metrics_.UpdateSequence(account, *alarm->metric);
      for (const MetricDataQuery& q : alarm->metrics) {
        if (q.metric_stat) {
          data = std::max(data, metrics_.UpdateSequence(account, q.metric_stat->metric));
        }
      }
    }
    if (!options_.evaluate_every_tick && last.version == alarm->version &&
        last.boundary == boundary && last.data == data) {
      continue;
    }
    last = {alarm->version, boundary, data};
    ++stats.evaluated;
    Evaluation e = EvaluateAlarm(account, *alarm, now);
    if (!e.change) continue;
    transitions.push_back(
        Transition{account, alarm->name, alarm->version, e.state, e.reason, e.reason_data});
  }
  stats.cpu = ThreadCpu() - cpu0;
  if (!transitions.empty()) {
    auto applied = alarms_.ApplyTransitions(transitions, options_.batch_size);
    if (!applied.ok()) {
      // Forget the boundaries so that the next tick evaluates these alarms again.
      for (const Transition& t : transitions) last_.erase(absl::StrCat(t.account, "\x1d", t.name));
      return applied.status();
    }
    stats.transitions = *applied;
  }
  return stats;
}

void AlarmScheduler::Maintenance(absl::Time now) {
  if (now - last_checkpoint_ >= options_.checkpoint_interval) {
    last_checkpoint_ = now;
    if (auto s = metrics_.Checkpoint(); !s.ok())
      spdlog::warn("cloudwatch: checkpoint: {}", s.ToString());
  }
  if (now - last_compaction_ >= options_.compaction_interval) {
    last_compaction_ = now;
    metrics_.Compact(now);
  }
  if (now - last_trim_ >= options_.history_trim_interval) {
    last_trim_ = now;
    if (auto s = alarms_.TrimHistory(now); !s.ok()) {
      spdlog::warn("cloudwatch: history trim: {}", s.ToString());
    }
  }
}

void AlarmScheduler::Loop() {
  while (true) {
    const absl::Time now = clock_.Now();
    auto stats = Tick(now);
    if (!stats.ok()) spdlog::warn("cloudwatch: alarm evaluation: {}", stats.status().ToString());
    MutexLock lock(&mu_);
    const auto deadline = DeadlineAfter(options_.tick_interval);
    while (!stop_ && lock.WaitUntil(stop_cv_, deadline)) {
    }
    if (stop_) return;
  }
}

void AlarmScheduler::MaintenanceLoop() {
  while (true) {
    Maintenance(clock_.Now());
    MutexLock lock(&mu_);
    const auto deadline = DeadlineAfter(options_.tick_interval);
    while (!stop_ && lock.WaitUntil(stop_cv_, deadline)) {
    }
    if (stop_) return;
  }
}

void AlarmScheduler::Start() {
  {
    MutexLock lock(&mu_);
    stop_ = false;
  }
  if (!thread_) thread_ = std::make_unique<std::thread>([this] { Loop(); });
  if (!maintenance_thread_) {
    maintenance_thread_ = std::make_unique<std::thread>([this] { MaintenanceLoop(); });
  }
}

void AlarmScheduler::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  for (auto* t : {&thread_, &maintenance_thread_}) {
    if (*t) {
      (*t)->join();
      t->reset();
    }
  }
}

}  // namespace klaxon::alarms
