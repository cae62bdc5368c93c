#include "api/http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "api/http/sigv4.h"
#include "common/non_blocking.h"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::api {
namespace {

using ::testing::HasSubstr;

// A blocking HTTP/1.1 client over a plain socket, so that tests control every byte.
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~RawClient() {
    if (fd_ >= 0) close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  struct Response {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string Header(std::string_view name) const {
      for (const auto& [k, v] : headers) {
        if (absl::EqualsIgnoreCase(k, absl::string_view(name.data(), name.size()))) return v;
      }
      return "";
    }
  };

  // Reads one response (status line, headers, Content-Length body). nullopt if the connection
  // closed or nothing complete arrived within `timeout`.
  std::optional<Response> Read(std::chrono::milliseconds timeout = std::chrono::seconds(5),
                               bool head_request = false) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(deadline)) return std::nullopt;
    }
    Response response;
    std::string head = buffer_.substr(0, header_end);
    buffer_.erase(0, header_end + 4);
    size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    if (status_line.size() < 12 || !absl::SimpleAtoi(status_line.substr(9, 3), &response.status)) {
      return std::nullopt;
    }
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t end = head.find("\r\n", pos);
      if (end == std::string::npos) end = head.size();
      std::string line = head.substr(pos, end - pos);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        response.headers.emplace_back(
            line.substr(0, colon), std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
      }
      pos = end + 2;
    }
    size_t length = 0;
    std::string cl = response.Header("content-length");
    if (!cl.empty() && !absl::SimpleAtoi(cl, &length)) return std::nullopt;
    if (head_request) length = 0;
    while (buffer_.size() < length) {
      if (!Fill(deadline)) return std::nullopt;
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return response;
  }

  // True if the server closes the connection (EOF or reset) within `timeout`; buffered or newly
  // arriving bytes are discarded.
  bool WaitClosed(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[4096];
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return true;
    }
  }

 private:
  bool Fill(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[16384];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

// Echoes the request. "/slow" blocks until released (or for `slow_ms`), "/throw" throws.
class TestHandler : public RequestHandler {
 public:
  HttpResponse Handle(const HttpRequest& request) override {
    // Honours NonBlockingScope (message.h): /slow always blocks; /maybe blocks unless "?fast".
    if (IsNonBlocking() &&
        (absl::StartsWith(request.target, "/slow") || (absl::StartsWith(request.target, "/maybe") &&
                                                       !absl::EndsWith(request.target, "?fast")))) {
      HttpResponse retry;
      retry.would_block = true;
      return retry;
    }
    // /later: blocks (sleeps slow_ms) outside a NonBlockingScope; inside one it answers with a
    // deferred response, completed from another thread once Release() is called.
    if (absl::StartsWith(request.target, "/later") && IsNonBlocking()) {
      calls_.fetch_add(1);
      auto deferred = std::make_shared<DeferredResponse>();
      std::thread([this, deferred, target = request.target] {
        in_slow_.fetch_add(1);
        {
          std::unique_lock<std::mutex> lock(gate_mu_);
          gate_.wait(lock, [&] { return released_; });
        }
        in_slow_.fetch_sub(1);
        deferred->Complete([target] {
          HttpResponse response;
          response.body = "deferred " + target;
          return response;
        });
      }).detach();
      HttpResponse pending;
      pending.deferred = std::move(deferred);
      return pending;
    }
    calls_.fetch_add(1);
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_ = request;
    }
    if (absl::StartsWith(request.target, "/throw")) throw std::runtime_error("boom");
    if (absl::StartsWith(request.target, "/slow") || absl::StartsWith(request.target, "/later") ||
        (absl::StartsWith(request.target, "/maybe") && !absl::EndsWith(request.target, "?fast"))) {
      in_slow_.fetch_add(1);
      if (!notified_.exchange(true)) started_.Notify();
      {
        // Blocks (as on a commit) for slow_ms, or until Release().
        std::unique_lock<std::mutex> lock(gate_mu_);
        gate_.wait_for(lock, std::chrono::milliseconds(slow_ms_.load()), [&] { return released_; });
      }
      in_slow_.fetch_sub(1);
    }
    HttpResponse response;
    if (absl::StartsWith(request.target, "/nocontent")) {
      response.status = 204;
      response.body = "ignored";
      response.SetHeader("X-Split", "a\r\nInjected: 1");
      response.SetHeader("X-Fine", "yes");
      return response;
    }
    response.status = absl::StartsWith(request.target, "/created") ? 201 : 200;
    response.SetHeader("Content-Type", "text/plain");
    response.SetHeader("X-Echo-Method", request.method);
    response.body = absl::StrCat(request.method, " ", request.target, " ", request.body);
    return response;
  }

  int calls() const { return calls_.load(); }
  HttpRequest last() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }
  void set_slow_ms(int ms) { slow_ms_.store(ms); }
  absl::Notification& started() { return started_; }
  // Slow handlers now running.
  int in_slow() const { return in_slow_.load(); }
  // Ends the wait of every slow handler, present and future.
  void Release() {
    std::lock_guard<std::mutex> lock(gate_mu_);
    released_ = true;
    gate_.notify_all();
  }

 private:
  std::atomic<int> calls_{0};
  std::atomic<int> in_slow_{0};
  std::atomic<int> slow_ms_{300};
  std::atomic<bool> notified_{false};
  absl::Notification started_;
  std::mutex mu_;     // std::mutex: visible to TSan (Debian's absl is not instrumented)
  HttpRequest last_;  // guarded by mu_
  std::mutex gate_mu_;
  std::condition_variable gate_;
  bool released_ = false;  // guarded by gate_mu_
};

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options = {}) {
    server_ = std::make_unique<HttpServer>(std::move(options), handler_, metrics_);
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_NE(server_->port(), 0);
  }
  uint16_t port() const { return server_->port(); }

  TestHandler handler_;
  metrics::Registry metrics_;
  std::unique_ptr<HttpServer> server_;
};

constexpr char kGet[] = "GET /hello?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n";

TEST_F(HttpServerTest, HealthzAndHead) {
  StartServer();
  RawClient client(port());
  ASSERT_TRUE(client.connected());
  client.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "ok");
  EXPECT_FALSE(response->Header("date").empty());
  client.Send("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  auto head = client.Read(std::chrono::seconds(5), /*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-length"), "2");
  // Nothing but the next response follows a HEAD response.
  client.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  auto again = client.Read();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->body, "ok");
  EXPECT_EQ(handler_.calls(), 0);
}

TEST_F(HttpServerTest, Metrics) {
  StartServer();
  RawClient client(port());
  client.Send(kGet);
  ASSERT_TRUE(client.Read());
  client.Send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_THAT(response->Header("content-type"), HasSubstr("text/plain; version=0.0.4"));
  EXPECT_THAT(response->body, HasSubstr("klaxon_http_requests_total{status=\"200\"} 1"));
  EXPECT_THAT(response->body, HasSubstr("klaxon_http_request_seconds_count 1"));
  EXPECT_EQ(handler_.calls(), 1);
}

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer();
  RawClient client(port());
  for (int i = 0; i < 5; ++i) {
    std::string body = absl::StrCat("{\"i\":", i, "}");
    client.Send(absl::StrCat("POST /op", i,
                             " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             "Content-Length: ",
                             body.size(), "\r\n\r\n", body));
    auto response = client.Read();
    ASSERT_TRUE(response) << i;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, absl::StrCat("POST /op", i, " ", body));
    EXPECT_EQ(response->Header("x-echo-method"), "POST");
  }
  EXPECT_EQ(server_->open_connections(), 1);
  EXPECT_EQ(handler_.calls(), 5);
}

TEST_F(HttpServerTest, PipelinedRequests) {
  StartServer();
  RawClient client(port());
  client.Send(absl::StrCat("GET /a HTTP/1.1\r\nHost: x\r\n\r\n",
                           "GET /created HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto first = client.Read();
  auto second = client.Read();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->body, "GET /a ");
  EXPECT_EQ(second->status, 201);
}

TEST_F(HttpServerTest, PassesRequestThrough) {
  StartServer();
  RawClient client(port());
  client.Send(
      "DELETE /tags/arn%3Aaws%3Assm-incidents%3A%3A1%3Aresponse-plan%2Fp?tagKeys=a&tagKeys=b "
      "HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Date: 20240101T000000Z\r\nMy-Header:  a  b \r\n"
      "Content-Length: 0\r\n\r\n");
  ASSERT_TRUE(client.Read());
  HttpRequest last = handler_.last();
  EXPECT_EQ(last.method, "DELETE");
  EXPECT_EQ(last.target,
            "/tags/arn%3Aaws%3Assm-incidents%3A%3A1%3Aresponse-plan%2Fp?tagKeys=a&tagKeys=b");
  EXPECT_EQ(last.Header("x-amz-date"), "20240101T000000Z");
  EXPECT_EQ(last.Header("my-header"), "a  b");
  EXPECT_EQ(last.Header("Host"), "127.0.0.1");
  EXPECT_EQ(last.remote_address, "127.0.0.1");
  EXPECT_EQ(last.body, "");
}

TEST_F(HttpServerTest, ChunkedRequestBody) {
  StartServer();
  RawClient client(port());
  client.Send(
      "POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n");
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "POST /chunked hello world");
  // The connection stays usable.
  client.Send(kGet);
  ASSERT_TRUE(client.Read());
}

TEST_F(HttpServerTest, ExpectContinue) {
  StartServer();
  RawClient client(port());
  client.Send(
      "POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  auto interim = client.Read();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  EXPECT_EQ(handler_.calls(), 0);
  client.Send("abcde");
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "POST /upload abcde");
}

TEST_F(HttpServerTest, BodyTooLarge) {
  HttpServerOptions options;
  options.body_limit = 1024;
  StartServer(options);
  {
    // Declared too large: refused from the header, without 100 Continue.
    RawClient client(port());
    client.Send(
        "POST /big HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 413);
    EXPECT_TRUE(client.WaitClosed(std::chrono::seconds(2)));
  }
  {
    // Chunked, growing past the limit.
    RawClient client(port());
    std::string chunk(600, 'a');
    client.Send(absl::StrCat("POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
                             "258\r\n", chunk, "\r\n258\r\n", chunk, "\r\n0\r\n\r\n"));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 413);
    EXPECT_TRUE(client.WaitClosed(std::chrono::seconds(2)));
  }
  {
    // Exactly at the limit is fine.
    RawClient client(port());
    client.Send(absl::StrCat("POST /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\n\r\n",
                             std::string(1024, 'b')));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }
  EXPECT_EQ(handler_.calls(), 1);
}

TEST_F(HttpServerTest, MalformedRequests) {
  StartServer();
  const char* bad[] = {
      "GARBAGE\r\n\r\n",
      "GET / HTTP/1.1\r\nBad Header Line\r\n\r\n",
      "GET / HTTP/9.9\r\nHost: x\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
  };
  for (const char* request : bad) {
    RawClient client(port());
    client.Send(request);
    auto response = client.Read();
    ASSERT_TRUE(response) << request;
    EXPECT_EQ(response->status, 400) << request;
    EXPECT_TRUE(client.WaitClosed(std::chrono::seconds(2))) << request;
  }
  EXPECT_EQ(handler_.calls(), 0);
  // The server is still fine.
  RawClient client(port());
  client.Send(kGet);
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST_F(HttpServerTest, LargeHeaderAndBodyWithinLimits) {
  StartServer();
  RawClient client(port());
  std::string body(size_t{3} * 1024 * 1024, 'z');
  client.Send(absl::StrCat("POST /big HTTP/1.1\r\nHost: x\r\nX-Big: ", std::string(40000, 'a'),
                           "\r\nContent-Length: ", body.size(), "\r\n\r\n", body));
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body.size(), std::string("POST /big ").size() + body.size());
  EXPECT_EQ(handler_.last().Header("x-big").size(), 40000u);
}

TEST_F(HttpServerTest, HeaderTooLarge) {
  HttpServerOptions options;
  options.header_limit = 1024;
  StartServer(options);
  RawClient client(port());
  client.Send(
      absl::StrCat("GET / HTTP/1.1\r\nHost: x\r\nX-Big: ", std::string(4000, 'a'), "\r\n\r\n"));
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
}

TEST_F(HttpServerTest, SlowHeaderIsDisconnected) {
  HttpServerOptions options;
  options.header_timeout = absl::Milliseconds(200);
  StartServer(options);
  RawClient slow(port());
  slow.Send("GET / HTTP/1.1\r\nHost: x\r\n");  // never finishes the header
  RawClient silent(port());                    // never sends anything
  // Closed by the 200 ms header timeout: well before the default's 10 s (no tighter bound, so a
  // loaded machine cannot fail it).
  EXPECT_TRUE(slow.WaitClosed(std::chrono::seconds(8)));
  EXPECT_TRUE(silent.WaitClosed(std::chrono::seconds(8)));
  EXPECT_EQ(handler_.calls(), 0);
}

TEST_F(HttpServerTest, SlowBodyIsDisconnected) {
  HttpServerOptions options;
  options.body_timeout = absl::Milliseconds(200);
  StartServer(options);
  RawClient client(port());
  client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_TRUE(client.WaitClosed(std::chrono::seconds(3)));
  EXPECT_EQ(handler_.calls(), 0);
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosed) {
  HttpServerOptions options;
  options.idle_timeout = absl::Milliseconds(200);
  StartServer(options);
  RawClient client(port());
  client.Send(kGet);
  ASSERT_TRUE(client.Read());
  EXPECT_TRUE(client.WaitClosed(std::chrono::seconds(3)));
  for (int i = 0; i < 100 && server_->open_connections() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server_->open_connections(), 0);
}

TEST_F(HttpServerTest, ConnectionCloseAndHttp10) {
  StartServer();
  {
    RawClient client(port());
    client.Send("GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->Header("connection"), "close");
    EXPECT_TRUE(client.WaitClosed(std::chrono::seconds(2)));
  }
  {
    RawClient client(port());
    client.Send("GET /a HTTP/1.0\r\n\r\n");
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_TRUE(client.WaitClosed(std::chrono::seconds(2)));
  }
}

TEST_F(HttpServerTest, HandlerExceptionIs500) {
  StartServer();
  RawClient client(port());
  client.Send("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n");
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
  client.Send(kGet);
  ASSERT_TRUE(client.Read());
}

TEST_F(HttpServerTest, NoContentAndUnsafeHeaders) {
  StartServer();
  RawClient client(port());
  client.Send("DELETE /nocontent HTTP/1.1\r\nHost: x\r\n\r\n");
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 204);
  EXPECT_EQ(response->Header("content-length"), "");
  EXPECT_EQ(response->Header("x-fine"), "yes");
  EXPECT_EQ(response->Header("x-split"), "");
  EXPECT_EQ(response->Header("injected"), "");
  // The next response on the connection is intact (no stray body bytes).
  client.Send(kGet);
  auto next = client.Read();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(next->body, "GET /hello?x=1 ");
}

// Blocking handlers must not hold up the I/O thread: the first of a new kind runs inline until the
// stall watchdog hands the io_context on, the following ones run off the I/O thread.
TEST_F(HttpServerTest, HandlersRunOffTheIoThreads) {
  HttpServerOptions options;
  options.io_threads = 1;
  options.worker_threads = 8;
  StartServer(options);
  handler_.set_slow_ms(60000);  // each holds its thread until Release()
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 6; ++i) {
    clients.push_back(std::make_unique<RawClient>(port()));
    clients.back()->Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  // All six block at once (the pool runs them side by side)...
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (handler_.in_slow() < 6 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(handler_.in_slow(), 6);
  // ...and while they block, the I/O thread still answers.
  RawClient health(port());
  health.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  auto h = health.Read(std::chrono::seconds(30));
  ASSERT_TRUE(h);
  EXPECT_EQ(handler_.in_slow(), 6);
  handler_.Release();
  for (auto& c : clients) {
    auto response = c->Read(std::chrono::seconds(30));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }
}

TEST_F(HttpServerTest, NonBlockingHandlersRunInlineOnTheIoThreads) {
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
  // Under TSan a trivial handler often sleeps on the sanitizer runtime's own locks, so the server
  // rightly learns its kind as blocking; the verdict is checked in the other builds.
  GTEST_SKIP() << "the handler blocks inside TSan's runtime";
#endif
#endif
  StartServer();
  RawClient client(port());
  for (int i = 0; i < 20; ++i) {
    client.Send(kGet);
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }
  HttpServerStats stats = server_->stats();
  EXPECT_EQ(stats.inline_requests, 20u);
  EXPECT_EQ(stats.pooled_requests, 0u);
  // No hand-off is asserted: a handler preempted for longer than the stall timeout on a loaded
  // machine (sanitizers, parallel tests) is handed off, which is correct behaviour.
}

TEST_F(HttpServerTest, BlockingKindsMoveOffTheIoThreads) {
  {
    TestHandler handler;
    metrics::Registry metrics;
    HttpServer server({}, handler, metrics);
    ASSERT_TRUE(server.Start().ok());
    handler.set_slow_ms(5);  // sleeps: the thread blocks, as on a commit
    RawClient client(server.port());
    for (int i = 0; i < 10; ++i) {
      client.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
      auto response = client.Read();
      ASSERT_TRUE(response);
      EXPECT_EQ(response->status, 200);
    }
    // The first call of an unknown kind runs inline; once it is seen to block, the kind runs
    // off the I/O threads.
    HttpServerStats stats = server.stats();
    EXPECT_EQ(stats.inline_requests, 1u);
    EXPECT_EQ(stats.pooled_requests, 9u);
    // Other kinds are unaffected.
    client.Send(kGet);
    ASSERT_TRUE(client.Read());
    EXPECT_EQ(server.stats().inline_requests, 2u);
    server.Stop();
  }
}

// A kind that blocks is first tried inside a NonBlockingScope on the I/O thread: the calls that
// can answer there do, without a hand-off; the others run again on the pool.
TEST_F(HttpServerTest, PooledKindsAreTriedWithoutBlockingFirst) {
  TestHandler handler;
  metrics::Registry metrics;
  HttpServer server({}, handler, metrics);
  ASSERT_TRUE(server.Start().ok());
  handler.set_slow_ms(5);
  RawClient client(server.port());
  for (int i = 0; i < 3; ++i) {
    client.Send("GET /maybe?slow HTTP/1.1\r\nHost: x\r\n\r\n");
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "GET /maybe?slow ");
  }
  // The first (unknown kind) ran inline and blocked; the next two were tried, then pooled.
  HttpServerStats stats = server.stats();
  EXPECT_EQ(stats.inline_requests, 1u);
  EXPECT_EQ(stats.pooled_requests, 2u);
  EXPECT_EQ(stats.nonblocking_retried, 2u);
  EXPECT_EQ(stats.nonblocking_answered, 0u);
  for (int i = 0; i < 5; ++i) {
    client.Send("GET /maybe?fast HTTP/1.1\r\nHost: x\r\n\r\n");
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "GET /maybe?fast ");
  }
  stats = server.stats();
  EXPECT_EQ(stats.nonblocking_answered, 5u);
  EXPECT_EQ(stats.inline_requests, 6u);
  EXPECT_EQ(stats.pooled_requests, 2u);
  EXPECT_EQ(handler.calls(), 8);  // a refused try is not a call
  server.Stop();
}

// A deferred response is waited for without a thread: while it is pending, the same I/O thread
// (the only one) keeps serving other connections, and the response arrives once completed.
TEST_F(HttpServerTest, DeferredResponsesAreWaitedForWithoutAThread) {
  HttpServerOptions options;
  options.io_threads = 1;
  StartServer(options);
  handler_.set_slow_ms(1);  // the first (probe) call runs inline and blocks: the kind is pooled
  RawClient first(port());
  first.Send("GET /later?0 HTTP/1.1\r\nHost: x\r\n\r\n");
  auto probe = first.Read(std::chrono::seconds(30));
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->body, "GET /later?0 ");
  std::vector<std::unique_ptr<RawClient>> waiting;
  for (int i = 1; i <= 3; ++i) {
    waiting.push_back(std::make_unique<RawClient>(port()));
    waiting.back()->Send(absl::StrCat("GET /later?", i, " HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (handler_.in_slow() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(handler_.in_slow(), 3);
  RawClient other(port());
  other.Send(kGet);
  auto served = other.Read(std::chrono::seconds(30));
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 200);
  handler_.Release();
  for (int i = 1; i <= 3; ++i) {
    auto response = waiting[i - 1]->Read(std::chrono::seconds(30));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, absl::StrCat("deferred /later?", i));
  }
  HttpServerStats stats = server_->stats();
  EXPECT_EQ(stats.deferred_requests, 3u);
  EXPECT_EQ(stats.nonblocking_answered, 3u);
  EXPECT_EQ(stats.pooled_requests, 0u);
}

TEST_F(HttpServerTest, StalledInlineHandlerIsHandedOff) {
  HttpServerOptions options;
  options.io_threads = 1;
  options.worker_threads = 0;  // everything inline: only the stall watchdog protects others
  options.stall_timeout = absl::Milliseconds(20);
  StartServer(options);
  handler_.set_slow_ms(60000);  // holds its I/O thread until Release()
  RawClient slow(port());
  RawClient other(port());  // same (only) io_context
  slow.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(handler_.started().WaitForNotificationWithTimeout(absl::Seconds(5)));
  // The other connection is served while the slow handler still holds the I/O thread (no timing:
  // without the hand-off these reads would wait for Release()).
  for (int i = 0; i < 5; ++i) {
    other.Send(kGet);
    auto response = other.Read(std::chrono::seconds(30));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }
  EXPECT_EQ(handler_.in_slow(), 1);
  handler_.Release();
  auto response = slow.Read(std::chrono::seconds(30));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  // At least the slow handler's thread was handed off (a preempted fast handler may add one).
  EXPECT_GE(server_->stats().handoffs, 1u);
  // The thread that was stuck parks as a spare; the connection keeps working afterwards.
  handler_.set_slow_ms(1);
  slow.Send(kGet);
  ASSERT_TRUE(slow.Read());
  other.Send(kGet);
  ASSERT_TRUE(other.Read());
}

TEST(RequestHandler, DefaultRouteKeyIsMethodAndPath) {
  TestHandler handler;
  HttpRequest a{.method = "GET", .target = "/x?a=1"};
  HttpRequest b{.method = "GET", .target = "/x?b=2"};
  HttpRequest c{.method = "POST", .target = "/x"};
  HttpRequest d{.method = "GET", .target = "/y"};
  EXPECT_EQ(handler.RouteKey(a), handler.RouteKey(b));
  EXPECT_NE(handler.RouteKey(a), handler.RouteKey(c));
  EXPECT_NE(handler.RouteKey(a), handler.RouteKey(d));
}

TEST_F(HttpServerTest, GracefulStopFinishesInFlightRequests) {
  StartServer();
  handler_.set_slow_ms(600000);  // holds until Release(): no timing in this test
  RawClient busy(port());
  RawClient idle(port());
  idle.Send(kGet);
  ASSERT_TRUE(idle.Read());
  busy.Send("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
  ASSERT_TRUE(handler_.started().WaitForNotificationWithTimeout(absl::Seconds(5)));

  std::thread stopper([&] { server_->Stop(); });
  // The idle connection is closed while the in-flight request is still being handled...
  EXPECT_TRUE(idle.WaitClosed(std::chrono::seconds(20)));
  EXPECT_EQ(handler_.in_slow(), 1);
  // ...which then completes.
  handler_.Release();
  auto response = busy.Read(std::chrono::seconds(20));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "POST /slow hi");
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_TRUE(busy.WaitClosed(std::chrono::seconds(20)));
  stopper.join();
  // No longer accepting.
  RawClient late(port());
  EXPECT_FALSE(late.connected() && late.Send(kGet) && late.Read(std::chrono::milliseconds(500)));
}

TEST_F(HttpServerTest, StopAfterDrainTimeoutClosesConnections) {
  HttpServerOptions options;
  options.drain_timeout = absl::Milliseconds(100);
  StartServer(options);
  handler_.set_slow_ms(600000);  // holds until Release(): no timing in this test
  RawClient busy(port());
  busy.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(handler_.started().WaitForNotificationWithTimeout(absl::Seconds(5)));
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    server_->Stop();
    stopped = true;
  });
  // After the drain timeout the connection is closed while its handler still runs...
  EXPECT_TRUE(busy.WaitClosed(std::chrono::seconds(30)));
  EXPECT_EQ(handler_.in_slow(), 1);
  // ...and Stop() waits for the handler to return.
  EXPECT_FALSE(stopped.load());
  handler_.Release();
  stopper.join();
  EXPECT_TRUE(stopped.load());
  EXPECT_EQ(handler_.in_slow(), 0);
}

TEST_F(HttpServerTest, MaxConnections) {
  HttpServerOptions options;
  options.max_connections = 2;
  StartServer(options);
  RawClient a(port()), b(port());
  a.Send(kGet);
  b.Send(kGet);
  ASSERT_TRUE(a.Read() && b.Read());
  RawClient c(port());
  EXPECT_TRUE(c.WaitClosed(std::chrono::seconds(2)));
}

TEST(HttpServer, ListensOnIpv6Loopback) {
  TestHandler handler;
  metrics::Registry metrics;
  HttpServerOptions options;
  options.host = "[::1]";
  HttpServer server(options, handler, metrics);
  absl::Status status = server.Start();
  if (!status.ok()) GTEST_SKIP() << "no IPv6 loopback: " << status;
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_port = htons(server.port());
  addr.sin6_addr = in6addr_loopback;
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::string reply;
  char buf[1024];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) reply.append(buf, static_cast<size_t>(n));
  close(fd);
  EXPECT_THAT(reply, ::testing::StartsWith("HTTP/1.1 200 OK"));
}

TEST(HttpServer, StartErrors) {
  TestHandler handler;
  metrics::Registry metrics;
  HttpServerOptions bad_host;
  bad_host.host = "not an address";
  HttpServer a(bad_host, handler, metrics);
  EXPECT_EQ(a.Start().code(), absl::StatusCode::kInvalidArgument);

  HttpServer b({}, handler, metrics);
  ASSERT_TRUE(b.Start().ok());
  EXPECT_EQ(b.Start().code(), absl::StatusCode::kFailedPrecondition);
  HttpServerOptions same_port;
  same_port.port = b.port();
  HttpServer c(same_port, handler, metrics);
  EXPECT_EQ(c.Start().code(), absl::StatusCode::kUnavailable);
  b.Stop();
  b.Stop();  // idempotent
}

// ---------------------------------------------------------------------------------------------
// The real aws CLI against the server with SigV4 verification in the handler.

class AuthHandler : public RequestHandler {
 public:
  explicit AuthHandler(const Authenticator& auth) : auth_(auth) {}
  HttpResponse Handle(const HttpRequest& request) override {
    HttpResponse response;
    response.SetHeader("Content-Type", "application/json");
    response.SetHeader("x-amzn-RequestId", "req-1");
    absl::StatusOr<Caller> caller = auth_.Authenticate(request);
    if (!caller.ok()) {
      std::string type = AwsErrorType(caller.status()).value_or("InternalFailure");
      response.status = type == "IncompleteSignatureException" ? 400 : 403;
      response.SetHeader("x-amzn-ErrorType", type);
      response.body = absl::StrCat("{\"__type\":\"", type, "\",\"message\":\"sig failed\"}");
      return response;
    }
    std::lock_guard<std::mutex> lock(mu_);
    callers_.push_back(*caller);
    targets_.push_back(request.target);
    response.body = "{\"tags\":{\"k\":\"v\"}}";
    return response;
  }
  std::vector<Caller> callers() {
    std::lock_guard<std::mutex> lock(mu_);
    return callers_;
  }
  std::vector<std::string> targets() {
    std::lock_guard<std::mutex> lock(mu_);
    return targets_;
  }

 private:
  const Authenticator& auth_;
  std::mutex mu_;                // std::mutex: visible to TSan (Debian's absl is not instrumented)
  std::vector<Caller> callers_;  // guarded by mu_
  std::vector<std::string> targets_;  // guarded by mu_
};

std::pair<int, std::string> RunShell(const std::string& command) {
  std::string out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  int rc = pclose(pipe);
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
}

TEST(HttpServerRealClient, AwsCliIsAuthenticated) {
  if (access("/usr/bin/aws", X_OK) != 0) GTEST_SKIP() << "/usr/bin/aws not installed";
  SigV4Authenticator auth(KeyStore::Default(), SystemClock::Get());
  AuthHandler handler(auth);
  metrics::Registry metrics;
  HttpServer server({}, handler, metrics);
  ASSERT_TRUE(server.Start().ok());
  std::string env = absl::StrCat(
      "env -i PATH=/usr/bin:/bin HOME=/tmp AWS_ACCESS_KEY_ID=test AWS_DEFAULT_REGION=eu-west-1 "
      "AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER= ");
  std::string cmd = absl::StrCat("/usr/bin/aws --endpoint-url http://127.0.0.1:", server.port(),
                                 " ssm-incidents list-tags-for-resource --resource-arn "
                                 "'arn:aws:ssm-incidents::000000000000:response-plan/my plan'");
  auto [rc, out] = RunShell(absl::StrCat(env, "AWS_SECRET_ACCESS_KEY=test ", cmd));
  EXPECT_EQ(rc, 0) << out;
  EXPECT_THAT(out, HasSubstr("\"k\": \"v\""));
  auto callers = handler.callers();
  ASSERT_EQ(callers.size(), 1u);
  EXPECT_EQ(callers[0].account_id, "000000000000");
  EXPECT_EQ(callers[0].region, "eu-west-1");
  EXPECT_EQ(callers[0].signing_service, "ssm-incidents");
  EXPECT_EQ(handler.targets()[0],
            "/tags/arn%3Aaws%3Assm-incidents%3A%3A000000000000%3Aresponse-plan%2Fmy%20plan");

  auto [bad_rc, bad_out] = RunShell(absl::StrCat(env, "AWS_SECRET_ACCESS_KEY=wrong ", cmd));
  EXPECT_NE(bad_rc, 0);
  EXPECT_THAT(bad_out, HasSubstr("InvalidSignatureException"));
  EXPECT_EQ(handler.callers().size(), 1u);
}

TEST(HttpServerRealClient, JsSdkIsAuthenticated) {
  const char* source = std::getenv("KLAXON_SOURCE_DIR");
  std::string clients = absl::StrCat(source ? source : ".", "/tests/clients");
  if (access("/usr/bin/node", X_OK) != 0 ||
      access((clients + "/node_modules/@aws-sdk/client-ssm-incidents").c_str(), R_OK) != 0) {
    GTEST_SKIP() << "node or @aws-sdk/client-ssm-incidents (tests/clients) not installed";
  }
  SigV4Authenticator auth(KeyStore::Default(), SystemClock::Get());
  AuthHandler handler(auth);
  metrics::Registry metrics;
  HttpServer server({}, handler, metrics);
  ASSERT_TRUE(server.Start().ok());
  std::string cmd = absl::StrCat("/usr/bin/node ", KLAXON_HTTP_TESTDATA, "/js_sdk_calls.mjs ",
                                 clients, " http://127.0.0.1:", server.port(), " test ");
  auto [rc, out] = RunShell(cmd + "test");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_THAT(out, HasSubstr("[\"list-tags\",\"ok\"],[\"untag\",\"ok\"],[\"tag\",\"ok\"],"
                             "[\"get-incident-record\",\"ok\"],[\"get-ops-item\",\"ok\"]"));
  auto callers = handler.callers();
  ASSERT_EQ(callers.size(), 5u);
  EXPECT_EQ(callers[0].region, "us-west-2");
  EXPECT_EQ(callers[4].signing_service, "ssm");

  auto [bad_rc, bad_out] = RunShell(cmd + "wrong");
  EXPECT_THAT(bad_out, HasSubstr("[\"list-tags\",\"InvalidSignatureException:403\"]"));
  EXPECT_EQ(handler.callers().size(), 5u);
}

}  // namespace
}  // namespace klaxon::api
