#include "events/pattern/values.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace klaxon::events::pattern::internal {
namespace {

TEST(ComparableNumber, EqualSpellings) {
  EXPECT_EQ(ComparableNumber("300"), 300.0);
  EXPECT_EQ(ComparableNumber("300.0"), 300.0);
  EXPECT_EQ(ComparableNumber("3e2"), 300.0);
  EXPECT_EQ(ComparableNumber("-0"), 0.0);
  EXPECT_EQ(ComparableNumber("1e300"), 1e300);
}

TEST(ComparableNumber, RejectsInexactAndInfinite) {
  EXPECT_FALSE(ComparableNumber("0.10000000000000001").has_value());
  EXPECT_FALSE(ComparableNumber("37.807807921694092").has_value());
  EXPECT_FALSE(ComparableNumber("1e400").has_value());
  EXPECT_TRUE(ComparableNumber("37.80780792169409").has_value());
}

TEST(Ip, ParsesAndNormalises) {
  auto a = ParseIpLiteral("::1");
  auto b = ParseIpLiteral("0:0:0:0:0:0:0:1");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_FALSE(ParseIpLiteral("1.2.3.256").has_value());
  EXPECT_FALSE(ParseIpLiteral("hello").has_value());
  EXPECT_EQ(ParseIpLiteral("::ffff:a00:1")->size, 4);
}

TEST(Cidr, RangesAndErrors) {
  auto r = ParseCidr("10.0.0.7/24");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->Contains(*ParseIpLiteral("10.0.0.0")));
  EXPECT_TRUE(r->Contains(*ParseIpLiteral("10.0.0.255")));
  EXPECT_FALSE(r->Contains(*ParseIpLiteral("10.0.1.0")));
  EXPECT_EQ(ParseCidr("bad").status().message(), "Malformed CIDR, one '/' required");
  EXPECT_EQ(ParseCidr("10.0.0.0/x").status().message(),
            "Malformed CIDR, mask bits must be an integer");
  EXPECT_EQ(ParseCidr("10.0.0.0/32").status().message(), "IPv4 mask bits must be < 32");
  EXPECT_EQ(ParseCidr("xx.11.xx/8").status().message(), "Nonstandard IP address: xx.11.xx");
}

TEST(Wildcard, MatchesAndErrors) {
  auto w = ParseWildcard("a*b*c");
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(WildcardMatches(*w, "abc"));
  EXPECT_TRUE(WildcardMatches(*w, "axxbyyc"));
  EXPECT_FALSE(WildcardMatches(*w, "acb"));
  auto lit = ParseWildcard("he\\*o");
  ASSERT_TRUE(lit.ok());
  EXPECT_TRUE(WildcardMatches(*lit, "he*o"));
  EXPECT_FALSE(WildcardMatches(*lit, "hello"));
  EXPECT_EQ(ParseWildcard("a**b").status().message(), "Consecutive wildcard characters at pos 2");
  EXPECT_EQ(ParseWildcard("a\\xb").status().message(), "Invalid escape character at pos 2");
}

TEST(IgnoreCase, JavaFullCaseMapping) {
  EXPECT_TRUE(IgnoreCaseMatches(CompileIgnoreCase("straße"), "STRASSE", IgnoreCaseMode::kEquals));
  EXPECT_TRUE(IgnoreCaseMatches(CompileIgnoreCase("ÉTÉ"), "été", IgnoreCaseMode::kEquals));
  EXPECT_FALSE(IgnoreCaseMatches(CompileIgnoreCase("ΣΊΣΥΦΟΣ"), "σίσυφος", IgnoreCaseMode::kEquals));
  EXPECT_TRUE(IgnoreCaseMatches(CompileIgnoreCase("ab"), "ABc", IgnoreCaseMode::kPrefix));
  EXPECT_TRUE(IgnoreCaseMatches(CompileIgnoreCase("PNG"), "x.png", IgnoreCaseMode::kSuffix));
  EXPECT_FALSE(IgnoreCaseMatches(CompileIgnoreCase("PNG"), "x.pn", IgnoreCaseMode::kSuffix));
}

TEST(JsonNumber, GrammarAndPaddedFormAgree) {
  for (const char* ok : {"0", "-0", "1", "-12", "0.5", "-0.5e-3", "1E+2", "10e05", "1.25E3",
                         "-122.49429154961733", "37.714338508246506"}) {
    EXPECT_TRUE(IsJsonNumber(ok)) << ok;
  }
  for (const char* bad :
       {"",      "-",     "+1",  "01", "-01", "1.", ".5",       "1.e5", "1e",    "1e+",
        "1e5e5", "1.2.3", "--1", "1-", "0x1", "1 ", "Infinity", "NaN",  "1e5.0", "e5"}) {
    EXPECT_FALSE(IsJsonNumber(bad)) << bad;
  }
  // Every string up to 6 bytes over an alphabet of the grammar's bytes (and two others), and
  // longer random ones: the SSE2 form agrees with the plain one.
  const std::string alphabet = "0159-+.eEx ";
  std::string padded(64, '\0');
  auto check = [&](const std::string& s) {
    padded.assign(s);
    padded.resize(s.size() + 40, '7');  // bytes after the text must not matter
    ASSERT_EQ(IsJsonNumberPadded(std::string_view(padded.data(), s.size())), IsJsonNumber(s)) << s;
  };
  std::string s;
  std::vector<size_t> digits;
  for (size_t n = 0; n <= 6; ++n) {
    digits.assign(n, 0);
    while (true) {
      s.clear();
      for (size_t d : digits) s.push_back(alphabet[d]);
      check(s);
      size_t k = 0;
      while (k < n && ++digits[k] == alphabet.size()) digits[k++] = 0;
      if (k == n) break;
    }
  }
  uint64_t x = 88172645463325252ull;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int i = 0; i < 200000; ++i) {
    const size_t n = next() % 40;
    s.clear();
    // Mostly digits, so that long valid numbers occur.
    for (size_t k = 0; k < n; ++k) {
      s.push_back(next() % 4 ? static_cast<char>('0' + next() % 10) : alphabet[next() % 11]);
    }
    check(s);
  }
}

}  // namespace
}  // namespace klaxon::events::pattern::internal
