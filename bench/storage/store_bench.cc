// Group-commit throughput of SqliteStore: Write() calls per second with 1, 8 and 64 concurrent
// writers, each Write() putting 5 rows of ~300 bytes (the shape of an incident creation: record,
// dedup key, timeline event, related item, parent OpsItem link), with synchronous=FULL unless
// the benchmark name says otherwise. Reported counters: writes/s (items_per_second), commits/s and
// mean batch size.
//
//   build/release/bench/storage/store_bench --benchmark_min_time=2
//
// The data directory is under $TMPDIR (default /tmp); point TMPDIR at the disk you care about.

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "storage/sqlite/sqlite_store.h"

namespace klaxon::storage {
namespace {

// One store shared by the threads of a benchmark run (Google Benchmark runs the threads of one
// run together; thread 0 sets up and tears down).
struct Shared {
  std::string dir;
  std::unique_ptr<SqliteStore> store;
  SqliteStoreStats before;
  std::atomic<uint64_t> next_id{0};
};
Shared* shared = nullptr;

std::string TempDir() {
  const char* base = getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/klaxon_store_bench_XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) abort();
  return tmpl;
}

void BM_Write5Puts(benchmark::State& state, SqliteSynchronous sync) {
  if (state.thread_index() == 0) {
    shared = new Shared;
    shared->dir = TempDir();
    SqliteOptions options;
    options.data_dir = shared->dir;
    options.synchronous = sync;
    auto store = SqliteStore::Open(options);
    if (!store.ok()) {
      state.SkipWithError(std::string(store.status().message()).c_str());
      return;
    }
    shared->store = std::move(*store);
    shared->before = shared->store->stats();
  }
  // Threads of one run start together after thread 0's setup (the benchmark barrier).
  const std::string payload(300, 'x');
  for (auto _ : state) {
    uint64_t n = shared->next_id.fetch_add(1);
    std::string id = absl::StrFormat("%016x", n);
    absl::Status status = shared->store->Write([&](WriteTxn& txn) -> absl::Status {
      for (const char* table : {"incidents", "incident_dedup", "timeline", "related", "opsitems"}) {
        absl::Status s = txn.Put(table, "000000000000", id, payload);
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    });
    if (!status.ok()) {
      state.SkipWithError(std::string(status.message()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    SqliteStoreStats after = shared->store->stats();
    double commits = static_cast<double>(after.commits - shared->before.commits);
    double writes = static_cast<double>(after.writes - shared->before.writes);
    state.counters["commits"] = benchmark::Counter(commits, benchmark::Counter::kIsRate);
    state.counters["batch"] = commits > 0 ? writes / commits : 0;
    shared->store->Close();
    std::error_code ec;
    std::filesystem::remove_all(shared->dir, ec);
    delete shared;
    shared = nullptr;
  }
}

BENCHMARK_CAPTURE(BM_Write5Puts, full, SqliteSynchronous::kFull)
    ->Threads(1)
    ->Threads(8)
    ->Threads(64)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Write5Puts, normal, SqliteSynchronous::kNormal)
    ->Threads(1)
    ->Threads(8)
    ->Threads(64)
    ->UseRealTime();
// No fsync at all: the CPU ceiling of the group-commit path (not a durable configuration).
BENCHMARK_CAPTURE(BM_Write5Puts, off, SqliteSynchronous::kOff)
    ->Threads(1)
    ->Threads(8)
    ->Threads(64)
    ->UseRealTime();

}  // namespace
}  // namespace klaxon::storage

int main(int argc, char** argv) {
  // Debian's Abseil is built without NDEBUG, which turns on absl::Mutex deadlock detection (a
  // global graph updated on every lock and every Mutex destruction). Production binaries turn it
  // off; so does the benchmark. KLAXON_MUTEX_DEADLOCK_DETECTION=1 keeps it on for comparison.
  const char* keep = getenv("KLAXON_MUTEX_DEADLOCK_DETECTION");
  if (keep == nullptr || std::string(keep) != "1") {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
