#pragma once
// Value-level primitives of the pattern language, shared by the compiled matcher (RuleSet) and the
// reference interpreter: number comparability, IP literals and CIDR ranges, wildcard globs and
// equals-ignore-case. Each follows event-ruler 2.0.1 (see README.md, "Compatibility").
// All functions are pure and thread-safe.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace klaxon::events::pattern::internal {

// ---- Numbers ---------------------------------------------------------------------------------

// The value of JSON number `text` if it is "comparable": finite, and exactly the value of the
// shortest decimal form of the nearest double (event-ruler's rule: BigDecimal(text) must equal
// BigDecimal.valueOf(double)). 300, 300.0 and 3e2 are comparable and equal; 0.10000000000000001
// is not comparable (it is not the shortest form of its double) and so never matches a numeric
// operator. -0 is comparable and equals 0. Returns nullopt otherwise.
std::optional<double> ComparableNumber(std::string_view text);

// The two halves of ComparableNumber, for callers that can often decide without the second:
// the nearest double of `text` if the whole text reads as a finite number, and whether `text`
// is exactly the shortest decimal form of that double. ComparableNumber(t) is the first when
// the second holds.
std::optional<double> ParseFiniteNumber(std::string_view text);
bool IsShortestForm(std::string_view text, double value);

// True if `text` is a JSON number (RFC 8259): -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view text);

// As IsJsonNumber, with one SSE2 pass for texts of up to 32 bytes. Reads 32 bytes from
// text.data() whatever text.size(): they must be readable (e.g. inside a padded buffer).
bool IsJsonNumberPadded(std::string_view text);

// ---- IP addresses ----------------------------------------------------------------------------

struct IpAddress {
  uint8_t size = 0;  // 4 or 16
  std::array<uint8_t, 16> bytes{};
  bool operator==(const IpAddress&) const = default;
};

// Inclusive range of addresses of one family.
struct IpRange {
  IpAddress low;
  IpAddress high;
  bool Contains(const IpAddress& ip) const;
  bool operator==(const IpRange&) const = default;
};

// Parses an IPv4 dotted-quad or an IPv6 literal (hex groups and "::", no embedded IPv4, no zone),
// as event-ruler's IP regexes + InetAddress do. IPv4-mapped IPv6 addresses become IPv4.
std::optional<IpAddress> ParseIpLiteral(std::string_view s);

// True if `s` looks like an IP literal to event-ruler (its regexes), so that a pattern string is
// compiled as an address instead of a string.
bool LooksLikeIpLiteral(std::string_view s);

// Parses "address/bits". Errors (InvalidArgument, event-ruler's messages): "Malformed CIDR, one
// '/' required", "Malformed CIDR, mask bits must be an integer", "Malformed CIDR, mask bits must
// not be negative", "Nonstandard IP address: X", "IPv4 mask bits must be < 32", "IPv6 mask bits
// must be < 128". Host bits in the address are allowed: the range is the whole network.
absl::StatusOr<IpRange> ParseCidr(std::string_view s);

// ---- Wildcards -------------------------------------------------------------------------------

// A glob: literal segments separated by '*'. segments.size() == stars + 1.
struct Wildcard {
  std::vector<std::string> segments;
  bool operator==(const Wildcard&) const = default;
};

// Parses a wildcard operand. `\*` is a literal star, `\\` a literal backslash. Errors:
// "Consecutive wildcard characters at pos N", "Invalid escape character at pos N" (event-ruler
// counts from 1: its operand starts with a quote).
absl::StatusOr<Wildcard> ParseWildcard(std::string_view s);

// True if `value` matches the glob. O(len(value) * len(pattern)) worst case, no allocation.
bool WildcardMatches(const Wildcard& w, std::string_view value);

// Number of '*' followed by a literal segment: our stand-in for AWS's machine complexity (see
// README "Limits").
int WildcardComplexity(const Wildcard& w);

// ---- equals-ignore-case ----------------------------------------------------------------------

// A case-insensitive pattern as event-ruler builds it: for every code point c of the operand, the
// event must hold either the full lower-case or the full upper-case form of c (Java's
// toLowerCase/toUpperCase(Locale.ROOT) of the single character). So "straße" matches "STRASSE".
struct IgnoreCase {
  std::vector<std::pair<std::string, std::string>> alternatives;  // per code point: lower, upper
  bool operator==(const IgnoreCase&) const = default;
};

IgnoreCase CompileIgnoreCase(std::string_view s);

enum class IgnoreCaseMode { kEquals, kPrefix, kSuffix };

bool IgnoreCaseMatches(const IgnoreCase& p, std::string_view value, IgnoreCaseMode mode);

// The single-character case mappings (exposed for tests).
std::string_view LowerCaseOf(uint32_t cp);  // empty if the code point maps to itself
std::string_view UpperCaseOf(uint32_t cp);  // empty if the code point maps to itself

// Decodes one UTF-8 code point at s[*pos], advancing *pos. Invalid bytes decode as themselves.
uint32_t DecodeUtf8(std::string_view s, size_t* pos);

}  // namespace klaxon::events::pattern::internal
