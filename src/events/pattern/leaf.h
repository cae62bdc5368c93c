#pragma once
// One scalar value of an event as both engines see it, and the per-value test of one matcher.

#include <optional>
#include <string_view>

#include "events/pattern/pattern.h"

namespace klaxon::events::pattern::internal {

enum class LeafType : uint8_t { kString, kNumber, kTrue, kFalse, kNull };

struct LeafValue {
  LeafType type = LeafType::kNull;
  // kString: decoded UTF-8. kNumber: the number's text as written in the event.
  std::string_view text;
  // kNumber: the value if comparable (see ComparableNumber).
  std::optional<double> number;
};

// True if `m` accepts the single value `v`. kAbsent accepts no value. Anything-but matchers
// accept every value they do not exclude (including null and booleans).
bool MatchesValue(const Matcher& m, const LeafValue& v);

}  // namespace klaxon::events::pattern::internal
