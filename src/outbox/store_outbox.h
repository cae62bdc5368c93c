#pragma once
// StoreOutbox: the durable outbox (outbox.h) over any storage::Store.
//
// Design.
// - Queue rows live in table `outbox_q` under the reserved account "" (the queue spans accounts),
//   keyed `<due, 16 hex digits of epoch microseconds>/<entry id>`, so a range scan from the start
//   yields the entries in due order and stops at the first one that is not due yet. The value is a
//   compact text record (a fixed header of lines, then the payload bytes as given: no escaping).
// - EnqueueInTxn only writes a row in the caller's transaction; a rolled-back transaction leaves
//   nothing behind, a committed one makes the entry visible to the next scan.
// - Delivery: one scheduler thread scans due rows (at most `max_in_flight` entries are claimed at
//   a time) and hands them to `delivery_threads` workers. A successful attempt's row is removed
//   (the removals of concurrent deliveries share one Write); a failed one moves the row to a later
//   due time (retryable failure; exponential backoff from the entry's RetryPolicy) or to the
//   dead-letter table `outbox_dead` under the entry's own account (permanent failure, attempts or
//   age exhausted). A transactional handler (TxnHandler) runs inside the Write that removes the
//   row; consecutive entries of one transactional kind (up to 64) share that Write, and if any
//   of them fails the batch is rolled back and each is delivered alone.
// - Claims are in memory: an entry is delivered by at most one thread of this process at a time.
//   A crash loses the claims, never the rows: after a restart every row left is delivered again
//   (at-least-once; handlers use Entry::id as their idempotency key).
// - Time comes from the injected Clock. With `delivery_threads = 0` no thread runs: tests call
//   DeliverDue() after advancing a SimulatedClock, so retry, backoff and dead-lettering are
//   deterministic. With threads, waiting is in real time (at most `poll_interval` between scans),
//   checked against the Clock.
//
// Limits: one process delivers a given store's queue (claims are not shared between processes).
//
// Thread-safety: all public methods are thread-safe. Copy/move: neither.

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "outbox/outbox.h"
#include "storage/store.h"

namespace klaxon::outbox {

inline constexpr char kQueueTable[] = "outbox_q";
inline constexpr char kDeadTable[] = "outbox_dead";
inline constexpr char kQueueAccount[] = "";

struct OutboxOptions {
  // Worker threads running handlers. 0 = no background work at all (DeliverDue() drives delivery).
  int delivery_threads = 4;
  // Longest wait between two scans of the queue when nothing wakes the scheduler (Notify(), a
  // delivery finishing, the next due time).
  absl::Duration poll_interval = absl::Milliseconds(100);
  // Most entries claimed (queued for or running in a worker) at once.
  size_t max_in_flight = 1024;
  // Policy of entries enqueued without one.
  RetryPolicy default_policy;
  // If set: klaxon_outbox_deliveries_total{kind,result="ok|retry|dead"} and
  // klaxon_outbox_delivery_seconds{kind}. Must outlive the outbox.
  metrics::Registry* metrics = nullptr;
};

// The queue row of one entry, decoded (for tests and diagnostics).
struct QueuedEntry {
  Entry entry;
  absl::Time due;
  RetryPolicy policy;
};

class StoreOutbox final : public Outbox {
 public:
  // `store` and `clock` must outlive the outbox.
  StoreOutbox(storage::Store& store, Clock& clock, OutboxOptions options = {});
  ~StoreOutbox() override;
  StoreOutbox(const StoreOutbox&) = delete;
  StoreOutbox& operator=(const StoreOutbox&) = delete;

  // See Outbox. Errors: InvalidArgument (empty kind, kind or account with a newline); the
  // transaction's own errors.
  absl::StatusOr<std::string> EnqueueInTxn(storage::WriteTxn& txn, const std::string& account_id,
                                           const std::string& kind, const std::string& payload,
                                           const RetryPolicy* policy = nullptr) override;

  void RegisterHandler(const std::string& kind, Handler handler) override;
  absl::Status RegisterTxnHandler(const std::string& kind, TxnHandler handler) override;
  void Notify() override;

  // Dead letters of `account_id`, oldest first; `limit` 0 = all. Errors: store errors.
  absl::StatusOr<std::vector<Entry>> DeadLetters(const std::string& account_id,
                                                 size_t limit) override;

  // Starts the scheduler and the workers (nothing when delivery_threads is 0). Errors:
  // FailedPrecondition if already started or stopped.
  absl::Status Start() override;
  // Waits for running deliveries, stops the threads. Idempotent.
  void Stop() override;

  // Delivers, on the calling thread, every entry due now (by the Clock) that no worker has
  // claimed, at most `max` (0 = no limit) attempts. Returns the number of attempts made. For
  // tests (delivery_threads = 0) and tools. Errors: store errors of the scan.
  absl::StatusOr<size_t> DeliverDue(size_t max = 0);

  // Queue rows in due order (`limit` 0 = all). Errors: store errors.
  absl::StatusOr<std::vector<QueuedEntry>> Pending(size_t limit = 0);

  // Moves a dead letter of `account_id` back into the queue, due now, with its attempts reset.
  // Errors: NotFound (no such dead letter), store errors.
  absl::Status Redrive(const std::string& account_id, const std::string& entry_id);

  // The delay before retry number `attempts` (1 = after the first failure) under `policy`:
  // initial_backoff * 2^(attempts-1), capped at max_backoff.
  static absl::Duration Backoff(const RetryPolicy& policy, int attempts);

 private:
  struct Kind;
  struct Claim {
    std::string key;  // queue row key
    QueuedEntry queued;
  };

  // Most entries of one transactional kind delivered in one transaction.
  static constexpr size_t kMaxTxnBatch = 64;

  absl::StatusOr<std::vector<Claim>> ClaimDue(size_t max, std::optional<absl::Time>* next_due);
  // One attempt for one entry, with its bookkeeping (removal, retry or dead letter).
  void Deliver(Claim claim);
  // Several claims of one transactional kind in one Write; false (nothing done) if the batch
  // failed as a whole, and the caller then delivers each one alone.
  bool DeliverTxnBatch(std::vector<Claim>& batch);
  void DeliverClaims(std::vector<Claim> claims);
  // Removes a delivered entry; removals of concurrent deliveries share one Write.
  void RemoveDelivered(const std::string& key);
  bool IsTxnKind(const std::string& kind);
  void Release(const std::string& key);
  void SchedulerLoop();
  void WorkerLoop();
  const Kind* FindKind(const std::string& kind);
  // Below this many queued claims the scheduler scans for more.
  size_t LowWater() const { return static_cast<size_t>(std::max(1, options_.delivery_threads)); }

  storage::Store& store_;
  Clock& clock_;
  const OutboxOptions options_;

  std::mutex handlers_mu_;
  std::map<std::string, std::shared_ptr<const Kind>> kinds_;  // guarded by handlers_mu_

  // Claims and the work queue.
  std::mutex mu_;
  std::condition_variable scheduler_cv_;  // Notify(), a claim released, Stop()
  std::condition_variable worker_cv_;     // work queued, Stop()
  std::set<std::string> claimed_;         // queue row keys claimed by this process
  // Keys released (row removed or moved) while a scan may have been running, with the scan
  // sequence number current at release: a scan that started at or before it may still see them.
  std::map<std::string, uint64_t> released_;
  uint64_t scan_seq_ = 0;
  std::deque<Claim> work_;
  bool notified_ = false;
  bool started_ = false;
  bool stopping_ = false;
  std::mutex scan_mu_;  // one scan at a time

  // Delivered entries waiting for their removal Write.
  std::mutex remove_mu_;
  std::vector<std::string> to_remove_;  // guarded by remove_mu_
  bool flushing_ = false;               // guarded by remove_mu_

  std::vector<std::thread> threads_;
};

}  // namespace klaxon::outbox
