#include "events/pattern/values.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace klaxon::events::pattern::internal {
namespace {

absl::Status Error(const std::string& message) {
  return absl::InvalidArgumentError(absl::string_view(message.data(), message.size()));
}

// A decimal number as (sign, significant digits without leading/trailing zeros, exponent) with
// value 0.DIGITS x 10^exponent; zero has no digits and no sign. At most kMaxDigits significant
// digits are kept; more is reported as kTooLong (such a text is never the shortest form of a
// double, which has at most 17).
struct ShortDecimal {
  static constexpr int kMaxDigits = 20;
  bool negative = false;
  int n = 0;
  char digits[kMaxDigits];
  int64_t exponent = 0;
  bool operator==(const ShortDecimal& o) const {
    return negative == o.negative && n == o.n && exponent == o.exponent &&
           std::memcmp(digits, o.digits, n) == 0;
  }
};

enum class DecimalResult { kOk, kMalformed, kTooLong };

// Parses a JSON-number-like text (also accepts what std::to_chars writes).
DecimalResult ParseShortDecimal(std::string_view s, ShortDecimal& out) {
  size_t i = 0;
  out = ShortDecimal();
  bool negative = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
  int n = 0;
  int zeros = 0;  // trailing zeros seen after the last non-zero digit, not yet stored
  bool too_long = false;
  int64_t point = 0;
  bool seen_point = false, any_digit = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      any_digit = true;
      if (n == 0 && zeros == 0 && c == '0') {
        if (seen_point) --point;
        continue;
      }
      if (!seen_point) ++point;
      if (c == '0') {
        ++zeros;
        continue;
      }
      if (n + zeros + 1 > ShortDecimal::kMaxDigits) {
        too_long = true;
      } else {
        for (; zeros > 0; --zeros) out.digits[n++] = '0';
        out.digits[n++] = c;
      }
      zeros = 0;
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!any_digit) return DecimalResult::kMalformed;
  int64_t exp = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) eneg = s[i++] == '-';
    if (i >= s.size()) return DecimalResult::kMalformed;
    for (; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') return DecimalResult::kMalformed;
      if (exp < 100000000) exp = exp * 10 + (s[i] - '0');
    }
    if (eneg) exp = -exp;
  }
  if (i != s.size()) return DecimalResult::kMalformed;
  if (too_long) return DecimalResult::kTooLong;
  if (n == 0) return DecimalResult::kOk;  // zero
  out.negative = negative;
  out.n = n;
  out.exponent = point + exp;
  return DecimalResult::kOk;
}

}  // namespace

std::optional<double> ParseFiniteNumber(std::string_view text) {
  if (text.empty() || text.size() > 1000) return std::nullopt;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  double value = 0;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

bool IsJsonNumber(std::string_view t) {
  const char* p = t.data();
  const char* const end = p + t.size();
  auto digit = [&] { return p != end && *p >= '0' && *p <= '9'; };
  if (p != end && *p == '-') ++p;
  if (!digit()) return false;
  if (*p++ != '0') {
    while (digit()) ++p;
  }
  if (p != end && *p == '.') {
    ++p;
    if (!digit()) return false;
    while (digit()) ++p;
  }
  if (p != end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p != end && (*p == '+' || *p == '-')) ++p;
    if (!digit()) return false;
    while (digit()) ++p;
  }
  return p == end;
}

bool IsJsonNumberPadded(std::string_view t) {
#if defined(__SSE2__)
  const size_t len = t.size();
  if (len == 0 || len > 32) return IsJsonNumber(t);
  // Bit i of each mask describes byte i of the text.
  const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t.data()));
  const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t.data() + 16));
  auto mask = [&](auto test) -> uint64_t {
    return static_cast<uint32_t>(_mm_movemask_epi8(test(lo))) |
           (static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(test(hi)))) << 16);
  };
  const uint64_t valid = (uint64_t{1} << len) - 1;
  const uint64_t digits =
      valid & mask([](__m128i x) {
        // (x - '0') < 10 unsigned, as a signed compare after a bias.
        const __m128i d = _mm_xor_si128(_mm_sub_epi8(x, _mm_set1_epi8('0')), _mm_set1_epi8(-128));
        return _mm_cmplt_epi8(d, _mm_set1_epi8(-128 + 10));
      });
  const uint64_t dots =
      valid & mask([](__m128i x) { return _mm_cmpeq_epi8(x, _mm_set1_epi8('.')); });
  const uint64_t exps =
      valid & mask([](__m128i x) {
        return _mm_cmpeq_epi8(_mm_or_si128(x, _mm_set1_epi8(0x20)), _mm_set1_epi8('e'));
      });
  const uint64_t signs = valid & mask([](__m128i x) {
                           return _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('-')),
                                               _mm_cmpeq_epi8(x, _mm_set1_epi8('+')));
                         });
  if ((digits | dots | exps | signs) != valid) return false;  // another byte
  const unsigned first = t[0] == '-' ? 1 : 0;                 // the first mantissa digit
  if (!((digits >> first) & 1)) return false;
  if (t[first] == '0' && ((digits >> (first + 1)) & 1)) return false;  // leading zero
  if (exps & (exps - 1)) return false;                                 // two exponents
  const unsigned epos = exps ? static_cast<unsigned>(__builtin_ctzll(exps)) : len;
  // Signs: the leading '-', and one right after the exponent mark.
  if (signs & ~((first ? uint64_t{1} : 0) | (exps << 1))) return false;
  // At most one '.', in the mantissa, followed by a digit.
  if (dots) {
    if (dots & (dots - 1)) return false;
    const unsigned d = static_cast<unsigned>(__builtin_ctzll(dots));
    if (d > epos || !((digits >> (d + 1)) & 1)) return false;
  }
  if (exps) {
    unsigned k = epos + 1;
    if ((signs >> k) & 1) ++k;
    if (k >= len) return false;
    // Only digits from k on (the mantissa before the mark ends with a digit: a '.' needs one
    // after it, and the first mantissa byte is a digit).
    if ((valid & ~((uint64_t{1} << k) - 1)) & ~digits) return false;
  }
  return true;
#else
  return IsJsonNumber(t);
#endif
}

bool IsShortestForm(std::string_view text, double value) {
  // The shortest form of the double, usually spelled exactly as the text.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), value);
  if (res.ec != std::errc()) return false;
  const std::string_view shortest(buf, res.ptr - buf);
  if (shortest == text) return true;
  ShortDecimal a;
  if (ParseShortDecimal(text, a) != DecimalResult::kOk) return false;
  // A decimal of at most 15 significant digits is the shortest form of its nearest normal
  // double (DBL_DIG): two such decimals are more than one ulp apart.
  if (a.n == 0 || (a.n <= 15 && std::fabs(value) >= std::numeric_limits<double>::min())) {
    return true;
  }
  ShortDecimal b;
  if (ParseShortDecimal(shortest, b) != DecimalResult::kOk) return false;
  return a == b;
}

std::optional<double> ComparableNumber(std::string_view text) {
  std::optional<double> value = ParseFiniteNumber(text);
  if (!value || !IsShortestForm(text, *value)) return std::nullopt;
  return value;
}

// ---- IP ----

bool IpRange::Contains(const IpAddress& ip) const {
  if (ip.size != low.size) return false;
  int lo = std::memcmp(ip.bytes.data(), low.bytes.data(), ip.size);
  int hi = std::memcmp(ip.bytes.data(), high.bytes.data(), ip.size);
  return lo >= 0 && hi <= 0;
}

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// [0-9]+\.[0-9]+\.[0-9]+\.[0-9]+
bool MatchesIpv4Regex(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (true) {
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start) return false;
    ++parts;
    if (i == s.size()) return parts == 4;
    if (s[i] != '.' || parts == 4) return false;
    ++i;
  }
}

// [0-9a-fA-F:]*:[0-9a-fA-F:]*
bool MatchesIpv6Regex(std::string_view s) {
  bool colon = false;
  for (char c : s) {
    if (c == ':') {
      colon = true;
    } else if (!IsHex(c)) {
      return false;
    }
  }
  return colon;
}

std::optional<IpAddress> ParseIpv4(std::string_view s) {
  IpAddress ip;
  ip.size = 4;
  int part = 0;
  size_t i = 0;
  while (part < 4) {
    uint32_t v = 0;
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) {
      v = v * 10 + static_cast<uint32_t>(s[i] - '0');
      if (v > 255) return std::nullopt;
      ++i;
    }
    if (i == start) return std::nullopt;
    ip.bytes[part++] = static_cast<uint8_t>(v);
    if (part < 4) {
      if (i >= s.size() || s[i] != '.') return std::nullopt;
      ++i;
    }
  }
  if (i != s.size()) return std::nullopt;
  return ip;
}

std::optional<IpAddress> ParseIpv6(std::string_view s) {
  // Groups before and after "::".
  std::vector<uint16_t> head, tail;
  bool compressed = false;
  size_t i = 0;
  if (s.substr(0, 2) == "::") {
    compressed = true;
    i = 2;
  } else if (!s.empty() && s[0] == ':') {
    return std::nullopt;
  }
  while (i < s.size()) {
    size_t start = i;
    uint32_t v = 0;
    while (i < s.size() && IsHex(s[i])) {
      if (i - start >= 4) return std::nullopt;
      char c = s[i];
      v = v * 16 + static_cast<uint32_t>(IsDigit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
      ++i;
    }
    if (i == start) return std::nullopt;
    (compressed ? tail : head).push_back(static_cast<uint16_t>(v));
    if (i == s.size()) break;
    if (s[i] != ':') return std::nullopt;
    ++i;
    if (i < s.size() && s[i] == ':') {
      if (compressed) return std::nullopt;
      compressed = true;
      ++i;
    } else if (i == s.size()) {
      return std::nullopt;  // trailing single ':'
    }
  }
  size_t groups = head.size() + tail.size();
  if (compressed ? groups > 7 : groups != 8) return std::nullopt;
  IpAddress ip;
  ip.size = 16;
  for (size_t g = 0; g < head.size(); ++g) {
    ip.bytes[2 * g] = static_cast<uint8_t>(head[g] >> 8);
    ip.bytes[2 * g + 1] = static_cast<uint8_t>(head[g]);
  }
  for (size_t g = 0; g < tail.size(); ++g) {
    size_t pos = 8 - tail.size() + g;
    ip.bytes[2 * pos] = static_cast<uint8_t>(tail[g] >> 8);
    ip.bytes[2 * pos + 1] = static_cast<uint8_t>(tail[g]);
  }
  // IPv4-mapped (::ffff:a.b.c.d) addresses are returned as IPv4 by InetAddress.
  bool mapped = ip.bytes[10] == 0xFF && ip.bytes[11] == 0xFF;
  for (int k = 0; k < 10 && mapped; ++k) mapped = ip.bytes[k] == 0;
  if (mapped) {
    IpAddress v4;
    v4.size = 4;
    std::copy(ip.bytes.begin() + 12, ip.bytes.end(), v4.bytes.begin());
    return v4;
  }
  return ip;
}

}  // namespace

bool LooksLikeIpLiteral(std::string_view s) { return MatchesIpv4Regex(s) || MatchesIpv6Regex(s); }

std::optional<IpAddress> ParseIpLiteral(std::string_view s) {
  if (MatchesIpv4Regex(s)) return ParseIpv4(s);
  if (MatchesIpv6Regex(s)) return ParseIpv6(s);
  return std::nullopt;
}

absl::StatusOr<IpRange> ParseCidr(std::string_view s) {
  // Java's String.split("/") drops trailing empty strings.
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t slash = s.find('/', start);
    if (slash == std::string_view::npos) {
      parts.push_back(s.substr(start));
      break;
    }
    parts.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
  while (!parts.empty() && parts.back().empty()) parts.pop_back();
  if (parts.size() != 2) return Error("Malformed CIDR, one '/' required");
  std::string_view bits_text = parts[1];
  // Integer.parseInt: optional sign, decimal digits, fits in an int.
  size_t i = 0;
  bool negative = false;
  if (!bits_text.empty() && (bits_text[0] == '+' || bits_text[0] == '-')) {
    negative = bits_text[0] == '-';
    i = 1;
  }
  if (i >= bits_text.size()) return Error("Malformed CIDR, mask bits must be an integer");
  int64_t bits = 0;
  for (; i < bits_text.size(); ++i) {
    if (!IsDigit(bits_text[i])) return Error("Malformed CIDR, mask bits must be an integer");
    bits = bits * 10 + (bits_text[i] - '0');
    if (bits > 2147483648LL) return Error("Malformed CIDR, mask bits must be an integer");
  }
  if (negative) bits = -bits;
  if (bits > 2147483647LL) return Error("Malformed CIDR, mask bits must be an integer");
  if (bits < 0) return Error("Malformed CIDR, mask bits must not be negative");
  std::optional<IpAddress> ip = ParseIpLiteral(parts[0]);
  if (!ip) {
    if (LooksLikeIpLiteral(parts[0])) {
      return Error(absl::StrCat("Invalid IP address: ", std::string(parts[0])));
    }
    return Error(absl::StrCat("Nonstandard IP address: ", std::string(parts[0])));
  }
  if (ip->size == 4 && bits > 31) return Error("IPv4 mask bits must be < 32");
  if (ip->size == 16 && bits > 127) return Error("IPv6 mask bits must be < 128");
  IpRange range;
  range.low = *ip;
  range.high = *ip;
  int host_bits = ip->size * 8 - static_cast<int>(bits);
  for (int b = ip->size - 1; b >= 0 && host_bits > 0; --b, host_bits -= 8) {
    uint8_t host_mask = host_bits >= 8 ? 0xFF : static_cast<uint8_t>((1 << host_bits) - 1);
    range.low.bytes[b] &= static_cast<uint8_t>(~host_mask);
    range.high.bytes[b] |= host_mask;
  }
  return range;
}

// ---- Wildcards ----

absl::StatusOr<Wildcard> ParseWildcard(std::string_view s) {
  Wildcard w;
  w.segments.emplace_back();
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '*') {
      if (i + 1 < s.size() && s[i + 1] == '*') {
        return Error(absl::StrCat("Consecutive wildcard characters at pos ", i + 1));
      }
      w.segments.emplace_back();
    } else if (c == '\\') {
      if (i + 1 < s.size() && (s[i + 1] == '*' || s[i + 1] == '\\')) {
        w.segments.back().push_back(s[i + 1]);
        ++i;
        continue;
      }
      return Error(absl::StrCat("Invalid escape character at pos ", i + 1));
    } else {
      w.segments.back().push_back(c);
    }
  }
  return w;
}

namespace {

inline bool SameBytes(const char* a, const char* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// Position of the first occurrence of `needle` (non-empty) in hay[from, limit), or npos. The
// values matched against wildcards are short, so a plain loop beats memchr/memcmp calls.
inline size_t FindIn(std::string_view hay, size_t from, size_t limit, std::string_view needle) {
  const size_t n = needle.size();
  if (limit < n) return std::string_view::npos;
  const char first = needle[0];
  for (size_t i = from; i + n <= limit; ++i) {
    if (hay[i] == first && SameBytes(hay.data() + i + 1, needle.data() + 1, n - 1)) return i;
  }
  return std::string_view::npos;
}

}  // namespace

bool WildcardMatches(const Wildcard& w, std::string_view value) {
  const auto& seg = w.segments;
  if (seg.size() == 1) return value == seg[0];
  const std::string& first = seg.front();
  const std::string& last = seg.back();
  if (value.size() < first.size() + last.size()) return false;
  if (!SameBytes(value.data(), first.data(), first.size())) return false;
  if (!SameBytes(value.data() + value.size() - last.size(), last.data(), last.size())) {
    return false;
  }
  // Middle segments: leftmost greedy placement is optimal for '*'-only globs.
  size_t pos = first.size();
  const size_t limit = value.size() - last.size();
  for (size_t k = 1; k + 1 < seg.size(); ++k) {
    if (seg[k].empty()) continue;
    size_t found = FindIn(value, pos, limit, seg[k]);
    if (found == std::string_view::npos) return false;
    pos = found + seg[k].size();
  }
  return true;
}

int WildcardComplexity(const Wildcard& w) {
  int n = 0;
  for (size_t k = 1; k < w.segments.size(); ++k) {
    if (!w.segments[k].empty()) ++n;
  }
  return n;
}

// ---- Case ----

namespace {

struct CaseEntry {
  uint32_t cp;
  const char* lower;
  const char* upper;
};

constexpr CaseEntry kCaseTable[] = {
#include "events/pattern/case_table.inc"
};

const CaseEntry* FindCase(uint32_t cp) {
  auto it = std::lower_bound(std::begin(kCaseTable), std::end(kCaseTable), cp,
                             [](const CaseEntry& e, uint32_t v) { return e.cp < v; });
  if (it == std::end(kCaseTable) || it->cp != cp) return nullptr;
  return it;
}

}  // namespace

uint32_t DecodeUtf8(std::string_view s, size_t* pos) {
  size_t i = *pos;
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  if (i + n > s.size()) n = 1;
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  *pos = i + n;
  return cp;
}

std::string_view LowerCaseOf(uint32_t cp) {
  const CaseEntry* e = FindCase(cp);
  return e ? std::string_view(e->lower) : std::string_view();
}

std::string_view UpperCaseOf(uint32_t cp) {
  const CaseEntry* e = FindCase(cp);
  return e ? std::string_view(e->upper) : std::string_view();
}

IgnoreCase CompileIgnoreCase(std::string_view s) {
  IgnoreCase out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = pos;
    uint32_t cp = DecodeUtf8(s, &pos);
    std::string self(s.substr(start, pos - start));
    const CaseEntry* e = FindCase(cp);
    if (e == nullptr) {
      out.alternatives.emplace_back(self, self);
    } else {
      out.alternatives.emplace_back(e->lower, e->upper);
    }
  }
  return out;
}

bool IgnoreCaseMatches(const IgnoreCase& p, std::string_view value, IgnoreCaseMode mode) {
  // Set of reachable offsets into `value` (from the front, or from the back for suffixes).
  // Each step has at most two alternatives, and offsets only grow, so the set stays tiny.
  absl::InlinedVector<size_t, 8> frontier{0}, next;
  const size_t n = p.alternatives.size();
  for (size_t k = 0; k < n && !frontier.empty(); ++k) {
    const auto& alt =
        mode == IgnoreCaseMode::kSuffix ? p.alternatives[n - 1 - k] : p.alternatives[k];
    next.clear();
    for (size_t off : frontier) {
      for (const std::string* form : {&alt.first, &alt.second}) {
        if (off + form->size() > value.size()) continue;
        std::string_view piece = mode == IgnoreCaseMode::kSuffix
                                     ? value.substr(value.size() - off - form->size(), form->size())
                                     : value.substr(off, form->size());
        if (piece == *form) next.push_back(off + form->size());
        if (alt.first == alt.second) break;
      }
    }
    std::sort(next.begin(), next.end());
    next.erase(std::unique(next.begin(), next.end()), next.end());
    frontier.swap(next);
  }
  if (frontier.empty()) return false;
  if (mode != IgnoreCaseMode::kEquals) return true;
  return std::find(frontier.begin(), frontier.end(), value.size()) != frontier.end();
}

}  // namespace klaxon::events::pattern::internal
