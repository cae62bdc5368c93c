// Cost of verifying one SigV4-signed request (Google Benchmark).

#include <string>

#include "api/http/sigv4.h"
#include "benchmark/benchmark.h"
#include "common/clock.h"

namespace {

using klaxon::api::HttpRequest;

HttpRequest StartIncidentRequest(absl::Time now, size_t body_size) {
  HttpRequest request;
  request.method = "POST";
  request.target = "/startIncident";
  request.headers = {{"Host", "127.0.0.1:4566"},
                     {"Content-Type", "application/json"},
                     {"User-Agent", "aws-cli/2.9.19"}};
  request.body = "{\"responsePlanArn\":\"arn:aws:ssm-incidents::000000000000:response-plan/p\",";
  request.body += "\"title\":\"" + std::string(body_size, 'x') + "\"}";
  klaxon::api::sigv4::SignRequest(request, {"test", "test", "000000000000", ""}, "us-east-1",
                                  "ssm-incidents", now);
  return request;
}

void BM_Authenticate(benchmark::State& state) {
  klaxon::SimulatedClock clock;
  klaxon::api::SigV4Authenticator auth(klaxon::api::KeyStore::Default(), clock);
  HttpRequest request = StartIncidentRequest(clock.Now(), static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    auto caller = auth.Authenticate(request);
    if (!caller.ok()) state.SkipWithError("authentication failed");
    benchmark::DoNotOptimize(caller);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(request.body.size()));
}
BENCHMARK(BM_Authenticate)->Arg(64)->Arg(4096)->Arg(65536);

void BM_DeriveSigningKey(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(klaxon::api::sigv4::DeriveSigningKey(
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "ssm-incidents"));
  }
}
BENCHMARK(BM_DeriveSigningKey);

void BM_CanonicalUri(benchmark::State& state) {
  const std::string path =
      "/tags/arn%3Aaws%3Assm-incidents%3A%3A111122223333%3Aresponse-plan%2Fmyplan";
  for (auto _ : state) benchmark::DoNotOptimize(klaxon::api::sigv4::CanonicalUri(path));
}
BENCHMARK(BM_CanonicalUri);

}  // namespace

BENCHMARK_MAIN();
