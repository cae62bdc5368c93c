#include "alarms/metric_store.h"

#include <filesystem>
#include <memory>
#include <random>

#include "common/ids.h"
#include "common/status.h"
#include "gtest/gtest.h"
#include "storage/memory_store.h"
#include "storage/sqlite/sqlite_store.h"

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

}  // namespace
}  // namespace klaxon::alarms
