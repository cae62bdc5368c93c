#include "api/services/events/handlers.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "api/model/model_registry.h"
#include "api/model/validator.h"
#include "boost/json.hpp"
#include "common/clock.h"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "outbox/store_outbox.h"
#include "storage/memory_store.h"

namespace klaxon::api::events {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kModelPath[] =
    "/usr/lib/python3/dist-packages/botocore/data/events/2015-10-07/service-2.json";
constexpr char kAccount[] = "000000000000";

// The Debian botocore ssm-incidents model, the wire's source of truth (null when not installed).
const json::object* Model() {
  static const json::object* model = []() -> const json::object* {
    std::ifstream in(kModelPath);
    if (!in) return nullptr;
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    json::value v = json::parse(text.str(), ec);
    if (ec || !v.is_object()) return nullptr;
    return new json::object(std::move(v.as_object()));
  }();
  return model;
}

// Checks that `v` is a valid instance of the model shape `shape_name` as strict clients read it:
// known member names, JSON types, enums, required members, unions with exactly one member.
void CheckShape(const json::value& v, const std::string& shape_name, const std::string& path,
                std::vector<std::string>& errors) {
  const json::object& shape = Model()->at("shapes").at(shape_name).as_object();
  std::string type(shape.at("type").as_string());
  auto fail = [&](const std::string& what) { errors.push_back(path + ": " + what); };
  if (type == "structure") {
    if (!v.is_object()) return fail("not an object");
    const json::object& members = shape.at("members").as_object();
    for (const auto& [name, value] : v.as_object()) {
      auto* m = members.if_contains(name);
      if (!m) {
        fail("member " + std::string(name) + " is not in " + shape_name);
        continue;
      }
      if (value.is_null()) fail("member " + std::string(name) + " is null");
      CheckShape(value, std::string(m->at("shape").as_string()), path + "." + std::string(name),
                 errors);
    }
    if (auto* u = shape.if_contains("union"); u && u->as_bool() && v.as_object().size() != 1) {
      fail("union " + shape_name + " must have exactly one member, has " +
           std::to_string(v.as_object().size()));
    }
    if (auto* req = shape.if_contains("required")) {
      for (const auto& r : req->as_array()) {
        if (!v.as_object().contains(r.as_string())) {
          fail("required member " + std::string(r.as_string()) + " missing");
        }
      }
    }
  } else if (type == "list") {
    if (!v.is_array()) return fail("not a list");
    std::string member(shape.at("member").at("shape").as_string());
    int i = 0;
    for (const auto& e : v.as_array())
      CheckShape(e, member, path + "[" + std::to_string(i++) + "]", errors);
  } else if (type == "map") {
    if (!v.is_object()) return fail("not a map");
    std::string value_shape(shape.at("value").at("shape").as_string());
    for (const auto& [k, e] : v.as_object()) {
      CheckShape(e, value_shape, path + "." + std::string(k), errors);
    }
  } else if (type == "string") {
    if (!v.is_string()) return fail("not a string");
    if (auto* e = shape.if_contains("enum")) {
      bool found = false;
      for (const auto& x : e->as_array()) found |= x.as_string() == v.as_string();
      if (!found) fail("'" + std::string(v.as_string()) + "' not in enum");
    }
  } else if (type == "integer" || type == "long") {
    if (!v.is_int64() && !v.is_uint64()) fail("not an integer");
  } else if (type == "timestamp") {
    if (!v.is_number()) fail("not a number (epoch seconds)");
  } else if (type == "boolean") {
    if (!v.is_bool()) fail("not a boolean");
  }
}

std::string ErrorType(const absl::Status& s) { return AwsErrorType(s).value_or("<none>"); }

class EventsHandlersTest : public ::testing::Test {
 protected:
  EventsHandlersTest() {
    outbox::OutboxOptions o;
    o.delivery_threads = 0;
    outbox_ = std::make_unique<outbox::StoreOutbox>(store_, clock_, o);
    service_ = std::make_unique<::klaxon::events::EventBusService>(store_, clock_, *outbox_);
    RegisterEventsHandlers(table_, *service_);
    caller_ = Caller{kAccount, "test", "arn:aws:iam::000000000000:root", "us-east-1", "events"};
  }

  // Validates `input` against the embedded model (as the protocol layer does), calls the handler,
  // shapes the output as the codec does and checks it against the Debian model.
  absl::StatusOr<json::object> Call(const std::string& op, const std::string& input) {
    const Handler* h = table_.Find("events", op);
    if (!h) return absl::UnimplementedError(op);
    const model::ServiceModel* service = model::ModelRegistry::Embedded().Find("events");
    if (service == nullptr) return absl::InternalError("no embedded events model");
    const model::Operation* operation = service->FindOperation(op);
    if (!operation) return absl::UnimplementedError(op);
    json::value in = json::parse(input);
    KLAXON_RETURN_IF_ERROR(model::ValidateInput(*operation->input, in));
    CallContext ctx{caller_, "events", op, "req-1"};
    auto out = (*h)(ctx, in.as_object());
    if (!out.ok()) return out;
    json::value shaped = *out;
    if (operation->output) model::ShapeOutput(*operation->output, shaped);
    if (Model()) {
      const json::object& mop = Model()->at("operations").at(op).as_object();
      if (auto* o = mop.if_contains("output")) {
        std::vector<std::string> errors;
        CheckShape(shaped, std::string(o->at("shape").as_string()), op, errors);
        EXPECT_THAT(errors, IsEmpty()) << json::serialize(shaped);
      }
    }
    return shaped.is_object() ? shaped.as_object() : json::object();
  }

  json::object MustCall(const std::string& op, const std::string& input) {
    auto out = Call(op, input);
    EXPECT_TRUE(out.ok()) << op << ": " << out.status();
    return out.ok() ? *out : json::object{};
  }

  storage::MemoryStore store_;
  SimulatedClock clock_;
  std::unique_ptr<outbox::StoreOutbox> outbox_;
  std::unique_ptr<::klaxon::events::EventBusService> service_;
  OperationTable table_;
  Caller caller_;
};

TEST_F(EventsHandlersTest, EveryRegisteredOperationIsInTheModel) {
  const model::ServiceModel* service = model::ModelRegistry::Embedded().Find("events");
  ASSERT_NE(service, nullptr);
  int n = 0;
  for (const char* op : {"ActivateEventSource",
                         "CreateEventBus",
                         "CreatePartnerEventSource",
                         "DeactivateEventSource",
                         "DeleteEventBus",
                         "DeletePartnerEventSource",
                         "DeleteRule",
                         "DescribeEventBus",
                         "DescribeEventSource",
                         "DescribePartnerEventSource",
                         "DescribeRule",
                         "DisableRule",
                         "EnableRule",
                         "ListEventBuses",
                         "ListEventSources",
                         "ListPartnerEventSourceAccounts",
                         "ListPartnerEventSources",
                         "ListRuleNamesByTarget",
                         "ListRules",
                         "ListTagsForResource",
                         "ListTargetsByRule",
                         "PutEvents",
                         "PutPartnerEvents",
                         "PutRule",
                         "PutTargets",
                         "RemoveTargets",
                         "TagResource",
                         "TestEventPattern",
                         "UntagResource"}) {
    EXPECT_NE(table_.Find("events", op), nullptr) << op;
    EXPECT_NE(service->FindOperation(op), nullptr) << op;
    ++n;
  }
  EXPECT_EQ(n, 29);
}

TEST_F(EventsHandlersTest, RulesTargetsAndEvents) {
  auto rule = MustCall("PutRule", R"({"Name":"r1","EventPattern":"{\"source\":[\"app\"]}",
                                      "Description":"d","Tags":[{"Key":"k","Value":"v"}]})");
  EXPECT_EQ(rule.at("RuleArn").as_string(), "arn:aws:events:us-east-1:000000000000:rule/r1");
  auto described = MustCall("DescribeRule", R"({"Name":"r1"})");
  EXPECT_EQ(described.at("State").as_string(), "ENABLED");
  EXPECT_EQ(described.at("EventBusName").as_string(), "default");
  EXPECT_EQ(described.at("CreatedBy").as_string(), kAccount);
  auto put = MustCall("PutTargets", R"({"Rule":"r1","Targets":[
      {"Id":"im","Arn":"arn:aws:ssm-incidents::000000000000:response-plan/p",
       "RoleArn":"arn:aws:iam::000000000000:role/r"},
      {"Id":"sqs","Arn":"arn:aws:sqs:us-east-1:000000000000:q"},
      {"Id":"hook","Arn":"http://127.0.0.1:9/h","InputTransformer":{
         "InputPathsMap":{"s":"$.source"},"InputTemplate":"{\"s\": <s>}"},
       "HttpParameters":{"HeaderParameters":{"X-A":"1"}},
       "RetryPolicy":{"MaximumRetryAttempts":3,"MaximumEventAgeInSeconds":600}}]})");
  EXPECT_EQ(put.at("FailedEntryCount").as_int64(), 1);
  EXPECT_EQ(put.at("FailedEntries").as_array()[0].at("TargetId").as_string(), "sqs");
  auto targets = MustCall("ListTargetsByRule", R"({"Rule":"r1"})");
  ASSERT_EQ(targets.at("Targets").as_array().size(), 2u);
  const json::object& hook = targets.at("Targets").as_array()[1].as_object();
  EXPECT_EQ(hook.at("RetryPolicy").at("MaximumRetryAttempts").as_int64(), 3);
  EXPECT_EQ(hook.at("InputTransformer").at("InputPathsMap").at("s").as_string(), "$.source");
  auto events = MustCall("PutEvents", R"({"Entries":[
      {"Source":"app","DetailType":"t","Detail":"{}","Time":1704067200},
      {"Source":"app","DetailType":"t"}]})");
  EXPECT_EQ(events.at("FailedEntryCount").as_int64(), 1);
  EXPECT_EQ(events.at("Entries").as_array()[0].at("EventId").as_string().size(), 36u);
  EXPECT_EQ(events.at("Entries").as_array()[1].at("ErrorCode").as_string(), "InvalidArgument");
  EXPECT_EQ(outbox_->Pending()->size(), 2u);
  auto names = MustCall("ListRuleNamesByTarget",
                        R"({"TargetArn":"arn:aws:ssm-incidents::000000000000:response-plan/p"})");
  EXPECT_EQ(names.at("RuleNames").as_array().size(), 1u);
  auto tags = MustCall("ListTagsForResource",
                       R"({"ResourceARN":"arn:aws:events:us-east-1:000000000000:rule/r1"})");
  EXPECT_EQ(tags.at("Tags").as_array().size(), 1u);
  auto rules = MustCall("ListRules", R"({"Limit":1})");
  EXPECT_EQ(rules.at("Rules").as_array().size(), 1u);
  MustCall("DisableRule", R"({"Name":"r1"})");
  EXPECT_EQ(MustCall("DescribeRule", R"({"Name":"r1"})").at("State").as_string(), "DISABLED");
  auto del = Call("DeleteRule", R"({"Name":"r1"})");
  EXPECT_EQ(ErrorType(del.status()), "ValidationException");
  MustCall("RemoveTargets", R"({"Rule":"r1","Ids":["im","hook"]})");
  MustCall("DeleteRule", R"({"Name":"r1"})");
}

TEST_F(EventsHandlersTest, PatternErrorsAndTestEventPattern) {
  auto bad = Call("PutRule", R"({"Name":"r","EventPattern":"{\"source\":[]}"})");
  EXPECT_EQ(ErrorType(bad.status()), "InvalidEventPatternException");
  auto ok = MustCall("TestEventPattern", R"({"EventPattern":"{\"source\":[\"a\"]}",
      "Event":"{\"id\":\"1\",\"account\":\"000000000000\",\"source\":\"a\",\"time\":\"2024-01-01T00:00:00Z\",\"region\":\"us-east-1\",\"resources\":[],\"detail-type\":\"x\",\"detail\":{}}"})");
  EXPECT_TRUE(ok.at("Result").as_bool());
}

TEST_F(EventsHandlersTest, BusesAndPartnerSources) {
  MustCall("CreateEventBus", R"({"Name":"custom","Tags":[{"Key":"a","Value":"b"}]})");
  auto bus = MustCall("DescribeEventBus", R"({"Name":"custom"})");
  EXPECT_EQ(bus.at("Arn").as_string(), "arn:aws:events:us-east-1:000000000000:event-bus/custom");
  EXPECT_EQ(MustCall("DescribeEventBus", "{}").at("Name").as_string(), "default");
  EXPECT_EQ(MustCall("ListEventBuses", "{}").at("EventBuses").as_array().size(), 2u);
  const std::string name = "aws.partner/example.com/000000000000/x";
  MustCall("CreatePartnerEventSource", R"({"Name":")" + name + R"(","Account":"000000000000"})");
  EXPECT_EQ(MustCall("ListPartnerEventSources", R"({"NamePrefix":"aws.partner/example.com/"})")
                .at("PartnerEventSources")
                .as_array()
                .size(),
            1u);
  auto accounts =
      MustCall("ListPartnerEventSourceAccounts", R"({"EventSourceName":")" + name + R"("})");
  EXPECT_EQ(accounts.at("PartnerEventSourceAccounts").as_array()[0].at("State").as_string(),
            "PENDING");
  MustCall("CreateEventBus", R"({"Name":")" + name + R"(","EventSourceName":")" + name + R"("})");
  auto source = MustCall("DescribeEventSource", R"({"Name":")" + name + R"("})");
  EXPECT_EQ(source.at("State").as_string(), "ACTIVE");
  EXPECT_EQ(source.at("CreatedBy").as_string(), "example.com");
  EXPECT_EQ(MustCall("ListEventSources", "{}").at("EventSources").as_array().size(), 1u);
  MustCall("DeactivateEventSource", R"({"Name":")" + name + R"("})");
  MustCall("ActivateEventSource", R"({"Name":")" + name + R"("})");
  auto partner = MustCall("PutPartnerEvents", R"({"Entries":[{"Source":")" + name +
                                                  R"(","DetailType":"a","Detail":"{}"}]})");
  EXPECT_EQ(partner.at("FailedEntryCount").as_int64(), 0);
  MustCall("DeletePartnerEventSource", R"({"Name":")" + name + R"(","Account":"000000000000"})");
  auto missing = Call("DescribeEventBus", R"({"Name":"nope"})");
  EXPECT_EQ(ErrorType(missing.status()), "ResourceNotFoundException");
}

}  // namespace
}  // namespace klaxon::api::events
