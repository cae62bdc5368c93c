// CPU cost of the request path before the domain handler (Google Benchmark): decoding and
// validating a JSON-protocol body against the service model, as the dispatcher does for every
// request. Bodies have the shape of the load generators' requests:
//   BM_DecodePutMetricData  CloudWatch PutMetricData, 1000 datums with one Value and a dimension
//                           (bench/alarms/put_metric_load);
//   BM_DecodePutEvents      EventBridge PutEvents, 10 entries (bench/events/events_load).

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "api/http/message.h"
#include "api/model/model_registry.h"
#include "api/protocol/json_rpc.h"
#include "benchmark/benchmark.h"

namespace {

using klaxon::api::HttpRequest;
namespace model = klaxon::api::model;
namespace protocol = klaxon::api::protocol;

std::string PutMetricDataBody(int datums) {
  std::string body = R"({"Namespace":"Bench/App","MetricData":[)";
  for (int i = 0; i < datums; ++i) {
    absl::StrAppend(&body, i ? "," : "",
                    absl::StrFormat(R"({"MetricName":"Latency%d","Dimensions":[{"Name":"Host",)"
                                    R"("Value":"host-%d"}],"Value":%d.5,"Unit":"Milliseconds"})",
                                    i % 10, i, i));
  }
  body += "]}";
  return body;
}

std::string PutEventsBody() {
  std::string body = R"({"Entries":[)";
  for (int e = 0; e < 10; ++e) {
    absl::StrAppend(
        &body, e ? "," : "",
        R"({"Source":"bench.app","DetailType":"Order Failed","Resources":["arn:aws:ecs:us-east-1:000000000000:service/svc-none"],"Detail":"{\"service\":\"svc-none\",\"severity\":2,\"env\":\"prod\",\"order\":{\"id\":\"o-12345\",\"amount\":99.5,\"items\":[1,2,3]}}"})");
  }
  body += "]}";
  return body;
}

void Decode(benchmark::State& state, const char* service_name, const char* operation,
            protocol::Protocol wire, std::string body, int64_t items) {
  const model::ModelRegistry& models = model::ModelRegistry::Embedded();
  const model::ServiceModel* service = models.Find(service_name);
  const model::Operation* op = service ? service->FindOperation(operation) : nullptr;
  if (op == nullptr) {
    state.SkipWithError("operation not modeled");
    return;
  }
  protocol::JsonRpcCodec codec(wire);
  HttpRequest request;
  request.method = "POST";
  request.target = "/";
  request.body = std::move(body);
  for (auto _ : state) {
    auto input = codec.DecodeInput(request, *service, *op);
    if (!input.ok()) {
      state.SkipWithError(std::string(input.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(input);
  }
  state.SetItemsProcessed(state.iterations() * items);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(request.body.size()));
}

void BM_DecodePutMetricData(benchmark::State& state) {
  Decode(state, "cloudwatch", "PutMetricData", protocol::Protocol::kAwsJson10,
         PutMetricDataBody(1000), 1000);
}
BENCHMARK(BM_DecodePutMetricData)->Unit(benchmark::kMicrosecond);

void BM_DecodePutEvents(benchmark::State& state) {
  Decode(state, "events", "PutEvents", protocol::Protocol::kAwsJson11, PutEventsBody(), 10);
}
BENCHMARK(BM_DecodePutEvents)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
