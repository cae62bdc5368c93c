#pragma once
// The durable outbox: work that must happen exactly once after a transaction commits (deliver an
// event to a rule target, run an alarm action), written in the SAME store transaction that
// accepted the work and delivered afterwards, with retries, backoff and a dead-letter list.
//
// Exactly-once effects: an entry is delivered at least once (a crash after the effect but before
// the entry is removed delivers it again), so every delivery handler must be idempotent. The
// entry id is stable across attempts: handlers use it as an idempotency key (e.g. as the
// StartIncident clientToken), which makes the effect exactly-once.
//
// Thread-safety: all methods are thread-safe. Lifecycle: RegisterHandler() for every kind, then
// Start(); Stop() before destroying. Copy/move: neither.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/store.h"

namespace klaxon::outbox {

struct Entry {
  std::string id;  // unique, stable across attempts
  std::string account_id;
  std::string kind;     // selects the handler, e.g. "events.target", "alarms.action"
  std::string payload;  // handler-defined (JSON text)
  int attempts = 0;     // deliveries tried so far
  absl::Time enqueued;
  std::string last_error;
};

struct RetryPolicy {
  int max_attempts = 185;                    // EventBridge's default
  absl::Duration max_age = absl::Hours(24);  // EventBridge's default MaximumEventAgeInSeconds
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Minutes(5);
};

// Result of one delivery attempt: OK removes the entry; a retryable error (kUnavailable,
// kResourceExhausted, kDeadlineExceeded, kInternal, kAborted) schedules a retry; any other error,
// or exhausting the RetryPolicy, moves the entry to the dead-letter list.
using Handler = std::function<absl::Status(const Entry&)>;

// A handler whose effect is a store write: it runs inside the same transaction that removes the
// entry, so the effect happens exactly once without an idempotency key (e.g. forwarding an event
// to another event bus, which enqueues further entries). It must have no effects outside `txn`
// (the transaction may be retried) and must not call Store::Write. Errors as Handler; its writes
// are rolled back on error.
using TxnHandler = std::function<absl::Status(storage::WriteTxn& txn, const Entry&)>;

class Outbox {
 public:
  virtual ~Outbox() = default;

  // Adds an entry inside the caller's transaction; it becomes visible to delivery only when that
  // transaction commits. Returns the entry id. `policy` overrides the default for this entry.
  virtual absl::StatusOr<std::string> EnqueueInTxn(storage::WriteTxn& txn,
                                                   const std::string& account_id,
                                                   const std::string& kind,
                                                   const std::string& payload,
                                                   const RetryPolicy* policy = nullptr) = 0;

  virtual void RegisterHandler(const std::string& kind, Handler handler) = 0;

  // Registers a transactional handler for `kind` (see TxnHandler). A kind has one handler of
  // either sort. Implementations that cannot run transactional handlers return Unimplemented.
  virtual absl::Status RegisterTxnHandler(const std::string& /*kind*/, TxnHandler /*handler*/) {
    return absl::UnimplementedError("transactional outbox handlers are not supported");
  }

  // Wakes the delivery threads (call after a commit that enqueued entries; delivery also polls).
  virtual void Notify() = 0;

  // Entries that exhausted their retries or failed permanently, oldest first.
  virtual absl::StatusOr<std::vector<Entry>> DeadLetters(const std::string& account_id,
                                                         size_t limit) = 0;

  virtual absl::Status Start() = 0;
  // Finishes in-flight deliveries and stops; undelivered entries stay durable for the next start.
  virtual void Stop() = 0;
};

}  // namespace klaxon::outbox
