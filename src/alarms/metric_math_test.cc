#include "alarms/metric_math.h"

#include <cmath>

#include "gtest/gtest.h"

namespace klaxon::alarms {
namespace {

MetricDataQuery Stat(const std::string& id, const std::string& name, bool return_data = false) {
  MetricDataQuery q;
  q.id = id;
  q.metric_stat = MetricStat{MetricId{"App", name, {}}, 60, "Sum", std::nullopt};
  q.return_data = return_data;
  return q;
}

MetricDataQuery Expr(const std::string& id, const std::string& text, bool return_data = true) {
  MetricDataQuery q;
  q.id = id;
  q.expression = text;
  q.return_data = return_data;
  return q;
}

// Series by metric name: "a" = 1,2,-,4 ; "b" = 10,-,30,40.
TimeSeries Fetch(const MetricStat& s) {
  if (s.metric.name == "a") return {1.0, 2.0, std::nullopt, 4.0};
  if (s.metric.name == "b") return {10.0, std::nullopt, 30.0, 40.0};
  return TimeSeries(4);
}

TimeSeries Eval(const std::string& expression) {
  std::vector<MetricDataQuery> q = {Stat("m1", "a"), Stat("m2", "b"), Expr("e1", expression)};
  auto r = EvaluateQueries(q, 4, 60, Fetch);
  EXPECT_TRUE(r.ok()) << expression << ": " << r.status();
  if (!r.ok()) return {};
  const MathValue& v = r->at("e1");
  if (v.kind == MathValue::Kind::kScalar) return TimeSeries(4, v.scalar);
  EXPECT_EQ(v.kind, MathValue::Kind::kSeries) << expression;
  return v.series;
}

TEST(MetricMath, Arithmetic) {
  EXPECT_EQ(Eval("m1 + m2"), (TimeSeries{11.0, std::nullopt, std::nullopt, 44.0}));
  EXPECT_EQ(Eval("m1 * 2 - 1"), (TimeSeries{1.0, 3.0, std::nullopt, 7.0}));
  EXPECT_EQ(Eval("-m1"), (TimeSeries{-1.0, -2.0, std::nullopt, -4.0}));
  EXPECT_EQ(Eval("m1 ^ 2"), (TimeSeries{1.0, 4.0, std::nullopt, 16.0}));
  EXPECT_EQ(Eval("100 * m1 / m2"), (TimeSeries{10.0, std::nullopt, std::nullopt, 10.0}));
  EXPECT_EQ(Eval("(1 + 2) * 3"), TimeSeries(4, 9.0));
}

TEST(MetricMath, ArrayFunctions) {
  EXPECT_EQ(Eval("SUM(METRICS())"), (TimeSeries{11.0, 2.0, 30.0, 44.0}));
  EXPECT_EQ(Eval("MAX(METRICS())"), (TimeSeries{10.0, 2.0, 30.0, 40.0}));
  EXPECT_EQ(Eval("MIN(METRICS())"), (TimeSeries{1.0, 2.0, 30.0, 4.0}));
  EXPECT_EQ(Eval("AVG(METRICS())"), (TimeSeries{5.5, 2.0, 30.0, 22.0}));
  EXPECT_EQ(Eval("SUM(METRICS(\"m2\"))"), (TimeSeries{10.0, std::nullopt, 30.0, 40.0}));
  EXPECT_EQ(Eval("SUM(m1)"), TimeSeries(4, 7.0));  // of one series: a scalar
}

TEST(MetricMath, FillIfAndRates) {
  EXPECT_EQ(Eval("FILL(m1, 0)"), (TimeSeries{1.0, 2.0, 0.0, 4.0}));
  EXPECT_EQ(Eval("FILL(m1, REPEAT)"), (TimeSeries{1.0, 2.0, 2.0, 4.0}));
  EXPECT_EQ(Eval("FILL(m1, LINEAR)"), (TimeSeries{1.0, 2.0, 3.0, 4.0}));
  EXPECT_EQ(Eval("SUM(FILL(METRICS(), 0))"), (TimeSeries{11.0, 2.0, 30.0, 44.0}));
  EXPECT_EQ(Eval("IF(m1 > 1, 1, 0)"), (TimeSeries{0.0, 1.0, std::nullopt, 1.0}));
  EXPECT_EQ(Eval("IF(m1 >= 2 AND m1 < 4, m1)"),
            (TimeSeries{std::nullopt, 2.0, std::nullopt, std::nullopt}));
  EXPECT_EQ(Eval("DIFF(m1)"), (TimeSeries{std::nullopt, 1.0, std::nullopt, 2.0}));
  EXPECT_EQ(Eval("RATE(m2)"), (TimeSeries{std::nullopt, std::nullopt, 20.0 / 120, 10.0 / 60}));
  EXPECT_EQ(Eval("ABS(m1 - 3)"), (TimeSeries{2.0, 1.0, std::nullopt, 1.0}));
  EXPECT_EQ(Eval("PERIOD(m1)"), TimeSeries(4, 60.0));
}

TEST(MetricMath, ExpressionsReferenceExpressions) {
  std::vector<MetricDataQuery> q = {Stat("m1", "a"), Expr("e1", "m1 * 2", false),
                                    Expr("e2", "e1 + 1")};
  auto r = EvaluateQueries(q, 4, 60, Fetch);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->at("e2").series, (TimeSeries{3.0, 5.0, std::nullopt, 9.0}));
}

TEST(MetricMath, Errors) {
  for (const char* bad : {"m1 +", "FOO(m1)", "m1 m2", "((m1)", "m1 = 2", "\"x", "m1 & m2"}) {
    std::vector<MetricDataQuery> q = {Stat("m1", "a"), Expr("e1", bad)};
    EXPECT_FALSE(EvaluateQueries(q, 4, 60, Fetch).ok()) << bad;
  }
  std::vector<MetricDataQuery> cyc = {Expr("e1", "e2 + 1"), Expr("e2", "e1 + 1")};
  EXPECT_FALSE(EvaluateQueries(cyc, 4, 60, Fetch).ok());
  std::vector<MetricDataQuery> unknown = {Expr("e1", "nope * 2")};
  EXPECT_FALSE(EvaluateQueries(unknown, 4, 60, Fetch).ok());
  std::string deep(500, '(');
  deep += "1" + std::string(500, ')');
  EXPECT_FALSE(Expression::Parse(deep).ok());
}

TEST(MetricMath, ValidateAlarmQueries) {
  EXPECT_TRUE(
      ValidateAlarmQueries({Stat("m1", "a"), Stat("m2", "b"), Expr("e1", "SUM(METRICS())")}).ok());
  // Two queries returning data.
  EXPECT_FALSE(ValidateAlarmQueries({Stat("m1", "a", true), Expr("e1", "m1")}).ok());
  // Unknown reference.
  EXPECT_FALSE(ValidateAlarmQueries({Stat("m1", "a"), Expr("e1", "m3 * 2")}).ok());
  // Ids start with a lowercase letter.
  EXPECT_FALSE(ValidateAlarmQueries({Stat("M1", "a", true)}).ok());
  // Duplicate ids.
  EXPECT_FALSE(ValidateAlarmQueries({Stat("m1", "a"), Expr("m1", "1")}).ok());
}

}  // namespace
}  // namespace klaxon::alarms
