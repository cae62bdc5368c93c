// libFuzzer target: the AlarmRule parser and evaluator on arbitrary text (PutCompositeAlarm input).
#include <cstddef>
#include <cstdint>
#include <string>

#include "alarms/alarm_rule.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto rule = klaxon::alarms::AlarmRule::Parse(text);
  if (rule.ok()) {
    (void)rule->Evaluate([](const std::string& name) -> std::optional<klaxon::alarms::StateValue> {
      if (name.size() % 3 == 0) return std::nullopt;
      return name.size() % 3 == 1 ? klaxon::alarms::StateValue::kAlarm
                                  : klaxon::alarms::StateValue::kOk;
    });
  }
  return 0;
}
