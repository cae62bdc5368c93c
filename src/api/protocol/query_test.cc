#include "api/protocol/query.h"

#include "api/model/model_registry.h"
#include "api/protocol/wire_text.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::api::protocol {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

class QueryTest : public ::testing::Test {
 protected:
  const model::ServiceModel& Service(std::string_view name) {
    return *model::ModelRegistry::Embedded().Find(name);
  }

  absl::StatusOr<json::object> Decode(std::string_view service, std::string body,
                                      std::string target = "/") {
    HttpRequest r;
    r.method = "POST";
    r.target = std::move(target);
    r.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    r.body = std::move(body);
    std::string action;
    for (auto& [k, v] : ParseQuery(r.body)) {
      if (k == "Action") action = v;
    }
    auto op = codec_.ResolveOperation(r, Service(service), action);
    if (!op.ok()) return op.status();
    return codec_.DecodeInput(r, Service(service), **op);
  }

  QueryCodec codec_;
};

TEST_F(QueryTest, DecodesPutMetricAlarmAsTheCliSendsIt) {
  auto input = Decode(
      "cloudwatch",
      "Action=PutMetricAlarm&Version=2010-08-01&AlarmName=cpu-high&AlarmActions.member.1=arn%3Aaws"
      "%3Assm-incidents%3A%3A111122223333%3Aresponseplan%2Fmyplan&MetricName=CPUUtilization&"
      "Namespace=AWS%2FEC2&Statistic=Average&Dimensions.member.1.Name=InstanceId&Dimensions.member"
      ".1.Value=i-123&Period=60&EvaluationPeriods=3&DatapointsToAlarm=2&Threshold=80.0&"
      "ComparisonOperator=GreaterThanThreshold&TreatMissingData=notBreaching&Tags.member.1.Key=a&"
      "Tags.member.1.Value=b");
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(json::value(*input), json::parse(R"({
      "AlarmName":"cpu-high",
      "AlarmActions":["arn:aws:ssm-incidents::111122223333:responseplan/myplan"],
      "MetricName":"CPUUtilization","Namespace":"AWS/EC2","Statistic":"Average",
      "Dimensions":[{"Name":"InstanceId","Value":"i-123"}],
      "Period":60,"EvaluationPeriods":3,"DatapointsToAlarm":2,"Threshold":80.0,
      "ComparisonOperator":"GreaterThanThreshold","TreatMissingData":"notBreaching",
      "Tags":[{"Key":"a","Value":"b"}]})"));
}

TEST_F(QueryTest, ListsInIndexOrderAndEmptyLists) {
  auto input = Decode("cloudwatch",
                      "Action=DescribeAlarms&AlarmNames.member.2=b&AlarmNames.member.10=c&"
                      "AlarmNames.member.1=a&StateValue=ALARM");
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(json::serialize(input->at("AlarmNames")), R"(["a","b","c"])");
  input = Decode("cloudwatch", "Action=DescribeAlarms&AlarmNames=");
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(json::serialize(input->at("AlarmNames")), "[]");
}

TEST_F(QueryTest, DecodesTimestampsAndMaps) {
  auto input =
      Decode("cloudwatch",
             "Action=PutMetricData&Version=2010-08-01&Namespace=MyApp&MetricData.member.1."
             "MetricName=Errors&MetricData.member.1.Value=3&MetricData.member.1.Unit=Count&"
             "MetricData.member.1.Timestamp=2024-01-01T00%3A00%3A00Z");
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(input->at("MetricData").at(0).at("Timestamp"), 1704067200.0);
  EXPECT_EQ(input->at("MetricData").at(0).at("Value"), 3.0);

  input =
      Decode("sns",
             "Action=CreateTopic&Version=2010-03-31&Name=im-topic&Attributes.entry.1.key="
             "DisplayName&Attributes.entry.1.value=IM&Tags.member.1.Key=a&Tags.member.1.Value=b");
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(json::value(*input), json::parse(R"({"Name":"im-topic",
      "Attributes":{"DisplayName":"IM"},"Tags":[{"Key":"a","Value":"b"}]})"));
}

TEST_F(QueryTest, MapsUseTheirKeyAndValueLocationNames) {
  auto input = Decode("sns",
                      "Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A"
                      "111122223333%3At&Message=hi&MessageAttributes.entry.1.Name=k&"
                      "MessageAttributes.entry.1.Value.DataType=String&"
                      "MessageAttributes.entry.1.Value.StringValue=v");
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(input->at("MessageAttributes"),
            json::parse(R"({"k":{"DataType":"String","StringValue":"v"}})"));
}

TEST_F(QueryTest, ValidatesWithLowerCamelPaths) {
  auto input = Decode("cloudwatch", "Action=DescribeAlarms&StateValue=NOPE");
  ASSERT_FALSE(input.ok());
  EXPECT_EQ(AwsErrorType(input.status()).value_or(""), "ValidationException");
  EXPECT_THAT(input.status().message(), HasSubstr("Value 'NOPE' at 'stateValue'"));
  input = Decode("cloudwatch", "Action=DescribeAlarms&MaxRecords=abc");
  ASSERT_FALSE(input.ok());
  EXPECT_THAT(input.status().message(), HasSubstr("Member must be an integer"));
}

TEST_F(QueryTest, RefusesHostileIndexesAndKeys) {
  auto input = Decode("cloudwatch", "Action=DescribeAlarms&AlarmNames.member.999999999=a");
  ASSERT_FALSE(input.ok());
  EXPECT_EQ(AwsErrorType(input.status()).value_or(""), "SerializationException");
  input = Decode("cloudwatch", "Action=DescribeAlarms&AlarmNames.member.x=a");
  ASSERT_FALSE(input.ok());
  std::string deep = "Action=DescribeAlarms&A";
  for (int i = 0; i < 100; ++i) deep += ".b";
  deep += "=1";
  input = Decode("cloudwatch", deep);
  ASSERT_FALSE(input.ok());
}

TEST_F(QueryTest, UnknownOrMissingAction) {
  auto input = Decode("cloudwatch", "Action=FlyToTheMoon");
  ASSERT_FALSE(input.ok());
  EXPECT_EQ(AwsErrorType(input.status()).value_or(""), "UnknownOperationException");
  input = Decode("cloudwatch", "Version=2010-08-01");
  ASSERT_FALSE(input.ok());
  // The action may also come in the URL.
  HttpRequest r;
  r.method = "POST";
  r.target = "/?Action=DescribeAlarms";
  auto op = codec_.ResolveOperation(r, Service("cloudwatch"), "");
  ASSERT_TRUE(op.ok());
  EXPECT_EQ((*op)->name, "DescribeAlarms");
}

TEST_F(QueryTest, EncodesOutputWithResultWrapper) {
  const model::ServiceModel& cw = Service("cloudwatch");
  HttpResponse r;
  codec_.EncodeOutput(cw, *cw.FindOperation("DescribeAlarms"),
                      json::parse(R"({
      "MetricAlarms":[{"AlarmName":"cpu-high","StateValue":"ALARM","ActionsEnabled":true,
        "AlarmActions":["arn:aws:ssm-incidents::111122223333:responseplan/myplan"],
        "StateUpdatedTimestamp":1704067200,"Threshold":80.5,"Period":60,
        "Dimensions":[{"Name":"InstanceId","Value":"i-<1>"}]}],
      "CompositeAlarms":[]})")
                          .as_object(),
                      "req-1", &r);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.at(0).second, "text/xml");
  EXPECT_EQ(r.body,
            "<DescribeAlarmsResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">"
            "<DescribeAlarmsResult><CompositeAlarms></"
            "CompositeAlarms><MetricAlarms><member><AlarmName>cpu-high</AlarmName>"
            "<ActionsEnabled>true</ActionsEnabled><AlarmActions><member>arn:aws:ssm-incidents::"
            "111122223333:responseplan/myplan</member></AlarmActions><StateValue>ALARM</StateValue>"
            "<StateUpdatedTimestamp>2024-01-01T00:00:00.000Z</StateUpdatedTimestamp>"
            "<Dimensions><member><Name>InstanceId</Name><Value>i-&lt;1&gt;</Value></member>"
            "</Dimensions><Period>60</Period><Threshold>80.5</Threshold></member></MetricAlarms>"
            "</DescribeAlarmsResult><ResponseMetadata>"
            "<RequestId>req-1</RequestId></ResponseMetadata></DescribeAlarmsResponse>");
}

TEST_F(QueryTest, EncodesOperationsWithoutOutputAndMaps) {
  const model::ServiceModel& cw = Service("cloudwatch");
  HttpResponse r;
  codec_.EncodeOutput(cw, *cw.FindOperation("PutMetricAlarm"), {}, "req-2", &r);
  EXPECT_EQ(r.body,
            "<PutMetricAlarmResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">"
            "<ResponseMetadata><RequestId>req-2</RequestId></ResponseMetadata>"
            "</PutMetricAlarmResponse>");
  const model::ServiceModel& sns = Service("sns");
  r = HttpResponse();
  codec_.EncodeOutput(sns, *sns.FindOperation("GetTopicAttributes"),
                      json::parse(R"({"Attributes":{"DisplayName":"IM"}})").as_object(), "r", &r);
  EXPECT_THAT(r.body, HasSubstr("<GetTopicAttributesResult><Attributes><entry><key>DisplayName"
                                "</key><value>IM</value></entry></Attributes>"
                                "</GetTopicAttributesResult>"));
}

}  // namespace
}  // namespace klaxon::api::protocol
