#pragma once
// The naive reference interpreter: evaluates one Pattern against one event by the definition of
// the language, with no indexing and no sharing. It is the oracle the compiled RuleSet is tested
// against (property tests, conformance), and it is what Explain uses, because it can say why.
// Not for the hot path: it builds a DOM of the whole event.
//
// Semantics (README.md "Semantics"): the event is flattened into leaves (path, scalar value,
// array membership). A branch matches if every field condition is satisfied, either by absence
// (exists:false and no leaf at that path) or by a leaf some matcher accepts, and the chosen leaves
// are array-consistent: no two of them sit in different elements of the same array.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "events/pattern/json.h"
#include "events/pattern/pattern.h"

namespace klaxon::events::pattern {

// Why a pattern did or did not match one event.
struct FieldExplanation {
  std::string path;
  bool satisfied = false;
  // The matcher (canonical JSON) that accepted, or empty.
  std::string matcher;
  // The event value (JSON) that was accepted, or every value seen at the path when none was.
  std::vector<std::string> values;
  // A human-readable sentence, e.g. "\"running\" matched {\"prefix\":\"run\"}".
  std::string reason;
};

struct BranchExplanation {
  bool matched = false;
  std::vector<FieldExplanation> fields;
  std::string reason;  // set when every field was satisfied alone but not together (arrays)
};

struct Explanation {
  bool matched = false;
  std::vector<BranchExplanation> branches;
  // Multi-line text for people: the deciding field and operator first.
  std::string ToString() const;
};

struct EventOptions {
  int max_depth = 256;  // JSON nesting
  // Budget of steps for the array-consistency search; exceeding it is ResourceExhausted.
  size_t max_consistency_steps = 1'000'000;
};

namespace internal {

// Evaluates `pattern` against the parsed `event` (must be an object). If `explanation` is not
// null it is filled in. Errors: InvalidArgument if the event is not an object; ResourceExhausted
// if the array-consistency search exceeds its budget.
absl::StatusOr<bool> Interpret(const Pattern& pattern, const JsonValue& event,
                               Explanation* explanation, const EventOptions& options = {});

// Parses `event_json` and interprets. Errors: InvalidArgument for malformed JSON or a non-object.
absl::StatusOr<bool> InterpretJson(const Pattern& pattern, std::string_view event_json,
                                   Explanation* explanation, const EventOptions& options = {});

}  // namespace internal

// Explains the result of `pattern` against `event_json`: per branch, per field, which value and
// which operator decided. Errors as InterpretJson. Thread-safe.
absl::StatusOr<Explanation> Explain(const Pattern& pattern, std::string_view event_json,
                                    const EventOptions& options = {});

}  // namespace klaxon::events::pattern
