#pragma once
// The embedded Store backend: SQLite in WAL mode with a group-commit writer.
//
// Design (see src/storage/README.md for the full picture).
// - One database file, <data_dir>/klaxon.db, holding one table kv(tbl, account, id, value) keyed by
//   (tbl, account, id) WITHOUT ROWID, created by versioned migrations (migrations.h).
// - Writes: one writer thread owns the only read-write connection. Write() enqueues its function
//   and blocks. The writer takes up to `max_batch_size` queued functions, opens one
//   BEGIN IMMEDIATE transaction, runs each function inside its own SAVEPOINT (released on success,
//   rolled back on error, so a failing function discards only its own writes), COMMITs once (one
//   fsync with synchronous=FULL), and then wakes every waiter with its own status. Functions of a
//   batch run in submission order on the same connection, so each sees the writes of those before
//   it: the batch is equivalent to running the functions one after another (serializable).
// - Checkpoints: the writer never checkpoints inline (wal_autocheckpoint=0). A checkpointer thread
//   with its own connection runs PASSIVE checkpoints whenever the WAL has grown by
//   `checkpoint_pages` since the last one, so copying the WAL into the database file (and its
//   fsyncs) happens beside the commits instead of inside one of them.
// - Reads: a pool of read-only connections; Read() runs its function inside BEGIN ... COMMIT on one
//   of them, which in WAL mode is a consistent snapshot that includes every committed write and
//   never waits for the writer.
//
// Durability: with synchronous=FULL (the default) a Write() returns OK only after its commit is
// fsync'ed to the WAL: it survives kill -9 and power loss. With kNormal it survives kill -9 (the
// WAL is in the OS page cache) but the last commits may be lost on power loss or an OS crash.
//
// Limits: one process should own a data directory (several work, serialised by SQLite's file
// locks with `busy_timeout`, but lose the group-commit benefit); ids and values up to 1e9 bytes;
// a Write() function must not call Write() on the same store (it would wait for itself: it fails
// with kFailedPrecondition instead) nor Close(). Read() inside a Write() function is allowed and
// sees the state before the current batch.
//
// Thread-safety: all public methods are thread-safe. Copy/move: neither.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/metrics.h"
#include "common/mutex.h"
#include "storage/change_stamps.h"
#include "storage/store.h"

struct sqlite3;

namespace klaxon::storage::internal {
class Connection;
}  // namespace klaxon::storage::internal

namespace klaxon::storage {

// PRAGMA synchronous of the write connection (https://sqlite.org/pragma.html#pragma_synchronous).
enum class SqliteSynchronous {
  kOff,     // no fsync: survives kill -9 (WAL in the page cache), not an OS crash. Tests only.
  kNormal,  // fsync at checkpoints only: survives kill -9, not power loss of the last commits.
  kFull,    // fsync at every commit: durable before Write() returns. The default.
};

struct SqliteOptions {
  // Directory of the database; created (with parents) if missing. The file is `klaxon.db` inside.
  std::string data_dir;
  SqliteSynchronous synchronous = SqliteSynchronous::kFull;
  // Most Write() functions grouped into one commit.
  size_t max_batch_size = 256;
  // How long the writer waits for more functions when fewer than max_batch_size are queued.
  // Zero (the default) commits what is queued at once: batches still form naturally from the
  // Write() calls that arrive while the previous commit is being fsync'ed, at no added latency.
  absl::Duration max_batch_latency = absl::ZeroDuration();
  // WAL size (in pages, 4 KiB by default) that triggers a background checkpoint.
  int checkpoint_pages = 1000;
  // WAL size (pages) past which the writer, between two batches, checkpoints the frames the
  // background checkpointer has not copied yet, so that the next transaction starts the WAL over
  // from its beginning. Without it a WAL under constant writes never restarts: the background
  // checkpoint never catches up with the frames appended meanwhile, and the file grows without
  // bound (each new frame an append to a larger file and a larger WAL index). 0 disables.
  int wal_restart_pages = 4000;
  // Page cache of the writer connection (KiB). The writer keeps its cache across transactions
  // (it is the only writer), so a cache holding the hot pages saves a pread per page touched.
  // Not much larger: SQLite walks the whole cache hash at every transaction end (64 MiB cost 6%
  // of the writer's CPU on StartIncident), and mmap_bytes serves database-file reads anyway.
  int writer_cache_kib = 8 * 1024;
  // Nice value the writer thread asks for (setpriority). Every durable write waits for this one
  // thread, so on a busy machine it should not queue behind the threads that feed it: at -10,
  // 32 concurrent StartIncident calls went from ~4.9k to ~6.1k/s on 2 cores. Needs
  // CAP_SYS_NICE (root has it); without it the writer keeps the default priority (logged once at
  // info). 0 leaves the priority alone.
  int writer_nice = -10;
  // Page cache of each read connection (KiB). In WAL mode a reader's cache is dropped whenever the
  // database changed since its previous transaction, so a large one buys little.
  int reader_cache_kib = 2 * 1024;
  // PRAGMA mmap_size of the read connections: database-file pages are read through a memory
  // map instead of pread(). 0 disables. (The writer never maps: see MaybeRestartWal.)
  int64_t mmap_bytes = int64_t{1} << 30;
  // How long a connection waits for a lock held by another process before kUnavailable.
  absl::Duration busy_timeout = absl::Seconds(5);
  // Read connections kept open while idle. A Read() that finds none idle opens another (so nested
  // or highly concurrent reads never wait); connections beyond this number close when released.
  size_t max_idle_readers = 8;
  // If set, the store registers klaxon_store_commit_seconds, klaxon_store_commit_batch_size and
  // klaxon_store_writes_total{result="ok|aborted|error"} here. Must outlive the store.
  metrics::Registry* metrics = nullptr;
};

// Counters since Open(), for tests and diagnostics.
struct SqliteStoreStats {
  uint64_t writes = 0;          // Write() functions run (committed, aborted or failed)
  uint64_t commits = 0;         // physical transactions attempted by the writer
  uint64_t failed_commits = 0;  // of which BEGIN/COMMIT failed (every function of the batch failed)
  uint64_t batched_writes = 0;  // functions that shared their commit with at least one other
  uint64_t max_batch = 0;       // largest batch seen
  uint64_t queued = 0;          // functions waiting for the writer right now
  uint64_t checkpoints = 0;     // background checkpoints run (failed ones included)
  uint64_t failed_checkpoints = 0;
  uint64_t wal_restart_checkpoints = 0;  // tail checkpoints run by the writer (wal_restart_pages)
  uint64_t wal_frames = 0;               // pages appended to the WAL by commits
  uint64_t wal_restarts = 0;             // times the WAL started over from its beginning
  uint64_t writer_cpu_ns = 0;  // CPU time of the writer thread (running functions, committing)
};

class SqliteStore final : public Store {
 public:
  // Opens (creating if needed) <options.data_dir>/klaxon.db, switches it to WAL, applies pending
  // migrations and starts the writer thread. Errors: kInvalidArgument for empty data_dir or
  // max_batch_size 0; kUnavailable when the directory or file cannot be created or
  // opened; kFailedPrecondition when the database was written by a newer schema; kInternal for
  // other SQLite failures.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const SqliteOptions& options);

  // Calls Close().
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // See Store::Write. Blocks until the batch holding `fn` has committed (durably, per
  // options.synchronous) or failed. Errors: fn's own error (its writes rolled back, the rest of
  // the batch unaffected); a backend error from fn's operations, even if fn ignored it (its writes
  // rolled back); kUnavailable/kInternal if the batch's commit failed (nothing of the batch was
  // written); kUnavailable after Close(); kFailedPrecondition when called from inside a Write()
  // function of this store.
  absl::Status Write(absl::FunctionRef<absl::Status(WriteTxn&)> fn) override;

  // See Store::WriteAsync: queued like Write(); `done` runs on the writer thread after the
  // batch's commit (errors as Write()'s; kUnavailable at once after Close()). Close() completes
  // every request already queued.
  void WriteAsync(std::function<absl::Status(WriteTxn&)> fn,
                  std::function<void(absl::Status)> done) override;
  bool supports_async_writes() const override { return true; }

  // See Store::Read. Errors: fn's own error; a backend error; kUnavailable after Close().
  absl::Status Read(absl::FunctionRef<absl::Status(ReadTxn&)> fn) override;

  // Rejects new calls, lets the writer commit everything already queued, stops it, waits for
  // in-flight Read() calls, checkpoints the WAL into the database file and closes every
  // connection. Idempotent. Must not be called from inside a Read() or Write() function.
  void Close() override;

  // Published by the writer thread after each batch's COMMIT, before its Write() calls return.
  const ChangeStamps* change_stamps() const override { return &stamps_; }

  SqliteStoreStats stats() const;

  // Path of the database file.
  const std::string& path() const { return path_; }

 private:
  struct Request;
  struct Metrics;

  SqliteStore(const SqliteOptions& options, std::string path,
              std::unique_ptr<internal::Connection> writer);

  // False if the store is closing.
  bool Enqueue(Request* request);
  void WriterLoop();
  void CheckpointLoop(std::unique_ptr<internal::Connection> conn);
  static int OnWalCommit(void* store, struct sqlite3* db, const char* name, int pages);
  void RunBatch(std::vector<Request*>& batch);
  void MaybeRestartWal();
  bool QueueReady() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool BatchFullOrClosing() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool NoBusyReaders() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(pool_mu_);
  bool CheckpointWanted() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(ckpt_mu_);
  absl::StatusOr<std::unique_ptr<internal::Connection>> AcquireReader();
  void ReleaseReader(std::unique_ptr<internal::Connection> conn, bool healthy);

  const SqliteOptions options_;
  const std::string path_;
  ChangeStamps stamps_;
  std::unique_ptr<Metrics> metrics_;

  // Writer state. `writer_conn_` belongs to the writer thread while it runs, then to Close().
  std::unique_ptr<internal::Connection> writer_conn_;
  std::thread writer_thread_;
  // mu_ guards the queue; each request has its own mutex for its completion.
  mutable klaxon::Mutex mu_;
  std::condition_variable queue_cv_;  // the writer waits here for work
  std::deque<Request*> queue_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;

  // Checkpointer: woken by OnWalCommit (in the writer thread, during COMMIT).
  std::thread checkpoint_thread_;
  klaxon::Mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;
  bool ckpt_requested_ ABSL_GUARDED_BY(ckpt_mu_) = false;
  bool ckpt_stop_ ABSL_GUARDED_BY(ckpt_mu_) = false;
  // WAL size (pages) at which OnWalCommit next wakes the checkpointer; writer thread only.
  int next_checkpoint_at_ = 0;
  int last_wal_pages_ = 0;
  // WAL size (pages) at which MaybeRestartWal next checkpoints; writer thread only.
  int next_restart_attempt_at_ = 0;
  // Change-stamp slots of the rows the current batch wrote; writer thread only.
  std::vector<uint32_t> written_slots_;

  // Reader pool.
  klaxon::Mutex pool_mu_;
  std::condition_variable pool_cv_;  // Close() waits here for busy readers
  std::vector<std::unique_ptr<internal::Connection>> idle_readers_ ABSL_GUARDED_BY(pool_mu_);
  size_t busy_readers_ ABSL_GUARDED_BY(pool_mu_) = 0;  // in use or being opened
  bool pool_closed_ ABSL_GUARDED_BY(pool_mu_) = false;

  // Serialises Close() calls; `closed_` is set once everything is released.
  klaxon::Mutex close_mu_;
  bool closed_ ABSL_GUARDED_BY(close_mu_) = false;

  // Stats (written by the writer thread, read by stats()).
  std::atomic<uint64_t> stat_writes_{0};
  std::atomic<uint64_t> stat_commits_{0};
  std::atomic<uint64_t> stat_failed_commits_{0};
  std::atomic<uint64_t> stat_batched_writes_{0};
  std::atomic<uint64_t> stat_max_batch_{0};
  std::atomic<uint64_t> stat_checkpoints_{0};
  std::atomic<uint64_t> stat_failed_checkpoints_{0};
  std::atomic<uint64_t> stat_wal_restart_checkpoints_{0};
  std::atomic<uint64_t> stat_wal_frames_{0};
  std::atomic<uint64_t> stat_wal_restarts_{0};
  std::atomic<uint64_t> stat_writer_cpu_ns_{0};
};

}  // namespace klaxon::storage
