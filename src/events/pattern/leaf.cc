#include "events/pattern/leaf.h"

#include <algorithm>

namespace klaxon::events::pattern::internal {
namespace {

bool IsString(const LeafValue& v) { return v.type == LeafType::kString; }

bool InIpRange(const IpRange& r, const LeafValue& v) {
  if (!IsString(v)) return false;
  std::optional<IpAddress> ip = ParseIpLiteral(v.text);
  return ip && r.Contains(*ip);
}

}  // namespace

bool MatchesValue(const Matcher& m, const LeafValue& v) {
  const std::string_view s = v.text;
  switch (m.type) {
    case MatcherType::kExactString:
      return IsString(v) && s == m.value;
    case MatcherType::kExactNumber:
      if (v.type != LeafType::kNumber) return false;
      if (m.number && v.number && *m.number == *v.number) return true;
      return s == m.value;
    case MatcherType::kTrue:
      return v.type == LeafType::kTrue;
    case MatcherType::kFalse:
      return v.type == LeafType::kFalse;
    case MatcherType::kNull:
      return v.type == LeafType::kNull;
    case MatcherType::kIpAddress:
    case MatcherType::kCidr:
      return InIpRange(m.ip, v);
    case MatcherType::kPrefix:
      return IsString(v) && s.substr(0, m.value.size()) == m.value;
    case MatcherType::kSuffix:
      return IsString(v) && s.size() >= m.value.size() &&
             s.substr(s.size() - m.value.size()) == m.value;
    case MatcherType::kPrefixIgnoreCase:
      return IsString(v) && IgnoreCaseMatches(m.ignore_case, s, IgnoreCaseMode::kPrefix);
    case MatcherType::kSuffixIgnoreCase:
      return IsString(v) && IgnoreCaseMatches(m.ignore_case, s, IgnoreCaseMode::kSuffix);
    case MatcherType::kEqualsIgnoreCase:
      return IsString(v) && IgnoreCaseMatches(m.ignore_case, s, IgnoreCaseMode::kEquals);
    case MatcherType::kWildcard:
      return IsString(v) && WildcardMatches(m.wildcard, s);
    case MatcherType::kNumeric:
      return v.type == LeafType::kNumber && v.number && m.range.Contains(*v.number);
    case MatcherType::kExists:
      return true;
    case MatcherType::kAbsent:
      return false;
    case MatcherType::kAnythingButString:
      return !(IsString(v) && std::find(m.values.begin(), m.values.end(), s) != m.values.end());
    case MatcherType::kAnythingButNumber:
      return !(v.type == LeafType::kNumber && v.number &&
               std::find(m.numbers.begin(), m.numbers.end(), *v.number) != m.numbers.end());
    case MatcherType::kAnythingButIgnoreCase:
      if (!IsString(v)) return true;
      for (const IgnoreCase& ic : m.ignore_cases) {
        if (IgnoreCaseMatches(ic, s, IgnoreCaseMode::kEquals)) return false;
      }
      return true;
    case MatcherType::kAnythingButPrefix:
      if (!IsString(v)) return true;
      for (const std::string& p : m.values) {
        if (s.substr(0, p.size()) == p) return false;
      }
      return true;
    case MatcherType::kAnythingButSuffix:
      if (!IsString(v)) return true;
      for (const std::string& p : m.values) {
        if (s.size() >= p.size() && s.substr(s.size() - p.size()) == p) return false;
      }
      return true;
    case MatcherType::kAnythingButWildcard:
      if (!IsString(v)) return true;
      for (const Wildcard& w : m.wildcards) {
        if (WildcardMatches(w, s)) return false;
      }
      return true;
  }
  return false;
}

}  // namespace klaxon::events::pattern::internal
