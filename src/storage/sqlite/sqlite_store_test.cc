// SqliteStore-specific tests: group commit, concurrency, snapshots, durability under kill -9,
// reopen and migrations, Close(). The Store contract itself is covered by storage_test
// (src/storage/store_test.cc), which runs the same suite against every backend.

#include "storage/sqlite/sqlite_store.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/test_util.h"

namespace klaxon::storage {
namespace {

using TempDir = storage::testing::TempDir;

using ::testing::HasSubstr;
using ::testing::Optional;

std::unique_ptr<SqliteStore> OpenOrDie(SqliteOptions options) {
  auto store = SqliteStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

std::unique_ptr<SqliteStore> OpenOrDie(const std::string& dir) {
  SqliteOptions options;
  options.data_dir = dir;
  return OpenOrDie(options);
}

absl::Status Put(Store& store, std::string_view id, std::string_view value) {
  return store.Write([&](WriteTxn& txn) { return txn.Put("t", "a", id, value); });
}

std::optional<std::string> Get(Store& store, std::string_view id) {
  std::optional<std::string> out;
  absl::Status status = store.Read([&](ReadTxn& txn) -> absl::Status {
    auto value = txn.Get("t", "a", id);
    if (!value.ok()) return value.status();
    out = *value;
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

// Runs `sql` on the database file with a private connection; returns the first column of the
// first row as text.
std::string QueryFile(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
  } else {
    out = std::string("open failed: ") + sqlite3_errmsg(db);
  }
  sqlite3_close_v2(db);
  return out;
}

// A one-shot event on std::mutex (visible to TSan, unlike absl::Notification from Debian's
// uninstrumented libabsl).
class Event {
 public:
  void Notify() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      notified_ = true;
    }
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return notified_; });
  }
  bool HasBeenNotified() {
    std::lock_guard<std::mutex> lock(mu_);
    return notified_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;
};

// Holds the writer thread inside a Write() function until Release(), so that the Write() calls
// made meanwhile queue up and are committed together as the next batch.
class WriterBlocker {
 public:
  explicit WriterBlocker(SqliteStore& store, std::function<void(WriteTxn&)> body = nullptr)
      : thread_([this, &store, body] {
          status_ = store.Write([&](WriteTxn& txn) {
            if (body) body(txn);
            entered_.Notify();
            release_.Wait();
            return absl::OkStatus();
          });
        }) {
    entered_.Wait();
  }
  ~WriterBlocker() { (void)Release(); }
  absl::Status Release() {
    if (!release_.HasBeenNotified()) release_.Notify();
    if (thread_.joinable()) thread_.join();
    return status_;
  }

 private:
  Event entered_;
  Event release_;
  absl::Status status_;
  std::thread thread_;
};

// Starts one thread per function, each calling Write(fn) after the previous one has queued, so
// that the queue holds them in this order.
std::vector<absl::Status> WriteInOrder(SqliteStore& store,
                                       std::vector<std::function<absl::Status(WriteTxn&)>> fns,
                                       WriterBlocker& blocker) {
  std::vector<absl::Status> results(fns.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < fns.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = store.Write(fns[i]); });
    while (store.stats().queued < i + 1) absl::SleepFor(absl::Microseconds(200));
  }
  EXPECT_TRUE(blocker.Release().ok());
  for (auto& t : threads) t.join();
  return results;
}

TEST(SqliteStore, OpenCreatesTheDirectoryAndAWalDatabase) {
  TempDir dir;
  std::string data = dir.path() + "/nested/data";
  auto store = OpenOrDie(data);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->path(), data + "/klaxon.db");
  EXPECT_TRUE(std::filesystem::exists(store->path()));
  ASSERT_TRUE(Put(*store, "x", "1").ok());
  EXPECT_EQ(QueryFile(store->path(), "PRAGMA journal_mode"), "wal");
}

TEST(SqliteStore, OpenRejectsBadOptions) {
  SqliteOptions options;
  EXPECT_EQ(SqliteStore::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
  TempDir dir;
  options.data_dir = dir.path();
  options.max_batch_size = 0;
  EXPECT_EQ(SqliteStore::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
  // A regular file where the directory should be.
  std::ofstream(dir.path() + "/file") << "x";
  options.max_batch_size = 16;
  options.data_dir = dir.path() + "/file/sub";
  EXPECT_EQ(SqliteStore::Open(options).status().code(), absl::StatusCode::kUnavailable);
}

TEST(SqliteStore, DataPersistsAcrossReopenAndMigrationsRunOnce) {
  TempDir dir;
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_TRUE(Put(*store, "x", "1").ok());
  }
  for (int i = 0; i < 2; ++i) {
    auto store = OpenOrDie(dir.path());
    EXPECT_THAT(Get(*store, "x"), Optional(std::string("1")));
  }
  std::string db = dir.path() + "/klaxon.db";
  EXPECT_EQ(QueryFile(db, "SELECT COUNT(*) FROM schema_migrations"), "1");
  EXPECT_EQ(QueryFile(db, "PRAGMA integrity_check"), "ok");
}

TEST(SqliteStore, CloseCheckpointsTheWal) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Put(*store, absl::StrCat(i), "v").ok());
  store->Close();
  std::string wal = store->path() + "-wal";
  EXPECT_TRUE(!std::filesystem::exists(wal) || std::filesystem::file_size(wal) == 0);
  EXPECT_EQ(QueryFile(store->path(), "SELECT COUNT(*) FROM kv"), "20");
}

TEST(SqliteStore, CheckpointsRunInTheBackground) {
  TempDir dir;
  SqliteOptions options;
  options.data_dir = dir.path();
  options.checkpoint_pages = 8;
  options.synchronous = SqliteSynchronous::kNormal;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  const std::string value(2000, 'v');
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(Put(*store, absl::StrFormat("%04d", i), value).ok());
  // The checkpointer runs asynchronously; give it a moment.
  for (int i = 0; i < 100 && store->stats().checkpoints == 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GT(store->stats().checkpoints, 0u);
  EXPECT_EQ(store->stats().failed_checkpoints, 0u);
  store.reset();
  EXPECT_EQ(QueryFile(dir.path() + "/klaxon.db", "SELECT COUNT(*) FROM kv"), "200");
}

// NORMAL, and FULL (whose writer writes the WAL through wal_write_buffer.h, here from its start
// again after each restart).
class WalRestartTest : public ::testing::TestWithParam<SqliteSynchronous> {};
INSTANTIATE_TEST_SUITE_P(Synchronous, WalRestartTest,
                         ::testing::Values(SqliteSynchronous::kNormal, SqliteSynchronous::kFull));

TEST_P(WalRestartTest, TheWalRestartsUnderConstantWrites) {
  TempDir dir;
  SqliteOptions options;
  options.data_dir = dir.path();
  options.checkpoint_pages = 8;
  options.wal_restart_pages = 32;
  options.synchronous = GetParam();
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  const std::string value(2000, 'v');
  // Never idle: without the writer's tail checkpoint the WAL would only grow (~1 page per write).
  // How many writes one restart takes depends on how long a background checkpoint runs on this
  // machine, so write until two restarts happened (bounded).
  int n = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (store->stats().wal_restarts < 2 && n < 50000 && absl::Now() < deadline) {
    ASSERT_TRUE(Put(*store, absl::StrFormat("%05d", n++), value).ok());
  }
  const SqliteStoreStats stats = store->stats();
  EXPECT_GE(stats.wal_restarts, 2u);
  EXPECT_GT(stats.wal_restart_checkpoints, 0u);
  EXPECT_GE(stats.wal_frames, static_cast<uint64_t>(n));  // each commit appended >= 1 page
  // The file is reused from its start after each restart: fewer pages than were appended.
  const std::string wal = store->path() + "-wal";
  EXPECT_LT(std::filesystem::file_size(wal), stats.wal_frames * 4096);
  EXPECT_THAT(Get(*store, absl::StrFormat("%05d", n - 1)), Optional(value));
  store.reset();
  EXPECT_EQ(QueryFile(dir.path() + "/klaxon.db", "SELECT COUNT(*) FROM kv"), absl::StrCat(n));
  EXPECT_EQ(QueryFile(dir.path() + "/klaxon.db", "PRAGMA integrity_check"), "ok");
}

TEST(SqliteStore, WriterCpuTimeIsCounted) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(Put(*store, absl::StrCat(i), "v").ok());
  EXPECT_GT(store->stats().writer_cpu_ns, 0u);
}

TEST(SqliteStore, RefusesADatabaseFromANewerSchema) {
  TempDir dir;
  OpenOrDie(dir.path()).reset();
  QueryFile(dir.path() + "/klaxon.db",
            "INSERT INTO schema_migrations(version, name) VALUES (99, 'future')");
  SqliteOptions options;
  options.data_dir = dir.path();
  auto store = SqliteStore::Open(options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("newer klaxon"));
}

TEST(SqliteStore, ConcurrentReadModifyWriteIsSerializableAndGrouped) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 32;
  constexpr int kWritesPerThread = 100;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kWritesPerThread; ++i) {
        absl::Status status = store->Write([](WriteTxn& txn) -> absl::Status {
          auto value = txn.Get("t", "a", "counter");
          if (!value.ok()) return value.status();
          int n = 0;
          if (*value && !absl::SimpleAtoi(**value, &n)) return absl::InternalError("bad value");
          return txn.Put("t", "a", "counter", absl::StrCat(n + 1));
        });
        if (!status.ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_THAT(Get(*store, "counter"), Optional(absl::StrCat(kThreads * kWritesPerThread)));
  SqliteStoreStats stats = store->stats();
  EXPECT_EQ(stats.writes, static_cast<uint64_t>(kThreads * kWritesPerThread) + 0);
  EXPECT_GT(stats.max_batch, 1u);
  EXPECT_GT(stats.batched_writes, 0u);
  EXPECT_LT(stats.commits, stats.writes);
  EXPECT_EQ(stats.failed_commits, 0u);
  RecordProperty("commits", static_cast<int>(stats.commits));
  RecordProperty("max_batch", static_cast<int>(stats.max_batch));
}

TEST(SqliteStore, OneBatchRunsInOrderAndAFailingFunctionRollsBackOnlyItself) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  WriterBlocker blocker(*store);
  uint64_t commits_before = store->stats().commits;
  std::vector<absl::Status> results = WriteInOrder(
      *store,
      {
          [](WriteTxn& txn) { return txn.Put("t", "a", "a", "1"); },
          [](WriteTxn& txn) -> absl::Status {
            EXPECT_THAT(*txn.Get("t", "a", "a"), Optional(std::string("1")));  // sees f0
            EXPECT_TRUE(txn.Put("t", "a", "b", "1").ok());
            EXPECT_TRUE(txn.Delete("t", "a", "a").ok());
            return absl::FailedPreconditionError("f1 fails");
          },
          [](WriteTxn& txn) -> absl::Status {
            EXPECT_EQ(*txn.Get("t", "a", "b"), std::nullopt);  // f1 rolled back
            EXPECT_THAT(*txn.Get("t", "a", "a"), Optional(std::string("1")));
            return txn.Put("t", "a", "c", "1");
          },
      },
      blocker);
  EXPECT_TRUE(results[0].ok()) << results[0];
  EXPECT_EQ(results[1], absl::FailedPreconditionError("f1 fails"));
  EXPECT_TRUE(results[2].ok()) << results[2];
  EXPECT_THAT(Get(*store, "a"), Optional(std::string("1")));
  EXPECT_EQ(Get(*store, "b"), std::nullopt);
  EXPECT_THAT(Get(*store, "c"), Optional(std::string("1")));
  // The blocker's commit, then one commit for the three functions.
  EXPECT_EQ(store->stats().commits, commits_before + 1 + 1);
  EXPECT_GE(store->stats().max_batch, 3u);
}

// A commit that fails after its functions succeeded (here the WAL cannot grow: RLIMIT_FSIZE)
// fails every function of the batch, and runs their OnRollback hooks.
TEST(SqliteStore, AFailedCommitRunsTheRollbackHooksOfItsFunctions) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Put(*store, "small", "1").ok());
  const auto wal_size = std::filesystem::file_size(store->path() + "-wal");
  rlimit old_limit{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  auto* old_handler = signal(SIGXFSZ, SIG_IGN);
  rlimit limit = old_limit;
  limit.rlim_cur = static_cast<rlim_t>(wal_size + std::uintmax_t{64} * 1024);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  bool undone = false;
  absl::Status status = store->Write([&](WriteTxn& txn) -> absl::Status {
    txn.OnRollback([&] { undone = true; });
    return txn.Put("t", "a", "big", std::string(1 << 20, 'x'));
  });
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  signal(SIGXFSZ, old_handler);
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(undone);
  EXPECT_EQ(store->stats().failed_commits, 1u);
}

TEST(SqliteStore, MaxBatchSizeSplitsTheQueue) {
  TempDir dir;
  SqliteOptions options;
  options.data_dir = dir.path();
  options.max_batch_size = 2;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  WriterBlocker blocker(*store);
  std::vector<std::function<absl::Status(WriteTxn&)>> fns;
  fns.reserve(5);
  for (int i = 0; i < 5; ++i) {
    fns.push_back([i](WriteTxn& txn) { return txn.Put("t", "a", absl::StrCat(i), "v"); });
  }
  uint64_t commits_before = store->stats().commits;
  for (const absl::Status& s : WriteInOrder(*store, fns, blocker)) EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(store->stats().commits, commits_before + 1 + 3);  // blocker, then 2 + 2 + 1
  EXPECT_EQ(store->stats().max_batch, 2u);
}

TEST(SqliteStore, ReadsDoNotWaitForTheWriterAndSeeOnlyCommittedData) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Put(*store, "committed", "1").ok());
  {
    WriterBlocker blocker(
        *store, [](WriteTxn& txn) { ASSERT_TRUE(txn.Put("t", "a", "pending", "1").ok()); });
    // The writer is inside an open transaction holding the write lock; reads proceed.
    absl::Time start = absl::Now();
    EXPECT_THAT(Get(*store, "committed"), Optional(std::string("1")));
    EXPECT_EQ(Get(*store, "pending"), std::nullopt);
    EXPECT_LT(absl::Now() - start, absl::Seconds(1));
    EXPECT_TRUE(blocker.Release().ok());
  }
  EXPECT_THAT(Get(*store, "pending"), Optional(std::string("1")));
}

TEST(SqliteStore, ReadsSeeConsistentSnapshots) {
  TempDir dir;
  SqliteOptions options;
  options.data_dir = dir.path();
  options.synchronous = SqliteSynchronous::kNormal;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  // Two accounts whose balances always sum to 100 in every committed state.
  ASSERT_TRUE(store
                  ->Write([](WriteTxn& txn) -> absl::Status {
                    KLAXON_RETURN_IF_ERROR(txn.Put("t", "a", "x", "100"));
                    return txn.Put("t", "a", "y", "0");
                  })
                  .ok());
  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, reads{0};
  std::vector<std::thread> readers;
  readers.reserve(4);
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      while (!done.load()) {
        absl::Status status = store->Read([&](ReadTxn& txn) -> absl::Status {
          int sum = 0;
          KLAXON_RETURN_IF_ERROR(txn.Scan("t", "a", "", "", 0, [&](auto, std::string_view v) {
            int n = 0;
            (void)absl::SimpleAtoi(absl::string_view(v.data(), v.size()), &n);
            sum += n;
            return true;
          }));
          if (sum != 100) bad.fetch_add(1);
          return absl::OkStatus();
        });
        if (!status.ok()) bad.fetch_add(1);
        reads.fetch_add(1);
      }
    });
  }
  std::vector<std::thread> writers;
  writers.reserve(4);
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(store
                        ->Write([&](WriteTxn& txn) -> absl::Status {
                          int x = 0, y = 0;
                          (void)absl::SimpleAtoi(**txn.Get("t", "a", "x"), &x);
                          (void)absl::SimpleAtoi(**txn.Get("t", "a", "y"), &y);
                          int amount = (i * 7 + w) % 10 - 5;
                          KLAXON_RETURN_IF_ERROR(txn.Put("t", "a", "x", absl::StrCat(x - amount)));
                          return txn.Put("t", "a", "y", absl::StrCat(y + amount));
                        })
                        .ok());
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

TEST(SqliteStore, NestedWriteFailsInsteadOfDeadlocking) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  absl::Status inner;
  ASSERT_TRUE(store
                  ->Write([&](WriteTxn&) {
                    inner = store->Write([](WriteTxn&) { return absl::OkStatus(); });
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(inner.code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SqliteStore, ReadInsideWriteSeesTheStateBeforeTheBatch) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Put(*store, "x", "old").ok());
  std::optional<std::string> seen;
  ASSERT_TRUE(store
                  ->Write([&](WriteTxn& txn) {
                    EXPECT_TRUE(txn.Put("t", "a", "x", "new").ok());
                    seen = Get(*store, "x");
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_THAT(seen, Optional(std::string("old")));
  EXPECT_THAT(Get(*store, "x"), Optional(std::string("new")));
}

TEST(SqliteStore, AnExceptionInAFunctionBecomesAnError) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  absl::Status status = store->Write([](WriteTxn& txn) -> absl::Status {
    EXPECT_TRUE(txn.Put("t", "a", "x", "1").ok());
    throw std::runtime_error("boom");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(status.message()), HasSubstr("boom"));
  EXPECT_EQ(Get(*store, "x"), std::nullopt);
  EXPECT_TRUE(Put(*store, "y", "1").ok());
}

TEST(SqliteStore, ExportsMetrics) {
  TempDir dir;
  metrics::Registry registry;
  SqliteOptions options;
  options.data_dir = dir.path();
  options.metrics = &registry;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Put(*store, "x", "1").ok());
  ASSERT_FALSE(store->Write([](WriteTxn&) { return absl::AbortedError("no"); }).ok());
  std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("klaxon_store_commit_seconds_count 2"));
  EXPECT_THAT(text, HasSubstr("klaxon_store_commit_batch_size_bucket{le=\"1\"} 2"));
  EXPECT_THAT(text, HasSubstr("klaxon_store_writes_total{result=\"ok\"} 1"));
  EXPECT_THAT(text, HasSubstr("klaxon_store_writes_total{result=\"aborted\"} 1"));
  EXPECT_THAT(text, HasSubstr("klaxon_store_writes_total{result=\"error\"} 0"));
}

TEST(SqliteStore, CloseCommitsEverythingQueuedAndRefusesTheRest) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 8;
  std::vector<std::vector<std::string>> acked(kThreads);
  std::vector<absl::Status> last(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0;; ++i) {
        std::string id = absl::StrFormat("%d-%06d", t, i);
        absl::Status status = Put(*store, id, id);
        if (!status.ok()) {
          last[t] = status;
          return;
        }
        acked[t].push_back(id);
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(100));
  store->Close();
  for (auto& t : threads) t.join();
  store.reset();
  auto reopened = OpenOrDie(dir.path());
  ASSERT_NE(reopened, nullptr);
  size_t total = 0;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(last[t].code(), absl::StatusCode::kUnavailable) << last[t];
    for (const std::string& id : acked[t]) ASSERT_THAT(Get(*reopened, id), Optional(id));
    total += acked[t].size();
  }
  EXPECT_GT(total, 0u);
}

// Child side of the durability test: 8 threads write rows as fast as they can and report each
// acknowledged row (after Write() returned OK) on `fd` as one 4-byte record, until killed.
[[noreturn]] void DurabilityChild(const std::string& dir, int round, int fd) {
  SqliteOptions options;
  options.data_dir = dir;
  options.checkpoint_pages = 16;  // checkpoints run while the child is killed, too
  auto store = SqliteStore::Open(options);
  if (!store.ok()) _exit(2);
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (uint32_t seq = 0; seq < (1u << 20); ++seq) {
        std::string id = absl::StrFormat("r%d-t%d-%07d", round, t, seq);
        absl::Status status = (*store)->Write([&](WriteTxn& txn) -> absl::Status {
          // Like an incident creation: several rows per transaction.
          KLAXON_RETURN_IF_ERROR(txn.Put("dur", "acct", id, id + "-value"));
          return txn.Put("dur_index", "acct", id, "1");
        });
        if (!status.ok()) _exit(3);
        uint32_t record = (t << 24) | seq;
        if (write(fd, &record, sizeof(record)) != sizeof(record)) _exit(4);
      }
    });
  }
  for (auto& t : threads) t.join();
  _exit(0);
}

TEST(SqliteStoreDurability, AcknowledgedWritesSurviveKill9) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  size_t total_acked = 0;
  for (int round = 0; round < 3; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      DurabilityChild(dir.path(), round, fds[1]);
    }
    close(fds[1]);
    // Let the child get going, then kill it at a point that varies by round.
    std::vector<uint32_t> acked;
    const size_t kill_after = 300 + 400 * static_cast<size_t>(round);
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    uint32_t record;
    while (acked.size() < kill_after && absl::Now() < deadline) {
      ssize_t n = read(fds[0], &record, sizeof(record));
      if (n != sizeof(record)) break;
      acked.push_back(record);
    }
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited early with " << WEXITSTATUS(wstatus);
    // Acknowledgements the child wrote before dying are still in the pipe.
    while (read(fds[0], &record, sizeof(record)) == sizeof(record)) acked.push_back(record);
    close(fds[0]);
    // On a very slow machine the deadline may kill the child earlier; that is still a valid run.
    ASSERT_GT(acked.size(), 0u) << "the child acknowledged nothing";

    // Reopen (runs WAL recovery) and check every acknowledged row.
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    size_t missing = 0;
    ASSERT_TRUE(store
                    ->Read([&](ReadTxn& txn) -> absl::Status {
                      for (uint32_t r : acked) {
                        std::string id =
                            absl::StrFormat("r%d-t%d-%07d", round, r >> 24, r & 0xffffff);
                        auto value = txn.Get("dur", "acct", id);
                        if (!value.ok()) return value.status();
                        auto index = txn.Get("dur_index", "acct", id);
                        if (!index.ok()) return index.status();
                        if (*value != id + "-value" || *index != "1") ++missing;
                      }
                      return absl::OkStatus();
                    })
                    .ok());
    EXPECT_EQ(missing, 0u) << "round " << round << ": " << acked.size() << " acknowledged";
    total_acked += acked.size();
    store.reset();
    EXPECT_EQ(QueryFile(dir.path() + "/klaxon.db", "PRAGMA integrity_check"), "ok");
  }
  RecordProperty("acknowledged", static_cast<int>(total_acked));
}

}  // namespace
}  // namespace klaxon::storage
