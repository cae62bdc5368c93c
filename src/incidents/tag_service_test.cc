#include "incidents/tag_service.h"

#include "gtest/gtest.h"
#include "incidents/test_util.h"

namespace klaxon::incidents {
namespace {

using testing::ErrorField;
using testing::ErrorType;
using testing::IncidentsTest;

class TagTest : public IncidentsTest {
 protected:
  void SetUp() override {
    IncidentsTest::SetUp();
    set_ = CreateReplicationSet();
    plan_ = CreatePlan("p");
    incident_ = Start(plan_);
  }
  std::string set_, plan_, incident_;
};

TEST_F(TagTest, TagUntagListOnEveryResourceKind) {
  for (const std::string& arn : {set_, plan_, incident_}) {
    ASSERT_TRUE(im_->tags().Tag(scope(), arn, {{"a", "1"}, {"b", "2"}}).ok()) << arn;
    ASSERT_TRUE(im_->tags().Tag(scope(), arn, {{"b", "3"}}).ok());
    auto tags = im_->tags().List(scope(), arn);
    ASSERT_TRUE(tags.ok());
    EXPECT_EQ(*tags, (std::map<std::string, std::string>{{"a", "1"}, {"b", "3"}}));
    ASSERT_TRUE(im_->tags().Untag(scope(), arn, {"a", "zzz"}).ok());
    tags = im_->tags().List(scope(), arn);
    EXPECT_EQ(*tags, (std::map<std::string, std::string>{{"b", "3"}}));
  }
  // The alarm-action spelling of a plan shares the plan's tags.
  auto alias = im_->tags().List(scope(), "arn:aws:ssm-incidents::000000000000:responseplan/p");
  ASSERT_TRUE(alias.ok());
  EXPECT_EQ(alias->at("b"), "3");
}

TEST_F(TagTest, Errors) {
  auto missing =
      im_->tags().List(scope(), "arn:aws:ssm-incidents::000000000000:response-plan/none");
  EXPECT_EQ(ErrorType(missing.status()), "ResourceNotFoundException");
  EXPECT_EQ(ErrorField(missing.status(), "resourceType"), "RESPONSE_PLAN");
  auto missing_incident = im_->tags().Tag(
      scope(), "arn:aws:ssm-incidents::000000000000:incident-record/p/none", {{"a", "b"}});
  EXPECT_EQ(ErrorField(missing_incident, "resourceType"), "INCIDENT_RECORD");
  EXPECT_EQ(ErrorType(im_->tags().List(scope(), "arn:aws:sns:us-east-1:000000000000:t").status()),
            "ResourceNotFoundException");
  EXPECT_EQ(ErrorType(im_->tags().List(scope("111111111111"), plan_).status()),
            "AccessDeniedException");
  EXPECT_EQ(ErrorType(im_->tags().Tag(scope(), plan_, {{"aws:x", "1"}})), "ValidationException");
  EXPECT_EQ(ErrorType(im_->tags().Tag(scope(), plan_, {})), "ValidationException");
}

class FewTagsTest : public TagTest {
 protected:
  FewTagsTest() { limits_.max_tags = 2; }
};

TEST_F(FewTagsTest, TotalTagsAreAQuota) {
  ASSERT_TRUE(im_->tags().Tag(scope(), plan_, {{"a", "1"}, {"b", "2"}}).ok());
  auto status = im_->tags().Tag(scope(), plan_, {{"c", "3"}});
  EXPECT_EQ(ErrorType(status), "ServiceQuotaExceededException");
  EXPECT_EQ(ErrorField(status, "quotaCode"), "tags-per-resource");
  EXPECT_EQ(ErrorField(status, "resourceType"), "RESPONSE_PLAN");
  EXPECT_TRUE(im_->tags().Tag(scope(), plan_, {{"a", "changed"}}).ok());  // overwrite is fine
}

TEST_F(TagTest, ResourcePolicies) {
  const std::string policy =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"ssm-incidents:StartIncident","Resource":"*"}]})";
  auto id = im_->policies().Put(scope(), plan_, policy);
  ASSERT_TRUE(id.ok()) << id.status();
  auto id2 = im_->policies().Put(scope(), plan_, policy);
  ASSERT_TRUE(id2.ok());
  EXPECT_NE(*id, *id2);
  auto page = im_->policies().Get(scope(), plan_, 1, "");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].policy_document, policy);
  EXPECT_EQ(page->items[0].ram_resource_share_region, "us-east-1");
  ASSERT_FALSE(page->next_token.empty());
  auto page2 = im_->policies().Get(scope(), plan_, 1, page->next_token);
  ASSERT_TRUE(page2.ok());
  EXPECT_EQ(page2->items.size(), 1u);
  EXPECT_TRUE(page2->next_token.empty());

  ASSERT_TRUE(im_->policies().Delete(scope(), plan_, *id).ok());
  auto gone = im_->policies().Delete(scope(), plan_, *id);
  EXPECT_EQ(ErrorType(gone), "ResourceNotFoundException");
  EXPECT_EQ(ErrorField(gone, "resourceType"), "RESOURCE_POLICY");

  EXPECT_EQ(ErrorType(im_->policies().Put(scope(), plan_, "not json").status()),
            "ValidationException");
  EXPECT_EQ(ErrorType(im_->policies().Put(scope(), plan_, R"({"Version":"x"})").status()),
            "ValidationException");
  auto no_plan = im_->policies().Put(
      scope(), "arn:aws:ssm-incidents::000000000000:response-plan/none", policy);
  EXPECT_EQ(ErrorField(no_plan.status(), "resourceType"), "RESPONSE_PLAN");
  EXPECT_EQ(ErrorType(im_->policies().Put(scope(), incident_, policy).status()),
            "ValidationException");
}

}  // namespace
}  // namespace klaxon::incidents
