#pragma once
// Internal to the SQLite backend: one sqlite3 connection with its cached prepared statements, the
// mapping of SQLite result codes to absl::Status, and the Txn implementation used by both the
// writer (read-write, inside a SAVEPOINT) and the readers (read-only snapshot).
//
// Thread-safety: a Connection is used by one thread at a time (it is opened with
// SQLITE_OPEN_NOMUTEX); handing it to another thread needs external synchronisation (the reader
// pool's mutex, or the writer thread owning it for its whole life).
// Copy/move: neither.

#include <sqlite3.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/store.h"

namespace klaxon::storage::internal {

// Maps a SQLite result code to a Status: kUnavailable for conditions a caller may retry later
// (busy/locked, I/O errors, disk full, cannot open, read-only file system, out of memory), and
// kInternal for everything else (corruption, misuse, constraint failures we never expect).
// `what` names the operation; the message carries SQLite's own text and the extended code.
absl::Status SqliteError(int rc, std::string_view what, sqlite3* db = nullptr);

// The smallest string greater than every string that starts with `prefix`, or std::nullopt if
// there is none (prefix empty or made only of 0xFF bytes). Compared bytewise (memcmp order).
std::optional<std::string> PrefixUpperBound(std::string_view prefix);

// Statements prepared once per connection (SQLITE_PREPARE_PERSISTENT) and reused.
enum class Stmt {
  kBegin,
  kBeginImmediate,
  kCommit,
  kRollback,
  kSavepoint,
  kRelease,
  kRollbackToSavepoint,
  kGet,
  kPut,
  kDelete,
  kScanGe,    // id >= lower
  kScanGt,    // id > lower
  kScanGeLt,  // id >= lower AND id < upper
  kScanGtLt,  // id > lower AND id < upper
  kCount,
};

class Connection {
 public:
  // Opens `path` (creating it unless `read_only`), sets the busy timeout and extended result codes.
  // `vfs`: the SQLite VFS by name (nullptr: the default).
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& path, bool read_only,
                                                          absl::Duration busy_timeout,
                                                          const char* vfs = nullptr);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* db() const { return db_; }
  bool read_only() const { return read_only_; }

  // Runs one or more SQL statements that return no rows of interest (PRAGMAs, DDL).
  absl::Status Exec(const std::string& sql);
  // Runs a single-row, single-column query and returns the first column as text ("" if no row).
  absl::StatusOr<std::string> QueryText(const std::string& sql);

  // The cached statement `id`, prepared on first use. The statement is reset and its bindings are
  // stale; callers bind every parameter and must sqlite3_reset() it when done (see ScopedReset).
  absl::StatusOr<sqlite3_stmt*> Get(Stmt id);

  // Runs a cached statement that returns no rows (BEGIN, COMMIT, SAVEPOINT...).
  absl::Status Run(Stmt id);

  // True while a transaction is open on this connection.
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

 private:
  Connection(sqlite3* db, bool read_only) : db_(db), read_only_(read_only) {}

  sqlite3* db_;
  bool read_only_;
  std::array<sqlite3_stmt*, static_cast<size_t>(Stmt::kCount)> stmts_{};
};

// Resets a statement when leaving scope, so no statement stays active across calls into user code.
class ScopedReset {
 public:
  explicit ScopedReset(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~ScopedReset() { sqlite3_reset(stmt_); }
  ScopedReset(const ScopedReset&) = delete;
  ScopedReset& operator=(const ScopedReset&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

// The WriteTxn handed to Read()/Write() functions. Every operation runs directly on the bound
// connection, so a function sees its own writes and those of the functions before it in the same
// group commit. The first backend error is remembered (`error()`): the store treats a function that
// hit one as failed even if the function ignored the error, so a partial write never commits.
// Put/Delete on a read-only transaction fail with kFailedPrecondition (only reachable by a cast).
class SqliteTxn final : public WriteTxn {
 public:
  // `written`, if not null, receives the change-stamp slot (ChangeStamps::SlotOf) of every row
  // this transaction puts or deletes; it holds those of the transactions before it in the same
  // group commit too, so with `stamps` (the store's) it answers Unchanged(). `undo`, if not null,
  // receives the OnRollback hooks (the store runs them); without it they are dropped (a read).
  explicit SqliteTxn(Connection& conn, std::vector<uint32_t>* written = nullptr,
                     const ChangeStamps* stamps = nullptr,
                     std::vector<std::function<void()>>* undo = nullptr)
      : conn_(conn), written_(written), stamps_(stamps), undo_(undo) {}

  absl::StatusOr<std::optional<std::string>> Get(std::string_view table, std::string_view account,
                                                 std::string_view id) override;
  absl::Status Scan(std::string_view table, std::string_view account, std::string_view prefix,
                    std::string_view after, size_t limit,
                    absl::FunctionRef<bool(std::string_view, std::string_view)> fn) override;
  absl::Status Put(std::string_view table, std::string_view account, std::string_view id,
                   std::string_view value) override;
  absl::Status Delete(std::string_view table, std::string_view account,
                      std::string_view id) override;
  bool Unchanged(const ReadStamps& read) override;
  void OnRollback(std::function<void()> undo) override {
    if (undo_ != nullptr) undo_->push_back(std::move(undo));
  }

  const absl::Status& error() const { return error_; }

  // Rows fetched per statement execution in Scan; between chunks no statement is active, so the
  // callback may call back into the transaction (Get, Put, a nested Scan).
  static constexpr size_t kScanChunk = 256;

 private:
  absl::Status Fail(absl::Status status);

  Connection& conn_;
  std::vector<uint32_t>* written_;
  const ChangeStamps* stamps_;
  std::vector<std::function<void()>>* undo_;
  absl::Status error_;
};

}  // namespace klaxon::storage::internal
