#include "api/model/validator.h"

#include <memory>
#include <string>

#include "api/model/model_registry.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::api::model {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

constexpr const char* kTestModel = R"({
  "metadata": {"protocol": "json", "targetPrefix": "Test", "jsonVersion": "1.1"},
  "shapes": {
    "Input": {"type": "structure", "required": ["Name"], "members": {
      "Name": {"shape": "Name"},
      "Count": {"shape": "Count"},
      "Ratio": {"shape": "Ratio"},
      "Big": {"shape": "Big"},
      "Flag": {"shape": "Flag"},
      "When": {"shape": "When"},
      "Color": {"shape": "Color"},
      "Items": {"shape": "Items"},
      "Tags": {"shape": "Tags"},
      "Choice": {"shape": "Choice"},
      "Nested": {"shape": "Input"},
      "Secret": {"shape": "Secret"},
      "Data": {"shape": "Data"},
      "Things": {"shape": "Things"}
    }},
    "Name": {"type": "string", "min": 1, "max": 5, "pattern": "^[a-z]+$"},
    "Count": {"type": "integer", "min": 1, "max": 10},
    "Ratio": {"type": "double", "min": 0.5},
    "Big": {"type": "long"},
    "Flag": {"type": "boolean"},
    "When": {"type": "timestamp"},
    "Color": {"type": "string", "enum": ["RED", "GREEN"]},
    "Items": {"type": "list", "member": {"shape": "Name"}, "min": 1, "max": 2},
    "Tags": {"type": "map", "key": {"shape": "TagKey"}, "value": {"shape": "Name"}, "max": 2},
    "TagKey": {"type": "string", "min": 1, "pattern": "^(?!aws:)[a-z:]+$"},
    "Choice": {"type": "structure", "union": true, "members": {
      "a": {"shape": "Name"}, "b": {"shape": "Count"}}},
    "Secret": {"type": "string", "max": 2, "sensitive": true},
    "Data": {"type": "blob", "max": 3},
    "Things": {"type": "list", "member": {"shape": "Thing"}},
    "Thing": {"type": "structure", "required": ["Name"], "members": {"Name": {"shape": "Name"}}}
  }
})";

class ValidatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto parsed = ServiceModel::Parse("test", kTestModel);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    model_ = std::move(*parsed);
    input_ = model_->FindShape("Input");
  }

  // Validates `text`; returns "" when valid, else the error message.
  std::string Check(const std::string& text, ValidationOptions options = {}) {
    value_ = json::parse(text);
    absl::Status status = ValidateInput(*input_, value_, options);
    if (status.ok()) return "";
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(AwsErrorType(status).value_or(""), "ValidationException");
    return std::string(status.message());
  }

  std::unique_ptr<ServiceModel> model_;
  const Shape* input_ = nullptr;
  json::value value_;
};

TEST_F(ValidatorTest, AcceptsValidInput) {
  EXPECT_EQ(Check(R"({"Name":"abc","Count":3,"Ratio":1,"Flag":true,"Color":"RED",
      "Items":["a"],"Tags":{"k":"v"},"Choice":{"a":"x"},"Data":"YWI="})"),
            "");
}

TEST_F(ValidatorTest, RequiredMember) {
  EXPECT_EQ(Check(R"({})"),
            "1 validation error detected: Value null at 'Name' failed to satisfy constraint: "
            "Member must not be null");
  EXPECT_THAT(Check(R"({"Name":null})"), HasSubstr("Member must not be null"));
}

TEST_F(ValidatorTest, StringLengthAndPattern) {
  EXPECT_EQ(Check(R"({"Name":"abcdef"})"),
            "1 validation error detected: Value 'abcdef' at 'Name' failed to satisfy constraint: "
            "Member must have length less than or equal to 5");
  EXPECT_EQ(Check(R"({"Name":"AB"})"),
            "1 validation error detected: Value 'AB' at 'Name' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: ^[a-z]+$");
  EXPECT_THAT(Check(R"({"Name":""})"),
              HasSubstr("2 validation errors detected: Value '' at 'Name' failed to satisfy "
                        "constraint: Member must have length greater than or equal to 1; "));
}

TEST_F(ValidatorTest, LengthCountsUtf16CodeUnits) {
  EXPECT_THAT(Check(R"({"Name":"a","Secret":"\u00e9\u00e9"})"), "");  // 2 units, 4 bytes
  EXPECT_THAT(Check(R"({"Name":"a","Secret":"\ud83d\ude00x"})"),      // 3 units
              HasSubstr("Member must have length less than or equal to 2"));
}

TEST_F(ValidatorTest, SensitiveValuesAreNotEchoed) {
  EXPECT_EQ(Check(R"({"Name":"a","Secret":"xyz"})"),
            "1 validation error detected: Value at 'Secret' failed to satisfy constraint: "
            "Member must have length less than or equal to 2");
}

TEST_F(ValidatorTest, Enum) {
  EXPECT_EQ(Check(R"({"Name":"a","Color":"BLUE"})"),
            "1 validation error detected: Value 'BLUE' at 'Color' failed to satisfy constraint: "
            "Member must satisfy enum value set: [RED, GREEN]");
}

TEST_F(ValidatorTest, NumericRanges) {
  EXPECT_EQ(Check(R"({"Name":"a","Count":11})"),
            "1 validation error detected: Value '11' at 'Count' failed to satisfy constraint: "
            "Member must have value less than or equal to 10");
  EXPECT_THAT(Check(R"({"Name":"a","Count":0})"),
              HasSubstr("Member must have value greater than or equal to 1"));
  EXPECT_THAT(Check(R"({"Name":"a","Ratio":0.25})"),
              HasSubstr("Member must have value greater than or equal to 0.5"));
  EXPECT_THAT(Check(R"({"Name":"a","Count":3000000000})"), HasSubstr("Member must be an integer"));
  EXPECT_THAT(Check(R"({"Name":"a","Count":1.5})"), HasSubstr("Member must be an integer"));
  EXPECT_EQ(Check(R"({"Name":"a","Count":2.0,"Big":9007199254740993})"), "");
  EXPECT_TRUE(value_.at("Count").is_int64());
  EXPECT_EQ(value_.at("Big").as_int64(), 9007199254740993);
}

TEST_F(ValidatorTest, Types) {
  EXPECT_THAT(Check(R"({"Name":5})"), HasSubstr("Member must be a string"));
  EXPECT_THAT(Check(R"({"Name":"a","Count":"3"})"), HasSubstr("Member must be an integer"));
  EXPECT_THAT(Check(R"({"Name":"a","Flag":"true"})"), HasSubstr("Member must be a boolean"));
  EXPECT_THAT(Check(R"({"Name":"a","Items":"x"})"), HasSubstr("Member must be a list"));
  EXPECT_THAT(Check(R"({"Name":"a","Tags":[]})"), HasSubstr("Member must be a map"));
  EXPECT_THAT(Check(R"({"Name":"a","Nested":3})"), HasSubstr("Member must be a structure"));
  EXPECT_THAT(Check(R"({"Name":"a","Data":"!!"})"), HasSubstr("base64"));
  EXPECT_THAT(Check(R"({"Name":"a","When":true})"), HasSubstr("timestamp"));
  EXPECT_THAT(Check(R"([1])"), HasSubstr("at 'input'"));
}

TEST_F(ValidatorTest, TimestampsNormalizeToEpochSeconds) {
  EXPECT_EQ(Check(R"({"Name":"a","When":1704067200})"), "");
  EXPECT_TRUE(value_.at("When").is_double());
  EXPECT_DOUBLE_EQ(value_.at("When").as_double(), 1704067200.0);
  EXPECT_EQ(Check(R"({"Name":"a","When":1.7040672001E9})"), "");
  EXPECT_DOUBLE_EQ(value_.at("When").as_double(), 1704067200.1);
  EXPECT_EQ(Check(R"({"Name":"a","When":"2024-01-01T00:00:00Z"})"), "");
  EXPECT_DOUBLE_EQ(value_.at("When").as_double(), 1704067200.0);
  EXPECT_EQ(Check(R"({"Name":"a","When":"1704067200.5"})"), "");
  EXPECT_DOUBLE_EQ(value_.at("When").as_double(), 1704067200.5);
}

TEST_F(ValidatorTest, ListSizeAndNestedPaths) {
  EXPECT_EQ(Check(R"({"Name":"a","Items":[]})"),
            "1 validation error detected: Value '[]' at 'Items' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1");
  EXPECT_THAT(Check(R"({"Name":"a","Items":["a","b","c"]})"),
              HasSubstr("Member must have length less than or equal to 2"));
  EXPECT_EQ(Check(R"({"Name":"a","Items":["a","B"]})"),
            "1 validation error detected: Value 'B' at 'Items.2.member' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: ^[a-z]+$");
  EXPECT_EQ(Check(R"({"Name":"a","Things":[{"Name":"x"},{}]})"),
            "1 validation error detected: Value null at 'Things.2.member.Name' failed to "
            "satisfy constraint: Member must not be null");
  EXPECT_EQ(Check(R"({"Name":"a","Nested":{"Name":"a","Nested":{"Name":"ABC"}}})"),
            "1 validation error detected: Value 'ABC' at 'Nested.Nested.Name' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: ^[a-z]+$");
}

TEST_F(ValidatorTest, MapKeysValuesAndSize) {
  EXPECT_EQ(Check(R"({"Name":"a","Tags":{"aws:x":"v"}})"),
            "1 validation error detected: Value 'aws:x' at 'Tags' failed to satisfy constraint: "
            "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: "
            "^(?!aws:)[a-z:]+$]");
  EXPECT_EQ(Check(R"({"Name":"a","Tags":{"awsx":"v"}})"), "");
  EXPECT_EQ(Check(R"({"Name":"a","Tags":{"k":"VV"}})"),
            "1 validation error detected: Value 'VV' at 'Tags' failed to satisfy constraint: "
            "Map value must satisfy constraint: [Member must satisfy regular expression pattern: "
            "^[a-z]+$]");
  EXPECT_THAT(Check(R"({"Name":"a","Tags":{"a":"v","b":"v","c":"v"}})"),
              HasSubstr("Member must have length less than or equal to 2"));
}

TEST_F(ValidatorTest, UnionNeedsExactlyOneMember) {
  EXPECT_THAT(Check(R"({"Name":"a","Choice":{}})"),
              HasSubstr("at 'Choice' failed to satisfy constraint: Member must have exactly one "
                        "member set"));
  EXPECT_THAT(Check(R"({"Name":"a","Choice":{"a":"x","b":1}})"),
              HasSubstr("exactly one member set"));
  EXPECT_EQ(Check(R"({"Name":"a","Choice":{"a":"x","b":null}})"), "");
}

TEST_F(ValidatorTest, DropsUnknownMembersAndNulls) {
  EXPECT_EQ(Check(R"({"Name":"a","Unknown":1,"Count":null})"), "");
  EXPECT_EQ(json::serialize(value_), R"({"Name":"a"})");
}

TEST_F(ValidatorTest, LowerCamelPaths) {
  ValidationOptions options;
  options.lower_camel_paths = true;
  EXPECT_EQ(Check(R"({"Things":[{}]})", options),
            "2 validation errors detected: Value null at 'name' failed to satisfy constraint: "
            "Member must not be null; Value null at 'things.1.member.name' failed to satisfy "
            "constraint: Member must not be null");
}

TEST_F(ValidatorTest, CapsErrorsAndQuotedValues) {
  std::string items = "[";
  for (int i = 0; i < 50; ++i) items += std::string(i ? "," : "") + "{}";
  items += "]";
  ValidationOptions options;
  options.max_errors = 3;
  std::string message = Check(R"({"Name":"a","Things":)" + items + "}", options);
  EXPECT_THAT(message, HasSubstr("3 validation errors detected"));
  message = Check(R"({"Name":")" + std::string(10000, 'a') + "\"}");
  EXPECT_LT(message.size(), 500u);
}

TEST_F(ValidatorTest, BoundsNestingDepth) {
  std::string deep;
  for (int i = 0; i < 30; ++i) deep += R"({"Name":"a","Nested":)";
  deep += R"({"Name":"a"})";
  for (int i = 0; i < 30; ++i) deep += "}";
  ValidationOptions options;
  options.max_depth = 10;
  EXPECT_THAT(Check(deep, options), HasSubstr("nested more than 10 levels"));
  EXPECT_EQ(Check(deep), "");
}

TEST(ValidateInput, RealModelStartIncident) {
  const ServiceModel* m = ModelRegistry::Embedded().Find("ssm-incidents");
  const Shape& input = *m->FindOperation("StartIncident")->input;
  json::value v = json::parse(R"({"responsePlanArn":"x","impact":7,"title":"t"})");
  absl::Status status = ValidateInput(input, v);
  EXPECT_EQ(std::string(status.message()),
            "2 validation errors detected: Value '7' at 'impact' failed to satisfy constraint: "
            "Member must have value less than or equal to 5; Value 'x' at 'responsePlanArn' "
            "failed to satisfy constraint: Member must satisfy regular expression pattern: "
            "^arn:aws(-cn|-us-gov)?:[a-z0-9-]*:[a-z0-9-]*:([0-9]{12})?:.+$");

  v = json::parse(R"({"responsePlanArn":"arn:aws:ssm-incidents::111122223333:response-plan/p",
      "triggerDetails":{"source":"aws.cloudwatch","timestamp":1704067200,"rawData":")" +
                  std::string(9000, 'x') + R"("},
      "relatedItems":[{"identifier":{"type":"METRIC","value":{"arn":"arn:aws:cloudwatch:us-east-1:111122223333:alarm:a"}}}]})");
  EXPECT_TRUE(ValidateInput(input, v).ok());  // rawData up to 10000 (override)

  v = json::parse(R"({"responsePlanArn":"arn:aws:ssm-incidents::111122223333:response-plan/p",
      "relatedItems":[{"identifier":{"type":"METRIC","value":{}}}]})");
  EXPECT_THAT(std::string(ValidateInput(input, v).message()),
              HasSubstr("at 'relatedItems.1.member.identifier.value' failed to satisfy "
                        "constraint: Member must have exactly one member set"));
}

TEST(ShapeOutput, DropsEmptyUnionsNullsAndUnknownMembers) {
  const ServiceModel* m = ModelRegistry::Embedded().Find("ssm-incidents");
  const Shape& output = *m->FindOperation("GetResponsePlan")->output;
  json::value v = json::parse(R"({"arn":"a","name":"n","chatChannel":{},"displayName":null,
      "bogus":1,"incidentTemplate":{"title":"t","impact":1,"notificationTargets":[{}]}})");
  ShapeOutput(output, v);
  EXPECT_EQ(
      json::serialize(v),
      R"({"arn":"a","name":"n","incidentTemplate":{"title":"t","impact":1,"notificationTargets":[]}})");
}

TEST(ShapeOutput, TimestampsBecomeNumbers) {
  const ServiceModel* m = ModelRegistry::Embedded().Find("ssm-incidents");
  const Shape& output = *m->FindOperation("GetTimelineEvent")->output;
  json::value v = json::parse(
      R"({"event":{"eventTime":"2024-01-01T00:00:00Z","eventUpdatedTime":1704067200}})");
  ShapeOutput(output, v);
  EXPECT_TRUE(v.at("event").at("eventTime").is_double());
  EXPECT_DOUBLE_EQ(v.at("event").at("eventTime").as_double(), 1704067200.0);
  EXPECT_TRUE(v.at("event").at("eventUpdatedTime").is_double());
}

}  // namespace
}  // namespace klaxon::api::model
