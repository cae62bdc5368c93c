#include "alarms/types.h"

#include "gtest/gtest.h"

namespace klaxon::alarms {
namespace {

TEST(ParseStat, StandardAndExtended) {
  EXPECT_EQ(ParseStat("Average")->kind, StatKind::kAverage);
  EXPECT_EQ(ParseStat("SampleCount")->kind, StatKind::kSampleCount);
  auto p = ParseStat("p99.9");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, StatKind::kPercentile);
  EXPECT_DOUBLE_EQ(p->percentile(), 99.9);
  auto tm = ParseStat("tm90");
  ASSERT_TRUE(tm.ok());
  EXPECT_EQ(tm->kind, StatKind::kTrimmedMean);
  EXPECT_DOUBLE_EQ(tm->lo, 0);
  EXPECT_DOUBLE_EQ(tm->hi, 90);
  auto range = ParseStat("TM(10%:90%)");
  ASSERT_TRUE(range.ok());
  EXPECT_TRUE(range->percent);
  EXPECT_DOUBLE_EQ(range->lo, 10);
  auto absolute = ParseStat("TC(:0.5)");
  ASSERT_TRUE(absolute.ok());
  EXPECT_FALSE(absolute->percent);
  EXPECT_DOUBLE_EQ(absolute->hi, 0.5);
  EXPECT_EQ(ParseStat("PR(100:2000)")->kind, StatKind::kPercentileRank);
  EXPECT_EQ(ParseStat("IQM")->kind, StatKind::kInterquartileMean);
  for (const char* bad : {"", "p", "p101", "p-1", "average", "TM(10%:90)", "TM(90%:10%)", "x99",
                          "PR(10%:20%)", "TM()"}) {
    EXPECT_FALSE(ParseStat(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParseStandardStat("p99").ok());
}

TEST(FormatJavaDouble, MatchesJavaDoubleToString) {
  EXPECT_EQ(FormatJavaDouble(50), "50.0");
  EXPECT_EQ(FormatJavaDouble(99.50160229693434), "99.50160229693434");
  EXPECT_EQ(FormatJavaDouble(0.0666851903306472), "0.0666851903306472");
  EXPECT_EQ(FormatJavaDouble(45628), "45628.0");
  EXPECT_EQ(FormatJavaDouble(0.001), "0.001");
  EXPECT_EQ(FormatJavaDouble(1e-5), "1.0E-5");
  EXPECT_EQ(FormatJavaDouble(1.2345678e7), "1.2345678E7");
  EXPECT_EQ(FormatJavaDouble(-2.5), "-2.5");
  EXPECT_EQ(FormatJavaDouble(0), "0.0");
  EXPECT_EQ(FormatJavaDouble(9999999), "9999999.0");
  EXPECT_EQ(FormatJavaDouble(10000000), "1.0E7");
}

TEST(Formats, AwsTimestamps) {
  absl::Time t = absl::FromUnixMillis(1570035880985);  // 2019-10-02T17:04:40.985Z
  EXPECT_EQ(FormatAwsMillis(t), "2019-10-02T17:04:40.985+0000");
  EXPECT_EQ(FormatReasonDate(t), "02/10/19 17:04:40");
  EXPECT_EQ(FormatCompositeDate(absl::FromUnixSeconds(1658505465)),
            "Friday 22 July, 2022 15:57:45 UTC");
}

TEST(MetricId, KeyIgnoresDimensionOrder) {
  MetricId a{"AWS/EC2", "CPUUtilization", {{"b", "2"}, {"a", "1"}}};
  MetricId b{"AWS/EC2", "CPUUtilization", {{"a", "1"}, {"b", "2"}}};
  a.Normalize();
  b.Normalize();
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.Key(), b.Key());
  MetricId c{"AWS/EC2", "CPUUtilization", {{"a", "12"}}};
  MetricId d{"AWS/EC2", "CPUUtilization", {{"a", "1"}, {"2", ""}}};
  EXPECT_NE(c.Key(), d.Key());
}

TEST(Alarm, Defaults) {
  MetricAlarm a;
  a.evaluation_periods = 5;
  EXPECT_EQ(a.DatapointsToAlarm(), 5);
  a.metric = MetricId{"AWS/DynamoDB", "ThrottledRequests", {}};
  EXPECT_EQ(a.EffectiveTreatMissing(), TreatMissing::kIgnore);
  a.treat_missing_data = "breaching";
  EXPECT_EQ(a.EffectiveTreatMissing(), TreatMissing::kBreaching);
  EXPECT_EQ(AlarmArn("us-east-1", "123456789012", "cpu"),
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu");
}

}  // namespace
}  // namespace klaxon::alarms
