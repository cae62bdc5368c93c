#include "storage/memory_store.h"

#include <optional>
#include <vector>

#include "common/non_blocking.h"

namespace klaxon::storage {
namespace {

using Rows = std::map<MemoryStore::Key, std::string>;

// Reads see the committed rows plus this transaction's own pending changes.
class MemoryTxn final : public WriteTxn {
 public:
  MemoryTxn(Rows& rows, const ChangeStamps& stamps) : rows_(rows), stamps_(stamps) {}

  absl::StatusOr<std::optional<std::string>> Get(std::string_view table, std::string_view account,
                                                 std::string_view id) override {
    MemoryStore::Key key{std::string(table), std::string(account), std::string(id)};
    if (auto it = pending_.find(key); it != pending_.end()) return it->second;
    if (auto it = rows_.find(key); it != rows_.end()) return it->second;
    return std::nullopt;
  }

  absl::Status Scan(std::string_view table, std::string_view account, std::string_view prefix,
                    std::string_view after, size_t limit,
                    absl::FunctionRef<bool(std::string_view, std::string_view)> fn) override {
    // Merge committed and pending rows of the prefix range into one ordered view.
    std::map<std::string, std::optional<std::string>> view;
    std::string from(prefix);
    if (!after.empty() && std::string_view(after) > std::string_view(from)) from = after;
    MemoryStore::Key start{std::string(table), std::string(account), from};
    auto in_range = [&](const MemoryStore::Key& key) {
      const auto& [t, a, id] = key;
      return t == table && a == account && id.compare(0, prefix.size(), prefix) == 0;
    };
    for (auto it = rows_.lower_bound(start); it != rows_.end() && in_range(it->first); ++it) {
      view[std::get<2>(it->first)] = it->second;
    }
    for (auto it = pending_.lower_bound(start); it != pending_.end() && in_range(it->first); ++it) {
      view[std::get<2>(it->first)] = it->second;
    }
    size_t visited = 0;
    for (const auto& [id, value] : view) {
      if (!value) continue;
      if (id.compare(0, prefix.size(), prefix) != 0) continue;
      if (!after.empty() && id <= after) continue;
      if (!fn(id, *value)) break;
      if (limit && ++visited >= limit) break;
    }
    return absl::OkStatus();
  }

  absl::Status Put(std::string_view table, std::string_view account, std::string_view id,
                   std::string_view value) override {
    pending_[{std::string(table), std::string(account), std::string(id)}] = std::string(value);
    return absl::OkStatus();
  }

  absl::Status Delete(std::string_view table, std::string_view account,
                      std::string_view id) override {
    pending_[{std::string(table), std::string(account), std::string(id)}] = std::nullopt;
    return absl::OkStatus();
  }

  void OnRollback(std::function<void()> undo) override { undo_.push_back(std::move(undo)); }
  void RunUndo() {
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) (*it)();
    undo_.clear();
  }

  // Every earlier commit is published (they run one at a time, under the store's lock).
  bool Unchanged(const ReadStamps& read) override {
    std::vector<uint32_t> own;
    for (const auto& [key, value] : pending_) {
      own.push_back(ChangeStamps::SlotOf(std::get<0>(key), std::get<1>(key), std::get<2>(key)));
    }
    return read.CurrentWith(stamps_, own);
  }

  // Applies the pending changes; appends the change-stamp slot of every row written to `slots`.
  void Commit(std::vector<uint32_t>& slots) {
    for (auto& [key, value] : pending_) {
      slots.push_back(ChangeStamps::SlotOf(std::get<0>(key), std::get<1>(key), std::get<2>(key)));
      if (value) {
        rows_[key] = std::move(*value);
      } else {
        rows_.erase(key);
      }
    }
  }

 private:
  Rows& rows_;
  const ChangeStamps& stamps_;
  std::vector<std::function<void()>> undo_;
  std::map<MemoryStore::Key, std::optional<std::string>> pending_;
};

}  // namespace

absl::Status MemoryStore::Write(absl::FunctionRef<absl::Status(WriteTxn&)> fn) {
  if (IsNonBlocking()) return WouldBlockError();
  return WriteNow(fn);
}

void MemoryStore::WriteAsync(std::function<absl::Status(WriteTxn&)> fn,
                             std::function<void(absl::Status)> done) {
  done(WriteNow(fn));
}

absl::Status MemoryStore::WriteNow(absl::FunctionRef<absl::Status(WriteTxn&)> fn) {
  klaxon::MutexLock lock(&mu_);
  if (closed_) return absl::UnavailableError("store is closed");
  MemoryTxn txn(rows_, stamps_);
  absl::Status status = fn(txn);
  if (status.ok()) {
    std::vector<uint32_t> slots;
    txn.Commit(slots);
    stamps_.Publish(slots);
  } else {
    txn.RunUndo();
  }
  return status;
}

absl::Status MemoryStore::Read(absl::FunctionRef<absl::Status(ReadTxn&)> fn) {
  if (IsNonBlocking()) return WouldBlockError();
  klaxon::MutexLock lock(&mu_);
  if (closed_) return absl::UnavailableError("store is closed");
  MemoryTxn txn(rows_, stamps_);
  return fn(txn);
}

void MemoryStore::Close() {
  klaxon::MutexLock lock(&mu_);
  closed_ = true;
}

}  // namespace klaxon::storage
