#pragma once
// The contract between the protocol layer and the operation handlers of api/services/<service>.
//
// A handler receives the operation's input as a JSON object in the *model's* shape: member names
// exactly as in the botocore model, already validated against it (required members present;
// lengths, patterns, enums, ranges and list sizes within the model's limits), whatever the wire
// protocol was. Conventions inside that object: timestamps are JSON numbers of epoch seconds
// (double); blobs are base64 strings; rest-json members bound to the URI, query string or headers
// are merged in under their member names. The handler returns the output shape in the same
// conventions; absent optional members are simply omitted. Errors: absl::Status, with the AWS
// exception named through AwsError() (common/status.h) when the default for the code is not right.

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "api/auth.h"
#include "boost/json/object.hpp"

namespace klaxon::api {

struct CallContext {
  Caller caller;
  std::string service;     // botocore service name: "ssm-incidents", "ssm", "events", "cloudwatch"
  std::string operation;   // model operation name: "StartIncident"
  std::string request_id;  // also sent as x-amzn-RequestId
};

using Handler = std::function<absl::StatusOr<boost::json::object>(const CallContext&,
                                                                  const boost::json::object&)>;

// An operation's handler for a caller inside a NonBlockingScope (the HTTP server's I/O thread),
// which may complete later without holding a thread. Returns an error without calling `done`:
// WouldBlockError() (run the Handler instead, where it may block) or the call's own error.
// Otherwise returns OK and calls `done` exactly once, at once or from another thread (the store's
// writer): `done` only hands the result over.
using AsyncHandler =
    std::function<absl::Status(const CallContext&, const boost::json::object&,
                               std::function<void(absl::StatusOr<boost::json::object>)> done)>;

// Operation handlers by (service, operation). Filled at startup, read-only afterwards; lookups are
// then thread-safe.
//
// A handler added with `honours_non_blocking` promises that, called inside a NonBlockingScope
// (common/non_blocking.h), it either answers without blocking or returns WouldBlockError() having
// changed nothing. Inside a NonBlockingScope the dispatcher refuses every other operation for
// it (WouldBlock) before decoding the input: only these are ever tried on an I/O thread when
// their kind usually blocks (see api/http/server.h). An operation with an AsyncHandler (AddAsync)
// is called through it there instead.
class OperationTable {
 public:
  // What is registered for one operation.
  struct Entry {
    Handler handler;
    bool honours_non_blocking = false;
    AsyncHandler async;  // empty: none

    // Whether it may be called inside a NonBlockingScope (see above).
    bool TriedWithoutBlocking() const { return honours_non_blocking || bool(async); }
  };

  void Add(const std::string& service, const std::string& operation, Handler handler,
           bool honours_non_blocking = false) {
    handlers_[service + "/" + operation] = Entry{std::move(handler), honours_non_blocking};
  }
  // nullptr when the operation has no handler (answered as an unknown operation).
  const Entry* Lookup(const std::string& service, const std::string& operation) const {
    auto it = handlers_.find(service + "/" + operation);
    return it == handlers_.end() ? nullptr : &it->second;
  }
  const Handler* Find(const std::string& service, const std::string& operation) const {
    const Entry* entry = Lookup(service, operation);
    return entry == nullptr ? nullptr : &entry->handler;
  }
  // An AsyncHandler, used instead of the Handler inside a NonBlockingScope. The operation must
  // have been added first.
  void AddAsync(const std::string& service, const std::string& operation, AsyncHandler handler) {
    handlers_.at(service + "/" + operation).async = std::move(handler);
  }

 private:
  std::map<std::string, Entry> handlers_;
};

}  // namespace klaxon::api
