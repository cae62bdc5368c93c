#include "api/http/server.h"

#include <sys/resource.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <exception>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/asio/thread_pool.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http/empty_body.hpp"
#include "boost/beast/http/error.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/http/write.hpp"
#include "common/mutex.h"
#include "common/non_blocking.h"
#include "spdlog/spdlog.h"

namespace klaxon::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using IoExecutor = asio::io_context::executor_type;
// Every coroutine runs on a strand: an io_context is normally run by one thread, but by two for a
// moment after a stall hand-off, and a connection must never run on both at once.
using Executor = asio::strand<IoExecutor>;
template <typename T = void>
using Awaitable = asio::awaitable<T, Executor>;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Acceptor = asio::basic_socket_acceptor<tcp, Executor>;
using Stream = beast::basic_stream<tcp, Executor, beast::unlimited_rate_policy>;
using Parser = http::request_parser<http::string_body>;
constexpr auto kUse = asio::as_tuple(asio::use_awaitable_t<Executor>{});

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      absl::ToChronoNanoseconds(d));
}

// The RFC 7231 Date header value, formatted at most once per second per thread.
const std::string& HttpDate() {
  thread_local std::time_t cached_second = 0;
  thread_local std::string cached;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm;
    gmtime_r(&now, &tm);
    char buf[64];
    size_t n = std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached.assign(buf, n);
    cached_second = now;
  }
  return cached;
}

bool IsHttpParseError(const beast::error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_method).category();
}

// A header a handler may send: a token name, and a value without CR, LF or NUL (no response
// splitting).
bool ValidHeader(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (c <= 32 || c >= 127 || c == ':') return false;
  }
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

int64_t MonotonicNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The calling thread's voluntary context switches (they grow when the thread sleeps: a futex wait
// for a commit, blocking I/O; not when it is preempted) and CPU time.
struct ThreadUsage {
  int64_t voluntary_switches = 0;
  int64_t cpu_ns = 0;
};
ThreadUsage CurrentThreadUsage() {
  struct rusage usage;
  if (getrusage(RUSAGE_THREAD, &usage) != 0) return {};
  auto ns = [](const timeval& tv) { return int64_t{tv.tv_sec} * 1000000000 + tv.tv_usec * 1000; };
  return {usage.ru_nvcsw, ns(usage.ru_utime) + ns(usage.ru_stime)};
}

// What the server learned about each kind of request: a score in [0, 1024], the moving average of
// "this call blocked or ran long" (1024) vs "it did not" (0), and whether the kind currently runs
// on the pool. Lock-free; slots are shared by kinds whose keys collide (harmless: a fast kind may
// then run on the pool).
class RouteTable {
 public:
  static constexpr int kUnknown = -1;
  static constexpr int kProbing = -2;  // the first call of the kind is running inline
  RouteTable() {
    for (auto& s : slots_) {
      s.score.store(kUnknown, std::memory_order_relaxed);
      s.pooled.store(false, std::memory_order_relaxed);
      s.answers.store(1024, std::memory_order_relaxed);
      s.probes.store(0, std::memory_order_relaxed);
    }
  }
  // Whether a call of this kind should run on the pool. The first call of an unknown kind runs
  // inline as a probe; until it has finished, the others of its kind go to the pool.
  bool Pooled(uint64_t key) {
    Entry& e = Slot(key);
    int score = e.score.load(std::memory_order_relaxed);
    if (score == kUnknown) {
      return !e.score.compare_exchange_strong(score, kProbing, std::memory_order_relaxed);
    }
    return score == kProbing || e.pooled.load(std::memory_order_relaxed);
  }
  void Record(uint64_t key, bool blocked) {
    Entry& e = Slot(key);
    const int sample = blocked ? 1024 : 0;
    int score = e.score.load(std::memory_order_relaxed);
    // Moving average with weight 1/4: three blocking calls in a row move a fast kind to the pool;
    // the first sample of an unknown kind counts fully.
    score = score < 0 ? sample : score + (sample - score) / 4;
    e.score.store(score, std::memory_order_relaxed);
    const bool pooled = e.pooled.load(std::memory_order_relaxed);
    if (!pooled && score > kPoolAbove) e.pooled.store(true, std::memory_order_relaxed);
    if (pooled && score < kInlineBelow) e.pooled.store(false, std::memory_order_relaxed);
  }

  // Whether to try a pooled call of this kind inside a NonBlockingScope on the I/O thread first:
  // while such tries mostly answer (a moving average of answered = 1024, weight 1/8), every
  // call; otherwise one call in kProbeEvery, to notice when they start answering again.
  bool TryNonBlocking(uint64_t key) {
    Entry& e = Slot(key);
    if (e.answers.load(std::memory_order_relaxed) > kTryAbove) return true;
    return e.probes.fetch_add(1, std::memory_order_relaxed) % kProbeEvery == 0;
  }
  void RecordNonBlocking(uint64_t key, bool answered) {
    Entry& e = Slot(key);
    int score = e.answers.load(std::memory_order_relaxed);
    score += ((answered ? 1024 : 0) - score) / 8;
    e.answers.store(score, std::memory_order_relaxed);
  }

 private:
  static constexpr int kPoolAbove = 256;   // more than ~1 in 4 calls blocked
  static constexpr int kInlineBelow = 32;  // fewer than ~1 in 32
  // A failed try costs the request's authentication and decoding once more (~10 us); an
  // answered one saves two thread hand-offs (~40 us here): worth it above ~1 answer in 4.
  static constexpr int kTryAbove = 256;
  static constexpr uint32_t kProbeEvery = 64;
  struct Entry {
    std::atomic<int> score;
    std::atomic<bool> pooled;
    std::atomic<int> answers;  // starts high: the first pooled calls of a kind are tried
    std::atomic<uint32_t> probes;
  };
  Entry& Slot(uint64_t key) { return slots_[(key ^ (key >> 29)) % slots_.size()]; }
  std::array<Entry, 1024> slots_;
};

std::string_view PathOf(std::string_view target) {
  size_t q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, RequestHandler& handler, metrics::Registry& metrics)
      : options_(std::move(options)),
        max_runners_(options_.max_io_runners > 0 ? options_.max_io_runners
                                                 : std::max(1, options_.io_threads) + 64),
        handler_(handler),
        metrics_(metrics),
        latency_(metrics.GetHistogram("klaxon_http_request_seconds",
                                      "HTTP request latency, header received to response written")),
        inline_counter_(metrics.GetCounter("klaxon_http_handler_calls_total",
                                           "Handler calls by where they ran",
                                           {{"on", "io_thread"}})),
        pooled_counter_(metrics.GetCounter("klaxon_http_handler_calls_total",
                                           "Handler calls by where they ran", {{"on", "pool"}})),
        handoff_counter_(metrics.GetCounter(
            "klaxon_http_stall_handoffs_total",
            "I/O threads handed to a spare thread because an inline handler ran too long")) {
    for (auto& c : status_counters_) c.store(nullptr, std::memory_order_relaxed);
  }

  ~Impl() { Stop(); }

  absl::Status Start();
  void Stop();
  uint16_t port() const { return port_.load(); }
  int open_connections() const { return open_.load(); }
  HttpServerStats stats() const {
    HttpServerStats s;
    s.inline_requests = inline_requests_.load();
    s.pooled_requests = pooled_requests_.load();
    s.handoffs = handoffs_.load();
    s.nonblocking_answered = nonblocking_answered_.load();
    s.nonblocking_retried = nonblocking_retried_.load();
    s.deferred_requests = deferred_requests_.load();
    return s;
  }

 private:
  enum class ConnState { kIdle, kReadingHeader, kBusy };
  struct Connection {
    uint64_t id = 0;
    Stream* stream = nullptr;
    std::atomic<ConnState> state{ConnState::kIdle};
    // True while the coroutine waits for or runs the handler, so does not touch the stream; set
    // and cleared under the context's mutex, which lets CloseConnections close such a stream
    // directly (its strand may be held by an inline handler for a long time).
    bool in_handler = false;
  };
  struct Context;
  // A thread that runs one io_context at a time: an I/O thread, or a spare parked until a stall
  // hand-off gives it an io_context. Never destroyed before Stop() joins it.
  struct Runner {
    std::thread thread;
    // Nonzero (steady-clock ns) while this thread runs a handler inline.
    std::atomic<int64_t> inline_since{0};
    Context* assigned = nullptr;   // guarded by runners_mu_
    std::condition_variable wake;  // signalled (under runners_mu_) when `assigned` is set
  };
  // One per io_context. `connections` is guarded by `mu` (a strand of the context may run on a
  // spare thread during a hand-off).
  struct Context {
    klaxon::Mutex mu;
    absl::flat_hash_map<uint64_t, Connection*> connections ABSL_GUARDED_BY(mu);
    asio::io_context ioc;  // thread-safe: briefly run by two threads after a hand-off
    std::optional<asio::executor_work_guard<IoExecutor>> work;
    std::atomic<Runner*> owner{nullptr};  // the thread responsible for running `ioc`
  };

  Awaitable<> Accept();
  Awaitable<> Serve(Context& ctx, Socket socket);
  Awaitable<HttpResponse> RunHandler(const HttpRequest& request);
  HttpResponse CallHandler(const HttpRequest& request, uint64_t route);
  // Runs the handler inside a NonBlockingScope; nullopt if it would block.
  std::optional<HttpResponse> TryNonBlocking(const HttpRequest& request);
  static HttpResponse SimpleResponse(int status, std::string body);
  void CountStatus(int status);
  void CloseConnections(bool only_idle);
  bool WaitForConnections(absl::Duration timeout);
  void RunnerMain(Runner* runner);
  void WatchdogMain();
  // Gives `ctx` to a spare thread if `from` still owns it.
  void HandOff(Context& ctx, Runner* from);
  Runner* NewRunnerLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(runners_mu_);

  static thread_local Runner* current_runner_;

  const HttpServerOptions options_;
  const int max_runners_;
  RequestHandler& handler_;
  metrics::Registry& metrics_;
  metrics::Histogram& latency_;
  metrics::Counter& inline_counter_;
  metrics::Counter& pooled_counter_;
  metrics::Counter& handoff_counter_;
  std::array<std::atomic<metrics::Counter*>, 600> status_counters_;
  RouteTable routes_;

  std::vector<std::unique_ptr<Context>> contexts_;
  std::unique_ptr<Acceptor> acceptor_;
  std::unique_ptr<asio::thread_pool> workers_;
  size_t next_context_ = 0;  // used only by the accept coroutine
  std::atomic<uint64_t> next_connection_id_{1};
  std::atomic<uint16_t> port_{0};
  std::atomic<int> open_{0};
  std::atomic<bool> draining_{false};
  std::atomic<uint64_t> inline_requests_{0};
  std::atomic<uint64_t> pooled_requests_{0};
  std::atomic<uint64_t> handoffs_{0};
  std::atomic<uint64_t> nonblocking_answered_{0};
  std::atomic<uint64_t> nonblocking_retried_{0};
  std::atomic<uint64_t> deferred_requests_{0};
  bool started_ = false;
  bool stopped_ = false;

  klaxon::Mutex runners_mu_;
  std::vector<std::unique_ptr<Runner>> runners_ ABSL_GUARDED_BY(runners_mu_);
  std::vector<Runner*> spares_ ABSL_GUARDED_BY(runners_mu_);
  bool runners_stopping_ ABSL_GUARDED_BY(runners_mu_) = false;
  bool warned_runner_limit_ ABSL_GUARDED_BY(runners_mu_) = false;

  klaxon::Mutex watchdog_mu_;
  std::condition_variable watchdog_cv_;
  bool watchdog_stopping_ ABSL_GUARDED_BY(watchdog_mu_) = false;
  std::thread watchdog_;
};

thread_local HttpServer::Impl::Runner* HttpServer::Impl::current_runner_ = nullptr;

absl::Status HttpServer::Impl::Start() {
  if (started_) return absl::FailedPreconditionError("HttpServer already started");
  boost::system::error_code ec;
  std::string host = options_.host;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // "[::1]" as in HOST:PORT notation
  }
  if (host == "localhost") host = "127.0.0.1";
  asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("invalid listen host '", host, "'"));

  const int io_threads = std::max(1, options_.io_threads);
  for (int i = 0; i < io_threads; ++i) contexts_.push_back(std::make_unique<Context>());

  tcp::endpoint endpoint(address, options_.port);
  acceptor_ = std::make_unique<Acceptor>(asio::make_strand(contexts_[0]->ioc));
  auto fail = [&](const char* what) {
    acceptor_.reset();
    contexts_.clear();
    return absl::UnavailableError(
        absl::StrCat(what, " ", host, ":", options_.port, ": ", ec.message()));
  };
  acceptor_->open(endpoint.protocol(), ec);
  if (ec) return fail("cannot open socket for");
  acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  acceptor_->bind(endpoint, ec);
  if (ec) return fail("cannot bind");
  acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("cannot listen on");
  port_.store(acceptor_->local_endpoint().port());

  if (options_.worker_threads > 0) {
    workers_ = std::make_unique<asio::thread_pool>(options_.worker_threads);
  }
  started_ = true;
  asio::co_spawn(acceptor_->get_executor(), Accept(), asio::detached);
  {
    klaxon::MutexLock lock(&runners_mu_);
    for (auto& ctx : contexts_) {
      ctx->work.emplace(ctx->ioc.get_executor());
      Runner* runner = NewRunnerLocked();
      runner->assigned = ctx.get();
      ctx->owner.store(runner);
      runner->wake.notify_one();
    }
  }
  watchdog_ = std::thread([this] { WatchdogMain(); });
  return absl::OkStatus();
}

HttpServer::Impl::Runner* HttpServer::Impl::NewRunnerLocked() {
  runners_.push_back(std::make_unique<Runner>());
  Runner* runner = runners_.back().get();
  runner->thread = std::thread([this, runner] { RunnerMain(runner); });
  return runner;
}

void HttpServer::Impl::RunnerMain(Runner* runner) {
  current_runner_ = runner;
  for (;;) {
    Context* ctx = nullptr;
    {
      klaxon::MutexLock lock(&runners_mu_);
      while (runner->assigned == nullptr && !runners_stopping_) lock.Wait(runner->wake);
      if (runner->assigned == nullptr) return;
      ctx = runner->assigned;
    }
    // Run until the io_context stops, or until the watchdog gives it to another thread while this
    // one was stuck in a handler (then finish the current handler and park as a spare).
    while (ctx->owner.load() == runner) {
      try {
        if (ctx->ioc.run_one() == 0) break;  // stopped
      } catch (const std::exception& e) {
        spdlog::error("http: I/O thread caught exception: {}", e.what());
      }
    }
    klaxon::MutexLock lock(&runners_mu_);
    runner->assigned = nullptr;
    spares_.push_back(runner);
  }
}

void HttpServer::Impl::HandOff(Context& ctx, Runner* from) {
  {
    klaxon::MutexLock lock(&runners_mu_);
    if (runners_stopping_ || ctx.owner.load() != from) return;
    Runner* spare = nullptr;
    if (!spares_.empty()) {
      spare = spares_.back();
      spares_.pop_back();
    } else if (static_cast<int>(runners_.size()) < max_runners_) {
      spare = NewRunnerLocked();
    } else {
      if (!warned_runner_limit_) {
        spdlog::warn("http: {} threads run io_contexts; no hand-off for a stalled I/O thread",
                     runners_.size());
        warned_runner_limit_ = true;
      }
      return;
    }
    spare->assigned = &ctx;
    ctx.owner.store(spare);
    spare->wake.notify_one();  // only this spare (no thundering herd over the parked ones)
  }
  handoffs_.fetch_add(1);
  handoff_counter_.Add();
}

void HttpServer::Impl::WatchdogMain() {
  const absl::Duration period = std::max(absl::Milliseconds(1), options_.stall_timeout / 2);
  const int64_t limit = absl::ToInt64Nanoseconds(options_.stall_timeout);
  klaxon::MutexLock lock(&watchdog_mu_);
  while (!watchdog_stopping_) {
    lock.WaitUntil(watchdog_cv_, DeadlineAfter(period));
    if (watchdog_stopping_) break;
    const int64_t now = MonotonicNanos();
    for (auto& ctx : contexts_) {
      Runner* owner = ctx->owner.load();
      if (owner == nullptr) continue;
      int64_t since = owner->inline_since.load();
      if (since != 0 && now - since > limit) HandOff(*ctx, owner);
    }
  }
}

Awaitable<> HttpServer::Impl::Accept() {
  for (;;) {
    Context& ctx = *contexts_[next_context_++ % contexts_.size()];
    auto [ec, socket] = co_await acceptor_->async_accept(asio::make_strand(ctx.ioc), kUse);
    if (ec) {
      if (ec == asio::error::operation_aborted || draining_.load() || !acceptor_->is_open()) {
        co_return;
      }
      // Out of descriptors or similar: back off instead of spinning.
      asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(20));
      co_await timer.async_wait(kUse);
      continue;
    }
    if (open_.load() >= options_.max_connections) {
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    open_.fetch_add(1);
    auto executor = socket.get_executor();
    asio::co_spawn(executor, Serve(ctx, std::move(socket)), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("http: connection aborted by exception: {}", ex.what());
      } catch (...) {
        spdlog::error("http: connection aborted by a non-std exception");
      }
    });
  }
}

HttpResponse HttpServer::Impl::SimpleResponse(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  response.body = std::move(body);
  return response;
}

HttpResponse HttpServer::Impl::CallHandler(const HttpRequest& request, uint64_t route) {
  const ThreadUsage before = CurrentThreadUsage();
  HttpResponse response;
  bool ok = false;
  try {
    response = handler_.Handle(request);
    ok = true;
  } catch (const std::exception& e) {
    spdlog::error("http: request handler threw: {}", e.what());
  } catch (...) {
    spdlog::error("http: request handler threw a non-std exception");
  }
  // CPU time, not wall time: a handler preempted on a busy machine is not a blocking one.
  const ThreadUsage after = CurrentThreadUsage();
  const bool blocked =
      after.voluntary_switches != before.voluntary_switches ||
      after.cpu_ns - before.cpu_ns > absl::ToInt64Nanoseconds(options_.long_handler);
  routes_.Record(route, blocked);
  if (!ok) return SimpleResponse(500, "internal error\n");
  return response;
}

std::optional<HttpResponse> HttpServer::Impl::TryNonBlocking(const HttpRequest& request) {
  Runner* runner = current_runner_;
  if (runner != nullptr) runner->inline_since.store(MonotonicNanos());
  std::optional<HttpResponse> response;
  try {
    NonBlockingScope scope;
    response = handler_.Handle(request);
  } catch (...) {
    response.reset();  // the pool's call reports it
  }
  if (runner != nullptr) runner->inline_since.store(0);
  if (response && response->would_block) response.reset();
  return response;
}

Awaitable<HttpResponse> HttpServer::Impl::RunHandler(const HttpRequest& request) {
  const uint64_t route = handler_.RouteKey(request);
  const bool pooled = routes_.Pooled(route);
  if (!workers_ || (options_.inline_handlers && !pooled)) {
    inline_requests_.fetch_add(1, std::memory_order_relaxed);
    inline_counter_.Add();
    Runner* runner = current_runner_;
    if (runner != nullptr) runner->inline_since.store(MonotonicNanos());
    HttpResponse response = CallHandler(request, route);
    if (runner != nullptr) runner->inline_since.store(0);
    co_return response;
  }
  std::shared_ptr<DeferredResponse> deferred;
  if (options_.inline_handlers && routes_.TryNonBlocking(route)) {
    std::optional<HttpResponse> answered = TryNonBlocking(request);
    routes_.RecordNonBlocking(route, answered.has_value());
    if (answered) {
      nonblocking_answered_.fetch_add(1, std::memory_order_relaxed);
      inline_requests_.fetch_add(1, std::memory_order_relaxed);
      inline_counter_.Add();
      if (!answered->deferred) co_return *std::move(answered);
      deferred_requests_.fetch_add(1, std::memory_order_relaxed);
      deferred = std::move(answered->deferred);
    } else {
      nonblocking_retried_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (deferred) {
    // Queued work (a write waiting for its group commit): wait for it without a thread. Its
    // completion posts the response's builder to this connection's strand; the work guard keeps
    // the io_context running until then. (The initiation captures only a raw pointer: GCC 12
    // may destroy the temporaries of a co_await full-expression twice, so none of them may own
    // anything; `deferred` outlives the wait.)
    asio::use_awaitable_t<Executor> token;
    co_return co_await asio::async_initiate<asio::use_awaitable_t<Executor>, void(HttpResponse)>(
        [d = deferred.get()](auto handler) {
          auto work = asio::make_work_guard(asio::get_associated_executor(handler));
          auto pending = std::make_shared<std::optional<decltype(handler)>>(std::move(handler));
          d->OnComplete([pending, work](DeferredResponse::Finish finish) mutable {
            auto ex = work.get_executor();
            asio::post(ex, [pending, finish = std::move(finish)]() mutable {
              HttpResponse response;
              try {
                response = finish();
              } catch (const std::exception& e) {
                spdlog::error("http: building a deferred response threw: {}", e.what());
                response = SimpleResponse(500, "internal error\n");
              }
              auto h = std::move(**pending);
              pending->reset();
              std::move(h)(std::move(response));
            });
          });
        },
        token);
  }
  pooled_requests_.fetch_add(1, std::memory_order_relaxed);
  pooled_counter_.Add();
  // Run Handle() on the worker pool and resume this coroutine on its strand.
  asio::use_awaitable_t<Executor> token;
  co_return co_await asio::async_initiate<asio::use_awaitable_t<Executor>, void(HttpResponse)>(
      [this, &request, route](auto handler) {
        auto work = asio::make_work_guard(asio::get_associated_executor(handler));
        asio::post(workers_->get_executor(), [this, &request, route, handler = std::move(handler),
                                              work = std::move(work)]() mutable {
          HttpResponse response = CallHandler(request, route);
          auto ex = work.get_executor();
          asio::post(ex, [handler = std::move(handler), response = std::move(response)]() mutable {
            std::move(handler)(std::move(response));
          });
        });
      },
      token);
}

void HttpServer::Impl::CountStatus(int status) {
  if (status < 0 || status >= static_cast<int>(status_counters_.size())) status = 0;
  metrics::Counter* counter = status_counters_[status].load(std::memory_order_acquire);
  if (counter == nullptr) {
    counter = &metrics_.GetCounter("klaxon_http_requests_total", "HTTP requests by status",
                                   {{"status", absl::StrCat(status)}});
    status_counters_[status].store(counter, std::memory_order_release);
  }
  counter->Add();
}

Awaitable<> HttpServer::Impl::Serve(Context& ctx, Socket socket) {
  Stream stream(std::move(socket));
  Connection conn;
  conn.id = next_connection_id_.fetch_add(1);
  conn.stream = &stream;
  {
    klaxon::MutexLock lock(&ctx.mu);
    ctx.connections.emplace(conn.id, &conn);
  }
  struct Cleanup {
    Context& ctx;
    uint64_t id;
    std::atomic<int>& open;
    ~Cleanup() {
      {
        klaxon::MutexLock lock(&ctx.mu);
        ctx.connections.erase(id);
      }
      open.fetch_sub(1);
    }
  } cleanup{ctx, conn.id, open_};

  std::string remote_address;
  {
    boost::system::error_code ec;
    auto endpoint = stream.socket().remote_endpoint(ec);
    if (!ec) remote_address = endpoint.address().to_string();
  }

  // The limit bounds one read's buffering; it must hold a whole header (Beast parses the header
  // from contiguous bytes), bodies stream through it into the request body.
  beast::flat_buffer buffer(options_.header_limit + size_t{64} * 1024);
  bool first = true;
  // Writes a response and closes (used for errors detected before a request is complete).
  auto fail_and_close = [&](int status, std::string_view text) -> Awaitable<> {
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.set(http::field::date, HttpDate());
    res.body() = std::string(text);
    res.keep_alive(false);
    res.prepare_payload();
    stream.expires_after(ToChrono(options_.body_timeout));
    co_await http::async_write(stream, res, kUse);
    CountStatus(status);
    // Half-close and drain briefly, so that unread request bytes do not turn our close into a
    // reset that destroys the response before the client reads it.
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.expires_after(std::chrono::milliseconds(500));
    char sink[4096];
    for (size_t total = 0; total < size_t{256} * 1024;) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), kUse);
      if (ec) break;
      total += n;
    }
    stream.close();
  };

  for (;;) {
    // Wait for the first byte of the next request (idle), unless one is already buffered.
    conn.state = ConnState::kIdle;
    if (buffer.size() == 0) {
      stream.expires_after(ToChrono(first ? options_.header_timeout : options_.idle_timeout));
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kUse);
      if (ec) co_return;
      buffer.commit(n);
    }
    if (draining_.load()) co_return;
    first = false;

    conn.state = ConnState::kReadingHeader;
    Parser parser;
    parser.header_limit(static_cast<std::uint32_t>(options_.header_limit));
    parser.body_limit(options_.body_limit);
    stream.expires_after(ToChrono(options_.header_timeout));
    {
      auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kUse);
      if (ec) {
        if (ec == http::error::header_limit) {
          co_await fail_and_close(431, "request header too large\n");
        } else if (ec == http::error::body_limit) {
          co_await fail_and_close(413, "request body too large\n");
        } else if (IsHttpParseError(ec) && ec != http::error::partial_message &&
                   ec != http::error::end_of_stream) {
          co_await fail_and_close(400, "malformed HTTP request\n");
        }
        co_return;  // timeouts, resets, closed by Stop(): just close
      }
    }
    conn.state = ConnState::kBusy;
    const absl::Time start = absl::Now();
    auto& msg = parser.get();

    if (!parser.is_done()) {
      auto expect = msg[http::field::expect];
      if (!expect.empty()) {
        if (!beast::iequals(expect, "100-continue")) {
          co_await fail_and_close(417, "unsupported Expect\n");
          co_return;
        }
        http::response<http::empty_body> cont{http::status::continue_, msg.version()};
        stream.expires_after(ToChrono(options_.body_timeout));
        auto [ec, n] = co_await http::async_write(stream, cont, kUse);
        if (ec) co_return;
      }
      stream.expires_after(ToChrono(options_.body_timeout));
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, kUse);
      if (ec) {
        if (ec == http::error::body_limit) {
          co_await fail_and_close(413, "request body too large\n");
        } else if (IsHttpParseError(ec) && ec != http::error::partial_message &&
                   ec != http::error::end_of_stream) {
          co_await fail_and_close(400, "malformed HTTP request\n");
        }
        co_return;
      }
    }
    const bool keep_alive = msg.keep_alive();
    const bool head = msg.method() == http::verb::head;

    HttpResponse response;
    std::string_view target(msg.target().data(), msg.target().size());
    std::string_view path = PathOf(target);
    if ((msg.method() == http::verb::get || head) && path == "/healthz") {
      response = SimpleResponse(200, "ok");
    } else if ((msg.method() == http::verb::get || head) && path == "/metrics") {
      response = SimpleResponse(200, metrics_.Render());
      response.headers[0].second = "text/plain; version=0.0.4; charset=utf-8";
    } else {
      HttpRequest request;
      request.method = std::string(msg.method_string());
      request.target = std::string(target);
      request.headers.reserve(16);
      for (const auto& field : msg) {
        request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      request.body = std::move(msg.body());
      request.remote_address = remote_address;
      {
        klaxon::MutexLock lock(&ctx.mu);
        conn.in_handler = true;
      }
      response = co_await RunHandler(request);
      {
        klaxon::MutexLock lock(&ctx.mu);
        conn.in_handler = false;
      }
    }

    int status = response.status;
    if (status < 200 || status > 599) status = 500;
    http::response<http::string_body> res{static_cast<http::status>(status), msg.version()};
    bool handler_close = false;
    bool has_date = false;
    for (auto& [name, value] : response.headers) {
      if (beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding")) {
        continue;
      }
      if (beast::iequals(name, "connection")) {
        handler_close = beast::iequals(value, "close");
        continue;
      }
      if (!ValidHeader(name, value)) {
        spdlog::warn("http: dropping invalid response header '{}'", name);
        continue;
      }
      if (beast::iequals(name, "date")) has_date = true;
      res.insert(name, value);
    }
    if (!has_date) res.set(http::field::date, HttpDate());
    const size_t body_size = response.body.size();
    if (!head) res.body() = std::move(response.body);
    const bool again = keep_alive && !handler_close && !draining_.load();
    res.keep_alive(again);
    if (status == 204 || status == 304) {
      res.body().clear();  // no body and no Content-Length (RFC 9110 8.6)
    } else if (head) {
      res.content_length(body_size);
    } else {
      res.prepare_payload();
    }
    stream.expires_after(ToChrono(options_.body_timeout));
    auto [ec, n] = co_await http::async_write(stream, res, kUse);
    CountStatus(status);
    latency_.Observe(absl::ToDoubleSeconds(absl::Now() - start));
    if (ec) co_return;
    if (!again || draining_.load()) {
      boost::system::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
  }
}

void HttpServer::Impl::CloseConnections(bool only_idle) {
  for (auto& ctx : contexts_) {
    std::vector<std::pair<uint64_t, Executor>> targets;
    {
      klaxon::MutexLock lock(&ctx->mu);
      for (const auto& [id, conn] : ctx->connections) {
        if (only_idle && conn->state.load() == ConnState::kBusy) continue;
        if (conn->in_handler) {
          conn->stream->close();  // its coroutine is not using it (see Connection::in_handler)
          continue;
        }
        targets.emplace_back(id, conn->stream->get_executor());
      }
    }
    // Closed on the connection's strand (never while its coroutine runs); the connection may be
    // gone by then, hence the lookup by id.
    for (auto& [id, executor] : targets) {
      asio::post(executor, [c = ctx.get(), id = id, only_idle] {
        klaxon::MutexLock lock(&c->mu);
        auto it = c->connections.find(id);
        if (it == c->connections.end()) return;
        if (only_idle && it->second->state.load() == ConnState::kBusy) return;
        it->second->stream->close();
      });
    }
  }
}

bool HttpServer::Impl::WaitForConnections(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (open_.load() > 0) {
    if (absl::Now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

void HttpServer::Impl::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  draining_.store(true);
  asio::post(contexts_[0]->ioc, [this] {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
  });
  CloseConnections(/*only_idle=*/true);
  if (!WaitForConnections(options_.drain_timeout)) {
    spdlog::warn("http: drain timeout; closing {} connection(s)", open_.load());
    CloseConnections(/*only_idle=*/false);
  }
  // Handlers still running finish here; their coroutines then resume, fail to write and exit.
  if (workers_) workers_->join();
  if (!WaitForConnections(absl::Seconds(5))) {
    spdlog::warn("http: {} connection(s) did not close", open_.load());
  }
  {
    klaxon::MutexLock lock(&watchdog_mu_);
    watchdog_stopping_ = true;
  }
  watchdog_cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
  for (auto& ctx : contexts_) ctx->work.reset();
  for (auto& ctx : contexts_) ctx->ioc.stop();
  std::vector<Runner*> runners;
  {
    klaxon::MutexLock lock(&runners_mu_);
    runners_stopping_ = true;
    for (auto& r : runners_) {
      runners.push_back(r.get());
      r->wake.notify_one();
    }
  }
  for (Runner* r : runners) {
    if (r->thread.joinable()) r->thread.join();
  }
  acceptor_.reset();
  contexts_.clear();
  workers_.reset();
  klaxon::MutexLock lock(&runners_mu_);
  runners_.clear();
  spares_.clear();
}

HttpServer::HttpServer(HttpServerOptions options, RequestHandler& handler,
                       metrics::Registry& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), handler, metrics)) {}

HttpServer::~HttpServer() { impl_->Stop(); }

absl::Status HttpServer::Start() { return impl_->Start(); }

uint16_t HttpServer::port() const { return impl_->port(); }

void HttpServer::Stop() { impl_->Stop(); }

int HttpServer::open_connections() const { return impl_->open_connections(); }

HttpServerStats HttpServer::stats() const { return impl_->stats(); }

}  // namespace klaxon::api
