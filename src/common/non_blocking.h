#pragma once
// A thread's promise not to block, for one call.
//
// The HTTP server runs requests of kinds that usually wait for a durable commit on its worker
// pool, which costs two thread hand-offs. Some of those requests can be answered without waiting
// (a deduplicated StartIncident answered from memory). So the server first tries such a request
// on its I/O thread inside a NonBlockingScope: code that would sleep (Store::Write, Store::Read,
// anything waiting for I/O) checks IsNonBlocking() and returns WouldBlockError() instead, before
// any side effect. The server then runs the request again on the pool, outside the scope.
//
// Contract for code that honours the scope: a call that returns WouldBlockError() has changed
// nothing (no write, no outbox entry, no external call), so running it again is safe. Code that
// cannot tell need not check: the store refuses for it.
//
// Thread-safety: the flag is per thread; scopes nest.

#include "absl/status/status.h"

namespace klaxon {

class NonBlockingScope {
 public:
  NonBlockingScope();
  ~NonBlockingScope();
  NonBlockingScope(const NonBlockingScope&) = delete;
  NonBlockingScope& operator=(const NonBlockingScope&) = delete;

 private:
  bool previous_;
};

// Whether the calling thread is inside a NonBlockingScope.
bool IsNonBlocking();

// The error returned by an operation that would have to block inside a NonBlockingScope
// (absl::StatusCode::kUnavailable, marked so that IsWouldBlock recognises it). It never reaches a
// client: the HTTP layer retries the request where it may block.
absl::Status WouldBlockError();
bool IsWouldBlock(const absl::Status& status);

}  // namespace klaxon
