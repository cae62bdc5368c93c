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

// A vector in chunks of kChunk elements.
template <typename T>
class CowChunks {
 public:
  static constexpr size_t kChunk = 1024;

  size_t size() const { return size_; }
  const T& operator[](size_t i) const { return (*chunks_[i / kChunk])[i % kChunk]; }

  T& Mutable(size_t i) { return (*MutableChunk(i / kChunk))[i % kChunk]; }

  void PushBack(T value) {
    if (size_ % kChunk == 0) {
      chunks_.push_back(std::make_shared<std::vector<T>>());
      chunks_.back()->reserve(kChunk);
    }
    MutableChunk(size_ / kChunk)->push_back(std::move(value));
    ++size_;
  }

 private:
  std::vector<T>* MutableChunk(size_t c) {
    auto& chunk = chunks_[c];
    if (chunk.use_count() > 1) {
      auto copy = std::make_shared<std::vector<T>>(*chunk);
      copy->reserve(kChunk);
      chunk = std::move(copy);
    }
    return chunk.get();
  }

  std::vector<std::shared_ptr<std::vector<T>>> chunks_;
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

}  // namespace klaxon::events::pattern::internal
