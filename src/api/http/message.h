#pragma once
// HTTP messages as the api layer sees them: independent of Boost.Beast so that codecs, auth and
// handlers can be unit-tested without a socket. The server (api/http/server.h) converts.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Not a response: Handle(), called inside a NonBlockingScope (common/non_blocking.h), could not
  // answer without blocking and changed nothing. The server runs the request again on its pool.
  bool would_block = false;

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
  // set instead (and must not have changed anything); outside one it never does.
  virtual HttpResponse Handle(const HttpRequest& request) = 0;

  // Names the kind of request (for the dispatcher: the API operation) as a hash. Called on an I/O
  // thread before Handle(): must be cheap and must not block. Requests of one kind should behave
  // alike (all block on a commit, or none does); a collision only costs efficiency. The default
  // hashes the method and the path without its query string.
  virtual uint64_t RouteKey(const HttpRequest& request) const;
};

}  // namespace klaxon::api
