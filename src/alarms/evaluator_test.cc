#include "alarms/evaluator.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::alarms {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

absl::Time At(const char* rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) << err;
  return t;
}

// The range for a row like "0 - X - X" (oldest first), newest first as Evaluate() takes it.
std::vector<RangeDatapoint> Range(const std::string& row, absl::Time now, int period) {
  std::vector<std::string> cells = absl::StrSplit(row, ' ', absl::SkipEmpty());
  std::vector<RangeDatapoint> range(cells.size());
  const absl::Time end = EvaluationEnd(now, period);
  for (size_t i = 0; i < cells.size(); ++i) {
    RangeDatapoint& dp = range[i];
    dp.start = end - absl::Seconds(period * static_cast<int>(i + 1));
    const std::string& cell = cells[cells.size() - 1 - i];
    if (cell == "X") {
      dp.value = 100;
      dp.sample_count = 1;
    } else if (cell == "0") {
      dp.value = 1;
      dp.sample_count = 1;
    }
  }
  return range;
}

struct Row {
  int n = 0, m = 0;
  std::string datapoints;
  std::string expected[4];  // missing, ignore, breaching, notBreaching
  int line = 0;
};

std::vector<Row> LoadRows() {
  const char* dir = std::getenv("KLAXON_SOURCE_DIR");
  std::string path = std::string(dir ? dir : ".") + "/src/alarms/testdata/missing_data.test";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::vector<Row> rows;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text.front() == '#') continue;
    std::vector<std::string> cols = absl::StrSplit(text, '|');
    EXPECT_EQ(cols.size(), 6u) << "line " << number;
    if (cols.size() != 6) continue;
    Row row;
    row.line = number;
    std::istringstream nm(cols[0]);
    nm >> row.n >> row.m;
    row.datapoints = std::string(absl::StripAsciiWhitespace(cols[1]));
    for (int i = 0; i < 4; ++i)
      row.expected[i] = std::string(absl::StripAsciiWhitespace(cols[2 + i]));
    rows.push_back(row);
  }
  return rows;
}

TEST(EvaluatorTable, AwsWorkedExamples) {
  const TreatMissing treats[] = {TreatMissing::kMissing, TreatMissing::kIgnore,
                                 TreatMissing::kBreaching, TreatMissing::kNotBreaching};
  std::vector<Row> rows = LoadRows();
  ASSERT_GE(rows.size(), 10u);
  const absl::Time now = At("2024-01-01T12:00:30Z");
  for (const Row& row : rows) {
    for (int t = 0; t < 4; ++t) {
      for (StateValue current :
           {StateValue::kOk, StateValue::kAlarm, StateValue::kInsufficientData}) {
        EvaluationSettings s;
        s.period_seconds = 300;
        s.evaluation_periods = row.n;
        s.datapoints_to_alarm = row.m;
        s.threshold = 50;
        s.comparison = Comparison::kGreaterThanThreshold;
        s.treat_missing = treats[t];
        s.statistic = "Average";
        Evaluation e = Evaluate(s, current, Range(row.datapoints, now, 300), now);
        const std::string& want = row.expected[t];
        SCOPED_TRACE(testing::Message()
                     << "line " << row.line << " [" << row.datapoints << "] "
                     << TreatMissingName(treats[t]) << " from " << StateName(current));
        if (want == "retain") {
          EXPECT_FALSE(e.change);
          EXPECT_EQ(e.state, current);
        } else {
          EXPECT_EQ(std::string(StateName(e.state)), want);
          EXPECT_EQ(e.change, std::string(StateName(current)) != want);
        }
      }
    }
  }
}

TEST(EvaluatorReason, MatchesAwsAlarmExample) {
  // The "CloudWatch Alarm State Change" example of the CloudWatch User Guide.
  EvaluationSettings s;
  s.period_seconds = 300;
  s.evaluation_periods = 1;
  s.datapoints_to_alarm = 1;
  s.threshold = 50;
  s.statistic = "Average";
  const absl::Time now = At("2019-10-02T17:04:40.985Z");
  std::vector<RangeDatapoint> range(EvaluationRange(1));
  for (int i = 0; i < static_cast<int>(range.size()); ++i) {
    range[i].start = EvaluationEnd(now, 300) - absl::Seconds(300 * (i + 1));
  }
  range[0].value = 99.50160229693434;
  range[0].sample_count = 5;
  Evaluation e = Evaluate(s, StateValue::kOk, range, now);
  EXPECT_TRUE(e.change);
  EXPECT_EQ(e.state, StateValue::kAlarm);
  EXPECT_EQ(e.reason,
            "Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434 (02/10/19 "
            "16:59:00)] was greater than the threshold (50.0) (minimum 1 datapoint for OK -> "
            "ALARM transition).");
  EXPECT_THAT(e.reason_data,
              StartsWith("{\"version\":\"1.0\",\"queryDate\":\"2019-10-02T17:04:40.985+0000\","
                         "\"startDate\":\"2019-10-02T16:59:00.000+0000\",\"statistic\":\"Average\","
                         "\"period\":300,\"recentDatapoints\":[99.50160229693434],"
                         "\"threshold\":50.0"));
}

TEST(EvaluatorReason, OkExampleUsesMostRecentRealDatapoint) {
  EvaluationSettings s;
  s.period_seconds = 300;
  s.evaluation_periods = 1;
  s.threshold = 50;
  s.statistic = "Average";
  const absl::Time now = At("2019-10-01T13:56:40.985Z");
  std::vector<RangeDatapoint> range(EvaluationRange(1));
  for (int i = 0; i < static_cast<int>(range.size()); ++i) {
    range[i].start = EvaluationEnd(now, 300) - absl::Seconds(300 * (i + 1));
  }
  range[1].value = 0.0666851903306472;  // the newest period has no data yet
  range[1].sample_count = 1;
  Evaluation e = Evaluate(s, StateValue::kAlarm, range, now);
  EXPECT_EQ(e.state, StateValue::kOk);
  EXPECT_EQ(e.reason,
            "Threshold Crossed: 1 out of the last 1 datapoints [0.0666851903306472 (01/10/19 "
            "13:46:00)] was not greater than the threshold (50.0) (minimum 1 datapoint for "
            "ALARM -> OK transition).");
  EXPECT_THAT(e.reason_data, HasSubstr("\"startDate\":\"2019-10-01T13:46:00.000+0000\""));
}

TEST(EvaluatorReason, MofNListsCrossingDatapointsAndMinimum) {
  EvaluationSettings s;
  s.period_seconds = 60;
  s.evaluation_periods = 3;
  s.datapoints_to_alarm = 2;
  s.threshold = 10;
  s.comparison = Comparison::kGreaterThanOrEqualToThreshold;
  s.statistic = "Maximum";
  const absl::Time now = At("2024-01-01T00:05:10Z");
  std::vector<RangeDatapoint> range = Range("1 1 20 5 30", now, 60);
  range[0].value = 30;
  range[1].value = 5;
  range[2].value = 20;
  Evaluation e = Evaluate(s, StateValue::kInsufficientData, range, now);
  EXPECT_EQ(e.state, StateValue::kAlarm);
  EXPECT_EQ(e.reason,
            "Threshold Crossed: 2 out of the last 3 datapoints [30.0 (01/01/24 00:04:00), 20.0 "
            "(01/01/24 00:02:00)] were greater than or equal to the threshold (10.0) (minimum 2 "
            "datapoints for INSUFFICIENT_DATA -> ALARM transition).");
}

TEST(EvaluatorReason, MissingTreatedAsBreaching) {
  EvaluationSettings s;
  s.period_seconds = 60;
  s.evaluation_periods = 1;
  s.threshold = 1;
  s.treat_missing = TreatMissing::kBreaching;
  const absl::Time now = At("2024-01-01T00:05:10Z");
  Evaluation e = Evaluate(s, StateValue::kOk, Range("- - -", now, 60), now);
  EXPECT_EQ(e.state, StateValue::kAlarm);
  EXPECT_EQ(e.reason,
            "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint "
            "was treated as [Breaching].");
}

TEST(EvaluatorReason, InsufficientData) {
  EvaluationSettings s;
  s.evaluation_periods = 3;
  s.datapoints_to_alarm = 3;
  const absl::Time now = At("2024-01-01T00:05:10Z");
  Evaluation e = Evaluate(s, StateValue::kOk, Range("- - - - -", now, 60), now);
  EXPECT_EQ(e.state, StateValue::kInsufficientData);
  EXPECT_EQ(e.reason, "Insufficient Data: 3 datapoints were unknown.");
}

TEST(Evaluator, LowSampleCountPercentileIgnoreKeepsState) {
  EvaluationSettings s;
  s.evaluation_periods = 1;
  s.threshold = 10;
  s.extended_statistic = "p99";
  s.low_sample_ignore_percentile = 99;
  const absl::Time now = At("2024-01-01T00:05:10Z");
  std::vector<RangeDatapoint> range = Range("- - X", now, 60);
  range[0].sample_count = 50;  // p99 needs 100 samples
  EXPECT_FALSE(Evaluate(s, StateValue::kOk, range, now).change);
  range[0].sample_count = 100;
  EXPECT_EQ(Evaluate(s, StateValue::kOk, range, now).state, StateValue::kAlarm);
}

TEST(Evaluator, EvaluationEndAlignsToMinuteOrTenSeconds) {
  const absl::Time now = At("2024-01-01T00:05:47.5Z");
  EXPECT_EQ(EvaluationEnd(now, 300), At("2024-01-01T00:05:00Z"));
  EXPECT_EQ(EvaluationEnd(now, 60), At("2024-01-01T00:05:00Z"));
  EXPECT_EQ(EvaluationEnd(now, 10), At("2024-01-01T00:05:40Z"));
  EXPECT_EQ(EvaluationEnd(now, 30), At("2024-01-01T00:05:40Z"));
}

}  // namespace
}  // namespace klaxon::alarms
