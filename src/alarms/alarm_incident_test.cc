// End to end with simulated time: datapoints → scheduler evaluation → ALARM transition → durable
// outbox → StartIncident (dedup into the open incident; a new one after resolve), OpsItem actions,
// and the evaluation of metric-math alarms. MemoryStore + SimulatedClock, real domain services.

#include <memory>

#include "alarms/alarm_events.h"
#include "alarms/alarm_service.h"
#include "alarms/metric_store.h"
#include "alarms/scheduler.h"
#include "alarms/test_util.h"
#include "boost/json.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "incidents/incident_manager.h"
#include "opsitems/ops_item_service.h"
#include "outbox/store_outbox.h"
#include "storage/memory_store.h"

namespace klaxon::alarms {
namespace {

using ::testing::HasSubstr;
namespace json = boost::json;

constexpr char kAccount[] = "123456789012";
constexpr char kPlanAction[] = "arn:aws:ssm-incidents::123456789012:responseplan/db-down";

class AlarmIncidentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.Set(absl::FromUnixSeconds(1704067200));  // 2024-01-01T00:00:00Z
    ops_ = std::make_unique<opsitems::OpsItemService>(store_, clock_);
    im_ = std::make_unique<incidents::IncidentManager>(store_, clock_, *ops_);
    metrics_ = std::make_unique<MetricStore>(store_);
    ASSERT_TRUE(metrics_->Recover().ok());
    AlarmDependencies deps;
    deps.outbox = &outbox_;
    deps.events = &events_;
    deps.incidents = &im_->incidents();
    deps.ops_items = ops_.get();
    alarms_ = std::make_unique<AlarmService>(store_, clock_, AlarmServiceOptions(), deps);
    ASSERT_TRUE(alarms_->Load().ok());
    outbox_.RegisterHandler(kAlarmActionKind, [this](const outbox::Entry& e) {
      return alarms_->RunAction(e.id, e.payload);
    });
    SchedulerOptions options;
    options.evaluate_on_new_data = true;  // late datapoints count at the next tick
    scheduler_ = std::make_unique<AlarmScheduler>(*alarms_, *metrics_, clock_, options);

    incidents::CreateReplicationSetRequest rs;
    rs.regions["us-east-1"] = std::nullopt;
    ASSERT_TRUE(im_->replication_sets().Create(im_scope(), rs).ok());
  }

  incidents::Scope im_scope() const {
    return incidents::Scope{kAccount, "us-east-1", "arn:aws:iam::123456789012:root"};
  }
  Scope scope() const { return Scope{kAccount, "us-east-1", "arn:aws:iam::123456789012:root"}; }

  void CreatePlan(const std::string& name, std::optional<std::string> dedupe = std::nullopt) {
    incidents::CreateResponsePlanRequest req;
    req.name = name;
    req.incident_template.title = "Database down";
    req.incident_template.impact = 2;
    req.incident_template.dedupe_string = dedupe;
    ASSERT_TRUE(im_->response_plans().Create(im_scope(), req).ok());
  }

  MetricAlarm CpuAlarm(const std::string& name, const std::string& instance = "i-123") {
    MetricAlarm a;
    a.name = name;
    a.metric = MetricId{"AWS/EC2", "CPUUtilization", {{"InstanceId", instance}}};
    a.statistic = "Average";
    a.period = 60;
    a.evaluation_periods = 3;
    a.datapoints_to_alarm = 2;
    a.threshold = 80;
    a.comparison = Comparison::kGreaterThanThreshold;
    a.alarm_actions = {kPlanAction};
    return a;
  }

  // One datapoint per minute for the last `values.size()` minutes (oldest first), then a tick.
  void Feed(const std::vector<double>& values, const std::string& instance = "i-123") {
    std::vector<MetricDatum> data;
    const absl::Time end = EvaluationEnd(clock_.Now(), 60);
    for (size_t i = 0; i < values.size(); ++i) {
      MetricDatum d;
      d.metric = MetricId{"AWS/EC2", "CPUUtilization", {{"InstanceId", instance}}};
      d.timestamp = end - absl::Minutes(values.size() - i) + absl::Seconds(30);
      d.value = values[i];
      d.unit = "Percent";
      data.push_back(d);
    }
    ASSERT_TRUE(metrics_->Put(kAccount, data).ok());
  }

  StateValue StateOf(const std::string& name) {
    DescribeAlarmsRequest req;
    req.names = {name};
    req.types = {AlarmType::kMetricAlarm, AlarmType::kCompositeAlarm};
    auto r = alarms_->DescribeAlarms(scope(), req);
    EXPECT_TRUE(r.ok());
    if (!r->metric_alarms.empty()) return r->metric_alarms[0].state;
    return r->composite_alarms.at(0).state;
  }

  std::vector<incidents::IncidentRecord> Incidents() {
    auto page = im_->incidents().List(im_scope(), {}, 100, "");
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->items : std::vector<incidents::IncidentRecord>();
  }

  void TickAt(absl::Duration advance) {
    clock_.Advance(advance);
    auto stats = scheduler_->Tick(clock_.Now());
    ASSERT_TRUE(stats.ok()) << stats.status();
  }

  storage::MemoryStore store_;
  SimulatedClock clock_;
  testing::TestOutbox outbox_{store_};
  testing::RecordingPublisher events_;
  std::unique_ptr<opsitems::OpsItemService> ops_;
  std::unique_ptr<incidents::IncidentManager> im_;
  std::unique_ptr<MetricStore> metrics_;
  std::unique_ptr<AlarmService> alarms_;
  std::unique_ptr<AlarmScheduler> scheduler_;
};

TEST_F(AlarmIncidentTest, AlarmIncidentDedupResolveNewIncident) {
  CreatePlan("db-down");
  ASSERT_TRUE(alarms_->PutMetricAlarm(scope(), CpuAlarm("cpu-high")).ok());

  // No data yet: INSUFFICIENT_DATA stays (missing), no action.
  TickAt(absl::Seconds(5));
  EXPECT_EQ(StateOf("cpu-high"), StateValue::kInsufficientData);

  // Two of three breaching → ALARM, one outbox entry, delivered twice (redelivery) → ONE incident.
  Feed({50, 90, 95});
  TickAt(absl::Seconds(1));
  EXPECT_EQ(StateOf("cpu-high"), StateValue::kAlarm);
  EXPECT_EQ(outbox_.Deliver(/*times=*/2), 1);
  EXPECT_TRUE(outbox_.last_status().ok()) << outbox_.last_status();
  auto incidents = Incidents();
  ASSERT_EQ(incidents.size(), 1u);
  const incidents::IncidentRecord first = incidents[0];
  EXPECT_EQ(first.status, incidents::IncidentStatus::kOpen);
  EXPECT_EQ(first.title, "Database down");
  EXPECT_EQ(first.incident_record_source.source, "aws.cloudwatch");
  EXPECT_EQ(first.incident_record_source.invoked_by, "cloudwatch.amazonaws.com");
  const std::string alarm_arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu-high";
  EXPECT_EQ(first.incident_record_source.resource_arn, alarm_arn);
  EXPECT_EQ(first.dedupe_string, alarm_arn);

  // Related items: the instance, the alarm (METRIC) and the parent OpsItem.
  auto related = im_->incidents().ListRelatedItems(im_scope(), first.arn, 50, "");
  ASSERT_TRUE(related.ok());
  std::map<std::string, std::string> items;
  for (const auto& r : related->items)
    items[r.identifier.type] = r.identifier.value.arn.value_or("");
  EXPECT_EQ(items["INVOLVED_RESOURCE"], "arn:aws:ec2:us-east-1:123456789012:instance/i-123");
  EXPECT_EQ(items["METRIC"], alarm_arn);
  EXPECT_THAT(items["PARENT"], HasSubstr(":opsitem/oi-"));

  // The trigger: source, ARN and rawData = the "CloudWatch Alarm State Change" event.
  incidents::ListTimelineEventsRequest tl;
  tl.incident_record_arn = first.arn;
  auto timeline = im_->timeline().List(im_scope(), tl);
  ASSERT_TRUE(timeline.ok());
  std::string trigger_data;
  for (const auto& e : timeline->items) {
    if (e.event_type == "SSM Incident Trigger") trigger_data = e.event_data;
  }
  ASSERT_FALSE(trigger_data.empty());
  json::value trigger = json::parse(trigger_data);
  json::value raw = json::parse(trigger.at("rawData").as_string());
  EXPECT_EQ(raw.at("detail-type"), "CloudWatch Alarm State Change");
  EXPECT_EQ(raw.at("source"), "aws.cloudwatch");
  EXPECT_EQ(raw.at("resources").at(0).as_string(), alarm_arn);
  // One event: the copy EventBridge got has the rawData's id.
  bool published = false;
  for (const auto& e : events_.events()) {
    if (e.detail_type == "CloudWatch Alarm State Change" && e.id == raw.at("id").as_string()) {
      published = true;
    }
  }
  EXPECT_TRUE(published) << raw.at("id");
  EXPECT_EQ(raw.at("detail").at("state").at("value"), "ALARM");
  EXPECT_THAT(std::string(raw.at("detail").at("state").at("reason").as_string()),
              HasSubstr("Threshold Crossed: 2 out of the last 3 datapoints"));
  EXPECT_EQ(raw.at("detail")
                .at("configuration")
                .at("metrics")
                .at(0)
                .at("metricStat")
                .at("metric")
                .at("dimensions")
                .at("InstanceId"),
            "i-123");

  // Back to OK, then ALARM again: the open incident absorbs the trigger.
  TickAt(absl::Minutes(1));
  Feed({10, 10, 10});
  TickAt(absl::Seconds(1));
  EXPECT_EQ(StateOf("cpu-high"), StateValue::kOk);
  TickAt(absl::Minutes(3));
  Feed({99, 99, 99});
  TickAt(absl::Seconds(1));
  EXPECT_EQ(StateOf("cpu-high"), StateValue::kAlarm);
  EXPECT_EQ(outbox_.Deliver(), 1);
  ASSERT_EQ(Incidents().size(), 1u);
  timeline = im_->timeline().List(im_scope(), tl);
  int dedup_triggers = 0;
  for (const auto& e : timeline->items) {
    if (e.event_type == "SSM Incident Trigger" &&
        e.event_data.find("\"createdIncident\":false") != std::string::npos) {
      ++dedup_triggers;
    }
  }
  EXPECT_EQ(dedup_triggers, 1);

  // Resolve; the next transition into ALARM opens a new incident.
  incidents::UpdateIncidentRecordRequest resolve;
  resolve.arn = first.arn;
  resolve.status = incidents::IncidentStatus::kResolved;
  ASSERT_TRUE(im_->incidents().Update(im_scope(), resolve).ok());
  TickAt(absl::Minutes(3));
  Feed({1, 1, 1});
  TickAt(absl::Seconds(1));
  EXPECT_EQ(StateOf("cpu-high"), StateValue::kOk);
  TickAt(absl::Minutes(3));
  Feed({85, 85, 85});
  TickAt(absl::Seconds(1));
  EXPECT_EQ(outbox_.Deliver(), 1);
  incidents = Incidents();
  ASSERT_EQ(incidents.size(), 2u);
  EXPECT_NE(incidents[0].arn, first.arn);
  EXPECT_EQ(incidents[0].status, incidents::IncidentStatus::kOpen);

  // The alarm's history shows the actions.
  AlarmHistoryRequest hreq;
  hreq.name = "cpu-high";
  hreq.type = HistoryItemType::kAction;
  auto history = alarms_->DescribeAlarmHistory(scope(), hreq);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->items.size(), 3u);  // one per transition into ALARM, despite the redelivery
  EXPECT_EQ(history->items[0].summary, std::string("Successfully executed action ") + kPlanAction);
  EXPECT_THAT(history->items[0].data, HasSubstr("incident-record/db-down/"));

  // Every state change was published.
  EXPECT_EQ(events_.Of(kStateChangeDetailType).size(), 5u);
}

TEST_F(AlarmIncidentTest, PlanDedupeStringMergesAlarms) {
  CreatePlan("db-down", "database");
  ASSERT_TRUE(alarms_->PutMetricAlarm(scope(), CpuAlarm("a", "i-1")).ok());
  ASSERT_TRUE(alarms_->PutMetricAlarm(scope(), CpuAlarm("b", "i-2")).ok());
  ASSERT_TRUE(alarms_->SetAlarmState(scope(), "a", StateValue::kAlarm, "t", std::nullopt).ok());
  ASSERT_TRUE(alarms_->SetAlarmState(scope(), "b", StateValue::kAlarm, "t", std::nullopt).ok());
  EXPECT_EQ(outbox_.Deliver(), 2);
  auto incidents = Incidents();
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].dedupe_string, "database");
}

TEST_F(AlarmIncidentTest, MissingPlanFailsPermanentlyAndIsRecorded) {
  ASSERT_TRUE(alarms_->PutMetricAlarm(scope(), CpuAlarm("a")).ok());
  ASSERT_TRUE(alarms_->SetAlarmState(scope(), "a", StateValue::kAlarm, "t", std::nullopt).ok());
  EXPECT_EQ(outbox_.Deliver(), 1);  // not retried
  EXPECT_FALSE(outbox_.last_status().ok());
  EXPECT_EQ(outbox_.DeadLetters(kAccount, 10)->size(), 1u);
  AlarmHistoryRequest hreq;
  hreq.type = HistoryItemType::kAction;
  auto history = alarms_->DescribeAlarmHistory(scope(), hreq);
  ASSERT_EQ(history->items.size(), 1u);
  EXPECT_THAT(history->items[0].summary, HasSubstr("Failed to execute action"));
}

TEST_F(AlarmIncidentTest, OpsItemAction) {
  MetricAlarm a = CpuAlarm("disk");
  a.alarm_actions = {"arn:aws:ssm:us-east-1:123456789012:opsitem:2#CATEGORY=Performance"};
  ASSERT_TRUE(alarms_->PutMetricAlarm(scope(), a).ok());
  ASSERT_TRUE(alarms_->SetAlarmState(scope(), "disk", StateValue::kAlarm, "t", std::nullopt).ok());
  EXPECT_EQ(outbox_.Deliver(2), 1);
  opsitems::Scope ops_scope{kAccount, "us-east-1", "x"};
  auto page = ops_->Describe(ops_scope, {}, 50, "");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);  // the redelivery deduplicated
  EXPECT_EQ(page->items[0].severity, "2");
  EXPECT_EQ(page->items[0].category, "Performance");
  EXPECT_EQ(page->items[0].source, "CloudWatch Alarm");
  EXPECT_EQ(page->items[0].title, "CloudWatch alarm - 'disk' is in ALARM state");
}

TEST_F(AlarmIncidentTest, MetricMathAlarm) {
  MetricAlarm a;
  a.name = "errors-rate";
  a.evaluation_periods = 1;
  a.threshold = 10;
  a.comparison = Comparison::kGreaterThanOrEqualToThreshold;
  MetricDataQuery m1, m2, e1;
  m1.id = "errors";
  m1.metric_stat = MetricStat{MetricId{"App", "Errors", {}}, 60, "Sum", std::nullopt};
  m1.return_data = false;
  m2.id = "requests";
  m2.metric_stat = MetricStat{MetricId{"App", "Requests", {}}, 60, "Sum", std::nullopt};
  m2.return_data = false;
  e1.id = "rate";
  e1.expression = "100 * FILL(errors, 0) / requests";
  e1.return_data = true;
  a.metrics = {m1, m2, e1};
  ASSERT_TRUE(alarms_->PutMetricAlarm(scope(), a).ok());
  const absl::Time minute = EvaluationEnd(clock_.Now(), 60) - absl::Seconds(30);
  auto datum = [&](const char* name, double v) {
    MetricDatum d;
    d.metric = MetricId{"App", name, {}};
    d.timestamp = minute;
    d.value = v;
    return d;
  };
  ASSERT_TRUE(metrics_->Put(kAccount, {datum("Requests", 200), datum("Errors", 30)}).ok());
  TickAt(absl::Seconds(1));
  EXPECT_EQ(StateOf("errors-rate"), StateValue::kAlarm);  // 15 %
  DescribeAlarmsRequest req;
  req.names = {"errors-rate"};
  auto r = alarms_->DescribeAlarms(scope(), req);
  EXPECT_THAT(r->metric_alarms[0].state_reason, HasSubstr("[15.0 ("));
  EXPECT_THAT(*r->metric_alarms[0].state_reason_data, ::testing::Not(HasSubstr("statistic")));
}

// The same path through the node's real outbox (StoreOutbox, delivery driven by the test).
TEST_F(AlarmIncidentTest, ThroughStoreOutbox) {
  CreatePlan("db-down");
  outbox::OutboxOptions options;
  options.delivery_threads = 0;
  outbox::StoreOutbox store_outbox(store_, clock_, options);
  AlarmDependencies deps;
  deps.outbox = &store_outbox;
  deps.incidents = &im_->incidents();
  deps.ops_items = ops_.get();
  AlarmService alarms(store_, clock_, AlarmServiceOptions(), deps);
  ASSERT_TRUE(alarms.Load().ok());
  store_outbox.RegisterHandler(
      kAlarmActionKind, [&](const outbox::Entry& e) { return alarms.RunAction(e.id, e.payload); });
  ASSERT_TRUE(store_outbox.Start().ok());
  ASSERT_TRUE(alarms.PutMetricAlarm(scope(), CpuAlarm("cpu")).ok());
  ASSERT_TRUE(alarms.SetAlarmState(scope(), "cpu", StateValue::kAlarm, "t", std::nullopt).ok());
  auto delivered = store_outbox.DeliverDue();
  ASSERT_TRUE(delivered.ok());
  EXPECT_EQ(*delivered, 1u);
  EXPECT_EQ(Incidents().size(), 1u);
  EXPECT_EQ(*store_outbox.DeliverDue(), 0u);
  store_outbox.Stop();
}

TEST_F(AlarmIncidentTest, EvaluationIsOncePerBoundary) {
  ASSERT_TRUE(alarms_->PutMetricAlarm(scope(), CpuAlarm("a")).ok());
  AlarmScheduler scheduler(*alarms_, *metrics_, clock_);
  auto s1 = scheduler.Tick(clock_.Now());
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ(s1->evaluated, 1);
  auto s2 = scheduler.Tick(clock_.Now() + absl::Seconds(10));
  EXPECT_EQ(s2->evaluated, 0);  // same minute boundary
  auto s3 = scheduler.Tick(clock_.Now() + absl::Seconds(61));
  EXPECT_EQ(s3->evaluated, 1);
}

}  // namespace
}  // namespace klaxon::alarms
