#include "events/pattern/json.h"

#include <string>

#include "gtest/gtest.h"

namespace klaxon::events::pattern::internal {
namespace {

TEST(ParseJson, KeepsNumberSpellingAndDuplicateKeys) {
  auto v = ParseJson(R"({"a": 3.0e2, "a": "x\u00e9"})");
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->members.size(), 2u);
  EXPECT_EQ(v->members[0].second.text, "3.0e2");
  EXPECT_EQ(v->members[1].second.text, "x\xc3\xa9");
}

TEST(ParseJson, JacksonEscapeMessage) {
  auto v = ParseJson(R"({"x": "he\llo"})");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(), "Unrecognized character escape 'l' (code 108)");
}

TEST(ParseJson, DeepNestingIsAnErrorNotACrash) {
  std::string deep(100000, '[');
  auto v = ParseJson(deep);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(std::string(v.status().message()).find("too deep"), std::string::npos);
}

TEST(ParseJson, TrailingContent) {
  EXPECT_FALSE(ParseJson("{} x").ok());
  JsonParseOptions o;
  o.allow_trailing = true;
  EXPECT_TRUE(ParseJson("{} x", o).ok());
}

TEST(ParseJson, SurrogatePairs) {
  auto v = ParseJson(R"("\ud83d\ude00")");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->text, "\xf0\x9f\x98\x80");
}

}  // namespace
}  // namespace klaxon::events::pattern::internal
