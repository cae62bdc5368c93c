// EventBridge load generator: PutEvents over HTTP with SigV4, 10 entries per request, against a
// bus with 1,000 rules, and the latency from PutEvents to the incident being readable.
//
//   events_load --endpoint 127.0.0.1:4566 --scenario accept|queue|latency
//               [--rules 1000] [--connections 32] [--seconds 10] [--warmup 2] [--samples 200]
//
// Scenarios (the setup is idempotent, so scenarios can run one after another on one node):
//   accept   events match none of the 1,000 rules: accepted and matched, nothing to queue.
//   queue    every event matches exactly one rule, whose target is another (empty) event bus:
//            each event is matched, written durably to the outbox in the request's commit and
//            then delivered (a transactional forward), so the figure includes the delivery load.
//   latency  idle node, one event at a time matching one of `samples` rules whose target is a
//            response plan: time from sending PutEvents until ListIncidentRecords shows the
//            incident (polled every 0.2 ms on a second connection).
// Prints events/s (accept, queue) or latency percentiles, plus errors. Signing is implemented
// here independently of the server's verifier (OpenSSL HMAC), as in bench/http/aws_load.cc.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

constexpr char kAccount[] = "000000000000";

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "4566";
  std::string scenario = "accept";
  int rules = 1000;
  int connections = 32;
  double seconds = 10;
  double warmup = 2;
  int samples = 200;
};

class Connection {
 public:
  explicit Connection(const Options& o) : stream_(ioc_), options_(o) {
    tcp::resolver resolver(ioc_);
    stream_.connect(resolver.resolve(o.host, o.port));
    stream_.socket().set_option(tcp::no_delay(true));
  }

  // AWSEvents.<op> (JSON 1.1). Returns the HTTP status.
  int Events(const std::string& op, const std::string& body) {
    return Send("/", body, "AWSEvents." + op, "events");
  }
  // ssm-incidents rest-json.
  int Incidents(const std::string& path, const std::string& body) {
    return Send(path, body, "", "ssm-incidents");
  }
  const std::string& body() const { return body_; }

 private:
  int Send(const std::string& path, const std::string& body, const std::string& target,
           const std::string& service) {
    http::request<http::string_body> req{http::verb::post, path, 11};
    req.set(http::field::content_type,
            target.empty() ? "application/json" : "application/x-amz-json-1.1");
    if (!target.empty()) req.set("X-Amz-Target", target);
    req.body() = body;
    klaxon::bench::Signer().Sign(req, service, options_.host + ":" + options_.port);
    http::write(stream_, req);
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res);
    body_ = std::move(res.body());
    return res.result_int();
  }

  boost::asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  const Options& options_;
  std::string body_;
};

void Require(int status, Connection& c, const std::string& what) {
  if (status == 200) return;
  throw std::runtime_error(absl::StrCat(what, ": HTTP ", status, " ", c.body()));
}

// 1,000 rules of a realistic shape on the default bus: exact source and detail-type, one exact
// service among 1,000, a numeric range on severity, and (every third rule) an anything-but on the
// environment. Each has one target: the empty bus "bench-sink".
void SetUpRules(Connection& c, const Options& o) {
  c.Events("CreateEventBus", R"({"Name":"bench-sink"})");  // 400 if it exists
  for (int i = 0; i < o.rules; ++i) {
    std::string name = absl::StrFormat("bench-%04d", i);
    std::string pattern = absl::StrFormat(
        R"({"source":["bench.app"],"detail-type":["Order Failed"],"detail":{"service":["svc-%04d"],"severity":[{"numeric":[">=",%d]}]%s}})",
        i, i % 3, i % 3 == 0 ? R"(,"env":[{"anything-but":["test"]}])" : "");
    std::string escaped;
    for (char ch : pattern) {
      if (ch == '"') escaped += '\\';
      escaped += ch;
    }
    Require(c.Events("PutRule",
                     absl::StrCat(R"({"Name":")", name, R"(","EventPattern":")", escaped, "\"}")),
            c, "PutRule");
    Require(c.Events("PutTargets",
                     absl::StrCat(R"({"Rule":")", name,
                                  R"(","Targets":[{"Id":"sink","Arn":"arn:aws:events:us-east-1:)",
                                  kAccount, R"(:event-bus/bench-sink"}]})")),
            c, "PutTargets");
  }
}

std::string Entry(const std::string& service, int severity) {
  return absl::StrFormat(
      R"({"Source":"bench.app","DetailType":"Order Failed","Resources":["arn:aws:ecs:us-east-1:000000000000:service/%s"],"Detail":"{\"service\":\"%s\",\"severity\":%d,\"env\":\"prod\",\"order\":{\"id\":\"o-12345\",\"amount\":99.5,\"items\":[1,2,3]}}"})",
      service, service, severity);
}

int RunThroughput(const Options& o) {
  {
    Connection setup(o);
    auto t0 = std::chrono::steady_clock::now();
    SetUpRules(setup, o);
    std::printf("setup: %d rules in %.1fs\n", o.rules,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  const bool match = o.scenario == "queue";
  std::atomic<bool> measuring{false}, stop{false};
  std::atomic<uint64_t> requests{0}, events{0}, errors{0};
  std::mutex mu;
  std::vector<double> latencies;
  std::vector<std::thread> threads;
  for (int i = 0; i < o.connections; ++i) {
    threads.emplace_back([&, i] {
      try {
        Connection c(o);
        std::mt19937 rng(i);
        std::vector<double> local;
        while (!stop.load()) {
          std::string body = R"({"Entries":[)";
          for (int e = 0; e < 10; ++e) {
            std::string service =
                match ? absl::StrFormat("svc-%04d", static_cast<int>(rng() % o.rules)) : "svc-none";
            absl::StrAppend(&body, e ? "," : "", Entry(service, 2));
          }
          body += "]}";
          auto t0 = std::chrono::steady_clock::now();
          int st = c.Events("PutEvents", body);
          double us =
              std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
                  .count();
          if (!measuring.load()) continue;
          if (st == 200 && c.body().find("\"FailedEntryCount\":0") != std::string::npos) {
            requests.fetch_add(1);
            events.fetch_add(10);
            local.push_back(us);
          } else {
            errors.fetch_add(1);
            if (errors.load() < 3) std::cerr << "PutEvents: " << st << " " << c.body() << "\n";
          }
        }
        std::lock_guard<std::mutex> lock(mu);
        latencies.insert(latencies.end(), local.begin(), local.end());
      } catch (const std::exception& e) {
        errors.fetch_add(1);
        std::cerr << "events_load: connection error: " << e.what() << "\n";
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
      "scenario=%s rules=%d connections=%d seconds=%.1f requests=%llu events=%llu errors=%llu "
      "events/s=%.0f requests/s=%.0f request_p50=%.2fms p99=%.2fms\n",
      o.scenario.c_str(), o.rules, o.connections, elapsed,
      static_cast<unsigned long long>(requests.load()),
      static_cast<unsigned long long>(events.load()),
      static_cast<unsigned long long>(errors.load()), events.load() / elapsed,
      requests.load() / elapsed, pct(0.50) / 1000, pct(0.99) / 1000);
  return errors.load() == 0 ? 0 : 1;
}

int RunLatency(const Options& o) {
  Connection c(o);
  c.Incidents("/createReplicationSet", R"({"regions":{"us-east-1":{}}})");  // 409 if it exists
  c.Incidents("/createResponsePlan",
              R"({"name":"bench-latency","incidentTemplate":{"title":"latency","impact":3}})");
  const std::string plan =
      absl::StrCat("arn:aws:ssm-incidents::", kAccount, ":response-plan/bench-latency");
  // One rule per sample: each event opens its own incident (no dedup).
  const std::string run = absl::StrFormat("%x", absl::ToUnixMillis(absl::Now()));
  for (int i = 0; i < o.samples; ++i) {
    std::string name = absl::StrFormat("lat-%s-%03d", run, i);
    Require(
        c.Events(
            "PutRule",
            absl::StrFormat(
                R"({"Name":"%s","EventPattern":"{\"source\":[\"bench.latency\"],\"detail\":{\"run\":[\"%s\"],\"n\":[%d]}}"})",
                name, run, i)),
        c, "PutRule");
    Require(c.Events("PutTargets",
                     absl::StrCat(R"({"Rule":")", name, R"(","Targets":[{"Id":"im","Arn":")", plan,
                                  R"(","RoleArn":"arn:aws:iam::)", kAccount, R"(:role/bench"}]})")),
            c, "PutTargets");
  }
  Connection poll(o);
  std::vector<double> latencies;
  int errors = 0;
  for (int i = 0; i < o.samples; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // idle between samples
    const double after = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()) - 0.001;
    const std::string filter = absl::StrFormat(
        R"({"filters":[{"key":"creationTime","condition":{"after":%.6f}}],"maxResults":10})",
        after);
    auto t0 = std::chrono::steady_clock::now();
    int st = c.Events(
        "PutEvents",
        absl::StrFormat(
            R"({"Entries":[{"Source":"bench.latency","DetailType":"x","Detail":"{\"run\":\"%s\",\"n\":%d}"}]})",
            run, i));
    if (st != 200) {
      ++errors;
      continue;
    }
    bool seen = false;
    while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
      if (poll.Incidents("/listIncidentRecords", filter) == 200 &&
          poll.body().find("incident-record/bench-latency/") != std::string::npos) {
        seen = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (seen) {
      latencies.push_back(ms);
    } else {
      ++errors;
    }
  }
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    if (latencies.empty()) return 0.0;
    return latencies[std::min(latencies.size() - 1, static_cast<size_t>(p * latencies.size()))];
  };
  std::printf(
      "scenario=latency samples=%zu errors=%d event_to_incident p50=%.2fms p90=%.2fms "
      "p99=%.2fms max=%.2fms\n",
      latencies.size(), errors, pct(0.5), pct(0.9), pct(0.99),
      latencies.empty() ? 0.0 : latencies.back());
  return errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--endpoint") {
      auto colon = value.rfind(':');
      o.host = value.substr(0, colon);
      o.port = value.substr(colon + 1);
    } else if (flag == "--scenario") {
      o.scenario = value;
    } else if (flag == "--rules") {
      o.rules = std::stoi(value);
    } else if (flag == "--connections") {
      o.connections = std::stoi(value);
    } else if (flag == "--seconds") {
      o.seconds = std::stod(value);
    } else if (flag == "--warmup") {
      o.warmup = std::stod(value);
    } else if (flag == "--samples") {
      o.samples = std::stoi(value);
    } else {
      std::cerr << "events_load: unknown flag " << flag << "\n";
      return 2;
    }
  }
  try {
    if (o.scenario == "latency") return RunLatency(o);
    if (o.scenario == "accept" || o.scenario == "queue") return RunThroughput(o);
    std::cerr << "events_load: unknown scenario " << o.scenario << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "events_load: " << e.what() << "\n";
    return 1;
  }
}
