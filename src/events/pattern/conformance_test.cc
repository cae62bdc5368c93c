// Runs every case of ../shared/conformance/event-patterns/*.jsonl (relative to the repo root,
// $KLAXON_SOURCE_DIR) through the parser, the reference interpreter and the compiled RuleSet.

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "events/pattern/interpreter.h"
#include "events/pattern/json.h"
#include "events/pattern/pattern.h"
#include "events/pattern/rule_set.h"
#include "gtest/gtest.h"

namespace klaxon::events::pattern {
namespace {

using internal::JsonType;
using internal::JsonValue;

struct Case {
  std::string name;
  std::string pattern;
  std::string event;
  std::optional<bool> match;       // nullopt: the pattern is invalid
  std::string error;               // event-ruler's message, without the exception class
  std::optional<std::string> aws;  // "true", "false", "invalid"
};

std::string ConformanceDir() {
  const char* root = std::getenv("KLAXON_SOURCE_DIR");
  std::string base = root ? root : ".";
  return base + "/../shared/conformance/event-patterns/";
}

std::vector<Case> LoadCases(const std::string& file) {
  std::ifstream in(ConformanceDir() + file);
  EXPECT_TRUE(in.good()) << "cannot open " << ConformanceDir() + file;
  std::vector<Case> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto doc = internal::ParseJson(line);
    EXPECT_TRUE(doc.ok()) << doc.status();
    if (!doc.ok()) continue;
    Case c;
    for (const auto& [key, v] : doc->members) {
      if (key == "name") c.name = v.text;
      if (key == "pattern") c.pattern = v.text;
      if (key == "event") c.event = v.text;
      if (key == "match" && v.type != JsonType::kNull) c.match = v.type == JsonType::kTrue;
      if (key == "er_error") {
        size_t colon = v.text.find(": ");
        c.error = colon == std::string::npos ? v.text : v.text.substr(colon + 2);
      }
      if (key == "aws") {
        c.aws = v.type == JsonType::kString ? v.text : v.type == JsonType::kTrue ? "true" : "false";
      }
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

// Returns an empty string if the case passes, else a description of the failure.
std::string Check(const Case& c, const ParseOptions& options, std::optional<bool> want,
                  const std::string& want_error) {
  auto p = ParsePattern(c.pattern, options);
  if (!want.has_value()) {
    if (p.ok()) {
      // A few recorded errors come from the event, not the pattern: then the event must be
      // rejected with that message.
      auto r = internal::InterpretJson(*p, c.event, nullptr);
      if (r.ok()) return "accepted an invalid pattern: " + c.pattern;
      if (std::string(r.status().message()) != want_error) {
        return "event error \"" + std::string(r.status().message()) + "\", want \"" + want_error +
               "\"";
      }
      return "";
    }
    if (!want_error.empty() && std::string(p.status().message()) != want_error) {
      return "message \"" + std::string(p.status().message()) + "\", want \"" + want_error + "\"";
    }
    return "";
  }
  if (!p.ok()) return "rejected: " + std::string(p.status().message()) + " pattern " + c.pattern;
  auto r = internal::InterpretJson(*p, c.event, nullptr);
  if (!r.ok()) return "interpreter error: " + std::string(r.status().message());
  if (*r != *want) {
    return std::string("interpreter says ") + (*r ? "true" : "false") + "; pattern " + c.pattern +
           " event " + c.event;
  }
  auto m = MatchesOne(*p, c.event);
  if (!m.ok()) return "compiled matcher error: " + std::string(m.status().message());
  if (*m != *want) {
    return std::string("compiled matcher says ") + (*m ? "true" : "false") + "; pattern " +
           c.pattern + " event " + c.event;
  }
  return "";
}

void RunFile(const std::string& file) {
  std::vector<Case> cases = LoadCases(file);
  ASSERT_FALSE(cases.empty());
  int failures = 0;
  for (const Case& c : cases) {
    std::string f = Check(c, LibraryParseOptions(), c.match, c.error);
    if (!f.empty()) {
      ++failures;
      ADD_FAILURE() << file << " " << c.name << ": " << f;
    }
    // The service-level options must reproduce what AWS recorded, where it did.
    if (c.aws) {
      std::optional<bool> want;
      if (*c.aws != "invalid") want = *c.aws == "true";
      std::string g = Check(c, ParseOptions(), want, want ? "" : (c.match ? "" : c.error));
      if (!g.empty()) {
        ++failures;
        ADD_FAILURE() << file << " " << c.name << " (AWS): " << g;
      }
    }
  }
  EXPECT_EQ(failures, 0) << "of " << cases.size() << " cases";
}

// All valid patterns of a file compiled into one RuleSet: every case's rule must be reported
// exactly when the case expects a match, whatever the other rules are.
void RunFileAsOneSet(const std::string& file) {
  std::vector<Case> cases = LoadCases(file);
  RuleSetBuilder builder;
  std::vector<const Case*> added;
  for (const Case& c : cases) {
    if (!c.match) continue;
    auto p = ParsePattern(c.pattern, LibraryParseOptions());
    ASSERT_TRUE(p.ok()) << c.name;
    ASSERT_TRUE(builder.Add(added.size(), *p).ok());
    added.push_back(&c);
  }
  auto set = builder.Build();
  int failures = 0;
  for (size_t i = 0; i < added.size(); ++i) {
    auto ids = set->Match(added[i]->event);
    ASSERT_TRUE(ids.ok()) << added[i]->name << ": " << ids.status();
    bool got = std::binary_search(ids->begin(), ids->end(), i);
    if (got != *added[i]->match && ++failures < 20) {
      ADD_FAILURE() << file << " " << added[i]->name << ": in a set of " << added.size()
                    << " rules, got " << got;
    }
  }
  EXPECT_EQ(failures, 0);
  // Removing every other rule leaves the rest intact.
  for (size_t i = 0; i < added.size(); i += 2) ASSERT_TRUE(builder.Remove(i));
  auto half = builder.Build();
  for (size_t i = 1; i < added.size(); i += 2) {
    auto ids = half->Match(added[i]->event);
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(std::binary_search(ids->begin(), ids->end(), i), *added[i]->match) << added[i]->name;
    for (RuleId id : *ids) EXPECT_EQ(id % 2, 1u);
  }
}

TEST(Conformance, Curated) { RunFile("conformance.jsonl"); }
TEST(Conformance, CuratedAsOneRuleSet) { RunFileAsOneSet("conformance.jsonl"); }
TEST(Conformance, FullAsOneRuleSet) { RunFileAsOneSet("conformance-full.jsonl"); }
TEST(Conformance, Full) { RunFile("conformance-full.jsonl"); }
TEST(Conformance, Invalid) { RunFile("conformance-invalid.jsonl"); }

}  // namespace
}  // namespace klaxon::events::pattern
