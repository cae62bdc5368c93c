#include "incidents/timeline_service.h"

#include "gtest/gtest.h"
#include "incidents/test_util.h"

namespace klaxon::incidents {
namespace {

using testing::ErrorField;
using testing::ErrorType;
using testing::IncidentsTest;

class TimelineTest : public IncidentsTest {
 protected:
  void SetUp() override {
    IncidentsTest::SetUp();
    CreateReplicationSet();
    incident_ = Start(CreatePlan("p"));  // Trigger + Start events at t0
  }

  std::string Create(const std::string& type, absl::Time when, const std::string& data,
                     std::vector<EventReference> refs = {}) {
    CreateTimelineEventRequest req{incident_, when, type, data, refs, std::nullopt};
    auto id = im_->timeline().Create(scope(), req);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or("");
  }

  std::vector<std::string> Types(ListTimelineEventsRequest req) {
    req.incident_record_arn = incident_;
    auto page = im_->timeline().List(scope(), req);
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<std::string> out;
    if (page.ok()) {
      for (const auto& e : page->items)
        out.push_back(e.event_data.empty() ? e.event_type : e.event_data);
    }
    return out;
  }

  std::string incident_;
};

TEST_F(TimelineTest, CreateAndGet) {
  const absl::Time when = clock_.Now() - absl::Hours(1);
  clock_.Advance(absl::Seconds(5));
  std::string id = Create("Custom Event", when, "\"Incident Started\"",
                          {EventReference{"arn:aws:s3:::b", std::nullopt}});
  EXPECT_EQ(id.size(), 36u);
  auto event = im_->timeline().Get(scope(), incident_, id);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->event_type, "Custom Event");
  EXPECT_EQ(event->event_time, when);
  EXPECT_EQ(event->event_updated_time, clock_.Now());
  EXPECT_EQ(event->event_data, "\"Incident Started\"");
  EXPECT_EQ(event->incident_record_arn, incident_);
  ASSERT_EQ(event->event_references.size(), 1u);
  EXPECT_EQ(event->event_references[0].resource, "arn:aws:s3:::b");

  auto missing = im_->timeline().Get(scope(), incident_, "nope");
  EXPECT_EQ(ErrorType(missing.status()), "ResourceNotFoundException");
  EXPECT_EQ(ErrorField(missing.status(), "resourceType"), "TIMELINE_EVENT");
  auto no_incident = im_->timeline().Get(
      scope(), "arn:aws:ssm-incidents::000000000000:incident-record/p/none", id);
  EXPECT_EQ(ErrorField(no_incident.status(), "resourceType"), "INCIDENT_RECORD");
}

TEST_F(TimelineTest, OnlyCustomEventsAndNotesAreClientWritable) {
  CreateTimelineEventRequest req{incident_, clock_.Now(), "SSM Incident Start",
                                 "x",       {},           std::nullopt};
  EXPECT_EQ(ErrorType(im_->timeline().Create(scope(), req).status()), "ValidationException");
  req.event_type = "Note";
  EXPECT_TRUE(im_->timeline().Create(scope(), req).ok());

  ListTimelineEventsRequest list;
  list.incident_record_arn = incident_;
  list.filters = {Filter{"eventType", {}, {}, std::vector<std::string>{"SSM Incident Start"}, {}}};
  auto page = im_->timeline().List(scope(), list);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  const std::string start_id = page->items[0].event_id;
  UpdateTimelineEventRequest up;
  up.incident_record_arn = incident_;
  up.event_id = start_id;
  up.event_data = "tampered";
  EXPECT_EQ(ErrorType(im_->timeline().Update(scope(), up)), "ValidationException");
  EXPECT_EQ(ErrorType(im_->timeline().Delete(scope(), incident_, start_id)), "ValidationException");
}

TEST_F(TimelineTest, BadReferencesAreRejected) {
  CreateTimelineEventRequest req{incident_,
                                 clock_.Now(),
                                 "Note",
                                 "x",
                                 {EventReference{"arn:aws:s3:::b", "related-item/OTHER/AB"}},
                                 std::nullopt};
  EXPECT_EQ(ErrorType(im_->timeline().Create(scope(), req).status()), "ValidationException");
  req.event_references = std::vector<EventReference>(11, EventReference{"arn:aws:s3:::b", {}});
  EXPECT_EQ(ErrorType(im_->timeline().Create(scope(), req).status()), "ValidationException");
}

TEST_F(TimelineTest, SortDefaultsToNewestFirst) {
  const absl::Time t0 = clock_.Now();
  Create("Custom Event", t0 + absl::Minutes(2), "two");
  Create("Custom Event", t0 - absl::Minutes(1), "minus-one");
  Create("Note", t0 + absl::Minutes(1), "one");
  ListTimelineEventsRequest req;
  auto desc = Types(req);
  ASSERT_EQ(desc.size(), 5u);
  EXPECT_EQ(desc[0], "two");
  EXPECT_EQ(desc[1], "one");
  EXPECT_EQ(desc[4], "minus-one");
  req.ascending = true;
  auto asc = Types(req);
  ASSERT_EQ(asc.size(), 5u);
  EXPECT_EQ(asc[0], "minus-one");
  EXPECT_EQ(asc[4], "two");
  // Trigger and Start share t0: creation order breaks the tie.
  auto list = im_->timeline().List(scope(), ListTimelineEventsRequest{incident_, {}, true, {}, ""});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->items[1].event_type, "SSM Incident Trigger");
  EXPECT_EQ(list->items[2].event_type, "SSM Incident Start");
}

TEST_F(TimelineTest, FiltersAndPagination) {
  const absl::Time t0 = clock_.Now();
  for (int i = 1; i <= 6; ++i) {
    Create(i % 2 ? "Note" : "Custom Event", t0 + absl::Minutes(i), "e" + std::to_string(i),
           {EventReference{std::nullopt, "related-item/OTHER/" + std::string(32, '0' + i)}});
  }
  ListTimelineEventsRequest req;
  req.filters = {Filter{"eventType", {}, {}, std::vector<std::string>{"Note"}, {}}};
  EXPECT_EQ(Types(req), (std::vector<std::string>{"e5", "e3", "e1"}));
  req.filters.push_back(
      Filter{"eventTime", {}, t0 + absl::Minutes(1), {}, {}});  // after, exclusive
  EXPECT_EQ(Types(req), (std::vector<std::string>{"e5", "e3"}));
  req.filters = {Filter{"eventTime", t0 + absl::Minutes(3), {}, {}, {}}};  // before, exclusive
  EXPECT_EQ(Types(req).size(), 4u);                                        // e2, e1, trigger, start
  req.filters = {Filter{"eventReference",
                        {},
                        {},
                        std::vector<std::string>{"related-item/OTHER/" + std::string(32, '4'),
                                                 "related-item/OTHER/" + std::string(32, '6')},
                        {}}};
  EXPECT_EQ(Types(req), (std::vector<std::string>{"e6", "e4"}));

  // Pages of 2, ascending.
  std::vector<std::string> all;
  std::string token;
  int pages = 0;
  do {
    ListTimelineEventsRequest p{incident_, {}, true, 2, token};
    auto page = im_->timeline().List(scope(), p);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& e : page->items) all.push_back(e.event_id);
    token = page->next_token;
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(all.size(), 8u);
  EXPECT_EQ(pages, 4);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 8u);

  auto bad = [&](Filter f) {
    ListTimelineEventsRequest r{incident_, {f}, false, {}, ""};
    return ErrorType(im_->timeline().List(scope(), r).status());
  };
  EXPECT_EQ(bad(Filter{"impact", {}, {}, {}, std::vector<int64_t>{1}}), "ValidationException");
  EXPECT_EQ(bad(Filter{"eventTime", {}, {}, std::vector<std::string>{"x"}, {}}),
            "ValidationException");
  EXPECT_EQ(bad(Filter{"eventType", t0, {}, {}, {}}), "ValidationException");
}

TEST_F(TimelineTest, UpdateAndDelete) {
  std::string id = Create("Custom Event", clock_.Now(), "old");
  clock_.Advance(absl::Minutes(1));
  UpdateTimelineEventRequest up;
  up.incident_record_arn = incident_;
  up.event_id = id;
  up.event_data = "new";
  up.event_type = "Note";
  up.event_time = clock_.Now() - absl::Hours(2);
  up.event_references = std::vector<EventReference>{EventReference{"arn:aws:s3:::x", {}}};
  ASSERT_TRUE(im_->timeline().Update(scope(), up).ok());
  auto event = im_->timeline().Get(scope(), incident_, id);
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->event_data, "new");
  EXPECT_EQ(event->event_type, "Note");
  EXPECT_EQ(event->event_time, clock_.Now() - absl::Hours(2));
  EXPECT_EQ(event->event_updated_time, clock_.Now());
  EXPECT_EQ(event->event_references.size(), 1u);
  up.event_type = "SSM Incident Start";
  EXPECT_EQ(ErrorType(im_->timeline().Update(scope(), up)), "ValidationException");
  up.event_type.reset();
  up.event_id = "missing";
  EXPECT_EQ(ErrorType(im_->timeline().Update(scope(), up)), "ResourceNotFoundException");

  ASSERT_TRUE(im_->timeline().Delete(scope(), incident_, id).ok());
  ASSERT_TRUE(im_->timeline().Delete(scope(), incident_, id).ok());  // idempotent
  EXPECT_EQ(ErrorType(im_->timeline().Get(scope(), incident_, id).status()),
            "ResourceNotFoundException");
}

TEST_F(TimelineTest, CreateTokenReplay) {
  CreateTimelineEventRequest req{incident_, clock_.Now(), "Note", "x", {}, std::string("tok")};
  auto a = im_->timeline().Create(scope(), req);
  auto b = im_->timeline().Create(scope(), req);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  req.event_data = "y";
  EXPECT_EQ(ErrorType(im_->timeline().Create(scope(), req).status()), "ConflictException");
}

}  // namespace
}  // namespace klaxon::incidents
