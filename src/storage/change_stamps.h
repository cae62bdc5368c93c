#pragma once
// Change stamps: lets a module keep an answer computed from a read in memory, and know in a few
// atomic loads whether any row the answer depends on has been written since.
//
// Design. A store keeps kSlots counters. Every row (table, account, id) maps to one slot by hash.
// After each commit, and before any Write() of that commit returns, the store publishes: it draws
// the next sequence number and stores it into the slot of every row the commit wrote (Put or
// Delete). A slot's value therefore changes whenever one of its rows is written; rows sharing a
// slot only cause needless invalidations.
//
// Reading with stamps (StampedRead): note seq() before the snapshot starts, read through a
// StampedRead wrapper (it remembers the slots of the rows it Gets), then Seal(). Seal refuses
// (nullopt) if any of those slots moved past the noted sequence: a commit that may not be in the
// snapshot has written one of the rows. Otherwise the sealed ReadStamps hold the slots' values,
// and Current() later says whether all are unchanged, i.e. whether the answer computed from the
// snapshot is still what a new snapshot would give. An answer given while Current() is true
// includes every write acknowledged before it (those were published before their Write()
// returned). Scans are not tracked: a read that scans cannot be sealed.
//
// Thread-safety: all const methods are thread-safe and lock-free; Publish is called by the store's
// writer (any thread, concurrently is fine).

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/store.h"

namespace klaxon::storage {

class ChangeStamps {
 public:
  static constexpr size_t kSlots = size_t{1} << 16;

  ChangeStamps();
  ChangeStamps(const ChangeStamps&) = delete;
  ChangeStamps& operator=(const ChangeStamps&) = delete;

  static uint32_t SlotOf(std::string_view table, std::string_view account, std::string_view id);

  // The last sequence number published.
  uint64_t seq() const { return seq_.load(std::memory_order_acquire); }
  uint64_t at(uint32_t slot) const { return slots_[slot].load(std::memory_order_acquire); }

  // Marks the rows of `slots` as written by a commit that is now visible to new snapshots.
  void Publish(const std::vector<uint32_t>& slots);

 private:
  std::atomic<uint64_t> seq_{0};
  std::unique_ptr<std::atomic<uint64_t>[]> slots_;
};

// The stamps of the rows one read depended on (see above).
class ReadStamps {
 public:
  // Whether no row of the read has been written since it was sealed.
  bool Current(const ChangeStamps& stamps) const;
  // Current(), and none of the rows was written by a commit not yet published, whose slots
  // (ChangeStamps::SlotOf) are `unpublished` (for WriteTxn::Unchanged).
  bool CurrentWith(const ChangeStamps& stamps, const std::vector<uint32_t>& unpublished) const;
  size_t size() const { return slots_.size(); }

 private:
  friend class StampedRead;
  std::vector<std::pair<uint32_t, uint64_t>> slots_;
};

// A ReadTxn wrapper that remembers which rows were read.
class StampedRead final : public ReadTxn {
 public:
  explicit StampedRead(ReadTxn& txn) : txn_(txn) {}

  absl::StatusOr<std::optional<std::string>> Get(std::string_view table, std::string_view account,
                                                 std::string_view id) override;
  absl::Status Scan(std::string_view table, std::string_view account, std::string_view prefix,
                    std::string_view after, size_t limit,
                    absl::FunctionRef<bool(std::string_view, std::string_view)> fn) override;

  // The stamps of the rows read, or nullopt if they cannot vouch for the snapshot: a row was
  // written by a commit published after `seq_before` (ChangeStamps::seq() noted before the
  // snapshot began), or the read scanned.
  std::optional<ReadStamps> Seal(const ChangeStamps& stamps, uint64_t seq_before) const;

 private:
  ReadTxn& txn_;
  std::vector<uint32_t> slots_;
  bool scanned_ = false;
};

}  // namespace klaxon::storage
