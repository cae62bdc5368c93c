#include "storage/sqlite/sqlite_store.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/non_blocking.h"
#include "spdlog/spdlog.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/migrations.h"
#include "storage/sqlite/wal_write_buffer.h"

namespace klaxon::storage {
namespace {

using internal::Connection;
using internal::SqliteTxn;
using internal::Stmt;

// The store whose writer thread this is (nullptr on other threads): a Write() from inside a Write()
// function would wait for the thread that is running it.
thread_local const SqliteStore* tl_writer_of = nullptr;

const char* SynchronousPragma(SqliteSynchronous mode) {
  switch (mode) {
    case SqliteSynchronous::kOff:
      return "PRAGMA synchronous=OFF";
    case SqliteSynchronous::kNormal:
      return "PRAGMA synchronous=NORMAL";
    case SqliteSynchronous::kFull:
      break;
  }
  return "PRAGMA synchronous=FULL";
}

// Runs a user function; an exception escaping it must not kill the writer thread (every waiter of
// the store would hang), so it becomes this function's error.
template <typename Fn, typename Txn>
absl::Status RunUserFn(Fn& fn, Txn& txn) {
  try {
    return fn(txn);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("store function threw: ", e.what()));
  } catch (...) {
    return absl::InternalError("store function threw a non-standard exception");
  }
}

uint64_t ThreadCpuNanos() {
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// Page cache size and memory map of one connection.
absl::Status ConfigureCache(Connection& conn, int cache_kib, int64_t mmap_bytes) {
  if (absl::Status s = conn.Exec(absl::StrCat("PRAGMA cache_size=-", std::max(cache_kib, 64)));
      !s.ok()) {
    return s;
  }
  return conn.Exec(absl::StrCat("PRAGMA mmap_size=", std::max<int64_t>(mmap_bytes, 0)));
}

}  // namespace

enum class WriteResult { kOk, kAborted, kError };

struct SqliteStore::Request {
  explicit Request(absl::FunctionRef<absl::Status(WriteTxn&)> f) : fn(f) {}
  // WriteAsync: owns its function and completion; heap-allocated, deleted by the writer.
  Request(std::function<absl::Status(WriteTxn&)> f, std::function<void(absl::Status)> d)
      : owned_fn(std::move(f)), fn(owned_fn), on_done(std::move(d)) {}
  std::function<absl::Status(WriteTxn&)> owned_fn;  // before `fn`, which may refer to it
  absl::FunctionRef<absl::Status(WriteTxn&)> fn;
  std::function<void(absl::Status)> on_done;  // set: an asynchronous request
  std::vector<std::function<void()>> undo;    // WriteTxn::OnRollback hooks of its function
  absl::Status status;
  WriteResult result = WriteResult::kOk;
  bool ran = false;
  // Completion: the writer sets `done` (after `status` and `result` are final) and notifies `cv`
  // under `mu`. A mutex per request keeps the 64 waiters of a batch from all contending for the
  // queue mutex when they wake. POSIX makes destroying a mutex right after another thread's
  // unlock safe, so the waiter may return (destroying the request) as soon as it sees `done`.
  klaxon::Mutex mu;
  std::condition_variable cv;
  bool done ABSL_GUARDED_BY(mu) = false;

  bool Done() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return done; }

  // Its function's writes were rolled back: runs its OnRollback hooks, newest first. A hook that
  // throws is logged (the writer thread must survive it).
  void RunUndo() {
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
      try {
        (*it)();
      } catch (const std::exception& e) {
        spdlog::error("sqlite: an OnRollback hook threw: {}", e.what());
      } catch (...) {
        spdlog::error("sqlite: an OnRollback hook threw");
      }
    }
    undo.clear();
  }
};

struct SqliteStore::Metrics {
  explicit Metrics(metrics::Registry& r)
      : commit_seconds(r.GetHistogram("klaxon_store_commit_seconds",
                                      "Time from BEGIN to durable COMMIT of one group commit.")),
        batch_size(r.GetHistogram("klaxon_store_commit_batch_size",
                                  "Write() functions grouped into one commit.", {},
                                  {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024})),
        writes_ok(r.GetCounter("klaxon_store_writes_total", kWritesHelp, {{"result", "ok"}})),
        writes_aborted(
            r.GetCounter("klaxon_store_writes_total", kWritesHelp, {{"result", "aborted"}})),
        writes_error(
            r.GetCounter("klaxon_store_writes_total", kWritesHelp, {{"result", "error"}})) {}

  static constexpr const char* kWritesHelp =
      "Write() calls by result: ok (committed), aborted (the function returned an error), error "
      "(backend failure).";

  metrics::Histogram& commit_seconds;
  metrics::Histogram& batch_size;
  metrics::Counter& writes_ok;
  metrics::Counter& writes_aborted;
  metrics::Counter& writes_error;
};

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& options) {
  // SQLite's memory statistics take a global mutex around every allocation; nothing reads them.
  // Only possible before SQLite initialises (else SQLITE_MISUSE, ignored: the default stays).
  static std::once_flag memstatus_once;
  std::call_once(memstatus_once, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  if (options.data_dir.empty()) return absl::InvalidArgumentError("sqlite: data_dir is empty");
  if (options.max_batch_size == 0) {
    return absl::InvalidArgumentError("sqlite: max_batch_size must be at least 1");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("sqlite: cannot create data directory ",
                                               options.data_dir, ": ", ec.message()));
  }
  // Absolute: SQLite (built with URI filenames) would read a relative "file:..." as a URI.
  std::filesystem::path dir = std::filesystem::absolute(options.data_dir, ec);
  if (ec) dir = options.data_dir;
  std::string path = (dir / "klaxon.db").string();

  // With synchronous=FULL the writer's WAL writes go through the write buffer (one system call per
  // commit instead of two per page); see wal_write_buffer.h for why only then.
  const char* vfs =
      options.synchronous == SqliteSynchronous::kFull ? internal::WalWriteBufferVfs() : nullptr;
  auto conn_or = Connection::Open(path, /*read_only=*/false, options.busy_timeout, vfs);
  if (!conn_or.ok()) return conn_or.status();
  std::unique_ptr<Connection> conn = std::move(*conn_or);

  auto mode = conn->QueryText("PRAGMA journal_mode=WAL");
  if (!mode.ok()) return mode.status();
  if (*mode != "wal") {
    return absl::UnavailableError(
        absl::StrCat("sqlite: cannot switch ", path, " to WAL mode (journal_mode=", *mode, ")"));
  }
  if (absl::Status s = conn->Exec(SynchronousPragma(options.synchronous)); !s.ok()) return s;
  // When the WAL restarts, truncate it if it grew past 64 MiB (a burst) instead of keeping it.
  if (absl::Status s = conn->Exec("PRAGMA journal_size_limit=67108864"); !s.ok()) return s;
  if (absl::Status s = conn->Exec("PRAGMA temp_store=MEMORY"); !s.ok()) return s;
  // No memory map on the writer: with one, its own checkpoints (MaybeRestartWal) always fail
  // with SQLITE_BUSY (SQLite 3.40), so the WAL would never restart.
  if (absl::Status s = ConfigureCache(*conn, options.writer_cache_kib, /*mmap_bytes=*/0); !s.ok()) {
    return s;
  }
  auto version = internal::ApplyMigrations(*conn, internal::SchemaMigrations());
  if (!version.ok()) return version.status();

  // The checkpointer's own connection, with the same synchronous level: a checkpoint must fsync
  // the database file before the writer may overwrite the WAL frames it copied.
  auto ckpt_or = Connection::Open(path, /*read_only=*/false, options.busy_timeout);
  if (!ckpt_or.ok()) return ckpt_or.status();
  std::unique_ptr<Connection> ckpt = std::move(*ckpt_or);
  if (absl::Status s = ckpt->Exec(SynchronousPragma(options.synchronous)); !s.ok()) return s;
  sqlite3_wal_autocheckpoint(ckpt->db(), 0);

  std::unique_ptr<SqliteStore> store(new SqliteStore(options, path, std::move(conn)));
  sqlite3* writer_db = store->writer_conn_->db();
  sqlite3_wal_autocheckpoint(writer_db, 0);  // also clears any WAL hook: install ours after
  sqlite3_wal_hook(writer_db, &SqliteStore::OnWalCommit, store.get());
  try {
    store->writer_thread_ = std::thread([s = store.get()] { s->WriterLoop(); });
    store->checkpoint_thread_ = std::thread(
        [s = store.get(), c = std::move(ckpt)]() mutable { s->CheckpointLoop(std::move(c)); });
  } catch (const std::system_error& e) {
    return absl::UnavailableError(absl::StrCat("sqlite: cannot start a thread: ", e.what()));
  }
  return store;
}

SqliteStore::SqliteStore(const SqliteOptions& options, std::string path,
                         std::unique_ptr<Connection> writer)
    : options_(options),
      path_(std::move(path)),
      writer_conn_(std::move(writer)),
      next_checkpoint_at_(std::max(1, options.checkpoint_pages)),
      next_restart_attempt_at_(options.wal_restart_pages) {
  if (options_.metrics != nullptr) metrics_ = std::make_unique<Metrics>(*options_.metrics);
}

SqliteStore::~SqliteStore() { Close(); }

bool SqliteStore::QueueReady() const { return !queue_.empty() || closing_; }

bool SqliteStore::BatchFullOrClosing() const {
  return queue_.size() >= options_.max_batch_size || closing_;
}

bool SqliteStore::NoBusyReaders() const { return busy_readers_ == 0; }

bool SqliteStore::CheckpointWanted() const { return ckpt_requested_ || ckpt_stop_; }

int SqliteStore::OnWalCommit(void* arg, sqlite3*, const char*, int pages) {
  // Runs in the writer thread at the end of every COMMIT, with the WAL's size in pages.
  auto* store = static_cast<SqliteStore*>(arg);
  const int step = std::max(1, store->options_.checkpoint_pages);
  const int restart_at = store->options_.wal_restart_pages;
  if (pages < store->last_wal_pages_) {  // the WAL restarted: `pages` are all new
    store->next_checkpoint_at_ = step;
    store->next_restart_attempt_at_ = restart_at;
    store->stat_wal_restarts_.fetch_add(1, std::memory_order_relaxed);
    store->stat_wal_frames_.fetch_add(static_cast<uint64_t>(pages), std::memory_order_relaxed);
  } else {
    store->stat_wal_frames_.fetch_add(static_cast<uint64_t>(pages - store->last_wal_pages_),
                                      std::memory_order_relaxed);
  }
  store->last_wal_pages_ = pages;
  // Past wal_restart_pages the writer takes over (MaybeRestartWal): a background checkpoint
  // started now would hold the checkpoint lock when the writer wants it.
  const bool writer_restarts = restart_at > 0 && pages >= restart_at;
  if (pages >= store->next_checkpoint_at_ && !writer_restarts) {
    store->next_checkpoint_at_ = pages + step;
    {
      klaxon::MutexLock lock(&store->ckpt_mu_);
      store->ckpt_requested_ = true;
    }
    store->ckpt_cv_.notify_one();
  }
  return SQLITE_OK;
}

void SqliteStore::CheckpointLoop(std::unique_ptr<Connection> conn) {
  for (;;) {
    {
      klaxon::MutexLock lock(&ckpt_mu_);
      while (!CheckpointWanted()) lock.Wait(ckpt_cv_);
      if (ckpt_stop_) return;
      ckpt_requested_ = false;
    }
    // PASSIVE: copies what no reader still needs, never blocks the writer or the readers. A
    // failure is retried at the next trigger; the WAL keeps the data meanwhile.
    int rc =
        sqlite3_wal_checkpoint_v2(conn->db(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    stat_checkpoints_.fetch_add(1, std::memory_order_relaxed);
    // SQLITE_BUSY: another checkpoint (the writer's own WAL restart) is running and does the
    // work; not a failure.
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      stat_failed_checkpoints_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

absl::Status SqliteStore::Write(absl::FunctionRef<absl::Status(WriteTxn&)> fn) {
  if (IsNonBlocking()) return WouldBlockError();
  if (tl_writer_of == this) {
    return absl::FailedPreconditionError(
        "sqlite: Write() called from inside a Write() function of the same store");
  }
  Request request(fn);
  if (!Enqueue(&request)) return absl::UnavailableError("sqlite: store is closed");
  klaxon::MutexLock lock(&request.mu);
  while (!request.Done()) lock.Wait(request.cv);
  return request.status;
}

bool SqliteStore::Enqueue(Request* request) {
  {
    klaxon::MutexLock lock(&mu_);
    if (closing_) return false;
    queue_.push_back(request);
  }
  queue_cv_.notify_one();
  return true;
}

void SqliteStore::WriteAsync(std::function<absl::Status(WriteTxn&)> fn,
                             std::function<void(absl::Status)> done) {
  if (tl_writer_of == this) {
    done(absl::FailedPreconditionError(
        "sqlite: WriteAsync() called from inside a Write() function of the same store"));
    return;
  }
  // Once queued, the request belongs to the writer, which deletes it after calling on_done (it
  // may do so before Enqueue even returns).
  auto* request = new Request(std::move(fn), std::move(done));
  if (!Enqueue(request)) {
    std::unique_ptr<Request> refused(request);
    refused->on_done(absl::UnavailableError("sqlite: store is closed"));
  }
}

void SqliteStore::WriterLoop() {
  tl_writer_of = this;
  if (options_.writer_nice != 0) {
    const auto tid = static_cast<id_t>(syscall(SYS_gettid));
    if (setpriority(PRIO_PROCESS, tid, options_.writer_nice) != 0) {
      spdlog::info("sqlite: the writer thread keeps its priority (nice {} refused: {})",
                   options_.writer_nice, std::strerror(errno));
    }
  }
  std::vector<Request*> batch;
  batch.reserve(options_.max_batch_size);
  for (;;) {
    batch.clear();
    {
      klaxon::MutexLock lock(&mu_);
      while (!QueueReady()) lock.Wait(queue_cv_);
      if (queue_.empty()) break;  // closing, and everything queued has been committed
      if (options_.max_batch_latency > absl::ZeroDuration()) {
        auto deadline = klaxon::DeadlineAfter(options_.max_batch_latency);
        while (!BatchFullOrClosing() && lock.WaitUntil(queue_cv_, deadline)) {
        }
      }
      size_t n = std::min(queue_.size(), options_.max_batch_size);
      batch.assign(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(n));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(n));
    }
    RunBatch(batch);
    MaybeRestartWal();
    stat_writer_cpu_ns_.store(ThreadCpuNanos(), std::memory_order_relaxed);
  }
}

void SqliteStore::MaybeRestartWal() {
  const int restart_at = options_.wal_restart_pages;
  if (restart_at <= 0 || last_wal_pages_ < next_restart_attempt_at_) return;
  // Copies what the background checkpointer has not copied yet (usually a short tail), so that
  // every frame is in the database file and the next BEGIN IMMEDIATE starts the WAL over.
  // PASSIVE never waits: SQLITE_BUSY while the background checkpoint (started before the WAL
  // crossed the threshold) still runs, so the next batch tries again; a reader still using old
  // frames leaves some uncopied, so the writer tries again a little later.
  int log_frames = 0;
  int copied = 0;
  int rc = sqlite3_wal_checkpoint_v2(writer_conn_->db(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                     &log_frames, &copied);
  if (rc == SQLITE_BUSY) return;
  stat_wal_restart_checkpoints_.fetch_add(1, std::memory_order_relaxed);
  // On success the WAL restarts at the next write transaction (OnWalCommit then resets the
  // threshold); if a reader prevents it, or frames are left, try again after some growth.
  next_restart_attempt_at_ = last_wal_pages_ + std::max(1, restart_at / 8);
}

void SqliteStore::RunBatch(std::vector<Request*>& batch) {
  absl::Time start = absl::Now();
  Connection& conn = *writer_conn_;
  absl::Status batch_status = conn.Run(Stmt::kBeginImmediate);
  written_slots_.clear();
  for (size_t i = 0; batch_status.ok() && i < batch.size(); ++i) {
    Request& r = *batch[i];
    if (batch_status = conn.Run(Stmt::kSavepoint); !batch_status.ok()) break;
    r.ran = true;
    SqliteTxn txn(conn, &written_slots_, &stamps_, &r.undo);
    absl::Status status = RunUserFn(r.fn, txn);
    bool backend_error = !txn.error().ok();
    if (status.ok() && backend_error) status = txn.error();
    if (status.ok()) {
      if (absl::Status s = conn.Run(Stmt::kRelease); !s.ok()) {
        status = s;
        backend_error = true;
      }
    }
    if (!status.ok()) {
      // Undo this function's writes only. If SQLite already rolled the whole transaction back
      // (some I/O errors do), the savepoint is gone and this fails: the batch fails below.
      batch_status = conn.Run(Stmt::kRollbackToSavepoint);
      if (batch_status.ok()) batch_status = conn.Run(Stmt::kRelease);
      r.RunUndo();
    }
    if (batch_status.ok() && !conn.InTransaction()) {
      batch_status = absl::UnavailableError("sqlite: the transaction was rolled back by SQLite");
    }
    r.status = std::move(status);
    r.result = r.status.ok() ? WriteResult::kOk
                             : (backend_error ? WriteResult::kError : WriteResult::kAborted);
  }
  if (batch_status.ok()) batch_status = conn.Run(Stmt::kCommit);
  if (!batch_status.ok()) {
    if (conn.InTransaction()) (void)conn.Run(Stmt::kRollback);
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) (*it)->RunUndo();
    // Nothing of the batch was written. A function that failed on its own keeps its own error.
    for (Request* r : batch) {
      if (!r->ran || r->status.ok() || r->result == WriteResult::kError) {
        r->status = batch_status;
        r->result = WriteResult::kError;
      }
    }
    stat_failed_commits_.fetch_add(1, std::memory_order_relaxed);
  }
  absl::Duration elapsed = absl::Now() - start;
  // Before any Write() of the batch returns. Slots of rolled-back writes are published too (a
  // needless invalidation, never a missed one).
  stamps_.Publish(written_slots_);

  stat_commits_.fetch_add(1, std::memory_order_relaxed);
  stat_writes_.fetch_add(batch.size(), std::memory_order_relaxed);
  if (batch.size() > 1) stat_batched_writes_.fetch_add(batch.size(), std::memory_order_relaxed);
  uint64_t max = stat_max_batch_.load(std::memory_order_relaxed);
  if (batch.size() > max) stat_max_batch_.store(batch.size(), std::memory_order_relaxed);
  if (metrics_) {
    metrics_->commit_seconds.Observe(absl::ToDoubleSeconds(elapsed));
    metrics_->batch_size.Observe(static_cast<double>(batch.size()));
    for (Request* r : batch) {
      switch (r->result) {
        case WriteResult::kOk:
          metrics_->writes_ok.Add();
          break;
        case WriteResult::kAborted:
          metrics_->writes_aborted.Add();
          break;
        case WriteResult::kError:
          metrics_->writes_error.Add();
          break;
      }
    }
  }
  // A request lives on its caller's stack: its waiter cannot see `done` (and return, destroying
  // it) before r->mu is released, so notifying under that lock is safe; nothing touches r after.
  for (Request* r : batch) {
    if (r->on_done) {
      std::function<void(absl::Status)> on_done = std::move(r->on_done);
      absl::Status status = std::move(r->status);
      delete r;  // releases what the function held before its completion runs
      try {
        on_done(std::move(status));
      } catch (const std::exception& e) {
        spdlog::error("sqlite: a WriteAsync completion threw: {}", e.what());
      } catch (...) {
        spdlog::error("sqlite: a WriteAsync completion threw");
      }
      continue;
    }
    klaxon::MutexLock lock(&r->mu);
    r->done = true;
    r->cv.notify_one();
  }
}

absl::Status SqliteStore::Read(absl::FunctionRef<absl::Status(ReadTxn&)> fn) {
  if (IsNonBlocking()) return WouldBlockError();
  auto conn_or = AcquireReader();
  if (!conn_or.ok()) return conn_or.status();
  std::unique_ptr<Connection> conn = std::move(*conn_or);
  absl::Status status = conn->Run(Stmt::kBegin);
  if (status.ok()) {
    SqliteTxn txn(*conn);
    status = RunUserFn(fn, txn);
    if (status.ok() && !txn.error().ok()) status = txn.error();
    absl::Status end = conn->Run(Stmt::kCommit);
    if (status.ok()) status = end;
  }
  bool healthy = true;
  if (conn->InTransaction()) healthy = conn->Run(Stmt::kRollback).ok();
  ReleaseReader(std::move(conn), healthy);
  return status;
}

absl::StatusOr<std::unique_ptr<Connection>> SqliteStore::AcquireReader() {
  {
    klaxon::MutexLock lock(&pool_mu_);
    if (pool_closed_) return absl::UnavailableError("sqlite: store is closed");
    ++busy_readers_;
    if (!idle_readers_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return conn;
    }
  }
  // Opened outside the lock; counted as busy so Close() waits for it.
  auto conn = Connection::Open(path_, /*read_only=*/true, options_.busy_timeout);
  if (conn.ok()) {
    if (absl::Status s = ConfigureCache(**conn, options_.reader_cache_kib, options_.mmap_bytes);
        !s.ok()) {
      conn = s;
    }
  }
  if (!conn.ok()) {
    klaxon::MutexLock lock(&pool_mu_);
    if (--busy_readers_ == 0) pool_cv_.notify_all();
  }
  return conn;
}

void SqliteStore::ReleaseReader(std::unique_ptr<Connection> conn, bool healthy) {
  klaxon::MutexLock lock(&pool_mu_);
  if (--busy_readers_ == 0) pool_cv_.notify_all();
  if (healthy && !pool_closed_ && idle_readers_.size() < options_.max_idle_readers) {
    idle_readers_.push_back(std::move(conn));
    return;
  }
  // Closing a read-only connection is quick; doing it under the lock keeps Close() simple.
  conn.reset();
}

void SqliteStore::Close() {
  klaxon::MutexLock close_lock(&close_mu_);
  if (closed_) return;
  {
    klaxon::MutexLock lock(&mu_);
    closing_ = true;
  }
  queue_cv_.notify_all();
  // From the writer thread itself (a Write() function calling Close()): new writes are refused,
  // and the rest happens in the next Close() (at the latest the destructor's).
  if (tl_writer_of == this) return;
  if (writer_thread_.joinable()) writer_thread_.join();
  {
    klaxon::MutexLock lock(&ckpt_mu_);
    ckpt_stop_ = true;
  }
  ckpt_cv_.notify_all();
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();

  std::vector<std::unique_ptr<Connection>> readers;
  {
    klaxon::MutexLock lock(&pool_mu_);
    pool_closed_ = true;
    while (!NoBusyReaders()) lock.Wait(pool_cv_);
    readers.swap(idle_readers_);
  }
  readers.clear();

  if (writer_conn_) {
    // Fold the WAL into the database file so a closed store is one self-contained file. Best
    // effort: on failure the WAL stays and is recovered by the next Open().
    (void)writer_conn_->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
    writer_conn_.reset();
  }
  closed_ = true;
}

SqliteStoreStats SqliteStore::stats() const {
  SqliteStoreStats s;
  s.writes = stat_writes_.load(std::memory_order_relaxed);
  s.commits = stat_commits_.load(std::memory_order_relaxed);
  s.failed_commits = stat_failed_commits_.load(std::memory_order_relaxed);
  s.batched_writes = stat_batched_writes_.load(std::memory_order_relaxed);
  s.max_batch = stat_max_batch_.load(std::memory_order_relaxed);
  s.checkpoints = stat_checkpoints_.load(std::memory_order_relaxed);
  s.failed_checkpoints = stat_failed_checkpoints_.load(std::memory_order_relaxed);
  s.wal_restart_checkpoints = stat_wal_restart_checkpoints_.load(std::memory_order_relaxed);
  s.wal_frames = stat_wal_frames_.load(std::memory_order_relaxed);
  s.wal_restarts = stat_wal_restarts_.load(std::memory_order_relaxed);
  s.writer_cpu_ns = stat_writer_cpu_ns_.load(std::memory_order_relaxed);
  klaxon::MutexLock lock(&mu_);
  s.queued = queue_.size();
  return s;
}

}  // namespace klaxon::storage
