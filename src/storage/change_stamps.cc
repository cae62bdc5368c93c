#include "storage/change_stamps.h"

#include <algorithm>

#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace klaxon::storage {
namespace {

absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

ChangeStamps::ChangeStamps() : slots_(new std::atomic<uint64_t>[kSlots]) {
  for (size_t i = 0; i < kSlots; ++i) slots_[i].store(0, std::memory_order_relaxed);
}

uint32_t ChangeStamps::SlotOf(std::string_view table, std::string_view account,
                              std::string_view id) {
  const size_t h = absl::HashOf(AbslView(table), AbslView(account), AbslView(id));
  return static_cast<uint32_t>((h ^ (h >> 32)) & (kSlots - 1));
}

void ChangeStamps::Publish(const std::vector<uint32_t>& slots) {
  if (slots.empty()) return;
  // The sequence number first, then the slots. A read whose snapshot missed this commit noted
  // seq() before the increment, so Seal() refuses a slot already holding `s`, and a slot still
  // holding its old value is overwritten later, which Current() sees. Each publisher stores its
  // own unique number, so a slot never returns to a value a reader sealed (concurrent publishers
  // may store out of order: that only invalidates more).
  const uint64_t s = seq_.fetch_add(1, std::memory_order_acq_rel) + 1;
  for (uint32_t slot : slots) slots_[slot].store(s, std::memory_order_release);
}

bool ReadStamps::Current(const ChangeStamps& stamps) const {
  return std::all_of(slots_.begin(), slots_.end(),
                     [&](const auto& p) { return stamps.at(p.first) == p.second; });
}

bool ReadStamps::CurrentWith(const ChangeStamps& stamps,
                             const std::vector<uint32_t>& unpublished) const {
  if (!Current(stamps)) return false;
  return std::none_of(slots_.begin(), slots_.end(), [&](const auto& p) {
    return std::find(unpublished.begin(), unpublished.end(), p.first) != unpublished.end();
  });
}

absl::StatusOr<std::optional<std::string>> StampedRead::Get(std::string_view table,
                                                            std::string_view account,
                                                            std::string_view id) {
  slots_.push_back(ChangeStamps::SlotOf(table, account, id));
  return txn_.Get(table, account, id);
}

absl::Status StampedRead::Scan(std::string_view table, std::string_view account,
                               std::string_view prefix, std::string_view after, size_t limit,
                               absl::FunctionRef<bool(std::string_view, std::string_view)> fn) {
  scanned_ = true;
  return txn_.Scan(table, account, prefix, after, limit, fn);
}

std::optional<ReadStamps> StampedRead::Seal(const ChangeStamps& stamps, uint64_t seq_before) const {
  if (scanned_) return std::nullopt;
  ReadStamps out;
  out.slots_.reserve(slots_.size());
  for (uint32_t slot : slots_) {
    const uint64_t value = stamps.at(slot);
    if (value > seq_before) return std::nullopt;
    out.slots_.emplace_back(slot, value);
  }
  return out;
}

}  // namespace klaxon::storage
