#include "incidents/replication_set_service.h"

#include "gtest/gtest.h"
#include "incidents/test_util.h"

namespace klaxon::incidents {
namespace {

using testing::ErrorField;
using testing::ErrorType;
using testing::IncidentsTest;

using ReplicationSetTest = IncidentsTest;

TEST_F(ReplicationSetTest, CreateIsActiveAtOnce) {
  std::string arn = CreateReplicationSet();
  EXPECT_THAT(arn, ::testing::StartsWith("arn:aws:ssm-incidents::000000000000:replication-set/"));
  auto set = im_->replication_sets().Get(scope(), arn);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->status, "ACTIVE");
  EXPECT_FALSE(set->deletion_protected);
  EXPECT_EQ(set->created_by, testing::kCaller);
  ASSERT_EQ(set->regions.size(), 1u);
  EXPECT_EQ(set->regions.at("us-east-1").status, "ACTIVE");
  EXPECT_EQ(set->regions.at("us-east-1").sse_kms_key_id, "DefaultKey");
  EXPECT_EQ(set->regions.at("us-east-1").status_update_time, clock_.Now());

  auto list = im_->replication_sets().List(scope(), std::nullopt, "");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->items, std::vector<std::string>{arn});
  EXPECT_TRUE(list->next_token.empty());
}

TEST_F(ReplicationSetTest, SecondCreateConflicts) {
  std::string arn = CreateReplicationSet();
  CreateReplicationSetRequest req;
  req.regions["us-west-2"] = std::nullopt;
  auto again = im_->replication_sets().Create(scope(), req);
  EXPECT_EQ(ErrorType(again.status()), "ConflictException");
  EXPECT_EQ(ErrorField(again.status(), "resourceType"), "REPLICATION_SET");
  EXPECT_EQ(ErrorField(again.status(), "resourceIdentifier"), arn);
}

TEST_F(ReplicationSetTest, ClientTokenReplaysAndDetectsMismatch) {
  CreateReplicationSetRequest req;
  req.regions["us-east-1"] = std::nullopt;
  req.client_token = "tok";
  auto first = im_->replication_sets().Create(scope(), req);
  auto second = im_->replication_sets().Create(scope(), req);
  ASSERT_TRUE(first.ok() && second.ok()) << second.status();
  EXPECT_EQ(*first, *second);
  req.regions["us-west-2"] = std::nullopt;
  EXPECT_EQ(ErrorType(im_->replication_sets().Create(scope(), req).status()), "ConflictException");
}

TEST_F(ReplicationSetTest, ValidatesRegionsAndKeys) {
  CreateReplicationSetRequest req;
  EXPECT_EQ(ErrorType(im_->replication_sets().Create(scope(), req).status()),
            "ValidationException");
  req.regions["US East"] = std::nullopt;
  EXPECT_EQ(ErrorType(im_->replication_sets().Create(scope(), req).status()),
            "ValidationException");
  req.regions.clear();
  req.regions["us-east-1"] = std::nullopt;
  req.regions["us-west-2"] = "arn:aws:kms:us-west-2:000000000000:key/k";
  EXPECT_EQ(ErrorType(im_->replication_sets().Create(scope(), req).status()),
            "ValidationException");
  req.regions.clear();
  for (auto r : {"us-east-1", "us-east-2", "us-west-1", "us-west-2"}) req.regions[r] = std::nullopt;
  EXPECT_EQ(ErrorType(im_->replication_sets().Create(scope(), req).status()),
            "ValidationException");  // above the model's 3
}

class SmallReplicationSetTest : public IncidentsTest {
 protected:
  SmallReplicationSetTest()
      : IncidentsTest([] {
          Limits l;
          l.max_regions = 1;
          return l;
        }()) {}
};

TEST_F(SmallReplicationSetTest, ConfiguredRegionLimitIsAQuota) {
  CreateReplicationSetRequest req;
  req.regions["us-east-1"] = std::nullopt;
  req.regions["us-west-2"] = std::nullopt;
  auto result = im_->replication_sets().Create(scope(), req);
  EXPECT_EQ(ErrorType(result.status()), "ServiceQuotaExceededException");
  EXPECT_EQ(ErrorField(result.status(), "serviceCode"), "ssm-incidents");
  EXPECT_EQ(ErrorField(result.status(), "quotaCode"), "regions-per-replication-set");

  std::string arn = CreateReplicationSet();
  ReplicationSetAction add{ReplicationSetAction::Kind::kAddRegion, "us-west-2", std::nullopt};
  EXPECT_EQ(ErrorType(im_->replication_sets().Update(scope(), arn, add, std::nullopt)),
            "ServiceQuotaExceededException");
}

TEST_F(ReplicationSetTest, AddAndDeleteRegions) {
  std::string arn = CreateReplicationSet();
  clock_.Advance(absl::Minutes(1));
  ReplicationSetAction add{ReplicationSetAction::Kind::kAddRegion, "us-west-2", std::nullopt};
  ASSERT_TRUE(im_->replication_sets().Update(scope(), arn, add, std::nullopt).ok());
  auto set = im_->replication_sets().Get(scope(), arn);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->regions.size(), 2u);
  EXPECT_EQ(set->regions.at("us-west-2").status, "ACTIVE");
  EXPECT_EQ(set->status, "ACTIVE");
  EXPECT_EQ(set->last_modified_time, clock_.Now());

  EXPECT_EQ(ErrorType(im_->replication_sets().Update(scope(), arn, add, std::nullopt)),
            "ValidationException");  // already present
  ReplicationSetAction del{ReplicationSetAction::Kind::kDeleteRegion, "eu-west-1", std::nullopt};
  EXPECT_EQ(ErrorType(im_->replication_sets().Update(scope(), arn, del, std::nullopt)),
            "ValidationException");  // absent
  del.region = "us-west-2";
  ASSERT_TRUE(im_->replication_sets().Update(scope(), arn, del, std::nullopt).ok());
  set = im_->replication_sets().Get(scope(), arn);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->regions.size(), 1u);
}

TEST_F(ReplicationSetTest, MixedKeysRejectedOnAdd) {
  std::string arn = CreateReplicationSet();
  ReplicationSetAction add{ReplicationSetAction::Kind::kAddRegion, "us-west-2",
                           "arn:aws:kms:us-west-2:000000000000:key/k"};
  EXPECT_EQ(ErrorType(im_->replication_sets().Update(scope(), arn, add, std::nullopt)),
            "ValidationException");
}

TEST_F(ReplicationSetTest, DeletionProtectionGuardsTheLastRegion) {
  std::string arn = CreateReplicationSet();
  ASSERT_TRUE(
      im_->replication_sets().UpdateDeletionProtection(scope(), arn, true, std::nullopt).ok());
  auto set = im_->replication_sets().Get(scope(), arn);
  ASSERT_TRUE(set.ok());
  EXPECT_TRUE(set->deletion_protected);
  EXPECT_EQ(ErrorType(im_->replication_sets().Delete(scope(), arn)), "ValidationException");
  ReplicationSetAction del{ReplicationSetAction::Kind::kDeleteRegion, "us-east-1", std::nullopt};
  EXPECT_EQ(ErrorType(im_->replication_sets().Update(scope(), arn, del, std::nullopt)),
            "ValidationException");
  ASSERT_TRUE(
      im_->replication_sets().UpdateDeletionProtection(scope(), arn, false, std::nullopt).ok());
  // Without protection, deleting the last Region deletes the set.
  ASSERT_TRUE(im_->replication_sets().Update(scope(), arn, del, std::nullopt).ok());
  EXPECT_EQ(ErrorType(im_->replication_sets().Get(scope(), arn).status()),
            "ResourceNotFoundException");
}

TEST_F(ReplicationSetTest, DeleteRemovesAllIncidentManagerData) {
  std::string arn = CreateReplicationSet();
  std::string plan = CreatePlan("p");
  std::string incident = Start(plan);
  ASSERT_TRUE(im_->replication_sets().Delete(scope(), arn).ok());
  EXPECT_EQ(ErrorType(im_->replication_sets().Get(scope(), arn).status()),
            "ResourceNotFoundException");
  EXPECT_EQ(ErrorType(im_->response_plans().Get(scope(), plan).status()),
            "ResourceNotFoundException");
  EXPECT_EQ(ErrorType(im_->incidents().Get(scope(), incident).status()),
            "ResourceNotFoundException");
  auto list = im_->replication_sets().List(scope(), std::nullopt, "");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->items.empty());
  // A new set can be created afterwards.
  EXPECT_NE(CreateReplicationSet(), arn);
}

TEST_F(ReplicationSetTest, ErrorsForUnknownOrForeignArns) {
  std::string arn = CreateReplicationSet();
  auto other = im_->replication_sets().Get(
      scope(), "arn:aws:ssm-incidents::000000000000:replication-set/nope");
  EXPECT_EQ(ErrorType(other.status()), "ResourceNotFoundException");
  EXPECT_EQ(ErrorField(other.status(), "resourceType"), "REPLICATION_SET");
  EXPECT_EQ(ErrorType(im_->replication_sets().Get(scope("111111111111"), arn).status()),
            "AccessDeniedException");
  EXPECT_EQ(ErrorType(im_->replication_sets().Get(scope(), "not-an-arn").status()),
            "ValidationException");
  // Another account sees nothing.
  auto list = im_->replication_sets().List(scope("111111111111"), std::nullopt, "");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->items.empty());
}

class SlowRegionDeleteTest : public IncidentsTest {
 protected:
  SlowRegionDeleteTest()
      : IncidentsTest([] {
          Limits l;
          l.region_delete_min_age = absl::Hours(24);
          return l;
        }()) {}
};

TEST_F(SlowRegionDeleteTest, RecentlyAddedRegionCannotBeDeleted) {
  std::string arn = CreateReplicationSet();
  ReplicationSetAction add{ReplicationSetAction::Kind::kAddRegion, "us-west-2", std::nullopt};
  ASSERT_TRUE(im_->replication_sets().Update(scope(), arn, add, std::nullopt).ok());
  ReplicationSetAction del{ReplicationSetAction::Kind::kDeleteRegion, "us-west-2", std::nullopt};
  EXPECT_EQ(ErrorType(im_->replication_sets().Update(scope(), arn, del, std::nullopt)),
            "ValidationException");
  clock_.Advance(absl::Hours(25));
  EXPECT_TRUE(im_->replication_sets().Update(scope(), arn, del, std::nullopt).ok());
}

TEST_F(ReplicationSetTest, PlansAndIncidentsNeedTheSetInTheCallersRegion) {
  CreateResponsePlanRequest req;
  req.name = "p";
  req.incident_template.title = "t";
  EXPECT_EQ(ErrorType(im_->response_plans().Create(scope(), req).status()), "ValidationException");
  CreateReplicationSet();
  Scope elsewhere = scope();
  elsewhere.region = "eu-west-1";
  EXPECT_EQ(ErrorType(im_->response_plans().Create(elsewhere, req).status()),
            "ValidationException");
  EXPECT_TRUE(im_->response_plans().Create(scope(), req).ok());
}

}  // namespace
}  // namespace klaxon::incidents
