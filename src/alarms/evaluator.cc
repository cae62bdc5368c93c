#include "alarms/evaluator.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace klaxon::alarms {
namespace {

std::string_view ComparisonPhrase(Comparison op) {
  switch (op) {
    case Comparison::kGreaterThanOrEqualToThreshold:
      return "greater than or equal to";
    case Comparison::kGreaterThanThreshold:
      return "greater than";
    case Comparison::kLessThanThreshold:
      return "less than";
    case Comparison::kLessThanOrEqualToThreshold:
      return "less than or equal to";
  }
  return "greater than";
}

const char* Plural(int n) { return n == 1 ? "" : "s"; }
const char* WasWere(int n) { return n == 1 ? "was" : "were"; }

absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// A JSON string literal (reason data is written by hand so that numbers keep Java's format).
std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

struct Point {
  int age;  // 0 = newest period
  const RangeDatapoint* dp;
  bool breach;
};

std::string ListPoints(const std::vector<const Point*>& points) {
  std::vector<std::string> parts;
  parts.reserve(points.size());
  for (const Point* p : points) {
    parts.push_back(
        absl::StrCat(FormatJavaDouble(*p->dp->value), " (", FormatReasonDate(p->dp->start), ")"));
  }
  return absl::StrCat("[", absl::StrJoin(parts, ", "), "]");
}

std::string ReasonData(const EvaluationSettings& s, const std::vector<Point>& evaluated,
                       const std::vector<RangeDatapoint>& range, absl::Time now) {
  absl::Time start = range.empty()
                         ? EvaluationEnd(now, s.period_seconds) - absl::Seconds(s.period_seconds)
                         : range.front().start;
  int oldest_age = 0;
  for (const Point& p : evaluated) oldest_age = std::max(oldest_age, p.age);
  if (!evaluated.empty()) start = range[oldest_age].start;
  std::string out =
      absl::StrCat("{\"version\":\"1.0\",\"queryDate\":", JsonString(FormatAwsMillis(now)),
                   ",\"startDate\":", JsonString(FormatAwsMillis(start)));
  if (!s.statistic.empty()) absl::StrAppend(&out, ",\"statistic\":", JsonString(s.statistic));
  if (!s.extended_statistic.empty()) {
    absl::StrAppend(&out, ",\"extendedStatistic\":", JsonString(s.extended_statistic));
  }
  absl::StrAppend(&out, ",\"period\":", s.period_seconds, ",\"recentDatapoints\":[");
  // Oldest first, as a chart reads.
  bool first = true;
  for (auto it = evaluated.rbegin(); it != evaluated.rend(); ++it) {
    if (!it->dp->value) continue;
    absl::StrAppend(&out, first ? "" : ",", FormatJavaDouble(*it->dp->value));
    first = false;
  }
  absl::StrAppend(&out, "],\"threshold\":", FormatJavaDouble(s.threshold),
                  ",\"evaluatedDatapoints\":[");
  first = true;
  for (const Point& p : evaluated) {
    absl::StrAppend(&out, first ? "" : ",",
                    "{\"timestamp\":", JsonString(FormatAwsMillis(p.dp->start)));
    if (p.dp->value) {
      absl::StrAppend(&out, ",\"sampleCount\":", FormatJavaDouble(p.dp->sample_count),
                      ",\"value\":", FormatJavaDouble(*p.dp->value));
    }
    out.push_back('}');
    first = false;
  }
  out += "]}";
  return out;
}

}  // namespace

absl::Time EvaluationEnd(absl::Time now, int period_seconds) {
  const int64_t granularity = period_seconds < 60 ? 10 : 60;
  int64_t s = absl::ToUnixSeconds(now);
  int64_t q = s / granularity;
  if (s % granularity != 0 && s < 0) --q;
  return absl::FromUnixSeconds(q * granularity);
}

Evaluation Evaluate(const EvaluationSettings& s, StateValue current,
                    const std::vector<RangeDatapoint>& range, absl::Time now) {
  const int n = std::max(1, s.evaluation_periods);
  const int m = std::clamp(s.datapoints_to_alarm, 1, n);
  const int r = EvaluationRange(n);

  std::vector<Point> real;  // newest first
  for (int i = 0; i < std::min<int>(r, range.size()); ++i) {
    if (range[i].value) {
      real.push_back({i, &range[i], Breaches(s.comparison, *range[i].value, s.threshold)});
    }
  }

  Evaluation out;
  // Reasons are formatted only for a change (the common no-change evaluation stays cheap).
  auto finish = [&](StateValue state, std::string reason, const std::vector<Point>& evaluated) {
    out.state = state;
    out.change = state != current;
    if (out.change) {
      out.reason = std::move(reason);
      out.reason_data = ReasonData(s, evaluated, range, now);
    }
    return out;
  };
  auto keep = [&]() {
    out.change = false;
    out.state = current;
    return out;
  };

  // The evaluated real datapoints and how many filled ones join them.
  std::vector<Point> evaluated;
  int filled = 0;
  bool fill_breaches = false;
  bool premature = false;
  if (static_cast<int>(real.size()) >= n) {
    evaluated.assign(real.begin(), real.begin() + n);
  } else {
    evaluated = real;
    switch (s.treat_missing) {
      case TreatMissing::kBreaching:
        filled = n - static_cast<int>(real.size());
        fill_breaches = true;
        break;
      case TreatMissing::kNotBreaching:
        filled = n - static_cast<int>(real.size());
        break;
      case TreatMissing::kMissing:
      case TreatMissing::kIgnore: {
        if (real.empty()) {
          if (s.treat_missing == TreatMissing::kIgnore) return keep();
          if (current == StateValue::kInsufficientData) return keep();
          return finish(StateValue::kInsufficientData,
                        absl::StrCat("Insufficient Data: ", n, " datapoint", Plural(n), " ",
                                     WasWere(n), " unknown."),
                        evaluated);
        }
        bool all_breach =
            std::all_of(real.begin(), real.end(), [](const Point& p) { return p.breach; });
        if (all_breach && real.back().age + 1 >= m) {
          if (s.treat_missing == TreatMissing::kIgnore) return keep();
          premature = true;
        }
        break;
      }
    }
  }

  // Low sample count percentiles.
  if (s.low_sample_ignore_percentile) {
    double p = *s.low_sample_ignore_percentile;
    double needed = p >= 100 ? HUGE_VAL : std::ceil(1.0 / (1.0 - p / 100.0) - 1e-9);
    for (const Point& pt : evaluated) {
      if (pt.dp->sample_count < needed) return keep();
    }
  }

  int breaching = filled * (fill_breaches ? 1 : 0);
  for (const Point& p : evaluated) breaching += p.breach ? 1 : 0;
  const bool alarm = premature || breaching >= m;
  const StateValue next = alarm ? StateValue::kAlarm : StateValue::kOk;
  if (next == current) return finish(next, "", evaluated);

  std::vector<const Point*> crossing;  // the real datapoints on the side of the new state
  for (const Point& p : evaluated) {
    if (p.breach == alarm) crossing.push_back(&p);
  }
  const bool fills_count = filled > 0 && fill_breaches == alarm;
  std::string transition = absl::StrCat(Absl(StateName(current)), " -> ", Absl(StateName(next)));
  std::string reason;
  if (crossing.empty() && fills_count) {
    reason = absl::StrCat("Threshold Crossed: no datapoints were received for ", filled, " period",
                          Plural(filled), " and ", filled, " missing datapoint", Plural(filled),
                          " ", WasWere(filled), " treated as [",
                          fill_breaches ? "Breaching" : "NonBreaching", "].");
  } else {
    const int total = static_cast<int>(evaluated.size()) + filled;
    const int minimum = alarm ? m : n - m + 1;
    reason = absl::StrCat("Threshold Crossed: ", crossing.size(), " out of the last ", total,
                          " datapoints ", ListPoints(crossing), " ",
                          WasWere(static_cast<int>(crossing.size())), alarm ? " " : " not ",
                          Absl(ComparisonPhrase(s.comparison)), " the threshold (",
                          FormatJavaDouble(s.threshold), ")");
    if (fills_count) {
      absl::StrAppend(&reason, " and ", filled, " missing datapoint", Plural(filled), " ",
                      WasWere(filled), " treated as [",
                      fill_breaches ? "Breaching" : "NonBreaching", "]");
    }
    absl::StrAppend(&reason, " (minimum ", minimum, " datapoint", Plural(minimum), " for ",
                    transition, " transition).");
  }
  return finish(next, std::move(reason), evaluated);
}

}  // namespace klaxon::alarms
