#pragma once
// Metric math: the expression language of MetricDataQuery.Expression, as GetMetricData and
// metric-math alarms use it.
//
// Parse → evaluate, as separate stages: Expression::Parse builds an immutable tree (no recursion
// deeper than kMaxDepth on untrusted input), Evaluate runs it over aligned time series.
//
// Supported (docs/compat/cloudwatch.md lists the same):
//   numbers, query ids (m1, e1), parentheses;
//   arithmetic + - * / ^ and unary -; comparisons > < >= <= == != (1/0 results); AND, OR (also
//   && ||) and NOT;
//   functions: METRICS(), METRICS("substring of id or label"), SUM, AVG, MIN, MAX, STDDEV
//   (of an array: a time series per timestamp; of one time series: a scalar), ABS, CEIL, FLOOR,
//   SQRT, LOG, LOG10, EXP, FILL(x, value | REPEAT | LINEAR), IF(cond, a[, b]), DIFF, RATE,
//   PERIOD, RUNNING_SUM, FIRST/LAST (of an array).
// Semantics: a missing value in an arithmetic operand gives a missing result; SUM/AVG/MIN/MAX
// over an array skip missing values (all missing → missing); a scalar broadcasts over a series;
// an operation between an array and a series or scalar applies to each series of the array.
//
// Thread-safety: a parsed Expression is immutable and may be shared between threads.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "alarms/types.h"

namespace klaxon::alarms {

// Values of one time series on a grid of windows (index 0 = oldest); nullopt = missing.
using TimeSeries = std::vector<std::optional<double>>;

struct MathValue {
  enum class Kind { kScalar, kSeries, kArray };
  Kind kind = Kind::kScalar;
  double scalar = 0;
  TimeSeries series;
  std::vector<TimeSeries> array;
  std::vector<std::string> labels;  // per array member
};

class Expression {
 public:
  static constexpr int kMaxDepth = 64;

  // Errors: InvalidArgument with the position and what was expected.
  static absl::StatusOr<Expression> Parse(std::string_view text);

  // Query ids the expression names directly (not through METRICS()).
  const std::vector<std::string>& references() const { return references_; }
  bool uses_metrics_function() const { return uses_metrics_; }
  const std::string& text() const { return text_; }

  struct Node;
  struct Context {
    int n = 0;                    // windows on the grid
    int64_t period_seconds = 60;  // for RATE and PERIOD
    // The value of query `id`, or an error (unknown id, cycle, failed dependency).
    std::function<absl::StatusOr<MathValue>(const std::string& id)> lookup;
    // METRICS(): every MetricStat query of the request, in order: (id, label, series).
    std::vector<std::tuple<std::string, std::string, const TimeSeries*>> metrics;
  };
  // Errors: InvalidArgument (unknown id or function, wrong argument kinds).
  absl::StatusOr<MathValue> Evaluate(const Context& ctx) const;

 private:
  std::shared_ptr<const Node> root_;
  std::vector<std::string> references_;
  bool uses_metrics_ = false;
  std::string text_;
};

// Evaluates the MetricDataQuery list of a GetMetricData call or a metric-math alarm on one grid:
// windows [start + i*period, ...), i < n. `fetch` returns the series of a MetricStat on that grid.
// Returns every query's value by id (MetricStat queries as series). Errors: InvalidArgument for
// invalid expressions, unknown or cyclic references, duplicate ids.
using MetricFetch = std::function<TimeSeries(const MetricStat& stat)>;
absl::StatusOr<std::map<std::string, MathValue>> EvaluateQueries(
    const std::vector<MetricDataQuery>& queries, int n, int64_t period_seconds,
    const MetricFetch& fetch);

// Checks a query list the way PutMetricAlarm does: ids unique and lowercase-initial, each query
// has exactly one of MetricStat / Expression, expressions parse and reference known ids, exactly
// one query returns data. Errors: InvalidArgument with AWS-like messages.
absl::Status ValidateAlarmQueries(const std::vector<MetricDataQuery>& queries);

}  // namespace klaxon::alarms
