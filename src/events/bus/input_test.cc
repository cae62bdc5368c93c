#include "events/bus/input.h"

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::events {
namespace {

using ::testing::HasSubstr;

constexpr char kEvent[] =
    R"({"version":"0","id":"7bf73129-1428-4cd3-a780-95db273d1602","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"123456789012","time":"2015-11-11T21:29:54Z","region":"us-east-1","resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],"detail":{"instance-id":"i-0123456789","state":"RUNNING","n":3,"tags":{"a b":"x"}}})";

InputContext Context() {
  return InputContext{"arn:aws:events:us-east-2:123456789012:rule/example", "example",
                      absl::FromUnixSeconds(1447277394)};
}

Target WithTemplate(std::map<std::string, std::string> paths, std::string tmpl) {
  Target t;
  t.id = "t";
  t.arn = "https://example.com/hook";
  t.input_transformer = InputTransformer{std::move(paths), std::move(tmpl)};
  return t;
}

std::string Transform(const Target& t) {
  auto r = TransformInput(t, kEvent, Context());
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : "";
}

TEST(JsonPath, ParsesTheSupportedSubset) {
  EXPECT_TRUE(ParseJsonPath("$").ok());
  EXPECT_TRUE(ParseJsonPath("$.detail.instance-id").ok());
  EXPECT_TRUE(ParseJsonPath("$.resources[0]").ok());
  EXPECT_TRUE(ParseJsonPath("$.detail.tags['a b']").ok());
  EXPECT_FALSE(ParseJsonPath("detail").ok());
  EXPECT_FALSE(ParseJsonPath("$.detail.*").ok());
  EXPECT_FALSE(ParseJsonPath("$.resources[*]").ok());
  EXPECT_FALSE(ParseJsonPath("$.a[0").ok());
  EXPECT_FALSE(ParseJsonPath("$..a").ok());
}

TEST(TransformInput, WholeEventByDefault) {
  Target t;
  EXPECT_EQ(Transform(t), kEvent);
}

TEST(TransformInput, ConstantInput) {
  Target t;
  t.input = R"({"fixed":true})";
  EXPECT_EQ(Transform(t), R"({"fixed":true})");
}

TEST(TransformInput, InputPath) {
  Target t;
  t.input_path = "$.detail";
  EXPECT_EQ(Transform(t),
            R"({"instance-id":"i-0123456789","state":"RUNNING","n":3,"tags":{"a b":"x"}})");
  t.input_path = "$.resources[0]";
  EXPECT_EQ(Transform(t), R"("arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111")");
  t.input_path = "$.detail.missing";
  EXPECT_EQ(Transform(t), "null");
}

// The examples of the EventBridge user guide (eb-transform-target-input).
TEST(TransformInput, SimpleString) {
  auto t = WithTemplate({{"instance", "$.detail.instance-id"}, {"state", "$.detail.state"}},
                        R"("instance <instance> is in <state>")");
  EXPECT_EQ(Transform(t), R"("instance i-0123456789 is in RUNNING")");
}

TEST(TransformInput, SimpleJson) {
  auto t = WithTemplate({{"instance", "$.detail.instance-id"}, {"state", "$.detail.state"}},
                        "{\n  \"instance\" : <instance>,\n  \"state\": <state>\n}");
  EXPECT_EQ(Transform(t), R"({"instance":"i-0123456789","state":"RUNNING"})");
}

TEST(TransformInput, JsonWithStringsAndVariables) {
  auto t = WithTemplate(
      {{"instance", "$.detail.instance-id"}, {"state", "$.detail.state"}},
      R"({"instance" : <instance>, "state": "<state>", "instanceStatus": "instance \"<instance>\" is in <state>"})");
  EXPECT_EQ(
      Transform(t),
      R"({"instance":"i-0123456789","state":"RUNNING","instanceStatus":"instance \"i-0123456789\" is in RUNNING"})");
}

TEST(TransformInput, MixOfVariablesAndStaticValues) {
  auto t = WithTemplate(
      {{"instance", "$.detail.instance-id"}, {"state", "$.detail.state"}},
      R"({"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"})");
  EXPECT_EQ(Transform(t),
            R"({"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"})");
}

TEST(TransformInput, ReservedVariables) {
  auto t = WithTemplate(
      {{"instance", "$.detail.instance-id"}},
      R"({"instance": <instance>, "ruleArn": <aws.events.rule-arn>, "ruleName": <aws.events.rule-name>, "original": <aws.events.event>, "full": <aws.events.event.json>, "at": <aws.events.event.ingestion-time>})");
  std::string out = Transform(t);
  EXPECT_THAT(out, HasSubstr(R"("ruleArn":"arn:aws:events:us-east-2:123456789012:rule/example")"));
  EXPECT_THAT(out, HasSubstr(R"("ruleName":"example")"));
  EXPECT_THAT(out, HasSubstr(R"("original":{"version":"0")"));
  EXPECT_THAT(out, HasSubstr(R"("full":{"version":"0")"));
  EXPECT_THAT(out, HasSubstr(R"("at":"2015-11-11T21:29:54.000Z")"));
  // aws.events.event is the event without its detail.
  EXPECT_THAT(
      out,
      HasSubstr(
          R"("resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"]},"full")"));
}

TEST(TransformInput, ReservedVariableInAString) {
  auto t = WithTemplate({}, R"("<aws.events.rule-name> triggered")");
  EXPECT_EQ(Transform(t), R"("example triggered")");
}

TEST(TransformInput, TextTemplate) {
  auto t = WithTemplate({{"instance", "$.detail.instance-id"}, {"n", "$.detail.n"}},
                        "<instance> has <n> cores; <unknown> stays");
  EXPECT_EQ(Transform(t), "i-0123456789 has 3 cores; <unknown> stays");
}

TEST(TransformInput, MissingPaths) {
  auto t = WithTemplate({{"gone", "$.detail.nope"}}, R"({"a": <gone>, "b": "x<gone>y"})");
  EXPECT_EQ(Transform(t), R"({"a":null,"b":"xy"})");
}

TEST(TransformInput, ObjectsAndEscapingStayValidJson) {
  auto t = WithTemplate({{"tags", "$.detail.tags"}, {"quote", "$.detail.tags['a b']"}},
                        R"({"tags": <tags>, "s": "v=<tags>"})");
  EXPECT_EQ(Transform(t), R"({"tags":{"a b":"x"},"s":"v={\"a b\":\"x\"}"})");
}

TEST(ValidateTargetInput, Rules) {
  Target t;
  EXPECT_TRUE(ValidateTargetInput(t).ok());
  t.input = "{}";
  t.input_path = "$.detail";
  EXPECT_THAT(std::string(ValidateTargetInput(t).message()), HasSubstr("Only one of"));
  t.input_path.reset();
  t.input = "{not json";
  EXPECT_FALSE(ValidateTargetInput(t).ok());
  t = WithTemplate({{"aws.events.rule-arn", "$.x"}}, "<x>");
  EXPECT_THAT(std::string(ValidateTargetInput(t).message()), HasSubstr("reserved"));
  t = WithTemplate({{"x", "$.detail[*]"}}, "<x>");
  EXPECT_FALSE(ValidateTargetInput(t).ok());
  t = WithTemplate({{"x", "$.detail.state"}}, "<x>");
  EXPECT_TRUE(ValidateTargetInput(t).ok());
}

}  // namespace
}  // namespace klaxon::events
