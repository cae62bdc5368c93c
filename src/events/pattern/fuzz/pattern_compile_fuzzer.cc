// libFuzzer target: ParsePattern and RuleSet compilation on arbitrary bytes. Invariants: no crash,
// no hang; an accepted pattern compiles, and its canonical form parses to the same canonical form.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "events/pattern/pattern.h"
#include "events/pattern/rule_set.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace ep = klaxon::events::pattern;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto p = ep::ParsePattern(text, ep::LibraryParseOptions());
  if (!p.ok()) return 0;
  ep::ParseOptions o = ep::LibraryParseOptions();
  o.max_depth = 1000;
  auto again = ep::ParsePattern(p->canonical(), o);
  if (!again.ok() || again->canonical() != p->canonical()) __builtin_trap();
  ep::RuleSetBuilder builder;
  if (!builder.Add(1, *p).ok()) __builtin_trap();
  builder.Remove(1);
  return 0;
}
