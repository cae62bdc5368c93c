#pragma once
// EventBridge event patterns: parsing and validation (stage 1 of parse -> compile -> match).
//
// ParsePattern turns pattern JSON into a validated, normalised Pattern: a disjunction of
// branches (the $or expansion), each a conjunction of field conditions keyed by the dotted
// field path, each condition a disjunction of matchers. Validation errors carry event-ruler's /
// AWS's InvalidEventPatternException reason text verbatim as an InvalidArgument message.
//
// Limits (ParseOptions): pattern length, JSON nesting depth, $or combinations (1,000, AWS), fields
// per branch (256, event-ruler) and wildcard complexity (AWS's "Rule is too complex"). Parsing is
// iterative; no recursion depends on the input.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "events/pattern/values.h"

namespace klaxon::events::pattern {

struct ParseOptions {
  // Maximum pattern length in bytes. AWS's default quota is 2,048 characters (adjustable to
  // 4,096); the library default accepts the API maximum. 0 disables the check.
  size_t max_pattern_bytes = 4096;
  // Maximum JSON nesting depth of a pattern.
  int max_depth = 64;
  // Maximum number of branches after expanding every $or (AWS: 1,000 combinations).
  size_t max_or_combinations = 1000;
  // Maximum number of fields in one branch (event-ruler: 256).
  size_t max_fields_per_branch = 256;
  // Reject wildcard operands whose complexity (see values.h WildcardComplexity) is at least this
  // ("Rule is too complex ..."), as the EventBridge service does. 0 disables the check, which is
  // what the event-ruler library itself does.
  int max_wildcard_complexity = 5;
};

// ParseOptions matching the event-ruler library (no service-level limits). Used by the
// conformance tests, whose expected results come from the library.
ParseOptions LibraryParseOptions();

namespace internal {

enum class MatcherType : uint8_t {
  kExactString,  // value
  kExactNumber,  // value = literal text, number = comparable value (if any)
  kTrue,
  kFalse,
  kNull,
  kIpAddress,              // a pattern string that is an IP literal: ip (single address range)
  kPrefix,                 // value
  kPrefixIgnoreCase,       // value, ignore_case
  kSuffix,                 // value
  kSuffixIgnoreCase,       // value, ignore_case
  kEqualsIgnoreCase,       // value, ignore_case
  kWildcard,               // value (raw operand), wildcard
  kNumeric,                // range
  kCidr,                   // ip
  kExists,                 // present leaf (including null)
  kAbsent,                 // exists:false
  kAnythingButString,      // values
  kAnythingButNumber,      // numbers
  kAnythingButIgnoreCase,  // values, ignore_cases
  kAnythingButPrefix,      // values
  kAnythingButSuffix,      // values
  kAnythingButWildcard,    // values (raw), wildcards
};

struct NumericRange {
  bool has_low = false, low_open = false, has_high = false, high_open = false;
  double low = 0, high = 0;
  bool Contains(double v) const {
    if (has_low && (low_open ? !(v > low) : !(v >= low))) return false;
    if (has_high && (high_open ? !(v < high) : !(v <= high))) return false;
    return true;
  }
};

struct Matcher {
  MatcherType type = MatcherType::kExactString;
  std::string value;
  std::optional<double> number;
  std::vector<std::string> values;
  std::vector<double> numbers;
  NumericRange range;
  IpRange ip;
  Wildcard wildcard;
  std::vector<Wildcard> wildcards;
  IgnoreCase ignore_case;
  std::vector<IgnoreCase> ignore_cases;

  // Canonical JSON of this matcher (used for deduplication and display).
  std::string ToJson() const;
  // True for anything-but / exists:false, which are decided by the absence of other values.
  bool IsNegative() const;
};

struct FieldCondition {
  std::string path;               // dotted path, e.g. "detail.state"
  std::vector<Matcher> matchers;  // OR; sorted and unique by ToJson()
};

struct Branch {
  std::vector<FieldCondition> fields;  // AND; sorted by path, unique paths
};

}  // namespace internal

// A validated event pattern. Immutable value type (copyable, movable); thread-compatible.
class Pattern {
 public:
  // Branches after $or expansion; identical branches are merged.
  const std::vector<internal::Branch>& branches() const { return branches_; }

  // A canonical JSON rendering: equal for patterns that are equal after normalisation (field
  // order, $or, duplicate keys, dotted keys). Used to store identical patterns once.
  const std::string& canonical() const { return canonical_; }

  // Every dotted field path used by any branch, sorted and unique.
  std::vector<std::string> Paths() const;

 private:
  friend absl::StatusOr<Pattern> ParsePattern(std::string_view, const ParseOptions&);
  std::vector<internal::Branch> branches_;
  std::string canonical_;
};

// Parses and validates `json`. Errors: InvalidArgument whose message is the AWS /
// event-ruler reason (e.g. "Empty arrays are not allowed", "\"a\" must be an object or an
// array", "Consecutive wildcard characters at pos 2"); the API layer maps it to
// InvalidEventPatternException. Thread-safe.
absl::StatusOr<Pattern> ParsePattern(std::string_view json, const ParseOptions& options = {});

}  // namespace klaxon::events::pattern
