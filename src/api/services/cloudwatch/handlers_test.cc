// The CloudWatch handlers through the model: inputs validated by the Debian cloudwatch model
// (as the protocol layer does for every protocol), outputs shaped by it.

#include "api/services/cloudwatch/handlers.h"

#include <memory>

#include "api/model/model_registry.h"
#include "api/model/validator.h"
#include "boost/json.hpp"
#include "common/clock.h"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/memory_store.h"

namespace klaxon::api {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

constexpr char kAccount[] = "123456789012";

class CloudWatchHandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.Set(absl::FromUnixSeconds(1704067200));
    metrics_ = std::make_unique<alarms::MetricStore>(store_);
    alarms_ = std::make_unique<alarms::AlarmService>(store_, clock_, alarms::AlarmServiceOptions(),
                                                     alarms::AlarmDependencies());
    ASSERT_TRUE(alarms_->Load().ok());
    RegisterCloudWatchHandlers(table_, {*metrics_, *alarms_, clock_});
  }

  absl::StatusOr<json::object> Call(const std::string& op, json::value in) {
    const model::ServiceModel* cw = model::ModelRegistry::Embedded().Find("cloudwatch");
    EXPECT_NE(cw, nullptr);
    const model::Operation* operation = cw->FindOperation(op);
    EXPECT_NE(operation, nullptr) << op;
    if (operation->input) KLAXON_RETURN_IF_ERROR(model::ValidateInput(*operation->input, in));
    const Handler* handler = table_.Find("cloudwatch", op);
    EXPECT_NE(handler, nullptr) << op;
    CallContext ctx;
    ctx.caller.account_id = kAccount;
    ctx.caller.principal_arn = "arn:aws:iam::123456789012:root";
    ctx.caller.region = "us-east-1";
    ctx.service = "cloudwatch";
    ctx.operation = op;
    KLAXON_ASSIGN_OR_RETURN(json::object out, (*handler)(ctx, in.as_object()));
    json::value shaped = out;
    if (operation->output) model::ShapeOutput(*operation->output, shaped);
    return shaped.as_object();
  }

  static std::string Type(const absl::Status& s) { return AwsErrorType(s).value_or(""); }

  storage::MemoryStore store_;
  SimulatedClock clock_;
  std::unique_ptr<alarms::MetricStore> metrics_;
  std::unique_ptr<alarms::AlarmService> alarms_;
  OperationTable table_;
};

TEST_F(CloudWatchHandlersTest, EveryOperationIsRegistered) {
  for (const char* op :
       {"PutMetricData", "GetMetricStatistics", "GetMetricData", "ListMetrics", "PutMetricAlarm",
        "PutCompositeAlarm", "DescribeAlarms", "DescribeAlarmsForMetric", "DeleteAlarms",
        "SetAlarmState", "DescribeAlarmHistory", "EnableAlarmActions", "DisableAlarmActions",
        "TagResource", "UntagResource", "ListTagsForResource"}) {
    EXPECT_NE(table_.Find("cloudwatch", op), nullptr) << op;
  }
}

TEST_F(CloudWatchHandlersTest, PutMetricDataAndStatistics) {
  const double t = 1704067200 - 600;
  ASSERT_TRUE(
      Call(
          "PutMetricData",
          json::parse(
              R"j({"Namespace":"MyApp","MetricData":[
      {"MetricName":"Latency","Dimensions":[{"Name":"Svc","Value":"api"}],"Timestamp":)j" +
              std::to_string(t) + R"j(,"Value":10,"Unit":"Milliseconds"},
      {"MetricName":"Latency","Dimensions":[{"Name":"Svc","Value":"api"}],"Timestamp":)j" +
              std::to_string(t + 1) + R"j(,"Values":[20,30],"Counts":[1,2],"Unit":"Milliseconds"},
      {"MetricName":"Latency","Dimensions":[{"Name":"Svc","Value":"api"}],"Timestamp":)j" +
              std::to_string(t + 2) +
              R"j(,"StatisticValues":{"SampleCount":2,"Sum":100,"Minimum":50,"Maximum":50},"Unit":"Milliseconds"}
      ]})j"))
          .ok());
  auto out = Call(
      "GetMetricStatistics",
      json::parse(
          R"j({"Namespace":"MyApp","MetricName":"Latency",
      "Dimensions":[{"Name":"Svc","Value":"api"}],"StartTime":)j" +
          std::to_string(t - 60) + R"j(,"EndTime":)j" + std::to_string(t + 240) +
          R"j(,"Period":300,"Statistics":["SampleCount","Sum","Average","Minimum","Maximum"],"ExtendedStatistics":["p50","p99"]})j"));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->at("Label"), "Latency");
  const json::array& dps = out->at("Datapoints").as_array();
  ASSERT_EQ(dps.size(), 1u);
  const json::object& dp = dps[0].as_object();
  EXPECT_EQ(dp.at("SampleCount").to_number<double>(), 6);
  EXPECT_EQ(dp.at("Sum").to_number<double>(), 190);
  EXPECT_EQ(dp.at("Minimum").to_number<double>(), 10);
  EXPECT_EQ(dp.at("Maximum").to_number<double>(), 50);
  EXPECT_EQ(dp.at("Unit"), "Milliseconds");
  EXPECT_EQ(dp.at("ExtendedStatistics").at("p50").to_number<double>(), 30);
  EXPECT_EQ(dp.at("ExtendedStatistics").at("p99").to_number<double>(), 50);

  auto listed = Call("ListMetrics", json::parse(R"j({"Namespace":"MyApp"})j"));
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->at("Metrics").as_array().size(), 1u);
  EXPECT_EQ(listed->at("Metrics").at(0).at("Dimensions").at(0).at("Value"), "api");
}

TEST_F(CloudWatchHandlersTest, PutMetricDataErrors) {
  auto s =
      Call("PutMetricData",
           json::parse(
               R"j({"Namespace":"A","MetricData":[{"MetricName":"m","Value":1,"Values":[1]}]})j"));
  EXPECT_EQ(Type(s.status()), "InvalidParameterCombinationException");
  s = Call("PutMetricData",
           json::parse(R"j({"Namespace":"A","MetricData":[{"MetricName":"m"}]})j"));
  EXPECT_EQ(Type(s.status()), "MissingRequiredParameterException");
  s = Call(
      "PutMetricData",
      json::parse(
          R"j({"Namespace":"A","MetricData":[{"MetricName":"m","Value":1,"StorageResolution":5}]})j"));
  EXPECT_EQ(Type(s.status()), "InvalidParameterValueException");
  s = Call(
      "PutMetricData",
      json::parse(
          R"j({"Namespace":"A","MetricData":[{"MetricName":"m","Values":[1,2],"Counts":[1]}]})j"));
  EXPECT_EQ(Type(s.status()), "InvalidParameterValueException");
  s = Call(
      "PutMetricData",
      json::parse(
          R"j({"Namespace":"A","MetricData":[{"MetricName":"m","Value":1,"Timestamp":1000}]})j"));
  EXPECT_EQ(Type(s.status()), "InvalidParameterValueException");
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("MetricData.member.1.Timestamp"));
  s = Call("PutMetricData",
           json::parse(R"j({"Namespace":"A","MetricData":[{"MetricName":"m","Value":1,
               "Dimensions":[{"Name":"d","Value":"1"},{"Name":"d","Value":"2"}]}]})j"));
  EXPECT_EQ(Type(s.status()), "InvalidParameterValueException");
  // Messages name the member path of the offending datum (built only for an error).
  s = Call("PutMetricData",
           json::parse(R"j({"Namespace":"A","MetricData":[{"MetricName":"m","Value":1},
               {"MetricName":"m","Values":[1,1e200]}]})j"));
  EXPECT_EQ(std::string(s.status().message()),
            "The value 1e+200 for parameter MetricData.member.2.Values.member.2 is invalid: values "
            "must be finite and within ±2^360.");
  s = Call("PutMetricData",
           json::parse(R"j({"Namespace":"A","MetricData":[{"MetricName":"m","Value":1},
               {"MetricName":"m","Value":1,
                "Dimensions":[{"Name":"d","Value":"1"},{"Name":"d","Value":"2"}]}]})j"));
  EXPECT_EQ(std::string(s.status().message()),
            "The collection MetricData.member.2.Dimensions must not contain duplicate dimension "
            "names (d).");
  s = Call("PutMetricData",
           json::parse(R"j({"Namespace":"A","MetricData":[{"MetricName":"m","Value":1,
               "Values":[1]}]})j"));
  EXPECT_EQ(std::string(s.status().message()),
            "The parameters MetricData.member.1.Value, MetricData.member.1.Values and "
            "MetricData.member.1.StatisticValues are mutually exclusive.");
  s = Call(
      "GetMetricStatistics",
      json::parse(
          R"j({"Namespace":"A","MetricName":"m","StartTime":0,"EndTime":100000000,"Period":60,"Statistics":["Sum"]})j"));
  EXPECT_EQ(Type(s.status()), "InvalidParameterCombinationException");
  s = Call("GetMetricStatistics",
           json::parse(
               R"j({"Namespace":"A","MetricName":"m","StartTime":0,"EndTime":60,"Period":60})j"));
  EXPECT_EQ(Type(s.status()), "InvalidParameterCombinationException");
  s = Call(
      "GetMetricStatistics",
      json::parse(
          R"j({"Namespace":"A","MetricName":"m","StartTime":0,"EndTime":60,"Period":60,"ExtendedStatistics":["tm90"]})j"));
  EXPECT_EQ(Type(s.status()), "InvalidParameterValueException");
}

TEST_F(CloudWatchHandlersTest, GetMetricDataWithMath) {
  const double t = 1704067200 - 180;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Call("PutMetricData", json::parse(R"j({"Namespace":"App","MetricData":[
          {"MetricName":"Errors","Timestamp":)j" + std::to_string(t + 60 * i) +
                                                  R"j(,"Value":)j" + std::to_string(i + 1) + R"j(},
          {"MetricName":"Requests","Timestamp":)j" +
                                                  std::to_string(t + 60 * i) +
                                                  R"j(,"Value":10}]})j"))
                    .ok());
  }
  auto out = Call("GetMetricData", json::parse(R"j({"StartTime":)j" + std::to_string(t) +
                                               R"j(,"EndTime":)j" + std::to_string(t + 180) + R"j(,
      "MetricDataQueries":[
        {"Id":"e","MetricStat":{"Metric":{"Namespace":"App","MetricName":"Errors"},"Period":60,"Stat":"Sum"},"ReturnData":false},
        {"Id":"r","MetricStat":{"Metric":{"Namespace":"App","MetricName":"Requests"},"Period":60,"Stat":"Sum"}},
        {"Id":"rate","Expression":"100 * e / r","Label":"Error rate"}],
      "ScanBy":"TimestampAscending"})j"));
  ASSERT_TRUE(out.ok()) << out.status();
  const json::array& results = out->at("MetricDataResults").as_array();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].at("Id"), "r");
  EXPECT_EQ(results[0].at("Label"), "Requests");
  EXPECT_EQ(results[1].at("Label"), "Error rate");
  EXPECT_EQ(results[1].at("StatusCode"), "Complete");
  const json::array& values = results[1].at("Values").as_array();
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[0].to_number<double>(), 10);
  EXPECT_EQ(values[2].to_number<double>(), 30);
  EXPECT_EQ(results[1].at("Timestamps").at(0).to_number<double>(), t);

  auto bad = Call("GetMetricData", json::parse(R"j({"StartTime":0,"EndTime":60,
      "MetricDataQueries":[{"Id":"x","Expression":"nope(1)"}]})j"));
  EXPECT_EQ(Type(bad.status()), "ValidationException");
}

TEST_F(CloudWatchHandlersTest, AlarmLifecycle) {
  ASSERT_TRUE(Call("PutMetricAlarm", json::parse(R"j({"AlarmName":"cpu-high",
      "AlarmActions":["arn:aws:ssm-incidents::123456789012:responseplan/myplan"],
      "MetricName":"CPUUtilization","Namespace":"AWS/EC2","Statistic":"Average",
      "Dimensions":[{"Name":"InstanceId","Value":"i-123"}],"Period":60,"EvaluationPeriods":3,
      "DatapointsToAlarm":2,"Threshold":80.0,"ComparisonOperator":"GreaterThanThreshold",
      "TreatMissingData":"notBreaching","Tags":[{"Key":"a","Value":"b"}]})j"))
                  .ok());
  auto described = Call("DescribeAlarms", json::parse(R"j({"AlarmNames":["cpu-high"]})j"));
  ASSERT_TRUE(described.ok()) << described.status();
  const json::object& alarm = described->at("MetricAlarms").at(0).as_object();
  EXPECT_EQ(alarm.at("AlarmArn"), "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu-high");
  EXPECT_EQ(alarm.at("StateValue"), "INSUFFICIENT_DATA");
  EXPECT_EQ(alarm.at("Threshold").to_number<double>(), 80);
  EXPECT_EQ(alarm.at("Dimensions").at(0).at("Name"), "InstanceId");
  EXPECT_EQ(alarm.at("TreatMissingData"), "notBreaching");
  EXPECT_TRUE(alarm.at("StateUpdatedTimestamp").is_double());
  EXPECT_TRUE(described->at("CompositeAlarms").as_array().empty());

  ASSERT_TRUE(Call("SetAlarmState", json::parse(R"j({"AlarmName":"cpu-high","StateValue":"ALARM",
      "StateReason":"test"})j"))
                  .ok());
  auto history = Call("DescribeAlarmHistory", json::parse(R"j({"AlarmName":"cpu-high",
      "HistoryItemType":"StateUpdate"})j"));
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->at("AlarmHistoryItems").at(0).at("HistorySummary"),
            "Alarm updated from INSUFFICIENT_DATA to ALARM");
  EXPECT_EQ(history->at("AlarmHistoryItems").at(0).at("AlarmType"), "MetricAlarm");

  auto for_metric = Call("DescribeAlarmsForMetric", json::parse(R"j({"MetricName":"CPUUtilization",
      "Namespace":"AWS/EC2","Dimensions":[{"Name":"InstanceId","Value":"i-123"}]})j"));
  ASSERT_EQ(for_metric->at("MetricAlarms").as_array().size(), 1u);

  ASSERT_TRUE(Call("PutCompositeAlarm", json::parse(R"j({"AlarmName":"any",
      "AlarmRule":"ALARM(\"cpu-high\")"})j"))
                  .ok());
  described = Call("DescribeAlarms", json::parse(R"j({"AlarmTypes":["CompositeAlarm"]})j"));
  EXPECT_EQ(described->at("CompositeAlarms").at(0).at("StateValue"), "ALARM");

  const std::string arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu-high";
  auto tags = Call("ListTagsForResource", json::parse(R"j({"ResourceARN":")j" + arn + R"j("})j"));
  EXPECT_EQ(tags->at("Tags").at(0).at("Key"), "a");
  ASSERT_TRUE(Call("DisableAlarmActions", json::parse(R"j({"AlarmNames":["cpu-high"]})j")).ok());
  described = Call("DescribeAlarms", json::parse(R"j({"AlarmNames":["cpu-high"]})j"));
  EXPECT_EQ(described->at("MetricAlarms").at(0).at("ActionsEnabled"), false);

  EXPECT_EQ(Type(Call("DeleteAlarms", json::parse(R"j({"AlarmNames":["nope"]})j")).status()),
            "ResourceNotFound");
  EXPECT_EQ(Type(Call("PutMetricAlarm", json::parse(R"j({"AlarmName":"x","MetricName":"m",
      "Namespace":"n","Statistic":"Sum","Period":60,"EvaluationPeriods":1,"Threshold":1,
      "ComparisonOperator":"GreaterThanThreshold",
      "AlarmActions":["arn:aws:sns:us-east-1:123456789012:t"]})j"))
                     .status()),
            "ValidationException");
  EXPECT_EQ(Type(Call("PutMetricAlarm", json::parse(R"j({"AlarmName":"x","MetricName":"m",
      "Namespace":"n","Statistic":"Sum","Period":60,"EvaluationPeriods":1,
      "ComparisonOperator":"LessThanLowerOrGreaterThanUpperThreshold","ThresholdMetricId":"ad"})j"))
                     .status()),
            "ValidationException");
  ASSERT_TRUE(Call("DeleteAlarms", json::parse(R"j({"AlarmNames":["any","cpu-high"]})j")).ok());
}

TEST_F(CloudWatchHandlersTest, MetricMathAlarmRoundTrip) {
  ASSERT_TRUE(Call("PutMetricAlarm", json::parse(R"j({"AlarmName":"total","EvaluationPeriods":1,
      "Threshold":100,"ComparisonOperator":"GreaterThanThreshold","Metrics":[
        {"Id":"e1","Expression":"SUM(METRICS())","Label":"Total","ReturnData":true},
        {"Id":"m1","MetricStat":{"Metric":{"Namespace":"AWS/EC2","MetricName":"NetworkIn",
          "Dimensions":[{"Name":"InstanceId","Value":"i-1"}]},"Period":300,"Stat":"Maximum"},
         "ReturnData":false}]})j"))
                  .ok());
  auto described = Call("DescribeAlarms", json::parse(R"j({"AlarmNames":["total"]})j"));
  const json::object& alarm = described->at("MetricAlarms").at(0).as_object();
  EXPECT_FALSE(alarm.contains("MetricName"));
  const json::array& metrics = alarm.at("Metrics").as_array();
  ASSERT_EQ(metrics.size(), 2u);
  EXPECT_EQ(metrics[0].at("Expression"), "SUM(METRICS())");
  EXPECT_EQ(metrics[1].at("MetricStat").at("Stat"), "Maximum");
  EXPECT_EQ(metrics[1].at("ReturnData"), false);
}

}  // namespace
}  // namespace klaxon::api
