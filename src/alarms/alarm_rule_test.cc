#include "alarms/alarm_rule.h"

#include <map>

#include "gtest/gtest.h"

namespace klaxon::alarms {
namespace {

bool Eval(const std::string& rule, const std::map<std::string, StateValue>& states) {
  auto parsed = AlarmRule::Parse(rule);
  EXPECT_TRUE(parsed.ok()) << rule << ": " << parsed.status();
  if (!parsed.ok()) return false;
  return parsed->Evaluate([&](const std::string& name) -> std::optional<StateValue> {
    auto it = states.find(name);
    if (it == states.end()) return std::nullopt;
    return it->second;
  });
}

TEST(AlarmRule, Operators) {
  std::map<std::string, StateValue> s = {{"cpu", StateValue::kAlarm},
                                         {"mem", StateValue::kOk},
                                         {"disk full", StateValue::kInsufficientData}};
  EXPECT_TRUE(Eval("ALARM(cpu)", s));
  EXPECT_FALSE(Eval("ALARM(mem)", s));
  EXPECT_TRUE(Eval("OK(mem)", s));
  EXPECT_TRUE(Eval("INSUFFICIENT_DATA(\"disk full\")", s));
  EXPECT_TRUE(Eval("ALARM(cpu) AND OK(mem)", s));
  EXPECT_FALSE(Eval("ALARM(cpu) AND ALARM(mem)", s));
  EXPECT_TRUE(Eval("ALARM(mem) OR ALARM(cpu)", s));
  EXPECT_TRUE(Eval("NOT ALARM(mem)", s));
  EXPECT_TRUE(Eval("(ALARM(cpu) OR ALARM(mem)) AND NOT (OK(cpu))", s));
  EXPECT_TRUE(Eval("TRUE", s));
  EXPECT_FALSE(Eval("FALSE OR ALARM(unknown)", s));
  // AND binds tighter than OR.
  EXPECT_TRUE(Eval("ALARM(cpu) OR ALARM(mem) AND FALSE", s));
  EXPECT_TRUE(Eval("ALARM(arn:aws:cloudwatch:us-east-1:1:alarm:cpu) OR ALARM(cpu)", s));
}

TEST(AlarmRule, References) {
  auto rule = AlarmRule::Parse("ALARM(a) OR (OK(\"b c\") AND ALARM(a))");
  ASSERT_TRUE(rule.ok());
  EXPECT_EQ(rule->references(), (std::vector<std::string>{"a", "b c"}));
  EXPECT_EQ(ResolveAlarmReference("x", "us-east-1", "1"), "x");
  EXPECT_EQ(ResolveAlarmReference("arn:aws:cloudwatch:us-east-1:1:alarm:x", "us-east-1", "1"), "x");
  EXPECT_FALSE(ResolveAlarmReference("arn:aws:cloudwatch:eu-west-1:1:alarm:x", "us-east-1", "1"));
}

TEST(AlarmRule, Errors) {
  for (const char* bad : {"", "ALARM", "ALARM()", "ALARM(a", "ALARM(a) AND", "alarm(a)",
                          "ALARM(a) XOR ALARM(b)", "(ALARM(a)", "ALARM(\"a)", "NOT"}) {
    EXPECT_FALSE(AlarmRule::Parse(bad).ok()) << bad;
  }
  std::string deep(1000, '(');
  deep += "TRUE" + std::string(1000, ')');
  EXPECT_FALSE(AlarmRule::Parse(deep).ok());
  std::string nots;
  for (int i = 0; i < 1000; ++i) nots += "NOT ";
  EXPECT_FALSE(AlarmRule::Parse(nots + "TRUE").ok());
}

}  // namespace
}  // namespace klaxon::alarms
