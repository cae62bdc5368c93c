#include "alarms/metric_store.h"

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/status.h"
#include "gtest/gtest.h"
#include "storage/memory_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/test_util.h"

namespace klaxon::alarms {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1704067200);  // 2024-01-01T00:00:00Z

MetricDatum Value(const std::string& name, double v, absl::Time t, std::string unit = "None",
                  int resolution = 60) {
  MetricDatum d;
  d.metric = MetricId{"App", name, {{"Host", "a"}}};
  d.unit = std::move(unit);
  d.timestamp = t;
  d.storage_resolution = resolution;
  d.value = v;
  return d;
}

MetricId Metric(const std::string& name) { return MetricId{"App", name, {{"Host", "a"}}}; }

double Sum(const Aggregate& a) { return a.sum; }

TEST(MetricStore, PutAndQueryWindows) {
  storage::MemoryStore backing;
  MetricStore store(backing);
  ASSERT_TRUE(store.Recover().ok());
  std::vector<MetricDatum> data = {
      Value("Errors", 1, kT0 + absl::Seconds(5)), Value("Errors", 2, kT0 + absl::Seconds(65)),
      Value("Errors", 4, kT0 + absl::Seconds(70)), Value("Errors", 8, kT0 + absl::Seconds(200))};
  ASSERT_TRUE(store.Put("111111111111", data).ok());
  auto windows =
      store.Query("111111111111", Metric("Errors"), std::nullopt, kT0, absl::Seconds(60), 4);
  ASSERT_EQ(windows.size(), 4u);
  EXPECT_EQ(Sum(windows[0]), 1);
  EXPECT_EQ(Sum(windows[1]), 6);
  EXPECT_EQ(windows[1].count, 2);
  EXPECT_TRUE(windows[2].empty());
  EXPECT_EQ(Sum(windows[3]), 8);
  // 5-minute windows merge minute buckets.
  auto five =
      store.Query("111111111111", Metric("Errors"), std::nullopt, kT0, absl::Seconds(300), 1);
  EXPECT_EQ(Sum(five[0]), 15);
  // Other accounts and metrics see nothing.
  EXPECT_TRUE(
      store.Query("222222222222", Metric("Errors"), std::nullopt, kT0, absl::Seconds(60), 1)[0]
          .empty());
  EXPECT_TRUE(
      store.Query("111111111111", Metric("Other"), std::nullopt, kT0, absl::Seconds(60), 1)[0]
          .empty());
}

TEST(MetricStore, UnitsAreSeparateSeries) {
  storage::MemoryStore backing;
  MetricStore store(backing);
  ASSERT_TRUE(store
                  .Put("1", {Value("Latency", 10, kT0, "Milliseconds"),
                             Value("Latency", 1, kT0, "Seconds")})
                  .ok());
  EXPECT_EQ(store.Query("1", Metric("Latency"), std::nullopt, kT0, absl::Seconds(60), 1)[0].count,
            2);
  EXPECT_EQ(Sum(store.Query("1", Metric("Latency"), std::string("Seconds"), kT0, absl::Seconds(60),
                            1)[0]),
            1);
  auto by_unit = store.QueryByUnit("1", Metric("Latency"), std::nullopt, kT0, absl::Seconds(60), 1);
  EXPECT_EQ(by_unit.size(), 2u);
  EXPECT_EQ(Sum(by_unit["Milliseconds"][0]), 10);
}

TEST(MetricStore, HighResolutionAndRollup) {
  storage::MemoryStore backing;
  MetricStoreOptions options;
  options.high_res_retention = absl::Hours(1);
  options.minute_retention = absl::Hours(2);
  MetricStore store(backing, options);
  std::vector<MetricDatum> data;
  data.reserve(60);
  for (int s = 0; s < 60; ++s) data.push_back(Value("Hr", 1, kT0 + absl::Seconds(s), "None", 1));
  ASSERT_TRUE(store.Put("1", data).ok());
  auto tens = store.Query("1", Metric("Hr"), std::nullopt, kT0, absl::Seconds(10), 6);
  for (const auto& w : tens) EXPECT_EQ(w.count, 10);
  auto before = store.Stats();
  EXPECT_EQ(before.buckets, 60u);
  store.Compact(kT0 + absl::Minutes(90));  // 1 s buckets → one minute bucket
  EXPECT_EQ(store.Stats().buckets, 1u);
  EXPECT_EQ(store.Query("1", Metric("Hr"), std::nullopt, kT0, absl::Seconds(60), 1)[0].count, 60);
  store.Compact(kT0 + absl::Hours(3));  // minute → five-minute bucket
  EXPECT_EQ(store.Query("1", Metric("Hr"), std::nullopt, kT0, absl::Seconds(300), 1)[0].count, 60);
  store.Compact(kT0 + absl::Hours(24 * 600));  // past every retention
  EXPECT_EQ(store.Stats().series, 0u);
}

TEST(MetricStore, MemoryBoundDropsOldestData) {
  storage::MemoryStore backing;
  MetricStoreOptions options;
  options.max_memory_bytes = size_t{64} * 1024;
  options.persist = false;
  MetricStore store(backing, options);
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(
        store.Put("1", {Value("M" + std::to_string(i % 50), i, kT0 + absl::Minutes(i))}).ok());
  }
  EXPECT_GT(store.Stats().memory_bytes, options.max_memory_bytes);
  store.Compact(kT0 + absl::Minutes(2000));
  EXPECT_LE(store.Stats().memory_bytes, options.max_memory_bytes);
  // The newest data survives.
  EXPECT_EQ(store
                .Query("1", Metric("M49"), std::nullopt, kT0 + absl::Minutes(1999),
                       absl::Seconds(60), 1)[0]
                .sum,
            1999);
}

TEST(MetricStore, ListMetricsFilters) {
  storage::MemoryStore backing;
  MetricStore store(backing);
  MetricDatum a = Value("CPU", 1, kT0);
  MetricDatum b = Value("CPU", 1, kT0);
  b.metric.dimensions = {{"Host", "b"}, {"Zone", "z1"}};
  MetricDatum c = Value("Mem", 1, kT0 - absl::Hours(24 * 20));
  ASSERT_TRUE(store.Put("1", {a, b, c}).ok());
  auto all = store.List("1", std::nullopt, std::nullopt, {}, kT0 - absl::Hours(24 * 14));
  EXPECT_EQ(all.size(), 2u);  // Mem is older than two weeks
  auto zone = store.List("1", std::string("App"), std::string("CPU"), {{"Zone", std::nullopt}},
                         absl::InfinitePast());
  ASSERT_EQ(zone.size(), 1u);
  EXPECT_EQ(zone[0].metric.dimensions.size(), 2u);
  EXPECT_EQ(
      store
          .List("1", std::nullopt, std::nullopt, {{"Host", std::string("a")}}, absl::InfinitePast())
          .size(),
      2u);
}

class MetricStoreDurability : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("klaxon-metrics-" + NewUuid());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<storage::SqliteStore> Open() {
    storage::SqliteOptions options;
    options.data_dir = dir_.string();
    auto store = storage::SqliteStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return std::move(*store);
  }
  std::filesystem::path dir_;
};

// Every acknowledged Put counts exactly once after a restart, whether or not a checkpoint ran,
// including checkpoints interleaved with later puts and a compaction.
TEST_F(MetricStoreDurability, RecoversCheckpointPlusLogExactlyOnce) {
  double expected = 0;
  {
    auto sqlite = Open();
    MetricStore store(*sqlite);
    ASSERT_TRUE(store.Recover().ok());
    for (int i = 0; i < 50; ++i) {
      MetricDatum d = Value("Errors", i, kT0 + absl::Seconds(i));
      if (i % 7 == 0) {
        d.kind = MetricDatum::Kind::kValues;
        d.values = {1, 2, 3};
        d.counts = {1, 1, 2};
      }
      ASSERT_TRUE(store.Put("1", {d}).ok());
      expected += d.kind == MetricDatum::Kind::kValues ? 9 : i;
      if (i == 20 || i == 35) {
        ASSERT_TRUE(store.Checkpoint().ok());
      }
    }
    // No final checkpoint: the tail lives only in the log.
  }
  {
    auto sqlite = Open();
    MetricStore store(*sqlite);
    ASSERT_TRUE(store.Recover().ok());
    auto w = store.Query("1", Metric("Errors"), std::nullopt, kT0, absl::Seconds(60), 1);
    EXPECT_EQ(w[0].sum, expected);
    ASSERT_TRUE(store.Checkpoint().ok());
    ASSERT_TRUE(store.Put("1", {Value("Errors", 1000, kT0 + absl::Seconds(59))}).ok());
    expected += 1000;
  }
  for (int restart = 0; restart < 2; ++restart) {
    auto sqlite = Open();
    MetricStore store(*sqlite);
    ASSERT_TRUE(store.Recover().ok());
    auto w = store.Query("1", Metric("Errors"), std::nullopt, kT0, absl::Seconds(60), 1);
    EXPECT_EQ(w[0].sum, expected) << "restart " << restart;
    EXPECT_EQ(store.List("1", std::nullopt, std::nullopt, {}, absl::InfinitePast()).size(), 1u);
    ASSERT_TRUE(store.Checkpoint().ok());
  }
}

// A crash after a checkpoint committed but before its log rows were deleted: the rows marked as
// folded into the checkpoint are not replayed.
TEST_F(MetricStoreDurability, InterruptedLogTrimIsNotReplayed) {
  std::string row_id, row_value;
  {
    auto sqlite = Open();
    MetricStore store(*sqlite);
    ASSERT_TRUE(store.Recover().ok());
    ASSERT_TRUE(store.Put("1", {Value("Errors", 5, kT0)}).ok());
    ASSERT_TRUE(sqlite
                    ->Read([&](storage::ReadTxn& txn) {
                      return txn.Scan("cw_metric_log", "1", "", "", 0,
                                      [&](std::string_view id, std::string_view v) {
                                        row_id = std::string(id);
                                        row_value = std::string(v);
                                        return true;
                                      });
                    })
                    .ok());
    ASSERT_FALSE(row_id.empty());
    ASSERT_TRUE(store.Checkpoint().ok());
    // Put the log row and its marker back, as if the trim had not run.
    ASSERT_TRUE(sqlite
                    ->Write([&](storage::WriteTxn& txn) -> absl::Status {
                      KLAXON_RETURN_IF_ERROR(txn.Put("cw_metric_log", "1", row_id, row_value));
                      KLAXON_RETURN_IF_ERROR(txn.Put("cw_metric_folded", "1", row_id, ""));
                      return txn.Put("cw_metric_folded", "1", "us-east-1/00000000000000099999", "");
                    })
                    .ok());
  }
  for (int restart = 0; restart < 2; ++restart) {
    auto sqlite = Open();
    MetricStore store(*sqlite);
    ASSERT_TRUE(store.Recover().ok());
    EXPECT_EQ(store.Query("1", Metric("Errors"), std::nullopt, kT0, absl::Seconds(60), 1)[0].sum,
              5);
    int left = 0;
    ASSERT_TRUE(sqlite
                    ->Read([&](storage::ReadTxn& txn) -> absl::Status {
                      for (const char* table : {"cw_metric_log", "cw_metric_folded"}) {
                        KLAXON_RETURN_IF_ERROR(txn.Scan(table, "1", "", "", 0, [&](auto, auto) {
                          ++left;
                          return true;
                        }));
                      }
                      return absl::OkStatus();
                    })
                    .ok());
    EXPECT_EQ(left, 0);
  }
}

TEST_F(MetricStoreDurability, RollupIsPersisted) {
  {
    auto sqlite = Open();
    MetricStoreOptions options;
    options.high_res_retention = absl::Minutes(10);
    MetricStore store(*sqlite, options);
    ASSERT_TRUE(store.Recover().ok());
    std::vector<MetricDatum> data;
    data.reserve(30);
    for (int s = 0; s < 30; ++s) data.push_back(Value("Hr", 2, kT0 + absl::Seconds(s), "None", 1));
    ASSERT_TRUE(store.Put("1", data).ok());
    ASSERT_TRUE(store.Checkpoint().ok());
    store.Compact(kT0 + absl::Hours(1));
    ASSERT_TRUE(store.Checkpoint().ok());
    EXPECT_EQ(store.Stats().buckets, 1u);
  }
  auto sqlite = Open();
  MetricStore store(*sqlite);
  ASSERT_TRUE(store.Recover().ok());
  EXPECT_EQ(store.Stats().buckets, 1u);
  EXPECT_EQ(store.Query("1", Metric("Hr"), std::nullopt, kT0, absl::Seconds(60), 1)[0].sum, 60);
}

// A Store over a MemoryStore whose writes fail from the `fail_at`-th on (a crash: nothing after it
// commits), counting writes and the largest number of rows one transaction wrote.
class CrashingStore final : public storage::Store {
 public:
  CrashingStore(storage::Store& base, int fail_at) : base_(base), fail_at_(fail_at) {}
  absl::Status Write(absl::FunctionRef<absl::Status(storage::WriteTxn&)> fn) override {
    if (writes_.fetch_add(1) >= fail_at_ && fail_at_ >= 0) {
      return absl::UnavailableError("crashed");
    }
    return base_.Write([&](storage::WriteTxn& txn) -> absl::Status {
      Counting counting(txn);
      absl::Status s = fn(counting);
      size_t max = max_rows_.load();
      while (counting.rows > max && !max_rows_.compare_exchange_weak(max, counting.rows)) {
      }
      return s;
    });
  }
  absl::Status Read(absl::FunctionRef<absl::Status(storage::ReadTxn&)> fn) override {
    return base_.Read(fn);
  }
  void Close() override {}
  int writes() const { return writes_.load(); }
  bool crashed() const { return fail_at_ >= 0 && writes_.load() > fail_at_; }
  size_t max_rows() const { return max_rows_.load(); }

 private:
  struct Counting final : storage::testing::ForwardingTxn {
    using ForwardingTxn::ForwardingTxn;
    absl::Status Put(std::string_view table, std::string_view a, std::string_view id,
                     std::string_view value) override {
      ++rows;
      return ForwardingTxn::Put(table, a, id, value);
    }
    absl::Status Delete(std::string_view table, std::string_view a, std::string_view id) override {
      ++rows;
      return ForwardingTxn::Delete(table, a, id);
    }
    size_t rows = 0;
  };
  storage::Store& base_;
  const int fail_at_;
  std::atomic<int> writes_{0};
  std::atomic<size_t> max_rows_{0};
};

// Sum and count per metric name and unit over [from, from + hours).
std::map<std::string, std::pair<double, double>> Totals(const MetricStore& store,
                                                        const std::vector<std::string>& names,
                                                        absl::Time from, int hours) {
  std::map<std::string, std::pair<double, double>> out;
  for (const std::string& name : names) {
    for (const auto& [unit, windows] :
         store.QueryByUnit("1", Metric(name), std::nullopt, from, absl::Hours(1), hours)) {
      for (const Aggregate& w : windows) {
        if (w.empty()) continue;
        auto& t = out[absl::StrCat(name, "/", unit)];
        t.first += w.sum;
        t.second += w.count;
      }
    }
  }
  return out;
}

// A crash at every single write of a run (puts, checkpoints split into many transactions,
// rollups, series emptied by retention and revived) loses no acknowledged datapoint and counts
// none twice.
TEST(MetricStoreCrash, ExactlyOnceWhateverWriteTheCrashHits) {
  MetricStoreOptions options;
  options.high_res_retention = absl::Minutes(10);
  options.minute_retention = absl::Hours(1);
  options.five_minute_retention = absl::Hours(2);
  options.hour_retention = absl::Hours(3);
  options.checkpoint_batch_rows = 3;  // checkpoints of many transactions
  const std::vector<std::string> names = {"A", "B", "C", "D", "E"};
  const absl::Time later = kT0 + absl::Hours(10);
  // One run; returns the number of writes it made (when nothing fails).
  auto run = [&](CrashingStore& crashing, std::map<std::string, std::pair<double, double>>& acked,
                 bool& reached_b) {
    MetricStore store(crashing, options);
    if (!store.Recover().ok()) return;
    std::mt19937 rng(7);
    auto put = [&](absl::Time base, std::vector<std::string> which, int n) {
      std::vector<MetricDatum> data;
      for (int i = 0; i < n; ++i) {
        const std::string& name = which[rng() % which.size()];
        MetricDatum d =
            Value(name, static_cast<double>(rng() % 100), base + absl::Seconds(rng() % 1800),
                  rng() % 3 == 0 ? "Count" : "None", rng() % 2 ? 1 : 60);
        if (rng() % 5 == 0) {
          d.kind = MetricDatum::Kind::kValues;
          d.values = {1, 2, 3};
          d.counts = {1, 2, 3};
        }
        data.push_back(d);
      }
      if (!store.Put("1", data).ok()) return;
      for (const MetricDatum& d : data) {
        auto& t = acked[d.metric.name + "/" + d.unit];
        if (d.kind == MetricDatum::Kind::kValues) {
          t.first += 14;
          t.second += 6;
        } else {
          t.first += d.value;
          t.second += 1;
        }
      }
    };
    for (int i = 0; i < 6; ++i) put(kT0, {"A", "B", "C", "D"}, 40);
    (void)store.Checkpoint();
    for (int i = 0; i < 3; ++i) put(kT0, {"A", "B", "C"}, 40);
    store.Compact(kT0 + absl::Hours(1));  // 1 s buckets roll up into minutes
    (void)store.Checkpoint();
    put(kT0, {"D"}, 10);
    if (crashing.crashed()) return;  // the acknowledged data of phase A is checked
    // Phase B: everything above expires (every series dead), then new data revives some.
    store.Compact(later);
    reached_b = true;
    acked.clear();
    (void)store.Checkpoint();
    for (int i = 0; i < 4; ++i) put(later, {"A", "B", "E"}, 40);
    (void)store.Checkpoint();
    put(later, {"A", "C"}, 40);
    store.Compact(later);
    (void)store.Checkpoint();
    put(later, {"B", "E"}, 40);  // only in the log
  };
  storage::MemoryStore probe_base;
  CrashingStore probe(probe_base, -1);
  std::map<std::string, std::pair<double, double>> probe_acked;
  bool probe_b = false;
  run(probe, probe_acked, probe_b);
  const int total = probe.writes();
  ASSERT_GT(total, 20);
  for (int crash = 0; crash <= total; ++crash) {
    storage::MemoryStore base;
    std::map<std::string, std::pair<double, double>> acked;
    bool reached_b = false;
    {
      CrashingStore crashing(base, crash);
      run(crashing, acked, reached_b);
    }
    for (int restart = 0; restart < 2; ++restart) {
      MetricStore store(base, options);
      ASSERT_TRUE(store.Recover().ok()) << "crash at write " << crash;
      // Data that had expired may reappear until the next Compact (a crash before its deletion
      // reached the store); nothing acknowledged may be missing or doubled.
      if (reached_b) store.Compact(later);
      EXPECT_EQ(Totals(store, names, kT0, 12), acked)
          << "crash at write " << crash << ", restart " << restart;
    }
  }
}

// Concurrent puts, checkpoints and compactions; then a restart counts everything exactly once.
TEST(MetricStoreCrash, ConcurrentPutsAndCheckpoints) {
  storage::MemoryStore base;
  MetricStoreOptions options;
  options.high_res_retention = absl::Minutes(5);
  std::atomic<double> total{0};
  {
    MetricStore store(base, options);
    ASSERT_TRUE(store.Recover().ok());
    std::atomic<bool> stop{false};
    std::thread checkpointer([&] {
      for (int i = 0; !stop.load(); ++i) {
        EXPECT_TRUE(store.Checkpoint().ok());
        store.Compact(kT0 + absl::Minutes(i % 20));
      }
    });
    std::vector<std::thread> writers;
    writers.reserve(4);
    for (int t = 0; t < 4; ++t) {
      writers.emplace_back([&, t] {
        for (int i = 0; i < 300; ++i) {
          MetricDatum d = Value("M" + std::to_string((t * 7 + i) % 20), 1 + i % 3,
                                kT0 + absl::Seconds(i), "None", i % 2 ? 1 : 60);
          ASSERT_TRUE(store.Put("1", {d}).ok());
          double expected = total.load();
          while (!total.compare_exchange_weak(expected, expected + d.value)) {
          }
        }
      });
    }
    for (auto& w : writers) w.join();
    stop = true;
    checkpointer.join();
  }
  MetricStore store(base, options);
  ASSERT_TRUE(store.Recover().ok());
  double sum = 0;
  for (int m = 0; m < 20; ++m) {
    sum +=
        store.Query("1", Metric("M" + std::to_string(m)), std::nullopt, kT0, absl::Hours(1), 1)[0]
            .sum;
  }
  EXPECT_EQ(sum, total.load());
}

// A checkpoint of many changed series is split into bounded transactions.
TEST(MetricStoreCrash, CheckpointTransactionsAreBounded) {
  storage::MemoryStore base;
  CrashingStore counting(base, -1);
  MetricStore store(counting);
  ASSERT_TRUE(store.Recover().ok());
  std::vector<MetricDatum> data;
  for (int i = 0; i < 5000; ++i) {
    MetricDatum d = Value("Latency", i, kT0);
    d.metric.dimensions = {{"Host", "h" + std::to_string(i)}};
    data.push_back(std::move(d));
  }
  ASSERT_TRUE(store.Put("1", data).ok());
  const int before = counting.writes();
  ASSERT_TRUE(store.Checkpoint().ok());
  EXPECT_GE(counting.writes() - before, 10);  // 10,000 rows
  EXPECT_LE(counting.max_rows(), 512u);
}

}  // namespace
}  // namespace klaxon::alarms
