// Property tests: the compiled RuleSet agrees with the reference interpreter on generated
// patterns and events, with many rules compiled together (a rule's result never depends on the
// other rules in the set), and across incremental Add/Remove.

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "events/pattern/cow.h"
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
const std::vector<std::string> kStrings = {"x",  "X",        "xy",     "yx",
                                           "",   "10.0.0.1", "Straße", "STRASSE",
                                           "Xy", "a.b",      "::1",    "0:0:0:0:0:0:0:1"};
const std::vector<std::string> kNumbers = {"1",   "1.0", "2",   "-0",
                                           "3e2", "300", "0.5", "0.10000000000000001"};

std::string Pick(const std::vector<std::string>& v) {
  return v[*rc::gen::inRange<size_t>(0, v.size())];
}

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

// As Quote, but some ASCII characters are written as \uXXXX escapes (events only), so that the
// walker's escaped-string paths are exercised.
std::string QuoteEvent(const std::string& s) {
  if (*rc::gen::inRange(0, 4) != 0) return Quote(s);
  std::string out = "\"";
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x80 && *rc::gen::inRange(0, 2) == 0) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

std::string GenScalar(bool event = false) {
  switch (*rc::gen::inRange(0, 5)) {
    case 0:
    case 1:
      return event ? QuoteEvent(Pick(kStrings)) : Quote(Pick(kStrings));
    case 2:
      return Pick(kNumbers);
    case 3:
      return *rc::gen::element<std::string>("true", "false");
    default:
      return "null";
  }
}

std::string GenMatcher() {
  switch (*rc::gen::inRange(0, 22)) {
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
    case 13:
      return "{\"suffix\":{\"equals-ignore-case\":" + Quote(Pick(kStrings)) + "}}";
    case 14:
      return "{\"anything-but\":{\"suffix\":" + Quote(Pick(kStrings)) + "}}";
    case 15:
      return "{\"anything-but\":{\"equals-ignore-case\":[" + Quote(Pick(kStrings)) + "]}}";
    case 16:
      return "{\"anything-but\":{\"wildcard\":\"*y\"}}";
    case 17:
      return "{\"exactly\":" + Quote(Pick(kStrings)) + "}";
    case 18:
      return "{\"prefix\":" + Quote(Pick(kStrings)) + "}";
    case 19:
      return "{\"cidr\":\"::/127\"}";
    case 20:
      return "{\"numeric\":[\">=\",1]}";
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
  if (kind <= 2) return GenScalar(/*event=*/true);
  if (kind == 3) {
    int n = *rc::gen::inRange(0, 4);
    std::string out = "[";
    for (int i = 0; i < n; ++i) out += (i ? "," : "") + GenEventValue(depth + 1);
    return out + "]";
  }
  int n = *rc::gen::inRange(0, 4);
  std::string out = "{";
  for (int i = 0; i < n; ++i) {
    out += (i ? "," : "") + QuoteEvent(Pick(kKeys)) + ":" + GenEventValue(depth + 1);
  }
  return out + "}";
}

std::string GenEvent() {
  int n = *rc::gen::inRange(0, 5);
  std::string out = "{";
  for (int i = 0; i < n; ++i) {
    out += (i ? "," : "") + QuoteEvent(Pick(kKeys)) + ":" + GenEventValue(1);
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

// Checks every rule of `set` against the interpreter on `event`.
void CheckSet(const RuleSet& set, const std::vector<std::pair<RuleId, Pattern>>& rules,
              const std::string& event) {
  auto ids = set.Match(event);
  RC_ASSERT(ids.ok());
  RC_ASSERT(std::is_sorted(ids->begin(), ids->end()));
  size_t expected = 0;
  for (const auto& [id, pattern] : rules) {
    auto want = internal::InterpretJson(pattern, event, nullptr);
    RC_ASSERT(want.ok());
    expected += *want;
    bool got = std::binary_search(ids->begin(), ids->end(), id);
    if (got != *want) {
      RC_FAIL("rule " + std::to_string(id) + " pattern " + pattern.canonical() + " event " + event +
              " compiled " + (got ? "true" : "false"));
    }
  }
  RC_ASSERT(ids->size() == expected);
}

// Many rules in one set: conditions shared between rules, branches anchored on different
// conditions, postings with several conditions, on-demand conditions.
RC_GTEST_PROP(RuleSetProperty, ManyRulesAgreeWithInterpreter, ()) {
  std::vector<std::pair<RuleId, Pattern>> rules;
  int n = *rc::gen::inRange(30, 150);
  RuleSetBuilder builder;
  for (int i = 0; i < n; ++i) {
    auto p = ParsePattern(GenPatternObject(0), LibraryParseOptions());
    if (!p.ok()) continue;
    RuleId id = *rc::gen::inRange<RuleId>(0, 1000);
    bool replaced = false;
    for (auto& [rid, pattern] : rules) {
      if (rid == id) {
        pattern = *p;
        replaced = true;
      }
    }
    if (!replaced) rules.emplace_back(id, *p);
    RC_ASSERT(builder.Add(id, *p).ok());
  }
  auto set = builder.Build();
  RC_ASSERT(set->rule_count() == rules.size());
  for (int e = 0; e < 10; ++e) CheckSet(*set, rules, GenEvent());
}

// Random Add / Remove / Build sequences: every snapshot keeps answering for the rules it was
// built from, whatever the builder does afterwards.
RC_GTEST_PROP(RuleSetProperty, SnapshotsSurviveLaterChanges, ()) {
  RuleSetBuilder builder;
  std::map<RuleId, Pattern> model;
  std::vector<std::pair<std::shared_ptr<const RuleSet>, std::vector<std::pair<RuleId, Pattern>>>>
      snapshots;
  int steps = *rc::gen::inRange(5, 60);
  for (int i = 0; i < steps; ++i) {
    int op = *rc::gen::inRange(0, 10);
    RuleId id = *rc::gen::inRange<RuleId>(0, 25);
    if (op < 6) {
      auto p = ParsePattern(GenPatternObject(0), LibraryParseOptions());
      if (!p.ok()) continue;
      RC_ASSERT(builder.Add(id, *p).ok());
      model.insert_or_assign(id, *p);
    } else if (op < 8) {
      RC_ASSERT(builder.Remove(id) == (model.erase(id) > 0));
    } else {
      snapshots.emplace_back(builder.Build(),
                             std::vector<std::pair<RuleId, Pattern>>(model.begin(), model.end()));
    }
  }
  snapshots.emplace_back(builder.Build(),
                         std::vector<std::pair<RuleId, Pattern>>(model.begin(), model.end()));
  for (int e = 0; e < 4; ++e) {
    std::string event = GenEvent();
    for (const auto& [set, rules] : snapshots) {
      RC_ASSERT(set->rule_count() == rules.size());
      CheckSet(*set, rules, event);
    }
  }
}

// The sharded open-addressing index behaves as a map, across copies (snapshots) too. Hashes
// come from a small set with equal low bits, so that probe runs collide, wrap and shift.
RC_GTEST_PROP(CowHashIndex, BehavesAsAMap, ()) {
  internal::CowHashIndex index;
  std::map<uint64_t, uint32_t> model;
  std::vector<std::pair<internal::CowHashIndex, std::map<uint64_t, uint32_t>>> copies;
  int steps = *rc::gen::inRange(1, 400);
  for (int i = 0; i < steps; ++i) {
    uint64_t h = (*rc::gen::inRange<uint64_t>(0, 4) << 62) |
                 (*rc::gen::inRange<uint64_t>(0, 64) << 20) | *rc::gen::inRange<uint64_t>(0, 3);
    switch (*rc::gen::inRange(0, 8)) {
      case 0:
      case 1:
      case 2: {
        uint32_t v = *rc::gen::inRange<uint32_t>(0, 1000);
        index.Mutable(h, 7) = v;
        model[h == 0 ? 1 : h] = v;
        break;
      }
      case 3:
      case 4:
        index.Erase(h);
        model.erase(h == 0 ? 1 : h);
        break;
      case 5:
        copies.emplace_back(index, model);
        break;
      default: {
        const uint32_t* v = index.Find(h);
        auto it = model.find(h == 0 ? 1 : h);
        RC_ASSERT((v == nullptr) == (it == model.end()));
        if (v != nullptr) RC_ASSERT(*v == it->second);
      }
    }
  }
  copies.emplace_back(index, model);
  for (const auto& [copy, want] : copies) {
    for (uint64_t top = 0; top < 4; ++top) {
      for (uint64_t mid = 0; mid < 64; ++mid) {
        for (uint64_t low = 0; low < 3; ++low) {
          uint64_t h = (top << 62) | (mid << 20) | low;
          const uint32_t* v = copy.Find(h);
          auto it = want.find(h == 0 ? 1 : h);
          RC_ASSERT((v == nullptr) == (it == want.end()));
          if (v != nullptr) RC_ASSERT(*v == it->second);
        }
      }
    }
  }
}

TEST(RuleSet, EscapedKeysAndValues) {
  RuleSetBuilder builder;
  ASSERT_TRUE(builder.Add(1, *ParsePattern(R"({"ab": ["xy"]})")).ok());
  ASSERT_TRUE(builder.Add(2, *ParsePattern(R"({"a": {"b": [{"prefix": "x\\"}]}})")).ok());
  ASSERT_TRUE(builder.Add(3, *ParsePattern(R"({"q\"k": [{"suffix": "\""}]})")).ok());
  auto set = builder.Build();
  EXPECT_EQ(*set->Match(R"({"\u0061b": "x\u0079"})"), std::vector<RuleId>{1});
  EXPECT_EQ(*set->Match(R"({"a\u002eb": "x\\z"})"), std::vector<RuleId>{2});
  EXPECT_EQ(*set->Match(R"({"a": {"b": "x\\"}})"), std::vector<RuleId>{2});
  EXPECT_EQ(*set->Match(R"({"q\"k": "say \"hi\""})"), std::vector<RuleId>{3});
  EXPECT_TRUE(set->Match(R"({"ab": "x\q"})").status().code() == absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(set->Match(R"({"ab": tru})").ok());
  EXPECT_FALSE(set->Match(R"({"ab": nul})").ok());
}

TEST(RuleSet, ManyRulesOnOneField) {
  // 3,000 exact rules, prefixes of several lengths, ignore-case and numeric ranges on one field.
  RuleSetBuilder builder;
  RuleId id = 0;
  for (int i = 0; i < 1000; ++i) {
    std::string v = std::to_string(i * 7);
    ASSERT_TRUE(builder.Add(id++, *ParsePattern(R"({"f": [")" + v + R"("]})")).ok());
    ASSERT_TRUE(builder.Add(id++, *ParsePattern(R"({"f": [{"prefix": ")" + v + R"("}]})")).ok());
    ASSERT_TRUE(builder
                    .Add(id++, *ParsePattern(R"({"n": [{"numeric": [">", )" + v + R"(, "<=", )" +
                                             std::to_string(i * 7 + 3) + "]}]}"))
                    .ok());
  }
  auto set = builder.Build();
  auto ids = set->Match(R"({"f": "7000", "n": 7002})");
  ASSERT_TRUE(ids.ok());
  // Exact "7000" would be i = 1000 (absent). Prefixes of "7000": "7", "70", "700" (i = 1, 10,
  // 100). The numeric range containing 7002 would be i = 1000 (absent).
  std::vector<RuleId> want = {1 * 3 + 1, 10 * 3 + 1, 100 * 3 + 1};
  EXPECT_EQ(*ids, want);
  EXPECT_EQ(set->rule_count(), 3000u);
}

TEST(RuleSet, NumericRangeIndexAgreesWithInterpreter) {
  // Many overlapping, nested, open, closed and one-sided ranges on one field (the range index:
  // binary search on lower bounds, then a scan bounded by the running maximum of upper bounds).
  uint64_t x = 0x9E3779B97F4A7C15ull;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  auto number = [&] { return std::to_string(static_cast<int>(next() % 200) - 100); };
  std::vector<Pattern> patterns;
  RuleSetBuilder builder;
  for (int i = 0; i < 300; ++i) {
    std::string lo = number(), hi = number();
    if (std::stod(hi) < std::stod(lo)) std::swap(lo, hi);
    const char* lop = next() % 2 ? R"(">")" : R"(">=")";
    const char* hip = next() % 2 ? R"("<")" : R"("<=")";
    std::string range;
    switch (next() % 4) {
      case 0:
        range = std::string(lop) + ", " + lo;
        break;
      case 1:
        range = std::string(hip) + ", " + hi;
        break;
      default:
        range = std::string(lop) + ", " + lo + ", " + hip + ", " + hi;
        if (lo == hi) range = R"("=", )" + lo;
    }
    auto p = ParsePattern(R"({"n": [{"numeric": [)" + range + "]}]}");
    ASSERT_TRUE(p.ok()) << range;
    ASSERT_TRUE(builder.Add(patterns.size(), *p).ok());
    patterns.push_back(*std::move(p));
  }
  auto set = builder.Build();
  for (int v = -105; v <= 105; ++v) {
    for (const std::string& text : {std::to_string(v), std::to_string(v) + ".5"}) {
      const std::string event = R"({"n": )" + text + "}";
      auto got = set->Match(event);
      ASSERT_TRUE(got.ok());
      for (size_t i = 0; i < patterns.size(); ++i) {
        const bool matched = std::binary_search(got->begin(), got->end(), i);
        ASSERT_EQ(matched, *internal::InterpretJson(patterns[i], event, nullptr))
            << patterns[i].canonical() << " " << event;
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

TEST(RuleSet, ExactlyAndIpLiteralAreDifferentRules) {
  // Both print as "10.0.0.1" in canonical(), but only the IP literal matches other spellings of
  // the address: they must not be merged into one pattern.
  auto exactly = ParsePattern(R"({"a": [{"exactly": "10.0.0.1"}]})");
  auto ip = ParsePattern(R"({"a": ["10.0.0.1"]})");
  ASSERT_TRUE(exactly.ok() && ip.ok());
  RuleSetBuilder builder;
  ASSERT_TRUE(builder.Add(1, *exactly).ok());
  ASSERT_TRUE(builder.Add(2, *ip).ok());
  auto set = builder.Build();
  EXPECT_EQ(set->pattern_count(), 2u);
  EXPECT_EQ(*set->Match(R"({"a": "10.0.0.1"})"), (std::vector<RuleId>{1, 2}));
  EXPECT_EQ(*set->Match(R"({"a": "10.000.0.1"})"), std::vector<RuleId>{2});
  EXPECT_FALSE(*internal::InterpretJson(*exactly, R"({"a": "10.000.0.1"})", nullptr));
  EXPECT_TRUE(*internal::InterpretJson(*ip, R"({"a": "10.000.0.1"})", nullptr));
}

TEST(RuleSet, DuplicateDottedKeysLastWins) {
  // The nested "a": {"b": ...} between the two "a.b" keys must not hide the first "a.b" from
  // the duplicate check (found by the property test).
  auto p = ParsePattern(R"({"a.b": [{"anything-but": ["x"]}]})");
  RuleSetBuilder builder;
  ASSERT_TRUE(builder.Add(1, *p).ok());
  auto set = builder.Build();
  const std::string event = R"({"a.b": 1, "a": {"b": {}}, "a.b": "x"})";
  EXPECT_EQ(set->Match(event)->size(), 0u);
  EXPECT_FALSE(*internal::InterpretJson(*p, event, nullptr));
  EXPECT_EQ(set->Match(R"({"a.b": "x", "a": {"b": 2}, "a.b": "x"})")->size(), 1u);
}

TEST(RuleSet, MalformedEventsGetErrors) {
  // The walker reads simdjson's structural indexes itself: every visited object and array must
  // be well-formed, and so must the brackets of skipped values ("zz" is used by no rule).
  auto p = ParsePattern(R"({"a": ["x"], "b": {"c": [1]}})");
  RuleSetBuilder builder;
  ASSERT_TRUE(builder.Add(1, *p).ok());
  auto set = builder.Build();
  for (const char* event : {"",
                            "   ",
                            "{",
                            "}",
                            "[",
                            "\"a\"",
                            "1",
                            "null",
                            R"({"a": "x",})",
                            R"({"a" "x", "b": {"c": 1}})",
                            R"({"a": "x" "b": 1})",
                            R"({,"a": "x"})",
                            R"({"a": ["x",]})",
                            R"({"a": [,"x"]})",
                            R"({"a": ["x" "y"]})",
                            R"({"a": tru})",
                            R"({"a": nul})",
                            R"({"a": falsey})",
                            R"({"a": -})",
                            R"({"a": 01})",
                            R"({"a": 1.})",
                            R"({"a": 1e})",
                            R"({"a": 1x})",
                            R"({"a": .5})",
                            R"({"a": "x"} {})",
                            R"({"a": "x"}})",
                            R"({"a": "x"} 1)",
                            R"({"a": "\q"})",
                            R"({"a": "x")",
                            R"({"b": {"c": 1,}})",
                            R"({"b": {"c": 1})",
                            R"({"b": {"c" 1}})",
                            R"({"zz": , "a": "x"})",
                            R"({"zz": })",
                            R"({"zz": {"q": [1, 2}, "a": "x"})",
                            R"({"zz": [[[1]], "a": "x"})",
                            R"({"a": :})",
                            R"({"a": "x", "zz": ]})",
                            R"({"a\q": "x"})",
                            R"({"a": "x", : 1})",
                            R"({"a": ["x"]]})"}) {
    EXPECT_FALSE(set->Match(event).ok()) << event;
  }
  // Escapes in keys and values are decoded (a decoded dot splits the key).
  EXPECT_EQ(set->Match(R"({"a": "\u0078", "b\u002ec": 1})")->size(), 1u);
  EXPECT_EQ(set->Match(R"({"\u0061": ["y", "\u0078"], "b": {"\u0063": [2, 1]}})")->size(), 1u);
  EXPECT_EQ(set->Match(R"({"a": "\"x", "b": {"c": 1}})")->size(), 0u);
  // Skipped values may hold anything well-bracketed, including brackets inside strings.
  EXPECT_EQ(
      set->Match(R"({"zz": [{"]": "}"}, [], {}], "a": "x", "b": {"c": 1, "d": [[]]}})")->size(),
      1u);
  EXPECT_EQ(set->Match(R"( {"a": "x", "b": {"c": 1}} )")->size(), 1u);
  EXPECT_EQ(set->Match(R"({"a": "x", "b": {"c": 1.0e0}})")->size(), 1u);
  EXPECT_EQ(set->Match(R"({"a": "x", "b": {"c": [-0.5E+3, 10E-1]}})")->size(), 1u);
}

}  // namespace
}  // namespace klaxon::events::pattern
