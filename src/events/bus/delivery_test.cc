#include "events/bus/delivery.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/json/parse.hpp"
#include "events/bus/test_util.h"

namespace klaxon::events {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::kAccount;
using ::testing::SizeIs;

constexpr char kInstance[] = "arn:aws:ec2:us-east-1:111122223333:instance/i-0abcd1234";
constexpr char kStopped[] = R"({"instance-id":"i-0abcd1234","state":"stopped"})";
constexpr char kRunning[] = R"({"instance-id":"i-0abcd1234","state":"running"})";
constexpr char kEc2Rule[] =
    R"({"source":["aws.ec2"],"detail-type":["EC2 Instance State-change Notification"],"detail":{"state":[{"anything-but":"running"}]}})";

class DeliveryTest : public testing::EventsTest {
 protected:
  void SetUp() override {
    EventsTest::SetUp();
    SetUpIncidentManager();
  }

  PutEventsEntry Ec2(const char* detail) {
    return Entry("aws.ec2", "EC2 Instance State-change Notification", detail, {kInstance});
  }

  std::vector<incidents::RelatedItem> Related(const std::string& arn) {
    auto page = im_->incidents().ListRelatedItems(im_scope(), arn, 100, "");
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->items : std::vector<incidents::RelatedItem>();
  }

  std::vector<incidents::TimelineEvent> Timeline(const std::string& arn) {
    incidents::ListTimelineEventsRequest req;
    req.incident_record_arn = arn;
    req.max_results = 100;
    auto page = im_->timeline().List(im_scope(), req);
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->items : std::vector<incidents::TimelineEvent>();
  }
};

TEST_F(DeliveryTest, Ec2StateChangeCreatesOneIncidentThenDeduplicates) {
  std::string plan = CreatePlan("ec2-down");
  std::string rule = PutRule("ec2-not-running", kEc2Rule);
  AddTargets("ec2-not-running", {PlanTarget("im", plan)});

  // A non-matching event creates nothing.
  Put({Ec2(kRunning)});
  EXPECT_EQ(Deliver(), 0u);
  EXPECT_THAT(Incidents(), IsEmpty());

  auto results = Put({Ec2(kStopped)});
  ASSERT_TRUE(results[0].error_code.empty());
  EXPECT_EQ(Deliver(), 1u);
  auto list = Incidents();
  ASSERT_THAT(list, SizeIs(1));
  const incidents::IncidentRecord& incident = list[0];
  EXPECT_EQ(incident.title, "Title of ec2-down");
  EXPECT_EQ(incident.impact, 2);
  EXPECT_EQ(incident.dedupe_string, rule);
  EXPECT_EQ(incident.incident_record_source.source, "aws.events");
  EXPECT_EQ(incident.incident_record_source.invoked_by, "events.amazonaws.com");
  EXPECT_EQ(incident.incident_record_source.created_by,
            "arn:aws:sts::111122223333:assumed-role/EventBridgeStartIncident/"
            "events-ec2-not-running");
  EXPECT_EQ(incident.incident_record_source.resource_arn, rule);

  bool instance = false, parent = false;
  for (const auto& item : Related(incident.arn)) {
    if (item.identifier.type == "INVOLVED_RESOURCE" && item.identifier.value.arn == kInstance) {
      instance = true;
    }
    if (item.identifier.type == "PARENT") parent = true;
  }
  EXPECT_TRUE(instance);
  EXPECT_TRUE(parent);

  // The trigger timeline event carries the rule and the matched event.
  bool trigger = false;
  for (const auto& e : Timeline(incident.arn)) {
    if (e.event_type != "SSM Incident Trigger") continue;
    trigger = true;
    auto data = boost::json::parse(e.event_data).as_object();
    EXPECT_EQ(data.at("createdIncident").as_bool(), true);
    EXPECT_EQ(data.at("incidentSource").as_string(), "aws.events");
    EXPECT_EQ(data.at("triggerArn").as_string(), rule);
    auto raw = boost::json::parse(data.at("rawData").as_string()).as_object();
    EXPECT_EQ(raw.at("id").as_string(), results[0].event_id);
    EXPECT_EQ(raw.at("detail").at("state").as_string(), "stopped");
  }
  EXPECT_TRUE(trigger);

  // A second match while the incident is open is recorded on it.
  Put({Ec2(kStopped)});
  EXPECT_EQ(Deliver(), 1u);
  ASSERT_THAT(Incidents(), SizeIs(1));
  int triggers = 0;
  for (const auto& e : Timeline(incident.arn)) triggers += e.event_type == "SSM Incident Trigger";
  EXPECT_EQ(triggers, 2);

  // After resolve the next match opens a new incident.
  incidents::UpdateIncidentRecordRequest resolve;
  resolve.arn = incident.arn;
  resolve.status = incidents::IncidentStatus::kResolved;
  ASSERT_TRUE(im_->incidents().Update(im_scope(), resolve).ok());
  Put({Ec2(kStopped)});
  EXPECT_EQ(Deliver(), 1u);
  EXPECT_THAT(Incidents(), SizeIs(2));
  EXPECT_THAT(*outbox_->Pending(), IsEmpty());
}

TEST_F(DeliveryTest, PlanDedupeStringWinsOverTheRule) {
  std::string plan = CreatePlan("shared", "db-outage");
  PutRule("a", R"({"source":["a"]})");
  PutRule("b", R"({"source":["b"]})");
  AddTargets("a", {PlanTarget("im", plan)});
  AddTargets("b", {PlanTarget("im", plan)});
  Put({Entry("a", "t", "{}"), Entry("b", "t", "{}")});
  EXPECT_EQ(Deliver(), 2u);
  auto list = Incidents();
  ASSERT_THAT(list, SizeIs(1));
  EXPECT_EQ(list[0].dedupe_string, "db-outage");
}

TEST_F(DeliveryTest, RedeliveryReplaysTheSameIncident) {
  std::string plan = CreatePlan("p");
  PutRule("r", R"({"source":["a"]})");
  AddTargets("r", {PlanTarget("im", plan)});
  Put({Entry("a", "t", "{}")});
  auto pending = *outbox_->Pending();
  ASSERT_THAT(pending, SizeIs(1));
  // As if the node crashed after the incident was created but before the entry was removed.
  ASSERT_TRUE(delivery_->Deliver(pending[0].entry).ok());
  ASSERT_THAT(Incidents(), SizeIs(1));
  auto first = Incidents()[0];
  EXPECT_EQ(Deliver(), 1u);
  auto list = Incidents();
  ASSERT_THAT(list, SizeIs(1));
  int triggers = 0;
  for (const auto& e : Timeline(list[0].arn)) triggers += e.event_type == "SSM Incident Trigger";
  EXPECT_EQ(triggers, 1);  // replayed, not deduplicated a second time
}

TEST_F(DeliveryTest, MissingPlanIsDeadLettered) {
  PutRule("r", R"({"source":["a"]})");
  AddTargets("r", {PlanTarget("im", "arn:aws:ssm-incidents::111122223333:response-plan/gone")});
  Put({Entry("a", "t", "{}")});
  EXPECT_EQ(Deliver(), 1u);
  auto dead = *outbox_->DeadLetters(kAccount, 0);
  ASSERT_THAT(dead, SizeIs(1));
  EXPECT_THAT(dead[0].last_error, HasSubstr("gone"));
  EXPECT_THAT(*outbox_->Pending(), IsEmpty());
}

TEST_F(DeliveryTest, ResponsePlanSpelledAsAnAlarmActionWorks) {
  CreatePlan("p");
  PutRule("r", R"({"source":["a"]})");
  AddTargets("r", {PlanTarget("im", "arn:aws:ssm-incidents::111122223333:responseplan/p")});
  Put({Entry("a", "t", "{}")});
  EXPECT_EQ(Deliver(), 1u);
  EXPECT_THAT(Incidents(), SizeIs(1));
}

TEST_F(DeliveryTest, WebhookReceivesTheTransformedInput) {
  PutRule("r", R"({"source":["aws.ec2"]})");
  Target hook;
  hook.id = "hook";
  hook.arn = "https://hooks.example.com/incident/*/notify";
  hook.input_transformer = InputTransformer{
      {{"instance", "$.detail.instance-id"}, {"state", "$.detail.state"}},
      R"({"text": "instance <instance> is <state>", "rule": <aws.events.rule-name>})"};
  hook.http_parameters = HttpParameters{{"ops"}, {{"X-Team", "sre"}}, {{"src", "klaxon events"}}};
  AddTargets("r", {hook});
  Put({Ec2(kStopped)});
  EXPECT_EQ(Deliver(), 1u);
  auto calls = webhooks_.calls();
  ASSERT_THAT(calls, SizeIs(1));
  EXPECT_EQ(calls[0].url, "https://hooks.example.com/incident/ops/notify?src=klaxon%20events");
  EXPECT_EQ(calls[0].body, R"({"text":"instance i-0abcd1234 is stopped","rule":"r"})");
  EXPECT_EQ(calls[0].headers["Content-Type"], "application/json; charset=utf-8");
  EXPECT_EQ(calls[0].headers["X-Team"], "sre");
}

TEST_F(DeliveryTest, WebhookRetriesThenDeadLetters) {
  PutRule("r", R"({"source":["a"]})");
  Target hook;
  hook.id = "hook";
  hook.arn = "http://127.0.0.1:1/hook";
  hook.input = "\"plain\"";
  AddTargets("r", {hook});
  webhooks_.Answer({503, -1, 200});
  Put({Entry("a", "t", "{}")});
  EXPECT_EQ(Deliver(), 1u);  // 503: retry in 100 ms
  clock_.Advance(absl::Milliseconds(100));
  EXPECT_EQ(Deliver(), 1u);  // connection refused: retry in 200 ms
  clock_.Advance(absl::Milliseconds(200));
  EXPECT_EQ(Deliver(), 1u);  // 200
  EXPECT_THAT(webhooks_.calls(), SizeIs(3));
  EXPECT_THAT(*outbox_->Pending(), IsEmpty());

  webhooks_.Answer({400});
  Put({Entry("a", "t", "{}")});
  EXPECT_EQ(Deliver(), 1u);
  auto dead = *outbox_->DeadLetters(kAccount, 0);
  ASSERT_THAT(dead, SizeIs(1));
  EXPECT_THAT(dead[0].last_error, HasSubstr("HTTP 400"));
}

TEST_F(DeliveryTest, TargetRetryPolicyIsHonoured) {
  PutRule("r", R"({"source":["a"]})");
  Target hook;
  hook.id = "hook";
  hook.arn = "http://127.0.0.1:1/hook";
  hook.maximum_retry_attempts = 1;
  AddTargets("r", {hook});
  webhooks_.Answer({500, 500, 500});
  Put({Entry("a", "t", "{}")});
  EXPECT_EQ(Deliver(), 1u);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Deliver(), 1u);
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(Deliver(), 0u);
  EXPECT_THAT(webhooks_.calls(), SizeIs(2));  // the first attempt and one retry
  EXPECT_THAT(*outbox_->DeadLetters(kAccount, 0), SizeIs(1));
}

TEST_F(DeliveryTest, EventBusTargetForwardsExactlyOnce) {
  std::string plan = CreatePlan("p");
  ASSERT_TRUE(buses_->CreateEventBus(scope(), "incidents", {}, {}, {}).ok());
  PutRule("forward", R"({"source":["app"]})");
  Target bus;
  bus.id = "bus";
  bus.arn = "arn:aws:events:us-east-1:111122223333:event-bus/incidents";
  AddTargets("forward", {bus});
  std::string rule = PutRule("page", R"({"detail":{"severity":["high"]}})", "incidents");
  AddTargets("page", {PlanTarget("im", plan)}, "incidents");

  Put({Entry("app", "t", R"({"severity":"high"})"), Entry("app", "t", R"({"severity":"low"})")});
  auto pending = *outbox_->Pending();
  ASSERT_THAT(pending, SizeIs(2));
  EXPECT_EQ(pending[0].entry.kind, "events.bus");
  EXPECT_EQ(Deliver(), 2u);  // both forwarded; one matches on the second bus
  EXPECT_EQ(Deliver(), 1u);
  auto list = Incidents();
  ASSERT_THAT(list, SizeIs(1));
  EXPECT_EQ(list[0].dedupe_string, rule);
  EXPECT_THAT(*outbox_->Pending(), IsEmpty());
}

TEST_F(DeliveryTest, BusLoopsStopAfterTheHopLimit) {
  ASSERT_TRUE(buses_->CreateEventBus(scope(), "a", {}, {}, {}).ok());
  PutRule("to-a", R"({"source":["loop"]})");
  PutRule("to-default", R"({"source":["loop"]})", "a");
  Target to_a;
  to_a.id = "a";
  to_a.arn = "arn:aws:events:us-east-1:111122223333:event-bus/a";
  Target to_default;
  to_default.id = "d";
  to_default.arn = "arn:aws:events:us-east-1:111122223333:event-bus/default";
  AddTargets("to-a", {to_a});
  AddTargets("to-default", {to_default}, "a");
  Put({Entry("loop", "t", "{}")});
  int rounds = 0;
  while (Deliver() > 0) ++rounds;
  EXPECT_EQ(rounds, internal::kMaxHops + 1);
  EXPECT_THAT(*outbox_->Pending(), IsEmpty());
}

TEST_F(DeliveryTest, PartnerSourceToPartnerBusToIncident) {
  const std::string name = "aws.partner/monitoring.example.com/111122223333/alerts";
  std::string plan = CreatePlan("saas");
  Scope partner = scope("444455556666");
  ASSERT_TRUE(buses_->CreatePartnerEventSource(partner, name, kAccount).ok());
  ASSERT_TRUE(buses_->CreateEventBus(scope(), name, name, {}, {}).ok());
  std::string rule = PutRule("critical", R"({"detail":{"priority":["P1"]}})", name);
  AddTargets("critical", {PlanTarget("im", plan)}, name);
  auto r = buses_->PutPartnerEvents(
      partner, {Entry(name, "Alert Raised", R"({"priority":"P1","service":"checkout"})",
                      {"arn:aws:ecs:us-east-1:111122223333:service/checkout"}),
                Entry(name, "Alert Raised", R"({"priority":"P3"})")});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Deliver(), 1u);
  auto list = Incidents();
  ASSERT_THAT(list, SizeIs(1));
  EXPECT_EQ(list[0].dedupe_string, rule);
  EXPECT_EQ(rule, "arn:aws:events:us-east-1:111122223333:rule/" + name + "/critical");
  bool service = false;
  for (const auto& item : Related(list[0].arn)) {
    service |= item.identifier.value.arn ==
               std::optional<std::string>("arn:aws:ecs:us-east-1:111122223333:service/checkout");
  }
  EXPECT_TRUE(service);
}

TEST_F(DeliveryTest, NoReplicationSetDeadLetters) {
  // Another Region has no replication set: StartIncident refuses; the entry is dead-lettered.
  std::string plan = CreatePlan("p");
  Scope west{kAccount, "us-west-2", "arn:aws:iam::111122223333:user/alice"};
  PutRuleRequest req;
  req.name = "r";
  req.event_pattern = R"({"source":["a"]})";
  ASSERT_TRUE(buses_->PutRule(west, req).ok());
  ASSERT_TRUE(buses_->PutTargets(west, "", "r", {PlanTarget("im", plan)}).ok());
  ASSERT_TRUE(buses_->PutEvents(west, {Entry("a", "t", "{}")}).ok());
  EXPECT_EQ(Deliver(), 1u);
  EXPECT_THAT(*outbox_->DeadLetters(kAccount, 0), SizeIs(1));
}

}  // namespace
}  // namespace klaxon::events
