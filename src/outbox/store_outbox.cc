#include "outbox/store_outbox.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/ids.h"
#include "common/status.h"
#include "spdlog/spdlog.h"

namespace klaxon::outbox {

struct StoreOutbox::Kind {
  Handler handler;
  TxnHandler txn_handler;
  metrics::Counter* ok = nullptr;
  metrics::Counter* retry = nullptr;
  metrics::Counter* dead = nullptr;
  metrics::Histogram* seconds = nullptr;
};

namespace {

constexpr char kRecordVersion[] = "o1";
constexpr int kHeaderLines = 8;

absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

// 16 hex digits: sorts by time for any time after the epoch.
std::string TimeKey(absl::Time t) {
  int64_t us = std::max<int64_t>(0, Micros(t));
  return Hex16(static_cast<uint64_t>(us));
}

std::string RowKey(absl::Time due, std::string_view id) {
  return absl::StrCat(TimeKey(due), "/", ToAbsl(id));
}

std::optional<absl::Time> KeyTime(std::string_view key) {
  if (key.size() < 17 || key[16] != '/') return std::nullopt;
  uint64_t us = 0;
  for (size_t i = 0; i < 16; ++i) {
    char c = key[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    us = us * 16 + static_cast<uint64_t>(d);
  }
  return absl::FromUnixMicros(static_cast<int64_t>(us));
}

std::string OneLine(std::string_view s) {
  std::string out(s);
  std::replace(out.begin(), out.end(), '\n', ' ');
  std::replace(out.begin(), out.end(), '\r', ' ');
  return out;
}

bool SamePolicy(const RetryPolicy& a, const RetryPolicy& b) {
  return a.max_attempts == b.max_attempts && a.max_age == b.max_age &&
         a.initial_backoff == b.initial_backoff && a.max_backoff == b.max_backoff;
}

// o1\nID\nACCOUNT\nKIND\nATTEMPTS\nENQUEUED_US\nPOLICY\nLAST_ERROR\nPAYLOAD...
// POLICY is empty for the outbox's default policy, else
// "max_attempts,max_age_us,initial_backoff_us,max_backoff_us".
std::string Encode(const Entry& e, const RetryPolicy& policy, const RetryPolicy& default_policy) {
  std::string policy_text;
  if (!SamePolicy(policy, default_policy)) {
    policy_text = absl::StrCat(policy.max_attempts, ",", absl::ToInt64Microseconds(policy.max_age),
                               ",", absl::ToInt64Microseconds(policy.initial_backoff), ",",
                               absl::ToInt64Microseconds(policy.max_backoff));
  }
  return absl::StrCat(kRecordVersion, "\n", e.id, "\n", e.account_id, "\n", e.kind, "\n",
                      e.attempts, "\n", Micros(e.enqueued), "\n", policy_text, "\n",
                      OneLine(e.last_error), "\n", e.payload);
}

absl::StatusOr<QueuedEntry> Decode(std::string_view key, std::string_view value,
                                   const RetryPolicy& default_policy) {
  std::string_view lines[kHeaderLines];
  std::string_view rest = value;
  for (int i = 0; i < kHeaderLines; ++i) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      return absl::DataLossError(absl::StrCat("outbox row ", ToAbsl(key), ": truncated header"));
    }
    lines[i] = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
  }
  if (lines[0] != kRecordVersion) {
    return absl::DataLossError(absl::StrCat("outbox row ", ToAbsl(key), ": unknown version"));
  }
  QueuedEntry q;
  q.entry.id = std::string(lines[1]);
  q.entry.account_id = std::string(lines[2]);
  q.entry.kind = std::string(lines[3]);
  int64_t enqueued = 0;
  if (!absl::SimpleAtoi(ToAbsl(lines[4]), &q.entry.attempts) ||
      !absl::SimpleAtoi(ToAbsl(lines[5]), &enqueued)) {
    return absl::DataLossError(absl::StrCat("outbox row ", ToAbsl(key), ": bad counters"));
  }
  q.entry.enqueued = absl::FromUnixMicros(enqueued);
  q.policy = default_policy;
  if (!lines[6].empty()) {
    std::vector<absl::string_view> parts = absl::StrSplit(ToAbsl(lines[6]), ',');
    int64_t age = 0, initial = 0, max = 0;
    if (parts.size() != 4 || !absl::SimpleAtoi(parts[0], &q.policy.max_attempts) ||
        !absl::SimpleAtoi(parts[1], &age) || !absl::SimpleAtoi(parts[2], &initial) ||
        !absl::SimpleAtoi(parts[3], &max)) {
      return absl::DataLossError(absl::StrCat("outbox row ", ToAbsl(key), ": bad policy"));
    }
    q.policy.max_age = absl::Microseconds(age);
    q.policy.initial_backoff = absl::Microseconds(initial);
    q.policy.max_backoff = absl::Microseconds(max);
  }
  q.entry.last_error = std::string(lines[7]);
  q.entry.payload = std::string(rest);
  q.due = KeyTime(key).value_or(absl::UnixEpoch());
  return q;
}

bool Retryable(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kAborted:
      return true;
    default:
      return false;
  }
}

std::string StatusText(const absl::Status& s) {
  return absl::StrCat(absl::StatusCodeToString(s.code()), ": ", s.message());
}

// The transaction found the row gone (delivered by an earlier attempt): nothing to do.
constexpr absl::string_view kRowGone = "outbox row already removed";

}  // namespace

StoreOutbox::StoreOutbox(storage::Store& store, Clock& clock, OutboxOptions options)
    : store_(store), clock_(clock), options_(options) {}

StoreOutbox::~StoreOutbox() { Stop(); }

absl::Duration StoreOutbox::Backoff(const RetryPolicy& policy, int attempts) {
  absl::Duration d = policy.initial_backoff;
  for (int i = 1; i < attempts && d < policy.max_backoff; ++i) d *= 2;
  return std::min(d, policy.max_backoff);
}

absl::StatusOr<std::string> StoreOutbox::EnqueueInTxn(storage::WriteTxn& txn,
                                                      const std::string& account_id,
                                                      const std::string& kind,
                                                      const std::string& payload,
                                                      const RetryPolicy* policy) {
  if (kind.empty() || kind.find('\n') != std::string::npos ||
      account_id.find('\n') != std::string::npos) {
    return absl::InvalidArgumentError(
        "outbox: kind must be non-empty; no newlines in kind/account");
  }
  const absl::Time now = clock_.Now();
  Entry e;
  // Time-ordered, unique: creation microseconds then 64 random bits.
  e.id = absl::StrCat(
      absl::StrFormat("%014x", static_cast<uint64_t>(std::max<int64_t>(0, Micros(now)))),
      RandomHex(16));
  e.account_id = account_id;
  e.kind = kind;
  e.payload = payload;
  e.enqueued = now;
  const RetryPolicy& p = policy ? *policy : options_.default_policy;
  KLAXON_RETURN_IF_ERROR(txn.Put(kQueueTable, kQueueAccount, RowKey(now, e.id),
                                 Encode(e, p, options_.default_policy)));
  return e.id;
}

void StoreOutbox::RegisterHandler(const std::string& kind, Handler handler) {
  auto k = std::make_shared<Kind>();
  k->handler = std::move(handler);
  if (options_.metrics) {
    auto& m = *options_.metrics;
    const char* help = "Outbox delivery attempts by kind and result";
    k->ok =
        &m.GetCounter("klaxon_outbox_deliveries_total", help, {{"kind", kind}, {"result", "ok"}});
    k->retry = &m.GetCounter("klaxon_outbox_deliveries_total", help,
                             {{"kind", kind}, {"result", "retry"}});
    k->dead =
        &m.GetCounter("klaxon_outbox_deliveries_total", help, {{"kind", kind}, {"result", "dead"}});
    k->seconds = &m.GetHistogram("klaxon_outbox_delivery_seconds",
                                 "Time to run one outbox delivery attempt", {{"kind", kind}});
  }
  std::lock_guard<std::mutex> lock(handlers_mu_);
  kinds_[kind] = std::move(k);
}

absl::Status StoreOutbox::RegisterTxnHandler(const std::string& kind, TxnHandler handler) {
  RegisterHandler(kind, nullptr);
  std::lock_guard<std::mutex> lock(handlers_mu_);
  auto k = std::make_shared<Kind>(*kinds_[kind]);
  k->txn_handler = std::move(handler);
  kinds_[kind] = std::move(k);
  return absl::OkStatus();
}

const StoreOutbox::Kind* StoreOutbox::FindKind(const std::string& kind) {
  std::lock_guard<std::mutex> lock(handlers_mu_);
  auto it = kinds_.find(kind);
  return it == kinds_.end() ? nullptr : it->second.get();
}

void StoreOutbox::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
  }
  scheduler_cv_.notify_one();
}

absl::StatusOr<std::vector<Entry>> StoreOutbox::DeadLetters(const std::string& account_id,
                                                            size_t limit) {
  std::vector<Entry> out;
  absl::Status decode_error;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    out.clear();
    return txn.Scan(kDeadTable, account_id, "", "", limit,
                    [&](std::string_view key, std::string_view value) {
                      auto q = Decode(key, value, options_.default_policy);
                      if (!q.ok()) {
                        decode_error = q.status();
                        return false;
                      }
                      out.push_back(std::move(q->entry));
                      return true;
                    });
  }));
  KLAXON_RETURN_IF_ERROR(decode_error);
  return out;
}

absl::StatusOr<std::vector<QueuedEntry>> StoreOutbox::Pending(size_t limit) {
  std::vector<QueuedEntry> out;
  absl::Status decode_error;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    out.clear();
    return txn.Scan(kQueueTable, kQueueAccount, "", "", limit,
                    [&](std::string_view key, std::string_view value) {
                      auto q = Decode(key, value, options_.default_policy);
                      if (!q.ok()) {
                        decode_error = q.status();
                        return false;
                      }
                      out.push_back(std::move(*q));
                      return true;
                    });
  }));
  KLAXON_RETURN_IF_ERROR(decode_error);
  return out;
}

absl::Status StoreOutbox::Redrive(const std::string& account_id, const std::string& entry_id) {
  const std::string suffix = "/" + entry_id;
  return store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    std::string found_key, found_value;
    KLAXON_RETURN_IF_ERROR(txn.Scan(
        kDeadTable, account_id, "", "", 0, [&](std::string_view key, std::string_view value) {
          if (key.size() >= suffix.size() && key.substr(key.size() - suffix.size()) == suffix) {
            found_key = std::string(key);
            found_value = std::string(value);
            return false;
          }
          return true;
        }));
    if (found_key.empty()) {
      return absl::NotFoundError(absl::StrCat("no dead letter ", entry_id, " in ", account_id));
    }
    KLAXON_ASSIGN_OR_RETURN(QueuedEntry q, Decode(found_key, found_value, options_.default_policy));
    q.entry.attempts = 0;
    const absl::Time now = clock_.Now();
    q.entry.enqueued = now;  // a fresh max_age window
    KLAXON_RETURN_IF_ERROR(txn.Delete(kDeadTable, account_id, found_key));
    return txn.Put(kQueueTable, kQueueAccount, RowKey(now, q.entry.id),
                   Encode(q.entry, q.policy, options_.default_policy));
  });
}

absl::StatusOr<std::vector<StoreOutbox::Claim>> StoreOutbox::ClaimDue(
    size_t max, std::optional<absl::Time>* next_due) {
  std::lock_guard<std::mutex> scan_lock(scan_mu_);
  uint64_t seq;
  size_t already;
  std::set<std::string> claimed;  // copied so that claimed rows are skipped without copying them
  {
    std::lock_guard<std::mutex> lock(mu_);
    seq = ++scan_seq_;
    already = claimed_.size();
    claimed = claimed_;
  }
  const absl::Time now = clock_.Now();
  std::vector<std::pair<std::string, std::string>> rows;
  std::optional<absl::Time> next;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    rows.clear();
    next.reset();
    return txn.Scan(kQueueTable, kQueueAccount, "", "", max == 0 ? 0 : already + max,
                    [&](std::string_view key, std::string_view value) {
                      std::optional<absl::Time> due = KeyTime(key);
                      if (due && *due > now) {
                        next = *due;
                        return false;
                      }
                      if (claimed.count(std::string(key))) return true;
                      rows.emplace_back(std::string(key), std::string(value));
                      return true;
                    });
  }));
  if (next_due) *next_due = next;
  std::vector<Claim> claims;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [key, value] : rows) {
    if (max != 0 && claims.size() >= max) break;
    if (claimed_.count(key)) continue;
    auto released = released_.find(key);
    if (released != released_.end() && released->second >= seq) continue;  // stale snapshot
    auto q = Decode(key, value, options_.default_policy);
    if (!q.ok()) {
      // A row we cannot read would block nothing (others are still scanned) but must be seen.
      spdlog::error("outbox: skipping unreadable row {}: {}", key, q.status().ToString());
      continue;
    }
    claimed_.insert(key);
    claims.push_back(Claim{std::move(key), std::move(*q)});
  }
  for (auto it = released_.begin(); it != released_.end();) {
    if (it->second < seq) {
      it = released_.erase(it);
    } else {
      ++it;
    }
  }
  return claims;
}

void StoreOutbox::Release(const std::string& key) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    claimed_.erase(key);
    released_[key] = scan_seq_;
    if (work_.size() < LowWater() && !notified_) notified_ = wake = true;
  }
  if (wake) scheduler_cv_.notify_one();
}

void StoreOutbox::Deliver(Claim claim) {
  Entry& e = claim.queued.entry;
  const RetryPolicy& policy = claim.queued.policy;
  const Kind* kind = FindKind(e.kind);
  const absl::Time start = clock_.Now();
  absl::Status status;
  bool expired = false;
  if (kind == nullptr) {
    status = absl::FailedPreconditionError(absl::StrCat("no handler for kind ", e.kind));
  } else if (start - e.enqueued > policy.max_age) {
    expired = true;
    status = absl::DeadlineExceededError(absl::StrCat("older than the maximum event age (",
                                                      absl::FormatDuration(policy.max_age),
                                                      "); last error: ", e.last_error));
  } else if (kind->txn_handler) {
    status = store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
      KLAXON_ASSIGN_OR_RETURN(auto row, txn.Get(kQueueTable, kQueueAccount, claim.key));
      if (!row) return absl::AbortedError(kRowGone);
      KLAXON_RETURN_IF_ERROR(kind->txn_handler(txn, e));
      return txn.Delete(kQueueTable, kQueueAccount, claim.key);
    });
    if (status.code() == absl::StatusCode::kAborted && status.message() == kRowGone) {
      Release(claim.key);
      return;
    }
    if (status.ok()) {
      if (kind->ok) kind->ok->Add();
      if (kind->seconds) kind->seconds->Observe(absl::ToDoubleSeconds(clock_.Now() - start));
      Release(claim.key);
      return;
    }
  } else if (kind->handler) {
    try {
      status = kind->handler(e);
    } catch (const std::exception& ex) {
      status = absl::InternalError(absl::StrCat("handler threw: ", ex.what()));
    } catch (...) {
      status = absl::InternalError("handler threw");
    }
    if (kind->seconds) kind->seconds->Observe(absl::ToDoubleSeconds(clock_.Now() - start));
    if (status.ok()) {
      if (kind->ok) kind->ok->Add();
      RemoveDelivered(claim.key);
      return;
    }
  } else {
    status = absl::FailedPreconditionError(absl::StrCat("no handler for kind ", e.kind));
  }

  // Failure: retry later or dead-letter.
  const absl::Time now = clock_.Now();
  e.attempts += 1;
  e.last_error = StatusText(status);
  const absl::Time next_due = now + Backoff(policy, e.attempts);
  const bool retry = !expired && Retryable(status) && e.attempts < policy.max_attempts &&
                     next_due - e.enqueued <= policy.max_age;
  absl::Status moved = store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_RETURN_IF_ERROR(txn.Delete(kQueueTable, kQueueAccount, claim.key));
    if (retry) {
      return txn.Put(kQueueTable, kQueueAccount, RowKey(next_due, e.id),
                     Encode(e, policy, options_.default_policy));
    }
    return txn.Put(kDeadTable, e.account_id, RowKey(now, e.id),
                   Encode(e, policy, options_.default_policy));
  });
  if (!moved.ok()) {
    spdlog::warn("outbox: could not reschedule entry {}: {}", e.id, moved.ToString());
  } else if (retry) {
    if (kind && kind->retry) kind->retry->Add();
    spdlog::debug("outbox: entry {} ({}) attempt {} failed, retry at {}: {}", e.id, e.kind,
                  e.attempts, absl::FormatTime(next_due), e.last_error);
  } else {
    if (kind && kind->dead) kind->dead->Add();
    spdlog::warn("outbox: entry {} ({}, account {}) dead-lettered after {} attempt(s): {}", e.id,
                 e.kind, e.account_id, e.attempts, e.last_error);
  }
  Release(claim.key);
}

void StoreOutbox::RemoveDelivered(const std::string& key) {
  {
    std::lock_guard<std::mutex> lock(remove_mu_);
    to_remove_.push_back(key);
    if (flushing_) return;  // the thread flushing now (or next) removes it
    flushing_ = true;
  }
  // This thread flushes until nothing is left: every key delivered meanwhile shares a commit.
  while (true) {
    std::vector<std::string> keys;
    {
      std::lock_guard<std::mutex> lock(remove_mu_);
      keys.swap(to_remove_);
      if (keys.empty()) {
        flushing_ = false;
        return;
      }
    }
    absl::Status removed = store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
      for (const std::string& k : keys) {
        KLAXON_RETURN_IF_ERROR(txn.Delete(kQueueTable, kQueueAccount, k));
      }
      return absl::OkStatus();
    });
    if (!removed.ok()) {
      // Delivered but still queued: delivered again later (handlers are idempotent).
      spdlog::warn("outbox: {} delivered entries not removed: {}", keys.size(), removed.ToString());
    }
    for (const std::string& k : keys) Release(k);
  }
}

bool StoreOutbox::DeliverTxnBatch(std::vector<Claim>& batch) {
  if (batch.empty()) return true;
  const Kind* kind = FindKind(batch.front().queued.entry.kind);
  if (kind == nullptr || !kind->txn_handler) return false;
  const absl::Time start = clock_.Now();
  for (const Claim& c : batch) {
    if (start - c.queued.entry.enqueued > c.queued.policy.max_age) return false;  // one by one
  }
  absl::Status status = store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    for (const Claim& c : batch) {
      KLAXON_ASSIGN_OR_RETURN(auto row, txn.Get(kQueueTable, kQueueAccount, c.key));
      if (!row) continue;  // delivered by an earlier attempt
      KLAXON_RETURN_IF_ERROR(kind->txn_handler(txn, c.queued.entry));
      KLAXON_RETURN_IF_ERROR(txn.Delete(kQueueTable, kQueueAccount, c.key));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return false;
  if (kind->ok) kind->ok->Add(batch.size());
  if (kind->seconds) kind->seconds->Observe(absl::ToDoubleSeconds(clock_.Now() - start));
  for (const Claim& c : batch) Release(c.key);
  return true;
}

void StoreOutbox::DeliverClaims(std::vector<Claim> claims) {
  if (claims.size() > 1 && DeliverTxnBatch(claims)) return;
  for (auto& c : claims) Deliver(std::move(c));
}

bool StoreOutbox::IsTxnKind(const std::string& kind) {
  const Kind* k = FindKind(kind);
  return k != nullptr && k->txn_handler;
}

absl::StatusOr<size_t> StoreOutbox::DeliverDue(size_t max) {
  KLAXON_ASSIGN_OR_RETURN(std::vector<Claim> claims, ClaimDue(max, nullptr));
  size_t n = claims.size();
  // Consecutive entries of one transactional kind share a transaction, as with threads.
  for (size_t i = 0; i < claims.size();) {
    std::vector<Claim> batch;
    batch.push_back(std::move(claims[i++]));
    if (IsTxnKind(batch.front().queued.entry.kind)) {
      while (i < claims.size() && batch.size() < kMaxTxnBatch &&
             claims[i].queued.entry.kind == batch.front().queued.entry.kind) {
        batch.push_back(std::move(claims[i++]));
      }
    }
    DeliverClaims(std::move(batch));
  }
  return n;
}

absl::Status StoreOutbox::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopping_) return absl::FailedPreconditionError("outbox already started");
  started_ = true;
  if (options_.delivery_threads <= 0) return absl::OkStatus();
  threads_.emplace_back([this] { SchedulerLoop(); });
  for (int i = 0; i < options_.delivery_threads; ++i) {
    threads_.emplace_back([this] { WorkerLoop(); });
  }
  return absl::OkStatus();
}

void StoreOutbox::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  scheduler_cv_.notify_all();
  worker_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  // Claims queued but not started are simply dropped: their rows stay in the store.
  std::lock_guard<std::mutex> lock(mu_);
  work_.clear();
  claimed_.clear();
}

void StoreOutbox::SchedulerLoop() {
  while (true) {
    size_t capacity = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      notified_ = false;
      if (work_.size() < LowWater() && claimed_.size() < options_.max_in_flight) {
        capacity = options_.max_in_flight - claimed_.size();
      }
    }
    std::optional<absl::Time> next_due;
    if (capacity > 0) {
      auto claims = ClaimDue(capacity, &next_due);
      if (!claims.ok()) {
        spdlog::warn("outbox: scan failed: {}", claims.status().ToString());
      } else if (!claims->empty()) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          for (auto& c : *claims) work_.push_back(std::move(c));
        }
        worker_cv_.notify_all();
      }
    }
    absl::Duration wait = options_.poll_interval;
    if (next_due) wait = std::min(wait, std::max(absl::ZeroDuration(), *next_due - clock_.Now()));
    std::unique_lock<std::mutex> lock(mu_);
    scheduler_cv_.wait_for(lock, absl::ToChronoMicroseconds(wait) + std::chrono::microseconds(100),
                           [this] { return stopping_ || notified_; });
  }
}

void StoreOutbox::WorkerLoop() {
  while (true) {
    std::vector<Claim> claims;
    bool wake = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      worker_cv_.wait(lock, [this] { return stopping_ || !work_.empty(); });
      if (stopping_) return;
      claims.push_back(std::move(work_.front()));
      work_.pop_front();
      // Consecutive entries of one transactional kind share a transaction.
      const std::string kind = claims.front().queued.entry.kind;  // a copy: claims grows
      if (IsTxnKind(kind)) {
        while (!work_.empty() && claims.size() < kMaxTxnBatch &&
               work_.front().queued.entry.kind == kind) {
          claims.push_back(std::move(work_.front()));
          work_.pop_front();
        }
      }
      if (work_.size() < LowWater() && !notified_) notified_ = wake = true;
    }
    if (wake) scheduler_cv_.notify_one();
    DeliverClaims(std::move(claims));
  }
}

}  // namespace klaxon::outbox
