#include "events/pattern/rule_set.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "events/pattern/cow.h"
#include "events/pattern/leaf.h"
#include "simdjson.h"

namespace klaxon::events::pattern {
namespace internal {

using Conds = std::vector<uint32_t>;

// The value index of one field path.
struct FieldIndex {
  CowMap<std::string, Conds> exact_strings;
  CowMap<uint64_t, Conds> exact_numbers;       // bits of the comparable double
  CowMap<std::string, Conds> literal_numbers;  // numbers that are not comparable, by text
  Conds trues, falses, nulls, exists;
  CowMap<std::string, Conds> prefixes, suffixes;
  std::map<uint32_t, uint32_t> prefix_len_count, suffix_len_count;
  std::vector<uint32_t> prefix_lens, suffix_lens;  // distinct operand lengths, ascending
  std::vector<std::pair<Matcher, uint32_t>> others;
  uint32_t number_users = 0;  // matchers that need the comparable value of event numbers
};

struct CondInfo {
  uint32_t field = 0;
  bool has_absent = false;
  bool live = false;
  uint32_t refs = 0;
  std::vector<Matcher> matchers;
  std::vector<uint32_t> branches;  // branches in which this condition is required
  std::string key;
};

struct BranchInfo {
  bool live = false;
  uint32_t refs = 0;
  std::vector<uint32_t> required;  // conditions without an absence option
  std::vector<uint32_t> optional;  // conditions with exists:false
  std::vector<uint32_t> patterns;
  std::string key;
};

struct PatternInfo {
  bool live = false;
  std::vector<uint32_t> branches;
  std::vector<RuleId> rules;
  std::string key;
};

// Field paths as a trie of '.'-separated segments, for the event walker.
struct PathTrie {
  struct Node {
    std::vector<std::pair<std::string, uint32_t>> children;
    int32_t field = -1;
  };
  std::vector<Node> nodes{Node()};

  int32_t Child(uint32_t node, std::string_view segment) const {
    for (const auto& [name, child] : nodes[node].children) {
      if (name == segment) return static_cast<int32_t>(child);
    }
    return -1;
  }
  void Insert(std::string_view path, int32_t field) {
    uint32_t node = 0;
    size_t start = 0;
    while (true) {
      size_t dot = path.find('.', start);
      std::string_view seg =
          path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      int32_t child = Child(node, seg);
      if (child < 0) {
        child = static_cast<int32_t>(nodes.size());
        nodes[node].children.emplace_back(std::string(seg), child);
        nodes.emplace_back();
      }
      node = static_cast<uint32_t>(child);
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    nodes[node].field = field;
  }
};

struct RuleSetState {
  CowChunks<CondInfo> conds;
  CowChunks<BranchInfo> branches;
  CowChunks<PatternInfo> patterns;
  std::vector<uint32_t> free_conds, free_branches, free_patterns;
  CowMap<std::string, uint32_t> cond_by_key, branch_by_key, pattern_by_key;
  CowMap<uint64_t, uint32_t> rule_to_pattern;
  std::vector<std::shared_ptr<FieldIndex>> fields;
  std::vector<std::string> field_paths;
  std::map<std::string, uint32_t> field_by_path;
  std::shared_ptr<const PathTrie> trie = std::make_shared<PathTrie>();
  bool trie_dirty = false;
  std::vector<uint32_t> always_branches;  // branches with no required condition
  size_t rule_count = 0;
  size_t pattern_count = 0;

  FieldIndex& MutableField(uint32_t f) {
    auto& p = fields[f];
    if (p.use_count() > 1) p = std::make_shared<FieldIndex>(*p);
    return *p;
  }
};

namespace {

uint64_t NumberKey(double d) {
  if (d == 0) d = 0;  // -0 == 0
  return std::bit_cast<uint64_t>(d);
}

void EraseValue(std::vector<uint32_t>& v, uint32_t x) {
  auto it = std::find(v.begin(), v.end(), x);
  if (it != v.end()) v.erase(it);
}

void RebuildLens(const std::map<uint32_t, uint32_t>& counts, std::vector<uint32_t>& lens) {
  lens.clear();
  for (const auto& [len, n] : counts) {
    if (n > 0) lens.push_back(len);
  }
}

void IndexMatcher(FieldIndex& fx, const Matcher& m, uint32_t c, bool add) {
  auto apply = [&](Conds& cs) {
    if (add) {
      cs.push_back(c);
    } else {
      EraseValue(cs, c);
    }
  };
  auto apply_map = [&](auto& map, const auto& key) {
    if (add) {
      map.Mutable(key).push_back(c);
      return;
    }
    auto& cs = map.Mutable(key);
    EraseValue(cs, c);
    if (cs.empty()) map.Erase(key);
  };
  switch (m.type) {
    case MatcherType::kExactString:
      apply_map(fx.exact_strings, m.value);
      return;
    case MatcherType::kExactNumber:
      if (m.number) {
        apply_map(fx.exact_numbers, NumberKey(*m.number));
      } else {
        apply_map(fx.literal_numbers, m.value);
      }
      fx.number_users += add ? 1 : -1;
      return;
    case MatcherType::kTrue:
      apply(fx.trues);
      return;
    case MatcherType::kFalse:
      apply(fx.falses);
      return;
    case MatcherType::kNull:
      apply(fx.nulls);
      return;
    case MatcherType::kExists:
      apply(fx.exists);
      return;
    case MatcherType::kAbsent:
      return;
    case MatcherType::kPrefix:
      apply_map(fx.prefixes, m.value);
      fx.prefix_len_count[m.value.size()] += add ? 1 : -1;
      RebuildLens(fx.prefix_len_count, fx.prefix_lens);
      return;
    case MatcherType::kSuffix:
      apply_map(fx.suffixes, m.value);
      fx.suffix_len_count[m.value.size()] += add ? 1 : -1;
      RebuildLens(fx.suffix_len_count, fx.suffix_lens);
      return;
    default:
      if (m.type == MatcherType::kNumeric || m.type == MatcherType::kAnythingButNumber) {
        fx.number_users += add ? 1 : -1;
      }
      if (add) {
        fx.others.emplace_back(m, c);
      } else {
        for (auto it = fx.others.begin(); it != fx.others.end(); ++it) {
          if (it->second == c && it->first.ToJson() == m.ToJson()) {
            fx.others.erase(it);
            break;
          }
        }
      }
      return;
  }
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

uint32_t GetOrCreateCond(RuleSetState& s, const FieldCondition& fc) {
  std::string key = fc.path;
  key.push_back('\0');
  for (const Matcher& m : fc.matchers) {
    key += m.ToJson();
    key.push_back('\0');
  }
  if (const uint32_t* id = s.cond_by_key.Find(key)) {
    ++s.conds.Mutable(*id).refs;
    return *id;
  }
  uint32_t field;
  auto fit = s.field_by_path.find(fc.path);
  if (fit == s.field_by_path.end()) {
    field = static_cast<uint32_t>(s.fields.size());
    s.fields.push_back(std::make_shared<FieldIndex>());
    s.field_paths.push_back(fc.path);
    s.field_by_path.emplace(fc.path, field);
    s.trie_dirty = true;
  } else {
    field = fit->second;
  }
  uint32_t id = Allocate(s.conds, s.free_conds);
  CondInfo& c = s.conds.Mutable(id);
  c = CondInfo();
  c.field = field;
  c.live = true;
  c.refs = 1;
  c.matchers = fc.matchers;
  c.key = key;
  FieldIndex& fx = s.MutableField(field);
  for (const Matcher& m : fc.matchers) {
    if (m.type == MatcherType::kAbsent) c.has_absent = true;
    IndexMatcher(fx, m, id, /*add=*/true);
  }
  s.cond_by_key.Mutable(key) = id;
  return id;
}

void ReleaseCond(RuleSetState& s, uint32_t id) {
  CondInfo& c = s.conds.Mutable(id);
  if (--c.refs > 0) return;
  FieldIndex& fx = s.MutableField(c.field);
  for (const Matcher& m : c.matchers) IndexMatcher(fx, m, id, /*add=*/false);
  s.cond_by_key.Erase(c.key);
  c = CondInfo();
  s.free_conds.push_back(id);
}

uint32_t GetOrCreateBranch(RuleSetState& s, const Branch& branch) {
  std::vector<uint32_t> ids;
  for (const FieldCondition& fc : branch.fields) ids.push_back(GetOrCreateCond(s, fc));
  std::string key(reinterpret_cast<const char*>(ids.data()), ids.size() * sizeof(uint32_t));
  if (const uint32_t* id = s.branch_by_key.Find(key)) {
    // The conditions were already referenced by this branch.
    for (uint32_t c : ids) ReleaseCond(s, c);
    ++s.branches.Mutable(*id).refs;
    return *id;
  }
  uint32_t id = Allocate(s.branches, s.free_branches);
  BranchInfo& b = s.branches.Mutable(id);
  b = BranchInfo();
  b.live = true;
  b.refs = 1;
  b.key = key;
  for (uint32_t c : ids) {
    if (s.conds[c].has_absent) {
      b.optional.push_back(c);
    } else {
      b.required.push_back(c);
      s.conds.Mutable(c).branches.push_back(id);
    }
  }
  if (b.required.empty()) s.always_branches.push_back(id);
  s.branch_by_key.Mutable(key) = id;
  return id;
}

void ReleaseBranch(RuleSetState& s, uint32_t id) {
  BranchInfo& b = s.branches.Mutable(id);
  if (--b.refs > 0) return;
  BranchInfo old = std::move(b);
  b = BranchInfo();
  for (uint32_t c : old.required) EraseValue(s.conds.Mutable(c).branches, id);
  if (old.required.empty()) EraseValue(s.always_branches, id);
  for (uint32_t c : old.required) ReleaseCond(s, c);
  for (uint32_t c : old.optional) ReleaseCond(s, c);
  s.branch_by_key.Erase(old.key);
  s.free_branches.push_back(id);
}

// ---- Matching ----

struct LeafRec {
  uint32_t field;
  bool dead;
  LeafValue value;
  uint32_t mem_begin, mem_len;  // into Scratch::membership
};

struct Scratch {
  simdjson::ondemand::parser parser;
  std::string buffer;
  std::vector<LeafRec> leaves;
  std::vector<std::pair<int32_t, int32_t>> membership;   // pool of (array id, index)
  std::vector<std::pair<int32_t, int32_t>> chain;        // current path's memberships
  std::vector<std::pair<uint32_t, uint32_t>> cond_hits;  // (condition, leaf)
  std::vector<uint32_t> satisfied;
  std::vector<uint32_t> candidates;
  std::vector<uint32_t> cond_epoch, branch_epoch, branch_count, pattern_epoch, field_epoch,
      field_leaves;
  // Per trie node: object instance that last set it, and the leaf range of that occurrence.
  std::vector<uint64_t> node_object;
  std::vector<uint32_t> node_begin, node_end;
  uint64_t next_object = 1;
  uint32_t epoch = 0;
  bool hits_sorted = false;

  void Begin(const RuleSetState& s) {
    leaves.clear();
    membership.clear();
    chain.clear();
    cond_hits.clear();
    satisfied.clear();
    candidates.clear();
    hits_sorted = false;
    auto grow = [](std::vector<uint32_t>& v, size_t n) {
      if (v.size() < n) v.resize(n, 0);
    };
    if (++epoch == 0) {
      for (auto* v : {&cond_epoch, &branch_epoch, &pattern_epoch, &field_epoch}) {
        std::fill(v->begin(), v->end(), 0);
      }
      epoch = 1;
    }
    grow(cond_epoch, s.conds.size());
    grow(branch_epoch, s.branches.size());
    grow(branch_count, s.branches.size());
    grow(pattern_epoch, s.patterns.size());
    grow(field_epoch, s.fields.size());
    grow(field_leaves, s.fields.size());
    size_t nodes = s.trie->nodes.size();
    if (node_object.size() < nodes) {
      node_object.resize(nodes, 0);
      node_begin.resize(nodes, 0);
      node_end.resize(nodes, 0);
    }
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

bool Compatible(const Scratch& sc, const LeafRec& a, const LeafRec& b) {
  uint32_t n = std::min(a.mem_len, b.mem_len);
  for (uint32_t i = 0; i < n; ++i) {
    const auto& x = sc.membership[a.mem_begin + i];
    const auto& y = sc.membership[b.mem_begin + i];
    if (x.first != y.first) return true;
    if (x.second != y.second) return false;
  }
  return true;
}

// Walks the event with an explicit stack, recording the values of used fields as leaves.
absl::Status Walk(const RuleSetState& s, Scratch& sc, std::string_view event,
                  const MatchOptions& options) {
  namespace od = simdjson::ondemand;
  const PathTrie& trie = *s.trie;
  size_t padded_size = event.size() + simdjson::SIMDJSON_PADDING;
  if (sc.buffer.size() < padded_size) sc.buffer.resize(padded_size);
  std::memcpy(sc.buffer.data(), event.data(), event.size());
  std::memset(sc.buffer.data() + event.size(), 0, simdjson::SIMDJSON_PADDING);
  od::document doc;
  if (auto e = sc.parser.iterate(sc.buffer.data(), event.size(), sc.buffer.size()).get(doc)) {
    return JsonError(e);
  }
  od::object root;
  if (auto e = doc.get_object().get(root)) {
    return e == simdjson::INCORRECT_TYPE ? absl::InvalidArgumentError("Event is not an object")
                                         : JsonError(e);
  }
  struct Frame {
    bool is_array = false;
    bool pops_chain = false;  // this container pushed an entry on the membership chain
    od::object_iterator oit, oend;
    od::array_iterator ait, aend;
    uint32_t node = 0;
    int32_t array_id = 0;
    int32_t index = 0;
    uint64_t object = 0;
    int32_t last_node = -1;
  };
  std::vector<Frame> stack;
  int32_t next_array = 0;
  auto push_object = [&](od::object obj, uint32_t node, bool pops) -> absl::Status {
    Frame f;
    f.node = node;
    f.pops_chain = pops;
    f.object = sc.next_object++;
    if (auto e = obj.begin().get(f.oit)) return JsonError(e);
    if (auto e = obj.end().get(f.oend)) return JsonError(e);
    stack.push_back(f);
    return absl::OkStatus();
  };
  auto push_array = [&](od::array arr, uint32_t node, bool pops) -> absl::Status {
    Frame f;
    f.is_array = true;
    f.node = node;
    f.pops_chain = pops;
    f.array_id = next_array++;
    if (auto e = arr.begin().get(f.ait)) return JsonError(e);
    if (auto e = arr.end().get(f.aend)) return JsonError(e);
    stack.push_back(f);
    return absl::OkStatus();
  };
  // Handles one value at trie node `node`. Returns true in *descended if it pushed a frame.
  auto visit = [&](od::value& v, uint32_t node, bool in_array, int32_t array_id, int32_t index,
                   bool* descended) -> absl::Status {
    *descended = false;
    od::json_type type;
    if (auto e = v.type().get(type)) return JsonError(e);
    const PathTrie::Node& n = trie.nodes[node];
    if (type == od::json_type::object || type == od::json_type::array) {
      if (stack.size() >= options.max_depth) {
        return absl::InvalidArgumentError("Event nesting exceeds the depth limit");
      }
      if (type == od::json_type::object && n.children.empty()) return absl::OkStatus();
      if (in_array) sc.chain.emplace_back(array_id, index);
      *descended = true;
      if (type == od::json_type::object) {
        od::object obj;
        if (auto e = v.get_object().get(obj)) return JsonError(e);
        return push_object(obj, node, in_array);
      }
      od::array arr;
      if (auto e = v.get_array().get(arr)) return JsonError(e);
      return push_array(arr, node, in_array);
    }
    if (n.field < 0) return absl::OkStatus();
    LeafRec leaf;
    leaf.field = static_cast<uint32_t>(n.field);
    leaf.dead = false;
    leaf.mem_begin = static_cast<uint32_t>(sc.membership.size());
    leaf.mem_len = static_cast<uint32_t>(sc.chain.size());
    switch (type) {
      case od::json_type::string: {
        std::string_view sv;
        if (auto e = v.get_string().get(sv)) return JsonError(e);
        leaf.value.type = LeafType::kString;
        leaf.value.text = sv;
        break;
      }
      case od::json_type::number: {
        std::string_view raw = v.raw_json_token();
        while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' ||
                                raw.back() == '\t')) {
          raw.remove_suffix(1);
        }
        leaf.value.type = LeafType::kNumber;
        leaf.value.text = raw;
        if (s.fields[leaf.field]->number_users > 0) leaf.value.number = ComparableNumber(raw);
        break;
      }
      case od::json_type::boolean: {
        bool b;
        if (auto e = v.get_bool().get(b)) return JsonError(e);
        leaf.value.type = b ? LeafType::kTrue : LeafType::kFalse;
        break;
      }
      default: {
        bool is_null;
        if (auto e = v.is_null().get(is_null)) return JsonError(e);
        if (!is_null) return absl::InvalidArgumentError("Malformed event JSON");
        leaf.value.type = LeafType::kNull;
        break;
      }
    }
    sc.membership.insert(sc.membership.end(), sc.chain.begin(), sc.chain.end());
    sc.leaves.push_back(leaf);
    return absl::OkStatus();
  };

  if (auto st = push_object(root, 0, false); !st.ok()) return st;
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.is_array) {
      if (!(f.ait != f.aend)) {
        bool pops = f.pops_chain;
        stack.pop_back();
        if (pops) sc.chain.pop_back();
        if (!stack.empty()) {
          Frame& parent = stack.back();
          if (parent.is_array) {
            ++parent.ait;
            ++parent.index;
          } else {
            ++parent.oit;
          }
        }
        continue;
      }
      od::value v;
      if (auto e = (*f.ait).get(v)) return JsonError(e);
      bool descended;
      uint32_t node = f.node;
      int32_t id = f.array_id, index = f.index;
      if (auto st = visit(v, node, true, id, index, &descended); !st.ok()) return st;
      if (!descended) {
        Frame& g = stack.back();  // `f` may have been invalidated by push_back
        ++g.ait;
        ++g.index;
      }
      continue;
    }
    if (!(f.oit != f.oend)) {
      if (f.last_node >= 0) sc.node_end[f.last_node] = static_cast<uint32_t>(sc.leaves.size());
      bool pops = f.pops_chain;
      stack.pop_back();
      if (pops) sc.chain.pop_back();
      if (!stack.empty()) {
        Frame& parent = stack.back();
        if (parent.is_array) {
          ++parent.ait;
          ++parent.index;
        } else {
          ++parent.oit;
        }
      }
      continue;
    }
    od::field field;
    if (auto e = (*f.oit).get(field)) return JsonError(e);
    if (f.last_node >= 0) {
      sc.node_end[f.last_node] = static_cast<uint32_t>(sc.leaves.size());
      f.last_node = -1;
    }
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return JsonError(e);
    // Resolve the key (which may itself contain dots) in the trie.
    int32_t node = static_cast<int32_t>(f.node);
    size_t start = 0;
    while (node >= 0) {
      size_t dot = key.find('.', start);
      std::string_view seg =
          key.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      node = trie.Child(static_cast<uint32_t>(node), seg);
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    if (node < 0) {
      ++f.oit;  // no rule uses this field: skip its value unparsed
      continue;
    }
    // Duplicate key in this object: the last occurrence wins.
    if (sc.node_object[node] == f.object) {
      for (uint32_t i = sc.node_begin[node]; i < sc.node_end[node]; ++i) sc.leaves[i].dead = true;
    }
    sc.node_object[node] = f.object;
    sc.node_begin[node] = static_cast<uint32_t>(sc.leaves.size());
    sc.node_end[node] = sc.node_begin[node];
    f.last_node = node;
    bool descended;
    if (auto st = visit(field.value(), static_cast<uint32_t>(node), false, 0, 0, &descended);
        !st.ok()) {
      return st;
    }
    if (!descended) ++stack.back().oit;
  }
  return absl::OkStatus();
}

// Collects conditions satisfied by each leaf.
void Evaluate(const RuleSetState& s, Scratch& sc) {
  const uint32_t epoch = sc.epoch;
  auto hit = [&](const Conds& cs, uint32_t leaf) {
    for (uint32_t c : cs) {
      sc.cond_hits.emplace_back(c, leaf);
      if (sc.cond_epoch[c] != epoch) {
        sc.cond_epoch[c] = epoch;
        sc.satisfied.push_back(c);
      }
    }
  };
  for (uint32_t li = 0; li < sc.leaves.size(); ++li) {
    const LeafRec& leaf = sc.leaves[li];
    if (leaf.dead) continue;
    if (sc.field_epoch[leaf.field] != epoch) {
      sc.field_epoch[leaf.field] = epoch;
      sc.field_leaves[leaf.field] = 0;
    }
    ++sc.field_leaves[leaf.field];
    const FieldIndex& fx = *s.fields[leaf.field];
    const LeafValue& v = leaf.value;
    switch (v.type) {
      case LeafType::kString: {
        if (const Conds* cs = fx.exact_strings.Find(v.text)) hit(*cs, li);
        for (uint32_t len : fx.prefix_lens) {
          if (len > v.text.size()) break;
          if (const Conds* cs = fx.prefixes.Find(v.text.substr(0, len))) hit(*cs, li);
        }
        for (uint32_t len : fx.suffix_lens) {
          if (len > v.text.size()) break;
          if (const Conds* cs = fx.suffixes.Find(v.text.substr(v.text.size() - len))) hit(*cs, li);
        }
        break;
      }
      case LeafType::kNumber:
        if (v.number) {
          if (const Conds* cs = fx.exact_numbers.Find(NumberKey(*v.number))) hit(*cs, li);
        }
        if (!fx.literal_numbers.empty()) {
          if (const Conds* cs = fx.literal_numbers.Find(v.text)) hit(*cs, li);
        }
        break;
      case LeafType::kTrue:
        hit(fx.trues, li);
        break;
      case LeafType::kFalse:
        hit(fx.falses, li);
        break;
      case LeafType::kNull:
        hit(fx.nulls, li);
        break;
    }
    hit(fx.exists, li);
    for (const auto& [m, c] : fx.others) {
      if (MatchesValue(m, v)) {
        Conds one{c};
        hit(one, li);
      }
    }
  }
}

// Checks exists:false conditions and array consistency for a branch whose required conditions
// all hold. Returns false if they do not; ResourceExhausted if the search is too long.
absl::StatusOr<bool> VerifyBranch(const RuleSetState& s, Scratch& sc, const BranchInfo& b,
                                  const MatchOptions& options) {
  const uint32_t epoch = sc.epoch;
  auto leaves_at = [&](uint32_t field) {
    return sc.field_epoch[field] == epoch ? sc.field_leaves[field] : 0;
  };
  if (sc.membership.empty()) {
    // No value sits inside an array element: every choice is consistent.
    for (uint32_t c : b.optional) {
      if (sc.cond_epoch[c] != epoch && leaves_at(s.conds[c].field) > 0) return false;
    }
    return true;
  }
  // General case: the same search as the reference interpreter, over the hits of each condition.
  std::vector<uint32_t> conds = b.required;
  conds.insert(conds.end(), b.optional.begin(), b.optional.end());
  const size_t n = conds.size();
  constexpr uint32_t kAbsent = UINT32_MAX;
  std::vector<std::vector<uint32_t>> options_of(n);
  if (!sc.hits_sorted) {
    std::sort(sc.cond_hits.begin(), sc.cond_hits.end());
    sc.hits_sorted = true;
  }
  for (size_t i = 0; i < n; ++i) {
    uint32_t c = conds[i];
    if (sc.cond_epoch[c] == epoch) {
      auto it = std::lower_bound(sc.cond_hits.begin(), sc.cond_hits.end(),
                                 std::pair<uint32_t, uint32_t>(c, 0));
      for (; it != sc.cond_hits.end() && it->first == c; ++it) {
        if (options_of[i].empty() || options_of[i].back() != it->second) {
          options_of[i].push_back(it->second);
        }
      }
    }
    if (i >= b.required.size()) options_of[i].push_back(kAbsent);
  }
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t x, size_t y) { return options_of[x].size() < options_of[y].size(); });
  std::vector<size_t> pick(n, 0);
  auto chosen = [&](size_t d) { return options_of[order[d]][pick[d]]; };
  size_t depth = 0;
  size_t steps = 0;
  while (true) {
    if (++steps > options.max_consistency_steps) {
      return absl::ResourceExhaustedError(
          "Event too complex: array-consistency search exceeded its step budget");
    }
    if (depth == n) {
      bool ok = true;
      for (size_t d = 0; d < n && ok; ++d) {
        if (chosen(d) != kAbsent) continue;
        uint32_t field = s.conds[conds[order[d]]].field;
        for (uint32_t li = 0; li < sc.leaves.size() && ok; ++li) {
          const LeafRec& l = sc.leaves[li];
          if (l.dead || l.field != field) continue;
          bool compatible = true;
          for (size_t e = 0; e < n && compatible; ++e) {
            if (chosen(e) != kAbsent) compatible = Compatible(sc, l, sc.leaves[chosen(e)]);
          }
          if (compatible) ok = false;
        }
      }
      if (ok) return true;
      --depth;
      ++pick[depth];
      continue;
    }
    const auto& list = options_of[order[depth]];
    if (pick[depth] >= list.size()) {
      if (depth == 0) return false;
      pick[depth] = 0;
      --depth;
      ++pick[depth];
      continue;
    }
    uint32_t cand = list[pick[depth]];
    bool compatible = true;
    for (size_t d = 0; d < depth && compatible && cand != kAbsent; ++d) {
      if (chosen(d) != kAbsent) {
        compatible = Compatible(sc, sc.leaves[cand], sc.leaves[chosen(d)]);
      }
    }
    if (compatible) {
      ++depth;
    } else {
      ++pick[depth];
    }
  }
}

}  // namespace
}  // namespace internal

using internal::RuleSetState;

RuleSet::RuleSet(std::unique_ptr<RuleSetState> state) : state_(std::move(state)) {}
RuleSet::~RuleSet() = default;

size_t RuleSet::rule_count() const { return state_->rule_count; }
size_t RuleSet::pattern_count() const { return state_->pattern_count; }
size_t RuleSet::field_count() const { return state_->fields.size(); }

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
  internal::Evaluate(s, sc);
  const uint32_t epoch = sc.epoch;
  for (uint32_t c : sc.satisfied) {
    for (uint32_t b : s.conds[c].branches) {
      if (sc.branch_epoch[b] != epoch) {
        sc.branch_epoch[b] = epoch;
        sc.branch_count[b] = 0;
      }
      if (++sc.branch_count[b] == s.branches[b].required.size()) sc.candidates.push_back(b);
    }
  }
  sc.candidates.insert(sc.candidates.end(), s.always_branches.begin(), s.always_branches.end());
  for (uint32_t b : sc.candidates) {
    const internal::BranchInfo& info = s.branches[b];
    bool any_new = false;
    for (uint32_t p : info.patterns) any_new = any_new || sc.pattern_epoch[p] != epoch;
    if (!any_new) continue;
    auto ok = internal::VerifyBranch(s, sc, info, options);
    if (!ok.ok()) return ok.status();
    if (!*ok) continue;
    for (uint32_t p : info.patterns) {
      if (sc.pattern_epoch[p] == epoch) continue;
      sc.pattern_epoch[p] = epoch;
      const auto& rules = s.patterns[p].rules;
      out->insert(out->end(), rules.begin(), rules.end());
    }
  }
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
  return absl::OkStatus();
}

RuleSetBuilder::RuleSetBuilder() : state_(std::make_unique<RuleSetState>()) {}
RuleSetBuilder::~RuleSetBuilder() = default;
RuleSetBuilder::RuleSetBuilder(RuleSetBuilder&&) noexcept = default;
RuleSetBuilder& RuleSetBuilder::operator=(RuleSetBuilder&&) noexcept = default;

size_t RuleSetBuilder::rule_count() const { return state_->rule_count; }

absl::Status RuleSetBuilder::Add(RuleId id, const Pattern& pattern) {
  RuleSetState& s = *state_;
  if (s.conds.size() >= UINT32_MAX - 1024 || s.branches.size() >= UINT32_MAX - 1024) {
    return absl::ResourceExhaustedError("Rule set is full");
  }
  Remove(id);
  const std::string& key = pattern.canonical();
  uint32_t p;
  if (const uint32_t* existing = s.pattern_by_key.Find(key)) {
    p = *existing;
    s.patterns.Mutable(p).rules.push_back(id);
  } else {
    std::vector<uint32_t> branch_ids;
    for (const internal::Branch& b : pattern.branches()) {
      branch_ids.push_back(internal::GetOrCreateBranch(s, b));
    }
    p = internal::Allocate(s.patterns, s.free_patterns);
    internal::PatternInfo& info = s.patterns.Mutable(p);
    info = internal::PatternInfo();
    info.live = true;
    info.key = key;
    info.rules.push_back(id);
    info.branches = branch_ids;
    for (uint32_t b : branch_ids) s.branches.Mutable(b).patterns.push_back(p);
    s.pattern_by_key.Mutable(key) = p;
    ++s.pattern_count;
  }
  s.rule_to_pattern.Mutable(id) = p;
  ++s.rule_count;
  return absl::OkStatus();
}

bool RuleSetBuilder::Remove(RuleId id) {
  RuleSetState& s = *state_;
  const uint32_t* found = s.rule_to_pattern.Find(static_cast<uint64_t>(id));
  if (found == nullptr) return false;
  uint32_t p = *found;
  s.rule_to_pattern.Erase(id);
  --s.rule_count;
  internal::PatternInfo& info = s.patterns.Mutable(p);
  auto it = std::find(info.rules.begin(), info.rules.end(), id);
  if (it != info.rules.end()) info.rules.erase(it);
  if (!info.rules.empty()) return true;
  internal::PatternInfo old = std::move(info);
  info = internal::PatternInfo();
  for (uint32_t b : old.branches) {
    internal::EraseValue(s.branches.Mutable(b).patterns, p);
    internal::ReleaseBranch(s, b);
  }
  s.pattern_by_key.Erase(old.key);
  s.free_patterns.push_back(p);
  --s.pattern_count;
  return true;
}

std::shared_ptr<const RuleSet> RuleSetBuilder::Build() {
  RuleSetState& s = *state_;
  if (s.trie_dirty) {
    auto trie = std::make_shared<internal::PathTrie>();
    for (size_t f = 0; f < s.field_paths.size(); ++f) {
      trie->Insert(s.field_paths[f], static_cast<int32_t>(f));
    }
    s.trie = std::move(trie);
    s.trie_dirty = false;
  }
  return std::shared_ptr<const RuleSet>(new RuleSet(std::make_unique<RuleSetState>(s)));
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
