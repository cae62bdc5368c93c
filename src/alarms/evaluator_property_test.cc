// Property tests of the evaluator against a naive reference written from the documentation's
// wording (one period at a time, no shared code with evaluator.cc), plus invariants that must
// hold for any input.

#include <optional>
#include <string>
#include <vector>

#include "alarms/evaluator.h"
#include "boost/json.hpp"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace klaxon::alarms {
namespace {

// A period: missing, or a value that breaches (value 100 vs threshold 50) or not (value 1).
enum class Cell { kMissing, kOk, kBreach };

struct Case {
  int n = 1;
  int m = 1;
  TreatMissing treat = TreatMissing::kMissing;
  StateValue current = StateValue::kOk;
  std::vector<Cell> cells;  // newest first, size n + 2
};

// nullopt = keep the current state.
std::optional<StateValue> Reference(const Case& c) {
  // "If no data points in the evaluation range are missing ... or if some are missing but the
  // number of real ones is at least Evaluation Periods": the most recent real ones decide.
  int real = 0;
  for (Cell cell : c.cells) real += cell != Cell::kMissing;
  if (real >= c.n) {
    int taken = 0, breaching = 0;
    for (Cell cell : c.cells) {
      if (cell == Cell::kMissing || taken == c.n) continue;
      ++taken;
      breaching += cell == Cell::kBreach;
    }
    return breaching >= c.m ? StateValue::kAlarm : StateValue::kOk;
  }
  // "Fills in the missing data points with the result you specified ... all real data points in
  // the evaluation range are included ... uses missing data points as few times as possible."
  if (c.treat == TreatMissing::kBreaching || c.treat == TreatMissing::kNotBreaching) {
    std::vector<bool> evaluated;
    for (Cell cell : c.cells) {
      if (cell != Cell::kMissing) evaluated.push_back(cell == Cell::kBreach);
    }
    while (static_cast<int>(evaluated.size()) < c.n) {
      evaluated.push_back(c.treat == TreatMissing::kBreaching);
    }
    int breaching = 0;
    for (bool b : evaluated) breaching += b;
    return breaching >= c.m ? StateValue::kAlarm : StateValue::kOk;
  }
  if (real == 0) {
    if (c.treat == TreatMissing::kIgnore) return std::nullopt;
    return StateValue::kInsufficientData;
  }
  // Premature alarm: the oldest available breaching datapoint is at least M periods old and
  // every more recent datapoint is breaching or missing (and no real datapoint is OK).
  int oldest_real = -1;
  bool any_ok = false;
  for (int i = 0; i < static_cast<int>(c.cells.size()); ++i) {
    if (c.cells[i] == Cell::kMissing) continue;
    oldest_real = i;
    any_ok = any_ok || c.cells[i] == Cell::kOk;
  }
  if (!any_ok && oldest_real + 1 >= c.m) {
    if (c.treat == TreatMissing::kIgnore) return std::nullopt;
    return StateValue::kAlarm;
  }
  int breaching = 0;
  for (Cell cell : c.cells) breaching += cell == Cell::kBreach;
  return breaching >= c.m ? StateValue::kAlarm : StateValue::kOk;
}

Evaluation Run(const Case& c) {
  EvaluationSettings s;
  s.period_seconds = 60;
  s.evaluation_periods = c.n;
  s.datapoints_to_alarm = c.m;
  s.threshold = 50;
  s.comparison = Comparison::kGreaterThanThreshold;
  s.treat_missing = c.treat;
  s.statistic = "Maximum";
  const absl::Time now = absl::FromUnixSeconds(1704067200 + 37);
  std::vector<RangeDatapoint> range(c.cells.size());
  for (size_t i = 0; i < c.cells.size(); ++i) {
    range[i].start = EvaluationEnd(now, 60) - absl::Seconds(60 * static_cast<int>(i + 1));
    if (c.cells[i] != Cell::kMissing) {
      range[i].value = c.cells[i] == Cell::kBreach ? 100 : 1;
      range[i].sample_count = 1;
    }
  }
  return Evaluate(s, c.current, range, now);
}

rc::Gen<Case> GenCase() {
  return rc::gen::exec([] {
    Case c;
    c.n = *rc::gen::inRange(1, 8);
    c.m = *rc::gen::inRange(1, c.n + 1);
    c.treat = *rc::gen::element(TreatMissing::kMissing, TreatMissing::kIgnore,
                                TreatMissing::kBreaching, TreatMissing::kNotBreaching);
    c.current =
        *rc::gen::element(StateValue::kOk, StateValue::kAlarm, StateValue::kInsufficientData);
    c.cells = *rc::gen::container<std::vector<Cell>>(
        c.n + kEvaluationRangeExtra, rc::gen::element(Cell::kMissing, Cell::kOk, Cell::kBreach));
    return c;
  });
}

StateValue Outcome(const Case& c, const Evaluation& e) { return e.change ? e.state : c.current; }

RC_GTEST_PROP(EvaluatorProperty, MatchesReference, ()) {
  Case c = *GenCase();
  Evaluation e = Run(c);
  std::optional<StateValue> want = Reference(c);
  RC_ASSERT(Outcome(c, e) == want.value_or(c.current));
  RC_ASSERT(e.change == (Outcome(c, e) != c.current));
}

RC_GTEST_PROP(EvaluatorProperty, TreatMissingUnusedWithEnoughRealData, ()) {
  Case c = *GenCase();
  int real = 0;
  for (Cell cell : c.cells) real += cell != Cell::kMissing;
  RC_PRE(real >= c.n);
  Case other = c;
  for (TreatMissing t : {TreatMissing::kMissing, TreatMissing::kIgnore, TreatMissing::kBreaching,
                         TreatMissing::kNotBreaching}) {
    other.treat = t;
    RC_ASSERT(Outcome(other, Run(other)) == Outcome(c, Run(c)));
  }
}

RC_GTEST_PROP(EvaluatorProperty, InsufficientDataOnlyWhenNothingIsKnown, ()) {
  Case c = *GenCase();
  Evaluation e = Run(c);
  if (e.change && e.state == StateValue::kInsufficientData) {
    RC_ASSERT(c.treat == TreatMissing::kMissing);
    for (Cell cell : c.cells) RC_ASSERT(cell == Cell::kMissing);
  }
}

RC_GTEST_PROP(EvaluatorProperty, MoreBreachingNeverClearsAnAlarm, ()) {
  Case c = *GenCase();
  const size_t i = *rc::gen::inRange<size_t>(0, c.cells.size());
  RC_PRE(c.cells[i] == Cell::kOk);
  Case worse = c;
  worse.cells[i] = Cell::kBreach;
  if (Outcome(c, Run(c)) == StateValue::kAlarm) {
    RC_ASSERT(Outcome(worse, Run(worse)) == StateValue::kAlarm ||
              !Run(worse).change);  // ignore may keep the current state
  }
}

RC_GTEST_PROP(EvaluatorProperty, ReasonDataIsJson, ()) {
  Case c = *GenCase();
  Evaluation e = Run(c);
  if (!e.change) return;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(e.reason_data, ec);
  RC_ASSERT(!ec);
  RC_ASSERT(v.is_object());
  RC_ASSERT(v.as_object().contains("recentDatapoints"));
  RC_ASSERT(!e.reason.empty());
}

}  // namespace
}  // namespace klaxon::alarms
