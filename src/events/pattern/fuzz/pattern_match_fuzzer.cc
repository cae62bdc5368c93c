// libFuzzer target: matching. The input is "PATTERN\nPATTERN\n...\nEVENT" (one to 16 patterns,
// the last line is the event); every pattern is compiled into one RuleSet, and its result for
// each rule must agree with the reference interpreter (rules sharing conditions and branches
// must not influence each other); hostile events must produce errors, never crashes.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "events/pattern/interpreter.h"
#include "events/pattern/pattern.h"
#include "events/pattern/rule_set.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace ep = klaxon::events::pattern;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> lines;
  while (true) {
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) break;
    lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  if (lines.empty() || lines.size() > 16) return 0;
  std::string_view event = text;
  std::vector<ep::Pattern> patterns;
  ep::RuleSetBuilder builder;
  for (std::string_view line : lines) {
    auto p = ep::ParsePattern(line, ep::LibraryParseOptions());
    if (!p.ok()) continue;
    if (!builder.Add(patterns.size(), *p).ok()) return 0;
    patterns.push_back(*std::move(p));
  }
  if (patterns.empty()) return 0;
  auto set = builder.Build();
  auto got = set->Match(event);
  for (size_t i = 0; i < patterns.size(); ++i) {
    auto want = ep::internal::InterpretJson(patterns[i], event, nullptr);
    // simdjson and the reference reader may disagree on malformed JSON; compare valid events.
    if (!got.ok() || !want.ok()) continue;
    bool matched = false;
    for (ep::RuleId id : *got) matched = matched || id == i;
    if (matched != *want) __builtin_trap();
  }
  return 0;
}
