#pragma once
// The HTTP/1.1 listener of a klaxon node.
//
// Design: Boost.Beast over Asio with C++20 coroutines. There are `io_threads` io_contexts;
// accepted connections are spread round-robin over them, and each connection's coroutine runs on
// its own strand. A connection's coroutine reads one request (header with a header timeout
// measured from its first byte, `Expect: 100-continue` answered before the body, chunked or sized
// body with a body timeout and a size limit), runs the RequestHandler, writes the response, and
// loops for the next request of a keep-alive connection (waiting at most the idle timeout).
//
// Execution model. On this kind of machine a thread hand-off (futex wake-up of a worker, then of
// the I/O thread) costs more than a whole non-blocking request, but handlers that wait for a
// durable commit need many threads to fill a group commit. So the server learns, per kind of
// request (RequestHandler::RouteKey), whether Handle() blocks (the thread slept: voluntary context
// switch) or uses more than `long_handler` of CPU:
//  - kinds that do not block run inline on the I/O thread that read them (no hand-off);
//  - kinds that do (more than ~1 call in 4, with hysteresis) run on the pool of `worker_threads`.
//    Such a request is first tried on the I/O thread inside a NonBlockingScope
//    (common/non_blocking.h), where anything that would block refuses (`would_block`) before
//    changing anything; only then is it handed to the pool. That answers what needs no commit (a
//    deduplicated StartIncident answered from memory) without a hand-off. A handler may also
//    answer with a `deferred` response (a StartIncident queued for the group commit): the
//    connection's coroutine then waits for its completion, which the store's writer posts to the
//    connection's strand — no thread waits. Tries continue while more than ~1 in 4 answers, else
//    one call in 64 probes.
//    (Leader/followers — the reading thread hands its io_context to a spare and runs the blocking
//    handler itself — was measured too: no fewer context switches per StartIncident, because the
//    group commit's own wake-ups dominate.)
// Safety net: a watchdog checks every `stall_timeout / 2`; when an inline handler has been running
// for longer than `stall_timeout`, the io_context it was running is handed to a spare thread (the
// Go scheduler's hand-off on a blocking syscall), so the other connections of that io_context are
// never held up for longer than about `stall_timeout` by a slow handler. The blocked thread
// finishes its request and parks as a spare. Strands keep each connection single-threaded while
// two threads briefly run one io_context.
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
  // Threads that run the kinds of request that block (see the execution model above). 0 runs
  // every handler on the I/O threads (the stall watchdog still applies).
  int worker_threads = 64;
  // false: every handler runs on the worker pool (the behaviour before the execution model
  // above; for comparisons).
  bool inline_handlers = true;
  // A handler call using this much CPU counts as blocking even if its thread never slept
  // (CPU-heavy requests belong off the I/O threads).
  absl::Duration long_handler = absl::Milliseconds(2);
  // An inline handler running longer than this hands its I/O thread's other connections to a
  // spare thread.
  absl::Duration stall_timeout = absl::Milliseconds(20);
  // Upper bound on threads running io_contexts (I/O threads plus spares from stall hand-offs).
  // 0: io_threads + 64.
  int max_io_runners = 0;
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

// Counters of the execution model (for tests, benchmarks and /metrics).
struct HttpServerStats {
  uint64_t inline_requests = 0;  // handlers run on an I/O thread
  uint64_t pooled_requests = 0;  // handlers run on the worker pool
  uint64_t handoffs = 0;         // io_contexts handed to a spare thread by the stall watchdog
  // Requests of pooled kinds tried on an I/O thread inside a NonBlockingScope first: answered
  // there (also counted in inline_requests), or retried on the pool (also in pooled_requests).
  uint64_t nonblocking_answered = 0;
  uint64_t nonblocking_retried = 0;
  // Of the answered ones, those that completed later (`deferred`), waited for without a thread.
  uint64_t deferred_requests = 0;
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

  // Thread-safe snapshot.
  HttpServerStats stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace klaxon::api
