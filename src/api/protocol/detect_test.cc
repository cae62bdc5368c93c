#include "api/protocol/detect.h"

#include "gtest/gtest.h"

namespace klaxon::api::protocol {
namespace {

const model::ModelRegistry& Registry() { return model::ModelRegistry::Embedded(); }

HttpRequest Request(std::string method, std::string target,
                    std::vector<std::pair<std::string, std::string>> headers,
                    std::string body = "") {
  HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.headers = std::move(headers);
  r.body = std::move(body);
  return r;
}

std::string Auth(std::string_view service) {
  return "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/" + std::string(service) +
         "/aws4_request, SignedHeaders=host, Signature=00";
}

TEST(DetectService, JsonRpcByTarget) {
  Detection d = DetectService(Request("POST", "/",
                                      {{"X-Amz-Target", "AmazonSSM.GetOpsItem"},
                                       {"Content-Type", "application/x-amz-json-1.1"}}),
                              Registry());
  EXPECT_EQ(d.protocol, Protocol::kAwsJson11);
  ASSERT_NE(d.service, nullptr);
  EXPECT_EQ(d.service->name(), "ssm");
  EXPECT_EQ(d.operation, "GetOpsItem");

  d = DetectService(Request("POST", "/", {{"x-amz-target", "AWSEvents.PutRule"}}), Registry());
  EXPECT_EQ(d.protocol, Protocol::kAwsJson11);
  EXPECT_EQ(d.service->name(), "events");
  EXPECT_EQ(d.operation, "PutRule");
}

TEST(DetectService, CloudWatchJson10) {
  Detection d =
      DetectService(Request("POST", "/",
                            {{"X-Amz-Target", "GraniteServiceVersion20100801.DescribeAlarms"},
                             {"Content-Type", "application/x-amz-json-1.0"},
                             {"x-amzn-query-mode", "true"}}),
                    Registry());
  EXPECT_EQ(d.protocol, Protocol::kAwsJson10);
  EXPECT_EQ(d.service->name(), "cloudwatch");
  EXPECT_EQ(d.operation, "DescribeAlarms");
  // Without a Content-Type, the model's jsonVersion decides.
  d = DetectService(
      Request("POST", "/", {{"X-Amz-Target", "GraniteServiceVersion20100801.DescribeAlarms"}}),
      Registry());
  EXPECT_EQ(d.protocol, Protocol::kAwsJson10);
}

TEST(DetectService, UnknownTargetPrefix) {
  Detection d = DetectService(Request("POST", "/", {{"X-Amz-Target", "DynamoDB_20120810.GetItem"}}),
                              Registry());
  EXPECT_EQ(d.protocol, Protocol::kAwsJson11);
  EXPECT_EQ(d.service, nullptr);
  EXPECT_EQ(d.operation, "GetItem");
}

TEST(DetectService, RpcV2Cbor) {
  Detection d = DetectService(
      Request("POST", "/base/service/GraniteServiceVersion20100801/operation/DescribeAlarms",
              {{"smithy-protocol", "rpc-v2-cbor"}, {"Content-Type", "application/cbor"}}),
      Registry());
  EXPECT_EQ(d.protocol, Protocol::kRpcV2Cbor);
  EXPECT_EQ(d.service->name(), "cloudwatch");
  EXPECT_EQ(d.operation, "DescribeAlarms");
}

TEST(DetectService, QueryByVersionThenScope) {
  const char* kForm = "application/x-www-form-urlencoded; charset=utf-8";
  Detection d = DetectService(Request("POST", "/", {{"Content-Type", kForm}},
                                      "Action=TagResource&Version=2010-03-31&ResourceArn=x"),
                              Registry());
  EXPECT_EQ(d.protocol, Protocol::kAwsQuery);
  EXPECT_EQ(d.service->name(), "sns");
  EXPECT_EQ(d.operation, "TagResource");
  d = DetectService(
      Request("POST", "/", {{"Content-Type", kForm}}, "Action=TagResource&Version=2010-08-01"),
      Registry());
  EXPECT_EQ(d.service->name(), "cloudwatch");
  d = DetectService(
      Request("POST", "/", {{"Content-Type", kForm}, {"Authorization", Auth("monitoring")}},
              "Action=PutMetricData"),
      Registry());
  EXPECT_EQ(d.service->name(), "cloudwatch");
  EXPECT_EQ(d.operation, "PutMetricData");
}

TEST(DetectService, RestJsonByScopeOrOnlyRestService) {
  Detection d = DetectService(
      Request("POST", "/startIncident",
              {{"Content-Type", "application/json"}, {"Authorization", Auth("ssm-incidents")}}),
      Registry());
  EXPECT_EQ(d.protocol, Protocol::kRestJson);
  EXPECT_EQ(d.service->name(), "ssm-incidents");
  EXPECT_TRUE(d.operation.empty());
  d = DetectService(Request("GET", "/getIncidentRecord?arn=x", {}), Registry());
  EXPECT_EQ(d.protocol, Protocol::kRestJson);
  EXPECT_EQ(d.service->name(), "ssm-incidents");
}

}  // namespace
}  // namespace klaxon::api::protocol
