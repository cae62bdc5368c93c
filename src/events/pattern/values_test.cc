#include "events/pattern/values.h"

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

}  // namespace
}  // namespace klaxon::events::pattern::internal
