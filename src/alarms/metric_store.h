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
// persists the buckets changed since the previous checkpoint in BOUNDED transactions, so that no
// long write holds up the puts' group commits:
//   1. snapshot (Put's in-memory apply excluded for the copy): the log rows applied since the
//      previous checkpoint, and per changed series its changed buckets; the checkpoint gets the
//      next generation number G;
//   2. each of those log rows gets a marker row `cw_metric_folded` = G (a few thousand per
//      transaction);
//   3. the series are written a few hundred rows per transaction, each series whole in one
//      transaction: its bucket rows (`cw_metric_buckets`) and its series row
//      (`cw_metric_series`, carrying gen = G; a series Compact emptied gets a tombstone row
//      with its gen);
//   4. the marked log rows are deleted a few per transaction, then the tombstones (and the dead
//      series leave memory; until then new data revives the same series id, so a metric and
//      unit never have two series rows).
// Invariant: a series row with gen g holds exactly the data of the log rows with a marker <= g.
// Recover() loads the series and buckets, then replays each log row with marker m (m = infinity
// when unmarked) into exactly the series whose stored gen is < m. A crash anywhere in 1-4 thus
// counts every acknowledged datapoint exactly once: the series a partial checkpoint wrote skip the
// rows it folded in, the others replay them. A failed step puts its work back (the series become
// dirty again) for the next checkpoint. Rows written before generations existed read as gen 0 /
// marker 0 (their checkpoints were single transactions).
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
#include "absl/time/time.h"
#include "alarms/shared_mutex.h"
#include "alarms/statistics.h"
#include "alarms/types.h"
#include "common/mutex.h"
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
  // Rows one checkpoint transaction writes for series (a series is never split); markers and
  // tombstones go 4x as many per transaction. Bounds how long a checkpoint holds up puts.
  size_t checkpoint_batch_rows = 512;
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
  struct Series {
    uint64_t id = 0;
    std::string unit;
    absl::btree_map<int64_t, Aggregate> levels[kLevels];
    // Buckets changed (or removed) since the last checkpoint: BucketKey(level, start).
    absl::flat_hash_set<uint64_t> dirty;
    int64_t last_data = 0;  // unix seconds of the newest datapoint
    uint64_t updated = 0;   // put_seq_ of the last datapoint applied
    // Emptied by Compact. It stays (invisible) until a checkpoint has written its tombstone and
    // deleted it again, so that new data revives the same id: a metric and unit never have two
    // series rows at once.
    bool dead = false;
  };
  struct Entry {
    std::string account;
    MetricId metric;
    std::vector<std::unique_ptr<Series>> units;
  };
  struct Shard {
    mutable Mutex mu;
    absl::flat_hash_map<std::string, std::unique_ptr<Entry>> entries ABSL_GUARDED_BY(mu);
  };
  static constexpr int kShards = 16;

  // A log row applied in memory: (account, row id).
  using LogRef = std::pair<std::string, std::string>;
  struct Tombstone {
    std::string account;
    std::string entry_key;
    uint64_t id = 0;
  };
  // The rows of one series that a checkpoint writes together.
  struct SeriesWrite {
    std::string account;
    std::string entry_key;
    uint64_t id = 0;
    MetricId metric;
    std::string unit;
    bool tombstone = false;                                              // the series is dead
    std::vector<std::pair<uint64_t, std::optional<Aggregate>>> buckets;  // nullopt: delete
  };

  static std::string EntryKey(const std::string& account, const MetricId& metric);
  static void AppendEntryKey(const std::string& account, const MetricId& metric, std::string* key);
  static size_t ShardIndex(std::string_view key);
  Shard& ShardFor(const std::string& key) const;
  Series& SeriesFor(Shard& shard, std::string_view key, const std::string& account,
                    const MetricId& metric, const std::string& unit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  // Applies data in memory (marks buckets dirty). Returns samples applied.
  uint64_t Apply(const std::string& account, const std::vector<MetricDatum>& data);
  void ApplyOne(Series& series, const MetricDatum& d, uint64_t seq);
  std::string EncodeLog(const std::vector<MetricDatum>& data) const;
  static absl::Status DecodeLog(std::string_view text, std::vector<MetricDatum>* out);
  // Step 1 of Checkpoint (under apply_mu_ exclusively): the work of the next checkpoint.
  std::vector<SeriesWrite> Snapshot() ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  // Gives the writes from `from` on back to memory (dirty again) after a failed step.
  void Requeue(std::vector<SeriesWrite>& writes, size_t from);
  // Steps 2-4 of Checkpoint.
  absl::Status WriteMarkers(uint64_t gen, const std::vector<LogRef>& rows);
  absl::Status WriteSeries(uint64_t gen, std::vector<SeriesWrite>& writes, size_t* written);
  // Deletes log rows a completed checkpoint contains, with their markers, a few per transaction,
  // then the tombstones (entry key, series id) still tombstones. On error, what is left is in
  // *rows / *tombstones.
  absl::Status TrimLog(std::vector<LogRef>* rows, std::vector<Tombstone>* tombstones);
  // Reads every account's rows (Recover, step 1).
  absl::Status LoadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(checkpoint_mu_);
  std::string SeriesRowId(uint64_t id) const;
  std::string BucketRowId(uint64_t id, int level, int64_t start) const;
  void MergeInto(Series& s, int level, int64_t start, const Aggregate& agg);
  void RemoveBucket(Series& s, int level, int64_t start);
  // After a checkpoint deleted the tombstones: drops those dead series that were not revived.
  void ForgetDead(const std::vector<Tombstone>& deleted);
  // Rolls up / expires one series; returns false when it became empty.
  bool CompactSeries(Series& s, int64_t now);
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
  mutable SharedMutex apply_mu_;
  Mutex applied_mu_;
  // Log rows applied in memory since the last snapshot (not marked yet).
  std::vector<LogRef> applied_log_ ABSL_GUARDED_BY(applied_mu_);
  absl::flat_hash_set<std::string> known_accounts_ ABSL_GUARDED_BY(applied_mu_);

  Mutex checkpoint_mu_;
  uint64_t gen_ ABSL_GUARDED_BY(checkpoint_mu_) = 0;  // of the last checkpoint started
  // Log rows of a checkpoint whose markers could not be written: marked by the next one.
  std::vector<LogRef> pending_mark_ ABSL_GUARDED_BY(checkpoint_mu_);
  // Marked log rows (and tombstones) to delete once a checkpoint has written all its series.
  std::vector<LogRef> pending_trim_ ABSL_GUARDED_BY(checkpoint_mu_);
  std::vector<Tombstone> pending_tombstones_ ABSL_GUARDED_BY(checkpoint_mu_);
};

}  // namespace klaxon::alarms
