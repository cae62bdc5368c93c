#include "storage/sqlite/connection.h"

#include <climits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/change_stamps.h"

namespace klaxon::storage::internal {
namespace {

const char* StmtSql(Stmt id) {
  switch (id) {
    case Stmt::kBegin:
      return "BEGIN";
    case Stmt::kBeginImmediate:
      return "BEGIN IMMEDIATE";
    case Stmt::kCommit:
      return "COMMIT";
    case Stmt::kRollback:
      return "ROLLBACK";
    case Stmt::kSavepoint:
      return "SAVEPOINT w";
    case Stmt::kRelease:
      return "RELEASE w";
    case Stmt::kRollbackToSavepoint:
      return "ROLLBACK TO w";
    case Stmt::kGet:
      return "SELECT value FROM kv WHERE tbl = ?1 AND account = ?2 AND id = ?3";
    case Stmt::kPut:
      return "INSERT OR REPLACE INTO kv(tbl, account, id, value) VALUES (?1, ?2, ?3, ?4)";
    case Stmt::kDelete:
      return "DELETE FROM kv WHERE tbl = ?1 AND account = ?2 AND id = ?3";
    case Stmt::kScanGe:
      return "SELECT id, value FROM kv WHERE tbl = ?1 AND account = ?2 AND id >= ?3 "
             "ORDER BY id LIMIT ?5";
    case Stmt::kScanGt:
      return "SELECT id, value FROM kv WHERE tbl = ?1 AND account = ?2 AND id > ?3 "
             "ORDER BY id LIMIT ?5";
    case Stmt::kScanGeLt:
      return "SELECT id, value FROM kv WHERE tbl = ?1 AND account = ?2 AND id >= ?3 AND id < ?4 "
             "ORDER BY id LIMIT ?5";
    case Stmt::kScanGtLt:
      return "SELECT id, value FROM kv WHERE tbl = ?1 AND account = ?2 AND id > ?3 AND id < ?4 "
             "ORDER BY id LIMIT ?5";
    case Stmt::kCount:
      break;
  }
  return "";
}

bool IsTransient(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
      return true;
    default:
      return false;
  }
}

// Binds text without copying: the caller keeps the bytes alive until the statement is reset.
// An empty view may have a null data(), which SQLite would bind as NULL rather than ''.
// Lengths past INT_MAX (also past SQLITE_MAX_LENGTH) fail instead of overflowing the int.
int BindText(sqlite3_stmt* stmt, int index, std::string_view s) {
  if (s.size() > static_cast<size_t>(INT_MAX)) return SQLITE_TOOBIG;
  return sqlite3_bind_text(stmt, index, s.empty() ? "" : s.data(), static_cast<int>(s.size()),
                           SQLITE_STATIC);
}

// Binds parameters 1..3; returns the first failure (SQLITE_TOOBIG past SQLITE_LIMIT_LENGTH).
int BindKey(sqlite3_stmt* stmt, std::string_view table, std::string_view account,
            std::string_view id) {
  int rc = BindText(stmt, 1, table);
  if (rc == SQLITE_OK) rc = BindText(stmt, 2, account);
  if (rc == SQLITE_OK) rc = BindText(stmt, 3, id);
  return rc;
}

std::string_view ColumnText(sqlite3_stmt* stmt, int col) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_blob(stmt, col));
  int n = sqlite3_column_bytes(stmt, col);
  return p ? std::string_view(p, static_cast<size_t>(n)) : std::string_view();
}

}  // namespace

absl::Status SqliteError(int rc, std::string_view what, sqlite3* db) {
  std::string message = absl::StrCat("sqlite: ", absl::string_view(what.data(), what.size()), ": ",
                                     sqlite3_errstr(rc));
  if (db != nullptr && sqlite3_extended_errcode(db) == rc) {
    const char* detail = sqlite3_errmsg(db);
    if (detail != nullptr && std::string_view(detail) != sqlite3_errstr(rc)) {
      absl::StrAppend(&message, " (", detail, ")");
    }
  }
  absl::StrAppend(&message, " [code ", rc, "]");
  return IsTransient(rc) ? absl::UnavailableError(message) : absl::InternalError(message);
}

std::optional<std::string> PrefixUpperBound(std::string_view prefix) {
  std::string upper(prefix);
  while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xff) upper.pop_back();
  if (upper.empty()) return std::nullopt;
  upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
  return upper;
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& path,
                                                             bool read_only,
                                                             absl::Duration busy_timeout,
                                                             const char* vfs) {
  int flags = SQLITE_OPEN_NOMUTEX |
              (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, vfs);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(rc, absl::StrCat("open ", path), db);
    sqlite3_close_v2(db);  // a handle is returned even on failure (or nullptr, a no-op)
    return status;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(absl::ToInt64Milliseconds(busy_timeout)));
  return std::unique_ptr<Connection>(new Connection(db, read_only));
}

Connection::~Connection() {
  for (sqlite3_stmt* stmt : stmts_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

absl::Status Connection::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);  // the same text is available from sqlite3_errmsg
  if (rc != SQLITE_OK) return SqliteError(rc, sql, db_);
  return absl::OkStatus();
}

absl::StatusOr<std::string> Connection::QueryText(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteError(rc, sql, db_);
  std::string out;
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) out = std::string(ColumnText(stmt, 0));
  if (rc == SQLITE_ROW || rc == SQLITE_DONE) rc = SQLITE_OK;
  absl::Status status = rc == SQLITE_OK ? absl::OkStatus() : SqliteError(rc, sql, db_);
  sqlite3_finalize(stmt);
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<sqlite3_stmt*> Connection::Get(Stmt id) {
  sqlite3_stmt*& slot = stmts_[static_cast<size_t>(id)];
  if (slot == nullptr) {
    int rc = sqlite3_prepare_v3(db_, StmtSql(id), -1, SQLITE_PREPARE_PERSISTENT, &slot, nullptr);
    if (rc != SQLITE_OK) {
      slot = nullptr;
      return SqliteError(rc, StmtSql(id), db_);
    }
  }
  return slot;
}

absl::Status Connection::Run(Stmt id) {
  auto stmt = Get(id);
  if (!stmt.ok()) return stmt.status();
  ScopedReset reset(*stmt);
  int rc = sqlite3_step(*stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return SqliteError(rc, StmtSql(id), db_);
  return absl::OkStatus();
}

absl::Status SqliteTxn::Fail(absl::Status status) {
  if (error_.ok()) error_ = status;
  return status;
}

bool SqliteTxn::Unchanged(const ReadStamps& read) {
  return stamps_ != nullptr && written_ != nullptr && read.CurrentWith(*stamps_, *written_);
}

absl::StatusOr<std::optional<std::string>> SqliteTxn::Get(std::string_view table,
                                                          std::string_view account,
                                                          std::string_view id) {
  auto stmt_or = conn_.Get(Stmt::kGet);
  if (!stmt_or.ok()) return Fail(stmt_or.status());
  sqlite3_stmt* stmt = *stmt_or;
  ScopedReset reset(stmt);
  int rc = BindKey(stmt, table, account, id);
  if (rc != SQLITE_OK) return Fail(SqliteError(rc, "get", conn_.db()));
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) return Fail(SqliteError(rc, "get", conn_.db()));
  return std::optional<std::string>(std::string(ColumnText(stmt, 0)));
}

absl::Status SqliteTxn::Scan(std::string_view table, std::string_view account,
                             std::string_view prefix, std::string_view after, size_t limit,
                             absl::FunctionRef<bool(std::string_view, std::string_view)> fn) {
  std::optional<std::string> upper = PrefixUpperBound(prefix);
  // The lower bound is the prefix itself (inclusive) unless `after` is at or past it.
  std::string lower(prefix);
  bool strict = false;
  if (!after.empty() && after >= prefix) {
    if (upper && after >= *upper) return absl::OkStatus();
    lower = std::string(after);
    strict = true;
  }
  std::vector<std::pair<std::string, std::string>> chunk;
  size_t visited = 0;
  for (;;) {
    size_t want = kScanChunk;
    if (limit != 0) want = std::min(want, limit - visited);
    Stmt id = strict ? (upper ? Stmt::kScanGtLt : Stmt::kScanGt)
                     : (upper ? Stmt::kScanGeLt : Stmt::kScanGe);
    auto stmt_or = conn_.Get(id);
    if (!stmt_or.ok()) return Fail(stmt_or.status());
    sqlite3_stmt* stmt = *stmt_or;
    chunk.clear();
    {
      ScopedReset reset(stmt);
      int rc = BindKey(stmt, table, account, lower);
      if (rc == SQLITE_OK && upper) rc = BindText(stmt, 4, *upper);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(stmt, 5, static_cast<sqlite3_int64>(want));
      if (rc != SQLITE_OK) return Fail(SqliteError(rc, "scan", conn_.db()));
      while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        chunk.emplace_back(ColumnText(stmt, 0), ColumnText(stmt, 1));
      }
      if (rc != SQLITE_DONE) return Fail(SqliteError(rc, "scan", conn_.db()));
    }
    // No statement is active here: fn may use this transaction freely.
    for (const auto& [row_id, value] : chunk) {
      if (!fn(row_id, value)) return absl::OkStatus();
      if (limit != 0 && ++visited >= limit) return absl::OkStatus();
    }
    if (chunk.size() < want) return absl::OkStatus();
    lower = std::move(chunk.back().first);
    strict = true;
  }
}

absl::Status SqliteTxn::Put(std::string_view table, std::string_view account, std::string_view id,
                            std::string_view value) {
  if (conn_.read_only()) return absl::FailedPreconditionError("Put in a read-only transaction");
  if (written_ != nullptr) written_->push_back(ChangeStamps::SlotOf(table, account, id));
  auto stmt_or = conn_.Get(Stmt::kPut);
  if (!stmt_or.ok()) return Fail(stmt_or.status());
  sqlite3_stmt* stmt = *stmt_or;
  ScopedReset reset(stmt);
  int rc = BindKey(stmt, table, account, id);
  // A zero-length blob must not be bound from a null pointer (that would store NULL).
  if (rc == SQLITE_OK && value.size() > static_cast<size_t>(INT_MAX)) rc = SQLITE_TOOBIG;
  if (rc == SQLITE_OK) {
    rc = sqlite3_bind_blob(stmt, 4, value.empty() ? "" : value.data(),
                           static_cast<int>(value.size()), SQLITE_STATIC);
  }
  if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE) return Fail(SqliteError(rc, "put", conn_.db()));
  return absl::OkStatus();
}

absl::Status SqliteTxn::Delete(std::string_view table, std::string_view account,
                               std::string_view id) {
  if (conn_.read_only()) return absl::FailedPreconditionError("Delete in a read-only transaction");
  if (written_ != nullptr) written_->push_back(ChangeStamps::SlotOf(table, account, id));
  auto stmt_or = conn_.Get(Stmt::kDelete);
  if (!stmt_or.ok()) return Fail(stmt_or.status());
  sqlite3_stmt* stmt = *stmt_or;
  ScopedReset reset(stmt);
  int rc = BindKey(stmt, table, account, id);
  if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE) return Fail(SqliteError(rc, "delete", conn_.db()));
  return absl::OkStatus();
}

}  // namespace klaxon::storage::internal
