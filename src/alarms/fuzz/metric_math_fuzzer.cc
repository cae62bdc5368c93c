// libFuzzer target: metric math expressions (GetMetricData / PutMetricAlarm input) parsed and
// evaluated over two small series with missing values.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "alarms/metric_math.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace klaxon::alarms;
  std::string text(reinterpret_cast<const char*>(data), size);
  MetricDataQuery m1;
  m1.id = "m1";
  m1.metric_stat = MetricStat{MetricId{"A", "a", {}}, 60, "Sum", std::nullopt};
  m1.return_data = false;
  MetricDataQuery m2 = m1;
  m2.id = "m2";
  m2.metric_stat->metric.name = "b";
  MetricDataQuery e1;
  e1.id = "e1";
  e1.expression = text;
  auto fetch = [](const MetricStat& s) {
    if (s.metric.name == "a") return TimeSeries{1.0, std::nullopt, 3.0, -4.0, 0.0};
    return TimeSeries{std::nullopt, 2.0, 0.0, 8.0, 1e300};
  };
  (void)EvaluateQueries({m1, m2, e1}, 5, 60, fetch);
  (void)ValidateAlarmQueries({m1, m2, e1});
  return 0;
}
