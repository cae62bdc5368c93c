#include "events/pattern/interpreter.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "events/pattern/leaf.h"

namespace klaxon::events::pattern {
namespace internal {
namespace {

struct Leaf {
  std::string path;
  LeafValue value;
  const JsonValue* node = nullptr;
  // (array id, element index) for every array on the way from the root, outermost first.
  std::vector<std::pair<int, int>> membership;
};

std::string LeafJson(const Leaf& leaf) {
  const JsonValue& v = *leaf.node;
  switch (v.type) {
    case JsonType::kString: {
      std::string out;
      AppendJsonString(v.text, out);
      return out;
    }
    case JsonType::kNumber:
      return v.text;
    case JsonType::kTrue:
      return "true";
    case JsonType::kFalse:
      return "false";
    default:
      return "null";
  }
}

// Flattens the event with an explicit stack. Duplicate keys: the last occurrence wins.
std::vector<Leaf> Flatten(const JsonValue& root) {
  struct Work {
    const JsonValue* node;
    std::string path;
    std::vector<std::pair<int, int>> membership;
  };
  std::vector<Leaf> leaves;
  std::vector<Work> stack;
  stack.push_back({&root, "", {}});
  int next_array_id = 0;
  while (!stack.empty()) {
    Work w = std::move(stack.back());
    stack.pop_back();
    const JsonValue& v = *w.node;
    if (v.type == JsonType::kObject) {
      std::map<std::string_view, size_t> last;
      for (size_t i = 0; i < v.members.size(); ++i) last[v.members[i].first] = i;
      for (const auto& [key, index] : last) {
        std::string path = w.path.empty() ? std::string(key) : w.path + "." + std::string(key);
        stack.push_back({&v.members[index].second, std::move(path), w.membership});
      }
    } else if (v.type == JsonType::kArray) {
      // Only object and array elements are "in" an element for array consistency
      // (event-ruler): the scalar values of one array are alternatives of one field.
      int id = next_array_id++;
      for (size_t i = 0; i < v.items.size(); ++i) {
        auto membership = w.membership;
        if (v.items[i].type == JsonType::kObject || v.items[i].type == JsonType::kArray) {
          membership.emplace_back(id, static_cast<int>(i));
        }
        stack.push_back({&v.items[i], w.path, std::move(membership)});
      }
    } else {
      Leaf leaf;
      leaf.path = std::move(w.path);
      leaf.node = &v;
      leaf.membership = std::move(w.membership);
      switch (v.type) {
        case JsonType::kString:
          leaf.value.type = LeafType::kString;
          leaf.value.text = v.text;
          break;
        case JsonType::kNumber:
          leaf.value.type = LeafType::kNumber;
          leaf.value.text = v.text;
          leaf.value.number = ComparableNumber(v.text);
          break;
        case JsonType::kTrue:
          leaf.value.type = LeafType::kTrue;
          break;
        case JsonType::kFalse:
          leaf.value.type = LeafType::kFalse;
          break;
        default:
          leaf.value.type = LeafType::kNull;
          break;
      }
      leaves.push_back(std::move(leaf));
    }
  }
  return leaves;
}

// Two leaves may be used together unless they sit in different elements of one array.
bool Compatible(const Leaf& a, const Leaf& b) {
  size_t n = std::min(a.membership.size(), b.membership.size());
  for (size_t i = 0; i < n; ++i) {
    if (a.membership[i].first != b.membership[i].first) return true;
    if (a.membership[i].second != b.membership[i].second) return false;
  }
  return true;
}

struct Candidate {
  const Leaf* leaf;
  const Matcher* matcher;
};

}  // namespace

absl::StatusOr<bool> Interpret(const Pattern& pattern, const JsonValue& event,
                               Explanation* explanation, const EventOptions& options) {
  if (event.type != JsonType::kObject) return absl::InvalidArgumentError("Event is not an object");
  std::vector<Leaf> leaves = Flatten(event);
  std::multimap<std::string_view, const Leaf*> by_path;
  for (const Leaf& l : leaves) by_path.emplace(l.path, &l);

  bool any = false;
  size_t steps = 0;
  for (const Branch& branch : pattern.branches()) {
    BranchExplanation be;
    bool ok = true;
    // Per field: the leaves at its path, the candidates (a leaf some matcher accepts, or
    // nullptr = "absent", offered when the field has exists:false).
    std::vector<std::vector<const Leaf*>> at_path(branch.fields.size());
    std::vector<std::vector<Candidate>> options_of(branch.fields.size());
    for (size_t fi = 0; fi < branch.fields.size(); ++fi) {
      const FieldCondition& f = branch.fields[fi];
      FieldExplanation fe;
      fe.path = f.path;
      auto [lo, hi] = by_path.equal_range(f.path);
      std::vector<std::string> seen;
      for (auto it = lo; it != hi; ++it) {
        const Leaf* leaf = it->second;
        at_path[fi].push_back(leaf);
        seen.push_back(LeafJson(*leaf));
        for (const Matcher& m : f.matchers) {
          if (MatchesValue(m, leaf->value)) {
            options_of[fi].push_back({leaf, &m});
            break;
          }
        }
      }
      for (const Matcher& m : f.matchers) {
        if (m.type == MatcherType::kAbsent) options_of[fi].push_back({nullptr, &m});
      }
      if (options_of[fi].empty()) {
        ok = false;
        std::string ops;
        for (const Matcher& m : f.matchers) ops += (ops.empty() ? "" : ", ") + m.ToJson();
        fe.values = seen;
        if (seen.empty()) {
          fe.reason = "no value at this path; required one of [" + ops + "]";
        } else {
          std::string vals;
          for (const std::string& v : seen) vals += (vals.empty() ? "" : ", ") + v;
          fe.reason = "value(s) " + vals + " matched none of [" + ops + "]";
        }
      }
      be.fields.push_back(std::move(fe));
    }
    if (ok) {
      // Find one option per field such that the chosen leaves are pairwise compatible and no
      // field chosen as "absent" has a leaf compatible with all chosen leaves. Iterative DFS,
      // fields with the fewest options first.
      const size_t n = branch.fields.size();
      std::vector<size_t> order(n);
      for (size_t i = 0; i < n; ++i) order[i] = i;
      std::sort(order.begin(), order.end(),
                [&](size_t a, size_t b) { return options_of[a].size() < options_of[b].size(); });
      std::vector<size_t> pick(n, 0);
      size_t depth = 0;
      bool found = false;
      auto chosen = [&](size_t d) { return options_of[order[d]][pick[d]]; };
      while (true) {
        if (++steps > options.max_consistency_steps) {
          return absl::ResourceExhaustedError(
              "Event too complex: array-consistency search exceeded its step budget");
        }
        if (depth == n) {
          bool absent_ok = true;
          for (size_t d = 0; d < n && absent_ok; ++d) {
            if (chosen(d).leaf != nullptr) continue;
            for (const Leaf* l : at_path[order[d]]) {
              bool compatible = true;
              for (size_t e = 0; e < n && compatible; ++e) {
                if (chosen(e).leaf != nullptr) compatible = Compatible(*l, *chosen(e).leaf);
              }
              if (compatible) absent_ok = false;
            }
          }
          if (absent_ok) {
            found = true;
            break;
          }
          --depth;
          ++pick[depth];
          continue;
        }
        const auto& list = options_of[order[depth]];
        if (pick[depth] >= list.size()) {
          if (depth == 0) break;
          pick[depth] = 0;
          --depth;
          ++pick[depth];
          continue;
        }
        const Leaf* cand = list[pick[depth]].leaf;
        bool compatible = true;
        for (size_t d = 0; d < depth && compatible && cand != nullptr; ++d) {
          if (chosen(d).leaf != nullptr) compatible = Compatible(*cand, *chosen(d).leaf);
        }
        if (compatible) {
          ++depth;
        } else {
          ++pick[depth];
        }
      }
      if (found) {
        for (size_t d = 0; d < n; ++d) {
          const Candidate& c = chosen(d);
          FieldExplanation& fe = be.fields[order[d]];
          fe.satisfied = true;
          fe.matcher = c.matcher->ToJson();
          if (c.leaf == nullptr) {
            fe.reason = at_path[order[d]].empty()
                            ? "no value at this path, and " + fe.matcher + " accepts absence"
                            : "no value at this path in the same array element as the other "
                              "fields, and " +
                                  fe.matcher + " accepts absence";
          } else {
            fe.values = {LeafJson(*c.leaf)};
            fe.reason = fe.values[0] + " matched " + fe.matcher;
          }
        }
      } else {
        ok = false;
        for (size_t fi = 0; fi < n; ++fi) {
          FieldExplanation& fe = be.fields[fi];
          fe.satisfied = true;
          const Candidate& c = options_of[fi].front();
          fe.matcher = c.matcher->ToJson();
          fe.reason = c.leaf ? LeafJson(*c.leaf) + " matched " + fe.matcher
                             : "no value at this path, and " + fe.matcher + " accepts absence";
        }
        be.reason =
            "each field can be satisfied on its own, but not together within one element of an "
            "array of objects (array consistency)";
      }
    }
    be.matched = ok;
    any = any || ok;
    if (explanation != nullptr) {
      explanation->branches.push_back(std::move(be));
    } else if (any) {
      return true;
    }
  }
  if (explanation != nullptr) explanation->matched = any;
  return any;
}

absl::StatusOr<bool> InterpretJson(const Pattern& pattern, std::string_view event_json,
                                   Explanation* explanation, const EventOptions& options) {
  JsonParseOptions jo;
  jo.max_depth = options.max_depth;
  auto doc = ParseJson(event_json, jo);
  if (!doc.ok()) return doc.status();
  return Interpret(pattern, *doc, explanation, options);
}

}  // namespace internal

std::string Explanation::ToString() const {
  std::string out = matched ? "true\n" : "false\n";
  for (size_t i = 0; i < branches.size(); ++i) {
    const BranchExplanation& b = branches[i];
    if (branches.size() > 1) {
      absl::StrAppend(&out, "branch ", i + 1, " of ", branches.size(),
                      " ($or): ", b.matched ? "matched" : "did not match", "\n");
    }
    // The deciding fields first: for a failed branch the unsatisfied ones.
    for (int pass = 0; pass < 2; ++pass) {
      for (const FieldExplanation& f : b.fields) {
        bool deciding = b.matched ? f.satisfied : !f.satisfied;
        if ((pass == 0) != deciding) continue;
        absl::StrAppend(&out, "  ", f.satisfied ? "ok   " : "FAIL ", f.path, ": ", f.reason, "\n");
      }
    }
    if (!b.reason.empty()) absl::StrAppend(&out, "  FAIL ", b.reason, "\n");
  }
  return out;
}

absl::StatusOr<Explanation> Explain(const Pattern& pattern, std::string_view event_json,
                                    const EventOptions& options) {
  Explanation e;
  auto r = internal::InterpretJson(pattern, event_json, &e, options);
  if (!r.ok()) return r.status();
  return e;
}

}  // namespace klaxon::events::pattern
