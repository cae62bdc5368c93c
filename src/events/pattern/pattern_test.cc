#include "events/pattern/pattern.h"

#include <string>

#include "events/pattern/interpreter.h"
#include "gtest/gtest.h"

namespace klaxon::events::pattern {
namespace {

TEST(ParsePattern, CanonicalFormIgnoresSpellingAndOrder) {
  auto a = ParsePattern(R"({"b": [2, 1], "a": {"c": ["x"]}})");
  auto b = ParsePattern(R"({"a.c": ["x"], "b": [1.0, 2e0]})");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->canonical(), b->canonical());
}

TEST(ParsePattern, KeepsExactlyAndIpLiteralApart) {
  // Equal JSON, different matchers: the IP literal also matches other spellings of the address.
  auto p = ParsePattern(R"({"a": [{"exactly": "10.0.0.1"}, "10.0.0.1"]})");
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->branches().size(), 1u);
  EXPECT_EQ(p->branches()[0].fields[0].matchers.size(), 2u);
  EXPECT_TRUE(*internal::InterpretJson(*p, R"({"a": "10.000.0.1"})", nullptr));
}

TEST(ParsePattern, OrExpands) {
  auto p = ParsePattern(
      R"({"s": ["x"], "$or": [{"a": [1]}, {"b": [2]}, {"$or": [{"c": [3]}, {"d": [4]}]}]})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->branches().size(), 4u);
}

TEST(ParsePattern, OrCombinationLimit) {
  std::string p = "{";
  for (int i = 0; i < 4; ++i) {
    p += "\"f" + std::to_string(i) + "\": {\"$or\": [";
    for (int j = 0; j < 6; ++j)
      p += std::string(j ? "," : "") + "{\"x" + std::to_string(j) + "\": [1]}";
    p += "]}";
    p += i < 3 ? "," : "}";
  }
  ParseOptions o;
  o.max_pattern_bytes = 0;
  auto r = ParsePattern(p, o);  // 6^4 = 1296 > 1000
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("$or"), std::string::npos);
}

TEST(ParsePattern, LengthAndDepthLimits) {
  std::string long_pattern = "{\"a\": [\"" + std::string(5000, 'x') + "\"]}";
  EXPECT_FALSE(ParsePattern(long_pattern).ok());
  EXPECT_TRUE(ParsePattern(long_pattern, LibraryParseOptions()).ok());
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "{\"a\":";
  deep += "[1]" + std::string(100, '}');
  EXPECT_FALSE(ParsePattern(deep).ok());
}

TEST(ParsePattern, WildcardComplexityIsAServiceLimit) {
  const char* p = R"({"a": [{"wildcard": "*:*:*:*:*:event-bus/*"}]})";
  EXPECT_FALSE(ParsePattern(p).ok());
  EXPECT_TRUE(ParsePattern(p, LibraryParseOptions()).ok());
}

TEST(Explain, NamesTheDecidingField) {
  auto p = ParsePattern(R"({"source": ["aws.ec2"], "detail": {"state": [{"prefix": "run"}]}})");
  ASSERT_TRUE(p.ok());
  auto e = Explain(*p, R"({"source": "aws.ec2", "detail": {"state": "stopped"}})");
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->matched);
  std::string text = e->ToString();
  EXPECT_NE(text.find("FAIL detail.state"), std::string::npos) << text;
  EXPECT_NE(text.find("{\"prefix\":\"run\"}"), std::string::npos) << text;
}

}  // namespace
}  // namespace klaxon::events::pattern
