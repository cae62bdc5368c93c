#pragma once
// Storage interface: an account-scoped, transactional key-value store of JSON documents.
//
// Design. Every record is (table, account, id) -> value, where value is opaque bytes (the domain
// modules store JSON text). Tables are fixed names chosen by the domain modules ("incidents",
// "incident_dedup", ...); secondary indexes are just further tables written in the same
// transaction. Account is part of every key, so nothing of another account is reachable.
//
// Transactions. Write() runs a function inside one serializable read-write transaction: either all
// of its Put/Delete calls become durable together or none does, and Write() returns only after the
// commit is durable (fsync'ed). Concurrent Write() calls may be grouped into one physical commit
// (group commit); each function still sees a state in which the functions before it have been
// applied and none after it. A function may be run more than once (a backend may retry after a
// serialization failure), so it must have no effects outside the transaction.
//
// Read() runs a function against a consistent snapshot that includes every write whose Write()
// has returned. Readers never block writers.
//
// Errors. Backend failures are absl::StatusCode::kInternal or kUnavailable; an error returned by
// the function itself aborts its transaction (rolling back its writes only) and is returned as is.
//
// Non-blocking callers: inside a NonBlockingScope (common/non_blocking.h) Write() and Read() return
// WouldBlockError() at once, without running `fn`.
//
// Change stamps: a backend may keep ChangeStamps (change_stamps.h), so that answers computed from
// a read can be kept in memory and revalidated without reading again.
//
// Thread-safety: all methods of Store are thread-safe. Txn objects belong to the one call that
// received them and must not escape it.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace klaxon::storage {

class ChangeStamps;
class ReadStamps;

class ReadTxn {
 public:
  virtual ~ReadTxn() = default;

  // The value of (table, account, id), or std::nullopt if absent.
  virtual absl::StatusOr<std::optional<std::string>> Get(std::string_view table,
                                                         std::string_view account,
                                                         std::string_view id) = 0;

  // Calls `fn(id, value)` for rows of (table, account) whose id starts with `prefix` and is
  // strictly greater than `after` (empty = from the start), in ascending byte order of id, until
  // `fn` returns false or `limit` rows (0 = no limit) have been visited.
  virtual absl::Status Scan(
      std::string_view table, std::string_view account, std::string_view prefix,
      std::string_view after, size_t limit,
      absl::FunctionRef<bool(std::string_view id, std::string_view value)> fn) = 0;
};

class WriteTxn : public ReadTxn {
 public:
  // Inserts or replaces the row.
  virtual absl::Status Put(std::string_view table, std::string_view account, std::string_view id,
                           std::string_view value) = 0;
  // Removes the row if present (absent is not an error).
  virtual absl::Status Delete(std::string_view table, std::string_view account,
                              std::string_view id) = 0;

  // Whether no row that `read` (sealed from this store's change stamps) depended on has been
  // written since it was sealed: not by a published commit, not by this transaction, and not by a
  // transaction grouped into the same commit before this one. If so, what was computed from that
  // read is what reading the rows again here would give. `false` is always a safe answer (the
  // caller then reads); a backend without change stamps always gives it.
  virtual bool Unchanged(const ReadStamps& /*read*/) { return false; }

  // Runs `undo` if this transaction's writes are rolled back: its function failed, or the commit
  // it was grouped into did. For in-memory state kept in step with the rows (an index, say) that
  // later transactions must see before the commit. Hooks run on the writing thread before the
  // Write() (or WriteAsync completion) reports: newest first, and the hooks of transactions
  // grouped into one failed commit from the last transaction to the first. Never runs once the
  // transaction has committed. `undo` must not call into the store.
  virtual void OnRollback(std::function<void()> undo) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs `fn` in a read-write transaction and makes its writes durable before returning.
  // Returns fn's error (writes rolled back) or a backend error.
  virtual absl::Status Write(absl::FunctionRef<absl::Status(WriteTxn&)> fn) = 0;

  // Queues `fn` like Write() and returns at once; `done` then receives what Write() would have
  // returned, after the commit is durable and its change stamps published. It does not wait, so
  // it is allowed inside a NonBlockingScope when supports_async_writes() (the default
  // implementation just calls Write(), refusing there). `fn` may run on another thread after this
  // call returned: it must own, or keep alive, everything it uses. `done` runs on the backend's
  // writer thread (or inside this call): it must be quick, must not throw and must not call into
  // the store.
  virtual void WriteAsync(std::function<absl::Status(WriteTxn&)> fn,
                          std::function<void(absl::Status)> done) {
    done(Write(fn));
  }
  // Whether WriteAsync queues without waiting (so may be used inside a NonBlockingScope).
  virtual bool supports_async_writes() const { return false; }

  // Runs `fn` against a consistent read snapshot.
  virtual absl::Status Read(absl::FunctionRef<absl::Status(ReadTxn&)> fn) = 0;

  // The backend's change stamps, published after every commit before its Write() calls return;
  // nullptr if it keeps none (then nothing read from it can be revalidated from memory).
  virtual const ChangeStamps* change_stamps() const { return nullptr; }

  // Flushes and stops background work; later calls fail with kUnavailable. Idempotent.
  virtual void Close() = 0;
};

}  // namespace klaxon::storage
