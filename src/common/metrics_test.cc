#include "common/metrics.h"

#include "gtest/gtest.h"

namespace klaxon::metrics {
namespace {

TEST(Registry, RendersCountersAndHistograms) {
  Registry r;
  r.GetCounter("klaxon_requests_total", "Requests", {{"operation", "StartIncident"}}).Add(3);
  r.GetCounter("klaxon_requests_total", "Requests", {{"operation", "StartIncident"}}).Add();
  auto& h = r.GetHistogram("klaxon_latency_seconds", "Latency", {}, {0.1, 1});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(5);
  std::string text = r.Render();
  EXPECT_NE(text.find("klaxon_requests_total{operation=\"StartIncident\"} 4\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("klaxon_latency_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("klaxon_latency_seconds_bucket{le=\"1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("klaxon_latency_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("klaxon_latency_seconds_count 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE klaxon_latency_seconds histogram"), std::string::npos);
}

}  // namespace
}  // namespace klaxon::metrics
