#include "incidents/arn.h"

#include "gtest/gtest.h"
#include "incidents/test_util.h"

namespace klaxon::incidents {
namespace {

using testing::ErrorType;

TEST(Arn, BuildsTheThreeForms) {
  EXPECT_EQ(ResponsePlanArn("111122223333", "db-down"),
            "arn:aws:ssm-incidents::111122223333:response-plan/db-down");
  EXPECT_EQ(IncidentRecordArn("111122223333", "db-down", "abc"),
            "arn:aws:ssm-incidents::111122223333:incident-record/db-down/abc");
  EXPECT_EQ(ReplicationSetArn("111122223333", "u-1"),
            "arn:aws:ssm-incidents::111122223333:replication-set/u-1");
}

TEST(Arn, ParsesBothResponsePlanSpellings) {
  auto a = ParseArn("arn:aws:ssm-incidents::111122223333:response-plan/db-down");
  auto b = ParseArn("arn:aws:ssm-incidents::111122223333:responseplan/db-down");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->kind, ArnKind::kResponsePlan);
  EXPECT_EQ(b->kind, ArnKind::kResponsePlan);
  EXPECT_EQ(a->resource, "db-down");
  EXPECT_EQ(b->resource, "db-down");
  EXPECT_EQ(b->account, "111122223333");
  EXPECT_EQ(CanonicalResponsePlanArn("arn:aws:ssm-incidents::111122223333:responseplan/db-down"),
            "arn:aws:ssm-incidents::111122223333:response-plan/db-down");
}

TEST(Arn, ParsesIncidentRecordsAndIgnoresRegion) {
  auto a = ParseArn("arn:aws:ssm-incidents:us-east-1:111122223333:incident-record/p/abc-1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, ArnKind::kIncidentRecord);
  EXPECT_EQ(a->resource, "p/abc-1");
}

TEST(Arn, RejectsMalformed) {
  EXPECT_FALSE(ParseArn(""));
  EXPECT_FALSE(ParseArn("arn:aws:ssm:us-east-1:111122223333:opsitem/oi-1"));
  EXPECT_FALSE(ParseArn("arn:aws:ssm-incidents::1111:response-plan/x"));
  EXPECT_FALSE(ParseArn("arn:aws:ssm-incidents::111122223333:response-plan/"));
  EXPECT_FALSE(ParseArn("arn:aws:ssm-incidents::111122223333:response-plan/a b"));
  EXPECT_FALSE(ParseArn("arn:aws:ssm-incidents::111122223333:incident-record/p"));
  EXPECT_FALSE(ParseArn("arn:aws:ssm-incidents::111122223333:incident-record/p/a/b"));
  EXPECT_FALSE(ParseArn("arn:aws:ssm-incidents::111122223333:thing/x"));
}

TEST(Arn, ScopedHelpersCheckAccountAndKind) {
  Scope scope{"111122223333", "us-east-1", "arn:aws:iam::111122223333:root"};
  auto name = ResponsePlanNameFromArn(scope, "arn:aws:ssm-incidents::111122223333:responseplan/x");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(*name, "x");
  EXPECT_EQ(ErrorType(ResponsePlanNameFromArn(scope,
                                              "arn:aws:ssm-incidents::999999999999:response-plan/x")
                          .status()),
            "AccessDeniedException");
  EXPECT_EQ(ErrorType(ResponsePlanNameFromArn(
                          scope, "arn:aws:ssm-incidents::111122223333:incident-record/x/y")
                          .status()),
            "ValidationException");
  auto key = IncidentKeyFromArn(scope, "arn:aws:ssm-incidents::111122223333:incident-record/x/y");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, "x/y");
}

}  // namespace
}  // namespace klaxon::incidents
