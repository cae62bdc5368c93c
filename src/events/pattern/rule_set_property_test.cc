// Property tests: the compiled RuleSet agrees with the reference interpreter on generated
// patterns and events, with many rules compiled together (a rule's result never depends on the
// other rules in the set), and across incremental Add/Remove.

#include <algorithm>
#include <string>
#include <vector>

#include "events/pattern/interpreter.h"
#include "events/pattern/pattern.h"
#include "events/pattern/rule_set.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace klaxon::events::pattern {
namespace {

// A small vocabulary makes collisions between patterns and events likely.
const std::vector<std::string> kKeys = {"a", "b", "c", "a.b"};
const std::vector<std::string> kStrings = {"x", "X",        "xy",     "yx",
                                           "",  "10.0.0.1", "Straße", "STRASSE"};
const std::vector<std::string> kNumbers = {"1", "1.0", "2", "-0", "3e2", "300", "0.5"};

std::string Pick(const std::vector<std::string>& v) {
  return v[*rc::gen::inRange<size_t>(0, v.size())];
}

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

std::string GenScalar() {
  switch (*rc::gen::inRange(0, 5)) {
    case 0:
    case 1:
      return Quote(Pick(kStrings));
    case 2:
      return Pick(kNumbers);
    case 3:
      return *rc::gen::element<std::string>("true", "false");
    default:
      return "null";
  }
}

std::string GenMatcher() {
  switch (*rc::gen::inRange(0, 14)) {
    case 0:
    case 1:
      return GenScalar();
    case 2:
      return "{\"prefix\":" + Quote(Pick(kStrings)) + "}";
    case 3:
      return "{\"suffix\":" + Quote(Pick(kStrings)) + "}";
    case 4:
      return "{\"equals-ignore-case\":" + Quote(Pick(kStrings)) + "}";
    case 5:
      return "{\"anything-but\":[" + Quote(Pick(kStrings)) + "," + Quote(Pick(kStrings)) + "]}";
    case 6:
      return "{\"anything-but\":" + Pick(kNumbers) + "}";
    case 7:
      return "{\"numeric\":[\">\"," + Pick(kNumbers) + ",\"<=\",3]}";
    case 8:
      return *rc::gen::element<std::string>("{\"exists\":true}", "{\"exists\":false}");
    case 9:
      return *rc::gen::element<std::string>("{\"wildcard\":\"x*\"}", "{\"wildcard\":\"*y*\"}");
    case 10:
      return "{\"cidr\":\"10.0.0.0/8\"}";
    case 11:
      return "{\"prefix\":{\"equals-ignore-case\":\"X\"}}";
    case 12:
      return "{\"anything-but\":{\"prefix\":\"x\"}}";
    default:
      return "{\"numeric\":[\"=\"," + Pick(kNumbers) + "]}";
  }
}

std::string GenPatternObject(int depth) {
  int n = *rc::gen::inRange(1, 3);
  std::string out = "{";
  for (int i = 0; i < n; ++i) {
    if (i) out += ",";
    if (depth < 2 && *rc::gen::inRange(0, 6) == 0) {
      out += "\"$or\":[" + GenPatternObject(depth + 1) + "," + GenPatternObject(depth + 1) + "]";
      continue;
    }
    out += Quote(Pick(kKeys)) + ":";
    if (depth < 2 && *rc::gen::inRange(0, 3) == 0) {
      out += GenPatternObject(depth + 1);
    } else {
      int m = *rc::gen::inRange(1, 3);
      out += "[";
      for (int j = 0; j < m; ++j) out += (j ? "," : "") + GenMatcher();
      out += "]";
    }
  }
  return out + "}";
}

std::string GenEventValue(int depth) {
  int kind = depth < 3 ? *rc::gen::inRange(0, 6) : 0;
  if (kind <= 2) return GenScalar();
  if (kind == 3) {
    int n = *rc::gen::inRange(0, 4);
    std::string out = "[";
    for (int i = 0; i < n; ++i) out += (i ? "," : "") + GenEventValue(depth + 1);
    return out + "]";
  }
  int n = *rc::gen::inRange(0, 4);
  std::string out = "{";
  for (int i = 0; i < n; ++i) {
    out += (i ? "," : "") + Quote(Pick(kKeys)) + ":" + GenEventValue(depth + 1);
  }
  return out + "}";
}

std::string GenEvent() {
  int n = *rc::gen::inRange(0, 5);
  std::string out = "{";
  for (int i = 0; i < n; ++i) {
    out += (i ? "," : "") + Quote(Pick(kKeys)) + ":" + GenEventValue(1);
  }
  return out + "}";
}

RC_GTEST_PROP(RuleSetProperty, AgreesWithInterpreter, ()) {
  std::vector<Pattern> patterns;
  int n = *rc::gen::inRange(1, 30);
  for (int i = 0; i < n; ++i) {
    auto p = ParsePattern(GenPatternObject(0), LibraryParseOptions());
    if (p.ok()) patterns.push_back(*std::move(p));
  }
  RuleSetBuilder builder;
  for (size_t i = 0; i < patterns.size(); ++i) RC_ASSERT(builder.Add(i, patterns[i]).ok());
  // Remove and re-add a few rules: the result must not depend on the history.
  for (size_t i = 0; i < patterns.size(); i += 3) {
    RC_ASSERT(builder.Remove(i));
    RC_ASSERT(builder.Add(i, patterns[i]).ok());
  }
  auto set = builder.Build();
  for (int e = 0; e < 8; ++e) {
    std::string event = GenEvent();
    auto ids = set->Match(event);
    RC_ASSERT(ids.ok());
    for (size_t i = 0; i < patterns.size(); ++i) {
      auto want = internal::InterpretJson(patterns[i], event, nullptr);
      RC_ASSERT(want.ok());
      bool got = std::binary_search(ids->begin(), ids->end(), i);
      if (got != *want) {
        RC_FAIL("pattern " + patterns[i].canonical() + " event " + event + " compiled " +
                (got ? "true" : "false"));
      }
    }
  }
}

TEST(RuleSet, SnapshotsAreIndependent) {
  auto p = ParsePattern(R"({"a": ["x"]})");
  ASSERT_TRUE(p.ok());
  RuleSetBuilder builder;
  ASSERT_TRUE(builder.Add(1, *p).ok());
  auto first = builder.Build();
  ASSERT_TRUE(builder.Add(2, *p).ok());
  builder.Remove(1);
  auto second = builder.Build();
  EXPECT_EQ(*first->Match(R"({"a": "x"})"), std::vector<RuleId>{1});
  EXPECT_EQ(*second->Match(R"({"a": "x"})"), std::vector<RuleId>{2});
  EXPECT_EQ(second->pattern_count(), 1u);
}

TEST(RuleSet, IdenticalPatternsStoredOnce) {
  RuleSetBuilder builder;
  for (RuleId i = 0; i < 1000; ++i) {
    auto p = ParsePattern(R"({"detail": {"state": ["running"]}, "source": ["aws.ec2"]})");
    ASSERT_TRUE(builder.Add(i, *p).ok());
  }
  auto set = builder.Build();
  EXPECT_EQ(set->pattern_count(), 1u);
  auto ids = set->Match(R"({"source": "aws.ec2", "detail": {"state": "running"}})");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->size(), 1000u);
}

TEST(RuleSet, HostileEventsGetErrors) {
  auto p = ParsePattern(R"({"a": ["x"]})");
  RuleSetBuilder builder;
  ASSERT_TRUE(builder.Add(1, *p).ok());
  auto set = builder.Build();
  std::string deep = "{\"a\":" + std::string(5000, '[') + std::string(5000, ']') + "}";
  EXPECT_FALSE(set->Match(deep).ok());
  EXPECT_FALSE(set->Match("[1]").ok());
  EXPECT_FALSE(set->Match("{\"a\": ").ok());
  MatchOptions small;
  small.max_event_bytes = 10;
  EXPECT_FALSE(set->Match(R"({"a": "xxxxxxxxxxxxxxxxx"})", small).ok());
}

TEST(RuleSet, DuplicateEventKeysLastWins) {
  auto p = ParsePattern(R"({"a": ["x"]})");
  RuleSetBuilder builder;
  ASSERT_TRUE(builder.Add(1, *p).ok());
  auto set = builder.Build();
  EXPECT_EQ(set->Match(R"({"a": "y", "a": "x"})")->size(), 1u);
  EXPECT_EQ(set->Match(R"({"a": "x", "a": "y"})")->size(), 0u);
}

}  // namespace
}  // namespace klaxon::events::pattern
