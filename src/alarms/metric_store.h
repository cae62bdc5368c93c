#pragma once
// The metric store: CloudWatch metric data of every account of one Region, in memory, durable
// through the Store.
//
// Data model. A series is (account, metric, unit). Each series keeps aggregates (statistics.h) in
// time buckets at four resolutions, as CloudWatch retains data:
//   level 0: 1-second buckets (high-resolution data, StorageResolution 1), kept `high_res`;
//   level 1: 1-minute buckets (standard data, and level 0 once older), kept `minute`;
//   level 2: 5-minute buckets, kept `five_minute`;  level 3: 1-hour buckets, kept `hour`.
// Compact() rolls each level older than its retention into the next coarser one, and drops
// level 3 data older than its retention (defaults: AWS's 3 h / 15 d / 63 d / 455 d).
//
// Memory bound. Compact() also enforces `max_memory_bytes`: while the estimated size is above it,
// the oldest buckets of every series are dropped (oldest first, whatever the level). Each bucket's
// value distribution is itself bounded (statistics.h).
//
// Durability. Put() appends the request's datapoints as ONE row of table `cw_metric_log` in its
// own Store transaction (so concurrent puts share group commits) and applies them in memory after
// the commit: a Put() that returned is durable. Checkpoint() (periodically, and at shutdown)
// writes the buckets changed since the previous checkpoint (`cw_metric_buckets`, one row per
// bucket; `cw_metric_series` per series) and marks exactly the log rows those changes include as
// folded in (`cw_metric_folded`), in one transaction; the marked log rows are then deleted a few
// per transaction (a long delete of large rows would hold up puts). Recover() loads the
// checkpoint and replays the log rows not marked, so every acknowledged datapoint is counted
// exactly once after a crash.
//
// Thread-safety: all methods are thread-safe. Put/Query/List run concurrently (sharded locks);
// Checkpoint briefly excludes Put's in-memory apply. Copy/move: neither.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "alarms/statistics.h"
#include "alarms/types.h"
#include "storage/store.h"

namespace klaxon::alarms {

// One normalized datapoint of PutMetricData (a MetricDatum of the model).
struct MetricDatum {
  enum class Kind { kValue, kValues, kStatisticSet };
  MetricId metric;  // normalized (dimensions sorted)
  std::string unit = std::string(kUnitNone);
  absl::Time timestamp;
  int storage_resolution = 60;  // 1 or 60
  Kind kind = Kind::kValue;
  double value = 0;
  std::vector<double> values;
  std::vector<double> counts;  // empty = 1 each
  double sample_count = 0, sum = 0, min = 0, max = 0;
};

struct MetricStoreOptions {
  std::string region = "us-east-1";
  absl::Duration high_res_retention = absl::Hours(3);
  absl::Duration minute_retention = absl::Hours(24 * 15);
  absl::Duration five_minute_retention = absl::Hours(24 * 63);
  absl::Duration hour_retention = absl::Hours(24 * 455);
  size_t max_memory_bytes = size_t{1} << 30;
  // ListMetrics shows metrics with data in this window (AWS: two weeks).
  absl::Duration list_window = absl::Hours(24 * 14);
  // False: nothing is written to the Store (benchmarks of the in-memory part; tests).
  bool persist = true;
};

// A metric as ListMetrics reports it.
struct ListedMetric {
  MetricId metric;
  absl::Time last_data;
};

// A filter of ListMetrics: the metric must have the dimension `name` (with `value` if set).
struct DimensionFilter {
  std::string name;
  std::optional<std::string> value;
};

struct MetricStoreStats {
  size_t series = 0;
  size_t buckets = 0;
  size_t memory_bytes = 0;
  uint64_t datapoints = 0;  // samples applied since start (Values count individually)
  uint64_t log_rows = 0;    // log rows written since start
};

class MetricStore {
 public:
  explicit MetricStore(storage::Store& store, MetricStoreOptions options = {});
  MetricStore(const MetricStore&) = delete;
  MetricStore& operator=(const MetricStore&) = delete;
  ~MetricStore();

  // Loads the last checkpoint and replays the log. Call once, before any other method.
  // Errors: Store failures; kDataLoss for a row that does not decode.
  absl::Status Recover();

  // Adds datapoints of one account (already validated by the caller), durably. Errors: Store
  // failures (nothing was applied).
  absl::Status Put(const std::string& account, const std::vector<MetricDatum>& data);

  // One aggregate per window [start + i*period, start + (i+1)*period), i in [0, n), of the
  // metric's data with `unit` (nullopt: every unit merged). Windows without data are empty.
  std::vector<Aggregate> Query(const std::string& account, const MetricId& metric,
                               const std::optional<std::string>& unit, absl::Time start,
                               absl::Duration period, int n) const;

  // Like Query, per unit (GetMetricStatistics returns one datapoint per unit and window).
  std::map<std::string, std::vector<Aggregate>> QueryByUnit(const std::string& account,
                                                            const MetricId& metric,
                                                            const std::optional<std::string>& unit,
                                                            absl::Time start, absl::Duration period,
                                                            int n) const;

  // Metrics of `account` with data since `since`, matching the optional namespace, name and
  // dimension filters, sorted by (namespace, name, dimensions).
  std::vector<ListedMetric> List(const std::string& account, const std::optional<std::string>& ns,
                                 const std::optional<std::string>& name,
                                 const std::vector<DimensionFilter>& dimensions,
                                 absl::Time since) const;

  // A number that grows whenever data of the metric (any unit) is added; 0 if it has none.
  // Lets the scheduler re-evaluate exactly the alarms whose data changed.
  uint64_t UpdateSequence(const std::string& account, const MetricId& metric) const;

  // Rolls up and expires buckets as of `now`, then enforces the memory bound.
  void Compact(absl::Time now);

  // Persists the changes since the last checkpoint and trims the log (no-op when !persist).
  absl::Status Checkpoint();

  MetricStoreStats Stats() const;
  const MetricStoreOptions& options() const { return options_; }

 private:
  static constexpr int kLevels = 4;
  using RowKey = std::tuple<std::string, std::string, std::string>;  // table, account, id
  struct Series {
    uint64_t id = 0;
    std::string unit;
    absl::btree_map<int64_t, Aggregate> levels[kLevels];
    absl::flat_hash_set<uint64_t> dirty;  // BucketKey(level, start)
    bool persisted = false;               // its cw_metric_series row exists
    int64_t last_data = 0;                // unix seconds of the newest datapoint
    uint64_t updated = 0;                 // put_seq_ of the last datapoint applied
  };
  struct Entry {
    std::string account;
    MetricId metric;
    std::vector<std::unique_ptr<Series>> units;
  };
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, std::unique_ptr<Entry>> entries ABSL_GUARDED_BY(mu);
    // Rows to delete at the next checkpoint (buckets and series removed from memory).
    std::vector<RowKey> removed ABSL_GUARDED_BY(mu);
  };
  static constexpr int kShards = 16;

  static std::string EntryKey(const std::string& account, const MetricId& metric);
  Shard& ShardFor(const std::string& key) const;
  Series& SeriesFor(Shard& shard, const std::string& key, const std::string& account,
                    const MetricId& metric, const std::string& unit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  // Applies data in memory (marks buckets dirty). Returns samples applied.
  uint64_t Apply(const std::string& account, const std::vector<MetricDatum>& data);
  void ApplyOne(Series& series, const MetricDatum& d);
  std::string EncodeLog(const std::vector<MetricDatum>& data) const;
  static absl::Status DecodeLog(std::string_view text, std::vector<MetricDatum>* out);
  // Deletes log rows a committed checkpoint contains, with their markers, a few per transaction.
  absl::Status TrimLog(const std::vector<std::pair<std::string, std::string>>& folded);
  std::string SeriesRowId(uint64_t id) const;
  std::string BucketRowId(uint64_t id, int level, int64_t start) const;
  void MergeInto(Series& s, int level, int64_t start, const Aggregate& agg);
  void RemoveBucket(Shard& shard, const Entry& entry, Series& s, int level, int64_t start)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  // Rolls up / expires one series; returns false when it became empty.
  bool CompactSeries(Shard& shard, const Entry& entry, Series& s, int64_t now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  void EnforceMemoryBound();
  void CollectWindows(const Series& s, int64_t start, int64_t period, int n,
                      std::vector<Aggregate>& out) const;

  storage::Store& store_;
  const MetricStoreOptions options_;
  mutable Shard shards_[kShards];
  std::atomic<uint64_t> next_series_id_{1};
  std::atomic<uint64_t> next_log_seq_{1};
  std::atomic<uint64_t> datapoints_{0};
  std::atomic<uint64_t> put_seq_{0};
  std::atomic<uint64_t> log_rows_{0};

  // Put's in-memory apply holds it shared; Checkpoint's snapshot holds it exclusively.
  mutable absl::Mutex apply_mu_;
  absl::Mutex applied_mu_;
  std::vector<std::pair<std::string, std::string>> applied_log_ ABSL_GUARDED_BY(applied_mu_);
  absl::flat_hash_set<std::string> known_accounts_ ABSL_GUARDED_BY(applied_mu_);

  absl::Mutex checkpoint_mu_;
  // Rows of a failed checkpoint, written by the next one (nullopt deletes).
  std::map<RowKey, std::optional<std::string>> pending_ ABSL_GUARDED_BY(checkpoint_mu_);
  std::vector<std::pair<std::string, std::string>> pending_log_ ABSL_GUARDED_BY(checkpoint_mu_);
};

}  // namespace klaxon::alarms
