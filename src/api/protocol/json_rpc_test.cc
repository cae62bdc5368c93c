#include "api/protocol/json_rpc.h"

#include "api/model/model_registry.h"
#include "boost/json/parse.hpp"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::api::protocol {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

class JsonRpcTest : public ::testing::Test {
 protected:
  JsonRpcTest()
      : ssm_(*model::ModelRegistry::Embedded().Find("ssm")), codec_(Protocol::kAwsJson11) {}

  absl::StatusOr<json::object> Decode(std::string_view op_name, std::string body) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.headers = {{"X-Amz-Target", "AmazonSSM." + std::string(op_name)},
                 {"Content-Type", "application/x-amz-json-1.1"}};
    r.body = std::move(body);
    auto op = codec_.ResolveOperation(r, ssm_, op_name);
    if (!op.ok()) return op.status();
    return codec_.DecodeInput(r, ssm_, **op);
  }

  const model::ServiceModel& ssm_;
  JsonRpcCodec codec_;
};

TEST_F(JsonRpcTest, DecodesInput) {
  auto input = Decode("GetOpsItem", R"({"OpsItemId": "oi-123456789012"})");
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(input->at("OpsItemId"), "oi-123456789012");
}

TEST_F(JsonRpcTest, EmptyBodyIsAnEmptyObject) {
  auto input = Decode("DescribeOpsItems", "");
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_TRUE(input->empty());
}

TEST_F(JsonRpcTest, ValidationPathsAreLowerCamel) {
  auto input = Decode("GetOpsItem", R"({"OpsItemId": "bad"})");
  ASSERT_FALSE(input.ok());
  EXPECT_EQ(AwsErrorType(input.status()).value_or(""), "ValidationException");
  EXPECT_EQ(input.status().message(),
            "1 validation error detected: Value 'bad' at 'opsItemId' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: ^(oi)-[0-9a-f]{12}$");
  input = Decode("CreateOpsItem", R"({"Description":"d","Source":"s"})");
  ASSERT_FALSE(input.ok());
  EXPECT_THAT(input.status().message(), HasSubstr("Value null at 'title'"));
}

TEST_F(JsonRpcTest, UnknownOperation) {
  auto input = Decode("FlyToTheMoon", "{}");
  ASSERT_FALSE(input.ok());
  EXPECT_EQ(AwsErrorType(input.status()).value_or(""), "UnknownOperationException");
}

TEST_F(JsonRpcTest, MalformedBody) {
  auto input = Decode("GetOpsItem", "not json");
  ASSERT_FALSE(input.ok());
  EXPECT_EQ(AwsErrorType(input.status()).value_or(""), "SerializationException");
}

TEST_F(JsonRpcTest, EncodesOutput) {
  HttpResponse r;
  codec_.EncodeOutput(ssm_, *ssm_.FindOperation("CreateOpsItem"),
                      {{"OpsItemId", "oi-123456789012"}, {"OpsItemArn", nullptr}}, "rid", &r);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"OpsItemId":"oi-123456789012"})");
  EXPECT_EQ(r.headers.at(0).first, "Content-Type");
  EXPECT_EQ(r.headers.at(0).second, "application/x-amz-json-1.1");

  r = HttpResponse();
  codec_.EncodeOutput(ssm_, *ssm_.FindOperation("UpdateOpsItem"), {}, "rid", &r);
  EXPECT_EQ(r.body, "{}");
}

TEST_F(JsonRpcTest, Json10ContentType) {
  JsonRpcCodec codec(Protocol::kAwsJson10);
  const model::ServiceModel& cw = *model::ModelRegistry::Embedded().Find("cloudwatch");
  HttpResponse r;
  codec.EncodeOutput(cw, *cw.FindOperation("DescribeAlarms"), {{"MetricAlarms", json::array()}},
                     "rid", &r);
  EXPECT_EQ(r.headers.at(0).second, "application/x-amz-json-1.0");
  EXPECT_EQ(r.body, R"({"MetricAlarms":[]})");
  r = HttpResponse();
  codec.EncodeError(AwsError(absl::StatusCode::kNotFound, "ResourceNotFound", "Alarm nope"), &cw,
                    "rid", &r);
  EXPECT_EQ(r.status, 404);
  bool header = false;
  for (auto& [k, v] : r.headers)
    header |= (k == "x-amzn-query-error" && v == "ResourceNotFound;Sender");
  EXPECT_TRUE(header);
}

}  // namespace
}  // namespace klaxon::api::protocol
