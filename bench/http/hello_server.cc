// A hello-world api::HttpServer for load tests of the HTTP layer alone (wrk, aws_load):
//
//   hello_server [--port 8080] [--io-threads 2] [--worker-threads 64] [--seconds 0] [--auth]
//                [--no-inline]
//
// Every request other than /healthz and /metrics is answered `200 hello` by a handler that never
// blocks, so the server runs it on the I/O thread (see api/http/server.h), or always on the worker
// pool with --no-inline (the behaviour before the server learned which requests block). With
// --auth the handler first verifies SigV4 against the development key test/test (answers 403 on
// failure), which measures the authenticator under load. Stops on SIGINT/SIGTERM or after
// --seconds.

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "api/http/server.h"
#include "api/http/sigv4.h"
#include "common/clock.h"
#include "common/metrics.h"

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

class HelloHandler : public klaxon::api::RequestHandler {
 public:
  explicit HelloHandler(const klaxon::api::Authenticator* auth) : auth_(auth) {}
  klaxon::api::HttpResponse Handle(const klaxon::api::HttpRequest& request) override {
    klaxon::api::HttpResponse response;
    response.headers.emplace_back("Content-Type", "text/plain");
    if (auth_ != nullptr && !auth_->Authenticate(request).ok()) {
      response.status = 403;
      response.body = "forbidden\n";
      return response;
    }
    response.body = "hello\n";
    return response;
  }

 private:
  const klaxon::api::Authenticator* auth_;
};

}  // namespace

int main(int argc, char** argv) {
  klaxon::api::HttpServerOptions options;
  options.port = 8080;
  int seconds = 0;
  bool auth = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> int {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value for %s\n", arg.c_str());
        std::exit(2);
      }
      return std::atoi(argv[++i]);
    };
    if (arg == "--port") {
      options.port = static_cast<uint16_t>(next());
    } else if (arg == "--io-threads") {
      options.io_threads = next();
    } else if (arg == "--worker-threads") {
      options.worker_threads = next();
    } else if (arg == "--seconds") {
      seconds = next();
    } else if (arg == "--no-inline") {
      options.inline_handlers = false;
    } else if (arg == "--auth") {
      auth = true;
    } else {
      std::fprintf(stderr,
                   "usage: hello_server [--port N] [--io-threads N] [--worker-threads N] "
                   "[--seconds N] [--auth] [--no-inline]\n");
      return 2;
    }
  }
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);

  klaxon::api::SigV4Authenticator authenticator(klaxon::api::KeyStore::Default(),
                                                klaxon::SystemClock::Get());
  HelloHandler handler(auth ? &authenticator : nullptr);
  klaxon::metrics::Registry metrics;
  klaxon::api::HttpServer server(options, handler, metrics);
  if (auto status = server.Start(); !status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("listening on %s:%u\n", options.host.c_str(), server.port());
  std::fflush(stdout);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!g_stop.load() && (seconds == 0 || std::chrono::steady_clock::now() < deadline)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  server.Stop();
  return 0;
}
