#include "events/bus/event_bus_service.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "events/bus/test_util.h"

namespace klaxon::events {
namespace {

using ::testing::ElementsAre;
using testing::ErrorType;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::kAccount;
using testing::kOther;
using ::testing::SizeIs;

class EventBusServiceTest : public testing::EventsTest {};

// --- Event buses -----------------------------------------------------------------------------

TEST_F(EventBusServiceTest, DefaultBusAlwaysExists) {
  auto bus = buses_->DescribeEventBus(scope(), "");
  ASSERT_TRUE(bus.ok()) << bus.status();
  EXPECT_EQ(bus->name, "default");
  EXPECT_EQ(bus->arn, "arn:aws:events:us-east-1:111122223333:event-bus/default");
  EXPECT_TRUE(buses_->DescribeEventBus(scope(), bus->arn).ok());
  auto page = buses_->ListEventBuses(scope(), "", std::nullopt, "");
  ASSERT_TRUE(page.ok());
  ASSERT_THAT(page->items, SizeIs(1));
  EXPECT_EQ(page->items[0].name, "default");
  EXPECT_EQ(ErrorType(buses_->DeleteEventBus(scope(), "default")), "ValidationException");
  EXPECT_EQ(ErrorType(buses_->CreateEventBus(scope(), "default", {}, {}, {}).status()),
            "ResourceAlreadyExistsException");
}

TEST_F(EventBusServiceTest, CustomBusLifecycle) {
  auto bus = buses_->CreateEventBus(scope(), "orders", std::nullopt, "Orders", {{"team", "a"}});
  ASSERT_TRUE(bus.ok()) << bus.status();
  EXPECT_EQ(bus->arn, "arn:aws:events:us-east-1:111122223333:event-bus/orders");
  EXPECT_EQ(ErrorType(buses_->CreateEventBus(scope(), "orders", {}, {}, {}).status()),
            "ResourceAlreadyExistsException");
  auto got = buses_->DescribeEventBus(scope(), "orders");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->description, "Orders");
  EXPECT_THAT(*buses_->ListTagsForResource(scope(), bus->arn), ElementsAre(Tag{"team", "a"}));
  ASSERT_TRUE(buses_->CreateEventBus(scope(), "billing", {}, {}, {}).ok());
  auto page = buses_->ListEventBuses(scope(), "", 2, "");
  ASSERT_TRUE(page.ok());
  ASSERT_THAT(page->items, SizeIs(2));
  EXPECT_EQ(page->items[0].name, "billing");
  EXPECT_EQ(page->items[1].name, "default");
  ASSERT_FALSE(page->next_token.empty());
  page = buses_->ListEventBuses(scope(), "", 2, page->next_token);
  ASSERT_THAT(page->items, SizeIs(1));
  EXPECT_EQ(page->items[0].name, "orders");
  EXPECT_TRUE(page->next_token.empty());
  EXPECT_THAT(buses_->ListEventBuses(scope(), "or", {}, "")->items, SizeIs(1));
  // Another account sees nothing of it.
  EXPECT_EQ(ErrorType(buses_->DescribeEventBus(scope(kOther), "orders").status()),
            "ResourceNotFoundException");
  // A bus with rules can't be deleted.
  PutRule("r", R"({"source":["a"]})", "orders");
  EXPECT_EQ(ErrorType(buses_->DeleteEventBus(scope(), "orders")), "ValidationException");
  ASSERT_TRUE(buses_->DeleteRule(scope(), "orders", "r").ok());
  ASSERT_TRUE(buses_->DeleteEventBus(scope(), "orders").ok());
  ASSERT_TRUE(buses_->DeleteEventBus(scope(), "orders").ok());  // idempotent
  EXPECT_EQ(ErrorType(buses_->DescribeEventBus(scope(), "orders").status()),
            "ResourceNotFoundException");
}

TEST_F(EventBusServiceTest, CustomBusNamesAreChecked) {
  EXPECT_EQ(ErrorType(buses_->CreateEventBus(scope(), "a/b", {}, {}, {}).status()),
            "ValidationException");
  EXPECT_EQ(ErrorType(buses_->CreateEventBus(scope(), "aws.x", {}, {}, {}).status()),
            "ValidationException");
}

TEST_F(EventBusServiceTest, BusLimit) {
  options_.max_buses_per_account = 2;
  Rebuild();
  ASSERT_TRUE(buses_->CreateEventBus(scope(), "a", {}, {}, {}).ok());
  ASSERT_TRUE(buses_->CreateEventBus(scope(), "b", {}, {}, {}).ok());
  EXPECT_EQ(ErrorType(buses_->CreateEventBus(scope(), "c", {}, {}, {}).status()),
            "LimitExceededException");
}

// --- Rules -----------------------------------------------------------------------------------

TEST_F(EventBusServiceTest, PutRuleCompilesThePattern) {
  PutRuleRequest req;
  req.name = "bad";
  req.event_pattern = R"({"source":[]})";
  auto r = buses_->PutRule(scope(), req);
  EXPECT_EQ(ErrorType(r.status()), "InvalidEventPatternException");
  EXPECT_EQ(r.status().message(),
            "Event pattern is not valid. Reason: Empty arrays are not allowed");
  req.event_pattern = R"({"source":"aws.ec2"})";
  EXPECT_THAT(std::string(buses_->PutRule(scope(), req).status().message()),
              HasSubstr("must be an object or an array"));
  req.event_pattern.reset();
  EXPECT_EQ(ErrorType(buses_->PutRule(scope(), req).status()), "ValidationException");
  req.schedule_expression = "rate(5 minutes)";
  auto s = buses_->PutRule(scope(), req);
  EXPECT_EQ(ErrorType(s.status()), "ValidationException");
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("ScheduleExpression is not supported"));
  req.schedule_expression.reset();
  req.event_pattern = R"({"source":["a"]})";
  req.event_bus_name = "nope";
  EXPECT_EQ(ErrorType(buses_->PutRule(scope(), req).status()), "ResourceNotFoundException");
}

TEST_F(EventBusServiceTest, RuleLifecycle) {
  std::string arn = PutRule("ec2", R"({"source":["aws.ec2"]})");
  EXPECT_EQ(arn, "arn:aws:events:us-east-1:111122223333:rule/ec2");
  auto rule = buses_->DescribeRule(scope(), "", "ec2");
  ASSERT_TRUE(rule.ok());
  EXPECT_EQ(rule->event_bus_name, "default");
  EXPECT_EQ(rule->state, RuleState::kEnabled);
  EXPECT_EQ(rule->created_by, kAccount);
  EXPECT_EQ(buses_->CompiledRuleCount(kAccount, "us-east-1", "default"), 1u);

  ASSERT_TRUE(buses_->SetRuleState(scope(), "", "ec2", RuleState::kDisabled).ok());
  EXPECT_EQ(buses_->DescribeRule(scope(), "", "ec2")->state, RuleState::kDisabled);
  EXPECT_EQ(buses_->CompiledRuleCount(kAccount, "us-east-1", "default"), 0u);
  ASSERT_TRUE(buses_->SetRuleState(scope(), "", "ec2", RuleState::kEnabled).ok());
  EXPECT_EQ(buses_->CompiledRuleCount(kAccount, "us-east-1", "default"), 1u);

  // Replacing keeps the targets; omitted members are cleared.
  AddTargets("ec2", {PlanTarget("im", "arn:aws:ssm-incidents::111122223333:response-plan/p")});
  PutRuleRequest replace;
  replace.name = "ec2";
  replace.event_pattern = R"({"source":["aws.ec2","aws.rds"]})";
  replace.state = RuleState::kDisabled;
  ASSERT_TRUE(buses_->PutRule(scope(), replace).ok());
  rule = buses_->DescribeRule(scope(), "", "ec2");
  EXPECT_EQ(rule->event_pattern, R"({"source":["aws.ec2","aws.rds"]})");
  EXPECT_EQ(rule->state, RuleState::kDisabled);
  EXPECT_THAT(rule->targets, SizeIs(1));

  EXPECT_EQ(ErrorType(buses_->DeleteRule(scope(), "", "ec2")), "ValidationException");
  EXPECT_EQ(buses_->DeleteRule(scope(), "", "ec2").message(),
            "Rule can't be deleted since it has targets.");
  ASSERT_TRUE(buses_->RemoveTargets(scope(), "", "ec2", {"im", "unknown"}).ok());
  ASSERT_TRUE(buses_->DeleteRule(scope(), "", "ec2").ok());
  ASSERT_TRUE(buses_->DeleteRule(scope(), "", "ec2").ok());
  auto gone = buses_->DescribeRule(scope(), "", "ec2");
  EXPECT_EQ(ErrorType(gone.status()), "ResourceNotFoundException");
  EXPECT_EQ(gone.status().message(), "Rule ec2 does not exist on EventBus default.");
  EXPECT_EQ(ErrorType(buses_->SetRuleState(scope(), "", "ec2", RuleState::kEnabled)),
            "ResourceNotFoundException");
}

TEST_F(EventBusServiceTest, RuleNamesAreUniquePerBus) {
  ASSERT_TRUE(buses_->CreateEventBus(scope(), "custom", {}, {}, {}).ok());
  std::string a = PutRule("same", R"({"source":["a"]})");
  std::string b = PutRule("same", R"({"source":["b"]})", "custom");
  EXPECT_EQ(b, "arn:aws:events:us-east-1:111122223333:rule/custom/same");
  EXPECT_NE(a, b);
  EXPECT_EQ(buses_->DescribeRule(scope(), "custom", "same")->event_pattern, R"({"source":["b"]})");
  EXPECT_EQ(buses_->DescribeRule(scope(), "", "same")->event_pattern, R"({"source":["a"]})");
  // By ARN too.
  EXPECT_TRUE(
      buses_
          ->DescribeRule(scope(), "arn:aws:events:us-east-1:111122223333:event-bus/custom", "same")
          .ok());
}

TEST_F(EventBusServiceTest, ListRulesPrefixAndPages) {
  for (const char* name : {"a1", "a2", "a3", "b1"}) PutRule(name, R"({"source":["x"]})");
  auto page = buses_->ListRules(scope(), "", "a", 2, "");
  ASSERT_TRUE(page.ok());
  ASSERT_THAT(page->items, SizeIs(2));
  EXPECT_EQ(page->items[0].name, "a1");
  EXPECT_EQ(page->items[1].name, "a2");
  ASSERT_FALSE(page->next_token.empty());
  page = buses_->ListRules(scope(), "", "a", 2, page->next_token);
  ASSERT_THAT(page->items, SizeIs(1));
  EXPECT_EQ(page->items[0].name, "a3");
  EXPECT_TRUE(page->next_token.empty());
  EXPECT_THAT(buses_->ListRules(scope(), "", "", {}, "")->items, SizeIs(4));
  EXPECT_EQ(ErrorType(buses_->ListRules(scope(), "", "", {}, "garbage").status()),
            "ValidationException");
  EXPECT_EQ(ErrorType(buses_->ListRules(scope(), "missing", "", {}, "").status()),
            "ResourceNotFoundException");
}

TEST_F(EventBusServiceTest, RuleLimit) {
  options_.max_rules_per_bus = 2;
  Rebuild();
  PutRule("a", R"({"source":["x"]})");
  PutRule("b", R"({"source":["x"]})");
  PutRuleRequest req;
  req.name = "c";
  req.event_pattern = R"({"source":["x"]})";
  EXPECT_EQ(ErrorType(buses_->PutRule(scope(), req).status()), "LimitExceededException");
  req.name = "a";  // replacing is not creating
  EXPECT_TRUE(buses_->PutRule(scope(), req).ok());
}

TEST_F(EventBusServiceTest, RuleTags) {
  PutRuleRequest req;
  req.name = "tagged";
  req.event_pattern = R"({"source":["x"]})";
  req.tags = {{"env", "prod"}};
  std::string arn = *buses_->PutRule(scope(), req);
  EXPECT_THAT(*buses_->ListTagsForResource(scope(), arn), ElementsAre(Tag{"env", "prod"}));
  ASSERT_TRUE(buses_->TagResource(scope(), arn, {{"env", "dev"}, {"team", "a"}}).ok());
  EXPECT_THAT(*buses_->ListTagsForResource(scope(), arn),
              ElementsAre(Tag{"env", "dev"}, Tag{"team", "a"}));
  ASSERT_TRUE(buses_->UntagResource(scope(), arn, {"env"}).ok());
  EXPECT_THAT(*buses_->ListTagsForResource(scope(), arn), ElementsAre(Tag{"team", "a"}));
  EXPECT_EQ(ErrorType(buses_->TagResource(scope(), arn + "x", {{"a", "b"}})),
            "ResourceNotFoundException");
  EXPECT_EQ(ErrorType(buses_->ListTagsForResource(scope(), "arn:aws:sqs:us-east-1:1:q").status()),
            "ValidationException");
  // The default bus can be tagged.
  std::string default_arn = "arn:aws:events:us-east-1:111122223333:event-bus/default";
  ASSERT_TRUE(buses_->TagResource(scope(), default_arn, {{"k", "v"}}).ok());
  EXPECT_THAT(*buses_->ListTagsForResource(scope(), default_arn), ElementsAre(Tag{"k", "v"}));
}

// --- Targets ---------------------------------------------------------------------------------

TEST_F(EventBusServiceTest, PutTargetsRefusesWhatItCannotDeliver) {
  PutRule("r", R"({"source":["x"]})");
  std::vector<Target> targets;
  targets.push_back(PlanTarget("plan", "arn:aws:ssm-incidents::111122223333:response-plan/p"));
  targets.push_back(PlanTarget("plan2", "arn:aws:ssm-incidents::111122223333:responseplan/p2"));
  Target lambda;
  lambda.id = "lambda";
  lambda.arn = "arn:aws:lambda:us-east-1:111122223333:function:f";
  targets.push_back(lambda);
  Target no_role = PlanTarget("norole", "arn:aws:ssm-incidents::111122223333:response-plan/p");
  no_role.role_arn.reset();
  targets.push_back(no_role);
  targets.push_back(PlanTarget("other", "arn:aws:ssm-incidents::444455556666:response-plan/p"));
  Target self;
  self.id = "self";
  self.arn = "arn:aws:events:us-east-1:111122223333:event-bus/default";
  targets.push_back(self);
  Target destination;
  destination.id = "dest";
  destination.arn = "arn:aws:events:us-east-1:111122223333:api-destination/d/1234";
  targets.push_back(destination);
  Target hook;
  hook.id = "hook";
  hook.arn = "https://hooks.example.com/x";
  hook.input = "{}";
  hook.input_path = "$.detail";
  targets.push_back(hook);
  auto failed = buses_->PutTargets(scope(), "", "r", targets);
  ASSERT_TRUE(failed.ok()) << failed.status();
  std::vector<std::string> ids;
  for (const auto& f : *failed) {
    ids.push_back(f.target_id);
    EXPECT_EQ(f.error_code, "ValidationException");
  }
  EXPECT_THAT(ids, ElementsAre("lambda", "norole", "other", "self", "dest", "hook"));
  EXPECT_THAT((*failed)[0].error_message, HasSubstr("Supported targets"));
  EXPECT_THAT((*failed)[1].error_message, HasSubstr("RoleArn is required"));
  EXPECT_THAT((*failed)[4].error_message, HasSubstr("API destinations are not supported"));
  auto listed = buses_->ListTargetsByRule(scope(), "", "r", {}, "");
  ASSERT_TRUE(listed.ok());
  ASSERT_THAT(listed->items, SizeIs(2));
  EXPECT_EQ(listed->items[0].id, "plan");
  EXPECT_EQ(listed->items[1].id, "plan2");
}

TEST_F(EventBusServiceTest, AtMostFiveTargetsPerRule) {
  PutRule("r", R"({"source":["x"]})");
  std::vector<Target> five;
  for (int i = 0; i < 5; ++i) {
    Target t;
    t.id = absl::StrCat("t", i);
    t.arn = absl::StrCat("http://127.0.0.1:9/", i);
    five.push_back(t);
  }
  AddTargets("r", five);
  // Replacing an existing id is fine; a sixth is not.
  AddTargets("r", {five[0]});
  Target sixth;
  sixth.id = "t5";
  sixth.arn = "http://127.0.0.1:9/5";
  auto r = buses_->PutTargets(scope(), "", "r", {sixth});
  EXPECT_EQ(ErrorType(r.status()), "LimitExceededException");
  EXPECT_THAT(buses_->ListTargetsByRule(scope(), "", "r", {}, "")->items, SizeIs(5));
  auto page = buses_->ListTargetsByRule(scope(), "", "r", 2, "");
  ASSERT_THAT(page->items, SizeIs(2));
  page = buses_->ListTargetsByRule(scope(), "", "r", 2, page->next_token);
  ASSERT_THAT(page->items, SizeIs(2));
  EXPECT_EQ(page->items[0].id, "t2");
  EXPECT_EQ(ErrorType(buses_->PutTargets(scope(), "", "nope", {sixth}).status()),
            "ResourceNotFoundException");
}

TEST_F(EventBusServiceTest, ListRuleNamesByTarget) {
  std::string plan = "arn:aws:ssm-incidents::111122223333:response-plan/p";
  PutRule("a", R"({"source":["x"]})");
  PutRule("b", R"({"source":["y"]})");
  PutRule("c", R"({"source":["z"]})");
  AddTargets("a", {PlanTarget("t", plan)});
  AddTargets("c", {PlanTarget("t", plan)});
  auto names = buses_->ListRuleNamesByTarget(scope(), "", plan, {}, "");
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(names->items, ElementsAre("a", "c"));
  names = buses_->ListRuleNamesByTarget(scope(), "", plan, 1, "");
  EXPECT_THAT(names->items, ElementsAre("a"));
  names = buses_->ListRuleNamesByTarget(scope(), "", plan, 1, names->next_token);
  EXPECT_THAT(names->items, ElementsAre("c"));
  EXPECT_TRUE(names->next_token.empty());
}

// --- PutEvents ---------------------------------------------------------------------------------

TEST_F(EventBusServiceTest, PutEventsPerEntryErrors) {
  ASSERT_TRUE(buses_->CreateEventBus(scope(), "custom", {}, {}, {}).ok());
  PutEventsEntry no_source = Entry("a", "t", "{}");
  no_source.source.reset();
  PutEventsEntry no_type = Entry("a", "t", "{}");
  no_type.detail_type.reset();
  PutEventsEntry no_detail = Entry("a", "t", "{}");
  no_detail.detail.reset();
  auto results =
      Put({Entry("a", "t", "{}"), no_source, no_type, no_detail, Entry("a", "t", "[1]"),
           Entry("a", "t", "{}", {}, "missing"), Entry("a", "t", "{}", {}, "custom"),
           Entry("a", "t", "{}", {}, "arn:aws:events:us-east-1:444455556666:event-bus/default")});
  ASSERT_THAT(results, SizeIs(8));
  EXPECT_EQ(results[0].event_id.size(), 36u);
  EXPECT_EQ(results[1].error_code, "InvalidArgument");
  EXPECT_EQ(results[1].error_message,
            "Parameter Source is not valid. Reason: Source is a required argument.");
  EXPECT_EQ(results[2].error_message,
            "Parameter DetailType is not valid. Reason: DetailType is a required argument.");
  EXPECT_EQ(results[3].error_message,
            "Parameter Detail is not valid. Reason: Detail is a required argument.");
  EXPECT_EQ(results[4].error_code, "MalformedDetail");
  EXPECT_EQ(results[4].error_message, "Detail is malformed.");
  EXPECT_EQ(results[5].error_code, "ResourceNotFoundException");
  EXPECT_EQ(results[5].error_message, "Event bus missing does not exist.");
  EXPECT_TRUE(results[6].error_code.empty());
  EXPECT_EQ(results[7].error_code, "AccessDeniedException");
  for (size_t i = 1; i < 6; ++i) EXPECT_TRUE(results[i].event_id.empty()) << i;
}

TEST_F(EventBusServiceTest, PutEventsTotalSizeLimit) {
  std::string big(200 * 1024, 'x');
  std::string detail = absl::StrCat("{\"a\":\"", big, "\"}");
  auto r = buses_->PutEvents(scope(), {Entry("a", "t", detail), Entry("a", "t", detail)});
  EXPECT_EQ(ErrorType(r.status()), "ValidationException");
  EXPECT_EQ(r.status().message(), "Total size of the entries in the request is over the limit.");
  EXPECT_TRUE(buses_->PutEvents(scope(), {Entry("a", "t", detail)}).ok());
}

TEST_F(EventBusServiceTest, OnlyMatchingEventsAreQueued) {
  std::string plan = "arn:aws:ssm-incidents::111122223333:response-plan/p";
  PutRule("r", R"({"source":["app"],"detail":{"severity":["high"]}})");
  AddTargets("r", {PlanTarget("a", plan), PlanTarget("b", plan)});
  Put({Entry("app", "t", R"({"severity":"low"})"), Entry("other", "t", R"({"severity":"high"})")});
  EXPECT_THAT(*outbox_->Pending(), IsEmpty());
  auto results = Put({Entry("app", "t", R"({"severity":"high"})")});
  auto pending = *outbox_->Pending();
  ASSERT_THAT(pending, SizeIs(2));  // one per target
  EXPECT_EQ(pending[0].entry.kind, "events.target");
  EXPECT_EQ(pending[0].entry.account_id, kAccount);
  EXPECT_THAT(pending[0].entry.payload, HasSubstr(results[0].event_id));
  // A disabled rule matches nothing.
  ASSERT_TRUE(buses_->SetRuleState(scope(), "", "r", RuleState::kDisabled).ok());
  Put({Entry("app", "t", R"({"severity":"high"})")});
  EXPECT_THAT(*outbox_->Pending(), SizeIs(2));
}

TEST_F(EventBusServiceTest, RuleSetsAreRebuiltFromTheStore) {
  std::string plan = "arn:aws:ssm-incidents::111122223333:response-plan/p";
  ASSERT_TRUE(buses_->CreateEventBus(scope(), "custom", {}, {}, {}).ok());
  PutRule("r", R"({"source":["app"]})", "custom");
  AddTargets("r", {PlanTarget("a", plan)}, "custom");
  PutRule("off", R"({"source":["app"]})");
  ASSERT_TRUE(buses_->SetRuleState(scope(), "", "off", RuleState::kDisabled).ok());
  Rebuild();
  EXPECT_EQ(buses_->CompiledRuleCount(kAccount, "us-east-1", "custom"), 1u);
  EXPECT_EQ(buses_->CompiledRuleCount(kAccount, "us-east-1", "default"), 0u);
  Put({Entry("app", "t", "{}", {}, "custom")});
  EXPECT_THAT(*outbox_->Pending(), SizeIs(1));
}

TEST_F(EventBusServiceTest, TestEventPattern) {
  const std::string event =
      R"({"id":"1","account":"111122223333","source":"aws.ec2","time":"2024-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail-type":"x","detail":{"state":"stopped"}})";
  EXPECT_TRUE(
      *buses_->TestEventPattern(R"({"detail":{"state":[{"anything-but":"running"}]}})", event));
  EXPECT_FALSE(*buses_->TestEventPattern(R"({"detail":{"state":["running"]}})", event));
  EXPECT_EQ(ErrorType(buses_->TestEventPattern(R"({"detail":[]})", event).status()),
            "InvalidEventPatternException");
  auto missing = buses_->TestEventPattern(R"({"source":["a"]})", R"({"source":"a"})");
  EXPECT_EQ(ErrorType(missing.status()), "ValidationException");
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("id, account, time"));
  EXPECT_EQ(ErrorType(buses_->TestEventPattern(R"({"source":["a"]})", "[]").status()),
            "ValidationException");
}

TEST_F(EventBusServiceTest, ServiceEventsArePublishedInTheCallersTransaction) {
  std::string plan = "arn:aws:ssm-incidents::111122223333:response-plan/p";
  PutRule("alarms",
          R"({"source":["aws.cloudwatch"],"detail-type":["CloudWatch Alarm State Change"]})");
  AddTargets("alarms", {PlanTarget("a", plan)});
  ServiceEvent e;
  e.account_id = kAccount;
  e.region = "us-east-1";
  e.source = "aws.cloudwatch";
  e.detail_type = "CloudWatch Alarm State Change";
  e.detail_json = R"({"alarmName":"cpu","state":{"value":"ALARM"}})";
  e.resources = {"arn:aws:cloudwatch:us-east-1:111122223333:alarm:cpu"};
  e.time = clock_.Now();
  e.id = "4b2ac5a8-0f4e-4d6c-9d63-3d8f4c1f5e20";  // the service's own id is kept
  // Rolled back with the caller: nothing queued.
  absl::Status s = store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_RETURN_IF_ERROR(buses_->PublishInTxn(txn, e));
    return absl::AbortedError("caller failed");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(*outbox_->Pending(), IsEmpty());
  ASSERT_TRUE(
      store_.Write([&](storage::WriteTxn& txn) { return buses_->PublishInTxn(txn, e); }).ok());
  auto pending = *outbox_->Pending();
  ASSERT_THAT(pending, SizeIs(1));
  EXPECT_THAT(pending[0].entry.payload, HasSubstr(R"("source":"aws.cloudwatch")"));
  EXPECT_THAT(pending[0].entry.payload, HasSubstr(R"("detail":{"alarmName":"cpu")"));
  EXPECT_THAT(pending[0].entry.payload, HasSubstr(e.id));
}

// --- Partner event sources -------------------------------------------------------------------

TEST_F(EventBusServiceTest, PartnerSourceLifecycle) {
  const std::string name = "aws.partner/example.com/111122223333/alerts";
  Scope partner = scope(kOther);
  auto arn = buses_->CreatePartnerEventSource(partner, name, kAccount);
  ASSERT_TRUE(arn.ok()) << arn.status();
  EXPECT_EQ(*arn, "arn:aws:events:us-east-1::event-source/" + name);
  EXPECT_EQ(ErrorType(buses_->CreatePartnerEventSource(partner, name, kAccount).status()),
            "ResourceAlreadyExistsException");
  EXPECT_EQ(*buses_->DescribePartnerEventSource(partner, name), *arn);
  EXPECT_THAT(buses_->ListPartnerEventSources(partner, "aws.partner/example.com", {}, "")->items,
              ElementsAre(name));
  auto accounts = buses_->ListPartnerEventSourceAccounts(partner, name, {}, "");
  ASSERT_TRUE(accounts.ok());
  ASSERT_THAT(accounts->items, SizeIs(1));
  EXPECT_EQ(accounts->items[0].account, kAccount);
  EXPECT_EQ(accounts->items[0].state, EventSourceState::kPending);

  // The customer sees it, PENDING until it creates the partner bus.
  auto source = buses_->DescribeEventSource(scope(), name);
  ASSERT_TRUE(source.ok());
  EXPECT_EQ(source->state, EventSourceState::kPending);
  EXPECT_EQ(source->created_by, "example.com");
  EXPECT_THAT(buses_->ListEventSources(scope(), "aws.partner/", {}, "")->items, SizeIs(1));
  EXPECT_EQ(ErrorType(buses_->CreateEventBus(scope(), "other-name", name, {}, {}).status()),
            "ValidationException");
  EXPECT_EQ(ErrorType(buses_
                          ->CreateEventBus(scope(), "aws.partner/example.com/1/none",
                                           "aws.partner/example.com/1/none", {}, {})
                          .status()),
            "ResourceNotFoundException");
  ASSERT_TRUE(buses_->CreateEventBus(scope(), name, name, {}, {}).ok());
  EXPECT_EQ(buses_->DescribeEventSource(scope(), name)->state, EventSourceState::kActive);
  EXPECT_EQ(buses_->ListPartnerEventSourceAccounts(partner, name, {}, "")->items[0].state,
            EventSourceState::kActive);

  ASSERT_TRUE(buses_->DeactivateEventSource(scope(), name).ok());
  EXPECT_EQ(buses_->DescribeEventSource(scope(), name)->state, EventSourceState::kPending);
  ASSERT_TRUE(buses_->ActivateEventSource(scope(), name).ok());
  EXPECT_EQ(buses_->DescribeEventSource(scope(), name)->state, EventSourceState::kActive);
  EXPECT_EQ(ErrorType(buses_->ActivateEventSource(scope(), "aws.partner/x/y/z")),
            "ResourceNotFoundException");

  ASSERT_TRUE(buses_->DeletePartnerEventSource(partner, name, kAccount).ok());
  EXPECT_EQ(buses_->DescribeEventSource(scope(), name)->state, EventSourceState::kDeleted);
  EXPECT_EQ(ErrorType(buses_->ActivateEventSource(scope(), name)), "InvalidStateException");
  EXPECT_EQ(ErrorType(buses_->DescribePartnerEventSource(partner, name).status()),
            "ResourceNotFoundException");
}

TEST_F(EventBusServiceTest, PartnerEventsReachOnlyActiveBuses) {
  const std::string name = "aws.partner/example.com/111122223333/alerts";
  Scope partner = scope(kOther);
  ASSERT_TRUE(buses_->CreatePartnerEventSource(partner, name, kAccount).ok());
  PutEventsEntry e = Entry(name, "Alert", R"({"severity":"critical"})");
  // No bus yet: accepted, delivered nowhere.
  auto r = buses_->PutPartnerEvents(partner, {e});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE((*r)[0].event_id.empty());
  ASSERT_TRUE(buses_->CreateEventBus(scope(), name, name, {}, {}).ok());
  PutRule("critical", R"({"detail":{"severity":["critical"]}})", name);
  AddTargets("critical", {PlanTarget("im", "arn:aws:ssm-incidents::111122223333:response-plan/p")},
             name);
  r = buses_->PutPartnerEvents(partner, {e, Entry("aws.partner/someone.else/1/x", "A", "{}")});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE((*r)[0].event_id.empty());
  EXPECT_EQ((*r)[1].error_code, "NotAuthorizedForSourceException");
  auto pending = *outbox_->Pending();
  ASSERT_THAT(pending, SizeIs(1));
  EXPECT_THAT(pending[0].entry.payload, HasSubstr(R"("account":"111122223333")"));
  EXPECT_THAT(pending[0].entry.payload, HasSubstr(R"("source":")" + name + "\""));
  // Another account can't send as the partner.
  auto stranger = buses_->PutPartnerEvents(scope(), {e});
  EXPECT_EQ((*stranger)[0].error_code, "NotAuthorizedForSourceException");
  // Deactivated: nothing more arrives.
  ASSERT_TRUE(buses_->DeactivateEventSource(scope(), name).ok());
  ASSERT_TRUE(buses_->PutPartnerEvents(partner, {e}).ok());
  EXPECT_THAT(*outbox_->Pending(), SizeIs(1));
}

}  // namespace
}  // namespace klaxon::events
