#include "alarms/types.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace klaxon::alarms {
namespace {

absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

constexpr std::string_view kUnits[] = {"Seconds",
                                       "Microseconds",
                                       "Milliseconds",
                                       "Bytes",
                                       "Kilobytes",
                                       "Megabytes",
                                       "Gigabytes",
                                       "Terabytes",
                                       "Bits",
                                       "Kilobits",
                                       "Megabits",
                                       "Gigabits",
                                       "Terabits",
                                       "Percent",
                                       "Count",
                                       "Bytes/Second",
                                       "Kilobytes/Second",
                                       "Megabytes/Second",
                                       "Gigabytes/Second",
                                       "Terabytes/Second",
                                       "Bits/Second",
                                       "Kilobits/Second",
                                       "Megabits/Second",
                                       "Gigabits/Second",
                                       "Terabits/Second",
                                       "Count/Second",
                                       "None"};

absl::Status BadStat(std::string_view text) {
  return absl::InvalidArgumentError(absl::StrCat("The statistic '", Absl(text), "' is not valid."));
}

bool ParseNumber(std::string_view s, double* out) {
  if (s.empty()) return false;
  return absl::SimpleAtod(Absl(s), out) && std::isfinite(*out);
}

// "a%:b%" / "a:b" / ":b" / "a:" → range into `stat`.
absl::Status ParseRange(std::string_view text, std::string_view inner, Stat& stat) {
  size_t colon = inner.find(':');
  if (colon == std::string_view::npos) return BadStat(text);
  std::string_view a = inner.substr(0, colon);
  std::string_view b = inner.substr(colon + 1);
  bool a_pct = !a.empty() && a.back() == '%';
  bool b_pct = !b.empty() && b.back() == '%';
  if (a_pct) a.remove_suffix(1);
  if (b_pct) b.remove_suffix(1);
  if (a.empty() && b.empty()) return BadStat(text);
  // Both bounds are percentages or both absolute (a missing bound takes the other's kind).
  bool percent = a.empty() ? b_pct : a_pct;
  if (!a.empty() && !b.empty() && a_pct != b_pct) return BadStat(text);
  stat.percent = percent;
  stat.lo = percent ? 0 : -HUGE_VAL;
  stat.hi = percent ? 100 : HUGE_VAL;
  if (!a.empty() && !ParseNumber(a, &stat.lo)) return BadStat(text);
  if (!b.empty() && !ParseNumber(b, &stat.hi)) return BadStat(text);
  if (percent && (stat.lo < 0 || stat.hi > 100)) return BadStat(text);
  if (stat.lo > stat.hi) return BadStat(text);
  return absl::OkStatus();
}

}  // namespace

void MetricId::Normalize() { std::sort(dimensions.begin(), dimensions.end()); }

std::string MetricId::Key() const {
  std::string key;
  key.reserve(ns.size() + name.size() + 2 + dimensions.size() * 24);
  key.append(ns).push_back('\x1f');
  key.append(name);
  for (const Dimension& d : dimensions) {
    key.push_back('\x1f');
    key.append(d.name).push_back('\x1e');
    key.append(d.value);
  }
  return key;
}

bool IsValidUnit(std::string_view unit) {
  return std::find(std::begin(kUnits), std::end(kUnits), unit) != std::end(kUnits);
}

absl::StatusOr<Stat> ParseStandardStat(std::string_view text) {
  static constexpr std::pair<std::string_view, StatKind> kStandard[] = {
      {"SampleCount", StatKind::kSampleCount},
      {"Average", StatKind::kAverage},
      {"Sum", StatKind::kSum},
      {"Minimum", StatKind::kMinimum},
      {"Maximum", StatKind::kMaximum}};
  for (const auto& [name, kind] : kStandard) {
    if (text == name) {
      Stat stat;
      stat.kind = kind;
      stat.text = std::string(text);
      return stat;
    }
  }
  return BadStat(text);
}

absl::StatusOr<Stat> ParseStat(std::string_view text) {
  if (auto standard = ParseStandardStat(text); standard.ok()) return standard;
  Stat stat;
  stat.text = std::string(text);
  if (text == "IQM") {
    stat.kind = StatKind::kInterquartileMean;
    stat.lo = 25;
    stat.hi = 75;
    return stat;
  }
  // Function forms: TM(a:b), TC(..), TS(..), WM(..), PR(..).
  static constexpr std::pair<std::string_view, StatKind> kRangeForms[] = {
      {"TM", StatKind::kTrimmedMean},
      {"TC", StatKind::kTrimmedCount},
      {"TS", StatKind::kTrimmedSum},
      {"WM", StatKind::kWinsorizedMean},
      {"PR", StatKind::kPercentileRank}};
  if (text.size() > 4 && text[2] == '(' && text.back() == ')') {
    std::string upper = absl::AsciiStrToUpper(Absl(text.substr(0, 2)));
    for (const auto& [name, kind] : kRangeForms) {
      if (upper != name) continue;
      stat.kind = kind;
      std::string_view inner = text.substr(3, text.size() - 4);
      if (auto s = ParseRange(text, inner, stat); !s.ok()) return s;
      // PR's bounds are values (the result is a percentage); the others accept both forms.
      if (kind == StatKind::kPercentileRank && stat.percent &&
          inner.find('%') != std::string_view::npos) {
        return BadStat(text);
      }
      if (kind == StatKind::kPercentileRank) {
        stat.percent = false;
        if (inner.front() == ':') stat.lo = -HUGE_VAL;
        if (inner.back() == ':') stat.hi = HUGE_VAL;
      }
      return stat;
    }
    return BadStat(text);
  }
  // Short forms: pNN, tmNN, tcNN, tsNN, wmNN (NN a percentage, up to two decimals in AWS).
  static constexpr std::pair<std::string_view, StatKind> kShortForms[] = {
      {"tm", StatKind::kTrimmedMean},
      {"tc", StatKind::kTrimmedCount},
      {"ts", StatKind::kTrimmedSum},
      {"wm", StatKind::kWinsorizedMean},
      {"p", StatKind::kPercentile}};
  for (const auto& [prefix, kind] : kShortForms) {
    if (text.size() <= prefix.size() || text.substr(0, prefix.size()) != prefix) continue;
    std::string_view number = text.substr(prefix.size());
    double v = 0;
    if (!ParseNumber(number, &v) || v < 0 || v > 100 || number.front() == '+' ||
        number.front() == '-') {
      return BadStat(text);
    }
    stat.kind = kind;
    stat.percent = true;
    stat.lo = 0;
    stat.hi = v;
    return stat;
  }
  return BadStat(text);
}

std::string_view StateName(StateValue state) {
  switch (state) {
    case StateValue::kOk:
      return "OK";
    case StateValue::kAlarm:
      return "ALARM";
    case StateValue::kInsufficientData:
      return "INSUFFICIENT_DATA";
  }
  return "INSUFFICIENT_DATA";
}

std::optional<StateValue> ParseState(std::string_view name) {
  if (name == "OK") return StateValue::kOk;
  if (name == "ALARM") return StateValue::kAlarm;
  if (name == "INSUFFICIENT_DATA") return StateValue::kInsufficientData;
  return std::nullopt;
}

std::string_view ComparisonName(Comparison op) {
  switch (op) {
    case Comparison::kGreaterThanOrEqualToThreshold:
      return "GreaterThanOrEqualToThreshold";
    case Comparison::kGreaterThanThreshold:
      return "GreaterThanThreshold";
    case Comparison::kLessThanThreshold:
      return "LessThanThreshold";
    case Comparison::kLessThanOrEqualToThreshold:
      return "LessThanOrEqualToThreshold";
  }
  return "GreaterThanThreshold";
}

std::optional<Comparison> ParseComparison(std::string_view name) {
  for (Comparison op :
       {Comparison::kGreaterThanOrEqualToThreshold, Comparison::kGreaterThanThreshold,
        Comparison::kLessThanThreshold, Comparison::kLessThanOrEqualToThreshold}) {
    if (ComparisonName(op) == name) return op;
  }
  return std::nullopt;
}

bool Breaches(Comparison op, double value, double threshold) {
  switch (op) {
    case Comparison::kGreaterThanOrEqualToThreshold:
      return value >= threshold;
    case Comparison::kGreaterThanThreshold:
      return value > threshold;
    case Comparison::kLessThanThreshold:
      return value < threshold;
    case Comparison::kLessThanOrEqualToThreshold:
      return value <= threshold;
  }
  return false;
}

std::string_view TreatMissingName(TreatMissing treat) {
  switch (treat) {
    case TreatMissing::kMissing:
      return "missing";
    case TreatMissing::kIgnore:
      return "ignore";
    case TreatMissing::kBreaching:
      return "breaching";
    case TreatMissing::kNotBreaching:
      return "notBreaching";
  }
  return "missing";
}

std::optional<TreatMissing> ParseTreatMissing(std::string_view name) {
  for (TreatMissing t : {TreatMissing::kMissing, TreatMissing::kIgnore, TreatMissing::kBreaching,
                         TreatMissing::kNotBreaching}) {
    if (TreatMissingName(t) == name) return t;
  }
  return std::nullopt;
}

int MetricAlarm::EvaluationPeriod() const {
  if (period) return *period;
  for (const MetricDataQuery& q : metrics) {
    if (!q.return_data) continue;
    if (q.metric_stat) return q.metric_stat->period;
    if (q.period) return *q.period;
  }
  // An expression without its own period uses the period of its inputs.
  for (const MetricDataQuery& q : metrics) {
    if (q.metric_stat) return q.metric_stat->period;
  }
  return 60;
}

TreatMissing MetricAlarm::EffectiveTreatMissing() const {
  if (treat_missing_data) {
    if (auto t = ParseTreatMissing(*treat_missing_data)) return *t;
  }
  if (metric && metric->ns == "AWS/DynamoDB") return TreatMissing::kIgnore;
  return TreatMissing::kMissing;
}

std::string_view AlarmTypeName(AlarmType type) {
  return type == AlarmType::kMetricAlarm ? "MetricAlarm" : "CompositeAlarm";
}

std::string_view HistoryItemTypeName(HistoryItemType type) {
  switch (type) {
    case HistoryItemType::kConfigurationUpdate:
      return "ConfigurationUpdate";
    case HistoryItemType::kStateUpdate:
      return "StateUpdate";
    case HistoryItemType::kAction:
      return "Action";
  }
  return "StateUpdate";
}

std::optional<HistoryItemType> ParseHistoryItemType(std::string_view name) {
  for (HistoryItemType t : {HistoryItemType::kConfigurationUpdate, HistoryItemType::kStateUpdate,
                            HistoryItemType::kAction}) {
    if (HistoryItemTypeName(t) == name) return t;
  }
  return std::nullopt;
}

std::string AlarmArn(std::string_view region, std::string_view account, std::string_view name) {
  return absl::StrCat("arn:aws:cloudwatch:", Absl(region), ":", Absl(account),
                      ":alarm:", Absl(name));
}

// Hand-rolled (absl::FormatTime is slow, and reasons are formatted for every transition).
std::string FormatAwsMillis(absl::Time t) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilSecond cs = absl::ToCivilSecond(t, utc);
  const int64_t millis = absl::ToInt64Milliseconds(t - absl::FromCivil(cs, utc)) % 1000;
  char buf[40];
  snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03d+0000", static_cast<int>(cs.year()),
           cs.month(), cs.day(), cs.hour(), cs.minute(), cs.second(), static_cast<int>(millis));
  return buf;
}

std::string FormatReasonDate(absl::Time t) {
  const absl::CivilSecond cs = absl::ToCivilSecond(t, absl::UTCTimeZone());
  char buf[32];
  snprintf(buf, sizeof(buf), "%02d/%02d/%02d %02d:%02d:%02d", cs.day(), cs.month(),
           static_cast<int>(cs.year() % 100), cs.hour(), cs.minute(), cs.second());
  return buf;
}

std::string FormatCompositeDate(absl::Time t) {
  return absl::FormatTime("%A %d %B, %Y %H:%M:%S UTC", t, absl::UTCTimeZone());
}

std::string FormatJavaDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  // Shortest round-trip digits in scientific form: "d.dddde±XX".
  std::array<char, 64> buf;
  auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::scientific);
  std::string sci(buf.data(), res.ptr);
  bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  size_t e = sci.find('e');
  std::string mantissa = sci.substr(0, e);
  int exponent = std::atoi(sci.c_str() + e + 1);
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits.push_back(c);
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out = negative ? "-" : "";
  double a = std::fabs(v);
  if (a >= 1e-3 && a < 1e7) {
    if (exponent >= 0) {
      const size_t int_digits = static_cast<size_t>(exponent) + 1;
      std::string int_part = digits.substr(0, std::min(digits.size(), int_digits));
      while (int_part.size() < int_digits) int_part.push_back('0');
      std::string frac = digits.size() > int_digits ? digits.substr(int_digits) : std::string("0");
      out += int_part + "." + frac;
    } else {
      out += "0." + std::string(-exponent - 1, '0') + digits;
    }
    return out;
  }
  out += digits.substr(0, 1) + "." + (digits.size() > 1 ? digits.substr(1) : std::string("0"));
  out += "E" + std::to_string(exponent);
  return out;
}

}  // namespace klaxon::alarms
