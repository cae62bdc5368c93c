#include "api/protocol/rest_json.h"

#include "api/model/model_registry.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::api::protocol {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

constexpr const char* kPlanArn = "arn:aws:ssm-incidents::111122223333:response-plan/myplan";
constexpr const char* kPlanArnEncoded =
    "arn%3Aaws%3Assm-incidents%3A%3A111122223333%3Aresponse-plan%2Fmyplan";

class RestJsonTest : public ::testing::Test {
 protected:
  RestJsonTest()
      : registry_(model::ModelRegistry::Embedded()),
        service_(*registry_.Find("ssm-incidents")),
        codec_(registry_) {}

  HttpRequest Request(std::string method, std::string target, std::string body = "") {
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    return r;
  }

  std::string Route(const HttpRequest& r) {
    auto op = codec_.ResolveOperation(r, service_, "");
    if (!op.ok()) return "error: " + std::string(op.status().message());
    return (*op)->name;
  }

  absl::StatusOr<json::object> Decode(const HttpRequest& r) {
    auto op = codec_.ResolveOperation(r, service_, "");
    if (!op.ok()) return op.status();
    return codec_.DecodeInput(r, service_, **op);
  }

  const model::ModelRegistry& registry_;
  const model::ServiceModel& service_;
  RestJsonCodec codec_;
};

TEST_F(RestJsonTest, RoutesEveryOperationOfTheModel) {
  int routed = 0;
  for (const auto& op : service_.operations()) {
    std::string uri = op->request_uri;
    size_t open;
    while ((open = uri.find('{')) != std::string::npos) {
      size_t close = uri.find('}', open);
      uri.replace(open, close - open + 1, kPlanArnEncoded);
    }
    EXPECT_EQ(Route(Request(op->http_method, uri)), op->name) << op->http_method << " " << uri;
    ++routed;
  }
  EXPECT_EQ(routed, 29);
}

TEST_F(RestJsonTest, TagRoutesDifferByMethod) {
  std::string target = std::string("/tags/") + kPlanArnEncoded;
  EXPECT_EQ(Route(Request("GET", target)), "ListTagsForResource");
  EXPECT_EQ(Route(Request("POST", target)), "TagResource");
  EXPECT_EQ(Route(Request("DELETE", target + "?tagKeys=a")), "UntagResource");
  EXPECT_EQ(Route(Request("PUT", target)),
            "error: No operation matches PUT /tags/" + std::string(kPlanArnEncoded));
  EXPECT_THAT(Route(Request("POST", "/nope")), HasSubstr("No operation matches POST /nope"));
  EXPECT_THAT(Route(Request("GET", "/tags")), HasSubstr("No operation"));
  EXPECT_THAT(Route(Request("GET", "/tags/a/b")), HasSubstr("No operation"));
}

TEST_F(RestJsonTest, UnknownRouteIsUnknownOperationException) {
  auto op = codec_.ResolveOperation(Request("POST", "/listFindings"), service_, "");
  ASSERT_FALSE(op.ok());
  EXPECT_EQ(AwsErrorType(op.status()).value_or(""), "UnknownOperationException");
}

TEST_F(RestJsonTest, DecodesUriLabelWithEncodedSlash) {
  auto input =
      Decode(Request("POST", std::string("/tags/") + kPlanArnEncoded, R"({"tags":{"k":"v"}})"));
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(json::value(*input),
            json::parse(std::string(R"({"tags":{"k":"v"},"resourceArn":")") + kPlanArn + "\"}"));
}

TEST_F(RestJsonTest, DecodesRepeatedQueryKeysAsList) {
  auto input = Decode(Request(
      "DELETE", std::string("/tags/") + kPlanArnEncoded + "?tagKeys=k&tagKeys=k%202&tagKeys=k+3"));
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(json::serialize(input->at("tagKeys")), R"(["k","k 2","k 3"])");
}

TEST_F(RestJsonTest, DecodesGetWithNoBody) {
  auto input = Decode(Request(
      "GET", std::string("/getIncidentRecord?arn=") +
                 "arn%3Aaws%3Assm-incidents%3A%3A111122223333%3Aincident-record%2Fmyplan%2Fabcd"));
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(input->at("arn"), "arn:aws:ssm-incidents::111122223333:incident-record/myplan/abcd");

  auto timeline = Decode(Request("GET", std::string("/getTimelineEvent?incidentRecordArn=") +
                                            kPlanArnEncoded + "&eventId=e1"));
  ASSERT_TRUE(timeline.ok()) << timeline.status();
  EXPECT_EQ(timeline->at("eventId"), "e1");
}

TEST_F(RestJsonTest, MissingQueryMemberIsAValidationError) {
  auto input = Decode(Request("GET", "/getIncidentRecord"));
  ASSERT_FALSE(input.ok());
  EXPECT_EQ(AwsErrorType(input.status()).value_or(""), "ValidationException");
  EXPECT_EQ(input.status().message(),
            "1 validation error detected: Value null at 'arn' failed to satisfy constraint: "
            "Member must not be null");
}

TEST_F(RestJsonTest, QueryMemberAndEmptyBodyPost) {
  auto input = Decode(Request("POST", std::string("/deleteReplicationSet?arn=") + kPlanArnEncoded));
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(input->at("arn"), kPlanArn);
}

TEST_F(RestJsonTest, DecodesStartIncidentBody) {
  auto input = Decode(Request("POST", "/startIncident", R"({
      "clientToken": "tok-1", "impact": 2, "title": "Disk full",
      "responsePlanArn": "arn:aws:ssm-incidents::111122223333:response-plan/myplan",
      "relatedItems": [{"identifier": {"type": "METRIC",
          "value": {"arn": "arn:aws:cloudwatch:us-east-1:111122223333:alarm:a1"}}, "title": "alarm"}],
      "triggerDetails": {"source": "aws.cloudwatch", "timestamp": 1704067200,
                         "triggerArn": "arn:aws:cloudwatch:us-east-1:111122223333:alarm:a1",
                         "rawData": "{}"},
      "unknownNewMember": true})"));
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_FALSE(input->contains("unknownNewMember"));
  EXPECT_TRUE(input->at("triggerDetails").at("timestamp").is_double());
  EXPECT_EQ(input->at("impact"), 2);
}

TEST_F(RestJsonTest, ValidationErrorsNameTheMember) {
  auto input = Decode(Request("POST", "/startIncident", R"({"responsePlanArn":"x"})"));
  ASSERT_FALSE(input.ok());
  EXPECT_EQ(input.status().message(),
            "1 validation error detected: Value 'x' at 'responsePlanArn' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "^arn:aws(-cn|-us-gov)?:[a-z0-9-]*:[a-z0-9-]*:([0-9]{12})?:.+$");
  input = Decode(Request("POST", "/updateIncidentRecord",
                         std::string(R"({"arn":")") + kPlanArn + R"(","chatChannel":{}})"));
  ASSERT_FALSE(input.ok());
  EXPECT_THAT(input.status().message(), HasSubstr("at 'chatChannel'"));
}

TEST_F(RestJsonTest, MalformedBodiesAreSerializationErrors) {
  for (const char* body : {"{", "[]", "\"x\"", "{\"a\":\xff}", "{} {}"}) {
    auto input = Decode(Request("POST", "/startIncident", body));
    ASSERT_FALSE(input.ok()) << body;
    EXPECT_EQ(AwsErrorType(input.status()).value_or(""), "SerializationException") << body;
  }
  std::string deep(200, '[');
  auto input = Decode(Request("POST", "/startIncident", "{\"a\":" + deep));
  EXPECT_EQ(AwsErrorType(input.status()).value_or(""), "SerializationException");
}

TEST_F(RestJsonTest, QueryValuesConvertToMemberTypes) {
  // GetResourcePolicies: resourceArn in the query, maxResults (integer) in the body.
  auto input =
      Decode(Request("POST", std::string("/getResourcePolicies?resourceArn=") + kPlanArnEncoded,
                     R"({"maxResults": 5})"));
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(input->at("resourceArn"), kPlanArn);
  EXPECT_EQ(input->at("maxResults"), 5);
}

TEST_F(RestJsonTest, InvalidUtf8InALabelIsRejected) {
  auto input = Decode(Request("GET", "/tags/%ff%fe"));
  ASSERT_FALSE(input.ok());
  EXPECT_EQ(AwsErrorType(input.status()).value_or(""), "SerializationException");
}

TEST_F(RestJsonTest, EncodesStatusPerModel) {
  HttpResponse r;
  codec_.EncodeOutput(service_, *service_.FindOperation("StartIncident"),
                      {{"incidentRecordArn", "arn:x"}, {"extra", 1}}, "rid", &r);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"incidentRecordArn":"arn:x"})");

  r = HttpResponse();
  codec_.EncodeOutput(service_, *service_.FindOperation("CreateResponsePlan"), {{"arn", "a"}},
                      "rid", &r);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, R"({"arn":"a"})");

  r = HttpResponse();
  codec_.EncodeOutput(service_, *service_.FindOperation("UpdateIncidentRecord"), {}, "rid", &r);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.body, "");

  r = HttpResponse();
  codec_.EncodeOutput(service_, *service_.FindOperation("DeleteResourcePolicy"), {}, "rid", &r);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{}");
}

TEST_F(RestJsonTest, EncodesErrorsAsRestJson) {
  HttpResponse r;
  codec_.EncodeError(absl::NotFoundError("x"), &service_, "rid", &r);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body).at("__type"), "ResourceNotFoundException");
}

}  // namespace
}  // namespace klaxon::api::protocol
