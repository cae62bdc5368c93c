#pragma once
// The HTTP/1.1 listener of a klaxon node.
//
// Design: Boost.Beast over Asio with C++20 coroutines. Each I/O thread runs its own io_context;
// accepted connections are spread round-robin over them, so a connection (its socket, timers and
// coroutine) lives on one thread and needs no strand. A connection's coroutine reads one request
// (header with a header timeout measured from its first byte, `Expect: 100-continue` answered
// before the body, chunked or sized body with a body timeout and a size limit), hands the
// converted api::HttpRequest to the RequestHandler on a separate worker pool (handlers block on
// durable commits; I/O threads never do), awaits the api::HttpResponse, writes it, and loops for
// the next request of a keep-alive connection (waiting at most the idle timeout).
//
// `/healthz` and `/metrics` (GET) are answered on the I/O thread without authentication.
// Malformed HTTP is answered 400 (431 for oversized headers, 413 for oversized bodies) and the
// connection closed. The server records `klaxon_http_requests_total{status}` and the
// `klaxon_http_request_seconds` histogram (from the end of the request header to the end of the
// response write).
//
// Shutdown (Stop): the acceptor closes; connections idle between requests or still receiving a
// request header are closed; requests being read, handled or written finish and their
// connections close after the response (`Connection: close`). After the drain timeout every
// remaining socket is closed; Stop then waits for the handlers that are still running (a handler
// must return) and joins all threads.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "api/http/message.h"
#include "common/metrics.h"

namespace klaxon::api {

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // an IPv4 or IPv6 literal ("::1" or "[::1]"), or "localhost"
  uint16_t port = 0;               // 0: an ephemeral port (see HttpServer::port())
  int io_threads = 2;
  // Threads that run RequestHandler::Handle. 0 runs handlers on the I/O threads (only for
  // handlers that never block, e.g. benchmarks).
  int worker_threads = 64;
  size_t body_limit = size_t{10} * 1024 * 1024;  // larger bodies are answered 413
  size_t header_limit = size_t{64} * 1024;       // larger headers are answered 431
  // From the first byte of a request until its header is complete (also: a new connection must
  // send its first request header within this time).
  absl::Duration header_timeout = absl::Seconds(10);
  // A keep-alive connection may wait this long for the first byte of its next request.
  absl::Duration idle_timeout = absl::Seconds(60);
  // Reading a request body, and writing a response, each must finish within this time.
  absl::Duration body_timeout = absl::Seconds(60);
  // How long Stop() lets in-flight requests finish before it closes their connections.
  absl::Duration drain_timeout = absl::Seconds(30);
  // Connections beyond this many are accepted and closed at once.
  int max_connections = 10000;
};

// An HTTP/1.1 server. Not copyable or movable. Start() once, Stop() once (the destructor stops).
// port(), Start() and Stop() are called from one controlling thread; everything else is internal.
class HttpServer {
 public:
  // `handler` and `metrics` must outlive the server.
  HttpServer(HttpServerOptions options, RequestHandler& handler, metrics::Registry& metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the threads. Errors: InvalidArgument (bad host), Unavailable (bind
  // or listen failed, e.g. the port is taken), FailedPrecondition (already started).
  absl::Status Start();

  // The bound port (useful with port 0); 0 before Start().
  uint16_t port() const;

  // Graceful shutdown as described above. Idempotent; blocks until all threads are joined.
  void Stop();

  // Number of open client connections (for tests and metrics).
  int open_connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace klaxon::api
