#include "api/services/ssm_incidents/handlers.h"

#include <cstdlib>
#include <fstream>
#include <set>
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
#include "incidents/incident_manager.h"
#include "opsitems/ops_item_service.h"
#include "storage/memory_store.h"

namespace klaxon::api::ssm_incidents {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;

constexpr char kModelPath[] =
    "/usr/lib/python3/dist-packages/botocore/data/ssm-incidents/2018-05-10/service-2.json";
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

std::string S(const json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
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
std::string ErrorField(const absl::Status& s, const char* name) {
  auto fields = AwsErrorFields(s);
  auto* v = fields.if_contains(name);
  return v ? S(*v) : "";
}

class SsmIncidentsHandlersTest : public ::testing::Test {
 protected:
  SsmIncidentsHandlersTest() : ops_(store_, clock_), incidents_(store_, clock_, ops_) {
    RegisterSsmIncidentsHandlers(table_, incidents_);
    caller_ =
        Caller{kAccount, "test", "arn:aws:iam::000000000000:root", "us-east-1", "ssm-incidents"};
  }

  // Runs `input` through what the protocol layer does before a handler (validation against the
  // embedded model), calls the handler, and checks the output against the Debian model.
  absl::StatusOr<json::object> Call(const std::string& op, const std::string& input) {
    const Handler* h = table_.Find("ssm-incidents", op);
    if (!h) return absl::UnimplementedError(op);
    const model::ServiceModel* service = model::ModelRegistry::Embedded().Find("ssm-incidents");
    if (service == nullptr) return absl::InternalError("no embedded ssm-incidents model");
    const model::Operation* operation = service->FindOperation(op);
    if (!operation) return absl::UnimplementedError(op);
    json::value in = json::parse(input);
    KLAXON_RETURN_IF_ERROR(model::ValidateInput(*operation->input, in));
    CallContext ctx{caller_, "ssm-incidents", op, "req-1"};
    auto out = (*h)(ctx, in.as_object());
    if (out.ok()) ExpectConforms(op, *out);
    return out;
  }

  json::object MustCall(const std::string& op, const std::string& input) {
    auto out = Call(op, input);
    EXPECT_TRUE(out.ok()) << op << ": " << out.status();
    return out.ok() ? *out : json::object{};
  }

  void ExpectConforms(const std::string& operation, const json::object& out) {
    if (!Model()) return;
    const json::object& op = Model()->at("operations").at(operation).as_object();
    std::vector<std::string> errors;
    CheckShape(out, std::string(op.at("output").at("shape").as_string()), operation, errors);
    EXPECT_THAT(errors, IsEmpty()) << json::serialize(out);
  }

  // A replication set and a fully specified response plan.
  std::string SetUpPlan(const std::string& name = "db-down", const std::string& dedupe = "") {
    if (set_arn_.empty()) {
      set_arn_ =
          S(MustCall("CreateReplicationSet", R"({"regions":{"us-east-1":{}},"clientToken":"c1"})")
                .at("arn"));
    }
    json::object plan = json::parse(R"({
      "name": "x",
      "displayName": "Database down",
      "incidentTemplate": {"title": "DB down", "impact": 2, "summary": "Primary unreachable",
                           "incidentTags": {"team": "db"},
                           "notificationTargets": [{"snsTopicArn": "arn:aws:sns:us-east-1:000000000000:t"}]},
      "chatChannel": {"chatbotSns": ["arn:aws:sns:us-east-1:000000000000:chat"]},
      "engagements": ["arn:aws:ssm-contacts:us-east-1:000000000000:contact/oncall"],
      "actions": [{"ssmAutomation": {"documentName": "AWS-RestartEC2Instance",
                                     "documentVersion": "$DEFAULT",
                                     "roleArn": "arn:aws:iam::000000000000:role/runbook",
                                     "targetAccount": "RESPONSE_PLAN_OWNER_ACCOUNT",
                                     "parameters": {"InstanceId": ["i-1"]},
                                     "dynamicParameters": {"Incident": {"variable": "INCIDENT_RECORD_ARN"}}}}],
      "integrations": [{"pagerDutyConfiguration": {"name": "pd", "secretId": "s",
                        "pagerDutyIncidentConfiguration": {"serviceId": "S1"}}}],
      "tags": {"env": "prod"}
    })")
                            .as_object();
    plan["name"] = name;
    if (!dedupe.empty()) plan["incidentTemplate"].as_object()["dedupeString"] = dedupe;
    return S(MustCall("CreateResponsePlan", json::serialize(plan)).at("arn"));
  }

  std::string StartIncident(const std::string& plan, const std::string& extra = "") {
    std::string body = R"({"responsePlanArn":")" + plan + "\"" + extra + "}";
    return S(MustCall("StartIncident", body).at("incidentRecordArn"));
  }

  storage::MemoryStore store_;
  SimulatedClock clock_;
  opsitems::OpsItemService ops_;
  incidents::IncidentManager incidents_;
  OperationTable table_;
  Caller caller_;
  std::string set_arn_;
};

TEST_F(SsmIncidentsHandlersTest, EveryModelOperationHasAHandler) {
  if (!Model()) GTEST_SKIP() << "no botocore model at " << kModelPath;
  int n = 0;
  for (const auto& [name, op] : Model()->at("operations").as_object()) {
    EXPECT_NE(table_.Find("ssm-incidents", std::string(name)), nullptr) << name;
    ++n;
  }
  EXPECT_EQ(n, 29);
}

TEST_F(SsmIncidentsHandlersTest, ReplicationSetLifecycle) {
  SetUpPlan();
  auto got = MustCall("GetReplicationSet", R"({"arn":")" + set_arn_ + R"("})");
  const auto& set = got.at("replicationSet").as_object();
  EXPECT_EQ(S(set.at("status")), "ACTIVE");
  EXPECT_EQ(set.at("deletionProtected"), false);
  EXPECT_EQ(S(set.at("regionMap").at("us-east-1").at("status")), "ACTIVE");
  EXPECT_EQ(S(set.at("regionMap").at("us-east-1").at("sseKmsKeyId")), "DefaultKey");
  EXPECT_EQ(set.at("createdTime").as_double(), ToEpochSeconds(clock_.Now()));

  auto list = MustCall("ListReplicationSets", "{}");
  EXPECT_EQ(S(list.at("replicationSetArns").at(0)), set_arn_);
  EXPECT_FALSE(list.contains("nextToken"));

  // The same clientToken replays; a second set conflicts.
  EXPECT_EQ(S(MustCall("CreateReplicationSet", R"({"regions":{"us-east-1":{}},"clientToken":"c1"})")
                  .at("arn")),
            set_arn_);
  auto second = Call("CreateReplicationSet", R"({"regions":{"us-west-2":{}},"clientToken":"c2"})");
  EXPECT_EQ(ErrorType(second.status()), "ConflictException");

  MustCall("UpdateReplicationSet",
           R"({"arn":")" + set_arn_ +
               R"(","actions":[{"addRegionAction":{"regionName":"us-west-2"}}]})");
  got = MustCall("GetReplicationSet", R"({"arn":")" + set_arn_ + R"("})");
  EXPECT_EQ(got.at("replicationSet").at("regionMap").as_object().size(), 2u);
  MustCall("UpdateReplicationSet",
           R"({"arn":")" + set_arn_ +
               R"(","actions":[{"deleteRegionAction":{"regionName":"us-west-2"}}]})");

  MustCall("UpdateDeletionProtection", R"({"arn":")" + set_arn_ + R"(","deletionProtected":true})");
  auto refused = Call("DeleteReplicationSet", R"({"arn":")" + set_arn_ + R"("})");
  EXPECT_EQ(ErrorType(refused.status()), "ValidationException");
  MustCall("UpdateDeletionProtection",
           R"({"arn":")" + set_arn_ + R"(","deletionProtected":false})");
  MustCall("DeleteReplicationSet", R"({"arn":")" + set_arn_ + R"("})");
  auto gone = Call("GetReplicationSet", R"({"arn":")" + set_arn_ + R"("})");
  EXPECT_EQ(ErrorType(gone.status()), "ResourceNotFoundException");
  EXPECT_EQ(ErrorField(gone.status(), "resourceType"), "REPLICATION_SET");
  EXPECT_EQ(ErrorField(gone.status(), "resourceIdentifier"), set_arn_);
}

TEST_F(SsmIncidentsHandlersTest, ResponsePlans) {
  std::string arn = SetUpPlan();
  EXPECT_EQ(arn, "arn:aws:ssm-incidents::000000000000:response-plan/db-down");
  auto plan = MustCall("GetResponsePlan", R"({"arn":")" + arn + R"("})");
  EXPECT_EQ(S(plan.at("name")), "db-down");
  EXPECT_EQ(S(plan.at("displayName")), "Database down");
  EXPECT_EQ(S(plan.at("incidentTemplate").at("title")), "DB down");
  EXPECT_EQ(plan.at("incidentTemplate").at("impact"), 2);
  EXPECT_EQ(S(plan.at("incidentTemplate").at("incidentTags").at("team")), "db");
  EXPECT_EQ(S(plan.at("actions")
                  .at(0)
                  .at("ssmAutomation")
                  .at("dynamicParameters")
                  .at("Incident")
                  .at("variable")),
            "INCIDENT_RECORD_ARN");
  EXPECT_EQ(S(plan.at("integrations").at(0).at("pagerDutyConfiguration").at("name")), "pd");
  EXPECT_EQ(S(plan.at("chatChannel").at("chatbotSns").at(0)),
            "arn:aws:sns:us-east-1:000000000000:chat");

  SetUpPlan("other");
  auto page1 = MustCall("ListResponsePlans", R"({"maxResults":1})");
  ASSERT_EQ(page1.at("responsePlanSummaries").as_array().size(), 1u);
  EXPECT_EQ(S(page1.at("responsePlanSummaries").at(0).at("name")), "db-down");
  auto page2 = MustCall("ListResponsePlans",
                        R"({"maxResults":1,"nextToken":")" + S(page1.at("nextToken")) + R"("})");
  EXPECT_EQ(S(page2.at("responsePlanSummaries").at(0).at("name")), "other");
  EXPECT_FALSE(page2.contains("nextToken"));

  MustCall("UpdateResponsePlan", R"({"arn":")" + arn + R"(","incidentTemplateTitle":"New",
            "incidentTemplateImpact":1,"chatChannel":{"empty":{}},"engagements":[],
            "incidentTemplateDedupeString":"db","clientToken":"u1"})");
  plan = MustCall("GetResponsePlan", R"({"arn":")" + arn + R"("})");
  EXPECT_EQ(S(plan.at("incidentTemplate").at("title")), "New");
  EXPECT_EQ(S(plan.at("incidentTemplate").at("dedupeString")), "db");
  EXPECT_TRUE(plan.at("chatChannel").at("empty").as_object().empty());
  EXPECT_TRUE(plan.at("engagements").as_array().empty());

  // Both spellings of the plan ARN.
  MustCall("GetResponsePlan",
           R"({"arn":"arn:aws:ssm-incidents::000000000000:responseplan/db-down"})");

  MustCall("DeleteResponsePlan", R"({"arn":")" + arn + R"("})");
  MustCall("DeleteResponsePlan", R"({"arn":")" + arn + R"("})");  // idempotent
  auto missing = Call("GetResponsePlan", R"({"arn":")" + arn + R"("})");
  EXPECT_EQ(ErrorType(missing.status()), "ResourceNotFoundException");
  EXPECT_EQ(ErrorField(missing.status(), "resourceType"), "RESPONSE_PLAN");
}

TEST_F(SsmIncidentsHandlersTest, StartGetListUpdateIncidents) {
  std::string plan = SetUpPlan("db-down", "db");
  std::string arn = StartIncident(plan, R"(,"title":"Primary DB unreachable","clientToken":"tok-1",
              "relatedItems":[{"identifier":{"type":"METRIC","value":{"arn":"arn:aws:cloudwatch:us-east-1:000000000000:alarm:a1"}},"title":"alarm"}],
              "triggerDetails":{"source":"aws.cloudwatch","triggerArn":"arn:aws:cloudwatch:us-east-1:000000000000:alarm:a1","timestamp":1704067200,"rawData":"{}"})");
  EXPECT_THAT(arn, MatchesRegex("arn:aws:ssm-incidents::000000000000:incident-record/db-down/"
                                "[0-9a-f-]{36}"));
  // Retry with the same token: same ARN. A dedup'd start: same ARN.
  EXPECT_EQ(StartIncident(plan, R"(,"title":"Primary DB unreachable","clientToken":"tok-1",
              "relatedItems":[{"identifier":{"type":"METRIC","value":{"arn":"arn:aws:cloudwatch:us-east-1:000000000000:alarm:a1"}},"title":"alarm"}],
              "triggerDetails":{"source":"aws.cloudwatch","triggerArn":"arn:aws:cloudwatch:us-east-1:000000000000:alarm:a1","timestamp":1704067200,"rawData":"{}"})"),
            arn);
  EXPECT_EQ(StartIncident(plan, R"(,"clientToken":"tok-2")"), arn);

  auto got = MustCall("GetIncidentRecord", R"({"arn":")" + arn + R"("})");
  json::object r = got.at("incidentRecord").as_object();
  EXPECT_EQ(S(r.at("title")), "Primary DB unreachable");
  EXPECT_EQ(r.at("impact"), 2);
  EXPECT_EQ(S(r.at("status")), "OPEN");
  EXPECT_EQ(S(r.at("dedupeString")), "db");
  EXPECT_EQ(S(r.at("summary")), "Primary unreachable");
  EXPECT_EQ(S(r.at("incidentRecordSource").at("source")), "aws.ssm-incidents.custom");
  EXPECT_EQ(S(r.at("incidentRecordSource").at("createdBy")), "arn:aws:iam::000000000000:root");
  EXPECT_EQ(S(r.at("incidentRecordSource").at("invokedBy")), "arn:aws:iam::000000000000:root");
  EXPECT_EQ(S(r.at("chatChannel").at("chatbotSns").at(0)),
            "arn:aws:sns:us-east-1:000000000000:chat");
  EXPECT_EQ(S(r.at("notificationTargets").at(0).at("snsTopicArn")),
            "arn:aws:sns:us-east-1:000000000000:t");
  EXPECT_FALSE(r.contains("resolvedTime"));

  auto related = MustCall("ListRelatedItems", R"({"incidentRecordArn":")" + arn + R"("})");
  const auto& items = related.at("relatedItems").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(S(items[1].at("identifier").at("type")), "PARENT");
  EXPECT_EQ(S(items[1].at("title")), "parentItem");
  EXPECT_THAT(S(items[1].at("identifier").at("value").at("arn")),
              MatchesRegex("arn:aws:ssm:us-east-1:000000000000:opsitem/oi-[0-9a-f]{12}"));

  MustCall("UpdateRelatedItems", R"({"incidentRecordArn":")" + arn + R"(",
      "relatedItemsUpdate":{"itemToAdd":{"identifier":{"type":"OTHER","value":{"url":"https://wiki/db"}},"title":"runbook"}}})");
  auto dup = Call("UpdateRelatedItems", R"({"incidentRecordArn":")" + arn + R"(",
      "relatedItemsUpdate":{"itemToAdd":{"identifier":{"type":"OTHER","value":{"url":"https://wiki/db"}},"title":"again"}}})");
  EXPECT_EQ(ErrorType(dup.status()), "ConflictException");
  MustCall("UpdateRelatedItems", R"({"incidentRecordArn":")" + arn + R"(",
      "relatedItemsUpdate":{"itemToRemove":{"type":"OTHER","value":{"url":"https://wiki/db"}}}})");
  EXPECT_EQ(MustCall("ListRelatedItems", R"({"incidentRecordArn":")" + arn + R"(","maxResults":1})")
                .at("relatedItems")
                .as_array()
                .size(),
            1u);

  clock_.Advance(absl::Minutes(3));
  MustCall("UpdateIncidentRecord", R"({"arn":")" + arn + R"(","status":"RESOLVED","impact":3,
            "chatChannel":{"empty":{}},"notificationTargets":[],"summary":"fixed"})");
  r = MustCall("GetIncidentRecord", R"({"arn":")" + arn + R"("})").at("incidentRecord").as_object();
  EXPECT_EQ(S(r.at("status")), "RESOLVED");
  EXPECT_EQ(r.at("resolvedTime").as_double(), ToEpochSeconds(clock_.Now()));
  EXPECT_TRUE(r.at("chatChannel").at("empty").as_object().empty());
  EXPECT_FALSE(r.contains("notificationTargets"));

  // Resolved: the next start opens a new incident.
  std::string second = StartIncident(plan);
  EXPECT_NE(second, arn);

  auto all = MustCall("ListIncidentRecords", "{}");
  ASSERT_EQ(all.at("incidentRecordSummaries").as_array().size(), 2u);
  EXPECT_EQ(S(all.at("incidentRecordSummaries").at(0).at("arn")), second);  // newest first
  auto resolved = MustCall(
      "ListIncidentRecords",
      R"({"filters":[{"key":"status","condition":{"equals":{"stringValues":["RESOLVED"]}}}]})");
  ASSERT_EQ(resolved.at("incidentRecordSummaries").as_array().size(), 1u);
  EXPECT_EQ(S(resolved.at("incidentRecordSummaries").at(0).at("arn")), arn);
  auto before = MustCall("ListIncidentRecords",
                         R"({"filters":[{"key":"creationTime","condition":{"before":)" +
                             std::to_string(ToEpochSeconds(clock_.Now())) + R"(}},
                             {"key":"impact","condition":{"equals":{"integerValues":[3]}}}]})");
  EXPECT_EQ(before.at("incidentRecordSummaries").as_array().size(), 1u);
  auto page = MustCall("ListIncidentRecords", R"({"maxResults":1})");
  EXPECT_TRUE(page.contains("nextToken"));
  auto bad = Call("ListIncidentRecords",
                  R"({"filters":[{"key":"title","condition":{"equals":{"stringValues":["x"]}}}]})");
  EXPECT_EQ(ErrorType(bad.status()), "ValidationException");

  MustCall("DeleteIncidentRecord", R"({"arn":")" + arn + R"("})");
  auto gone = Call("GetIncidentRecord", R"({"arn":")" + arn + R"("})");
  EXPECT_EQ(ErrorType(gone.status()), "ResourceNotFoundException");
  EXPECT_EQ(ErrorField(gone.status(), "resourceType"), "INCIDENT_RECORD");
  EXPECT_EQ(ErrorField(gone.status(), "resourceIdentifier"), arn);
}

TEST_F(SsmIncidentsHandlersTest, Timeline) {
  std::string arn = StartIncident(SetUpPlan());
  auto created = MustCall("CreateTimelineEvent", R"({"incidentRecordArn":")" + arn + R"(",
      "eventTime":1704070800.5,"eventType":"Custom Event","eventData":"\"restarted\"",
      "eventReferences":[{"resource":"arn:aws:ec2:us-east-1:000000000000:instance/i-1"}],
      "clientToken":"e1"})");
  std::string id = S(created.at("eventId"));
  EXPECT_EQ(S(created.at("incidentRecordArn")), arn);
  auto event = MustCall("GetTimelineEvent",
                        R"({"incidentRecordArn":")" + arn + R"(","eventId":")" + id + R"("})");
  EXPECT_EQ(S(event.at("event").at("eventData")), "\"restarted\"");
  EXPECT_EQ(event.at("event").at("eventTime").as_double(), 1704070800.5);
  EXPECT_EQ(S(event.at("event").at("eventReferences").at(0).at("resource")),
            "arn:aws:ec2:us-east-1:000000000000:instance/i-1");

  auto list = MustCall("ListTimelineEvents", R"({"incidentRecordArn":")" + arn + R"("})");
  const auto& events = list.at("eventSummaries").as_array();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(S(events[0].at("eventId")), id);  // newest first by default
  EXPECT_FALSE(events[0].as_object().contains("eventData"));
  auto asc =
      MustCall("ListTimelineEvents", R"({"incidentRecordArn":")" + arn +
                                         R"(","sortBy":"EVENT_TIME","sortOrder":"ASCENDING"})");
  EXPECT_EQ(S(asc.at("eventSummaries").at(0).at("eventType")), "SSM Incident Trigger");
  auto filtered = MustCall("ListTimelineEvents", R"({"incidentRecordArn":")" + arn + R"(",
      "filters":[{"key":"eventType","condition":{"equals":{"stringValues":["SSM Incident Start"]}}}]})");
  ASSERT_EQ(filtered.at("eventSummaries").as_array().size(), 1u);

  MustCall("UpdateTimelineEvent", R"({"incidentRecordArn":")" + arn + R"(","eventId":")" + id +
                                      R"(","eventData":"edited","eventType":"Note"})");
  event = MustCall("GetTimelineEvent",
                   R"({"incidentRecordArn":")" + arn + R"(","eventId":")" + id + R"("})");
  EXPECT_EQ(S(event.at("event").at("eventType")), "Note");

  auto automatic = Call("CreateTimelineEvent", R"({"incidentRecordArn":")" + arn + R"(",
      "eventTime":1704070800,"eventType":"SSM Incident Start","eventData":"x"})");
  EXPECT_EQ(ErrorType(automatic.status()), "ValidationException");

  MustCall("DeleteTimelineEvent",
           R"({"incidentRecordArn":")" + arn + R"(","eventId":")" + id + R"("})");
  auto gone = Call("GetTimelineEvent",
                   R"({"incidentRecordArn":")" + arn + R"(","eventId":")" + id + R"("})");
  EXPECT_EQ(ErrorType(gone.status()), "ResourceNotFoundException");
  EXPECT_EQ(ErrorField(gone.status(), "resourceType"), "TIMELINE_EVENT");
}

TEST_F(SsmIncidentsHandlersTest, TagsAndPolicies) {
  std::string plan = SetUpPlan();
  std::string incident = StartIncident(plan);
  EXPECT_EQ(S(MustCall("ListTagsForResource", R"({"resourceArn":")" + incident + R"("})")
                  .at("tags")
                  .at("team")),
            "db");  // from incidentTags
  MustCall("TagResource", R"({"resourceArn":")" + plan + R"(","tags":{"k":"v","k2":"v2"}})");
  MustCall("UntagResource", R"({"resourceArn":")" + plan + R"(","tagKeys":["k2"]})");
  auto tags = MustCall("ListTagsForResource", R"({"resourceArn":")" + plan + R"("})");
  EXPECT_EQ(S(tags.at("tags").at("k")), "v");
  EXPECT_EQ(S(tags.at("tags").at("env")), "prod");
  EXPECT_FALSE(tags.at("tags").as_object().contains("k2"));
  // No tags: an empty map, still present.
  MustCall("UntagResource", R"({"resourceArn":")" + set_arn_ + R"(","tagKeys":["none"]})");
  EXPECT_TRUE(MustCall("ListTagsForResource", R"({"resourceArn":")" + set_arn_ + R"("})")
                  .at("tags")
                  .as_object()
                  .empty());
  auto missing =
      Call("ListTagsForResource",
           R"({"resourceArn":"arn:aws:ssm-incidents::000000000000:response-plan/none"})");
  EXPECT_EQ(ErrorType(missing.status()), "ResourceNotFoundException");

  json::object put{
      {"resourceArn", plan},
      {"policy",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":["ssm-incidents:GetResponsePlan"],"Resource":"*"}]})"}};
  std::string id = S(MustCall("PutResourcePolicy", json::serialize(put)).at("policyId"));
  auto policies = MustCall("GetResourcePolicies", R"({"resourceArn":")" + plan + R"("})");
  ASSERT_EQ(policies.at("resourcePolicies").as_array().size(), 1u);
  EXPECT_EQ(S(policies.at("resourcePolicies").at(0).at("policyId")), id);
  EXPECT_EQ(S(policies.at("resourcePolicies").at(0).at("ramResourceShareRegion")), "us-east-1");
  MustCall("DeleteResourcePolicy",
           R"({"resourceArn":")" + plan + R"(","policyId":")" + id + R"("})");
  auto gone = Call("DeleteResourcePolicy",
                   R"({"resourceArn":")" + plan + R"(","policyId":")" + id + R"("})");
  EXPECT_EQ(ErrorField(gone.status(), "resourceType"), "RESOURCE_POLICY");
  auto bad = Call("PutResourcePolicy", R"({"resourceArn":")" + plan + R"(","policy":"{}"})");
  EXPECT_EQ(ErrorType(bad.status()), "ValidationException");
}

TEST_F(SsmIncidentsHandlersTest, ErrorsCarryTheModelShapes) {
  // No replication set yet.
  auto no_set =
      Call("StartIncident",
           R"({"responsePlanArn":"arn:aws:ssm-incidents::000000000000:response-plan/p"})");
  EXPECT_EQ(ErrorType(no_set.status()), "ValidationException");
  EXPECT_THAT(std::string(no_set.status().message()), HasSubstr("replication set"));
  SetUpPlan();
  auto missing =
      Call("StartIncident",
           R"({"responsePlanArn":"arn:aws:ssm-incidents::000000000000:response-plan/nope"})");
  EXPECT_EQ(ErrorType(missing.status()), "ResourceNotFoundException");
  EXPECT_EQ(ErrorField(missing.status(), "resourceType"), "RESPONSE_PLAN");
  EXPECT_EQ(ErrorField(missing.status(), "resourceIdentifier"),
            "arn:aws:ssm-incidents::000000000000:response-plan/nope");
  auto foreign = Call("GetIncidentRecord",
                      R"({"arn":"arn:aws:ssm-incidents::111122223333:incident-record/p/x"})");
  EXPECT_EQ(ErrorType(foreign.status()), "AccessDeniedException");
  // The model's own limits are checked before the handler.
  auto impact = Call(
      "StartIncident",
      R"({"responsePlanArn":"arn:aws:ssm-incidents::000000000000:response-plan/db-down","impact":9})");
  EXPECT_EQ(ErrorType(impact.status()), "ValidationException");
}

TEST_F(SsmIncidentsHandlersTest, ServiceQuotaExceededCarriesServiceAndQuotaCodes) {
  std::string plan = SetUpPlan();
  std::string arn = StartIncident(plan);
  // 50 related items per incident: the parent plus 49 more fit, the 51st is refused.
  for (int i = 0; i < 49; ++i) {
    MustCall(
        "UpdateRelatedItems",
        R"({"incidentRecordArn":")" + arn +
            R"(","relatedItemsUpdate":{"itemToAdd":{"identifier":{"type":"OTHER","value":{"url":"https://x/)" +
            std::to_string(i) + R"("}}}}})");
  }
  auto over = Call(
      "UpdateRelatedItems",
      R"({"incidentRecordArn":")" + arn +
          R"(","relatedItemsUpdate":{"itemToAdd":{"identifier":{"type":"OTHER","value":{"url":"https://x/last"}}}}})");
  EXPECT_EQ(ErrorType(over.status()), "ServiceQuotaExceededException");
  EXPECT_EQ(ErrorField(over.status(), "serviceCode"), "ssm-incidents");
  EXPECT_EQ(ErrorField(over.status(), "quotaCode"), "related-items-per-incident");
  // Pages of related items.
  auto page =
      MustCall("ListRelatedItems", R"({"incidentRecordArn":")" + arn + R"(","maxResults":20})");
  int total = static_cast<int>(page.at("relatedItems").as_array().size());
  while (page.contains("nextToken")) {
    page = MustCall("ListRelatedItems", R"({"incidentRecordArn":")" + arn +
                                            R"(","maxResults":20,"nextToken":")" +
                                            S(page.at("nextToken")) + R"("})");
    total += static_cast<int>(page.at("relatedItems").as_array().size());
  }
  EXPECT_EQ(total, 50);
}

}  // namespace
}  // namespace klaxon::api::ssm_incidents
