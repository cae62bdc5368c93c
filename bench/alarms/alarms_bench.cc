// CloudWatch benchmarks (issue 5 targets on these machines: >= 500,000 datapoints/s, 100,000
// alarms evaluated in < 1 s of CPU per period, <= 50 ms from the firing evaluation to the
// incident being readable).
//
//   build/release/bench/alarms/alarms_bench [--alarms 100000] [--seconds 5] [--latency-runs 200]
//       [--only put|evaluate|latency|handler] [--put THREADS:VALUES_PER_DATUM]
//
// 1. put:       MetricStore::Put into a durable SqliteStore (synchronous=FULL, group commit):
//               batches of 1000 MetricDatum (one Value each, and Values arrays of 20), from 1 and
//               4 threads. Every Put() returns after its log row is fsync'ed.
// 2. evaluate:  N metric alarms (one series each, data in the last five minutes) evaluated by
//               AlarmScheduler::Tick; the figure is the thread CPU time of the evaluation pass
//               (fetch + statistics + Evaluate), then the wall time of the first tick that also
//               commits N transitions (batches of 256 per transaction).
// 4. handler:   CPU time (this thread) per PutMetricData request of 1000 datums, split into the
//               part in the CloudWatch handler (model-shaped JSON members -> MetricDatum) and the
//               in-memory MetricStore::Put, and the durable Put's extra (log row encoding + the
//               SQLite commit, measured single-threaded). The codec/validation before the
//               handler is not included (api/protocol).
// 3. latency:   SqliteStore + StoreOutbox (4 delivery threads) + IncidentManager: from the start
//               of the Tick whose evaluation fires an alarm to StartIncident having committed
//               (the incident readable); p50 / p90 / p99 / max over the runs.
//
// The data directory is under $TMPDIR (default /tmp).

#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alarms/alarm_service.h"
#include "alarms/metric_store.h"
#include "alarms/scheduler.h"
#include "api/operation.h"
#include "api/services/cloudwatch/handlers.h"
#include "boost/json.hpp"
#include "common/clock.h"
#include "common/mutex.h"
#include "incidents/incident_manager.h"
#include "opsitems/ops_item_service.h"
#include "outbox/store_outbox.h"
#include "storage/memory_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace klaxon::alarms {
namespace {

constexpr char kAccount[] = "123456789012";

std::string TempDir() {
  const char* base = getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/klaxon_alarms_bench_XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) abort();
  return tmpl;
}

std::unique_ptr<storage::SqliteStore> OpenStore(const std::string& dir) {
  storage::SqliteOptions options;
  options.data_dir = dir;
  auto store = storage::SqliteStore::Open(options);
  if (!store.ok()) {
    fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    abort();
  }
  return std::move(*store);
}

size_t g_checkpoint_rows = 0;  // --checkpoint-rows: MetricStoreOptions::checkpoint_batch_rows

// --- 1. PutMetricData ------------------------------------------------------------------------

void BenchPut(int threads, int values_per_datum, double seconds, bool persist = true) {
  const std::string dir = TempDir();
  {
    auto sqlite = OpenStore(dir);
    MetricStoreOptions options;
    options.persist = persist;
    if (g_checkpoint_rows > 0) options.checkpoint_batch_rows = g_checkpoint_rows;
    MetricStore store(*sqlite, options);
    if (!store.Recover().ok()) abort();
    std::atomic<bool> stop{false};
    // Checkpoints run as in the node (every 10 s... here every 2 s, to include their cost).
    std::atomic<double> max_checkpoint{0};
    std::thread checkpointer([&] {
      while (!stop.load()) {
        for (int i = 0; i < 20 && !stop.load(); ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        const absl::Time c0 = absl::Now();
        if (!store.Checkpoint().ok()) abort();
        const double took = absl::ToDoubleSeconds(absl::Now() - c0);
        if (took > max_checkpoint.load()) max_checkpoint = took;
      }
    });
    std::atomic<uint64_t> samples{0}, requests{0};
    klaxon::Mutex latency_mu;
    std::vector<double> latencies;  // ms per Put
    std::vector<std::thread> workers;
    workers.reserve(threads);
    const absl::Time base = absl::Now();
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        std::vector<MetricDatum> batch(1000);
        for (int i = 0; i < 1000; ++i) {
          MetricDatum& d = batch[i];
          d.metric = MetricId{"Bench",
                              "Latency",
                              {{"Host", absl::StrCat("h", t, "-", i % 100)},
                               {"Route", absl::StrCat("/r", i / 100)}}};
          d.metric.Normalize();
          d.unit = "Milliseconds";
          if (values_per_datum > 1) {
            d.kind = MetricDatum::Kind::kValues;
            for (int k = 0; k < values_per_datum; ++k) d.values.push_back(k * 1.5 + i);
          } else {
            d.value = i * 0.5;
          }
        }
        int round = 0;
        std::vector<double> local;
        while (!stop.load()) {
          for (auto& d : batch) d.timestamp = base + absl::Seconds(round % 600);
          const absl::Time p0 = absl::Now();
          if (!store.Put(kAccount, batch).ok()) abort();
          local.push_back(absl::ToDoubleMilliseconds(absl::Now() - p0));
          samples += 1000ull * values_per_datum;
          ++requests;
          ++round;
        }
        klaxon::MutexLock lock(&latency_mu);
        latencies.insert(latencies.end(), local.begin(), local.end());
      });
    }
    const absl::Time start = absl::Now();
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(seconds * 1000)));
    stop = true;
    for (auto& w : workers) w.join();
    checkpointer.join();
    const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
    const absl::Time cp = absl::Now();
    if (!store.Checkpoint().ok()) abort();
    const double checkpoint = absl::ToDoubleSeconds(absl::Now() - cp);
    auto stats = store.Stats();
    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double p) {
      return latencies.empty()
                 ? 0.0
                 : latencies[std::min<size_t>(latencies.size() - 1, p * latencies.size())];
    };
    printf(
        "put  %s threads=%-2d values/datum=%-3d %10.0f datapoints/s %6.0f PutMetricData/s  "
        "Put latency p50 %.1f ms p99 %.1f ms max %.1f ms  (%zu series, %zu buckets, %.1f MiB; "
        "longest checkpoint %.2f s, final %.2f s)\n",
        persist ? "durable" : "memory ", threads, values_per_datum, samples / elapsed,
        requests / elapsed, pct(0.5), pct(0.99), latencies.empty() ? 0.0 : latencies.back(),
        stats.series, stats.buckets, stats.memory_bytes / 1048576.0, max_checkpoint.load(),
        checkpoint);
  }
  std::filesystem::remove_all(dir);
}

// --- 2. Evaluation of N alarms ---------------------------------------------------------------

void BenchEvaluate(int n) {
  storage::MemoryStore store;
  SimulatedClock clock(absl::FromUnixSeconds(1704067200));
  MetricStoreOptions metric_options;
  metric_options.persist = false;
  MetricStore metrics(store, metric_options);
  AlarmService alarms(store, clock, AlarmServiceOptions{.max_alarms_per_account = size_t(n) + 1},
                      AlarmDependencies());
  if (!alarms.Load().ok()) abort();
  Scope scope{kAccount, "us-east-1", "bench"};
  const absl::Time t0 = absl::Now();
  std::vector<MetricDatum> data;
  for (int i = 0; i < n; ++i) {
    MetricAlarm a;
    a.name = absl::StrCat("alarm-", i);
    a.metric = MetricId{"AWS/EC2", "CPUUtilization", {{"InstanceId", absl::StrCat("i-", i)}}};
    a.statistic =
        i % 10 == 0 ? std::optional<std::string>() : std::optional<std::string>("Average");
    if (i % 10 == 0) a.extended_statistic = "p90";
    a.period = 60;
    a.evaluation_periods = 3;
    a.datapoints_to_alarm = 2;
    a.threshold = 80;
    a.comparison = Comparison::kGreaterThanThreshold;
    if (!alarms.PutMetricAlarm(scope, a).ok()) abort();
    for (int m = 1; m <= 5; ++m) {
      MetricDatum d;
      d.metric = *a.metric;
      d.timestamp = clock.Now() - absl::Minutes(m) + absl::Seconds(1);
      d.value = (i % 7 == 0) ? 95 : 40;  // one alarm in seven fires
      data.push_back(std::move(d));
    }
    if (data.size() >= 5000) {
      if (!metrics.Put(kAccount, data).ok()) abort();
      data.clear();
    }
  }
  if (!metrics.Put(kAccount, data).ok()) abort();
  const double setup = absl::ToDoubleSeconds(absl::Now() - t0);

  SchedulerOptions options;
  options.evaluate_every_tick = true;
  AlarmScheduler scheduler(alarms, metrics, clock, options);
  // First tick: every alarm leaves INSUFFICIENT_DATA (n transitions to commit).
  absl::Time w0 = absl::Now();
  auto first = scheduler.Tick(clock.Now());
  const double first_wall = absl::ToDoubleSeconds(absl::Now() - w0);
  if (!first.ok()) abort();
  // Steady state: a new period, nothing changes.
  double best_cpu = 1e9;
  for (int round = 0; round < 3; ++round) {
    clock.Advance(absl::Minutes(1));
    auto stats = scheduler.Tick(clock.Now() - absl::Minutes(1) + absl::Seconds(30));
    if (!stats.ok()) abort();
    best_cpu = std::min(best_cpu, absl::ToDoubleSeconds(stats->cpu));
  }
  printf(
      "evaluate  alarms=%d  evaluation CPU per period %.3f s (%.2f us/alarm)  first tick "
      "with %d transitions: %.2f s wall (evaluation %.3f s CPU)  [setup %.1f s]\n",
      n, best_cpu, best_cpu * 1e6 / n, first->transitions, first_wall,
      absl::ToDoubleSeconds(first->cpu), setup);
}

// --- 3. Latency from the firing evaluation to the incident ------------------------------------

void BenchLatency(int runs) {
  const std::string dir = TempDir();
  {
    auto sqlite = OpenStore(dir);
    SimulatedClock clock(absl::Now());
    opsitems::OpsItemService ops(*sqlite, clock);
    incidents::IncidentManager im(*sqlite, clock, ops);
    outbox::OutboxOptions outbox_options;
    outbox_options.delivery_threads = 4;
    outbox::StoreOutbox outbox(*sqlite, clock, outbox_options);
    MetricStore metrics(*sqlite);
    if (!metrics.Recover().ok()) abort();
    AlarmDependencies deps;
    deps.outbox = &outbox;
    deps.incidents = &im.incidents();
    deps.ops_items = &ops;
    AlarmService alarms(*sqlite, clock, AlarmServiceOptions(), deps);
    if (!alarms.Load().ok()) abort();

    klaxon::Mutex mu;
    std::condition_variable done_cv;
    std::vector<double> latencies;
    absl::Time fired_at;
    bool done = true;
    outbox.RegisterHandler(kAlarmActionKind, [&](const outbox::Entry& e) {
      absl::Status s = alarms.RunAction(e.id, e.payload);
      {
        klaxon::MutexLock lock(&mu);
        latencies.push_back(absl::ToDoubleMilliseconds(absl::Now() - fired_at));
        done = true;
      }
      done_cv.notify_all();
      return s;
    });
    if (!outbox.Start().ok()) abort();

    incidents::Scope im_scope{kAccount, "us-east-1", "bench"};
    incidents::CreateReplicationSetRequest rs;
    rs.regions["us-east-1"] = std::nullopt;
    if (!im.replication_sets().Create(im_scope, rs).ok()) abort();
    incidents::CreateResponsePlanRequest plan;
    plan.name = "bench";
    plan.incident_template.title = "Bench";
    plan.incident_template.impact = 3;
    if (!im.response_plans().Create(im_scope, plan).ok()) abort();

    Scope scope{kAccount, "us-east-1", "bench"};
    SchedulerOptions options;
    options.evaluate_every_tick = true;
    AlarmScheduler scheduler(alarms, metrics, clock, options);
    for (int i = 0; i < runs; ++i) {
      MetricAlarm a;
      a.name = absl::StrCat("latency-", i);
      a.metric = MetricId{"Bench", "Errors", {{"Run", absl::StrCat(i)}}};
      a.statistic = "Sum";
      a.period = 60;
      a.evaluation_periods = 1;
      a.threshold = 0;
      a.comparison = Comparison::kGreaterThanThreshold;
      a.alarm_actions = {"arn:aws:ssm-incidents::123456789012:responseplan/bench"};
      if (!alarms.PutMetricAlarm(scope, a).ok()) abort();
      MetricDatum d;
      d.metric = *a.metric;
      d.timestamp = EvaluationEnd(clock.Now(), 60) - absl::Seconds(30);
      d.value = 1;
      if (!metrics.Put(kAccount, {d}).ok()) abort();
      {
        klaxon::MutexLock lock(&mu);
        done = false;
        fired_at = absl::Now();
      }
      auto stats = scheduler.Tick(clock.Now());
      if (!stats.ok() || stats->transitions != 1) {
        fprintf(stderr, "latency run %d: no transition\n", i);
        abort();
      }
      klaxon::MutexLock lock(&mu);
      while (!done) lock.Wait(done_cv);
    }
    outbox.Stop();
    auto page = im.incidents().List(im_scope, {}, 100, "");
    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double p) {
      return latencies[std::min<size_t>(latencies.size() - 1, p * latencies.size())];
    };
    printf(
        "latency  firing evaluation -> incident committed, %d runs: p50 %.1f ms  p90 %.1f ms  "
        "p99 %.1f ms  max %.1f ms  (%zu incidents listed)\n",
        runs, pct(0.5), pct(0.9), pct(0.99), latencies.back(),
        page.ok() ? page->items.size() : size_t(0));
  }
  std::filesystem::remove_all(dir);
}

// --- 4. CPU per PutMetricData request inside the handler and the metric store -----------------

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void BenchHandler(int values_per_datum, int requests) {
  namespace json = boost::json;
  storage::MemoryStore memory;
  SimulatedClock clock(absl::Now());
  MetricStoreOptions memory_options;
  memory_options.persist = false;
  MetricStore metrics(memory, memory_options);
  AlarmService alarms(memory, clock, AlarmServiceOptions(), AlarmDependencies());
  if (!alarms.Load().ok()) abort();
  api::OperationTable table;
  api::RegisterCloudWatchHandlers(table, {metrics, alarms, clock});
  const api::Handler* handler = table.Find("cloudwatch", "PutMetricData");
  if (handler == nullptr) abort();
  api::CallContext ctx;
  ctx.caller.account_id = kAccount;
  ctx.caller.region = "us-east-1";
  ctx.service = "cloudwatch";
  ctx.operation = "PutMetricData";
  // The input as the codecs hand it over (put_metric_load's request).
  const double epoch = absl::ToUnixSeconds(clock.Now()) - 120;
  json::array data;
  std::vector<MetricDatum> datums;
  for (int i = 0; i < 1000; ++i) {
    json::object d{
        {"MetricName", "Latency"},
        {"Unit", "Milliseconds"},
        {"Timestamp", epoch},
        {"Dimensions",
         json::array{json::object{{"Name", "Host"}, {"Value", absl::StrCat("h0-", i % 100)}},
                     json::object{{"Name", "Route"}, {"Value", absl::StrCat("/r", i / 100)}}}}};
    MetricDatum m;
    m.metric =
        MetricId{"Load",
                 "Latency",
                 {{"Host", absl::StrCat("h0-", i % 100)}, {"Route", absl::StrCat("/r", i / 100)}}};
    m.unit = "Milliseconds";
    m.timestamp = absl::FromUnixSeconds(static_cast<int64_t>(epoch));
    if (values_per_datum > 1) {
      json::array values;
      for (int k = 0; k < values_per_datum; ++k) {
        values.emplace_back(i + k * 0.5);
        m.values.push_back(i + k * 0.5);
      }
      d["Values"] = std::move(values);
      m.kind = MetricDatum::Kind::kValues;
    } else {
      d["Value"] = i * 0.25;
      m.value = i * 0.25;
    }
    data.push_back(std::move(d));
    datums.push_back(std::move(m));
  }
  const json::object input{{"Namespace", "Load"}, {"MetricData", std::move(data)}};
  // Warm up (series created), then measure.
  for (int i = 0; i < 20; ++i) {
    if (!(*handler)(ctx, input).ok()) abort();
  }
  double t0 = ThreadCpuSeconds();
  for (int i = 0; i < requests; ++i) {
    if (!(*handler)(ctx, input).ok()) abort();
  }
  const double with_handler = (ThreadCpuSeconds() - t0) / requests;
  t0 = ThreadCpuSeconds();
  for (int i = 0; i < requests; ++i) {
    if (!metrics.Put(kAccount, datums).ok()) abort();
  }
  const double store_only = (ThreadCpuSeconds() - t0) / requests;
  // Durable: the log row and its commit (one writer; the SQLite writer thread's CPU is not in
  // this thread's time, so wall time is reported for it).
  const std::string dir = TempDir();
  double durable_cpu = 0, durable_wall = 0;
  {
    auto sqlite = OpenStore(dir);
    MetricStore durable(*sqlite);
    if (!durable.Recover().ok()) abort();
    for (int i = 0; i < 5; ++i) {
      if (!durable.Put(kAccount, datums).ok()) abort();
    }
    const int n = std::max(1, requests / 4);
    const absl::Time w0 = absl::Now();
    t0 = ThreadCpuSeconds();
    for (int i = 0; i < n; ++i) {
      if (!durable.Put(kAccount, datums).ok()) abort();
    }
    durable_cpu = (ThreadCpuSeconds() - t0) / n;
    durable_wall = absl::ToDoubleSeconds(absl::Now() - w0) / n;
  }
  std::filesystem::remove_all(dir);
  const double points = 1000.0 * values_per_datum;
  printf(
      "handler  values/datum=%-3d per 1000-datum request, CPU: handler conversion %.0f us + "
      "MetricStore::Put in memory %.0f us (= %.0f datapoints per CPU-second); durable Put "
      "%.0f us CPU in the caller, %.2f ms wall (fsync)\n",
      values_per_datum, (with_handler - store_only) * 1e6, store_only * 1e6, points / with_handler,
      durable_cpu * 1e6, durable_wall * 1e3);
}

}  // namespace
}  // namespace klaxon::alarms

int main(int argc, char** argv) {
  int alarms = 100000;
  double seconds = 5;
  int runs = 200;
  bool put = true, evaluate = true, latency = true, handler = true;
  int put_threads = 16, put_values = 0;  // --put THREADS:VALUES runs that one configuration
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--alarms" && i + 1 < argc) alarms = atoi(argv[++i]);
    if (arg == "--seconds" && i + 1 < argc) seconds = atof(argv[++i]);
    if (arg == "--latency-runs" && i + 1 < argc) runs = atoi(argv[++i]);
    if (arg == "--checkpoint-rows" && i + 1 < argc) {
      klaxon::alarms::g_checkpoint_rows = static_cast<size_t>(atol(argv[++i]));
    }
    if (arg == "--put" && i + 1 < argc) {
      if (sscanf(argv[++i], "%d:%d", &put_threads, &put_values) != 2) return 2;
    }
    if (arg == "--only" && i + 1 < argc) {
      std::string only = argv[++i];
      put = only == "put";
      evaluate = only == "evaluate";
      latency = only == "latency";
      handler = only == "handler";
    }
  }
  if (put) {
    if (put_values > 0) {
      klaxon::alarms::BenchPut(put_threads, put_values, seconds);
      put = false;
    }
  }
  if (put) {
    klaxon::alarms::BenchPut(2, 1, seconds, /*persist=*/false);
    klaxon::alarms::BenchPut(1, 1, seconds);
    klaxon::alarms::BenchPut(4, 1, seconds);
    klaxon::alarms::BenchPut(16, 1, seconds);
    klaxon::alarms::BenchPut(4, 20, seconds);
  }
  if (handler) {
    klaxon::alarms::BenchHandler(1, 200);
    klaxon::alarms::BenchHandler(20, 100);
  }
  if (evaluate) klaxon::alarms::BenchEvaluate(alarms);
  if (latency) klaxon::alarms::BenchLatency(runs);
  return 0;
}
