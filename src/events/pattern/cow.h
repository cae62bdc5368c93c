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

// A map from a well-mixed 64-bit hash to a 32-bit id (the head of a chain kept by the caller),
// in kShards shards chosen by the top bits of the hash. The hash is used as is.
class CowHashIndex {
 public:
  static constexpr size_t kShardBits = 6;
  static constexpr size_t kShards = size_t{1} << kShardBits;

  const uint32_t* Find(uint64_t hash) const {
    const auto& shard = shards_[hash >> (64 - kShardBits)];
    if (!shard) return nullptr;
    auto it = shard->find(hash);
    return it == shard->end() ? nullptr : &it->second;
  }

  // The id stored for `hash`, inserting `absent` if there is none.
  uint32_t& Mutable(uint64_t hash, uint32_t absent) {
    auto& shard = shards_[hash >> (64 - kShardBits)];
    if (!shard) {
      shard = std::make_shared<Map>();
    } else if (shard.use_count() > 1) {
      shard = std::make_shared<Map>(*shard);
    }
    return shard->try_emplace(hash, absent).first->second;
  }

  void Erase(uint64_t hash) {
    auto& shard = shards_[hash >> (64 - kShardBits)];
    if (!shard) return;
    if (shard.use_count() > 1) shard = std::make_shared<Map>(*shard);
    shard->erase(hash);
  }

 private:
  struct Identity {
    size_t operator()(uint64_t h) const { return h; }
  };
  using Map = absl::flat_hash_map<uint64_t, uint32_t, Identity>;
  std::array<std::shared_ptr<Map>, kShards> shards_;
};

}  // namespace klaxon::events::pattern::internal
