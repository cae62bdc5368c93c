#include "alarms/alarm_service.h"

#include <memory>
#include <set>
#include <string>

#include "absl/time/clock.h"
#include "alarms/alarm_events.h"
#include "alarms/scheduler.h"
#include "alarms/test_util.h"
#include "boost/json.hpp"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/memory_store.h"

namespace klaxon::alarms {
namespace {

using ::testing::HasSubstr;
namespace json = boost::json;

constexpr char kAccount[] = "123456789012";

std::string ErrorType(const absl::Status& s) { return AwsErrorType(s).value_or(""); }

class AlarmServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Reset(); }

  void Reset() {
    AlarmDependencies deps;
    deps.outbox = &outbox_;
    deps.events = &events_;
    service_ = std::make_unique<AlarmService>(store_, clock_, AlarmServiceOptions(), deps);
    ASSERT_TRUE(service_->Load().ok());
  }

  Scope scope() const { return Scope{kAccount, "us-east-1", "arn:aws:iam::123456789012:root"}; }

  MetricAlarm CpuAlarm(const std::string& name) {
    MetricAlarm a;
    a.name = name;
    a.metric = MetricId{"AWS/EC2", "CPUUtilization", {{"InstanceId", "i-123"}}};
    a.statistic = "Average";
    a.period = 60;
    a.evaluation_periods = 3;
    a.datapoints_to_alarm = 2;
    a.threshold = 80;
    a.comparison = Comparison::kGreaterThanThreshold;
    a.alarm_actions = {"arn:aws:ssm-incidents::123456789012:responseplan/db"};
    return a;
  }

  std::vector<std::string> Names(const DescribeAlarmsResult& r) {
    std::vector<std::string> out;
    for (const auto& m : r.metric_alarms) out.push_back(m.name);
    for (const auto& c : r.composite_alarms) out.push_back(c.name);
    return out;
  }

  int OutboxRows() {
    int n = 0;
    (void)store_.Read([&](storage::ReadTxn& txn) {
      return txn.Scan("test_outbox", kAccount, "", "", 0, [&](auto, auto) {
        ++n;
        return true;
      });
    });
    return n;
  }

  storage::MemoryStore store_;
  SimulatedClock clock_;
  testing::TestOutbox outbox_{store_};
  testing::RecordingPublisher events_;
  std::unique_ptr<AlarmService> service_;
};

TEST_F(AlarmServiceTest, CreateDescribeAndConfigurationEvent) {
  MetricAlarm a = CpuAlarm("cpu-high");
  a.description = "CPU too high";
  a.tags = {{"team", "db"}};
  ASSERT_TRUE(service_->PutMetricAlarm(scope(), a).ok());
  auto r = service_->DescribeAlarms(scope(), {});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->metric_alarms.size(), 1u);
  const MetricAlarm& got = r->metric_alarms[0];
  EXPECT_EQ(got.arn, "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu-high");
  EXPECT_EQ(got.state, StateValue::kInsufficientData);
  EXPECT_EQ(got.state_reason, "Unchecked: Initial alarm creation");
  EXPECT_EQ(got.tags.at("team"), "db");

  auto config = events_.Of(kConfigurationChangeDetailType);
  ASSERT_EQ(config.size(), 1u);
  EXPECT_EQ(config[0].source, "aws.cloudwatch");
  EXPECT_EQ(config[0].resources, std::vector<std::string>{got.arn});
  json::value detail = json::parse(config[0].detail_json);
  EXPECT_EQ(detail.at("operation"), "create");
  EXPECT_EQ(detail.at("alarmName"), "cpu-high");
  EXPECT_EQ(detail.at("state").at("value"), "INSUFFICIENT_DATA");
  const auto& conf = detail.at("configuration").as_object();
  EXPECT_EQ(conf.at("threshold"), 80);
  EXPECT_EQ(conf.at("evaluationPeriods"), 3);
  EXPECT_EQ(conf.at("comparisonOperator"), "GreaterThanThreshold");
  EXPECT_EQ(conf.at("description"), "CPU too high");
  const auto& metric = conf.at("metrics").at(0).at("metricStat");
  EXPECT_EQ(metric.at("metric").at("dimensions").at("InstanceId"), "i-123");
  EXPECT_EQ(metric.at("metric").at("namespace"), "AWS/EC2");
  EXPECT_EQ(metric.at("stat"), "Average");
  EXPECT_EQ(metric.at("period"), 60);
  // The event's JSON never uses exponent notation for plain numbers.
  EXPECT_THAT(config[0].detail_json, HasSubstr("\"threshold\":80,"));

  // Update: state kept, tags of the request ignored, "update" event with previousConfiguration.
  clock_.Advance(absl::Seconds(5));
  ASSERT_TRUE(
      service_->SetAlarmState(scope(), "cpu-high", StateValue::kOk, "test", std::nullopt).ok());
  a.threshold = 90;
  a.tags = {{"other", "x"}};
  ASSERT_TRUE(service_->PutMetricAlarm(scope(), a).ok());
  r = service_->DescribeAlarms(scope(), {});
  EXPECT_EQ(r->metric_alarms[0].state, StateValue::kOk);
  EXPECT_EQ(*r->metric_alarms[0].threshold, 90);
  EXPECT_EQ(r->metric_alarms[0].tags.count("other"), 0u);
  config = events_.Of(kConfigurationChangeDetailType);
  ASSERT_EQ(config.size(), 2u);
  detail = json::parse(config[1].detail_json);
  EXPECT_EQ(detail.at("operation"), "update");
  EXPECT_EQ(detail.at("previousConfiguration").at("threshold"), 80);
  EXPECT_EQ(detail.at("configuration").at("threshold"), 90);
}

std::set<std::string> Keys(const json::value& v) {
  std::set<std::string> out;
  for (const auto& kv : v.as_object()) out.emplace(kv.key());
  return out;
}

// The members of the events are exactly those of AWS's examples ("Alarm events and EventBridge"
// in the CloudWatch User Guide; wire-contract §3.7), including the envelope the incident's
// rawData carries.
TEST_F(AlarmServiceTest, EventShapesAreAws) {
  MetricAlarm a = CpuAlarm("shape");
  a.datapoints_to_alarm.reset();
  a.description = "Goes into alarm when server CPU utilization is too high!";
  ASSERT_TRUE(service_->PutMetricAlarm(scope(), a).ok());
  clock_.Advance(absl::Seconds(3));
  a.threshold = 90;
  ASSERT_TRUE(service_->PutMetricAlarm(scope(), a).ok());
  ASSERT_TRUE(
      service_->SetAlarmState(scope(), "shape", StateValue::kAlarm, "testing", std::nullopt).ok());
  ASSERT_TRUE(service_->DeleteAlarms(scope(), {"shape"}).ok());

  const std::set<std::string> metric_configuration = {
      "evaluationPeriods", "threshold", "comparisonOperator", "treatMissingData",
      "metrics",           "alarmName", "description",        "actionsEnabled",
      "timestamp",         "okActions", "alarmActions",       "insufficientDataActions"};
  const std::string millis =
      "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}[+]0000";
  auto config = events_.Of(kConfigurationChangeDetailType);
  ASSERT_EQ(config.size(), 3u);
  for (size_t i = 0; i < config.size(); ++i) {
    json::value d = json::parse(config[i].detail_json);
    const char* op[] = {"create", "update", "delete"};
    EXPECT_EQ(d.at("operation"), op[i]);
    std::set<std::string> keys = {"alarmName", "operation", "state", "configuration"};
    if (i == 1) keys.insert("previousConfiguration");
    EXPECT_EQ(Keys(d), keys) << op[i];
    EXPECT_EQ(Keys(d.at("state")), (std::set<std::string>{"value", "timestamp"}));
    EXPECT_THAT(std::string(d.at("state").at("timestamp").as_string()),
                ::testing::MatchesRegex(millis));
    EXPECT_EQ(Keys(d.at("configuration")), metric_configuration) << op[i];
    const json::value& m = d.at("configuration").at("metrics").at(0);
    EXPECT_EQ(Keys(m), (std::set<std::string>{"id", "metricStat", "returnData"}));
    EXPECT_EQ(Keys(m.at("metricStat")), (std::set<std::string>{"metric", "period", "stat"}));
    EXPECT_EQ(Keys(m.at("metricStat").at("metric")),
              (std::set<std::string>{"namespace", "name", "dimensions"}));
    if (i == 1) {
      EXPECT_EQ(Keys(d.at("previousConfiguration")), metric_configuration);
      // A new configuration gets a new metric id (as in AWS's update example).
      EXPECT_NE(m.at("id"), d.at("previousConfiguration").at("metrics").at(0).at("id"));
    }
  }
  auto state = events_.Of(kStateChangeDetailType);
  ASSERT_EQ(state.size(), 1u);
  json::value d = json::parse(state[0].detail_json);
  EXPECT_EQ(Keys(d),
            (std::set<std::string>{"alarmName", "configuration", "previousState", "state"}));
  EXPECT_EQ(Keys(d.at("configuration")), (std::set<std::string>{"description", "metrics"}));
  EXPECT_EQ(Keys(d.at("state")), (std::set<std::string>{"reason", "timestamp", "value"}));
  EXPECT_EQ(Keys(d.at("previousState")), (std::set<std::string>{"reason", "timestamp", "value"}));
  EXPECT_THAT(std::string(d.at("state").at("timestamp").as_string()),
              ::testing::MatchesRegex(millis));

  // The envelope (the incident's rawData).
  json::value event =
      json::parse(EventJson("c4c1c1c9-6542-4e1b-8ef0-8c4d36933a92", kStateChangeDetailType,
                            kAccount, "us-east-1", clock_.Now(), "arn:x", d.as_object()));
  EXPECT_EQ(Keys(event), (std::set<std::string>{"version", "id", "detail-type", "source", "account",
                                                "time", "region", "resources", "detail"}));
  EXPECT_EQ(event.at("version"), "0");
  EXPECT_THAT(std::string(event.at("time").as_string()),
              ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"));
}

// The background threads (evaluation ticks, maintenance) run beside puts and stop promptly.
TEST_F(AlarmServiceTest, SchedulerThreadsRunBesidePuts) {
  MetricStore metrics(store_);
  ASSERT_TRUE(metrics.Recover().ok());
  ASSERT_TRUE(service_->PutMetricAlarm(scope(), CpuAlarm("bg")).ok());
  SchedulerOptions options;
  options.tick_interval = absl::Milliseconds(5);
  options.checkpoint_interval = absl::ZeroDuration();
  options.compaction_interval = absl::ZeroDuration();
  options.evaluate_on_new_data = true;
  AlarmScheduler scheduler(*service_, metrics, clock_, options);
  scheduler.Start();
  for (int i = 0; i < 200; ++i) {
    MetricDatum d;
    d.metric = *CpuAlarm("bg").metric;
    d.timestamp = clock_.Now() - absl::Seconds(i % 60);
    d.value = 95;
    ASSERT_TRUE(metrics.Put(kAccount, {d}).ok());
  }
  absl::SleepFor(absl::Milliseconds(50));
  scheduler.Stop();
  ASSERT_TRUE(metrics.Checkpoint().ok());
  int series_rows = 0;
  ASSERT_TRUE(store_
                  .Read([&](storage::ReadTxn& txn) {
                    return txn.Scan("cw_metric_series", kAccount, "", "", 0, [&](auto, auto) {
                      ++series_rows;
                      return true;
                    });
                  })
                  .ok());
  EXPECT_EQ(series_rows, 1);
}

TEST_F(AlarmServiceTest, ValidationErrors) {
  MetricAlarm sns = CpuAlarm("a");
  sns.alarm_actions = {"arn:aws:sns:us-east-1:123456789012:topic"};
  auto s = service_->PutMetricAlarm(scope(), sns);
  EXPECT_EQ(ErrorType(s), "ValidationException");
  EXPECT_THAT(std::string(s.message()), HasSubstr("arn:aws:sns"));

  MetricAlarm other_region = CpuAlarm("a");
  other_region.alarm_actions = {"arn:aws:ssm:eu-west-1:123456789012:opsitem:2"};
  EXPECT_FALSE(service_->PutMetricAlarm(scope(), other_region).ok());
  MetricAlarm severity = CpuAlarm("a");
  severity.alarm_actions = {"arn:aws:ssm:us-east-1:123456789012:opsitem:9"};
  EXPECT_FALSE(service_->PutMetricAlarm(scope(), severity).ok());
  MetricAlarm ok_ops = CpuAlarm("a");
  ok_ops.alarm_actions = {"arn:aws:ssm:us-east-1:123456789012:opsitem:2#CATEGORY=Availability",
                          "arn:aws:ssm-incidents::123456789012:response-plan/x"};
  EXPECT_TRUE(service_->PutMetricAlarm(scope(), ok_ops).ok());

  MetricAlarm period = CpuAlarm("a");
  period.period = 45;
  EXPECT_EQ(ErrorType(service_->PutMetricAlarm(scope(), period)), "ValidationException");
  MetricAlarm m_gt_n = CpuAlarm("a");
  m_gt_n.datapoints_to_alarm = 4;
  EXPECT_FALSE(service_->PutMetricAlarm(scope(), m_gt_n).ok());
  MetricAlarm no_threshold = CpuAlarm("a");
  no_threshold.threshold.reset();
  EXPECT_FALSE(service_->PutMetricAlarm(scope(), no_threshold).ok());
  MetricAlarm both = CpuAlarm("a");
  both.extended_statistic = "p99";
  EXPECT_FALSE(service_->PutMetricAlarm(scope(), both).ok());
  MetricAlarm too_long = CpuAlarm("a");
  too_long.period = 3600;
  too_long.evaluation_periods = 200;
  too_long.datapoints_to_alarm.reset();
  EXPECT_FALSE(service_->PutMetricAlarm(scope(), too_long).ok());
  MetricAlarm math = CpuAlarm("a");
  math.metrics.push_back(MetricDataQuery{"e1", std::nullopt, "1", std::nullopt, true});
  EXPECT_FALSE(service_->PutMetricAlarm(scope(), math).ok());
}

TEST_F(AlarmServiceTest, ActionsOncePerTransition) {
  MetricAlarm a = CpuAlarm("cpu-high");
  a.ok_actions = {"arn:aws:ssm:us-east-1:123456789012:opsitem:3"};
  ASSERT_TRUE(service_->PutMetricAlarm(scope(), a).ok());
  ASSERT_TRUE(service_
                  ->SetAlarmState(scope(), "cpu-high", StateValue::kAlarm, "testing",
                                  std::string("{\"a\":1}"))
                  .ok());
  EXPECT_EQ(OutboxRows(), 1);
  EXPECT_EQ(outbox_.notified(), 1);
  // Same state again: no action.
  ASSERT_TRUE(
      service_->SetAlarmState(scope(), "cpu-high", StateValue::kAlarm, "again", std::nullopt).ok());
  EXPECT_EQ(OutboxRows(), 1);
  ASSERT_TRUE(
      service_->SetAlarmState(scope(), "cpu-high", StateValue::kOk, "ok", std::nullopt).ok());
  EXPECT_EQ(OutboxRows(), 2);
  ASSERT_TRUE(service_->SetActionsEnabled(scope(), {"cpu-high", "nope"}, false).ok());
  ASSERT_TRUE(
      service_->SetAlarmState(scope(), "cpu-high", StateValue::kAlarm, "x", std::nullopt).ok());
  EXPECT_EQ(OutboxRows(), 2);

  auto state = events_.Of(kStateChangeDetailType);
  ASSERT_EQ(state.size(), 3u);
  json::value detail = json::parse(state[0].detail_json);
  EXPECT_EQ(detail.at("alarmName"), "cpu-high");
  EXPECT_EQ(detail.at("state").at("value"), "ALARM");
  EXPECT_EQ(detail.at("state").at("reason"), "testing");
  EXPECT_EQ(detail.at("state").at("reasonData"), "{\"a\":1}");
  EXPECT_EQ(detail.at("previousState").at("value"), "INSUFFICIENT_DATA");
  EXPECT_EQ(detail.at("previousState").at("reason"), "Unchecked: Initial alarm creation");
  EXPECT_TRUE(detail.at("configuration").as_object().contains("metrics"));

  EXPECT_EQ(ErrorType(service_->SetAlarmState(scope(), "nope", StateValue::kOk, "x", std::nullopt)),
            "ResourceNotFound");
  EXPECT_EQ(ErrorType(service_->SetAlarmState(scope(), "cpu-high", StateValue::kOk, "x",
                                              std::string("{not json"))),
            "InvalidFormatFault");
}

TEST_F(AlarmServiceTest, DescribeFiltersAndPages) {
  for (const char* name : {"a1", "a2", "b1", "b2", "c1"}) {
    ASSERT_TRUE(service_->PutMetricAlarm(scope(), CpuAlarm(name)).ok());
  }
  ASSERT_TRUE(service_->SetAlarmState(scope(), "b1", StateValue::kAlarm, "x", std::nullopt).ok());
  CompositeAlarm comp;
  comp.name = "z-composite";
  comp.alarm_rule = "ALARM(a1) OR ALARM(b1)";
  ASSERT_TRUE(service_->PutCompositeAlarm(scope(), comp).ok());

  DescribeAlarmsRequest req;
  EXPECT_EQ(Names(*service_->DescribeAlarms(scope(), req)),
            (std::vector<std::string>{"a1", "a2", "b1", "b2", "c1"}));  // metric alarms only
  req.types = {AlarmType::kMetricAlarm, AlarmType::kCompositeAlarm};
  EXPECT_EQ(Names(*service_->DescribeAlarms(scope(), req)).size(), 6u);
  req.name_prefix = "b";
  EXPECT_EQ(Names(*service_->DescribeAlarms(scope(), req)), (std::vector<std::string>{"b1", "b2"}));
  req = {};
  req.state = StateValue::kAlarm;
  req.types = {AlarmType::kMetricAlarm, AlarmType::kCompositeAlarm};
  EXPECT_EQ(Names(*service_->DescribeAlarms(scope(), req)),
            (std::vector<std::string>{"b1", "z-composite"}));
  req = {};
  req.names = {"c1", "a2", "missing"};
  EXPECT_EQ(Names(*service_->DescribeAlarms(scope(), req)), (std::vector<std::string>{"a2", "c1"}));
  req = {};
  req.action_prefix = "arn:aws:ssm-incidents::123456789012:responseplan/d";
  EXPECT_EQ(Names(*service_->DescribeAlarms(scope(), req)).size(), 5u);

  // Pages of two.
  req = {};
  req.max_records = 2;
  std::vector<std::string> all;
  for (int i = 0; i < 5; ++i) {
    auto page = service_->DescribeAlarms(scope(), req);
    ASSERT_TRUE(page.ok());
    for (const auto& n : Names(*page)) all.push_back(n);
    if (page->next_token.empty()) break;
    req.next_token = page->next_token;
  }
  EXPECT_EQ(all, (std::vector<std::string>{"a1", "a2", "b1", "b2", "c1"}));
  req.next_token = "garbage";
  EXPECT_EQ(ErrorType(service_->DescribeAlarms(scope(), req).status()), "InvalidNextToken");

  req = {};
  req.children_of = "z-composite";
  EXPECT_EQ(Names(*service_->DescribeAlarms(scope(), req)), (std::vector<std::string>{"a1", "b1"}));
  req = {};
  req.parents_of = "b1";
  EXPECT_EQ(Names(*service_->DescribeAlarms(scope(), req)),
            (std::vector<std::string>{"z-composite"}));
  req.state = StateValue::kOk;
  EXPECT_FALSE(service_->DescribeAlarms(scope(), req).ok());
}

TEST_F(AlarmServiceTest, CompositeAlarms) {
  ASSERT_TRUE(service_->PutMetricAlarm(scope(), CpuAlarm("cpu")).ok());
  ASSERT_TRUE(service_->PutMetricAlarm(scope(), CpuAlarm("mem")).ok());
  ASSERT_TRUE(service_->SetAlarmState(scope(), "cpu", StateValue::kOk, "x", std::nullopt).ok());
  ASSERT_TRUE(service_->SetAlarmState(scope(), "mem", StateValue::kOk, "x", std::nullopt).ok());
  CompositeAlarm c;
  c.name = "both";
  c.alarm_rule = "ALARM(cpu) AND ALARM(\"mem\")";
  c.alarm_actions = {"arn:aws:ssm-incidents::123456789012:responseplan/db"};
  ASSERT_TRUE(service_->PutCompositeAlarm(scope(), c).ok());
  DescribeAlarmsRequest req;
  req.types = {AlarmType::kCompositeAlarm};
  auto r = service_->DescribeAlarms(scope(), req);
  ASSERT_EQ(r->composite_alarms.size(), 1u);
  EXPECT_EQ(r->composite_alarms[0].state, StateValue::kOk);
  EXPECT_EQ(r->composite_alarms[0].state_reason,
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:both was created and its alarm rule "
            "evaluates to OK");

  ASSERT_TRUE(service_->SetAlarmState(scope(), "cpu", StateValue::kAlarm, "x", std::nullopt).ok());
  EXPECT_EQ(service_->DescribeAlarms(scope(), req)->composite_alarms[0].state, StateValue::kOk);
  const int before = OutboxRows();
  clock_.Advance(absl::Seconds(3));
  ASSERT_TRUE(service_->SetAlarmState(scope(), "mem", StateValue::kAlarm, "x", std::nullopt).ok());
  r = service_->DescribeAlarms(scope(), req);
  EXPECT_EQ(r->composite_alarms[0].state, StateValue::kAlarm);
  EXPECT_THAT(r->composite_alarms[0].state_reason,
              HasSubstr("arn:aws:cloudwatch:us-east-1:123456789012:alarm:mem transitioned to "
                        "ALARM at "));
  EXPECT_THAT(*r->composite_alarms[0].state_reason_data, HasSubstr("\"triggeringAlarms\""));
  EXPECT_EQ(OutboxRows(), before + 2);  // mem's own action and the composite's

  // Cycles and unknown children are refused.
  CompositeAlarm loop;
  loop.name = "loop";
  loop.alarm_rule = "ALARM(both)";
  ASSERT_TRUE(service_->PutCompositeAlarm(scope(), loop).ok());
  c.alarm_rule = "ALARM(loop)";
  EXPECT_FALSE(service_->PutCompositeAlarm(scope(), c).ok());
  CompositeAlarm unknown;
  unknown.name = "u";
  unknown.alarm_rule = "ALARM(nope)";
  EXPECT_FALSE(service_->PutCompositeAlarm(scope(), unknown).ok());
  unknown.alarm_rule = "ALARM(u)";
  EXPECT_FALSE(service_->PutCompositeAlarm(scope(), unknown).ok());
  // A metric alarm cannot become a composite one.
  CompositeAlarm clash;
  clash.name = "cpu";
  clash.alarm_rule = "TRUE";
  EXPECT_FALSE(service_->PutCompositeAlarm(scope(), clash).ok());
}

TEST_F(AlarmServiceTest, DeleteIsAllOrNothing) {
  ASSERT_TRUE(service_->PutMetricAlarm(scope(), CpuAlarm("a")).ok());
  ASSERT_TRUE(service_->PutMetricAlarm(scope(), CpuAlarm("b")).ok());
  auto s = service_->DeleteAlarms(scope(), {"a", "nope"});
  EXPECT_EQ(ErrorType(s), "ResourceNotFound");
  EXPECT_EQ(Names(*service_->DescribeAlarms(scope(), {})).size(), 2u);
  ASSERT_TRUE(service_->DeleteAlarms(scope(), {"a", "b"}).ok());
  EXPECT_TRUE(Names(*service_->DescribeAlarms(scope(), {})).empty());
  auto deletes = events_.Of(kConfigurationChangeDetailType);
  EXPECT_EQ(json::parse(deletes.back().detail_json).at("operation"), "delete");
}

TEST_F(AlarmServiceTest, HistoryNewestFirstByNameAndPaged) {
  ASSERT_TRUE(service_->PutMetricAlarm(scope(), CpuAlarm("a")).ok());
  ASSERT_TRUE(service_->PutMetricAlarm(scope(), CpuAlarm("b")).ok());
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(absl::Seconds(1));
    ASSERT_TRUE(service_
                    ->SetAlarmState(scope(), "a", i % 2 ? StateValue::kOk : StateValue::kAlarm, "r",
                                    std::nullopt)
                    .ok());
  }
  AlarmHistoryRequest req;
  req.name = "a";
  auto page = service_->DescribeAlarmHistory(scope(), req);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->items.size(), 4u);
  EXPECT_EQ(page->items[0].summary, "Alarm updated from OK to ALARM");
  EXPECT_EQ(page->items[3].summary, "Alarm \"a\" created");
  EXPECT_EQ(page->items[3].type, HistoryItemType::kConfigurationUpdate);
  json::value data = json::parse(page->items[0].data);
  EXPECT_EQ(data.at("oldState").at("stateValue"), "OK");
  EXPECT_EQ(data.at("newState").at("stateValue"), "ALARM");

  req.type = HistoryItemType::kStateUpdate;
  req.max_records = 2;
  page = service_->DescribeAlarmHistory(scope(), req);
  ASSERT_EQ(page->items.size(), 2u);
  ASSERT_FALSE(page->next_token.empty());
  req.next_token = page->next_token;
  page = service_->DescribeAlarmHistory(scope(), req);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].summary, "Alarm updated from INSUFFICIENT_DATA to ALARM");
  EXPECT_TRUE(page->next_token.empty());

  AlarmHistoryRequest all;
  all.ascending = true;
  page = service_->DescribeAlarmHistory(scope(), all);
  ASSERT_EQ(page->items.size(), 5u);
  EXPECT_EQ(page->items[0].summary, "Alarm \"a\" created");

  // Retention.
  ASSERT_TRUE(service_->TrimHistory(clock_.Now() + absl::Hours(24 * 15)).ok());
  EXPECT_TRUE(service_->DescribeAlarmHistory(scope(), {})->items.empty());
}

TEST_F(AlarmServiceTest, TagsAndReload) {
  ASSERT_TRUE(service_->PutMetricAlarm(scope(), CpuAlarm("a")).ok());
  const std::string arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a";
  ASSERT_TRUE(service_->TagResource(scope(), arn, {{"k", "v"}, {"k2", "v2"}}).ok());
  ASSERT_TRUE(service_->UntagResource(scope(), arn, {"k2"}).ok());
  EXPECT_EQ(*service_->ListTags(scope(), arn), (std::map<std::string, std::string>{{"k", "v"}}));
  EXPECT_EQ(ErrorType(service_->ListTags(scope(), arn + "x").status()),
            "ResourceNotFoundException");
  EXPECT_EQ(ErrorType(service_->TagResource(scope(), arn, {{"aws:x", "v"}})),
            "InvalidParameterValueException");
  // A new service over the same store sees everything.
  Reset();
  EXPECT_EQ(*service_->ListTags(scope(), arn), (std::map<std::string, std::string>{{"k", "v"}}));
  EXPECT_EQ(service_->MetricAlarms().size(), 1u);
}

TEST_F(AlarmServiceTest, StaleTransitionsAreSkipped) {
  ASSERT_TRUE(service_->PutMetricAlarm(scope(), CpuAlarm("a")).ok());
  auto alarms = service_->MetricAlarms();
  ASSERT_EQ(alarms.size(), 1u);
  const int64_t version = alarms[0].second->version;
  ASSERT_TRUE(service_->PutMetricAlarm(scope(), CpuAlarm("a")).ok());  // version + 1
  auto applied = service_->ApplyTransitions(
      {Transition{kAccount, "a", version, StateValue::kAlarm, "r", "{}"}});
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, 0);
  applied = service_->ApplyTransitions(
      {Transition{kAccount, "a", version + 1, StateValue::kAlarm, "r", "{}"}});
  EXPECT_EQ(*applied, 1);
}

}  // namespace
}  // namespace klaxon::alarms
