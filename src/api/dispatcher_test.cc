#include "api/dispatcher.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

#include "api/http/server.h"
#include "api/protocol/wire_text.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "common/mutex.h"
#include "common/non_blocking.h"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::api {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kAccount = "111122223333";
constexpr const char* kPlanArn = "arn:aws:ssm-incidents::111122223333:response-plan/myplan";
constexpr const char* kPlanArnEncoded =
    "arn%3Aaws%3Assm-incidents%3A%3A111122223333%3Aresponse-plan%2Fmyplan";
constexpr const char* kIncidentArn =
    "arn:aws:ssm-incidents::111122223333:incident-record/myplan/abcd";

// Accepts every request that carries an Authorization header; the caller's account is the
// access key id when it is 12 digits, else kAccount. Signing service from the credential scope.
class FakeAuthenticator final : public Authenticator {
 public:
  absl::StatusOr<Caller> Authenticate(const HttpRequest& request) const override {
    std::string_view auth = request.Header("Authorization");
    if (auth.empty()) {
      return AwsError(absl::StatusCode::kUnauthenticated, "MissingAuthenticationTokenException",
                      "Missing Authentication Token");
    }
    if (auth.find("Credential=BADKEY/") != std::string_view::npos) {
      return AwsError(absl::StatusCode::kUnauthenticated, "UnrecognizedClientException",
                      "The security token included in the request is invalid.");
    }
    Caller caller;
    caller.account_id = kAccount;
    if (size_t pos = auth.find("Credential="); pos != std::string_view::npos) {
      std::string_view key = auth.substr(pos + 11, 12);
      if (key.size() == 12 && key.find_first_not_of("0123456789") == std::string_view::npos) {
        caller.account_id = std::string(key);
      }
    }
    caller.access_key_id = "AKIDEXAMPLE";
    caller.principal_arn = std::string("arn:aws:iam::") + caller.account_id + ":root";
    caller.region = "us-east-1";
    caller.signing_service = protocol::CredentialScopeService(auth, "");
    return caller;
  }
};

// Fake handlers for a few operations; records what they were called with.
class FakeServices {
 public:
  void Register(OperationTable& table) {
    Add(table, "ssm-incidents", "StartIncident", [](const json::object&) -> Result {
      return json::object{{"incidentRecordArn", kIncidentArn}};
    });
    Add(table, "ssm-incidents", "GetIncidentRecord",
        [](const json::object& in) -> Result {
          std::string arn(in.at("arn").as_string());
          if (arn.ends_with("missing")) {
            return AwsError(absl::StatusCode::kNotFound, "ResourceNotFoundException",
                            "Incident record " + arn + " not found",
                            {{"resourceIdentifier", arn}, {"resourceType", "INCIDENT_RECORD"}});
          }
          return json::parse(std::string(R"({"incidentRecord":{
          "arn":")") + arn + R"(","title":"Disk full","impact":2,"status":"OPEN",
          "creationTime":1704067200.5,"lastModifiedTime":1704067201,"lastModifiedBy":"arn:x",
          "dedupeString":"d","resolvedTime":null,"chatChannel":{},"notSentBecauseUnknown":1,
          "incidentRecordSource":{"createdBy":"arn:x","source":"aws.ssm-incidents.custom"}}})")
              .as_object();
        });
    Add(table, "ssm-incidents", "TagResource",
        [](const json::object&) -> Result { return json::object(); });
    Add(table, "ssm-incidents", "UntagResource",
        [](const json::object&) -> Result { return json::object(); });
    Add(table, "ssm-incidents", "ListTagsForResource", [](const json::object&) -> Result {
      return json::object{{"tags", json::object{{"k", "v"}}}};
    });
    Add(table, "ssm-incidents", "UpdateIncidentRecord",
        [](const json::object&) -> Result { return json::object(); });
    Add(table, "ssm-incidents", "CreateResponsePlan", [](const json::object& in) -> Result {
      return json::object{
          {"arn", std::string("arn:aws:ssm-incidents::111122223333:response-plan/") +
                      std::string(in.at("name").as_string())}};
    });
    Add(table, "ssm-incidents", "ListResponsePlans",
        [](const json::object&) -> Result { throw std::runtime_error("boom"); });
    Add(table, "ssm-incidents", "ListReplicationSets", [](const json::object&) -> Result {
      return absl::InternalError("SQLITE_BUSY: database is locked (sqlite_store.cc:42)");
    });
    Add(table, "ssm", "GetOpsItem", [](const json::object& in) -> Result {
      std::string id(in.at("OpsItemId").as_string());
      if (id == "oi-000000000000") {
        return AwsError(absl::StatusCode::kNotFound, "OpsItemNotFoundException",
                        "OpsItem " + id + " not found");
      }
      return json::object{{"OpsItem", json::object{{"OpsItemId", id},
                                                   {"Title", "t"},
                                                   {"Status", "Open"},
                                                   {"CreatedTime", 1704067200.5}}}};
    });
    Add(table, "ssm", "DescribeOpsItems", [](const json::object&) -> Result {
      return json::object{{"OpsItemSummaries", json::array()}};
    });
    Add(table, "cloudwatch", "PutMetricAlarm",
        [](const json::object&) -> Result { return json::object(); });
    Add(table, "cloudwatch", "DescribeAlarms", [](const json::object&) -> Result {
      return json::parse(R"({"MetricAlarms":[{"AlarmName":"cpu-high","StateValue":"ALARM",
          "StateUpdatedTimestamp":1704067200.25,"Threshold":80.5,"Period":60,
          "ActionsEnabled":true,"Dimensions":[{"Name":"InstanceId","Value":"i-123"}],
          "AlarmActions":["arn:aws:ssm-incidents::111122223333:responseplan/myplan"]}],
          "CompositeAlarms":[]})")
          .as_object();
    });
    Add(table, "cloudwatch", "SetAlarmState", [](const json::object& in) -> Result {
      return AwsError(absl::StatusCode::kNotFound, "ResourceNotFound",
                      "Alarm " + std::string(in.at("AlarmName").as_string()) + " not found");
    });
  }

  // The last input and context of `operation` ("" if never called).
  std::string LastInput(const std::string& operation) {
    MutexLock lock(&mu_);
    auto it = inputs_.find(operation);
    return it == inputs_.end() ? "" : it->second;
  }
  CallContext LastContext(const std::string& operation) {
    MutexLock lock(&mu_);
    return contexts_[operation];
  }
  int calls() {
    MutexLock lock(&mu_);
    return calls_;
  }

 private:
  using Result = absl::StatusOr<json::object>;
  void Add(OperationTable& table, const std::string& service, const std::string& op,
           std::function<Result(const json::object&)> fn) {
    table.Add(service, op, [this, op, fn](const CallContext& ctx, const json::object& in) {
      {
        MutexLock lock(&mu_);
        inputs_[op] = json::serialize(in);
        contexts_[op] = ctx;
        ++calls_;
      }
      return fn(in);
    });
  }

  Mutex mu_;
  std::map<std::string, std::string> inputs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, CallContext> contexts_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

std::string Header(const HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return v;
    }
  }
  return "";
}

std::string Auth(std::string_view service, std::string_view key = "AKIDEXAMPLE") {
  return "AWS4-HMAC-SHA256 Credential=" + std::string(key) + "/20240101/us-east-1/" +
         std::string(service) + "/aws4_request, SignedHeaders=host;x-amz-date, Signature=00";
}

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() { services_.Register(table_); }

  Dispatcher& dispatcher() {
    if (!dispatcher_) {
      dispatcher_ = std::make_unique<Dispatcher>(
          authenticator_, table_, model::ModelRegistry::Embedded(), metrics_, clock_, options_);
    }
    return *dispatcher_;
  }

  HttpResponse Rest(std::string method, std::string target, std::string body = "",
                    std::string auth = Auth("ssm-incidents")) {
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    if (!auth.empty()) r.headers.emplace_back("Authorization", auth);
    if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    r.body = std::move(body);
    return dispatcher().Handle(r);
  }

  HttpResponse Json(std::string target, std::string body, std::string auth = Auth("ssm")) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.headers = {{"X-Amz-Target", std::move(target)},
                 {"Content-Type", "application/x-amz-json-1.1"}};
    if (!auth.empty()) r.headers.emplace_back("Authorization", auth);
    r.body = std::move(body);
    return dispatcher().Handle(r);
  }

  FakeAuthenticator authenticator_;
  OperationTable table_;
  FakeServices services_;
  metrics::Registry metrics_;
  SimulatedClock clock_;
  DispatcherOptions options_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(DispatcherTest, RouteKeyNamesTheOperation) {
  auto key = [&](std::string method, std::string target,
                 std::vector<std::pair<std::string, std::string>> headers, std::string body = "") {
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.headers = std::move(headers);
    r.body = std::move(body);
    return dispatcher().RouteKey(r);
  };
  // JSON protocols: X-Amz-Target.
  EXPECT_EQ(key("POST", "/", {{"X-Amz-Target", "AWSEvents.PutEvents"}}, "{\"a\":1}"),
            key("POST", "/", {{"x-amz-target", "AWSEvents.PutEvents"}}, "{}"));
  EXPECT_NE(key("POST", "/", {{"X-Amz-Target", "AWSEvents.PutEvents"}}),
            key("POST", "/", {{"X-Amz-Target", "AWSEvents.PutRule"}}));
  // rest-json: method and first path segment (labels and query do not matter).
  EXPECT_EQ(key("POST", "/tags/arn%3Aa", {}), key("POST", "/tags/arn%3Ab?x=1", {}));
  EXPECT_NE(key("POST", "/tags/arn%3Aa", {}), key("DELETE", "/tags/arn%3Aa", {}));
  EXPECT_NE(key("POST", "/startIncident", {}), key("POST", "/getIncidentRecord", {}));
  // RPC v2 CBOR: the whole path.
  EXPECT_NE(key("POST", "/service/S/operation/PutMetricData", {}),
            key("POST", "/service/S/operation/GetMetricData", {}));
  // query: the form body's Action.
  EXPECT_EQ(key("POST", "/", {}, "Action=PutMetricData&Version=2010-08-01"),
            key("POST", "/", {}, "Version=2010-08-01&Action=PutMetricData&Namespace=x"));
  EXPECT_NE(key("POST", "/", {}, "Action=PutMetricData"),
            key("POST", "/", {}, "Action=DescribeAlarms"));
}

TEST_F(DispatcherTest, RestJsonSuccess) {
  HttpResponse r = Rest("POST", "/startIncident",
                        std::string(R"({"responsePlanArn":")") + kPlanArn + R"(","impact":2})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body),
            json::parse(std::string(R"({"incidentRecordArn":")") + kIncidentArn + "\"}"));
  EXPECT_EQ(Header(r, "Content-Type"), "application/json");
  std::string request_id = Header(r, "x-amzn-RequestId");
  EXPECT_EQ(request_id.size(), 36u);
  CallContext ctx = services_.LastContext("StartIncident");
  EXPECT_EQ(ctx.request_id, request_id);
  EXPECT_EQ(ctx.service, "ssm-incidents");
  EXPECT_EQ(ctx.operation, "StartIncident");
  EXPECT_EQ(ctx.caller.account_id, kAccount);
  EXPECT_EQ(json::parse(services_.LastInput("StartIncident")),
            json::parse(std::string(R"({"responsePlanArn":")") + kPlanArn + R"(","impact":2})"));
}

TEST_F(DispatcherTest, RestJsonStatusCodesPerModel) {
  HttpResponse r = Rest("POST", std::string("/tags/") + kPlanArnEncoded, R"({"tags":{"k":"v"}})");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(json::parse(services_.LastInput("TagResource")),
            json::parse(std::string(R"({"tags":{"k":"v"},"resourceArn":")") + kPlanArn + "\"}"));
  r = Rest("POST", "/createResponsePlan",
           R"({"name":"p","incidentTemplate":{"title":"t","impact":1}})");
  EXPECT_EQ(r.status, 201);
  r = Rest("DELETE", std::string("/tags/") + kPlanArnEncoded + "?tagKeys=a&tagKeys=b");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(json::parse(services_.LastInput("UntagResource")).at("tagKeys"),
            json::parse(R"(["a","b"])"));
}

TEST_F(DispatcherTest, OutputIsShapedByTheModel) {
  HttpResponse r = Rest("GET", std::string("/getIncidentRecord?arn=") + kPlanArnEncoded);
  ASSERT_EQ(r.status, 200) << r.body;
  json::value body = json::parse(r.body);
  const json::object& record = body.at("incidentRecord").as_object();
  EXPECT_FALSE(record.contains("chatChannel"));   // empty union dropped
  EXPECT_FALSE(record.contains("resolvedTime"));  // null dropped
  EXPECT_FALSE(record.contains("notSentBecauseUnknown"));
  EXPECT_TRUE(record.at("lastModifiedTime").is_double());
}

TEST_F(DispatcherTest, ValidationErrorNeverReachesTheHandler) {
  HttpResponse r = Rest("POST", "/startIncident", R"({"responsePlanArn":"x"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Header(r, "x-amzn-ErrorType"), "ValidationException");
  json::value body = json::parse(r.body);
  EXPECT_EQ(body.at("__type"), "ValidationException");
  EXPECT_THAT(std::string(body.at("message").as_string()),
              HasSubstr("Value 'x' at 'responsePlanArn' failed to satisfy constraint"));
  EXPECT_FALSE(Header(r, "x-amzn-RequestId").empty());
  EXPECT_EQ(services_.calls(), 0);
}

TEST_F(DispatcherTest, HandlerErrorsCarryModeledFields) {
  HttpResponse r =
      Rest("GET", std::string("/getIncidentRecord?arn=") + kPlanArnEncoded + "missing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Header(r, "x-amzn-ErrorType"), "ResourceNotFoundException");
  json::value body = json::parse(r.body);
  EXPECT_EQ(body.at("resourceType"), "INCIDENT_RECORD");
  EXPECT_EQ(body.at("resourceIdentifier"), json::value(std::string(kPlanArn) + "missing"));
}

TEST_F(DispatcherTest, UnknownOperations) {
  HttpResponse r = Rest("POST", "/flyToTheMoon", "{}");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Header(r, "x-amzn-ErrorType"), "UnknownOperationException");
  // Modeled, but no handler registered.
  r = Rest("POST", "/deleteIncidentRecord", R"({"arn":"arn:aws:x:y::1:z"})");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Header(r, "x-amzn-ErrorType"), "UnknownOperationException");
  r = Json("AmazonSSM.FlyToTheMoon", "{}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body).at("__type"), "UnknownOperationException");
  r = Json("DynamoDB_20120810.GetItem", "{}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body).at("__type"), "UnknownOperationException");
}

TEST_F(DispatcherTest, Json11SuccessAndErrors) {
  HttpResponse r = Json("AmazonSSM.GetOpsItem", R"({"OpsItemId":"oi-123456789012"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, "Content-Type"), "application/x-amz-json-1.1");
  EXPECT_EQ(json::parse(r.body).at("OpsItem").at("OpsItemId"), "oi-123456789012");
  r = Json("AmazonSSM.GetOpsItem", R"({"OpsItemId":"oi-000000000000"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"__type":"OpsItemNotFoundException",
                            "Message":"OpsItem oi-000000000000 not found"})"));
  r = Json("AmazonSSM.GetOpsItem", R"({"OpsItemId":"nope"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("at 'opsItemId'"));
  r = Json("AmazonSSM.GetOpsItem", "{not json");
  EXPECT_EQ(json::parse(r.body).at("__type"), "SerializationException");
}

TEST_F(DispatcherTest, AuthErrorsInTheRequestsProtocol) {
  HttpResponse r = Rest("POST", "/startIncident", "{}", "");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Header(r, "x-amzn-ErrorType"), "MissingAuthenticationTokenException");
  r = Json("AmazonSSM.GetOpsItem", "{}", Auth("ssm", "BADKEY"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(json::parse(r.body).at("__type"), "UnrecognizedClientException");
  EXPECT_FALSE(Header(r, "x-amzn-RequestId").empty());
  EXPECT_EQ(services_.calls(), 0);
}

TEST_F(DispatcherTest, CredentialScopeMustNameTheService) {
  HttpResponse r =
      Json("AmazonSSM.GetOpsItem", R"({"OpsItemId":"oi-123456789012"})", Auth("ssm-incidents"));
  EXPECT_EQ(r.status, 403);
  json::value body = json::parse(r.body);
  EXPECT_EQ(body.at("__type"), "InvalidSignatureException");
  EXPECT_THAT(std::string(body.at("message").as_string()),
              HasSubstr("Credential should be scoped to correct service: 'ssm'"));
}

TEST_F(DispatcherTest, HandlerExceptionsAndInternalErrorsDoNotLeak) {
  HttpResponse r = Rest("POST", "/listResponsePlans", "{}");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(Header(r, "x-amzn-ErrorType"), "InternalServerException");
  EXPECT_THAT(r.body, Not(HasSubstr("boom")));
  r = Rest("POST", "/listReplicationSets", "{}");
  EXPECT_EQ(r.status, 500);
  EXPECT_THAT(r.body, Not(HasSubstr("SQLITE")));
  EXPECT_THAT(r.body, Not(HasSubstr(".cc")));
}

TEST_F(DispatcherTest, QueryAndCborAnswerInKind) {
  HttpRequest q;
  q.method = "POST";
  q.target = "/";
  q.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
               {"Authorization", Auth("monitoring")}};
  q.body = "Action=ListDashboards&Version=2010-08-01";  // modeled, no handler
  HttpResponse r = dispatcher().Handle(q);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("<Code>InvalidAction</Code>"));
  EXPECT_THAT(r.body, HasSubstr("<RequestId>" + Header(r, "x-amzn-RequestId") + "</RequestId>"));

  HttpRequest cbor;
  cbor.method = "POST";
  cbor.target = "/service/GraniteServiceVersion20100801/operation/ListDashboards";
  cbor.headers = {{"smithy-protocol", "rpc-v2-cbor"},
                  {"Content-Type", "application/cbor"},
                  {"Authorization", Auth("monitoring")}};
  r = dispatcher().Handle(cbor);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Header(r, "x-amzn-query-error"), "InvalidAction;Sender");
  EXPECT_EQ(Header(r, "smithy-protocol"), "rpc-v2-cbor");
  EXPECT_EQ(services_.calls(), 0);

  cbor.target = "/service/GraniteServiceVersion20100801/operation/DescribeAlarms";
  r = dispatcher().Handle(cbor);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, "Content-Type"), "application/cbor");
  EXPECT_EQ(services_.calls(), 1);
}

TEST_F(DispatcherTest, ThrottlesPerAccountWhenConfigured) {
  options_.throttle_rate = 1;
  options_.throttle_burst = 2;
  std::string body = std::string(R"({"responsePlanArn":")") + kPlanArn + "\"}";
  EXPECT_EQ(Rest("POST", "/startIncident", body).status, 200);
  EXPECT_EQ(Rest("POST", "/startIncident", body).status, 200);
  HttpResponse r = Rest("POST", "/startIncident", body);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(Header(r, "x-amzn-ErrorType"), "ThrottlingException");
  json::value error = json::parse(r.body);
  EXPECT_EQ(error.at("serviceCode"), "ssm-incidents");
  EXPECT_TRUE(error.as_object().contains("quotaCode"));
  // Another account has its own bucket.
  EXPECT_EQ(Rest("POST", "/startIncident", body, Auth("ssm-incidents", "222233334444")).status,
            200);
  // JSON 1.1 throttling is a 400.
  EXPECT_EQ(Json("AmazonSSM.DescribeOpsItems", "{}").status, 400);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Rest("POST", "/startIncident", body).status, 200);
}

TEST_F(DispatcherTest, NoThrottlingByDefault) {
  std::string body = std::string(R"({"responsePlanArn":")") + kPlanArn + "\"}";
  for (int i = 0; i < 50; ++i) ASSERT_EQ(Rest("POST", "/startIncident", body).status, 200);
}

// Inside a NonBlockingScope only operations that honour it reach their handler; a WouldBlock
// becomes a `would_block` response that is neither counted nor charged to the rate limit.
TEST_F(DispatcherTest, NonBlockingScopeReachesOnlyOperationsThatHonourIt) {
  options_.throttle_rate = 1;
  options_.throttle_burst = 1;
  int honouring_calls = 0;
  table_.Add(
      "ssm-incidents", "StartIncident",
      [&](const CallContext&, const json::object& in) -> absl::StatusOr<json::object> {
        ++honouring_calls;
        if (in.contains("title") && IsNonBlocking()) return WouldBlockError();
        return json::object{{"incidentRecordArn", "arn:from-memory"}};
      },
      /*honours_non_blocking=*/true);
  const std::string body = std::string(R"({"responsePlanArn":")") + kPlanArn + "\"}";
  const std::string blocking_body =
      std::string(R"({"responsePlanArn":")") + kPlanArn + R"(","title":"t"})";
  {
    NonBlockingScope scope;
    HttpResponse refused = Rest("POST", "/startIncident", blocking_body);
    EXPECT_TRUE(refused.would_block);
    EXPECT_EQ(honouring_calls, 1);
    // An operation that does not honour the scope is refused before its handler.
    HttpResponse other = Json("AmazonSSM.DescribeOpsItems", "{}");
    EXPECT_TRUE(other.would_block);
  }
  EXPECT_EQ(services_.calls(), 0);
  // The refused try gave its token back: the one token of the bucket is still there.
  HttpResponse answered;
  {
    NonBlockingScope scope;
    answered = Rest("POST", "/startIncident", body);
  }
  EXPECT_FALSE(answered.would_block);
  EXPECT_EQ(answered.status, 200);
  EXPECT_EQ(json::parse(answered.body).at("incidentRecordArn"), "arn:from-memory");
  EXPECT_EQ(Rest("POST", "/startIncident", body).status, 429);
  const std::string text = metrics_.Render();
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(klaxon_requests_total{service="ssm-incidents",operation="StartIncident",status="200"} 1)"));
  EXPECT_THAT(text, Not(HasSubstr(R"(operation="DescribeOpsItems")")));
}

// Inside a NonBlockingScope an operation with an AsyncHandler answers with a deferred response,
// encoded (and counted) when finished; outside one its Handler runs as usual.
TEST_F(DispatcherTest, AsyncHandlersAnswerWithDeferredResponses) {
  std::function<void(absl::StatusOr<json::object>)> pending;
  table_.AddAsync("ssm-incidents", "StartIncident",
                  [&](const CallContext&, const json::object& in,
                      std::function<void(absl::StatusOr<json::object>)> done) -> absl::Status {
                    if (in.contains("title")) return WouldBlockError();
                    if (in.contains("impact")) return ValidationError("impact: refused at once");
                    pending = std::move(done);
                    return absl::OkStatus();
                  });
  const std::string body = std::string(R"({"responsePlanArn":")") + kPlanArn + "\"}";
  HttpResponse deferred;
  {
    NonBlockingScope scope;
    deferred = Rest("POST", "/startIncident", body);
    EXPECT_TRUE(Rest("POST", "/startIncident",
                     std::string(R"({"responsePlanArn":")") + kPlanArn + R"(","title":"t"})")
                    .would_block);
    HttpResponse refused =
        Rest("POST", "/startIncident",
             std::string(R"({"responsePlanArn":")") + kPlanArn + R"(","impact":3})");
    EXPECT_EQ(refused.status, 400);
    EXPECT_EQ(Header(refused, "x-amzn-ErrorType"), "ValidationException");
  }
  ASSERT_NE(deferred.deferred, nullptr);
  ASSERT_TRUE(pending);
  EXPECT_EQ(services_.calls(), 0);  // the Handler did not run
  EXPECT_THAT(metrics_.Render(), Not(HasSubstr(R"(operation="StartIncident",status="200")")));
  // Completed from another thread (as the store's writer does); built where the server runs it.
  std::thread([&] { pending(json::object{{"incidentRecordArn", "arn:later"}}); }).join();
  DeferredResponse::Finish finish;
  deferred.deferred->OnComplete([&](DeferredResponse::Finish f) { finish = std::move(f); });
  ASSERT_TRUE(finish);
  HttpResponse response = finish();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(json::parse(response.body).at("incidentRecordArn"), "arn:later");
  EXPECT_FALSE(Header(response, "x-amzn-RequestId").empty());
  EXPECT_THAT(
      metrics_.Render(),
      HasSubstr(
          R"(klaxon_requests_total{service="ssm-incidents",operation="StartIncident",status="200"} 1)"));
  // Outside a scope the Handler answers.
  EXPECT_EQ(Rest("POST", "/startIncident", body).status, 200);
  EXPECT_EQ(services_.calls(), 1);
}

TEST_F(DispatcherTest, RecordsMetrics) {
  std::string body = std::string(R"({"responsePlanArn":")") + kPlanArn + "\"}";
  Rest("POST", "/startIncident", body);
  Rest("POST", "/startIncident", "{}");
  Rest("POST", "/nope", "{}");
  Json("AmazonSSM.FlyToTheMoon", "{}");
  std::string text = metrics_.Render();
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(klaxon_requests_total{service="ssm-incidents",operation="StartIncident",status="200"} 1)"));
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(klaxon_requests_total{service="ssm-incidents",operation="StartIncident",status="400"} 1)"));
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(klaxon_requests_total{service="ssm-incidents",operation="unknown",status="404"} 1)"));
  EXPECT_THAT(
      text,
      HasSubstr(R"(klaxon_requests_total{service="ssm",operation="unknown",status="400"} 1)"));
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(klaxon_request_seconds_count{service="ssm-incidents",operation="StartIncident"} 2)"));
}

// ---------------------------------------------------------------------------------------------
// The real clients (Debian boto3/botocore and the aws CLI) against the dispatcher behind the real
// HTTP server.

constexpr const char* kBotoScript = R"PY(
import datetime, json, sys
import boto3, botocore
from botocore.config import Config

endpoint = sys.argv[1]
cfg = Config(retries={"total_max_attempts": 1})
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
          aws_secret_access_key="test", config=cfg)
si = boto3.client("ssm-incidents", **kw)
ssm = boto3.client("ssm", **kw)
PLAN = "arn:aws:ssm-incidents::111122223333:response-plan/myplan"
out = {}

def err(e):
    r = e.response
    return {"code": r["Error"]["Code"], "message": r["Error"].get("Message", ""),
            "status": r["ResponseMetadata"]["HTTPStatusCode"],
            "request_id": r["ResponseMetadata"].get("RequestId", ""),
            "class": type(e).__name__,
            "resourceIdentifier": r.get("resourceIdentifier"),
            "resourceType": r.get("resourceType")}

def call(name, fn):
    try:
        out[name] = {"ok": fn()}
    except botocore.exceptions.ClientError as e:
        out[name] = {"error": err(e)}

call("start", lambda: si.start_incident(
    responsePlanArn=PLAN, title="Disk full", impact=2,
    triggerDetails={"source": "aws.cloudwatch", "timestamp": datetime.datetime(2024, 1, 1),
                    "triggerArn": "arn:aws:cloudwatch:us-east-1:111122223333:alarm:a1",
                    "rawData": "{}"})["incidentRecordArn"])
call("get", lambda: si.get_incident_record(arn=PLAN)["incidentRecord"]["creationTime"].isoformat())
call("get_missing", lambda: si.get_incident_record(arn=PLAN + "missing"))
call("invalid", lambda: si.start_incident(responsePlanArn="not-an-arn"))
call("tag", lambda: si.tag_resource(resourceArn=PLAN, tags={"k": "v"})["ResponseMetadata"]["HTTPStatusCode"])
call("untag", lambda: si.untag_resource(resourceArn=PLAN, tagKeys=["a", "b"])["ResponseMetadata"]["HTTPStatusCode"])
call("list_tags", lambda: si.list_tags_for_resource(resourceArn=PLAN)["tags"])
call("update", lambda: si.update_incident_record(arn=PLAN, status="RESOLVED")["ResponseMetadata"]["HTTPStatusCode"])
call("create_plan", lambda: si.create_response_plan(
    name="db-down", incidentTemplate={"title": "DB down", "impact": 2})["arn"])
call("no_handler", lambda: si.delete_incident_record(arn=PLAN))
call("throws", lambda: si.list_response_plans())
call("ops_get", lambda: ssm.get_ops_item(OpsItemId="oi-123456789012")["OpsItem"]["CreatedTime"].isoformat())
call("ops_missing", lambda: ssm.get_ops_item(OpsItemId="oi-000000000000"))
call("ops_invalid", lambda: ssm.get_ops_item(OpsItemId="bad"))
call("ops_describe", lambda: ssm.describe_ops_items()["OpsItemSummaries"])

# Modeled exceptions must map to the client's exception classes.
try:
    si.get_incident_record(arn=PLAN + "missing")
except si.exceptions.ResourceNotFoundException as e:
    out["rnf_class"] = True
try:
    si.start_incident(responsePlanArn="x")
except si.exceptions.ValidationException as e:
    out["validation_class"] = True
try:
    ssm.get_ops_item(OpsItemId="oi-000000000000")
except ssm.exceptions.OpsItemNotFoundException as e:
    out["opsitem_class"] = True
print(json.dumps(out))
)PY";

constexpr const char* kCloudWatchScript = R"PY(
import json, sys
import boto3, botocore
from botocore.config import Config

if len(sys.argv) > 2:  # force a protocol the model lists (current models prefer CBOR)
    import botocore.loaders
    original = botocore.loaders.Loader.load_service_model
    def patched(self, service_name, type_name, api_version=None):
        model = original(self, service_name, type_name, api_version)
        if service_name == "cloudwatch" and type_name == "service-2":
            model["metadata"]["protocols"] = [sys.argv[2]]
            model["metadata"]["protocol"] = sys.argv[2]
        return model
    botocore.loaders.Loader.load_service_model = patched

cw = boto3.client("cloudwatch", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test",
                  config=Config(retries={"total_max_attempts": 1}))
out = {"protocol": cw.meta.service_model.protocol}

def call(name, fn):
    try:
        out[name] = {"ok": fn()}
    except botocore.exceptions.ClientError as e:
        out[name] = {"error": {"code": e.response["Error"]["Code"],
                               "message": e.response["Error"].get("Message", ""),
                               "status": e.response["ResponseMetadata"]["HTTPStatusCode"],
                               "request_id": e.response["ResponseMetadata"].get("RequestId", "")}}

# botocore's RPC v2 parser sets RequestId only for operations with an output: read the header.
request_id = lambda metadata: metadata["HTTPHeaders"].get("x-amzn-requestid", "")
call("put", lambda: request_id(cw.put_metric_alarm(
    AlarmName="cpu-high", MetricName="CPUUtilization", Namespace="AWS/EC2", Statistic="Average",
    AlarmActions=["arn:aws:ssm-incidents::111122223333:responseplan/myplan"],
    Dimensions=[{"Name": "InstanceId", "Value": "i-123"}], Period=60, EvaluationPeriods=3,
    Threshold=80.0, ComparisonOperator="GreaterThanThreshold")["ResponseMetadata"]))
def describe():
    a = cw.describe_alarms(AlarmNames=["cpu-high"])["MetricAlarms"][0]
    return [a["AlarmName"], a["StateUpdatedTimestamp"].isoformat(), a["Threshold"],
            a["Dimensions"], a["ActionsEnabled"], a["AlarmActions"]]
call("describe", describe)
call("missing", lambda: cw.set_alarm_state(AlarmName="nope", StateValue="ALARM", StateReason="r"))
call("invalid", lambda: cw.describe_alarms(StateValue="NOPE"))
call("unknown", lambda: cw.list_dashboards())
try:
    cw.set_alarm_state(AlarmName="nope", StateValue="ALARM", StateReason="r")
except cw.exceptions.ResourceNotFound:
    out["rnf_class"] = True
print(json.dumps(out))
)PY";

bool HaveBoto3() { return std::system("/usr/bin/python3 -c 'import boto3' >/dev/null 2>&1") == 0; }

std::string RunCommand(const std::string& command, int* exit_code) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  int status = pclose(pipe);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return output;
}

class RealClientTest : public DispatcherTest {
 protected:
  void SetUp() override {
    if (!HaveBoto3()) GTEST_SKIP() << "/usr/bin/python3 has no boto3";
    HttpServerOptions options;
    options.port = 0;
    options.io_threads = 1;
    options.worker_threads = 4;
    server_ = std::make_unique<HttpServer>(options, dispatcher(), metrics_);
    ASSERT_TRUE(server_->Start().ok());
    endpoint_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  std::unique_ptr<HttpServer> server_;
  std::string endpoint_;
};

TEST_F(RealClientTest, Boto3ParsesOutputsAndErrors) {
  std::filesystem::path script = std::filesystem::temp_directory_path() /
                                 ("klaxon_dispatcher_boto_" + std::to_string(::getpid()) + ".py");
  std::ofstream(script) << kBotoScript;
  int code = -1;
  std::string output = RunCommand(
      "env -u AWS_PROFILE AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null "
      "/usr/bin/python3 " +
          script.string() + " " + endpoint_ + " 2>&1",
      &code);
  std::filesystem::remove(script);
  ASSERT_EQ(code, 0) << output;
  json::value result = json::parse(output);
  const json::object& r = result.as_object();

  EXPECT_EQ(r.at("start").at("ok"), kIncidentArn);
  EXPECT_EQ(r.at("get").at("ok"), "2024-01-01T00:00:00.500000+00:00");
  EXPECT_EQ(json::parse(services_.LastInput("StartIncident")).at("triggerDetails").at("timestamp"),
            1704067200.0);
  // The idempotency token is auto-filled by the client and reaches the handler.
  EXPECT_TRUE(
      json::parse(services_.LastInput("StartIncident")).as_object().contains("clientToken"));

  const json::value& missing = r.at("get_missing").at("error");
  EXPECT_EQ(missing.at("code"), "ResourceNotFoundException");
  EXPECT_EQ(missing.at("class"), "ResourceNotFoundException");
  EXPECT_EQ(missing.at("status"), 404);
  EXPECT_EQ(missing.at("resourceType"), "INCIDENT_RECORD");
  EXPECT_EQ(missing.at("resourceIdentifier"), json::value(std::string(kPlanArn) + "missing"));
  EXPECT_EQ(missing.at("request_id").as_string().size(), 36u);

  const json::value& invalid = r.at("invalid").at("error");
  EXPECT_EQ(invalid.at("code"), "ValidationException");
  EXPECT_EQ(invalid.at("class"), "ValidationException");
  EXPECT_THAT(std::string(invalid.at("message").as_string()),
              HasSubstr("Value 'not-an-arn' at 'responsePlanArn' failed to satisfy constraint"));

  EXPECT_EQ(r.at("tag").at("ok"), 204);
  EXPECT_EQ(json::parse(services_.LastInput("TagResource")).at("resourceArn"), kPlanArn);
  EXPECT_EQ(r.at("untag").at("ok"), 204);
  EXPECT_EQ(json::parse(services_.LastInput("UntagResource")).at("tagKeys"),
            json::parse(R"(["a","b"])"));
  EXPECT_EQ(r.at("list_tags").at("ok"), json::parse(R"({"k":"v"})"));
  EXPECT_EQ(r.at("update").at("ok"), 204);
  EXPECT_EQ(r.at("create_plan").at("ok"),
            "arn:aws:ssm-incidents::111122223333:response-plan/db-down");
  EXPECT_EQ(r.at("no_handler").at("error").at("code"), "UnknownOperationException");
  EXPECT_EQ(r.at("throws").at("error").at("code"), "InternalServerException");
  EXPECT_EQ(r.at("throws").at("error").at("status"), 500);

  EXPECT_EQ(r.at("ops_get").at("ok"), "2024-01-01T00:00:00.500000+00:00");
  EXPECT_EQ(r.at("ops_missing").at("error").at("code"), "OpsItemNotFoundException");
  EXPECT_EQ(r.at("ops_missing").at("error").at("message"), "OpsItem oi-000000000000 not found");
  EXPECT_EQ(r.at("ops_invalid").at("error").at("code"), "ValidationException");
  EXPECT_EQ(r.at("ops_describe").at("ok"), json::array());

  EXPECT_EQ(r.at("rnf_class"), true);
  EXPECT_EQ(r.at("validation_class"), true);
  EXPECT_EQ(r.at("opsitem_class"), true);
}

// Runs kCloudWatchScript with `python` and checks the results, whichever CloudWatch protocol that
// botocore speaks (query for Debian's, JSON 1.0 for current ones).
void CheckCloudWatch(const std::string& python, const std::string& endpoint,
                     const std::string& expected_protocol, FakeServices& services,
                     const std::string& force_protocol = "") {
  std::filesystem::path script = std::filesystem::temp_directory_path() /
                                 ("klaxon_dispatcher_cw_" + std::to_string(::getpid()) + ".py");
  std::ofstream(script) << kCloudWatchScript;
  int code = -1;
  std::string output = RunCommand(
      "env -u AWS_PROFILE AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null " +
          python + " " + script.string() + " " + endpoint + " " + force_protocol + " 2>&1",
      &code);
  std::filesystem::remove(script);
  ASSERT_EQ(code, 0) << output;
  json::value result = json::parse(output);
  const json::object& r = result.as_object();
  ASSERT_EQ(r.at("protocol"), json::value(expected_protocol));

  EXPECT_EQ(r.at("put").at("ok").as_string().size(), 36u);  // the request id
  EXPECT_EQ(json::parse(services.LastInput("PutMetricAlarm")), json::parse(R"({
      "AlarmName":"cpu-high","MetricName":"CPUUtilization","Namespace":"AWS/EC2",
      "Statistic":"Average",
      "AlarmActions":["arn:aws:ssm-incidents::111122223333:responseplan/myplan"],
      "Dimensions":[{"Name":"InstanceId","Value":"i-123"}],"Period":60,"EvaluationPeriods":3,
      "Threshold":80.0,"ComparisonOperator":"GreaterThanThreshold"})"));
  EXPECT_EQ(r.at("describe").at("ok"), json::parse(R"(["cpu-high",
      "2024-01-01T00:00:00.250000+00:00", 80.5, [{"Name":"InstanceId","Value":"i-123"}], true,
      ["arn:aws:ssm-incidents::111122223333:responseplan/myplan"]])"));
  EXPECT_EQ(r.at("missing").at("error").at("code"), "ResourceNotFound");
  EXPECT_EQ(r.at("missing").at("error").at("message"), "Alarm nope not found");
  EXPECT_EQ(r.at("missing").at("error").at("status"), 404);
  EXPECT_EQ(r.at("missing").at("error").at("request_id").as_string().size(), 36u);
  EXPECT_EQ(r.at("invalid").at("error").at("code"), "ValidationError");
  EXPECT_THAT(std::string(r.at("invalid").at("error").at("message").as_string()),
              HasSubstr("Value 'NOPE' at 'stateValue' failed to satisfy constraint"));
  EXPECT_EQ(r.at("unknown").at("error").at("code"), "InvalidAction");
  EXPECT_EQ(r.at("rnf_class"), true);
}

TEST_F(RealClientTest, CloudWatchQueryFromDebianBoto3) {
  CheckCloudWatch("/usr/bin/python3", endpoint_, "query", services_);
}

// Current botocore (not a Debian package; used when present on PATH) prefers RPC v2 CBOR for
// CloudWatch and also lists JSON 1.0 with awsQueryCompatible errors: both are tested.
TEST_F(RealClientTest, CloudWatchJson10FromCurrentBoto3) {
  int code = -1;
  std::string protocols = RunCommand(
      "python3 -c 'import boto3; print(boto3.client(\"cloudwatch\", region_name=\"us-east-1\")"
      ".meta.service_model.metadata.get(\"protocols\"))' 2>/dev/null",
      &code);
  if (code != 0 || protocols.find("'json'") == std::string::npos) {
    GTEST_SKIP() << "no botocore with JSON 1.0 for CloudWatch on PATH";
  }
  CheckCloudWatch("python3", endpoint_, "json", services_, "json");
}

TEST_F(RealClientTest, CloudWatchRpcV2CborFromCurrentBoto3) {
  int code = -1;
  std::string protocols = RunCommand(
      "python3 -c 'import boto3; print(boto3.client(\"cloudwatch\", region_name=\"us-east-1\")"
      ".meta.service_model.metadata.get(\"protocols\"))' 2>/dev/null",
      &code);
  if (code != 0 || protocols.find("'smithy-rpc-v2-cbor'") == std::string::npos) {
    GTEST_SKIP() << "no botocore with RPC v2 CBOR for CloudWatch on PATH";
  }
  CheckCloudWatch("python3", endpoint_, "smithy-rpc-v2-cbor", services_, "smithy-rpc-v2-cbor");
}

TEST_F(RealClientTest, AwsCliSuccessAndError) {
  if (!std::filesystem::exists("/usr/bin/aws")) GTEST_SKIP() << "no /usr/bin/aws";
  std::string env =
      "env -u AWS_PROFILE AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null "
      "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 "
      "AWS_MAX_ATTEMPTS=1 ";
  int code = -1;
  std::string output = RunCommand(env + "/usr/bin/aws --endpoint-url " + endpoint_ +
                                      " ssm-incidents start-incident --response-plan-arn " +
                                      kPlanArn + " --title t --output json 2>&1",
                                  &code);
  ASSERT_EQ(code, 0) << output;
  EXPECT_EQ(json::parse(output).at("incidentRecordArn"), kIncidentArn);

  output = RunCommand(env + "/usr/bin/aws --endpoint-url " + endpoint_ +
                          " ssm-incidents get-incident-record --arn " + kPlanArn + "missing 2>&1",
                      &code);
  EXPECT_EQ(code, 254) << output;
  // (AWS_MAX_ATTEMPTS=1 makes the CLI add "(reached max retries: 0)" before the colon.)
  EXPECT_THAT(output, HasSubstr("An error occurred (ResourceNotFoundException) when calling the "
                                "GetIncidentRecord operation"));
  EXPECT_THAT(output,
              HasSubstr(": Incident record " + std::string(kPlanArn) + "missing not found"));
}

}  // namespace
}  // namespace klaxon::api
