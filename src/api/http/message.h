#pragma once
// HTTP messages as the api layer sees them: independent of Boost.Beast so that codecs, auth and
// handlers can be unit-tested without a socket. The server (api/http/server.h) converts.

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

  void SetHeader(std::string name, std::string value);
};

// Everything behind the HTTP listener: auth, protocol, dispatch. Thread-safe; Handle() may block
// (it runs on a worker thread, never on the I/O threads).
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual HttpResponse Handle(const HttpRequest& request) = 0;
};

}  // namespace klaxon::api
