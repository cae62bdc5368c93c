#include "api/protocol/errors.h"

#include "api/model/model_registry.h"
#include "boost/json/parse.hpp"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::api::protocol {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

const model::ServiceModel* Service(std::string_view name) {
  return model::ModelRegistry::Embedded().Find(name);
}

struct Case {
  absl::StatusCode code;
  const char* service;
  const char* type;
  int http_status;
};

TEST(ToWireError, DefaultTypePerCodeAndService) {
  const Case cases[] = {
      {absl::StatusCode::kInvalidArgument, "ssm-incidents", "ValidationException", 400},
      {absl::StatusCode::kNotFound, "ssm-incidents", "ResourceNotFoundException", 404},
      {absl::StatusCode::kAlreadyExists, "ssm-incidents", "ConflictException", 409},
      {absl::StatusCode::kFailedPrecondition, "ssm-incidents", "ConflictException", 409},
      {absl::StatusCode::kAborted, "ssm-incidents", "ConflictException", 409},
      {absl::StatusCode::kResourceExhausted, "ssm-incidents", "ServiceQuotaExceededException", 402},
      {absl::StatusCode::kPermissionDenied, "ssm-incidents", "AccessDeniedException", 403},
      {absl::StatusCode::kInternal, "ssm-incidents", "InternalServerException", 500},
      {absl::StatusCode::kUnavailable, "ssm-incidents", "InternalServerException", 500},
      {absl::StatusCode::kUnknown, "ssm-incidents", "InternalServerException", 500},
      {absl::StatusCode::kInternal, "ssm", "InternalServerError", 500},
      {absl::StatusCode::kInternal, "events", "InternalException", 500},
      {absl::StatusCode::kInternal, "cloudwatch", "InternalServiceFault", 500},
      {absl::StatusCode::kInvalidArgument, "ssm", "ValidationException", 400},
      {absl::StatusCode::kNotFound, "events", "ResourceNotFoundException", 400},
      {absl::StatusCode::kNotFound, "cloudwatch", "ResourceNotFoundException", 404},
      {absl::StatusCode::kAlreadyExists, "ssm", "AlreadyExistsException", 400},
      {absl::StatusCode::kResourceExhausted, "ssm", "ServiceQuotaExceededException", 400},
      {absl::StatusCode::kFailedPrecondition, "ssm", "ConflictException", 400},
      {absl::StatusCode::kAlreadyExists, "cloudwatch", "ConflictException", 400},
      {absl::StatusCode::kFailedPrecondition, "cloudwatch", "ConcurrentModificationException", 429},
      {absl::StatusCode::kResourceExhausted, "cloudwatch", "LimitExceededException", 400},
      {absl::StatusCode::kPermissionDenied, "ssm", "AccessDeniedException", 403},
      {absl::StatusCode::kAlreadyExists, "events", "ResourceAlreadyExistsException", 400},
      {absl::StatusCode::kResourceExhausted, "events", "LimitExceededException", 400},
      {absl::StatusCode::kFailedPrecondition, "events", "ConcurrentModificationException", 400},
      {absl::StatusCode::kUnauthenticated, "ssm", "MissingAuthenticationTokenException", 403},
  };
  for (const Case& c : cases) {
    Protocol protocol =
        std::string_view(c.service) == "ssm-incidents" ? Protocol::kRestJson : Protocol::kAwsJson11;
    WireError e = ToWireError(absl::Status(c.code, "boom"), Service(c.service), protocol);
    EXPECT_EQ(e.type, c.type) << c.service << " " << absl::StatusCodeToString(c.code);
    EXPECT_EQ(e.http_status, c.http_status) << c.service << " " << c.type;
  }
}

TEST(ToWireError, ExplicitTypeAndFieldsFromTheModel) {
  absl::Status status =
      AwsError(absl::StatusCode::kNotFound, "ResourceNotFoundException", "Response plan not found",
               {{"resourceIdentifier", "arn:x"}, {"resourceType", "RESPONSE_PLAN"}, {"bogus", 1}});
  WireError e = ToWireError(status, Service("ssm-incidents"), Protocol::kRestJson);
  EXPECT_EQ(e.type, "ResourceNotFoundException");
  EXPECT_EQ(e.http_status, 404);
  EXPECT_TRUE(e.sender_fault);
  EXPECT_EQ(e.message, "Response plan not found");
  EXPECT_EQ(e.fields.size(), 2u);  // bogus is not a member of the shape
  EXPECT_EQ(e.fields.at("resourceIdentifier"), "arn:x");
}

TEST(ToWireError, FillsRequiredMembersOfThrottlingAndQuotaErrors) {
  WireError e = ToWireError(
      AwsError(absl::StatusCode::kResourceExhausted, "ThrottlingException", "Rate exceeded"),
      Service("ssm-incidents"), Protocol::kRestJson);
  EXPECT_EQ(e.http_status, 429);
  EXPECT_EQ(e.fields.at("serviceCode"), "ssm-incidents");
  EXPECT_TRUE(e.fields.contains("quotaCode"));
  e = ToWireError(absl::ResourceExhaustedError("too many"), Service("ssm-incidents"),
                  Protocol::kRestJson);
  EXPECT_EQ(e.type, "ServiceQuotaExceededException");
  EXPECT_EQ(e.fields.at("serviceCode"), "ssm-incidents");
  EXPECT_TRUE(e.fields.contains("quotaCode"));
  // JSON 1.1: ThrottlingException is generic, 400.
  e = ToWireError(AwsError(absl::StatusCode::kResourceExhausted, "ThrottlingException", "slow"),
                  Service("ssm"), Protocol::kAwsJson11);
  EXPECT_EQ(e.http_status, 400);
}

TEST(ToWireError, HidesInternalDetail) {
  WireError e = ToWireError(absl::InternalError("SQLITE_CORRUPT at sqlite_store.cc:42"),
                            Service("ssm-incidents"), Protocol::kRestJson);
  EXPECT_EQ(e.type, "InternalServerException");
  EXPECT_THAT(e.message, ::testing::Not(HasSubstr("SQLITE")));
  EXPECT_FALSE(e.sender_fault);
  // An explicit AWS type keeps its message.
  e = ToWireError(AwsError(absl::StatusCode::kInternal, "InternalServerException", "try later"),
                  Service("ssm-incidents"), Protocol::kRestJson);
  EXPECT_EQ(e.message, "try later");
}

TEST(ToWireError, AuthErrorsAndUnknownOperations) {
  WireError e = ToWireError(AwsError(absl::StatusCode::kUnauthenticated,
                                     "UnrecognizedClientException", "The security token..."),
                            Service("ssm-incidents"), Protocol::kRestJson);
  EXPECT_EQ(e.type, "UnrecognizedClientException");
  EXPECT_EQ(e.http_status, 403);
  e = ToWireError(AwsError(absl::StatusCode::kUnauthenticated, "IncompleteSignatureException", "x"),
                  Service("ssm"), Protocol::kAwsJson11);
  EXPECT_EQ(e.http_status, 400);
  e = ToWireError(UnknownOperationError("nope"), Service("ssm-incidents"), Protocol::kRestJson);
  EXPECT_EQ(e.type, "UnknownOperationException");
  EXPECT_EQ(e.http_status, 404);
  e = ToWireError(UnknownOperationError("nope"), Service("ssm"), Protocol::kAwsJson11);
  EXPECT_EQ(e.http_status, 400);
  e = ToWireError(UnknownOperationError("nope"), nullptr, Protocol::kAwsJson11);
  EXPECT_EQ(e.http_status, 400);
  e = ToWireError(AwsError(absl::StatusCode::kUnauthenticated, "InvalidSignatureException", "x"),
                  Service("cloudwatch"), Protocol::kAwsQuery);
  EXPECT_EQ(e.query_code, "SignatureDoesNotMatch");
}

TEST(EncodeError, RestJson) {
  HttpResponse r;
  EncodeStatus(AwsError(absl::StatusCode::kNotFound, "ResourceNotFoundException", "gone",
                        {{"resourceIdentifier", "arn:x"}, {"resourceType", "RESPONSE_PLAN"}}),
               Service("ssm-incidents"), Protocol::kRestJson, "req-1", &r);
  EXPECT_EQ(r.status, 404);
  bool has_type_header = false;
  for (auto& [k, v] : r.headers) {
    if (k == "x-amzn-ErrorType") {
      has_type_header = true;
      EXPECT_EQ(v, "ResourceNotFoundException");
    }
    if (k == "Content-Type") {
      EXPECT_EQ(v, "application/json");
    }
  }
  EXPECT_TRUE(has_type_header);
  EXPECT_EQ(json::parse(r.body),
            json::parse(R"({"__type":"ResourceNotFoundException","message":"gone",
                            "resourceIdentifier":"arn:x","resourceType":"RESPONSE_PLAN"})"));
}

TEST(EncodeError, Json11UsesTheModelsMessageMember) {
  HttpResponse r;
  EncodeStatus(AwsError(absl::StatusCode::kNotFound, "OpsItemNotFoundException", "no such item"),
               Service("ssm"), Protocol::kAwsJson11, "req-1", &r);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body),
            json::parse(R"({"__type":"OpsItemNotFoundException","Message":"no such item"})"));
  EXPECT_EQ(r.headers.at(0).second, "application/x-amz-json-1.1");
}

TEST(EncodeError, Json10AddsQueryErrorHeader) {
  HttpResponse r;
  EncodeStatus(
      AwsError(absl::StatusCode::kInvalidArgument, "InvalidParameterValueException", "bad"),
      Service("cloudwatch"), Protocol::kAwsJson10, "req-1", &r);
  EXPECT_EQ(r.status, 400);
  std::string query_error;
  for (auto& [k, v] : r.headers) {
    if (k == "x-amzn-query-error") query_error = v;
  }
  EXPECT_EQ(query_error, "InvalidParameterValue;Sender");
  EXPECT_EQ(json::parse(r.body).at("__type"), "InvalidParameterValueException");
}

TEST(EncodeError, QueryXml) {
  HttpResponse r;
  EncodeStatus(AwsError(absl::StatusCode::kNotFound, "ResourceNotFound", "Alarm <a> not found"),
               Service("cloudwatch"), Protocol::kAwsQuery, "req-9", &r);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body,
            "<ErrorResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><Error>"
            "<Type>Sender</Type><Code>ResourceNotFound</Code><Message>Alarm &lt;a&gt; not found"
            "</Message></Error><RequestId>req-9</RequestId></ErrorResponse>");
}

}  // namespace
}  // namespace klaxon::api::protocol
