// PutMetricData load over HTTP against a running klaxon: AWS JSON 1.0 (what current boto3 sends),
// SigV4-signed (own signer), keep-alive connections, each request a batch of MetricDatum.
//
//   put_metric_load --endpoint 127.0.0.1:4566 [--connections 16] [--seconds 10]
//                   [--datums 1000] [--values 1]
//
// Prints datapoints/s (values count individually), requests/s, errors, latency percentiles.

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

std::string Body(int connection, int datums, int values, int64_t epoch) {
  std::string body = R"({"Namespace":"Load","MetricData":[)";
  for (int i = 0; i < datums; ++i) {
    if (i) body += ",";
    absl::StrAppend(&body, R"({"MetricName":"Latency","Unit":"Milliseconds","Timestamp":)", epoch,
                    R"(,"Dimensions":[{"Name":"Host","Value":"h)", connection, "-", i % 100,
                    R"("},{"Name":"Route","Value":"/r)", i / 100, R"("}],)");
    if (values > 1) {
      body += R"("Values":[)";
      for (int k = 0; k < values; ++k) absl::StrAppend(&body, k ? "," : "", i + k * 0.5);
      body += "]}";
    } else {
      absl::StrAppend(&body, R"("Value":)", i * 0.25, "}");
    }
  }
  body += "]}";
  return body;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1", port = "4566";
  int connections = 16, datums = 1000, values = 1;
  double seconds = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--endpoint") {
      auto colon = value.rfind(':');
      host = value.substr(0, colon);
      port = value.substr(colon + 1);
    } else if (flag == "--connections") {
      connections = std::stoi(value);
    } else if (flag == "--seconds") {
      seconds = std::stod(value);
    } else if (flag == "--datums") {
      datums = std::stoi(value);
    } else if (flag == "--values") {
      values = std::stoi(value);
    } else {
      std::cerr << "put_metric_load: unknown flag " << flag << "\n";
      return 2;
    }
  }
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> ok{0}, errors{0};
  std::mutex mu;
  std::vector<double> latencies;
  std::vector<std::thread> threads;
  const int64_t epoch = absl::ToUnixSeconds(absl::Now()) - 120;
  const std::string authority = absl::StrCat(host, ":", port);
  threads.reserve(connections);
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      try {
        boost::asio::io_context ioc;
        beast::tcp_stream stream(ioc);
        tcp::resolver resolver(ioc);
        stream.connect(resolver.resolve(host, port));
        beast::flat_buffer buffer;
        const std::string body = Body(c, datums, values, epoch);
        std::vector<double> local;
        while (!stop.load()) {
          http::request<http::string_body> req{http::verb::post, "/", 11};
          req.set(http::field::content_type, "application/x-amz-json-1.0");
          req.set("X-Amz-Target", "GraniteServiceVersion20100801.PutMetricData");
          req.set("x-amzn-query-mode", "true");
          req.body() = body;
          klaxon::bench::Signer().Sign(req, "monitoring", authority);
          auto t0 = std::chrono::steady_clock::now();
          http::write(stream, req);
          http::response<http::string_body> res;
          http::read(stream, buffer, res);
          double ms =
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                  .count();
          if (res.result_int() == 200) {
            ok.fetch_add(1);
            local.push_back(ms);
          } else {
            if (errors.fetch_add(1) == 0) std::cerr << "put_metric_load: " << res.body() << "\n";
          }
        }
        std::lock_guard<std::mutex> lock(mu);
        latencies.insert(latencies.end(), local.begin(), local.end());
      } catch (const std::exception& e) {
        errors.fetch_add(1);
        std::cerr << "put_metric_load: connection error: " << e.what() << "\n";
      }
    });
  }
  auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty() ? 0.0
                             : latencies[std::min(latencies.size() - 1,
                                                  static_cast<size_t>(p * latencies.size()))];
  };
  std::printf(
      "PutMetricData over HTTP (JSON 1.0, SigV4): connections=%d datums/request=%d values/datum=%d "
      "%.0f datapoints/s %.0f requests/s errors=%llu p50=%.1fms p99=%.1fms\n",
      connections, datums, values, ok.load() * double(datums) * values / elapsed,
      ok.load() / elapsed, static_cast<unsigned long long>(errors.load()), pct(0.5), pct(0.99));
  return errors.load() == 0 ? 0 : 1;
}
