#include "api/http/server.h"

#include <array>
#include <chrono>
#include <ctime>
#include <exception>
#include <list>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
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
#include "spdlog/spdlog.h"

namespace klaxon::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Executor = asio::io_context::executor_type;
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

std::string_view PathOf(std::string_view target) {
  size_t q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, RequestHandler& handler, metrics::Registry& metrics)
      : options_(std::move(options)),
        handler_(handler),
        metrics_(metrics),
        latency_(
            metrics.GetHistogram("klaxon_http_request_seconds",
                                 "HTTP request latency, header received to response written")) {
    for (auto& c : status_counters_) c.store(nullptr, std::memory_order_relaxed);
  }

  ~Impl() { Stop(); }

  absl::Status Start();
  void Stop();
  uint16_t port() const { return port_.load(); }
  int open_connections() const { return open_.load(); }

 private:
  enum class ConnState { kIdle, kReadingHeader, kBusy };
  struct Connection {
    Stream* stream = nullptr;
    ConnState state = ConnState::kIdle;
  };
  // One per I/O thread. `connections` is touched only on that thread. Destroyed ioc first (its
  // pending coroutine frames unregister themselves from `connections`).
  struct Context {
    std::list<Connection*> connections;
    asio::io_context ioc{1};
    std::optional<asio::executor_work_guard<Executor>> work;
    std::thread thread;
  };

  Awaitable<> Accept();
  Awaitable<> Serve(Context& ctx, Socket socket);
  Awaitable<HttpResponse> RunHandler(const HttpRequest& request);
  HttpResponse CallHandler(const HttpRequest& request);
  static HttpResponse SimpleResponse(int status, std::string body);
  void CountStatus(int status);
  void CloseConnections(bool only_idle);
  bool WaitForConnections(absl::Duration timeout);

  const HttpServerOptions options_;
  RequestHandler& handler_;
  metrics::Registry& metrics_;
  metrics::Histogram& latency_;
  std::array<std::atomic<metrics::Counter*>, 600> status_counters_;

  std::vector<std::unique_ptr<Context>> contexts_;
  std::unique_ptr<Acceptor> acceptor_;
  std::unique_ptr<asio::thread_pool> workers_;
  size_t next_context_ = 0;  // used only by the accept coroutine
  std::atomic<uint16_t> port_{0};
  std::atomic<int> open_{0};
  std::atomic<bool> draining_{false};
  bool started_ = false;
  bool stopped_ = false;
};

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
  acceptor_ = std::make_unique<Acceptor>(contexts_[0]->ioc.get_executor());
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
  asio::co_spawn(contexts_[0]->ioc, Accept(), asio::detached);
  for (auto& ctx : contexts_) {
    ctx->work.emplace(ctx->ioc.get_executor());
    ctx->thread = std::thread([c = ctx.get()] {
      for (;;) {
        try {
          c->ioc.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("http: I/O thread caught exception: {}", e.what());
        }
      }
    });
  }
  return absl::OkStatus();
}

Awaitable<> HttpServer::Impl::Accept() {
  for (;;) {
    Context& ctx = *contexts_[next_context_++ % contexts_.size()];
    auto [ec, socket] = co_await acceptor_->async_accept(ctx.ioc, kUse);
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
    asio::co_spawn(ctx.ioc, Serve(ctx, Socket(std::move(socket))), [](std::exception_ptr e) {
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

HttpResponse HttpServer::Impl::CallHandler(const HttpRequest& request) {
  try {
    return handler_.Handle(request);
  } catch (const std::exception& e) {
    spdlog::error("http: request handler threw: {}", e.what());
  } catch (...) {
    spdlog::error("http: request handler threw a non-std exception");
  }
  return SimpleResponse(500, "internal error\n");
}

Awaitable<HttpResponse> HttpServer::Impl::RunHandler(const HttpRequest& request) {
  if (!workers_) co_return CallHandler(request);
  // Run Handle() on the worker pool and resume this coroutine on its own I/O thread.
  asio::use_awaitable_t<Executor> token;
  co_return co_await asio::async_initiate<asio::use_awaitable_t<Executor>, void(HttpResponse)>(
      [this, &request](auto handler) {
        auto work = asio::make_work_guard(asio::get_associated_executor(handler));
        asio::post(workers_->get_executor(), [this, &request, handler = std::move(handler),
                                              work = std::move(work)]() mutable {
          HttpResponse response = CallHandler(request);
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
  conn.stream = &stream;
  ctx.connections.push_front(&conn);
  auto registration = ctx.connections.begin();
  struct Cleanup {
    Context& ctx;
    std::list<Connection*>::iterator it;
    std::atomic<int>& open;
    ~Cleanup() {
      ctx.connections.erase(it);
      open.fetch_sub(1);
    }
  } cleanup{ctx, registration, open_};

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
      response = co_await RunHandler(request);
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
    asio::post(ctx->ioc, [c = ctx.get(), only_idle] {
      for (Connection* conn : c->connections) {
        if (only_idle && conn->state == ConnState::kBusy) continue;
        conn->stream->close();
      }
    });
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
  for (auto& ctx : contexts_) ctx->work.reset();
  for (auto& ctx : contexts_) ctx->ioc.stop();
  for (auto& ctx : contexts_) {
    if (ctx->thread.joinable()) ctx->thread.join();
  }
  acceptor_.reset();
  contexts_.clear();
  workers_.reset();
}

HttpServer::HttpServer(HttpServerOptions options, RequestHandler& handler,
                       metrics::Registry& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), handler, metrics)) {}

HttpServer::~HttpServer() { impl_->Stop(); }

absl::Status HttpServer::Start() { return impl_->Start(); }

uint16_t HttpServer::port() const { return impl_->port(); }

void HttpServer::Stop() { impl_->Stop(); }

int HttpServer::open_connections() const { return impl_->open_connections(); }

}  // namespace klaxon::api
