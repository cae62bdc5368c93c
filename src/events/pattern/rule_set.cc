#include "events/pattern/rule_set.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "events/pattern/compact.h"
#include "events/pattern/cow.h"
#include "events/pattern/leaf.h"
#include "simdjson.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace klaxon::events::pattern {
namespace internal {

// ---- Compiled form -------------------------------------------------------------------------
//
// A condition (field path + OR of matchers) is one of three classes:
//  - kSingle: one matcher that a hash lookup decides (exact string / number / literal number /
//    IP literal, prefix, suffix, ASCII equals-ignore-case and its prefix/suffix forms, true,
//    false, null, exists). Its probe key (kind, field, bytes) lives in the condition itself.
//  - kMulti: several such matchers; each (kind, field, bytes) is a Posting listing conditions.
//  - kGeneral: anything else (numeric, wildcard, cidr, anything-but, non-ASCII ignore-case,
//    exists:false). Evaluated by MatchesValue, eagerly if it anchors a branch, else on demand.
// One hash index maps a probe hash to a chain of conditions / postings with that hash; it also
// holds the content hash of kMulti / kGeneral conditions, to find identical ones.
//
// A branch (AND of conditions) has an anchor: its most selective required condition. Matching
// an event evaluates the indexed and anchoring conditions against the event's values; the
// branches anchored on the satisfied conditions are the candidates, and only they check their
// other conditions (on-demand conditions are evaluated then, once per event).

constexpr uint32_t kNone = UINT32_MAX;
constexpr uint32_t kPostingTag = 0x80000000u;
constexpr size_t kMaxIds = 0x7FFFF000u;
constexpr std::string_view kEmptyKey("", 0);

enum Kind : uint8_t {
  kKindString,
  kKindNumber,
  kKindLiteral,
  kKindIp,
  kKindPrefix,
  kKindSuffix,
  kKindFold,
  kKindFoldPrefix,
  kKindFoldSuffix,
  kKindTrue,
  kKindFalse,
  kKindNull,
  kKindExists,
  kKindCount,
  // Not probe kinds: content hashes of conditions and branches, patterns.
  kKindCondSig = 100,
  kKindBranch,
  kKindPattern,
};

// Index of the length list of a prefix / suffix kind in FieldIndex::lens, or -1.
int LenSlot(uint8_t kind) {
  switch (kind) {
    case kKindPrefix:
      return 0;
    case kKindSuffix:
      return 1;
    case kKindFoldPrefix:
      return 2;
    case kKindFoldSuffix:
      return 3;
    default:
      return -1;
  }
}

inline uint64_t KeyHash(uint32_t field, uint8_t kind, std::string_view bytes) {
  return absl::HashOf(field, kind, absl::string_view(bytes.data(), bytes.size()));
}

enum CondClass : uint8_t { kSingle, kMulti, kGeneral };

struct CondBody {
  std::vector<Matcher> matchers;
  // Per matcher: for an anything-but equals-ignore-case whose operands are all ASCII (see
  // AsciiFoldable), the operands lower-cased; a string is excluded iff its ASCII-lower-cased
  // form is one of them. Empty otherwise.
  std::vector<std::vector<std::string>> folded;
  std::string sig;  // type-tagged canonical text of the matchers: identity within the field
};

struct CondInfo {
  uint32_t field = 0;
  uint32_t refs = 0;               // branches using the condition; 0 = free slot
  uint32_t chain = kNone;          // next entry (tagged id) in the same index chain
  uint32_t single_branch = kNone;  // the branch made of this condition alone
  uint32_t direct = kNone;         // single_branch's only pattern: it matches whenever this holds
  CondClass cls = kSingle;
  uint8_t kind = 0;                      // kSingle: probe kind
  bool has_absent = false;               // has exists:false (an optional condition)
  uint8_t rank = 0;                      // anchor preference, lower is more selective
  SmallString key;                       // kSingle: probe key
  std::shared_ptr<const CondBody> body;  // kMulti, kGeneral
  CompactVec<uint32_t, 1> anchored;      // branches anchored on this condition
};

struct Posting {
  uint32_t field = 0;
  uint32_t chain = kNone;
  uint8_t kind = 0;
  SmallString key;
  CompactVec<uint32_t, 2> conds;
};

struct BranchInfo {
  uint32_t refs = 0;  // patterns using the branch; 0 = free slot
  uint32_t chain = kNone;
  uint32_t anchor = kNone;
  uint32_t single_pattern = kNone;  // the pattern made of this branch alone
  uint32_t n_required = 0;
  CompactVec<uint32_t, 2> conds;  // n_required required conditions, then optional ones
  CompactVec<uint32_t, 1> patterns;
};

struct PatternInfo {
  uint32_t chain = kNone;
  bool live = false;
  bool sorted = true;  // rules ascending
  CompactVec<uint32_t, 1> branches;
  CompactVec<RuleId, 1> rules;
};

struct LenCount {
  uint32_t len;
  uint32_t count;
};

struct EagerEntry {
  uint32_t cond;
  std::shared_ptr<const CondBody> body;
};

// An anchoring condition that is a single numeric range, in a field's range index.
struct RangeEntry {
  double low;       // -inf without a lower bound
  double max_high;  // the largest upper bound (+inf if none) of this and all earlier entries
  NumericRange range;
  uint32_t cond;
};

// The value index of one field path.
struct FieldIndex {
  // Probe hash -> chain of conditions / postings of this field (per field, so that the lookups
  // of a small field stay in cache whatever the size of the others).
  CowHashIndex index;
  std::array<uint32_t, kKindCount> kinds{};   // index keys per kind
  std::array<std::vector<LenCount>, 4> lens;  // prefix, suffix, fold prefix, fold suffix lengths
  uint32_t conds = 0;                         // live conditions
  std::vector<EagerEntry> eager;              // general conditions that anchor a branch
  // Anchoring single numeric ranges, sorted by lower bound: the ranges containing v are among
  // those with low <= v, and the scan down from there stops once max_high < v.
  std::vector<RangeEntry> ranges;
  std::vector<double> range_lows;  // ranges[i].low, for a compact binary search

  // The number of ranges whose lower bound is <= x (x is finite): a branch-free binary search.
  size_t RangesFrom(double x) const {
    const size_t n = range_lows.size();
    if (n == 0) return 0;
    const double* base = range_lows.data();
    for (size_t len = n; len > 1;) {
      const size_t half = len / 2;
      base = base[half] <= x ? base + half : base;
      len -= half;
    }
    return static_cast<size_t>(base - range_lows.data()) + (*base <= x ? 1 : 0);
  }

  bool NeedsFold() const { return kinds[kKindFold] > 0 || !lens[2].empty() || !lens[3].empty(); }

  void AddRange(const NumericRange& r, uint32_t cond) {
    const double inf = std::numeric_limits<double>::infinity();
    RangeEntry e{r.has_low ? r.low : -inf, 0, r, cond};
    auto it = std::upper_bound(ranges.begin(), ranges.end(), e.low,
                               [](double low, const RangeEntry& x) { return low < x.low; });
    ranges.insert(it, e);
    FixMaxHigh();
  }
  void RemoveRange(uint32_t cond) {
    for (size_t i = 0; i < ranges.size(); ++i) {
      if (ranges[i].cond == cond) {
        ranges.erase(ranges.begin() + static_cast<ptrdiff_t>(i));
        break;
      }
    }
    FixMaxHigh();
  }
  void FixMaxHigh() {
    const double inf = std::numeric_limits<double>::infinity();
    double m = -inf;
    range_lows.clear();
    for (RangeEntry& e : ranges) {
      m = std::max(m, e.range.has_high ? e.range.high : inf);
      e.max_high = m;
      range_lows.push_back(e.low);
    }
  }
};

inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Field paths as a trie of '.'-separated segments, for the event walker. Immutable once made.
// Each node's children are found through a small open-addressing table keyed by the segment's
// length and first 8 bytes.
struct PathTrie {
  struct Node {
    int32_t field = -1;
    uint32_t first = 0, count = 0;  // children[first, first + count)
    uint32_t slots = 0;             // table[slots, slots + 2^bits)
    uint32_t bits = 0;
  };
  struct Child {
    uint64_t head;  // the first min(len, 8) bytes, zero-padded
    uint64_t tail;  // len > 8: the last 8 bytes
    uint32_t len;
    uint32_t node;
    const char* name;  // into names
  };
  static constexpr uint32_t kLinear = 4;  // nodes with more children use the table
  std::vector<Node> nodes{Node()};
  std::vector<Child> children;
  std::vector<int32_t> table;  // index into children, or -1
  std::string names;

  PathTrie() = default;
  PathTrie(const PathTrie&) = delete;
  PathTrie& operator=(const PathTrie&) = delete;

  static uint64_t Head(const char* p, size_t len) {
    uint64_t w = 0;
    std::memcpy(&w, p, len < 8 ? len : 8);
    return w;
  }
  static uint32_t Slot(uint64_t head, size_t len, uint32_t bits) {
    return static_cast<uint32_t>(((head + len) * 0x9E3779B97F4A7C15ull) >> (64 - bits));
  }

  // The child of `node` named by the `len` bytes at `seg`. `seg` must be followed by at least 8
  // readable bytes (the walker's keys are inside the padded event or unescape buffers).
  __attribute__((always_inline)) static bool Same(const Child& c, uint64_t head, const char* seg,
                                                  size_t len) {
    if (c.head != head || c.len != len) return false;
    if (len <= 8) return true;
    if (Load64(seg + len - 8) != c.tail) return false;
    return len <= 16 || std::memcmp(c.name + 8, seg + 8, len - 16) == 0;
  }

  __attribute__((always_inline)) int32_t Find(uint32_t node, const char* seg, size_t len) const {
    const Node& n = nodes[node];
    if (n.count == 0) return -1;
    const uint64_t head = Load64(seg) & (len >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * len)) - 1);
    if (n.count <= kLinear) {
      for (const Child *c = children.data() + n.first, *end = c + n.count; c != end; ++c) {
        if (Same(*c, head, seg, len)) return static_cast<int32_t>(c->node);
      }
      return -1;
    }
    const uint32_t mask = (1u << n.bits) - 1;
    for (uint32_t i = Slot(head, len, n.bits);; i = (i + 1) & mask) {
      const int32_t k = table[n.slots + i];
      if (k < 0) return -1;
      if (Same(children[k], head, seg, len)) return static_cast<int32_t>(children[k].node);
    }
  }

  static std::shared_ptr<const PathTrie> Make(
      const std::vector<std::pair<std::string_view, uint32_t>>& paths) {
    struct Tmp {
      std::map<std::string, uint32_t> kids;
      int32_t field = -1;
    };
    std::vector<Tmp> tmp(1);
    for (const auto& [path, field] : paths) {
      uint32_t node = 0;
      size_t start = 0;
      while (true) {
        size_t dot = path.find('.', start);
        std::string seg(path.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
        auto it = tmp[node].kids.find(seg);
        uint32_t child;
        if (it == tmp[node].kids.end()) {
          child = static_cast<uint32_t>(tmp.size());
          tmp[node].kids.emplace(std::move(seg), child);
          tmp.emplace_back();
        } else {
          child = it->second;
        }
        node = child;
        if (dot == std::string_view::npos) break;
        start = dot + 1;
      }
      tmp[node].field = static_cast<int32_t>(field);
    }
    auto trie = std::make_shared<PathTrie>();
    size_t total = 0;
    for (const Tmp& t : tmp) {
      for (const auto& kid : t.kids) total += kid.first.size();
    }
    trie->names.reserve(total);  // stable: Child::name points into it
    trie->nodes.assign(tmp.size(), Node());
    for (size_t i = 0; i < tmp.size(); ++i) {
      Node& n = trie->nodes[i];
      n.field = tmp[i].field;
      n.first = static_cast<uint32_t>(trie->children.size());
      n.count = static_cast<uint32_t>(tmp[i].kids.size());
      for (const auto& [name, child] : tmp[i].kids) {
        trie->children.push_back({Head(name.data(), name.size()),
                                  name.size() > 8 ? Load64(name.data() + name.size() - 8) : 0,
                                  static_cast<uint32_t>(name.size()), child,
                                  trie->names.data() + trie->names.size()});
        trie->names += name;
      }
      if (n.count <= kLinear) continue;
      n.bits = 1;
      while ((1u << n.bits) < 2 * n.count) ++n.bits;
      n.slots = static_cast<uint32_t>(trie->table.size());
      trie->table.resize(trie->table.size() + (size_t{1} << n.bits), -1);
      const uint32_t mask = (1u << n.bits) - 1;
      for (uint32_t k = n.first; k < n.first + n.count; ++k) {
        const Child& c = trie->children[k];
        uint32_t j = Slot(c.head, c.len, n.bits);
        while (trie->table[n.slots + j] >= 0) j = (j + 1) & mask;
        trie->table[n.slots + j] = static_cast<int32_t>(k);
      }
    }
    return trie;
  }
};

struct RuleSetState {
  // Shared with snapshots; read by Match.
  CowChunks<CondInfo> conds;
  CowChunks<Posting> postings;
  CowChunks<BranchInfo> branches;
  CowChunks<PatternInfo> patterns;
  std::vector<std::shared_ptr<FieldIndex>> fields;
  std::shared_ptr<const PathTrie> trie = std::make_shared<PathTrie>();
  std::vector<uint32_t> always_branches;  // branches with no required condition
  size_t rule_count = 0;
  size_t pattern_count = 0;
  size_t live_fields = 0;

  // Builder only (not copied into snapshots).
  absl::flat_hash_map<uint64_t, uint32_t> branch_by_hash, pattern_by_hash;
  absl::flat_hash_map<RuleId, uint32_t> rule_to_pattern;
  std::vector<uint32_t> free_conds, free_postings, free_branches, free_patterns;
  std::map<std::string, uint32_t, std::less<>> field_by_path;
  std::vector<std::string> field_paths;
  bool trie_dirty = false;

  FieldIndex& MutableField(uint32_t f) {
    auto& p = fields[f];
    if (p.use_count() > 1) p = std::make_shared<FieldIndex>(*p);
    return *p;
  }

  // A snapshot: the shared part of this state.
  std::unique_ptr<RuleSetState> Snapshot() const {
    auto s = std::make_unique<RuleSetState>();
    s->conds = conds;
    s->postings = postings;
    s->branches = branches;
    s->patterns = patterns;
    s->fields = fields;
    s->trie = trie;
    s->always_branches = always_branches;
    s->rule_count = rule_count;
    s->pattern_count = pattern_count;
    s->live_fields = live_fields;
    return s;
  }
};

namespace {

uint64_t NumberBits(double d) {
  if (d == 0) d = 0;  // -0 == 0
  return std::bit_cast<uint64_t>(d);
}

std::string_view NumberKey(double d, char (&buf)[8]) {
  uint64_t bits = NumberBits(d);
  std::memcpy(buf, &bits, 8);
  return std::string_view(buf, 8);
}

std::string_view IpKey(const IpAddress& ip, char (&buf)[17]) {
  buf[0] = static_cast<char>(ip.size);
  std::memcpy(buf + 1, ip.bytes.data(), ip.size);
  return std::string_view(buf, 1 + ip.size);
}

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
char AsciiUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

// True if an ignore-case operand is ASCII and each of its characters accepts exactly its ASCII
// lower- and upper-case forms: then matching is byte-wise on ASCII-lower-cased text.
bool AsciiFoldable(const std::string& value, const IgnoreCase& ic) {
  const auto& alts = ic.alternatives;
  if (alts.size() != value.size()) return false;
  for (size_t i = 0; i < alts.size(); ++i) {
    char c = value[i];
    if (static_cast<unsigned char>(c) >= 0x80) return false;
    if (alts[i].first != std::string(1, AsciiLower(c)) ||
        alts[i].second != std::string(1, AsciiUpper(c))) {
      return false;
    }
  }
  return true;
}

// The probe (kind, key) of a matcher that a hash lookup decides; false for the others.
bool IndexKeyOf(const Matcher& m, uint8_t* kind, std::string* key) {
  key->clear();
  switch (m.type) {
    case MatcherType::kExactString:
      *kind = kKindString;
      *key = m.value;
      return true;
    case MatcherType::kExactNumber:
      if (m.number) {
        char buf[8];
        *kind = kKindNumber;
        *key = NumberKey(*m.number, buf);
      } else {
        *kind = kKindLiteral;
        *key = m.value;
      }
      return true;
    case MatcherType::kNumeric:
      // ["=", x] (a closed one-point range) is the exact number x.
      if (!m.range.has_low || !m.range.has_high || m.range.low_open || m.range.high_open ||
          !(m.range.low == m.range.high)) {
        return false;
      }
      {
        char buf[8];
        *kind = kKindNumber;
        *key = NumberKey(m.range.low, buf);
      }
      return true;
    case MatcherType::kIpAddress: {
      if (!(m.ip.low == m.ip.high)) return false;
      char buf[17];
      *kind = kKindIp;
      *key = IpKey(m.ip.low, buf);
      return true;
    }
    case MatcherType::kPrefix:
      *kind = kKindPrefix;
      *key = m.value;
      return true;
    case MatcherType::kSuffix:
      *kind = kKindSuffix;
      *key = m.value;
      return true;
    case MatcherType::kEqualsIgnoreCase:
    case MatcherType::kPrefixIgnoreCase:
    case MatcherType::kSuffixIgnoreCase:
      if (!AsciiFoldable(m.value, m.ignore_case)) return false;
      *kind = m.type == MatcherType::kEqualsIgnoreCase   ? kKindFold
              : m.type == MatcherType::kPrefixIgnoreCase ? kKindFoldPrefix
                                                         : kKindFoldSuffix;
      for (char c : m.value) key->push_back(AsciiLower(c));
      return true;
    case MatcherType::kTrue:
      *kind = kKindTrue;
      return true;
    case MatcherType::kFalse:
      *kind = kKindFalse;
      return true;
    case MatcherType::kNull:
      *kind = kKindNull;
      return true;
    case MatcherType::kExists:
      *kind = kKindExists;
      return true;
    default:
      return false;
  }
}

uint8_t KindRank(uint8_t kind) {
  switch (kind) {
    case kKindNull:
      return 1;
    case kKindPrefix:
    case kKindSuffix:
    case kKindFoldPrefix:
    case kKindFoldSuffix:
      return 2;
    case kKindExists:
      return 5;
    default:
      return 0;
  }
}

bool IsAnythingBut(MatcherType t) {
  switch (t) {
    case MatcherType::kAnythingButString:
    case MatcherType::kAnythingButNumber:
    case MatcherType::kAnythingButIgnoreCase:
    case MatcherType::kAnythingButPrefix:
    case MatcherType::kAnythingButSuffix:
    case MatcherType::kAnythingButWildcard:
      return true;
    default:
      return false;
  }
}

struct CondSpec {
  CondClass cls = kSingle;
  uint8_t kind = 0;
  uint8_t rank = 0;
  bool has_absent = false;
  std::string key;  // kSingle
  std::string sig;  // kMulti, kGeneral
};

CondSpec Classify(const FieldCondition& fc) {
  CondSpec spec;
  bool all_indexable = true;
  bool anything_but = false;
  uint8_t worst = 0;
  std::string key;
  for (const Matcher& m : fc.matchers) {
    uint8_t kind;
    if (m.type == MatcherType::kAbsent) spec.has_absent = true;
    if (IsAnythingBut(m.type)) anything_but = true;
    if (IndexKeyOf(m, &kind, &key)) {
      worst = std::max(worst, KindRank(kind));
      if (fc.matchers.size() == 1) {
        spec.kind = kind;
        spec.key = key;
      }
    } else {
      all_indexable = false;
    }
  }
  if (all_indexable && !spec.has_absent && fc.matchers.size() == 1) {
    spec.cls = kSingle;
    spec.rank = worst;
    return spec;
  }
  spec.key.clear();
  spec.cls = all_indexable && !spec.has_absent ? kMulti : kGeneral;
  spec.rank = spec.cls == kMulti ? static_cast<uint8_t>(worst + 1) : anything_but ? 6 : 4;
  for (const Matcher& m : fc.matchers) {
    spec.sig.push_back(static_cast<char>(m.type));
    spec.sig += m.ToJson();
    spec.sig.push_back('\0');
  }
  return spec;
}

template <typename T>
uint32_t Allocate(CowChunks<T>& table, std::vector<uint32_t>& free_list) {
  if (!free_list.empty()) {
    uint32_t id = free_list.back();
    free_list.pop_back();
    return id;
  }
  table.PushBack(T());
  return static_cast<uint32_t>(table.size() - 1);
}

// ---- Index chains (conditions and postings with the same hash) ----

uint32_t NextInChain(const RuleSetState& s, uint32_t tagged) {
  return (tagged & kPostingTag) ? s.postings[tagged & ~kPostingTag].chain : s.conds[tagged].chain;
}

void SetNextInChain(RuleSetState& s, uint32_t tagged, uint32_t next) {
  if (tagged & kPostingTag) {
    s.postings.Mutable(tagged & ~kPostingTag).chain = next;
  } else {
    s.conds.Mutable(tagged).chain = next;
  }
}

void LinkIndex(RuleSetState& s, uint32_t f, uint64_t h, uint32_t tagged) {
  uint32_t& head = s.MutableField(f).index.Mutable(h, kNone);
  uint32_t old = head;
  head = tagged;
  SetNextInChain(s, tagged, old);
}

void UnlinkIndex(RuleSetState& s, uint32_t f, uint64_t h, uint32_t tagged) {
  const uint32_t* head = s.fields[f]->index.Find(h);
  if (head == nullptr) return;
  const uint32_t next = NextInChain(s, tagged);
  if (*head == tagged) {
    if (next == kNone) {
      s.MutableField(f).index.Erase(h);
    } else {
      s.MutableField(f).index.Mutable(h, kNone) = next;
    }
    return;
  }
  for (uint32_t prev = *head; prev != kNone;) {
    uint32_t after = NextInChain(s, prev);
    if (after == tagged) {
      SetNextInChain(s, prev, next);
      return;
    }
    prev = after;
  }
}

// ---- Per-field key bookkeeping ----

void AddKey(FieldIndex& fx, uint8_t kind, size_t len) {
  ++fx.kinds[kind];
  int slot = LenSlot(kind);
  if (slot < 0) return;
  auto& lens = fx.lens[slot];
  auto it = std::lower_bound(lens.begin(), lens.end(), len,
                             [](const LenCount& a, size_t l) { return a.len < l; });
  if (it != lens.end() && it->len == len) {
    ++it->count;
  } else {
    lens.insert(it, LenCount{static_cast<uint32_t>(len), 1});
  }
}

void RemoveKey(FieldIndex& fx, uint8_t kind, size_t len) {
  --fx.kinds[kind];
  int slot = LenSlot(kind);
  if (slot < 0) return;
  auto& lens = fx.lens[slot];
  auto it = std::lower_bound(lens.begin(), lens.end(), len,
                             [](const LenCount& a, size_t l) { return a.len < l; });
  if (it != lens.end() && it->len == len && --it->count == 0) lens.erase(it);
}

void AddPosting(RuleSetState& s, uint32_t f, uint8_t kind, const std::string& key, uint32_t c) {
  uint64_t h = KeyHash(f, kind, key);
  if (const uint32_t* head = s.fields[f]->index.Find(h)) {
    for (uint32_t id = *head; id != kNone; id = NextInChain(s, id)) {
      if (!(id & kPostingTag)) continue;
      const Posting& p = s.postings[id & ~kPostingTag];
      if (p.field == f && p.kind == kind && p.key == key) {
        s.postings.Mutable(id & ~kPostingTag).conds.push_back(c);
        return;
      }
    }
  }
  uint32_t id = Allocate(s.postings, s.free_postings);
  {
    Posting& p = s.postings.Mutable(id);
    p = Posting();
    p.field = f;
    p.kind = kind;
    p.key = SmallString(key);
    p.conds.push_back(c);
  }
  LinkIndex(s, f, h, id | kPostingTag);
  AddKey(s.MutableField(f), kind, key.size());
}

void RemovePosting(RuleSetState& s, uint32_t f, uint8_t kind, const std::string& key, uint32_t c) {
  uint64_t h = KeyHash(f, kind, key);
  const uint32_t* head = s.fields[f]->index.Find(h);
  if (head == nullptr) return;
  for (uint32_t id = *head; id != kNone; id = NextInChain(s, id)) {
    if (!(id & kPostingTag)) continue;
    const Posting& p = s.postings[id & ~kPostingTag];
    if (p.field != f || p.kind != kind || !(p.key == key)) continue;
    bool empty;
    {
      Posting& mp = s.postings.Mutable(id & ~kPostingTag);
      mp.conds.erase_value(c);
      empty = mp.conds.empty();
    }
    if (empty) {
      UnlinkIndex(s, f, h, id);
      s.postings.Mutable(id & ~kPostingTag) = Posting();
      s.free_postings.push_back(id & ~kPostingTag);
      RemoveKey(s.MutableField(f), kind, key.size());
    }
    return;
  }
}

// ---- Conditions ----

uint32_t FieldFor(RuleSetState& s, const std::string& path) {
  auto it = s.field_by_path.find(path);
  if (it != s.field_by_path.end()) return it->second;
  uint32_t f = static_cast<uint32_t>(s.fields.size());
  s.fields.push_back(std::make_shared<FieldIndex>());
  s.field_paths.push_back(path);
  s.field_by_path.emplace(path, f);
  return f;
}

uint64_t CondHash(uint32_t f, const CondSpec& spec) {
  return spec.cls == kSingle ? KeyHash(f, spec.kind, spec.key) : KeyHash(f, kKindCondSig, spec.sig);
}

uint32_t GetOrCreateCond(RuleSetState& s, const FieldCondition& fc) {
  const uint32_t f = FieldFor(s, fc.path);
  CondSpec spec = Classify(fc);
  const uint64_t h = CondHash(f, spec);
  if (const uint32_t* head = s.fields[f]->index.Find(h)) {
    for (uint32_t id = *head; id != kNone; id = NextInChain(s, id)) {
      if (id & kPostingTag) continue;
      const CondInfo& c = s.conds[id];
      if (c.field != f || c.cls != spec.cls) continue;
      bool same =
          spec.cls == kSingle ? c.kind == spec.kind && c.key == spec.key : c.body->sig == spec.sig;
      if (same) {
        ++s.conds.Mutable(id).refs;
        return id;
      }
    }
  }
  const uint32_t id = Allocate(s.conds, s.free_conds);
  {
    CondInfo& c = s.conds.Mutable(id);
    c = CondInfo();
    c.field = f;
    c.refs = 1;
    c.cls = spec.cls;
    c.kind = spec.kind;
    c.rank = spec.rank;
    c.has_absent = spec.has_absent;
    if (spec.cls == kSingle) {
      c.key = SmallString(spec.key);
    } else {
      auto body = std::make_shared<CondBody>();
      body->matchers = fc.matchers;
      body->folded.resize(fc.matchers.size());
      for (size_t i = 0; i < fc.matchers.size(); ++i) {
        const Matcher& m = fc.matchers[i];
        if (m.type != MatcherType::kAnythingButIgnoreCase || m.values.empty() ||
            m.values.size() != m.ignore_cases.size()) {
          continue;
        }
        std::vector<std::string> folded;
        for (size_t k = 0; k < m.values.size(); ++k) {
          if (!AsciiFoldable(m.values[k], m.ignore_cases[k])) {
            folded.clear();
            break;
          }
          std::string f;
          for (char ch : m.values[k]) f.push_back(AsciiLower(ch));
          folded.push_back(std::move(f));
        }
        body->folded[i] = std::move(folded);
      }
      body->sig = std::move(spec.sig);
      c.body = std::move(body);
    }
  }
  LinkIndex(s, f, h, id);
  {
    FieldIndex& fx = s.MutableField(f);
    if (fx.conds++ == 0) {
      s.trie_dirty = true;
      ++s.live_fields;
    }
    if (spec.cls == kSingle) AddKey(fx, spec.kind, spec.key.size());
  }
  if (spec.cls == kMulti) {
    std::string key;
    for (const Matcher& m : fc.matchers) {
      uint8_t kind;
      if (IndexKeyOf(m, &kind, &key)) AddPosting(s, f, kind, key, id);
    }
  }
  return id;
}

void ReleaseCond(RuleSetState& s, uint32_t id) {
  if (--s.conds.Mutable(id).refs > 0) return;
  const CondInfo c = s.conds[id];  // a copy: the table changes below
  const uint64_t h = c.cls == kSingle ? KeyHash(c.field, c.kind, c.key.view())
                                      : KeyHash(c.field, kKindCondSig, c.body->sig);
  UnlinkIndex(s, c.field, h, id);
  if (c.cls == kSingle) RemoveKey(s.MutableField(c.field), c.kind, c.key.size());
  if (c.cls == kMulti) {
    std::string key;
    for (const Matcher& m : c.body->matchers) {
      uint8_t kind;
      if (IndexKeyOf(m, &kind, &key)) RemovePosting(s, c.field, kind, key, id);
    }
  }
  FieldIndex& fx = s.MutableField(c.field);
  if (--fx.conds == 0) {
    s.trie_dirty = true;
    --s.live_fields;
  }
  s.conds.Mutable(id) = CondInfo();
  s.free_conds.push_back(id);
}

// ---- Anchors ----

bool IsSingleRange(const CondInfo& c) {
  return c.cls == kGeneral && c.body->matchers.size() == 1 &&
         c.body->matchers[0].type == MatcherType::kNumeric;
}

void SetAnchor(RuleSetState& s, uint32_t b, uint32_t c) {
  bool first_general;
  {
    CondInfo& ci = s.conds.Mutable(c);
    ci.anchored.push_back(b);
    first_general = ci.cls == kGeneral && ci.anchored.size() == 1;
  }
  s.branches.Mutable(b).anchor = c;
  if (first_general) {
    const CondInfo& ci = s.conds[c];
    FieldIndex& fx = s.MutableField(ci.field);
    if (IsSingleRange(ci)) {
      fx.AddRange(ci.body->matchers[0].range, c);
    } else {
      fx.eager.push_back(EagerEntry{c, ci.body});
    }
  }
}

void ClearAnchor(RuleSetState& s, uint32_t b, uint32_t c) {
  bool last_general;
  {
    CondInfo& ci = s.conds.Mutable(c);
    ci.anchored.erase_value(b);
    last_general = ci.cls == kGeneral && ci.anchored.empty();
  }
  if (last_general) {
    const CondInfo& ci = s.conds[c];
    FieldIndex& fx = s.MutableField(ci.field);
    if (IsSingleRange(ci)) {
      fx.RemoveRange(c);
      return;
    }
    for (size_t i = 0; i < fx.eager.size(); ++i) {
      if (fx.eager[i].cond == c) {
        fx.eager.erase(fx.eager.begin() + static_cast<ptrdiff_t>(i));
        break;
      }
    }
  }
}

// The required condition to anchor a branch on: best rank, then the fewest branches using it,
// then the field with the most distinct conditions (likely the most selective).
uint32_t ChooseAnchor(const RuleSetState& s, const uint32_t* req, size_t n) {
  uint32_t best = kNone;
  auto score = [&](uint32_t c) {
    const CondInfo& ci = s.conds[c];
    uint64_t fan = std::min<uint64_t>(ci.refs, 0xFFFFF);
    uint64_t width = 0xFFFFFFF - std::min<uint64_t>(s.fields[ci.field]->conds, 0xFFFFFFF);
    return (uint64_t{ci.rank} << 56) | (fan << 28) | width;
  };
  uint64_t best_score = UINT64_MAX;
  for (size_t i = 0; i < n; ++i) {
    uint64_t sc = score(req[i]);
    if (sc < best_score) {
      best_score = sc;
      best = req[i];
    }
  }
  return best;
}

// ---- Branches ----

// Keeps CondInfo::direct in step with a one-condition branch's pattern list.
void RefreshDirect(RuleSetState& s, uint32_t b) {
  const BranchInfo& bi = s.branches[b];
  if (bi.conds.size() != 1 || bi.n_required != 1) return;
  const uint32_t c = bi.conds[0];
  const uint32_t d = bi.refs > 0 && bi.patterns.size() == 1 && s.conds[c].single_branch == b
                         ? bi.patterns[0]
                         : kNone;
  if (s.conds[c].direct != d) s.conds.Mutable(c).direct = d;
}

uint64_t IdsHash(uint8_t kind, uint32_t extra, const uint32_t* ids, size_t n) {
  return KeyHash(extra, kind,
                 std::string_view(reinterpret_cast<const char*>(ids), n * sizeof(uint32_t)));
}

uint32_t GetOrCreateBranch(RuleSetState& s, const Branch& branch) {
  std::vector<uint32_t> ids;
  std::vector<uint32_t> optional;
  for (const FieldCondition& fc : branch.fields) {
    uint32_t c = GetOrCreateCond(s, fc);
    (s.conds[c].has_absent ? optional : ids).push_back(c);
  }
  const uint32_t n_required = static_cast<uint32_t>(ids.size());
  ids.insert(ids.end(), optional.begin(), optional.end());
  auto release_conds = [&] {
    for (uint32_t c : ids) ReleaseCond(s, c);
  };
  const bool single = ids.size() == 1 && n_required == 1;
  uint64_t h = 0;
  if (single) {
    uint32_t b = s.conds[ids[0]].single_branch;
    if (b != kNone) {
      release_conds();
      ++s.branches.Mutable(b).refs;
      return b;
    }
  } else {
    h = IdsHash(kKindBranch, n_required, ids.data(), ids.size());
    auto it = s.branch_by_hash.find(h);
    for (uint32_t b = it == s.branch_by_hash.end() ? kNone : it->second; b != kNone;
         b = s.branches[b].chain) {
      const BranchInfo& bi = s.branches[b];
      if (bi.n_required == n_required && bi.conds.size() == ids.size() &&
          std::equal(ids.begin(), ids.end(), bi.conds.begin())) {
        release_conds();
        ++s.branches.Mutable(b).refs;
        return b;
      }
    }
  }
  const uint32_t b = Allocate(s.branches, s.free_branches);
  {
    BranchInfo& bi = s.branches.Mutable(b);
    bi = BranchInfo();
    bi.refs = 1;
    bi.n_required = n_required;
    for (uint32_t c : ids) bi.conds.push_back(c);
  }
  if (single) {
    s.conds.Mutable(ids[0]).single_branch = b;
  } else {
    auto [it, inserted] = s.branch_by_hash.try_emplace(h, b);
    if (!inserted) {
      s.branches.Mutable(b).chain = it->second;
      it->second = b;
    }
  }
  if (n_required == 0) {
    s.always_branches.push_back(b);
  } else {
    SetAnchor(s, b, ChooseAnchor(s, ids.data(), n_required));
  }
  return b;
}

void ReleaseBranch(RuleSetState& s, uint32_t b) {
  if (--s.branches.Mutable(b).refs > 0) return;
  const BranchInfo bi = s.branches[b];
  if (bi.conds.size() == 1 && bi.n_required == 1) {
    CondInfo& ci = s.conds.Mutable(bi.conds[0]);
    ci.single_branch = kNone;
    ci.direct = kNone;
  } else {
    uint64_t h = IdsHash(kKindBranch, bi.n_required, bi.conds.data(), bi.conds.size());
    auto it = s.branch_by_hash.find(h);
    if (it != s.branch_by_hash.end()) {
      if (it->second == b) {
        if (bi.chain == kNone) {
          s.branch_by_hash.erase(it);
        } else {
          it->second = bi.chain;
        }
      } else {
        for (uint32_t prev = it->second; prev != kNone; prev = s.branches[prev].chain) {
          if (s.branches[prev].chain == b) {
            s.branches.Mutable(prev).chain = bi.chain;
            break;
          }
        }
      }
    }
  }
  if (bi.n_required == 0) {
    auto it = std::find(s.always_branches.begin(), s.always_branches.end(), b);
    if (it != s.always_branches.end()) s.always_branches.erase(it);
  } else {
    ClearAnchor(s, b, bi.anchor);
  }
  for (uint32_t c : bi.conds) ReleaseCond(s, c);
  s.branches.Mutable(b) = BranchInfo();
  s.free_branches.push_back(b);
}

// ---- Matching ----

struct Leaf {
  LeafValue value;
  uint32_t field;
  uint32_t next;                // next live leaf of the same field (set by Evaluate)
  uint32_t mem_begin, mem_len;  // into Scratch::membership
  bool dead;
  bool number_ready;  // value.number is set (the comparable value, if any)
  uint8_t parsed;     // 0: not yet; 1: `approx` is the nearest finite double; 2: not a number
  double approx;
  uint64_t hash;  // strings of fields with exact values: the index hash of the exact value
};

struct LazyMark {
  uint32_t checked = 0;                 // == epoch: an on-demand condition was evaluated
  uint32_t hit_begin = 0, hit_len = 0;  // its hits in Scratch::lazy_hits
};

struct FieldMark {
  uint32_t epoch = 0;
  uint32_t head = kNone, tail = kNone, count = 0;  // live leaves of the field
};

struct Frame {
  uint64_t object = 0;  // object instance (for duplicate keys)
  uint32_t node = 0;
  int32_t array_id = 0;
  int32_t index = 0;          // arrays: the index of the next element
  int32_t last_node = -1;     // node record of the previous (undotted) key, for its leaf range
  int32_t last_dotted = -1;   // Scratch::dotted entry of the previous dotted key
  uint32_t dotted_begin = 0;  // this object's entries in Scratch::dotted
  bool is_array = false;
  bool first = true;        // no element read yet
  bool pops_chain = false;  // this container pushed an entry on the membership chain
};

// A stack whose slots keep their storage across events: push() returns a slot that may hold an
// old value, so callers set every field they later read (this avoids zeroing large records).
template <typename T>
class SlotStack {
 public:
  T& push() {
    if (n_ == v_.size()) v_.emplace_back();
    return v_[n_++];
  }
  void pop() { --n_; }
  T& back() { return v_[n_ - 1]; }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  void clear() { n_ = 0; }
  T& operator[](size_t i) { return v_[i]; }
  const T& operator[](size_t i) const { return v_[i]; }

 private:
  std::vector<T> v_;
  size_t n_ = 0;
};

// Per-thread matching state, reused across events and rule sets: no allocation per event once
// the buffers have grown.
struct Scratch {
  // simdjson's stage 1 (structural indexes; run-time dispatched to the best kernel: haswell,
  // icelake, ...), and the padded copy of the event it reads.
  std::unique_ptr<simdjson::internal::dom_parser_implementation> stage1;
  std::string buffer;
  std::string strings;  // unescaped strings and keys of the current event
  SlotStack<Frame> stack;
  SlotStack<Leaf> leaves;
  std::vector<std::pair<int32_t, int32_t>> membership;  // pool of (array id, index)
  std::vector<std::pair<int32_t, int32_t>> chain;       // current path's memberships
  std::vector<uint32_t> cond_sat;  // == epoch: the condition holds for some value of the event
  std::vector<LazyMark> cond_lazy;
  std::vector<uint32_t> branch_seen, pattern_seen;
  std::vector<FieldMark> field;
  // Duplicate keys. Per trie node: the object instance whose undotted key last led there, and
  // the leaf range of that occurrence. A dotted key ("a.b") can lead to the same node as nested
  // keys of a child object, which would overwrite the node's record while the object is still
  // open; dotted keys are therefore recorded per object, in `dotted`.
  struct NodeRecord {
    uint64_t object = 0;
    uint32_t begin = 0, end = 0;
  };
  struct DottedRecord {
    uint32_t node, begin, end;
  };
  std::vector<NodeRecord> node_record;
  std::vector<DottedRecord> dotted;
  std::vector<uint32_t> satisfied;   // conditions satisfied by indexed / eager evaluation
  std::vector<uint32_t> candidates;  // branches to check
  std::vector<std::pair<uint32_t, uint32_t>> hits;  // (condition, leaf), only with arrays
  std::vector<uint32_t> lazy_hits;
  std::vector<uint32_t> probe_hits;
  std::string fold;
  std::string key;  // an unescaped key
  // Array-consistency search.
  std::vector<uint32_t> opt_flat, opt_begin, opt_len, order, pick;
  uint64_t next_object = 1;
  uint32_t epoch = 0;
  bool has_arrays = false;
  bool hits_sorted = false;

  void Begin(const RuleSetState& s) {
    leaves.clear();
    membership.clear();
    chain.clear();
    satisfied.clear();
    candidates.clear();
    hits.clear();
    lazy_hits.clear();
    has_arrays = false;
    hits_sorted = false;
    if (++epoch == 0) {
      std::fill(cond_sat.begin(), cond_sat.end(), 0);
      std::fill(cond_lazy.begin(), cond_lazy.end(), LazyMark());
      std::fill(branch_seen.begin(), branch_seen.end(), 0);
      std::fill(pattern_seen.begin(), pattern_seen.end(), 0);
      std::fill(field.begin(), field.end(), FieldMark());
      epoch = 1;
    }
    if (cond_sat.size() < s.conds.size()) {
      cond_sat.resize(s.conds.size(), 0);
      cond_lazy.resize(s.conds.size());
    }
    if (branch_seen.size() < s.branches.size()) branch_seen.resize(s.branches.size(), 0);
    if (pattern_seen.size() < s.patterns.size()) pattern_seen.resize(s.patterns.size(), 0);
    if (field.size() < s.fields.size()) field.resize(s.fields.size());
    size_t nodes = s.trie->nodes.size();
    if (node_record.size() < nodes) node_record.resize(nodes);
    dotted.clear();
  }
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

absl::Status JsonError(simdjson::error_code e) {
  return absl::InvalidArgumentError(
      absl::StrCat("Malformed event JSON: ", simdjson::error_message(e)));
}

// The raw bytes of a JSON string from `p` (just after its opening quote) up to its closing quote
// or its first backslash, whichever comes first; and whether a '.' occurs before that. Reads up
// to 15 bytes past the stop, which the padding after the event (SIMDJSON_PADDING) allows.
struct StringScan {
  size_t len;
  bool escaped;  // stopped at a backslash
  bool dotted;
};

inline StringScan ScanString(const char* p) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i dot = _mm_set1_epi8('.');
  uint32_t dots = 0;
  for (size_t off = 0;; off += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + off));
    const uint32_t stop = static_cast<uint32_t>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash))));
    const uint32_t d = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, dot)));
    if (stop != 0) {
      const int i = __builtin_ctz(stop);
      dots |= d & ((1u << i) - 1);
      return {off + i, p[off + i] == '\\', dots != 0};
    }
    dots |= d;
  }
#else
  bool dotted = false;
  size_t i = 0;
  while (p[i] != '"' && p[i] != '\\') dotted |= p[i++] == '.';
  return {i, p[i] == '\\', dotted};
#endif
}

bool IsJsonSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::string_view TrimRight(std::string_view t) {
  while (!t.empty() && IsJsonSpace(t.back())) t.remove_suffix(1);
  return t;
}

// The nearest double of a number leaf (without deciding comparability), or false.
bool ApproxNumber(Leaf& leaf, double* d) {
  if (leaf.parsed == 0) {
    std::optional<double> v = ParseFiniteNumber(leaf.value.text);
    leaf.parsed = v ? 1 : 2;
    if (v) leaf.approx = *v;
  }
  *d = leaf.approx;
  return leaf.parsed == 1;
}

// Sets value.number: the comparable value of a number leaf, if it has one.
void EnsureNumber(Leaf& leaf) {
  if (leaf.number_ready) return;
  leaf.number_ready = true;
  double d;
  if (leaf.value.type == LeafType::kNumber && ApproxNumber(leaf, &d) &&
      IsShortestForm(leaf.value.text, d)) {
    leaf.value.number = d;
  }
}

// True if the leaf's number is comparable, given that its nearest double is known: only then
// is the (costlier) shortest-form test made.
bool Comparable(Leaf& leaf) {
  EnsureNumber(leaf);
  return leaf.value.number.has_value();
}

// MatchesValue for a leaf of this walk: matchers that compare numbers by value first test the
// nearest double and decide comparability only when that could match.
bool LeafMatches(const Matcher& m, Leaf& leaf) {
  if (leaf.value.type == LeafType::kNumber) {
    double x;
    switch (m.type) {
      case MatcherType::kNumeric:
        return ApproxNumber(leaf, &x) && m.range.Contains(x) && Comparable(leaf);
      case MatcherType::kExactNumber:
        if (leaf.value.text == m.value) return true;
        return m.number && ApproxNumber(leaf, &x) && x == *m.number && Comparable(leaf);
      case MatcherType::kAnythingButNumber:
        if (!ApproxNumber(leaf, &x) ||
            std::find(m.numbers.begin(), m.numbers.end(), x) == m.numbers.end()) {
          return true;
        }
        return !Comparable(leaf);
      default:
        break;
    }
  }
  return MatchesValue(m, leaf.value);
}

// 1 for '{' and '[', -1 for '}' and ']', 0 for the other bytes: the nesting change of a token.
constexpr std::array<int8_t, 256> MakeDepthDelta() {
  std::array<int8_t, 256> t{};
  t['{'] = 1;
  t['['] = 1;
  t['}'] = -1;
  t[']'] = -1;
  return t;
}
constexpr std::array<int8_t, 256> kDepthDelta = MakeDepthDelta();

// True if a token starting with `c` can start a scalar value (a string, true, false, null or a
// number; the scalar itself is checked when it is read). '\0' stands for "no more tokens".
inline bool IsValueStart(uint8_t c) {
  return c == '"' || c == 't' || c == 'f' || c == 'n' || c == '-' || (c >= '0' && c <= '9');
}

// Walks the event with an explicit stack over simdjson's stage-1 structural indexes (one index
// per token: brackets, ':', ',', and the first byte of every string and scalar), recording the
// values of used fields as leaves. Containers under keys no rule uses are skipped by counting
// brackets, without reading what they hold (as simdjson On Demand skips them). The grammar of
// every visited object and array is checked; any index is bounds-checked against the token
// count, so a hostile token sequence can only produce an error.
absl::Status Walk(const RuleSetState& s, Scratch& sc, std::string_view event,
                  const MatchOptions& options) {
  const PathTrie& trie = *s.trie;
  const size_t padded_size = event.size() + simdjson::SIMDJSON_PADDING;
  if (sc.buffer.size() < padded_size) sc.buffer.resize(padded_size);
  std::memcpy(sc.buffer.data(), event.data(), event.size());
  // The padding is made of quotes: stage 1 does not read it (it pads its last block itself), and
  // a string scan (ScanString, which stops at a quote or a backslash) can never run past it,
  // even on a token sequence stage 1 should have rejected.
  std::memset(sc.buffer.data() + event.size(), '"', simdjson::SIMDJSON_PADDING);
  // Unescaped strings never exceed their source; PathTrie::Find reads 8 bytes past a key.
  // (parse_string may write up to a SIMD block past its output).
  if (sc.strings.size() < padded_size + 64) sc.strings.resize(padded_size + 64);
  if (!sc.stage1 || sc.stage1->capacity() < std::max<size_t>(event.size(), 1)) {
    const size_t capacity = std::max<size_t>({event.size(), 1 << 12, sc.buffer.size()});
    simdjson::error_code e;
    if (!sc.stage1) {
      e = simdjson::get_active_implementation()->create_dom_parser_implementation(
          capacity, simdjson::DEFAULT_MAX_DEPTH, sc.stage1);
    } else {
      e = sc.stage1->set_capacity(capacity);
    }
    if (e) {
      sc.stage1.reset();
      return JsonError(e);
    }
  }
  const uint8_t* const buf = reinterpret_cast<const uint8_t*>(sc.buffer.data());
  if (auto e = sc.stage1->stage1(buf, event.size(), simdjson::stage1_mode::regular)) {
    return JsonError(e);
  }
  const uint32_t* const idx = sc.stage1->structural_indexes.get();
  const uint32_t n_tokens = sc.stage1->n_structural_indexes;
  char* strings = sc.strings.data();
  // The first byte of token k, or '\0' past the last token.
  auto tok = [&](uint32_t k) -> uint8_t { return k < n_tokens ? buf[idx[k]] : 0; };
  // The text of scalar token k (up to the next token, trailing whitespace removed).
  auto scalar_text = [&](uint32_t k) {
    const uint32_t end = k + 1 < n_tokens ? idx[k + 1] : static_cast<uint32_t>(event.size());
    return TrimRight(std::string_view(reinterpret_cast<const char*>(buf) + idx[k], end - idx[k]));
  };
  // Unescapes the string token k into `strings`; its bytes are not moved later.
  auto unescape = [&](uint32_t k, std::string_view* out) -> bool {
    uint8_t* dst = reinterpret_cast<uint8_t*>(strings);
    uint8_t* end = sc.stage1->parse_string(buf + idx[k] + 1, dst);
    if (end == nullptr) return false;
    *out = std::string_view(strings, static_cast<size_t>(end - dst));
    strings += end - dst;
    return true;
  };
  // The token after the value that starts at token k: containers are skipped by their brackets.
  auto skip_value = [&](uint32_t k, uint32_t* next) -> bool {
    const uint8_t c = tok(k);
    if (c != '{' && c != '[') {
      *next = k + 1;
      return IsValueStart(c);
    }
    // Four tokens per step while none of them can close the container (the running depth
    // stays positive), then one at a time.
    int64_t depth = 1;
    ++k;
    while (k + 4 <= n_tokens) {
      const int64_t s1 = depth + kDepthDelta[buf[idx[k]]];
      const int64_t s2 = s1 + kDepthDelta[buf[idx[k + 1]]];
      const int64_t s3 = s2 + kDepthDelta[buf[idx[k + 2]]];
      const int64_t s4 = s3 + kDepthDelta[buf[idx[k + 3]]];
      if (std::min(std::min(s1, s2), std::min(s3, s4)) <= 0) break;
      depth = s4;
      k += 4;
    }
    while (depth > 0 && k < n_tokens) {
      depth += kDepthDelta[buf[idx[k]]];
      ++k;
    }
    *next = k;
    return depth == 0;
  };

  const uint8_t root = tok(0);
  if (root != '{') {
    return root == '[' || IsValueStart(root) ? absl::InvalidArgumentError("Event is not an object")
                                             : JsonError(simdjson::TAPE_ERROR);
  }
  SlotStack<Frame>& stack = sc.stack;
  stack.clear();
  int32_t next_array = 0;
  uint32_t i = 1;  // the next token

  auto push_object = [&](uint32_t node, bool pops) {
    Frame& f = stack.push();
    f.is_array = false;
    f.first = true;
    f.node = node;
    f.pops_chain = pops;
    f.last_node = -1;
    f.last_dotted = -1;
    f.object = sc.next_object++;
    f.dotted_begin = static_cast<uint32_t>(sc.dotted.size());
  };
  auto push_array = [&](uint32_t node, bool pops) {
    Frame& f = stack.push();
    f.is_array = true;
    f.first = true;
    f.index = 0;
    f.node = node;
    f.pops_chain = pops;
    f.array_id = next_array++;
  };

  push_object(0, false);
  while (!stack.empty()) {
    Frame& f = stack.back();
    uint32_t node;
    bool in_array;
    int32_t array_id = 0, index = 0;
    const uint8_t sep = tok(i);
    if (f.is_array) {
      if (sep == ']') {
        ++i;
        const bool pops = f.pops_chain;
        stack.pop();
        if (pops) sc.chain.pop_back();
        continue;
      }
      if (!f.first) {
        if (sep != ',') return JsonError(simdjson::TAPE_ERROR);
        ++i;
      }
      f.first = false;
      node = f.node;
      in_array = true;
      array_id = f.array_id;
      index = f.index++;
    } else {
      if (sep == '}') {
        ++i;
        const uint32_t end = static_cast<uint32_t>(sc.leaves.size());
        if (f.last_node >= 0) sc.node_record[f.last_node].end = end;
        if (f.last_dotted >= 0) sc.dotted[f.last_dotted].end = end;
        sc.dotted.resize(f.dotted_begin);
        const bool pops = f.pops_chain;
        stack.pop();
        if (pops) sc.chain.pop_back();
        continue;
      }
      if (!f.first) {
        if (sep != ',') return JsonError(simdjson::TAPE_ERROR);
        ++i;
      }
      f.first = false;
      if (tok(i) != '"' || tok(i + 1) != ':') return JsonError(simdjson::TAPE_ERROR);
      if (f.last_node >= 0) {
        sc.node_record[f.last_node].end = static_cast<uint32_t>(sc.leaves.size());
        f.last_node = -1;
      }
      if (f.last_dotted >= 0) {
        sc.dotted[f.last_dotted].end = static_cast<uint32_t>(sc.leaves.size());
        f.last_dotted = -1;
      }
      // The key, without a copy unless it has escapes; resolved in the trie segment by segment
      // (a key may itself contain dots).
      const char* key = reinterpret_cast<const char*>(buf) + idx[i] + 1;
      StringScan scan = ScanString(key);
      if (scan.escaped) {
        std::string_view unescaped;
        char* const mark = strings;
        if (!unescape(i, &unescaped)) return JsonError(simdjson::STRING_ERROR);
        strings = mark;  // the key is only needed here
        key = unescaped.data();
        scan.len = unescaped.size();
        scan.dotted = unescaped.find('.') != std::string_view::npos;
      }
      i += 2;  // the key and ':'
      int32_t n;
      if (!scan.dotted) {
        n = trie.Find(f.node, key, scan.len);
      } else {
        std::string_view rest(key, scan.len);
        n = static_cast<int32_t>(f.node);
        while (true) {
          size_t d = rest.find('.');
          n = trie.Find(static_cast<uint32_t>(n), rest.data(),
                        d == std::string_view::npos ? rest.size() : d);
          if (n < 0 || d == std::string_view::npos) break;
          rest.remove_prefix(d + 1);
        }
      }
      if (n < 0) {
        // No rule uses this field: skip its value unparsed.
        if (!skip_value(i, &i)) return JsonError(simdjson::TAPE_ERROR);
        continue;
      }
      // Duplicate key in this object: the last occurrence wins.
      const uint32_t begin = static_cast<uint32_t>(sc.leaves.size());
      if (!scan.dotted) {
        Scratch::NodeRecord& r = sc.node_record[n];
        if (r.object == f.object) {
          for (uint32_t k = r.begin; k < r.end; ++k) sc.leaves[k].dead = true;
        }
        r = {f.object, begin, begin};
        f.last_node = n;
      } else {
        size_t k = f.dotted_begin;
        while (k < sc.dotted.size() && sc.dotted[k].node != static_cast<uint32_t>(n)) ++k;
        if (k == sc.dotted.size()) {
          sc.dotted.push_back({static_cast<uint32_t>(n), begin, begin});
        } else {
          Scratch::DottedRecord& r = sc.dotted[k];
          for (uint32_t j = r.begin; j < r.end; ++j) sc.leaves[j].dead = true;
          r.begin = r.end = begin;
        }
        f.last_dotted = static_cast<int32_t>(k);
      }
      node = static_cast<uint32_t>(n);
      in_array = false;
    }

    // Visit the value at token i, at trie node `node`.
    const uint8_t c = tok(i);
    const PathTrie::Node& tn = trie.nodes[node];
    if (c == '{' || c == '[') {
      if (stack.size() >= options.max_depth) {
        return absl::InvalidArgumentError("Event nesting exceeds the depth limit");
      }
      if (tn.count == 0 && (c == '{' || tn.field < 0)) {
        // Nothing below this node is used (an array's scalars would be values of the field).
        if (!skip_value(i, &i)) return JsonError(simdjson::TAPE_ERROR);
        continue;
      }
      ++i;
      if (in_array) sc.chain.emplace_back(array_id, index);
      if (c == '{') {
        push_object(node, in_array);
      } else {
        push_array(node, in_array);
      }
      continue;
    }
    if (tn.field < 0) {
      if (!IsValueStart(c)) return JsonError(simdjson::TAPE_ERROR);
      ++i;
      continue;
    }
    Leaf& leaf = sc.leaves.push();
    leaf.field = static_cast<uint32_t>(tn.field);
    leaf.next = kNone;
    leaf.dead = false;
    leaf.number_ready = false;
    leaf.parsed = 0;
    leaf.mem_begin = static_cast<uint32_t>(sc.membership.size());
    leaf.mem_len = static_cast<uint32_t>(sc.chain.size());
    leaf.value.number.reset();
    leaf.value.text = std::string_view();
    switch (c) {
      case '"': {
        const char* raw = reinterpret_cast<const char*>(buf) + idx[i] + 1;
        StringScan scan = ScanString(raw);
        std::string_view body(raw, scan.len);
        if (scan.escaped && !unescape(i, &body)) return JsonError(simdjson::STRING_ERROR);
        leaf.value.type = LeafType::kString;
        leaf.value.text = body;
        // Start fetching the exact-value lookup now; Evaluate reads it after the walk.
        const FieldIndex& fx = *s.fields[leaf.field];
        if (fx.kinds[kKindString]) {
          leaf.hash = KeyHash(leaf.field, kKindString, body);
          fx.index.Prefetch(leaf.hash);
        }
        break;
      }
      case 't':
        if (scalar_text(i) != "true") return JsonError(simdjson::T_ATOM_ERROR);
        leaf.value.type = LeafType::kTrue;
        break;
      case 'f':
        if (scalar_text(i) != "false") return JsonError(simdjson::F_ATOM_ERROR);
        leaf.value.type = LeafType::kFalse;
        break;
      case 'n':
        if (scalar_text(i) != "null") return JsonError(simdjson::N_ATOM_ERROR);
        leaf.value.type = LeafType::kNull;
        break;
      default:
        leaf.value.type = LeafType::kNumber;
        leaf.value.text = scalar_text(i);
        if (!IsJsonNumberPadded(leaf.value.text)) return JsonError(simdjson::NUMBER_ERROR);
        break;
    }
    ++i;
    if (!sc.chain.empty()) {
      sc.membership.insert(sc.membership.end(), sc.chain.begin(), sc.chain.end());
    }
  }
  if (i != n_tokens) return JsonError(simdjson::TRAILING_CONTENT);
  return absl::OkStatus();
}

inline void Hit(Scratch& sc, uint32_t c, uint32_t li) {
  uint32_t& sat = sc.cond_sat[c];
  if (sat != sc.epoch) {
    sat = sc.epoch;
    sc.satisfied.push_back(c);
  }
  if (sc.has_arrays) sc.hits.emplace_back(c, li);
}

// Looks up (kind, field, key) in the index: hits the kSingle conditions and postings with
// exactly that key.
inline void ProbeHashed(const RuleSetState& s, Scratch& sc, const FieldIndex& fx, uint32_t f,
                        uint8_t kind, std::string_view key, uint32_t li, uint64_t hash) {
  const uint32_t* head = fx.index.Find(hash);
  if (head == nullptr) return;
  for (uint32_t id = *head; id != kNone;) {
    if (id & kPostingTag) {
      const Posting& p = s.postings[id & ~kPostingTag];
      if (p.field == f && p.kind == kind && p.key == key) {
        for (uint32_t c : p.conds) Hit(sc, c, li);
      }
      id = p.chain;
    } else {
      const CondInfo& c = s.conds[id];
      if (c.cls == kSingle && c.field == f && c.kind == kind && c.key == key) Hit(sc, id, li);
      id = c.chain;
    }
  }
}

inline void Probe(const RuleSetState& s, Scratch& sc, const FieldIndex& fx, uint32_t f,
                  uint8_t kind, std::string_view key, uint32_t li) {
  ProbeHashed(s, sc, fx, f, kind, key, li, KeyHash(f, kind, key));
}

// As Probe, but collects the conditions in Scratch::probe_hits.
inline void ProbeInto(const RuleSetState& s, Scratch& sc, const FieldIndex& fx, uint32_t f,
                      uint8_t kind, std::string_view key) {
  const uint32_t* head = fx.index.Find(KeyHash(f, kind, key));
  if (head == nullptr) return;
  for (uint32_t id = *head; id != kNone;) {
    if (id & kPostingTag) {
      const Posting& p = s.postings[id & ~kPostingTag];
      if (p.field == f && p.kind == kind && p.key == key) {
        for (uint32_t c : p.conds) sc.probe_hits.push_back(c);
      }
      id = p.chain;
    } else {
      const CondInfo& c = s.conds[id];
      if (c.cls == kSingle && c.field == f && c.kind == kind && c.key == key) {
        sc.probe_hits.push_back(id);
      }
      id = c.chain;
    }
  }
}

bool IsLazy(const CondInfo& c) { return c.cls == kGeneral && c.anchored.empty(); }

// True if some matcher of a general condition accepts the leaf.
bool BodyMatches(const CondBody& body, Leaf& leaf, std::string& fold) {
  for (size_t i = 0; i < body.matchers.size(); ++i) {
    const std::vector<std::string>& folded = body.folded[i];
    if (!folded.empty()) {
      // Anything-but equals-ignore-case with ASCII operands.
      if (leaf.value.type != LeafType::kString) return true;
      const std::string_view t = leaf.value.text;
      fold.resize(t.size());
      for (size_t k = 0; k < t.size(); ++k) fold[k] = AsciiLower(t[k]);
      if (std::find(folded.begin(), folded.end(), fold) == folded.end()) return true;
      continue;
    }
    if (LeafMatches(body.matchers[i], leaf)) return true;
  }
  return false;
}

// Evaluates the indexed and eager conditions on every live leaf; links each field's leaves.
void Evaluate(const RuleSetState& s, Scratch& sc) {
  const uint32_t epoch = sc.epoch;
  const uint32_t n = static_cast<uint32_t>(sc.leaves.size());
  for (uint32_t li = 0; li < n; ++li) {
    Leaf& leaf = sc.leaves[li];
    if (leaf.dead) continue;
    const uint32_t f = leaf.field;
    FieldMark& fm = sc.field[f];
    if (fm.epoch != epoch) {
      fm.epoch = epoch;
      fm.head = li;
      fm.count = 0;
    } else {
      sc.leaves[fm.tail].next = li;
    }
    fm.tail = li;
    ++fm.count;
    const FieldIndex& fx = *s.fields[f];
    const LeafValue& v = leaf.value;
    switch (v.type) {
      case LeafType::kString: {
        const std::string_view t = v.text;
        if (fx.kinds[kKindString]) ProbeHashed(s, sc, fx, f, kKindString, t, li, leaf.hash);
        for (const LenCount& lc : fx.lens[0]) {
          if (lc.len > t.size()) break;
          Probe(s, sc, fx, f, kKindPrefix, t.substr(0, lc.len), li);
        }
        for (const LenCount& lc : fx.lens[1]) {
          if (lc.len > t.size()) break;
          Probe(s, sc, fx, f, kKindSuffix, t.substr(t.size() - lc.len), li);
        }
        if (fx.NeedsFold()) {
          sc.fold.resize(t.size());
          for (size_t i = 0; i < t.size(); ++i) sc.fold[i] = AsciiLower(t[i]);
          const std::string_view folded = sc.fold;
          if (fx.kinds[kKindFold]) Probe(s, sc, fx, f, kKindFold, folded, li);
          for (const LenCount& lc : fx.lens[2]) {
            if (lc.len > folded.size()) break;
            Probe(s, sc, fx, f, kKindFoldPrefix, folded.substr(0, lc.len), li);
          }
          for (const LenCount& lc : fx.lens[3]) {
            if (lc.len > folded.size()) break;
            Probe(s, sc, fx, f, kKindFoldSuffix, folded.substr(folded.size() - lc.len), li);
          }
        }
        if (fx.kinds[kKindIp]) {
          if (std::optional<IpAddress> ip = ParseIpLiteral(t)) {
            char buf[17];
            Probe(s, sc, fx, f, kKindIp, IpKey(*ip, buf), li);
          }
        }
        break;
      }
      case LeafType::kNumber: {
        // Index lookups use the nearest double; a hit counts only if the number is comparable,
        // which is decided then (most numbers hit nothing).
        double x;
        if ((fx.kinds[kKindNumber] || !fx.ranges.empty()) && ApproxNumber(leaf, &x)) {
          if (fx.kinds[kKindNumber]) {
            char buf[8];
            sc.probe_hits.clear();
            ProbeInto(s, sc, fx, f, kKindNumber, NumberKey(x, buf));
            if (!sc.probe_hits.empty() && Comparable(leaf)) {
              for (uint32_t c : sc.probe_hits) Hit(sc, c, li);
            }
          }
          if (!fx.ranges.empty()) {
            auto it = fx.ranges.begin() + static_cast<ptrdiff_t>(fx.RangesFrom(x));
            while (it != fx.ranges.begin()) {
              --it;
              if (it->max_high < x) break;
              if (it->range.Contains(x) && Comparable(leaf)) Hit(sc, it->cond, li);
            }
          }
        }
        if (fx.kinds[kKindLiteral]) Probe(s, sc, fx, f, kKindLiteral, v.text, li);
        break;
      }
      case LeafType::kTrue:
        if (fx.kinds[kKindTrue]) Probe(s, sc, fx, f, kKindTrue, kEmptyKey, li);
        break;
      case LeafType::kFalse:
        if (fx.kinds[kKindFalse]) Probe(s, sc, fx, f, kKindFalse, kEmptyKey, li);
        break;
      case LeafType::kNull:
        if (fx.kinds[kKindNull]) Probe(s, sc, fx, f, kKindNull, kEmptyKey, li);
        break;
    }
    if (fx.kinds[kKindExists]) Probe(s, sc, fx, f, kKindExists, kEmptyKey, li);
    for (const EagerEntry& e : fx.eager) {
      if (BodyMatches(*e.body, leaf, sc.fold)) Hit(sc, e.cond, li);
    }
  }
}

uint32_t FieldCount(const Scratch& sc, uint32_t f) {
  const FieldMark& fm = sc.field[f];
  return fm.epoch == sc.epoch ? fm.count : 0;
}

// Evaluates an on-demand condition on the live leaves of its field, once per event.
void EvaluateLazy(const RuleSetState& s, Scratch& sc, uint32_t c) {
  LazyMark& mark = sc.cond_lazy[c];
  if (mark.checked == sc.epoch) return;
  mark.checked = sc.epoch;
  mark.hit_begin = static_cast<uint32_t>(sc.lazy_hits.size());
  const CondInfo& ci = s.conds[c];
  const FieldMark& fm = sc.field[ci.field];
  if (fm.epoch == sc.epoch) {
    for (uint32_t li = fm.head; li != kNone; li = sc.leaves[li].next) {
      if (!BodyMatches(*ci.body, sc.leaves[li], sc.fold)) continue;
      sc.cond_sat[c] = sc.epoch;
      sc.lazy_hits.push_back(li);
      if (!sc.has_arrays) break;  // one witness is enough without arrays
    }
  }
  mark.hit_len = static_cast<uint32_t>(sc.lazy_hits.size()) - mark.hit_begin;
}

bool Satisfied(const RuleSetState& s, Scratch& sc, uint32_t c) {
  if (IsLazy(s.conds[c])) EvaluateLazy(s, sc, c);
  return sc.cond_sat[c] == sc.epoch;
}

bool Compatible(const Scratch& sc, const Leaf& a, const Leaf& b) {
  uint32_t n = std::min(a.mem_len, b.mem_len);
  for (uint32_t i = 0; i < n; ++i) {
    const auto& x = sc.membership[a.mem_begin + i];
    const auto& y = sc.membership[b.mem_begin + i];
    if (x.first != y.first) return true;
    if (x.second != y.second) return false;
  }
  return true;
}

// Array consistency and exists:false for a branch whose required conditions all hold, when the
// event has values inside arrays: the same search as the reference interpreter, over the hits of
// each condition. 1 = consistent, 0 = not, -1 = budget exceeded.
int Consistent(const RuleSetState& s, Scratch& sc, const BranchInfo& b,
               const MatchOptions& options) {
  const uint32_t epoch = sc.epoch;
  const size_t n = b.conds.size();
  constexpr uint32_t kAbsent = UINT32_MAX;
  if (!sc.hits_sorted) {
    std::sort(sc.hits.begin(), sc.hits.end());
    sc.hits_sorted = true;
  }
  sc.opt_flat.clear();
  sc.opt_begin.resize(n);
  sc.opt_len.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t c = b.conds[i];
    const size_t begin = sc.opt_flat.size();
    if (IsLazy(s.conds[c])) {
      const LazyMark& m = sc.cond_lazy[c];
      for (uint32_t k = 0; k < m.hit_len; ++k) sc.opt_flat.push_back(sc.lazy_hits[m.hit_begin + k]);
    } else if (sc.cond_sat[c] == epoch) {
      auto it =
          std::lower_bound(sc.hits.begin(), sc.hits.end(), std::pair<uint32_t, uint32_t>(c, 0));
      for (; it != sc.hits.end() && it->first == c; ++it) {
        if (sc.opt_flat.size() == begin || sc.opt_flat.back() != it->second) {
          sc.opt_flat.push_back(it->second);
        }
      }
    }
    if (i >= b.n_required) sc.opt_flat.push_back(kAbsent);
    sc.opt_begin[i] = static_cast<uint32_t>(begin);
    sc.opt_len[i] = static_cast<uint32_t>(sc.opt_flat.size() - begin);
    if (sc.opt_len[i] == 0) return 0;
  }
  sc.order.resize(n);
  for (size_t i = 0; i < n; ++i) sc.order[i] = static_cast<uint32_t>(i);
  std::sort(sc.order.begin(), sc.order.end(),
            [&](uint32_t x, uint32_t y) { return sc.opt_len[x] < sc.opt_len[y]; });
  sc.pick.assign(n, 0);
  auto chosen = [&](size_t d) {
    uint32_t i = sc.order[d];
    return sc.opt_flat[sc.opt_begin[i] + sc.pick[d]];
  };
  size_t depth = 0;
  size_t steps = 0;
  while (true) {
    if (++steps > options.max_consistency_steps) return -1;
    if (depth == n) {
      bool ok = true;
      for (size_t d = 0; d < n && ok; ++d) {
        if (chosen(d) != kAbsent) continue;
        const uint32_t field = s.conds[b.conds[sc.order[d]]].field;
        const FieldMark& fm = sc.field[field];
        if (fm.epoch != epoch) continue;
        for (uint32_t li = fm.head; li != kNone && ok; li = sc.leaves[li].next) {
          bool compatible = true;
          for (size_t e = 0; e < n && compatible; ++e) {
            if (chosen(e) != kAbsent) {
              compatible = Compatible(sc, sc.leaves[li], sc.leaves[chosen(e)]);
            }
          }
          if (compatible) ok = false;
        }
      }
      if (ok) return 1;
      --depth;
      ++sc.pick[depth];
      continue;
    }
    if (sc.pick[depth] >= sc.opt_len[sc.order[depth]]) {
      if (depth == 0) return 0;
      sc.pick[depth] = 0;
      --depth;
      ++sc.pick[depth];
      continue;
    }
    const uint32_t cand = chosen(depth);
    bool compatible = true;
    for (size_t d = 0; d < depth && compatible && cand != kAbsent; ++d) {
      if (chosen(d) != kAbsent) {
        compatible = Compatible(sc, sc.leaves[cand], sc.leaves[chosen(d)]);
      }
    }
    if (compatible) {
      ++depth;
    } else {
      ++sc.pick[depth];
    }
  }
}

// Checks a candidate branch: its other required conditions, its exists:false conditions and
// array consistency. 1 = matches, 0 = not, -1 = consistency budget exceeded.
int CheckBranch(const RuleSetState& s, Scratch& sc, const BranchInfo& b,
                const MatchOptions& options) {
  for (uint32_t i = 0; i < b.n_required; ++i) {
    const uint32_t c = b.conds[i];
    if (c != b.anchor && !Satisfied(s, sc, c)) return 0;
  }
  for (uint32_t i = b.n_required; i < b.conds.size(); ++i) EvaluateLazy(s, sc, b.conds[i]);
  if (!sc.has_arrays) {
    // No value sits inside an array element: every choice is consistent.
    for (uint32_t i = b.n_required; i < b.conds.size(); ++i) {
      const uint32_t c = b.conds[i];
      if (sc.cond_sat[c] != sc.epoch && FieldCount(sc, s.conds[c].field) > 0) return 0;
    }
    return 1;
  }
  return Consistent(s, sc, b, options);
}

}  // namespace
}  // namespace internal

using internal::RuleSetState;

RuleSet::RuleSet(std::unique_ptr<RuleSetState> state) : state_(std::move(state)) {}
RuleSet::~RuleSet() = default;

size_t RuleSet::rule_count() const { return state_->rule_count; }
size_t RuleSet::pattern_count() const { return state_->pattern_count; }
size_t RuleSet::field_count() const { return state_->live_fields; }

absl::StatusOr<std::vector<RuleId>> RuleSet::Match(std::string_view event_json,
                                                   const MatchOptions& options) const {
  std::vector<RuleId> out;
  if (auto s = MatchInto(event_json, &out, options); !s.ok()) return s;
  return out;
}

absl::Status RuleSet::MatchInto(std::string_view event_json, std::vector<RuleId>* out,
                                const MatchOptions& options) const {
  out->clear();
  if (event_json.size() > options.max_event_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("Event exceeds ", options.max_event_bytes, " bytes"));
  }
  const RuleSetState& s = *state_;
  internal::Scratch& sc = internal::ThreadScratch();
  sc.Begin(s);
  if (auto st = internal::Walk(s, sc, event_json, options); !st.ok()) return st;
  sc.has_arrays = !sc.membership.empty();
  internal::Evaluate(s, sc);
  const uint32_t epoch = sc.epoch;
  size_t emitted = 0;
  bool need_sort = false;
  auto emit = [&](uint32_t p) {
    if (sc.pattern_seen[p] == epoch) return;
    sc.pattern_seen[p] = epoch;
    const internal::PatternInfo& pi = s.patterns[p];
    out->insert(out->end(), pi.rules.begin(), pi.rules.end());
    ++emitted;
    need_sort = need_sort || !pi.sorted;
  };
  for (uint32_t c : sc.satisfied) {
    const internal::CondInfo& ci = s.conds[c];
    // A branch made of this condition alone, with one pattern, matches now: no check needed.
    const uint32_t direct_branch =
        ci.direct != internal::kNone ? ci.single_branch : internal::kNone;
    if (direct_branch != internal::kNone) emit(ci.direct);
    for (uint32_t b : ci.anchored) {
      if (b != direct_branch && sc.branch_seen[b] != epoch) {
        sc.branch_seen[b] = epoch;
        sc.candidates.push_back(b);
      }
    }
  }
  sc.candidates.insert(sc.candidates.end(), s.always_branches.begin(), s.always_branches.end());
  for (uint32_t b : sc.candidates) {
    const internal::BranchInfo& info = s.branches[b];
    bool any_new = false;
    for (uint32_t p : info.patterns) {
      if (sc.pattern_seen[p] != epoch) {
        any_new = true;
        break;
      }
    }
    if (!any_new) continue;
    int ok = internal::CheckBranch(s, sc, info, options);
    if (ok < 0) {
      return absl::ResourceExhaustedError(
          "Event too complex: array-consistency search exceeded its step budget");
    }
    if (ok == 0) continue;
    for (uint32_t p : info.patterns) emit(p);
  }
  if (emitted > 1 || need_sort) {
    std::sort(out->begin(), out->end());
    out->erase(std::unique(out->begin(), out->end()), out->end());
  }
  return absl::OkStatus();
}

RuleSetBuilder::RuleSetBuilder() : state_(std::make_unique<RuleSetState>()) {}
RuleSetBuilder::~RuleSetBuilder() = default;
RuleSetBuilder::RuleSetBuilder(RuleSetBuilder&&) noexcept = default;
RuleSetBuilder& RuleSetBuilder::operator=(RuleSetBuilder&&) noexcept = default;

size_t RuleSetBuilder::rule_count() const { return state_->rule_count; }

absl::Status RuleSetBuilder::Add(RuleId id, const Pattern& pattern) {
  using namespace internal;  // NOLINT(build/namespaces)
  RuleSetState& s = *state_;
  size_t fields = 0;
  for (const Branch& b : pattern.branches()) fields += b.fields.size();
  if (s.conds.size() + fields >= kMaxIds || s.postings.size() + 4 * fields >= kMaxIds ||
      s.branches.size() + pattern.branches().size() >= kMaxIds || s.patterns.size() >= kMaxIds) {
    return absl::ResourceExhaustedError("Rule set is full");
  }
  Remove(id);
  std::vector<uint32_t> bids;
  bids.reserve(pattern.branches().size());
  for (const Branch& b : pattern.branches()) bids.push_back(GetOrCreateBranch(s, b));
  std::sort(bids.begin(), bids.end());
  for (size_t i = 1; i < bids.size();) {
    if (bids[i] == bids[i - 1]) {
      ReleaseBranch(s, bids[i]);
      bids.erase(bids.begin() + static_cast<ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  // Identical patterns have identical branch sets.
  uint32_t p = kNone;
  uint64_t h = 0;
  if (bids.size() == 1) {
    p = s.branches[bids[0]].single_pattern;
  } else {
    h = IdsHash(kKindPattern, 0, bids.data(), bids.size());
    auto it = s.pattern_by_hash.find(h);
    for (uint32_t q = it == s.pattern_by_hash.end() ? kNone : it->second; q != kNone;
         q = s.patterns[q].chain) {
      const PatternInfo& pi = s.patterns[q];
      if (pi.branches.size() == bids.size() &&
          std::equal(bids.begin(), bids.end(), pi.branches.begin())) {
        p = q;
        break;
      }
    }
  }
  if (p != kNone) {
    for (uint32_t b : bids) ReleaseBranch(s, b);
  } else {
    p = Allocate(s.patterns, s.free_patterns);
    {
      PatternInfo& pi = s.patterns.Mutable(p);
      pi = PatternInfo();
      pi.live = true;
      for (uint32_t b : bids) pi.branches.push_back(b);
    }
    for (uint32_t b : bids) {
      s.branches.Mutable(b).patterns.push_back(p);
      RefreshDirect(s, b);
    }
    if (bids.size() == 1) {
      s.branches.Mutable(bids[0]).single_pattern = p;
    } else {
      auto [it, inserted] = s.pattern_by_hash.try_emplace(h, p);
      if (!inserted) {
        s.patterns.Mutable(p).chain = it->second;
        it->second = p;
      }
    }
    ++s.pattern_count;
  }
  {
    PatternInfo& pi = s.patterns.Mutable(p);
    if (!pi.rules.empty() && id < pi.rules.back()) pi.sorted = false;
    pi.rules.push_back(id);
  }
  s.rule_to_pattern[id] = p;
  ++s.rule_count;
  return absl::OkStatus();
}

bool RuleSetBuilder::Remove(RuleId id) {
  using namespace internal;  // NOLINT(build/namespaces)
  RuleSetState& s = *state_;
  auto found = s.rule_to_pattern.find(id);
  if (found == s.rule_to_pattern.end()) return false;
  const uint32_t p = found->second;
  s.rule_to_pattern.erase(found);
  --s.rule_count;
  {
    PatternInfo& pi = s.patterns.Mutable(p);
    pi.rules.erase_value(id);
    if (!pi.rules.empty()) return true;
  }
  const PatternInfo old = s.patterns[p];
  if (old.branches.size() == 1) {
    s.branches.Mutable(old.branches[0]).single_pattern = kNone;
  } else {
    uint64_t h = IdsHash(kKindPattern, 0, old.branches.data(), old.branches.size());
    auto it = s.pattern_by_hash.find(h);
    if (it != s.pattern_by_hash.end()) {
      if (it->second == p) {
        if (old.chain == kNone) {
          s.pattern_by_hash.erase(it);
        } else {
          it->second = old.chain;
        }
      } else {
        for (uint32_t prev = it->second; prev != kNone; prev = s.patterns[prev].chain) {
          if (s.patterns[prev].chain == p) {
            s.patterns.Mutable(prev).chain = old.chain;
            break;
          }
        }
      }
    }
  }
  for (uint32_t b : old.branches) {
    s.branches.Mutable(b).patterns.erase_value(p);
    RefreshDirect(s, b);
    ReleaseBranch(s, b);
  }
  s.patterns.Mutable(p) = PatternInfo();
  s.free_patterns.push_back(p);
  --s.pattern_count;
  return true;
}

std::shared_ptr<const RuleSet> RuleSetBuilder::Build() {
  RuleSetState& s = *state_;
  if (s.trie_dirty) {
    std::vector<std::pair<std::string_view, uint32_t>> paths;
    for (size_t f = 0; f < s.fields.size(); ++f) {
      if (s.fields[f]->conds > 0) paths.emplace_back(s.field_paths[f], static_cast<uint32_t>(f));
    }
    s.trie = internal::PathTrie::Make(paths);
    s.trie_dirty = false;
  }
  return std::shared_ptr<const RuleSet>(new RuleSet(s.Snapshot()));
}

absl::StatusOr<bool> MatchesOne(const Pattern& pattern, std::string_view event_json,
                                const MatchOptions& options) {
  RuleSetBuilder builder;
  if (auto s = builder.Add(0, pattern); !s.ok()) return s;
  auto set = builder.Build();
  auto r = set->Match(event_json, options);
  if (!r.ok()) return r.status();
  return !r->empty();
}

}  // namespace klaxon::events::pattern
