#include "incidents/response_plan_service.h"

#include "boost/json/parse.hpp"
#include "gtest/gtest.h"
#include "incidents/test_util.h"

namespace klaxon::incidents {
namespace {

using testing::ErrorField;
using testing::ErrorType;
using testing::IncidentsTest;

class ResponsePlanTest : public IncidentsTest {
 protected:
  void SetUp() override {
    IncidentsTest::SetUp();
    CreateReplicationSet();
  }

  CreateResponsePlanRequest FullPlan(const std::string& name) {
    CreateResponsePlanRequest req;
    req.name = name;
    req.display_name = "Database down";
    req.incident_template.title = "DB down";
    req.incident_template.impact = 2;
    req.incident_template.summary = "The primary database is unreachable";
    req.incident_template.dedupe_string = "db";
    req.incident_template.notification_targets =
        boost::json::parse(R"([{"snsTopicArn":"arn:aws:sns:us-east-1:000000000000:t"}])");
    req.incident_template.incident_tags = {{"team", "db"}};
    req.chat_channel =
        boost::json::parse(R"({"chatbotSns":["arn:aws:sns:us-east-1:000000000000:c"]})");
    req.engagements = {"arn:aws:ssm-contacts:us-east-1:000000000000:contact/oncall"};
    Action action;
    action.ssm_automation.document_name = "AWS-RestartEC2Instance";
    action.ssm_automation.document_version = "$DEFAULT";
    action.ssm_automation.role_arn = "arn:aws:iam::000000000000:role/runbook";
    action.ssm_automation.target_account = "RESPONSE_PLAN_OWNER_ACCOUNT";
    action.ssm_automation.parameters["InstanceId"] = {"i-1"};
    action.ssm_automation.dynamic_parameters["IncidentArn"] = "INCIDENT_RECORD_ARN";
    req.actions = {action};
    req.integrations = boost::json::parse(
        R"([{"pagerDutyConfiguration":{"name":"pd","secretId":"s","pagerDutyIncidentConfiguration":{"serviceId":"S1"}}}])");
    req.tags = {{"env", "prod"}};
    return req;
  }
};

TEST_F(ResponsePlanTest, CreateGetRoundTripsEveryMember) {
  auto req = FullPlan("db-down");
  auto arn = im_->response_plans().Create(scope(), req);
  ASSERT_TRUE(arn.ok()) << arn.status();
  EXPECT_EQ(*arn, "arn:aws:ssm-incidents::000000000000:response-plan/db-down");
  auto plan = im_->response_plans().Get(scope(), *arn);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->name, "db-down");
  EXPECT_EQ(plan->display_name, "Database down");
  EXPECT_EQ(plan->incident_template.title, "DB down");
  EXPECT_EQ(plan->incident_template.impact, 2);
  EXPECT_EQ(plan->incident_template.summary, req.incident_template.summary);
  EXPECT_EQ(plan->incident_template.dedupe_string, "db");
  EXPECT_EQ(plan->incident_template.notification_targets,
            req.incident_template.notification_targets);
  EXPECT_EQ(plan->incident_template.incident_tags, req.incident_template.incident_tags);
  EXPECT_EQ(plan->chat_channel, req.chat_channel);
  EXPECT_EQ(plan->engagements, req.engagements);
  EXPECT_EQ(plan->actions, req.actions);
  EXPECT_EQ(plan->integrations, req.integrations);
  // The alarm-action spelling finds the same plan.
  auto alias = im_->response_plans().Get(
      scope(), "arn:aws:ssm-incidents::000000000000:responseplan/db-down");
  ASSERT_TRUE(alias.ok());
  EXPECT_EQ(alias->arn, *arn);
  // Plan tags are stored.
  auto tags = im_->tags().List(scope(), *arn);
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(tags->at("env"), "prod");
}

TEST_F(ResponsePlanTest, DuplicateNameConflicts) {
  std::string arn = CreatePlan("p");
  CreateResponsePlanRequest req;
  req.name = "p";
  req.incident_template.title = "other";
  auto again = im_->response_plans().Create(scope(), req);
  EXPECT_EQ(ErrorType(again.status()), "ConflictException");
  EXPECT_EQ(ErrorField(again.status(), "resourceType"), "RESPONSE_PLAN");
  EXPECT_EQ(ErrorField(again.status(), "resourceIdentifier"), arn);
}

TEST_F(ResponsePlanTest, ClientTokenReplay) {
  auto req = FullPlan("p");
  req.client_token = "t1";
  auto a = im_->response_plans().Create(scope(), req);
  auto b = im_->response_plans().Create(scope(), req);
  ASSERT_TRUE(a.ok() && b.ok()) << b.status();
  EXPECT_EQ(*a, *b);
  req.display_name = "changed";
  EXPECT_EQ(ErrorType(im_->response_plans().Create(scope(), req).status()), "ConflictException");
}

TEST_F(ResponsePlanTest, Validation) {
  auto req = FullPlan("bad name");
  EXPECT_EQ(ErrorType(im_->response_plans().Create(scope(), req).status()), "ValidationException");
  req = FullPlan("p");
  req.incident_template.impact = 6;
  EXPECT_EQ(ErrorType(im_->response_plans().Create(scope(), req).status()), "ValidationException");
  req = FullPlan("p");
  req.actions.push_back(req.actions.front());  // model allows 1
  EXPECT_EQ(ErrorType(im_->response_plans().Create(scope(), req).status()), "ValidationException");
  req = FullPlan("p");
  req.engagements.assign(6, "arn:aws:ssm-contacts:us-east-1:000000000000:contact/a");
  EXPECT_EQ(ErrorType(im_->response_plans().Create(scope(), req).status()), "ValidationException");
  req = FullPlan("p");
  req.actions[0].ssm_automation.dynamic_parameters["InstanceId"] = "INVOLVED_RESOURCES";
  EXPECT_EQ(ErrorType(im_->response_plans().Create(scope(), req).status()), "ValidationException");
  req = FullPlan("p");
  req.actions[0].ssm_automation.dynamic_parameters["X"] = "SOMETHING";
  EXPECT_EQ(ErrorType(im_->response_plans().Create(scope(), req).status()), "ValidationException");
  req = FullPlan("p");
  req.chat_channel = boost::json::parse(R"({"chatbotSns":["a"],"empty":{}})");
  EXPECT_EQ(ErrorType(im_->response_plans().Create(scope(), req).status()), "ValidationException");
  req = FullPlan("p");
  req.tags = {{"aws:reserved", "x"}};
  EXPECT_EQ(ErrorType(im_->response_plans().Create(scope(), req).status()), "ValidationException");
}

class FewEngagementsTest : public ResponsePlanTest {
 protected:
  FewEngagementsTest() { limits_.max_engagements = 2; }
};

TEST_F(FewEngagementsTest, ConfiguredEngagementLimitIsAQuota) {
  auto req = FullPlan("p");
  req.engagements.assign(3, "arn:aws:ssm-contacts:us-east-1:000000000000:contact/a");
  auto result = im_->response_plans().Create(scope(), req);
  EXPECT_EQ(ErrorType(result.status()), "ServiceQuotaExceededException");
  EXPECT_EQ(ErrorField(result.status(), "quotaCode"), "engagements-per-response-plan");
  EXPECT_EQ(ErrorField(result.status(), "resourceType"), "RESPONSE_PLAN");
}

TEST_F(ResponsePlanTest, ListPaginatesInNameOrder) {
  for (auto name : {"c", "a", "e", "b", "d"}) CreatePlan(name);
  std::vector<std::string> names;
  std::string token;
  int pages = 0;
  do {
    auto page = im_->response_plans().List(scope(), 2, token);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& p : page->items) names.push_back(p.name);
    token = page->next_token;
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(ErrorType(im_->response_plans().List(scope(), 2, "garbage!").status()),
            "ValidationException");
}

TEST_F(ResponsePlanTest, UpdateChangesOnlyGivenMembers) {
  auto arn = im_->response_plans().Create(scope(), FullPlan("p"));
  ASSERT_TRUE(arn.ok());
  UpdateResponsePlanRequest up;
  up.arn = *arn;
  up.incident_template_title = "New title";
  up.incident_template_impact = 1;
  up.incident_template_dedupe_string = "";  // clears
  up.engagements = std::vector<std::string>{};
  up.incident_template_notification_targets = boost::json::array();  // clears
  ASSERT_TRUE(im_->response_plans().Update(scope(), up).ok());
  auto plan = im_->response_plans().Get(scope(), *arn);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->incident_template.title, "New title");
  EXPECT_EQ(plan->incident_template.impact, 1);
  EXPECT_FALSE(plan->incident_template.dedupe_string);
  EXPECT_TRUE(plan->incident_template.notification_targets.is_null());
  EXPECT_TRUE(plan->engagements.empty());
  EXPECT_EQ(plan->display_name, "Database down");  // untouched
  EXPECT_EQ(plan->actions.size(), 1u);

  up = UpdateResponsePlanRequest{};
  up.arn = "arn:aws:ssm-incidents::000000000000:response-plan/missing";
  auto missing = im_->response_plans().Update(scope(), up);
  EXPECT_EQ(ErrorType(missing), "ResourceNotFoundException");
  EXPECT_EQ(ErrorField(missing, "resourceType"), "RESPONSE_PLAN");
}

TEST_F(ResponsePlanTest, DeleteIsIdempotentAndRemovesTagsAndPolicies) {
  auto arn = im_->response_plans().Create(scope(), FullPlan("p"));
  ASSERT_TRUE(arn.ok());
  ASSERT_TRUE(
      im_->policies().Put(scope(), *arn, R"({"Version":"2012-10-17","Statement":[]})").ok() ==
      false);  // empty Statement list is rejected
  ASSERT_TRUE(
      im_->policies()
          .Put(scope(), *arn, R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]})")
          .ok());
  ASSERT_TRUE(im_->response_plans().Delete(scope(), *arn).ok());
  ASSERT_TRUE(im_->response_plans().Delete(scope(), *arn).ok());
  EXPECT_EQ(ErrorType(im_->response_plans().Get(scope(), *arn).status()),
            "ResourceNotFoundException");
  // Re-creating the name starts clean.
  CreatePlan("p");
  auto tags = im_->tags().List(scope(), *arn);
  ASSERT_TRUE(tags.ok());
  EXPECT_TRUE(tags->empty());
  auto policies = im_->policies().Get(scope(), *arn, std::nullopt, "");
  ASSERT_TRUE(policies.ok());
  EXPECT_TRUE(policies->items.empty());
}

}  // namespace
}  // namespace klaxon::incidents
