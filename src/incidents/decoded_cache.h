#pragma once
// A cache of decoded records keyed by their stored text (internal to src/incidents).
//
// StartIncident reads the replication set and the response plan in every transaction; decoding
// their JSON each time was a large part of the work the store's single writer thread does per
// incident. The cache keeps, per (account, id), the last text seen and its decoded value, and
// hands the decoded value out only when the caller presents the SAME text it just read in its own
// transaction. So it can never return a stale record: an update changes the text, the next lookup
// misses and re-decodes (and replaces the entry). Nothing needs to be invalidated for
// correctness; deleting a record merely leaves an entry that no lookup matches until it is
// replaced or evicted.
//
// Bounded: when `capacity` entries are held, inserting another empties the cache first (entries
// are cheap to rebuild; plans and replication sets are few per account).
//
// Thread-safety: thread-safe. Values are shared immutable objects (shared_ptr<const T>), so a
// value handed out stays valid after the entry is replaced.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "common/mutex.h"

namespace klaxon::incidents::internal {

template <typename T>
class DecodedCache {
 public:
  explicit DecodedCache(size_t capacity = 4096) : capacity_(capacity) {}
  DecodedCache(const DecodedCache&) = delete;
  DecodedCache& operator=(const DecodedCache&) = delete;

  // The decoded value stored for `key` if it was decoded from exactly `text`, else nullptr.
  std::shared_ptr<const T> Find(std::string_view key, std::string_view text) const {
    klaxon::MutexLock lock(&mu_);
    auto it = entries_.find(absl::string_view(key.data(), key.size()));
    if (it == entries_.end() || it->second.text != text) return nullptr;
    return it->second.value;
  }

  // Remembers `value` as the decoding of `text` for `key` (replacing any previous entry).
  void Insert(std::string key, std::string text, std::shared_ptr<const T> value) {
    klaxon::MutexLock lock(&mu_);
    if (entries_.size() >= capacity_ && !entries_.contains(key)) entries_.clear();
    entries_.insert_or_assign(std::move(key), Entry{std::move(text), std::move(value)});
  }

  size_t size() const {
    klaxon::MutexLock lock(&mu_);
    return entries_.size();
  }

 private:
  struct Entry {
    std::string text;
    std::shared_ptr<const T> value;
  };
  const size_t capacity_;
  mutable klaxon::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace klaxon::incidents::internal
