#pragma once
// HTTP messages as the api layer sees them: independent of Boost.Beast so that codecs, auth and
// handlers can be unit-tested without a socket. The server (api/http/server.h) converts.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"

namespace klaxon::api {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request target: path and query, still percent-encoded
  // Header fields in arrival order; names as received (compare case-insensitively).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_address;  // peer IP, for logs

  // The first header named `name` (case-insensitive), or an empty view.
  std::string_view Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
};

struct HttpResponse;

// A response a handler completes later, without holding a thread: the work was queued (a write
// for the store's group commit) and its completion arrives from another thread. Complete() is
// called exactly once, by whoever finishes the work, with a function that builds the response;
// the server calls OnComplete() exactly once and runs that function on the connection's own
// thread. Thread-safe.
class DeferredResponse {
 public:
  using Finish = std::function<HttpResponse()>;
  void Complete(Finish finish);
  // `ready` runs once the response can be built: inside this call if Complete() already ran,
  // else inside Complete() (on the completing thread: it should only hand `finish` over).
  void OnComplete(std::function<void(Finish)> ready);

 private:
  klaxon::Mutex mu_;
  Finish finish_ ABSL_GUARDED_BY(mu_);
  std::function<void(Finish)> ready_ ABSL_GUARDED_BY(mu_);
  bool completed_ ABSL_GUARDED_BY(mu_) = false;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Not a response: Handle(), called inside a NonBlockingScope (common/non_blocking.h), could not
  // answer without blocking and changed nothing. The server runs the request again on its pool.
  bool would_block = false;
  // Not a response yet (only inside a NonBlockingScope): the response is what `deferred`
  // finishes with; the server waits for it without a thread.
  std::shared_ptr<DeferredResponse> deferred;

  void SetHeader(std::string name, std::string value);
};

// 64-bit FNV-1a of `s`: a cheap, stable hash for RequestHandler::RouteKey.
uint64_t HashRouteKey(std::string_view s, uint64_t seed = 0xcbf29ce484222325ULL);

// Everything behind the HTTP listener: auth, protocol, dispatch. Thread-safe. Handle() may block
// (durable commits): the server learns, per RouteKey, which kinds of request block or run long and
// runs those on its worker pool; the others run on the I/O threads (see api/http/server.h).
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // Inside a NonBlockingScope, a handler that would block returns a response with `would_block`
  // set instead (and must not have changed anything), or one with `deferred` set when it queued
  // work that completes later; outside one it does neither.
  virtual HttpResponse Handle(const HttpRequest& request) = 0;

  // Names the kind of request (for the dispatcher: the API operation) as a hash. Called on an I/O
  // thread before Handle(): must be cheap and must not block. Requests of one kind should behave
  // alike (all block on a commit, or none does); a collision only costs efficiency. The default
  // hashes the method and the path without its query string.
  virtual uint64_t RouteKey(const HttpRequest& request) const;
};

}  // namespace klaxon::api
