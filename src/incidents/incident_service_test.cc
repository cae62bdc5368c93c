#include "incidents/incident_service.h"

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "boost/json/parse.hpp"
#include "common/non_blocking.h"
#include "gtest/gtest.h"
#include "incidents/test_util.h"
#include "storage/test_util.h"

namespace klaxon::incidents {
namespace {

using ::testing::ElementsAre;
using testing::ErrorField;
using testing::ErrorType;
using testing::IncidentsTest;
using testing::kCaller;
using ::testing::MatchesRegex;

constexpr char kAlarmArn[] = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:cpu";

RelatedItem ArnItem(const std::string& type, const std::string& arn, const std::string& title) {
  RelatedItem item;
  item.identifier.type = type;
  item.identifier.value.arn = arn;
  item.title = title;
  return item;
}

std::string JStr(const boost::json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : "<not a string>";
}

boost::json::object ParseObject(const std::string& text) {
  return boost::json::parse(text).as_object();
}

class IncidentServiceTest : public IncidentsTest {
 protected:
  void SetUp() override {
    IncidentsTest::SetUp();
    CreateReplicationSet();
  }

  std::vector<TimelineEvent> Timeline(const std::string& arn, bool ascending = true) {
    ListTimelineEventsRequest req;
    req.incident_record_arn = arn;
    req.ascending = ascending;
    auto page = im_->timeline().List(scope(), req);
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->items : std::vector<TimelineEvent>{};
  }

  std::vector<TimelineEvent> EventsOfType(const std::string& arn, std::string_view type) {
    std::vector<TimelineEvent> out;
    for (auto& e : Timeline(arn)) {
      if (e.event_type == type) out.push_back(e);
    }
    return out;
  }

  std::vector<RelatedItem> Related(const std::string& arn) {
    auto page = im_->incidents().ListRelatedItems(scope(), arn, std::nullopt, "");
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->items : std::vector<RelatedItem>{};
  }

  size_t OpsItemCount() {
    auto page = ops_->Describe(opsitems::Scope{testing::kAccount, "us-east-1", kCaller}, {}, 0, "");
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->items.size() : 0;
  }

  absl::Status Resolve(const std::string& arn) {
    UpdateIncidentRecordRequest up;
    up.arn = arn;
    up.status = IncidentStatus::kResolved;
    return im_->incidents().Update(scope(), up);
  }
};

TEST_F(IncidentServiceTest, StartCreatesTheIncidentWithEverythingAttached) {
  CreateResponsePlanRequest plan_req;
  plan_req.name = "db-down";
  plan_req.incident_template.title = "DB down";
  plan_req.incident_template.impact = 2;
  plan_req.incident_template.summary = "Primary unreachable";
  plan_req.incident_template.incident_tags = {{"team", "db"}};
  plan_req.incident_template.notification_targets =
      boost::json::parse(R"([{"snsTopicArn":"arn:aws:sns:us-east-1:000000000000:t"}])");
  plan_req.chat_channel = boost::json::parse(R"({"empty":{}})");
  auto plan_arn = im_->response_plans().Create(scope(), plan_req);
  ASSERT_TRUE(plan_arn.ok()) << plan_arn.status();

  auto req = ManualStart(*plan_arn);
  req.related_items = {
      ArnItem("INVOLVED_RESOURCE", "arn:aws:ec2:us-east-1:000000000000:instance/i-1", "instance")};
  req.trigger_details = TriggerDetails{"aws.cloudwatch", kAlarmArn,
                                       absl::FromUnixSeconds(1700000000), R"({"detail":{}})"};
  auto result = im_->incidents().Start(scope(), req);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->created);
  EXPECT_THAT(result->incident_record_arn,
              MatchesRegex("arn:aws:ssm-incidents::000000000000:incident-record/db-down/"
                           "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"));

  auto record = im_->incidents().Get(scope(), result->incident_record_arn);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->title, "DB down");
  EXPECT_EQ(record->impact, 2);
  EXPECT_EQ(record->summary, "Primary unreachable");
  EXPECT_EQ(record->status, IncidentStatus::kOpen);
  EXPECT_EQ(record->creation_time, clock_.Now());
  EXPECT_EQ(record->last_modified_time, clock_.Now());
  EXPECT_EQ(record->last_modified_by, kCaller);
  EXPECT_FALSE(record->resolved_time);
  EXPECT_EQ(record->dedupe_string.size(), 36u);  // generated: never dedups
  EXPECT_EQ(record->incident_record_source.created_by, kCaller);
  EXPECT_EQ(record->incident_record_source.invoked_by, kCaller);
  EXPECT_EQ(record->incident_record_source.source, "aws.ssm-incidents.custom");
  EXPECT_EQ(record->chat_channel, plan_req.chat_channel);
  EXPECT_EQ(record->notification_targets, plan_req.incident_template.notification_targets);

  // Timeline: trigger (at the trigger's timestamp) then start.
  auto events = Timeline(result->incident_record_arn);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event_type, "SSM Incident Trigger");
  EXPECT_EQ(events[0].event_time, absl::FromUnixSeconds(1700000000));
  auto data = ParseObject(events[0].event_data);
  EXPECT_EQ(data.at("createdIncident"), true);
  EXPECT_EQ(JStr(data.at("incidentSource")), "aws.cloudwatch");
  EXPECT_EQ(JStr(data.at("triggerArn")), kAlarmArn);
  EXPECT_EQ(JStr(data.at("rawData")), R"({"detail":{}})");
  ASSERT_EQ(events[0].event_references.size(), 1u);
  EXPECT_EQ(events[0].event_references[0].resource, kAlarmArn);
  EXPECT_EQ(events[1].event_type, "SSM Incident Start");
  EXPECT_EQ(JStr(ParseObject(events[1].event_data).at("incidentTitle")), "DB down");

  // Related items: the request's, then the parent OpsItem.
  auto items = Related(result->incident_record_arn);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].identifier.type, "INVOLVED_RESOURCE");
  EXPECT_THAT(items[0].generated_id, MatchesRegex("related-item/INVOLVED_RESOURCE/[0-9A-F]{32}"));
  EXPECT_EQ(items[1].identifier.type, "PARENT");
  EXPECT_EQ(items[1].title, "parentItem");
  EXPECT_THAT(items[1].generated_id, MatchesRegex("related-item/PARENT/[0-9A-F]{32}"));
  ASSERT_TRUE(items[1].identifier.value.arn);
  EXPECT_EQ(*items[1].identifier.value.arn,
            "arn:aws:ssm:us-east-1:000000000000:opsitem/" + result->parent_ops_item_id);

  // The parent OpsItem, linked back with IsParentOf.
  opsitems::Scope ops_scope{testing::kAccount, "us-east-1", kCaller};
  auto ops_item = ops_->Get(ops_scope, result->parent_ops_item_id);
  ASSERT_TRUE(ops_item.ok()) << ops_item.status();
  EXPECT_EQ(ops_item->title, "DB down");
  EXPECT_EQ(ops_item->description, "Primary unreachable");
  EXPECT_EQ(ops_item->source, "SSM Incident Manager");
  EXPECT_EQ(ops_item->priority, 2);
  EXPECT_EQ(ops_item->severity, "2");
  EXPECT_EQ(ops_item->ops_item_type, "/aws/issue");
  auto links = ops_->ListRelatedItems(ops_scope, result->parent_ops_item_id, {}, 0, "");
  ASSERT_TRUE(links.ok()) << links.status();
  ASSERT_EQ(links->items.size(), 1u);
  EXPECT_EQ(links->items[0].association_type, "IsParentOf");
  EXPECT_EQ(links->items[0].resource_type, "AWS::SSMIncidents::IncidentRecord");
  EXPECT_EQ(links->items[0].resource_uri, result->incident_record_arn);

  // incidentTags became the incident's tags.
  auto tags = im_->tags().List(scope(), result->incident_record_arn);
  ASSERT_TRUE(tags.ok()) << tags.status();
  EXPECT_EQ(tags->at("team"), "db");
}

TEST_F(IncidentServiceTest, StartSeesEveryChangeOfThePlanAndReplicationSet) {
  // Start serves the plan and the replication set from a cache of decoded records; every update
  // must still be seen by the next start.
  auto sets = im_->replication_sets().List(scope(), std::nullopt, "");
  ASSERT_TRUE(sets.ok() && sets->items.size() == 1);
  const std::string set_arn = sets->items.front();
  const std::string plan = CreatePlan("cached");
  auto first = im_->incidents().Get(scope(), Start(plan));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->title, "Title of cached");
  EXPECT_EQ(first->impact, 3);

  UpdateResponsePlanRequest update;
  update.arn = plan;
  update.incident_template_title = "Renamed";
  update.incident_template_impact = 1;
  update.incident_template_dedupe_string = "now-dedups";
  ASSERT_TRUE(im_->response_plans().Update(scope(), update).ok());
  const std::string a = Start(plan);
  const std::string b = Start(plan);
  EXPECT_EQ(a, b);  // the new dedupeString is in effect
  auto second = im_->incidents().Get(scope(), a);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->title, "Renamed");
  EXPECT_EQ(second->impact, 1);
  EXPECT_EQ(second->dedupe_string, "now-dedups");

  // A deleted plan (even one just served from the cache) is not found...
  ASSERT_TRUE(im_->response_plans().Delete(scope(), plan).ok());
  EXPECT_EQ(ErrorType(im_->incidents().Start(scope(), ManualStart(plan)).status()),
            "ResourceNotFoundException");
  // ...and one created again under the same name is the new one.
  CreatePlan("cached", std::nullopt, 5);
  auto third = im_->incidents().Get(scope(), Start(plan));
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->impact, 5);
  EXPECT_EQ(third->title, "Title of cached");

  // The replication set is checked on every start too.
  absl::Status deleted = im_->replication_sets().Delete(scope(), set_arn);
  ASSERT_TRUE(deleted.ok()) << deleted;
  EXPECT_EQ(ErrorType(im_->incidents().Start(scope(), ManualStart(plan)).status()),
            "ValidationException");
}

TEST_F(IncidentServiceTest, TitleAndImpactOverrideTheTemplate) {
  std::string plan = CreatePlan("p", std::nullopt, 3);
  auto req = ManualStart(plan);
  req.title = "Primary DB unreachable";
  req.impact = 1;
  auto result = im_->incidents().Start(scope(), req);
  ASSERT_TRUE(result.ok());
  auto record = im_->incidents().Get(scope(), result->incident_record_arn);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->title, "Primary DB unreachable");
  EXPECT_EQ(record->impact, 1);
  // The alarm-action spelling of the plan ARN works too.
  req.response_plan_arn = "arn:aws:ssm-incidents::000000000000:responseplan/p";
  EXPECT_TRUE(im_->incidents().Start(scope(), req).ok());
}

TEST_F(IncidentServiceTest, ManualIncidentsWithoutDedupeStringNeverDeduplicate) {
  std::string plan = CreatePlan("p");
  std::string a = Start(plan);
  std::string b = Start(plan);
  EXPECT_NE(a, b);
  EXPECT_NE(im_->incidents().Get(scope(), a)->dedupe_string,
            im_->incidents().Get(scope(), b)->dedupe_string);
  EXPECT_EQ(OpsItemCount(), 2u);
}

TEST_F(IncidentServiceTest, DedupeStringFoldsTriggersIntoTheOpenIncident) {
  std::string plan = CreatePlan("p", "db");
  std::string first = Start(plan);
  auto req = ManualStart(plan);
  req.trigger_details =
      TriggerDetails{"aws.cloudwatch", kAlarmArn, clock_.Now(), std::string("raw")};
  auto second = im_->incidents().Start(scope(), req);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->incident_record_arn, first);
  EXPECT_EQ(im_->incidents().Get(scope(), first)->dedupe_string, "db");

  auto triggers = EventsOfType(first, kEventIncidentTrigger);
  ASSERT_EQ(triggers.size(), 2u);
  auto data = ParseObject(triggers[1].event_data);
  EXPECT_EQ(data.at("createdIncident"), false);
  EXPECT_EQ(JStr(data.at("incidentSource")), "aws.cloudwatch");
  EXPECT_EQ(JStr(data.at("triggerArn")), kAlarmArn);
  EXPECT_EQ(JStr(data.at("rawData")), "raw");
  EXPECT_EQ(EventsOfType(first, kEventIncidentStart).size(), 1u);
  EXPECT_EQ(OpsItemCount(), 1u);  // no second parent
  auto page = im_->incidents().List(scope(), {}, std::nullopt, "");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items.size(), 1u);
}

TEST_F(IncidentServiceTest, RequestDedupeKeyIsUsedWhenThePlanHasNone) {
  std::string plan = CreatePlan("p");
  auto req = ManualStart(plan);
  req.dedupe_key = kAlarmArn;
  auto a = im_->incidents().Start(scope(), req);
  auto b = im_->incidents().Start(scope(), req);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->incident_record_arn, b->incident_record_arn);
  EXPECT_EQ(im_->incidents().Get(scope(), a->incident_record_arn)->dedupe_string, kAlarmArn);
  // The plan's dedupeString wins over the request's key.
  std::string plan2 = CreatePlan("p2", "shared");
  req.response_plan_arn = plan2;
  auto c = im_->incidents().Start(scope(), req);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->created);
  EXPECT_EQ(im_->incidents().Get(scope(), c->incident_record_arn)->dedupe_string, "shared");
}

TEST_F(IncidentServiceTest, ResolvingFreesTheKey) {
  std::string plan = CreatePlan("p", "db");
  std::string first = Start(plan);
  clock_.Advance(absl::Minutes(5));
  ASSERT_TRUE(Resolve(first).ok());
  auto record = im_->incidents().Get(scope(), first);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->status, IncidentStatus::kResolved);
  EXPECT_EQ(record->resolved_time, clock_.Now());
  std::string second = Start(plan);
  EXPECT_NE(second, first);
  EXPECT_EQ(OpsItemCount(), 2u);
  // Resolving again keeps the first resolvedTime.
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(Resolve(first).ok());
  EXPECT_EQ(im_->incidents().Get(scope(), first)->resolved_time, clock_.Now() - absl::Minutes(1));
}

TEST_F(IncidentServiceTest, ReopeningReacquiresTheKeyOnlyIfFree) {
  std::string plan = CreatePlan("p", "db");
  std::string a = Start(plan);
  ASSERT_TRUE(Resolve(a).ok());
  // Reopen while the key is free: A absorbs triggers again.
  UpdateIncidentRecordRequest reopen;
  reopen.arn = a;
  reopen.status = IncidentStatus::kOpen;
  ASSERT_TRUE(im_->incidents().Update(scope(), reopen).ok());
  EXPECT_FALSE(im_->incidents().Get(scope(), a)->resolved_time);
  EXPECT_EQ(Start(plan), a);

  // Resolve A, let B take the key, reopen A: B keeps the key.
  ASSERT_TRUE(Resolve(a).ok());
  std::string b = Start(plan);
  ASSERT_NE(b, a);
  ASSERT_TRUE(im_->incidents().Update(scope(), reopen).ok());
  EXPECT_EQ(im_->incidents().Get(scope(), a)->status, IncidentStatus::kOpen);
  EXPECT_EQ(Start(plan), b);
}

TEST_F(IncidentServiceTest, ClientTokenReplaysTheFirstResult) {
  std::string plan = CreatePlan("p");
  auto req = ManualStart(plan);
  req.client_token = "tok-1";
  req.title = "t";
  auto a = im_->incidents().Start(scope(), req);
  auto b = im_->incidents().Start(scope(), req);
  ASSERT_TRUE(a.ok() && b.ok()) << b.status();
  EXPECT_EQ(a->incident_record_arn, b->incident_record_arn);
  EXPECT_TRUE(b->replayed);
  EXPECT_TRUE(b->created);
  EXPECT_EQ(EventsOfType(a->incident_record_arn, kEventIncidentTrigger).size(), 1u);
  EXPECT_EQ(OpsItemCount(), 1u);
  // Same token, other parameters.
  req.title = "other";
  auto c = im_->incidents().Start(scope(), req);
  EXPECT_EQ(ErrorType(c.status()), "ConflictException");
  // Tokens are per account.
  auto other_account = im_->incidents().Start(scope("111111111111"), req);
  EXPECT_EQ(ErrorType(other_account.status()), "ValidationException");  // no replication set
}

TEST_F(IncidentServiceTest, FortyConcurrentStartsWithOneKeyMakeOneIncident) {
  std::string plan = CreatePlan("p", "storm");
  constexpr int kThreads = 40;
  std::vector<std::string> arns(kThreads);
  std::vector<int> created(kThreads, 0);  // not vector<bool>: its bits share words
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto req = ManualStart(plan);
      req.trigger_details = TriggerDetails{"custom.test", std::nullopt, clock_.Now(), std::nullopt};
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      auto result = im_->incidents().Start(scope(), req);
      ASSERT_TRUE(result.ok()) << result.status();
      arns[i] = result->incident_record_arn;
      created[i] = result->created ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::set<std::string>(arns.begin(), arns.end()).size(), 1u);
  EXPECT_EQ(std::count(created.begin(), created.end(), 1), 1);
  auto triggers = EventsOfType(arns[0], kEventIncidentTrigger);
  ASSERT_EQ(triggers.size(), static_cast<size_t>(kThreads));
  int not_created = 0;
  for (const auto& e : triggers) {
    if (ParseObject(e.event_data).at("createdIncident") == false) ++not_created;
  }
  EXPECT_EQ(not_created, kThreads - 1);
  EXPECT_EQ(OpsItemCount(), 1u);
  auto page = im_->incidents().List(scope(), {}, std::nullopt, "");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items.size(), 1u);
}

TEST_F(IncidentServiceTest, StartErrors) {
  std::string plan = CreatePlan("p");
  auto req = ManualStart("arn:aws:ssm-incidents::000000000000:response-plan/missing");
  auto missing = im_->incidents().Start(scope(), req);
  EXPECT_EQ(ErrorType(missing.status()), "ResourceNotFoundException");
  EXPECT_EQ(ErrorField(missing.status(), "resourceType"), "RESPONSE_PLAN");
  EXPECT_EQ(ErrorField(missing.status(), "resourceIdentifier"), req.response_plan_arn);

  req.response_plan_arn = "arn:aws:ssm-incidents::111111111111:response-plan/p";
  EXPECT_EQ(ErrorType(im_->incidents().Start(scope(), req).status()), "AccessDeniedException");
  req.response_plan_arn = "arn:aws:ssm-incidents::000000000000:incident-record/p/x";
  EXPECT_EQ(ErrorType(im_->incidents().Start(scope(), req).status()), "ValidationException");

  req = ManualStart(plan);
  req.impact = 0;
  EXPECT_EQ(ErrorType(im_->incidents().Start(scope(), req).status()), "ValidationException");
  req = ManualStart(plan);
  RelatedItem bad;
  bad.identifier.type = "WHATEVER";
  bad.identifier.value.url = "https://x";
  req.related_items = {bad};
  EXPECT_EQ(ErrorType(im_->incidents().Start(scope(), req).status()), "ValidationException");
  bad.identifier.type = "OTHER";
  bad.identifier.value.arn = "arn:aws:s3:::b";  // two members
  req.related_items = {bad};
  EXPECT_EQ(ErrorType(im_->incidents().Start(scope(), req).status()), "ValidationException");

  Scope elsewhere = scope();
  elsewhere.region = "eu-west-1";
  EXPECT_EQ(ErrorType(im_->incidents().Start(elsewhere, ManualStart(plan)).status()),
            "ValidationException");
}

TEST_F(IncidentServiceTest, NoReplicationSetMeansNoIncidents) {
  Scope other = scope("222222222222");
  StartIncidentRequest req = ManualStart("arn:aws:ssm-incidents::222222222222:response-plan/p");
  auto result = im_->incidents().Start(other, req);
  EXPECT_EQ(ErrorType(result.status()), "ValidationException");
  EXPECT_THAT(std::string(result.status().message()), ::testing::HasSubstr("replication set"));
}

TEST_F(IncidentServiceTest, RelatedItemsFromTheRequestAreDeduplicated) {
  std::string plan = CreatePlan("p");
  auto req = ManualStart(plan);
  req.related_items = {ArnItem("OTHER", "arn:aws:s3:::b", "first"),
                       ArnItem("OTHER", "arn:aws:s3:::b", "second"),
                       ArnItem("METRIC", "arn:aws:s3:::b", "other type")};
  auto result = im_->incidents().Start(scope(), req);
  ASSERT_TRUE(result.ok());
  auto items = Related(result->incident_record_arn);
  ASSERT_EQ(items.size(), 3u);  // 2 + parent
  EXPECT_EQ(items[0].title, "first");
  EXPECT_EQ(items[1].identifier.type, "METRIC");
}

TEST_F(IncidentServiceTest, DeduplicatedTriggersAddTheirNewRelatedItems) {
  std::string plan = CreatePlan("p", "db");
  auto req = ManualStart(plan);
  req.related_items = {ArnItem("INVOLVED_RESOURCE", "arn:aws:s3:::a", "a")};
  auto first = im_->incidents().Start(scope(), req);
  ASSERT_TRUE(first.ok());
  req.related_items = {ArnItem("INVOLVED_RESOURCE", "arn:aws:s3:::a", "a"),
                       ArnItem("INVOLVED_RESOURCE", "arn:aws:s3:::b", "b")};
  ASSERT_TRUE(im_->incidents().Start(scope(), req).ok());
  auto items = Related(first->incident_record_arn);
  ASSERT_EQ(items.size(), 3u);  // a, parent, b
  EXPECT_EQ(items[2].title, "b");
}

class SmallIncidentLimitsTest : public IncidentServiceTest {
 protected:
  SmallIncidentLimitsTest() {
    limits_.max_related_items = 3;
    limits_.max_timeline_events = 3;
  }

  // The ARN of the plan's open incident, after two starts have filled its 3-event timeline.
  std::string FullIncident(const std::string& plan) {
    std::string first = Start(plan);  // 2 events
    EXPECT_EQ(Start(plan), first);    // 3rd event: the timeline is full
    return first;
  }

  // A duplicate start answered with the open incident `arn`.
  static void ExpectJoined(const absl::StatusOr<StartIncidentResult>& result,
                           const std::string& arn) {
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->incident_record_arn, arn);
    EXPECT_FALSE(result->created);
    EXPECT_FALSE(result->replayed);
    EXPECT_FALSE(result->parent_ops_item_id.empty());
  }
};

TEST_F(SmallIncidentLimitsTest, RelatedItemQuota) {
  std::string plan = CreatePlan("p");
  auto req = ManualStart(plan);
  req.related_items = {ArnItem("OTHER", "arn:aws:s3:::a", "a"),
                       ArnItem("OTHER", "arn:aws:s3:::b", "b"),
                       ArnItem("OTHER", "arn:aws:s3:::c", "c")};
  auto result = im_->incidents().Start(scope(), req);
  EXPECT_EQ(ErrorType(result.status()), "ServiceQuotaExceededException");
  EXPECT_EQ(ErrorField(result.status(), "quotaCode"), "related-items-per-incident");
  EXPECT_EQ(ErrorField(result.status(), "serviceCode"), "ssm-incidents");
  EXPECT_EQ(OpsItemCount(), 0u);  // nothing of the failed start remains

  req.related_items.pop_back();
  result = im_->incidents().Start(scope(), req);
  ASSERT_TRUE(result.ok()) << result.status();
  RelatedItemsUpdate add;
  add.item_to_add = ArnItem("OTHER", "arn:aws:s3:::z", "z");
  auto status =
      im_->incidents().UpdateRelatedItems(scope(), result->incident_record_arn, add, std::nullopt);
  EXPECT_EQ(ErrorType(status), "ServiceQuotaExceededException");
  EXPECT_EQ(ErrorField(status, "resourceType"), "INCIDENT_RECORD");
}

TEST_F(SmallIncidentLimitsTest, AutomaticStartsClipRelatedItems) {
  std::string plan = CreatePlan("p");
  auto req = ManualStart(plan);
  for (int i = 0; i < 5; ++i) {
    req.related_items.push_back(
        ArnItem("INVOLVED_RESOURCE", "arn:aws:s3:::b" + std::to_string(i), "b"));
  }
  req.clip_related_items = true;
  auto result = im_->incidents().Start(scope(), req);
  ASSERT_TRUE(result.ok()) << result.status();
  auto items = Related(result->incident_record_arn);
  ASSERT_EQ(items.size(), 3u);  // the first two, then the parent
  EXPECT_EQ(items[2].identifier.type, "PARENT");
}

TEST_F(SmallIncidentLimitsTest, FullTimelineStillAbsorbsDuplicates) {
  std::string plan = CreatePlan("p", "db");
  std::string first = Start(plan);  // 2 events
  EXPECT_EQ(Start(plan), first);    // 3rd event
  EXPECT_EQ(Start(plan), first);    // dropped, still deduplicated
  EXPECT_EQ(Timeline(first).size(), 3u);
  CreateTimelineEventRequest note;
  note.incident_record_arn = first;
  note.event_time = clock_.Now();
  note.event_type = "Note";
  note.event_data = "x";
  auto created = im_->timeline().Create(scope(), note);
  EXPECT_EQ(ErrorType(created.status()), "ServiceQuotaExceededException");
  EXPECT_EQ(ErrorField(created.status(), "quotaCode"), "timeline-events-per-incident");
}

// Counts Write() and Read() calls of a store, and the rows read inside its writes.
class CountingStore final : public storage::Store {
 public:
  explicit CountingStore(storage::Store& inner) : inner_(inner) {}
  absl::Status Write(absl::FunctionRef<absl::Status(storage::WriteTxn&)> fn) override {
    ++writes;
    return inner_.Write([&](storage::WriteTxn& txn) {
      CountingTxn counted(txn, gets_in_writes);
      return fn(counted);
    });
  }
  void WriteAsync(std::function<absl::Status(storage::WriteTxn&)> fn,
                  std::function<void(absl::Status)> done) override {
    ++writes;
    inner_.WriteAsync(
        [this, fn = std::move(fn)](storage::WriteTxn& txn) {
          CountingTxn counted(txn, gets_in_writes);
          return fn(counted);
        },
        std::move(done));
  }
  bool supports_async_writes() const override { return inner_.supports_async_writes(); }
  absl::Status Read(absl::FunctionRef<absl::Status(storage::ReadTxn&)> fn) override {
    ++reads;
    return inner_.Read(fn);
  }
  const storage::ChangeStamps* change_stamps() const override { return inner_.change_stamps(); }
  void Close() override { inner_.Close(); }
  std::atomic<int> writes{0};
  std::atomic<int> reads{0};
  std::atomic<int> gets_in_writes{0};

 private:
  class CountingTxn final : public storage::testing::ForwardingTxn {
   public:
    CountingTxn(storage::WriteTxn& inner, std::atomic<int>& gets)
        : ForwardingTxn(inner), gets_(gets) {}
    absl::StatusOr<std::optional<std::string>> Get(std::string_view table, std::string_view account,
                                                   std::string_view id) override {
      ++gets_;
      return ForwardingTxn::Get(table, account, id);
    }

   private:
    std::atomic<int>& gets_;
  };

  storage::Store& inner_;
};

TEST_F(SmallIncidentLimitsTest, DuplicatesThatAddNothingNeedNoWriteTransaction) {
  std::string plan = CreatePlan("p", "db");
  std::string first = FullIncident(plan);
  CountingStore counting(store_);
  IncidentService service(counting, clock_, *ops_, limits_, im_->client_tokens());

  // The first duplicate learns, in the write path, that the timeline is full...
  auto learn = service.Start(scope(), ManualStart(plan));
  ASSERT_TRUE(learn.ok()) << learn.status();
  EXPECT_EQ(learn->incident_record_arn, first);
  EXPECT_EQ(counting.writes, 1);
  // ...and the next ones are answered from a read snapshot.
  for (int i = 0; i < 3; ++i) ExpectJoined(service.Start(scope(), ManualStart(plan)), first);
  EXPECT_EQ(counting.writes, 1);

  // A clientToken must be recorded (a retry after a resolve must still get this answer)...
  auto with_token = ManualStart(plan);
  with_token.client_token = "t-1";
  auto recorded = service.Start(scope(), with_token);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_EQ(recorded->incident_record_arn, first);
  EXPECT_EQ(counting.writes, 2);
  // ...and so must a related item the incident does not have yet.
  auto with_item = ManualStart(plan);
  with_item.related_items = {ArnItem("OTHER", "arn:aws:s3:::new", "new")};
  ASSERT_TRUE(service.Start(scope(), with_item).ok());
  EXPECT_EQ(counting.writes, 3);
  EXPECT_EQ(Related(first).size(), 2u);  // the parent and the new item

  // The snapshot sees every acknowledged write: once resolved, the next start opens a new one.
  ASSERT_TRUE(Resolve(first).ok());
  auto fresh = service.Start(scope(), ManualStart(plan));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_TRUE(fresh->created);
  EXPECT_NE(fresh->incident_record_arn, first);
  // The token recorded before the resolve still replays the first answer.
  auto replay = service.Start(scope(), with_token);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->incident_record_arn, first);
  // Errors are the write path's: an unknown plan.
  EXPECT_EQ(ErrorType(service.Start(scope(), ManualStart(plan + "-gone")).status()),
            "ResourceNotFoundException");
}

// With a clientToken, a storm start answered from memory still records its token: in a write that
// checks the answer's change stamps instead of reading the incident again. A write to one of
// those rows sends the next start down the whole write path.
TEST_F(SmallIncidentLimitsTest, StormsWithAClientTokenRecordOnlyTheirToken) {
  std::string plan = CreatePlan("p", "db");
  std::string first = FullIncident(plan);
  CountingStore counting(store_);
  IncidentService service(counting, clock_, *ops_, limits_, im_->client_tokens());
  auto start = [&](std::string token) {
    auto req = ManualStart(plan);
    req.client_token = std::move(token);
    return service.Start(scope(), req);
  };

  auto learn = start("t-0");  // the write path learns "full"
  ASSERT_TRUE(learn.ok()) << learn.status();
  auto read = start("t-1");  // a read answers, then its token is written
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->incident_record_arn, first);
  EXPECT_EQ(counting.reads, 1);
  EXPECT_EQ(counting.writes, 2);
  const int gets_before = counting.gets_in_writes;
  for (int i = 2; i < 5; ++i) ExpectJoined(start(absl::StrCat("t-", i)), first);
  EXPECT_EQ(counting.reads, 1);
  EXPECT_EQ(counting.writes, 5);
  // No row read: a new token is absent from the index, and the stamps vouch for the answer.
  EXPECT_EQ(counting.gets_in_writes - gets_before, 0);
  // Inside a NonBlockingScope it is queued, not refused.
  std::optional<absl::StatusOr<StartIncidentResult>> queued;
  {
    NonBlockingScope scope_guard;
    auto req = ManualStart(plan);
    req.client_token = "t-5";
    ASSERT_TRUE(
        service.StartAsync(scope(), req, [&](absl::StatusOr<StartIncidentResult> r) { queued = r; })
            .ok());
  }
  ASSERT_TRUE(queued.has_value());
  ASSERT_TRUE(queued->ok()) << queued->status();
  EXPECT_EQ((*queued)->incident_record_arn, first);

  // Every token replays, and a reused one with other parameters conflicts.
  auto replay = start("t-3");
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->incident_record_arn, first);
  auto other = ManualStart(plan);
  other.client_token = "t-4";
  other.title = "something else";
  EXPECT_EQ(ErrorType(service.Start(scope(), other).status()), "ConflictException");
  auto record = im_->incidents().Get(scope(), first);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->timeline_event_count, 3);

  // Resolved: the next token start opens a new incident; the earlier tokens still replay.
  ASSERT_TRUE(Resolve(first).ok());
  auto fresh = start("t-6");
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_TRUE(fresh->created);
  EXPECT_NE(fresh->incident_record_arn, first);
  auto old = start("t-2");
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_TRUE(old->replayed);
  EXPECT_EQ(old->incident_record_arn, first);
}

// After one read-only answer, a storm is answered from memory (no store call, so also inside a
// NonBlockingScope) until a row that answer depended on is written.
TEST_F(SmallIncidentLimitsTest, StormsAreAnsweredFromMemoryUntilARowTheyReadChanges) {
  std::string plan = CreatePlan("p", "db");
  std::string first = FullIncident(plan);
  CountingStore counting(store_);
  IncidentService service(counting, clock_, *ops_, limits_, im_->client_tokens());
  auto start_non_blocking = [&](const StartIncidentRequest& req) {
    NonBlockingScope scope_guard;
    return service.Start(scope(), req);
  };

  // Without a learned answer, a non-blocking start refuses without touching the store.
  EXPECT_TRUE(IsWouldBlock(start_non_blocking(ManualStart(plan)).status()));
  EXPECT_EQ(counting.writes + counting.reads, 0);
  ASSERT_TRUE(service.Start(scope(), ManualStart(plan)).ok());  // the write path learns "full"
  ASSERT_TRUE(service.Start(scope(), ManualStart(plan)).ok());  // a read answers, kept
  EXPECT_EQ(counting.writes, 1);
  EXPECT_EQ(counting.reads, 1);
  for (int i = 0; i < 3; ++i) ExpectJoined(start_non_blocking(ManualStart(plan)), first);
  EXPECT_EQ(counting.writes, 1);
  EXPECT_EQ(counting.reads, 1);
  // What must be recorded is never answered from memory.
  auto with_token = ManualStart(plan);
  with_token.client_token = "t-1";
  EXPECT_TRUE(IsWouldBlock(start_non_blocking(with_token).status()));
  auto with_item = ManualStart(plan);
  with_item.related_items = {ArnItem("OTHER", "arn:aws:s3:::new", "new")};
  EXPECT_TRUE(IsWouldBlock(start_non_blocking(with_item).status()));
  // Unrelated writes (another plan, another incident) leave the answer valid.
  std::string other = Start(CreatePlan("q", "other-key"));
  EXPECT_NE(other, first);
  EXPECT_TRUE(start_non_blocking(ManualStart(plan)).ok());

  // The incident updated (its row rewritten): refused from memory until a read vouches again.
  UpdateIncidentRecordRequest retitle;
  retitle.arn = first;
  retitle.title = "renamed";
  ASSERT_TRUE(im_->incidents().Update(scope(), retitle).ok());
  EXPECT_TRUE(IsWouldBlock(start_non_blocking(ManualStart(plan)).status()));
  auto after_update = service.Start(scope(), ManualStart(plan));
  ASSERT_TRUE(after_update.ok()) << after_update.status();
  EXPECT_EQ(after_update->incident_record_arn, first);

  // Resolved: the next start opens a new incident, never the memory's answer.
  EXPECT_TRUE(start_non_blocking(ManualStart(plan)).ok());
  ASSERT_TRUE(Resolve(first).ok());
  EXPECT_TRUE(IsWouldBlock(start_non_blocking(ManualStart(plan)).status()));
  auto fresh = service.Start(scope(), ManualStart(plan));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_TRUE(fresh->created);

  // The plan deleted: refused from memory, then answered by the store's error.
  std::string second = fresh->incident_record_arn;
  ASSERT_TRUE(service.Start(scope(), ManualStart(plan)).ok());  // 3rd event: full
  ASSERT_TRUE(service.Start(scope(), ManualStart(plan)).ok());  // learns
  ASSERT_TRUE(service.Start(scope(), ManualStart(plan)).ok());  // kept
  auto kept = start_non_blocking(ManualStart(plan));
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->incident_record_arn, second);
  ASSERT_TRUE(im_->response_plans().Delete(scope(), plan).ok());
  EXPECT_TRUE(IsWouldBlock(start_non_blocking(ManualStart(plan)).status()));
  EXPECT_EQ(ErrorType(service.Start(scope(), ManualStart(plan)).status()),
            "ResourceNotFoundException");
}

TEST_F(IncidentServiceTest, ListIsNewestFirstAndPaginates) {
  std::string plan = CreatePlan("p");
  std::vector<std::string> arns;
  for (int i = 0; i < 5; ++i) {
    arns.push_back(Start(plan));
    clock_.Advance(absl::Seconds(1));
  }
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = im_->incidents().List(scope(), {}, 2, token);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& r : page->items) seen.push_back(r.arn);
    token = page->next_token;
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, std::vector<std::string>(arns.rbegin(), arns.rend()));
  EXPECT_EQ(ErrorType(im_->incidents().List(scope(), {}, 2, "bogus").status()),
            "ValidationException");
  // A token of another list is rejected.
  auto plans = im_->response_plans().List(scope(), 1, "");
  ASSERT_TRUE(plans.ok());
  CreatePlan("q");
  plans = im_->response_plans().List(scope(), 1, "");
  ASSERT_FALSE(plans->next_token.empty());
  EXPECT_EQ(ErrorType(im_->incidents().List(scope(), {}, 2, plans->next_token).status()),
            "ValidationException");
}

TEST_F(IncidentServiceTest, ListFilters) {
  std::string plan = CreatePlan("p");
  auto start = [&](int impact, const std::string& creator) {
    auto req = ManualStart(plan);
    req.impact = impact;
    req.source.created_by = creator;
    auto r = im_->incidents().Start(scope(), req);
    EXPECT_TRUE(r.ok());
    clock_.Advance(absl::Minutes(1));
    return r->incident_record_arn;
  };
  const absl::Time t0 = clock_.Now();
  std::string a = start(1, "arn:aws:iam::000000000000:user/a");
  std::string b = start(2, "arn:aws:iam::000000000000:user/b");
  std::string c = start(3, "arn:aws:iam::000000000000:user/a");
  std::string d = start(1, "arn:aws:iam::000000000000:user/b");
  ASSERT_TRUE(Resolve(b).ok());

  auto list = [&](std::vector<Filter> filters) {
    auto page = im_->incidents().List(scope(), filters, std::nullopt, "");
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<std::string> out;
    if (page.ok()) {
      for (const auto& r : page->items) out.push_back(r.arn);
    }
    return out;
  };
  Filter impact{"impact", {}, {}, {}, std::vector<int64_t>{1, 3}};
  EXPECT_EQ(list({impact}), (std::vector<std::string>{d, c, a}));
  Filter status{"status", {}, {}, std::vector<std::string>{"RESOLVED"}, {}};
  EXPECT_EQ(list({status}), std::vector<std::string>{b});
  Filter open{"status", {}, {}, std::vector<std::string>{"OPEN"}, {}};
  Filter by_a{
      "createdBy", {}, {}, std::vector<std::string>{"arn:aws:iam::000000000000:user/a"}, {}};
  EXPECT_EQ(list({open, by_a}), (std::vector<std::string>{c, a}));
  Filter after{"creationTime", {}, t0 + absl::Minutes(1), {}, {}};   // strictly after b's time
  Filter before{"creationTime", t0 + absl::Minutes(3), {}, {}, {}};  // strictly before d's time
  EXPECT_EQ(list({after}), (std::vector<std::string>{d, c}));
  EXPECT_EQ(list({before}), (std::vector<std::string>{c, b, a}));
  EXPECT_EQ(list({after, before}), std::vector<std::string>{c});
  EXPECT_EQ(list({after, before, impact}), std::vector<std::string>{c});

  auto error = [&](std::vector<Filter> filters) {
    return ErrorType(im_->incidents().List(scope(), filters, std::nullopt, "").status());
  };
  EXPECT_EQ(error({Filter{"title", {}, {}, std::vector<std::string>{"x"}, {}}}),
            "ValidationException");
  EXPECT_EQ(error({Filter{"impact", t0, {}, {}, {}}}), "ValidationException");
  EXPECT_EQ(error({Filter{"status", {}, {}, {}, std::vector<int64_t>{1}}}), "ValidationException");
  EXPECT_EQ(error({Filter{"status", {}, {}, std::vector<std::string>{"CLOSED"}, {}}}),
            "ValidationException");
  EXPECT_EQ(error({Filter{"createdBy", {}, {}, std::vector<std::string>{}, {}}}),
            "ValidationException");
  EXPECT_EQ(error({Filter{"creationTime", {}, {}, {}, {}}}), "ValidationException");
  EXPECT_EQ(error(std::vector<Filter>(6, open)), "ValidationException");
}

TEST_F(IncidentServiceTest, ListWithFiltersPaginates) {
  std::string plan = CreatePlan("p");
  std::vector<std::string> odd;
  for (int i = 0; i < 7; ++i) {
    auto req = ManualStart(plan);
    req.impact = i % 2 == 0 ? 2 : 4;
    auto r = im_->incidents().Start(scope(), req);
    ASSERT_TRUE(r.ok());
    if (i % 2 == 1) odd.insert(odd.begin(), r->incident_record_arn);
    clock_.Advance(absl::Seconds(1));
  }
  Filter impact{"impact", {}, {}, {}, std::vector<int64_t>{4}};
  std::vector<std::string> seen;
  std::string token;
  do {
    auto page = im_->incidents().List(scope(), {impact}, 1, token);
    ASSERT_TRUE(page.ok());
    for (const auto& r : page->items) seen.push_back(r.arn);
    token = page->next_token;
  } while (!token.empty());
  EXPECT_EQ(seen, odd);
}

TEST_F(IncidentServiceTest, UpdateRecordsTheChangeOnTheTimeline) {
  std::string arn = Start(CreatePlan("p"));
  clock_.Advance(absl::Minutes(2));
  UpdateIncidentRecordRequest up;
  up.arn = arn;
  up.title = "New";
  up.summary = "Worse";
  up.impact = 1;
  up.chat_channel =
      boost::json::parse(R"({"chatbotSns":["arn:aws:sns:us-east-1:000000000000:c"]})");
  up.notification_targets =
      boost::json::parse(R"([{"snsTopicArn":"arn:aws:sns:us-east-1:000000000000:t"}])");
  Scope bob = scope();
  bob.caller_arn = "arn:aws:iam::000000000000:user/bob";
  ASSERT_TRUE(im_->incidents().Update(bob, up).ok());
  auto record = im_->incidents().Get(scope(), arn);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->title, "New");
  EXPECT_EQ(record->summary, "Worse");
  EXPECT_EQ(record->impact, 1);
  EXPECT_EQ(record->chat_channel, *up.chat_channel);
  EXPECT_EQ(record->notification_targets, *up.notification_targets);
  EXPECT_EQ(record->last_modified_by, bob.caller_arn);
  EXPECT_EQ(record->last_modified_time, clock_.Now());

  auto updates = EventsOfType(arn, kEventIncidentRecordUpdate);
  ASSERT_EQ(updates.size(), 1u);
  auto data = ParseObject(updates[0].event_data);
  EXPECT_EQ(JStr(data.at("modifiedBy")), bob.caller_arn);
  auto& attrs = data.at("modifiedAttributes").as_array();
  ASSERT_EQ(attrs.size(), 5u);
  EXPECT_EQ(JStr(attrs[0].at("attributeName")), "title");
  EXPECT_EQ(JStr(attrs[0].at("newValue")), "New");
  EXPECT_EQ(JStr(attrs[2].at("attributeName")), "impact");
  EXPECT_EQ(JStr(attrs[2].at("newValue")), "1");

  // Clearing notification targets.
  UpdateIncidentRecordRequest clear;
  clear.arn = arn;
  clear.notification_targets = boost::json::array();
  ASSERT_TRUE(im_->incidents().Update(scope(), clear).ok());
  EXPECT_TRUE(im_->incidents().Get(scope(), arn)->notification_targets.is_null());

  // Errors.
  UpdateIncidentRecordRequest missing;
  missing.arn = "arn:aws:ssm-incidents::000000000000:incident-record/p/none";
  missing.title = "x";
  auto status = im_->incidents().Update(scope(), missing);
  EXPECT_EQ(ErrorType(status), "ResourceNotFoundException");
  EXPECT_EQ(ErrorField(status, "resourceType"), "INCIDENT_RECORD");
  EXPECT_EQ(ErrorField(status, "resourceIdentifier"), missing.arn);
  up.impact = 9;
  EXPECT_EQ(ErrorType(im_->incidents().Update(scope(), up)), "ValidationException");
}

TEST_F(IncidentServiceTest, UpdateClientTokenReplayAddsNoSecondEvent) {
  std::string arn = Start(CreatePlan("p"));
  UpdateIncidentRecordRequest up;
  up.arn = arn;
  up.title = "x";
  up.client_token = "u1";
  ASSERT_TRUE(im_->incidents().Update(scope(), up).ok());
  ASSERT_TRUE(im_->incidents().Update(scope(), up).ok());
  EXPECT_EQ(EventsOfType(arn, kEventIncidentRecordUpdate).size(), 1u);
  up.title = "y";
  EXPECT_EQ(ErrorType(im_->incidents().Update(scope(), up)), "ConflictException");
}

TEST_F(IncidentServiceTest, DeleteIsIdempotentAndFreesTheKey) {
  std::string plan = CreatePlan("p", "db");
  std::string arn = Start(plan);
  ASSERT_TRUE(im_->incidents().Delete(scope(), arn).ok());
  ASSERT_TRUE(im_->incidents().Delete(scope(), arn).ok());
  EXPECT_EQ(ErrorType(im_->incidents().Get(scope(), arn).status()), "ResourceNotFoundException");
  EXPECT_EQ(ErrorType(im_->incidents().ListRelatedItems(scope(), arn, std::nullopt, "").status()),
            "ResourceNotFoundException");
  auto page = im_->incidents().List(scope(), {}, std::nullopt, "");
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->items.empty());
  EXPECT_NE(Start(plan), arn);
  EXPECT_EQ(ErrorType(im_->incidents().Delete(scope(), "nope")), "ValidationException");
}

TEST_F(IncidentServiceTest, UpdateRelatedItemsAddRemove) {
  std::string arn = Start(CreatePlan("p"));
  RelatedItemsUpdate add;
  add.item_to_add = ArnItem("ATTACHMENT", "arn:aws:s3:::bucket/key", "logs");
  add.item_to_add->generated_id = "related-item/ATTACHMENT/00000000000000000000000000000000";
  ASSERT_TRUE(im_->incidents().UpdateRelatedItems(scope(), arn, add, std::nullopt).ok());
  auto items = Related(arn);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].title, "logs");
  EXPECT_NE(items[1].generated_id, add.item_to_add->generated_id);  // assigned by the service

  auto dup = im_->incidents().UpdateRelatedItems(scope(), arn, add, std::nullopt);
  EXPECT_EQ(ErrorType(dup), "ConflictException");

  RelatedItemsUpdate url;
  url.item_to_add = RelatedItem{};
  url.item_to_add->identifier.type = "OTHER";
  url.item_to_add->identifier.value.url = "https://runbook.example/db";
  ASSERT_TRUE(im_->incidents().UpdateRelatedItems(scope(), arn, url, std::nullopt).ok());
  RelatedItemsUpdate pd;
  pd.item_to_add = RelatedItem{};
  pd.item_to_add->identifier.type = "INCIDENT";
  pd.item_to_add->identifier.value.pager_duty_incident_detail =
      PagerDutyIncidentDetail{"P1", true, "s"};
  ASSERT_TRUE(im_->incidents().UpdateRelatedItems(scope(), arn, pd, std::nullopt).ok());
  EXPECT_EQ(Related(arn).size(), 4u);

  RelatedItemsUpdate remove;
  remove.item_to_remove = add.item_to_add->identifier;
  ASSERT_TRUE(im_->incidents().UpdateRelatedItems(scope(), arn, remove, std::nullopt).ok());
  items = Related(arn);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[1].identifier.value.url, "https://runbook.example/db");
  EXPECT_EQ(items[2].identifier.value.pager_duty_incident_detail->id, "P1");
  auto again = im_->incidents().UpdateRelatedItems(scope(), arn, remove, std::nullopt);
  EXPECT_EQ(ErrorType(again), "ResourceNotFoundException");

  // The removed item can be added again (the count was released).
  ASSERT_TRUE(im_->incidents().UpdateRelatedItems(scope(), arn, add, std::nullopt).ok());

  RelatedItemsUpdate both;
  both.item_to_add = add.item_to_add;
  both.item_to_remove = remove.item_to_remove;
  EXPECT_EQ(ErrorType(im_->incidents().UpdateRelatedItems(scope(), arn, both, std::nullopt)),
            "ValidationException");
  auto missing = im_->incidents().UpdateRelatedItems(
      scope(), "arn:aws:ssm-incidents::000000000000:incident-record/p/none", add, std::nullopt);
  EXPECT_EQ(ErrorType(missing), "ResourceNotFoundException");
  EXPECT_EQ(ErrorField(missing, "resourceType"), "INCIDENT_RECORD");
}

TEST_F(IncidentServiceTest, UpdateRelatedItemsTokenReplay) {
  std::string arn = Start(CreatePlan("p"));
  RelatedItemsUpdate add;
  add.item_to_add = ArnItem("OTHER", "arn:aws:s3:::b", "b");
  ASSERT_TRUE(im_->incidents().UpdateRelatedItems(scope(), arn, add, "t").ok());
  ASSERT_TRUE(im_->incidents().UpdateRelatedItems(scope(), arn, add, "t").ok());  // replay
  EXPECT_EQ(Related(arn).size(), 2u);
}

TEST_F(IncidentServiceTest, ListRelatedItemsPaginates) {
  std::string plan = CreatePlan("p");
  auto req = ManualStart(plan);
  for (int i = 0; i < 6; ++i) {
    req.related_items.push_back(ArnItem("OTHER", "arn:aws:s3:::b" + std::to_string(i), "t"));
  }
  auto r = im_->incidents().Start(scope(), req);
  ASSERT_TRUE(r.ok());
  std::vector<std::string> ids;
  std::string token;
  do {
    auto page = im_->incidents().ListRelatedItems(scope(), r->incident_record_arn, 4, token);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& i : page->items) ids.push_back(i.generated_id);
    token = page->next_token;
  } while (!token.empty());
  EXPECT_EQ(ids.size(), 7u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 7u);
}

// A RunbookStarter that records what it was asked.
class FakeRunbooks : public RunbookStarter {
 public:
  absl::StatusOr<std::optional<std::string>> StartInTxn(storage::WriteTxn&,
                                                        const RunbookRequest& request) override {
    requests.push_back(request);
    if (fail) return absl::InvalidArgumentError("document not found");
    return std::optional<std::string>("arn:aws:ssm:us-east-1:000000000000:automation-execution/e1");
  }
  std::vector<RunbookRequest> requests;
  bool fail = false;
};

class RunbookHookTest : public IncidentServiceTest {
 protected:
  RunbookHookTest() { runbooks_ = &fake_; }

  std::string PlanWithRunbook() {
    CreateResponsePlanRequest req;
    req.name = "rb";
    req.incident_template.title = "t";
    req.incident_template.dedupe_string = "rb";
    Action action;
    action.ssm_automation.document_name = "Restart";
    action.ssm_automation.role_arn = "arn:aws:iam::000000000000:role/r";
    action.ssm_automation.dynamic_parameters["Resources"] = "INVOLVED_RESOURCES";
    req.actions = {action};
    return im_->response_plans().Create(scope(), req).value();
  }

  FakeRunbooks fake_;
};

TEST_F(RunbookHookTest, NewIncidentsStartTheRunbookOnce) {
  std::string plan = PlanWithRunbook();
  auto req = ManualStart(plan);
  req.related_items = {
      ArnItem("INVOLVED_RESOURCE", "arn:aws:ec2:us-east-1:000000000000:instance/i-1", "i"),
      ArnItem("OTHER", "arn:aws:s3:::b", "b")};
  auto r = im_->incidents().Start(scope(), req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(fake_.requests.size(), 1u);
  EXPECT_EQ(fake_.requests[0].incident_record_arn, r->incident_record_arn);
  EXPECT_EQ(fake_.requests[0].automation.document_name, "Restart");
  EXPECT_THAT(fake_.requests[0].involved_resources,
              ElementsAre("arn:aws:ec2:us-east-1:000000000000:instance/i-1"));
  auto record = im_->incidents().Get(scope(), r->incident_record_arn);
  EXPECT_THAT(record->automation_executions,
              ElementsAre("arn:aws:ssm:us-east-1:000000000000:automation-execution/e1"));
  auto start = EventsOfType(r->incident_record_arn, kEventIncidentStart);
  ASSERT_EQ(start.size(), 1u);
  EXPECT_EQ(JStr(ParseObject(start[0].event_data).at("ssmDocumentName")), "Restart");

  // A deduplicated trigger does not start it again.
  ASSERT_TRUE(im_->incidents().Start(scope(), req).ok());
  EXPECT_EQ(fake_.requests.size(), 1u);
}

TEST_F(RunbookHookTest, FailoverIncidentsSkipTheRunbookAndFailuresAreRecorded) {
  std::string plan = PlanWithRunbook();
  auto req = ManualStart(plan);
  req.run_runbook = false;
  auto r = im_->incidents().Start(scope(), req);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(fake_.requests.empty());
  ASSERT_TRUE(Resolve(r->incident_record_arn).ok());

  fake_.fail = true;
  r = im_->incidents().Start(scope(), ManualStart(plan));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(
      EventsOfType(r->incident_record_arn, "SSM Automation Execution Start Failure for Incident")
          .size(),
      1u);
  EXPECT_TRUE(im_->incidents().Get(scope(), r->incident_record_arn)->automation_executions.empty());
}

}  // namespace
}  // namespace klaxon::incidents
