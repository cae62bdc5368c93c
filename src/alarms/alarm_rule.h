#pragma once
// The AlarmRule language of composite alarms:
//   rule    := or
//   or      := and ("OR" and)*
//   and     := not ("AND" not)*
//   not     := "NOT" not | primary
//   primary := "(" rule ")" | "TRUE" | "FALSE" | STATE "(" alarm ")"
//   STATE   := ALARM | OK | INSUFFICIENT_DATA
//   alarm   := a name or an alarm ARN, bare or in double quotes
// A composite alarm is in ALARM when its rule is TRUE, else OK. Parse once; the parsed rule is
// immutable. Nesting deeper than kMaxDepth is refused (no unbounded recursion on input).

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "alarms/types.h"

namespace klaxon::alarms {

class AlarmRule {
 public:
  static constexpr int kMaxDepth = 64;

  // Errors: InvalidArgument naming the position.
  static absl::StatusOr<AlarmRule> Parse(std::string_view text);

  // The alarm references as written (names or ARNs), each once.
  const std::vector<std::string>& references() const { return references_; }

  // Evaluates the rule; `state_of` returns the state of a referenced alarm, nullopt when it does
  // not exist (then every state function on it is FALSE).
  bool Evaluate(const std::function<std::optional<StateValue>(const std::string&)>& state_of) const;

  struct Node;

 private:
  std::shared_ptr<const Node> root_;
  std::vector<std::string> references_;
};

// The alarm name a rule reference denotes in (region, account): the name itself, or the name in
// an alarm ARN of that Region and account. nullopt for an ARN of another Region or account.
std::optional<std::string> ResolveAlarmReference(const std::string& ref, std::string_view region,
                                                 std::string_view account);

}  // namespace klaxon::alarms
