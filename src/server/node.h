#pragma once
// A Region node: every service of one Region behind one listener, over one data directory.
// This is the only code that knows the concrete backends (SQLite, SigV4, Beast).
//
// Lifecycle: Start() opens the store, builds the services and binds the listener; Stop() (or
// SIGTERM in Run()) stops accepting, lets in-flight requests finish and flushes the store.
// Copy/move: neither.

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "server/config.h"

namespace klaxon::server {

class Node {
 public:
  virtual ~Node() = default;

  // Builds and starts a node from a finalized config (see FinalizeConfig).
  static absl::StatusOr<std::unique_ptr<Node>> Start(const Config& config);

  // The bound TCP port (useful with port 0).
  virtual uint16_t port() const = 0;

  // Blocks until SIGINT/SIGTERM, then stops gracefully.
  virtual void RunUntilSignal() = 0;

  // Graceful stop: in-flight requests finish, the store is flushed and closed. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace klaxon::server
