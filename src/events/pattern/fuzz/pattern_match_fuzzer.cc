// libFuzzer target: matching. The input is "PATTERN\nEVENT"; the compiled RuleSet must agree with
// the reference interpreter, and hostile events must produce errors, never crashes.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "events/pattern/interpreter.h"
#include "events/pattern/pattern.h"
#include "events/pattern/rule_set.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace ep = klaxon::events::pattern;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t nl = text.find('\n');
  if (nl == std::string_view::npos) return 0;
  auto p = ep::ParsePattern(text.substr(0, nl), ep::LibraryParseOptions());
  if (!p.ok()) return 0;
  std::string_view event = text.substr(nl + 1);
  ep::RuleSetBuilder builder;
  if (!builder.Add(7, *p).ok()) return 0;
  auto set = builder.Build();
  auto got = set->Match(event);
  auto want = ep::internal::InterpretJson(*p, event, nullptr);
  // simdjson and the reference reader may disagree on malformed JSON; compare valid events only.
  if (got.ok() && want.ok() && (!got->empty()) != *want) __builtin_trap();
  return 0;
}
