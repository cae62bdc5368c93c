#pragma once
// clientToken records of the ssm-incidents operations that take one (StartIncident,
// UpdateIncidentRecord, UpdateRelatedItems, Create/UpdateResponsePlan, Create/UpdateReplicationSet,
// UpdateDeletionProtection, Create/UpdateTimelineEvent): the same token with the same parameters
// replays the first result; with other parameters it is a ConflictException.
//
// Design. The SDKs send a fresh random token on every call. A table keyed by token would put each
// record on its own B-tree page: one more page (a WAL frame) written per call. Records are
// appended instead: table im_client_token_log, id = 16 hex digits of a per-account sequence
// number, value = {op, token, fp, result, time}, so the records of one group commit share a page
// or two. An in-memory index maps a hash of (operation, token) to sequence numbers; it changes
// with the rows, inside the transaction (so later transactions of the same group commit see it),
// and WriteTxn::OnRollback hooks undo those changes if the rows are rolled back. A lookup reads the
// rows and compares operation and token, so an entry that points at nothing (the account's data
// deleted) or at another token (a hash collision) is harmless.
//
// An account's index is built the first time one of its tokens is looked up or saved after the
// process starts, or by Warm(): one scan of its log, inside that write transaction (about 2 µs per
// record, during which other writes wait). Records of the table used
// before the log (im_client_tokens, keyed by operation and token), if the account has any, are
// still looked up there when the log has no match (they are not moved: the log would then depend
// on that first transaction committing).
//
// Expiry: a token is honoured for Limits::client_token_retention after its call, and at most
// Limits::max_client_tokens per account are kept (the oldest go first); the index costs about 60
// bytes per kept token. Expired records are deleted a few at a time by later saves of the same
// account.
//
// Thread-safety: thread-safe. Replay and Save must run inside write transactions of the one store
// this object serves; the store runs those one at a time, which keeps the index in step with the
// log. Copy/move: neither.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "boost/json/value.hpp"
#include "common/mutex.h"
#include "incidents/types.h"
#include "storage/store.h"

namespace klaxon::incidents {

class ClientTokens {
 public:
  explicit ClientTokens(const Limits& limits);
  ClientTokens(const ClientTokens&) = delete;
  ClientTokens& operator=(const ClientTokens&) = delete;

  // If (account, operation, token) was recorded less than the retention before `now`: its result
  // when `fingerprint` matches, else a ConflictException. nullopt when new, or when `token` is
  // absent or empty.
  absl::StatusOr<std::optional<boost::json::value>> Replay(
      storage::WriteTxn& txn, std::string_view account, std::string_view operation,
      const std::optional<std::string>& token, std::string_view fingerprint, absl::Time now);

  // Records the call's result (nothing when `token` is absent or empty), in `txn`.
  absl::Status Save(storage::WriteTxn& txn, std::string_view account, std::string_view operation,
                    const std::optional<std::string>& token, std::string_view fingerprint,
                    const boost::json::value& result, absl::Time now);

  // Builds the account's index now (in a write transaction of its own) rather than inside its
  // first call with a token; a server does this for its accounts before it listens.
  absl::Status Warm(storage::Store& store, std::string_view account);

  // Rows of im_client_token_log for `seq` (exposed for tests).
  static std::string LogId(uint64_t seq);

 private:
  struct Entry {  // 24 bytes: with its index slot, about 60 bytes of memory per kept token
    uint64_t seq;
    uint64_t hash;
    int64_t unix_nanos;  // when its call ran
  };
  struct AccountIndex {
    bool loaded = false;
    bool has_legacy = false;  // the account has records in im_client_tokens
    uint64_t next_seq = 1;
    absl::flat_hash_map<uint64_t, absl::InlinedVector<uint64_t, 1>> by_hash;
    std::deque<Entry> order;  // oldest first
  };

  // The account's index, built from its log on first use.
  absl::StatusOr<AccountIndex*> Load(storage::WriteTxn& txn, std::string_view account)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Appends one record to the log and the index.
  absl::Status Append(storage::WriteTxn& txn, std::string_view account, AccountIndex& index,
                      std::string_view operation, std::string_view token,
                      std::string_view fingerprint, const boost::json::value& result,
                      absl::Time time) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Deletes up to kSweepBatch of the oldest records that have expired or exceed the cap.
  absl::Status Sweep(storage::WriteTxn& txn, std::string_view account, AccountIndex& index,
                     absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The body of the rollback hooks: runs `undo` on the account's index under mu_, if the account
  // still has one.
  void UndoOnIndex(std::string_view account, absl::FunctionRef<void(AccountIndex&)> undo)
      ABSL_LOCKS_EXCLUDED(mu_);
  static uint64_t HashOf(std::string_view operation, std::string_view token);
  static void RemoveFromHash(AccountIndex& index, uint64_t hash, uint64_t seq);

  static constexpr int kSweepBatch = 16;

  const absl::Duration retention_;
  const size_t max_tokens_;
  Mutex mu_;
  absl::flat_hash_map<std::string, AccountIndex> accounts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace klaxon::incidents
