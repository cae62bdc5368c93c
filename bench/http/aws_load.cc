// A load generator for klaxon's AWS APIs over HTTP with SigV4, used by `make bench`.
//
//   aws_load --endpoint 127.0.0.1:4566
//       --scenario start-incident-new|start-incident-dedup|start-incident-dedup-recorded
//            [--connections 32] [--seconds 10] [--warmup 2] [--client-token]
//
// --client-token gives every StartIncident its own clientToken, as the AWS SDKs and CLI do (they
// generate one per call): each call then also records its token, a dedup hit included.
//
// Each connection is one thread with a keep-alive socket sending signed requests back to back.
// It prints requests/s, errors and latency percentiles. Signing is implemented here independently
// of the server's verifier (OpenSSL HMAC), so the benchmark also cross-checks the server.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "load/aws_signer.h"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "4566";
  std::string scenario = "start-incident-new";
  int connections = 32;
  double seconds = 10;
  double warmup = 2;
  bool client_token = false;
};

class Connection {
 public:
  Connection(const Options& o) : stream_(ioc_), options_(o) {
    tcp::resolver resolver(ioc_);
    stream_.connect(resolver.resolve(o.host, o.port));
  }

  // Returns the HTTP status.
  int Call(const std::string& path, const std::string& body, const std::string& target = "") {
    http::request<http::string_body> req{http::verb::post, path, 11};
    req.set(http::field::content_type,
            target.empty() ? "application/json" : "application/x-amz-json-1.1");
    if (!target.empty()) req.set("X-Amz-Target", target);
    req.body() = body;
    signer_.Sign(req, target.empty() ? "ssm-incidents" : "ssm",
                 options_.host + ":" + options_.port);
    http::write(stream_, req);
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res);
    last_body_ = std::move(res.body());
    return res.result_int();
  }
  const std::string& last_body() const { return last_body_; }

 private:
  boost::asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  klaxon::bench::Signer signer_;
  const Options& options_;
  std::string last_body_;
};

int Run(const Options& o) {
  Connection setup(o);
  setup.Call("/createReplicationSet", R"({"regions":{"us-east-1":{}}})");  // 409 if it exists
  // start-incident-dedup: every call hits one open incident, whose 1,000-event timeline fills
  // within the warm-up, after which a hit writes nothing (the storm case). Recorded dedup hits
  // (each adds its "SSM Incident Trigger" timeline event, a durable write) rotate over
  // kRecordedPlans open incidents, so that no timeline fills during a run.
  constexpr int kRecordedPlans = 256;
  std::vector<std::string> bodies;
  auto add_plan = [&](const std::string& plan, const std::string& tmpl) -> bool {
    setup.Call("/createResponsePlan",
               absl::StrCat(R"({"name":")", plan, R"(","incidentTemplate":)", tmpl, "}"));
    bodies.push_back(
        absl::StrCat(R"({"responsePlanArn":"arn:aws:ssm-incidents::000000000000:response-plan/)",
                     plan, R"("})"));
    int status = setup.Call("/startIncident", bodies.back());
    if (status != 200) {
      std::cerr << "aws_load: StartIncident failed: " << status << " " << setup.last_body() << "\n";
      return false;
    }
    return true;
  };
  if (o.scenario == "start-incident-dedup") {
    if (!add_plan("bench-dedup", R"({"title":"bench","impact":3,"dedupeString":"bench-dedup"})"))
      return 1;
  } else if (o.scenario == "start-incident-dedup-recorded") {
    const int64_t run = absl::ToUnixSeconds(absl::Now());
    for (int k = 0; k < kRecordedPlans; ++k) {
      std::string name = absl::StrCat("bench-rec-", run, "-", k);
      if (!add_plan(name,
                    absl::StrCat(R"({"title":"bench","impact":3,"dedupeString":")", name, R"("})")))
        return 1;
    }
  } else if (o.scenario == "start-incident-new") {
    if (!add_plan("bench-new", R"({"title":"bench","impact":3})")) return 1;
  } else {
    std::cerr << "aws_load: unknown scenario " << o.scenario << "\n";
    return 2;
  }

  const int64_t start_ns = absl::ToUnixNanos(absl::Now());  // tokens unique across runs
  std::atomic<bool> measuring{false};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> ok{0}, errors{0};
  std::mutex mu;
  std::vector<double> latencies;
  std::vector<std::thread> threads;
  for (int i = 0; i < o.connections; ++i) {
    threads.emplace_back([&, i] {
      try {
        Connection c(o);
        std::vector<double> local;
        uint64_t n = 0;
        size_t next = static_cast<size_t>(i);
        while (!stop.load()) {
          const std::string& body = bodies[next++ % bodies.size()];
          auto t0 = std::chrono::steady_clock::now();
          int st = c.Call("/startIncident", o.client_token
                                                ? absl::StrCat(body.substr(0, body.size() - 1),
                                                               R"(,"clientToken":"bench-)", i, "-",
                                                               n++, "-", start_ns, R"("})")
                                                : body);
          double us =
              std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
                  .count();
          if (!measuring.load()) continue;
          if (st == 200) {
            ok.fetch_add(1);
            local.push_back(us);
          } else {
            errors.fetch_add(1);
          }
        }
        std::lock_guard<std::mutex> lock(mu);
        latencies.insert(latencies.end(), local.begin(), local.end());
      } catch (const std::exception& e) {
        errors.fetch_add(1);
        std::cerr << "aws_load: connection error: " << e.what() << "\n";
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup));
  measuring = true;
  auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  measuring = false;
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stop = true;
  for (auto& t : threads) t.join();
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    if (latencies.empty()) return 0.0;
    return latencies[std::min(latencies.size() - 1, static_cast<size_t>(p * latencies.size()))];
  };
  std::printf(
      "scenario=%s client_token=%d connections=%d seconds=%.1f ok=%llu errors=%llu rate=%.0f/s "
      "p50=%.2fms p99=%.2fms p999=%.2fms\n",
      o.scenario.c_str(), o.client_token, o.connections, elapsed,
      static_cast<unsigned long long>(ok.load()), static_cast<unsigned long long>(errors.load()),
      ok.load() / elapsed, pct(0.50) / 1000, pct(0.99) / 1000, pct(0.999) / 1000);
  return errors.load() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--client-token") {
      o.client_token = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << "aws_load: " << flag << " needs a value\n";
      return 2;
    }
    std::string value = argv[i + 1];
    if (flag == "--endpoint") {
      auto colon = value.rfind(':');
      o.host = value.substr(0, colon);
      o.port = value.substr(colon + 1);
    } else if (flag == "--scenario") {
      o.scenario = value;
    } else if (flag == "--connections") {
      o.connections = std::stoi(value);
    } else if (flag == "--seconds") {
      o.seconds = std::stod(value);
    } else if (flag == "--warmup") {
      o.warmup = std::stod(value);
    } else {
      std::cerr << "aws_load: unknown flag " << flag << "\n";
      return 2;
    }
  }
  try {
    return Run(o);
  } catch (const std::exception& e) {
    std::cerr << "aws_load: " << e.what() << "\n";
    return 1;
  }
}
