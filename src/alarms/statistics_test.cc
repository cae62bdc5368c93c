#include "alarms/statistics.h"

#include <cmath>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace klaxon::alarms {
namespace {

double Stat(const Aggregate& agg, const char* name) {
  auto stat = ParseStat(name);
  EXPECT_TRUE(stat.ok()) << name;
  auto v = ComputeStat(agg, *stat);
  EXPECT_TRUE(v.has_value()) << name;
  return v.value_or(NAN);
}

TEST(Aggregate, StandardStatistics) {
  Aggregate agg;
  for (int i = 1; i <= 10; ++i) agg.AddValue(i);
  EXPECT_EQ(Stat(agg, "SampleCount"), 10);
  EXPECT_EQ(Stat(agg, "Sum"), 55);
  EXPECT_EQ(Stat(agg, "Average"), 5.5);
  EXPECT_EQ(Stat(agg, "Minimum"), 1);
  EXPECT_EQ(Stat(agg, "Maximum"), 10);
  EXPECT_FALSE(ComputeStat(Aggregate(), *ParseStat("Average")).has_value());
}

TEST(Aggregate, PercentilesNearestRank) {
  Aggregate agg;
  for (int i = 1; i <= 20; ++i) agg.AddValue(i);
  EXPECT_FALSE(agg.values.sketched());
  EXPECT_EQ(Stat(agg, "p50"), 10);
  EXPECT_EQ(Stat(agg, "p90"), 18);
  EXPECT_EQ(Stat(agg, "p99"), 20);
  EXPECT_EQ(Stat(agg, "p100"), 20);
  EXPECT_EQ(Stat(agg, "p0"), 1);
}

TEST(Aggregate, ValuesWithCounts) {
  Aggregate agg;
  agg.AddValue(1, 99);
  agg.AddValue(1000, 1);
  EXPECT_EQ(Stat(agg, "SampleCount"), 100);
  EXPECT_EQ(Stat(agg, "p99"), 1);
  EXPECT_EQ(Stat(agg, "p100"), 1000);
  EXPECT_NEAR(Stat(agg, "tm99"), 1, 1e-9);
  EXPECT_NEAR(Stat(agg, "TC(:10)"), 99, 1e-9);
  EXPECT_NEAR(Stat(agg, "PR(:10)"), 99, 1e-9);
}

TEST(Aggregate, TrimmedAndWinsorized) {
  Aggregate agg;
  for (int i = 1; i <= 10; ++i) agg.AddValue(i);
  EXPECT_NEAR(Stat(agg, "TM(10%:90%)"), 5.5, 1e-9);  // 2..9
  EXPECT_NEAR(Stat(agg, "TS(10%:90%)"), 44, 1e-9);
  EXPECT_NEAR(Stat(agg, "TC(10%:90%)"), 8, 1e-9);
  EXPECT_NEAR(Stat(agg, "WM(10%:90%)"), 5.5, 1e-9);
  EXPECT_NEAR(Stat(agg, "IQM"), 5.5, 1e-9);
}

TEST(Aggregate, StatisticSetsAndPercentiles) {
  Aggregate agg;
  agg.AddStatisticSet(4, 20, 5, 5);  // min == max: usable for percentiles
  EXPECT_EQ(Stat(agg, "p50"), 5);
  agg.AddStatisticSet(10, 100, 1, 30);  // not usable: percentiles become unavailable
  EXPECT_EQ(Stat(agg, "SampleCount"), 14);
  EXPECT_EQ(Stat(agg, "Maximum"), 30);
  EXPECT_FALSE(ComputeStat(agg, *ParseStat("p50")).has_value());
}

TEST(Aggregate, SketchBoundsMemoryAndError) {
  Aggregate agg;
  for (int i = 1; i <= 100000; ++i) agg.AddValue(i);
  EXPECT_TRUE(agg.values.sketched());
  EXPECT_LT(agg.values.entries().size(), 700u);
  EXPECT_NEAR(Stat(agg, "p50"), 50000, 50000 * 2 * kSketchRelativeError);
  EXPECT_NEAR(Stat(agg, "p99"), 99000, 99000 * 2 * kSketchRelativeError);
  EXPECT_EQ(Stat(agg, "Maximum"), 100000);
  EXPECT_EQ(Stat(agg, "Sum"), 100000.0 * 100001 / 2);
}

TEST(Aggregate, EncodeDecodeRoundTrip) {
  Aggregate agg;
  agg.AddValue(0.1);
  agg.AddValue(-3, 2);
  agg.AddStatisticSet(3, 30, 1, 20);
  auto back = Aggregate::Decode(agg.Encode());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->Encode(), agg.Encode());
  EXPECT_EQ(back->count, 6);
  EXPECT_FALSE(back->percentiles_ok);
  EXPECT_FALSE(Aggregate::Decode("garbage").has_value());
}

RC_GTEST_PROP(AggregateProperty, MergeEqualsAddingEverything,
              (std::vector<int> a, std::vector<int> b)) {
  Aggregate x, y, all;
  for (int v : a) {
    x.AddValue(v);
    all.AddValue(v);
  }
  for (int v : b) {
    y.AddValue(v);
    all.AddValue(v);
  }
  x.Merge(y);
  RC_ASSERT(x.count == all.count);
  RC_ASSERT(x.sum == all.sum);
  if (all.count > 0) {
    RC_ASSERT(x.min == all.min);
    RC_ASSERT(x.max == all.max);
    auto p = *ParseStat("p90");
    double px = *ComputeStat(x, p), pa = *ComputeStat(all, p);
    RC_ASSERT(std::fabs(px - pa) <= std::fabs(pa) * 2.5 * kSketchRelativeError + 1e-9);
  }
}

}  // namespace
}  // namespace klaxon::alarms
