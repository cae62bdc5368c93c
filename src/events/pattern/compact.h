#pragma once
// Compact containers for the compiled rule set's per-condition, per-branch and per-pattern
// records, where memory matters (100,000 rules must fit in a few tens of MB): a vector with
// inline storage and 32-bit size/capacity (16 bytes for up to 8 inline bytes), and a short string
// stored inline up to 12 bytes (16 bytes in all). Both are value types (copies are deep) and
// thread-compatible.

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>
#include <type_traits>

namespace klaxon::events::pattern::internal {

// A vector of trivially copyable T with N elements inline; beyond that, a heap block that grows
// geometrically. Sizes are 32-bit.
template <typename T, uint32_t N>
class CompactVec {
  static_assert(std::is_trivially_copyable_v<T>);
  static_assert(N >= 1);

 public:
  CompactVec() {}
  CompactVec(const CompactVec& o) { Assign(o); }
  CompactVec& operator=(const CompactVec& o) {
    if (this != &o) {
      size_ = 0;
      Assign(o);
    }
    return *this;
  }
  CompactVec(CompactVec&& o) noexcept { Steal(o); }
  CompactVec& operator=(CompactVec&& o) noexcept {
    if (this != &o) {
      Free();
      Steal(o);
    }
    return *this;
  }
  ~CompactVec() { Free(); }

  uint32_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T* data() const { return cap_ > N ? heap_ : inline_; }
  T* data() { return cap_ > N ? heap_ : inline_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }
  T* begin() { return data(); }
  T* end() { return data() + size_; }
  const T& operator[](uint32_t i) const { return data()[i]; }
  T& operator[](uint32_t i) { return data()[i]; }
  const T& back() const { return data()[size_ - 1]; }

  void push_back(T v) {
    if (size_ == cap_) Reserve(cap_ * 2);
    data()[size_++] = v;
  }
  // Inserts `v` before position `pos` (<= size()).
  void insert(uint32_t pos, T v) {
    if (size_ == cap_) Reserve(cap_ * 2);
    T* d = data();
    std::memmove(d + pos + 1, d + pos, (size_ - pos) * sizeof(T));
    d[pos] = v;
    ++size_;
  }
  void erase_at(uint32_t i) {
    T* d = data();
    std::memmove(d + i, d + i + 1, (size_ - i - 1) * sizeof(T));
    --size_;
  }
  // Removes the first element equal to `v`; false if there is none.
  bool erase_value(const T& v) {
    const T* d = data();
    for (uint32_t i = 0; i < size_; ++i) {
      if (d[i] == v) {
        erase_at(i);
        return true;
      }
    }
    return false;
  }
  bool contains(const T& v) const {
    for (const T& x : *this) {
      if (x == v) return true;
    }
    return false;
  }
  void clear() { size_ = 0; }
  // Bytes allocated outside the object.
  size_t heap_bytes() const { return cap_ > N ? cap_ * sizeof(T) : 0; }

 private:
  void Reserve(uint32_t cap) {
    if (cap <= cap_) return;
    T* block = static_cast<T*>(std::malloc(static_cast<size_t>(cap) * sizeof(T)));
    if (block == nullptr) throw std::bad_alloc();
    std::memcpy(block, data(), size_ * sizeof(T));
    Free();
    heap_ = block;
    cap_ = cap;
  }
  void Assign(const CompactVec& o) {
    Reserve(o.size_);
    std::memcpy(data(), o.data(), o.size_ * sizeof(T));
    size_ = o.size_;
  }
  void Steal(CompactVec& o) {
    size_ = o.size_;
    cap_ = o.cap_;
    if (o.cap_ > N) {
      heap_ = o.heap_;
    } else {
      std::memcpy(inline_, o.inline_, sizeof(inline_));
    }
    o.size_ = 0;
    o.cap_ = N;
  }
  void Free() {
    if (cap_ > N) std::free(heap_);
    cap_ = N;
  }

  uint32_t size_ = 0;
  uint32_t cap_ = N;
  union {
    T inline_[N] = {};
    T* heap_;
  };
};

// A byte string of up to 2^32-1 bytes; up to 12 bytes are stored inline. 16 bytes.
class SmallString {
 public:
  static constexpr uint32_t kInline = 12;

  SmallString() {}
  explicit SmallString(std::string_view s) { Set(s); }
  SmallString(const SmallString& o) { Set(o.view()); }
  SmallString& operator=(const SmallString& o) {
    if (this != &o) Set(o.view());
    return *this;
  }
  SmallString(SmallString&& o) noexcept {
    std::memcpy(raw_, o.raw_, sizeof(raw_));
    o.SetSize(0);
  }
  SmallString& operator=(SmallString&& o) noexcept {
    if (this != &o) {
      Free();
      std::memcpy(raw_, o.raw_, sizeof(raw_));
      o.SetSize(0);
    }
    return *this;
  }
  ~SmallString() { Free(); }

  uint32_t size() const {
    uint32_t n;
    std::memcpy(&n, raw_, sizeof(n));
    return n;
  }
  std::string_view view() const {
    uint32_t n = size();
    return std::string_view(n > kInline ? Heap() : reinterpret_cast<const char*>(raw_ + 4), n);
  }
  bool operator==(std::string_view s) const {
    return s.size() == size() && (s.empty() || std::memcmp(view().data(), s.data(), s.size()) == 0);
  }
  size_t heap_bytes() const { return size() > kInline ? size() : 0; }

 private:
  char* Heap() const {
    char* p;
    std::memcpy(&p, raw_ + 8, sizeof(p));
    return p;
  }
  void SetSize(uint32_t n) { std::memcpy(raw_, &n, sizeof(n)); }
  void Set(std::string_view s) {
    Free();
    if (s.size() > kInline) {
      char* p = static_cast<char*>(std::malloc(s.size()));
      if (p == nullptr) throw std::bad_alloc();
      std::memcpy(p, s.data(), s.size());
      std::memcpy(raw_ + 8, &p, sizeof(p));
    } else if (!s.empty()) {
      std::memcpy(raw_ + 4, s.data(), s.size());
    }
    SetSize(static_cast<uint32_t>(s.size()));
  }
  void Free() {
    if (size() > kInline) std::free(Heap());
    SetSize(0);
  }

  // Bytes 0-3: size. Inline: bytes 4-15. Heap: pointer in bytes 8-15.
  alignas(8) unsigned char raw_[16] = {};
};

}  // namespace klaxon::events::pattern::internal
