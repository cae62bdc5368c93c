#pragma once
// Copy-on-write containers behind RuleSet snapshots. A snapshot and the builder share chunks /
// shards through shared_ptr; the builder clones a chunk or shard before changing it if anyone
// else still holds it (use_count() > 1). Only the builder mutates, so a use_count of 1 seen by
// the builder cannot grow concurrently.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace klaxon::events::pattern::internal {

// A vector in chunks of kChunk elements. Reads cost two dependent loads (chunk pointer, element).
template <typename T>
class CowChunks {
 public:
  static constexpr size_t kShift = 10;
  static constexpr size_t kChunk = size_t{1} << kShift;

  size_t size() const { return size_; }
  const T& operator[](size_t i) const { return data_[i >> kShift][i & (kChunk - 1)]; }

  T& Mutable(size_t i) { return MutableChunk(i >> kShift)[i & (kChunk - 1)]; }

  void PushBack(T value) {
    if (size_ % kChunk == 0) {
      chunks_.push_back(std::make_shared<std::vector<T>>());
      data_.push_back(nullptr);
    }
    size_t c = size_ / kChunk;
    MutableChunk(c);
    chunks_[c]->push_back(std::move(value));
    data_[c] = chunks_[c]->data();
    ++size_;
  }

 private:
  T* MutableChunk(size_t c) {
    auto& chunk = chunks_[c];
    if (chunk.use_count() > 1) {
      auto copy = std::make_shared<std::vector<T>>();
      copy->reserve(chunk->size() + 1);
      copy->insert(copy->end(), chunk->begin(), chunk->end());
      chunk = std::move(copy);
      data_[c] = chunk->data();
    }
    return chunk->data();
  }

  std::vector<std::shared_ptr<std::vector<T>>> chunks_;
  std::vector<T*> data_;  // chunks_[c]->data(), cached
  size_t size_ = 0;
};

inline uint64_t ShardHash(std::string_view s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h ^ (h >> 29);
}
inline uint64_t ShardHash(uint64_t v) {
  v ^= v >> 33;
  v *= 0xff51afd7ed558ccdull;
  v ^= v >> 33;
  return v;
}

// A hash map in kShards shards. K is std::string or uint64_t.
template <typename K, typename V>
class CowMap {
 public:
  static constexpr size_t kShards = 64;
  using Map = absl::flat_hash_map<K, V>;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  const V* Find(std::string_view key) const requires std::is_same_v<K, std::string> {
    const auto& shard = shards_[ShardHash(key) % kShards];
    if (!shard) return nullptr;
    auto it = shard->find(absl::string_view(key.data(), key.size()));
    return it == shard->end() ? nullptr : &it->second;
  }
  const V* Find(uint64_t key) const requires std::is_same_v<K, uint64_t> {
    const auto& shard = shards_[ShardHash(key) % kShards];
    if (!shard) return nullptr;
    auto it = shard->find(key);
    return it == shard->end() ? nullptr : &it->second;
  }

  // Returns the value for `key`, inserting a default one if absent.
  V& Mutable(const K& key) {
    Map& shard = MutableShard(key);
    auto [it, inserted] = shard.try_emplace(key);
    if (inserted) ++size_;
    return it->second;
  }

  void Erase(const K& key) {
    Map& shard = MutableShard(key);
    size_ -= shard.erase(key);
  }

 private:
  Map& MutableShard(const K& key) {
    auto& shard = shards_[ShardHash(Key(key)) % kShards];
    if (!shard) {
      shard = std::make_shared<Map>();
    } else if (shard.use_count() > 1) {
      shard = std::make_shared<Map>(*shard);
    }
    return *shard;
  }
  static std::string_view Key(const std::string& k) { return k; }
  static uint64_t Key(uint64_t k) { return k; }

  std::array<std::shared_ptr<Map>, kShards> shards_;
  size_t size_ = 0;
};

// A map from a well-mixed 64-bit hash to a 32-bit id (the head of a chain of entries kept by the
// caller), in kShards shards chosen by the top bits of the hash. Each shard is an
// open-addressing table (linear probing, backward-shift deletion, load <= 3/4) of 12-byte slots
// with a parallel array of 1-byte tags (7 bits of the hash, as in Swiss tables): a lookup for an
// absent hash usually reads only the tags (one cache line, 1/8 of the slots' size, so that a big
// table's tags stay in cache), and Prefetch can request that line ahead of time.
class CowHashIndex {
 public:
  static constexpr size_t kShardBits = 6;
  static constexpr size_t kShards = size_t{1} << kShardBits;

  const uint32_t* Find(uint64_t hash) const {
    const Shard* shard = shards_[hash >> (64 - kShardBits)].get();
    if (shard == nullptr) return nullptr;
    hash = NonZero(hash);
    const uint8_t tag = Tag(hash);
    for (size_t i = Home(hash, shard->mask);; i = (i + 1) & shard->mask) {
      const uint8_t t = shard->tags[i];
      if (t == 0) return nullptr;
      if (t == tag && shard->slots[i].Hash() == hash) return &shard->slots[i].id;
    }
  }

  // Asks for the cache lines that Find(hash) will read first: the tags, and the home slot (read
  // when the tag matches, which it does for every hash that is present).
  void Prefetch(uint64_t hash) const {
    const Shard* shard = shards_[hash >> (64 - kShardBits)].get();
    if (shard == nullptr) return;
    const size_t home = Home(NonZero(hash), shard->mask);
    __builtin_prefetch(&shard->tags[home]);
    __builtin_prefetch(&shard->slots[home]);
  }

  // The id stored for `hash`, inserting `absent` if there is none.
  uint32_t& Mutable(uint64_t hash, uint32_t absent) {
    Shard& shard = MutableShard(hash);
    hash = NonZero(hash);
    for (size_t i = Home(hash, shard.mask);; i = (i + 1) & shard.mask) {
      if (shard.tags[i] == 0) break;
      if (shard.slots[i].Hash() == hash) return shard.slots[i].id;
    }
    if ((shard.size + 1) * 4 > shard.slots.size() * 3) Grow(shard);
    size_t i = Home(hash, shard.mask);
    while (shard.tags[i] != 0) i = (i + 1) & shard.mask;
    shard.slots[i] = Slot{static_cast<uint32_t>(hash), static_cast<uint32_t>(hash >> 32), absent};
    shard.tags[i] = Tag(hash);
    ++shard.size;
    return shard.slots[i].id;
  }

  void Erase(uint64_t hash) {
    if (!shards_[hash >> (64 - kShardBits)]) return;
    Shard& shard = MutableShard(hash);
    hash = NonZero(hash);
    size_t i = Home(hash, shard.mask);
    while (shard.tags[i] == 0 || shard.slots[i].Hash() != hash) {
      if (shard.tags[i] == 0) return;
      i = (i + 1) & shard.mask;
    }
    // Backward-shift deletion: move later entries of the probe run into the hole.
    size_t hole = i;
    for (size_t j = (i + 1) & shard.mask; shard.tags[j] != 0; j = (j + 1) & shard.mask) {
      const size_t home = Home(shard.slots[j].Hash(), shard.mask);
      // j stays unless the hole lies cyclically in [home, j).
      const bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!stays) {
        shard.slots[hole] = shard.slots[j];
        shard.tags[hole] = shard.tags[j];
        hole = j;
      }
    }
    shard.slots[hole] = Slot();
    shard.tags[hole] = 0;
    --shard.size;
  }

 private:
  struct Slot {
    uint32_t lo = 0, hi = 0;  // the hash
    uint32_t id = 0;
    uint64_t Hash() const { return (uint64_t{hi} << 32) | lo; }
  };
  struct Shard {
    std::vector<uint8_t> tags = std::vector<uint8_t>(8);  // 0: empty slot
    std::vector<Slot> slots = std::vector<Slot>(8);
    size_t mask = 7;
    size_t size = 0;
  };
  static uint64_t NonZero(uint64_t hash) { return hash == 0 ? 1 : hash; }
  static size_t Home(uint64_t hash, size_t mask) { return (hash >> 20) & mask; }
  static uint8_t Tag(uint64_t hash) { return static_cast<uint8_t>(0x80 | (hash & 0x7F)); }

  Shard& MutableShard(uint64_t hash) {
    auto& shard = shards_[hash >> (64 - kShardBits)];
    if (!shard) {
      shard = std::make_shared<Shard>();
    } else if (shard.use_count() > 1) {
      shard = std::make_shared<Shard>(*shard);
    }
    return *shard;
  }
  static void Grow(Shard& shard) {
    std::vector<Slot> old = std::move(shard.slots);
    std::vector<uint8_t> old_tags = std::move(shard.tags);
    shard.slots.assign(old.size() * 2, Slot());
    shard.tags.assign(old.size() * 2, 0);
    shard.mask = shard.slots.size() - 1;
    for (size_t k = 0; k < old.size(); ++k) {
      if (old_tags[k] == 0) continue;
      size_t i = Home(old[k].Hash(), shard.mask);
      while (shard.tags[i] != 0) i = (i + 1) & shard.mask;
      shard.slots[i] = old[k];
      shard.tags[i] = old_tags[k];
    }
  }

  std::array<std::shared_ptr<Shard>, kShards> shards_;
};

}  // namespace klaxon::events::pattern::internal
