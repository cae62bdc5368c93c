#pragma once
// The compiled multi-rule matcher (stages 2 and 3 of parse -> compile -> match).
//
// Design: every rule's Pattern is split into field conditions (path + OR of matchers) and
// branches (AND of conditions). Identical patterns are stored once with the list of their rule
// ids; identical conditions and branches are shared between patterns. Each field path has a
// value index: hash maps for exact values, prefix and suffix operands (one lookup per distinct
// operand length), a list for the other operators. Matching walks the event once over simdjson's
// stage-1 token indexes, visiting only the fields some rule uses (the rest is skipped by its
// brackets), looks each value up in its field's index, counts satisfied conditions per branch, and
// checks array consistency and exists:false only for the branches whose counts are complete.
//
// Snapshots: a RuleSet is immutable and shared as std::shared_ptr<const RuleSet>; readers match
// concurrently without locks. A single writer owns a RuleSetBuilder; Build() publishes a new
// snapshot in O(shards) time. The large tables are sharded and copied on write, so adding or
// removing one rule copies only the shards it touches, never the whole set.
//
// Limits (MatchOptions): event size, JSON depth, and the array-consistency search budget; an
// event over a limit gets a clear error (InvalidArgument / ResourceExhausted), never a crash.

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "events/pattern/pattern.h"

namespace klaxon::events::pattern {

using RuleId = uint64_t;

struct MatchOptions {
  size_t max_event_bytes = 1 << 20;  // EventBridge events are at most 256 KB
  size_t max_depth = 256;
  size_t max_consistency_steps = 1'000'000;
};

namespace internal {
struct RuleSetState;
}

// An immutable compiled set of rules. Thread-safe: any number of threads may call Match
// concurrently. Not copyable; share it through std::shared_ptr<const RuleSet>.
class RuleSet {
 public:
  ~RuleSet();
  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;

  // Ids of the rules whose pattern matches `event_json`, sorted ascending, without duplicates.
  // Errors: InvalidArgument if the event is not a JSON object, is malformed, or exceeds
  // max_event_bytes / max_depth; ResourceExhausted if the array-consistency search exceeds its
  // budget.
  absl::StatusOr<std::vector<RuleId>> Match(std::string_view event_json,
                                            const MatchOptions& options = {}) const;

  // As Match, but appends to `*out` (cleared first), avoiding an allocation per event.
  absl::Status MatchInto(std::string_view event_json, std::vector<RuleId>* out,
                         const MatchOptions& options = {}) const;

  size_t rule_count() const;
  // Distinct patterns (identical patterns of different rules count once).
  size_t pattern_count() const;
  // Distinct field paths used by the rules.
  size_t field_count() const;

 private:
  friend class RuleSetBuilder;
  explicit RuleSet(std::unique_ptr<internal::RuleSetState> state);
  std::unique_ptr<internal::RuleSetState> state_;
};

// Accumulates rule changes and publishes snapshots. Thread-compatible: one writer at a time
// (callers serialise Add/Remove/Build, e.g. under the bus's mutex). Movable, not copyable.
class RuleSetBuilder {
 public:
  RuleSetBuilder();
  ~RuleSetBuilder();
  RuleSetBuilder(RuleSetBuilder&&) noexcept;
  RuleSetBuilder& operator=(RuleSetBuilder&&) noexcept;

  // Adds rule `id` with `pattern`, replacing the rule's previous pattern if it had one.
  // Errors: ResourceExhausted if the set would exceed its internal id space (2^32 conditions).
  absl::Status Add(RuleId id, const Pattern& pattern);

  // Removes rule `id`. Returns false if there was no such rule.
  bool Remove(RuleId id);

  // Publishes the current rules as an immutable snapshot. Later changes to the builder do not
  // affect it. Cost: proportional to the number of shards, not the number of rules.
  std::shared_ptr<const RuleSet> Build();

  size_t rule_count() const;

 private:
  std::unique_ptr<internal::RuleSetState> state_;
};

// Convenience for TestEventPattern: does `pattern` match `event_json`? Compiles a one-rule set.
// Errors as RuleSet::Match.
absl::StatusOr<bool> MatchesOne(const Pattern& pattern, std::string_view event_json,
                                const MatchOptions& options = {});

}  // namespace klaxon::events::pattern
