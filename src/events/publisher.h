#pragma once
// How klaxon's own services publish events to EventBridge (CloudWatch alarm state changes,
// configuration changes, ...). Publishing is part of the caller's transaction when a WriteTxn is
// given, so "state changed" and "event accepted" commit together.
//
// Thread-safety: implementations are thread-safe.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "storage/store.h"

namespace klaxon::events {

// One event as a service emits it; the bus builds the envelope (version, id, account, region).
struct ServiceEvent {
  std::string id;  // the envelope's id; empty: the bus generates one
  std::string account_id;
  std::string region;
  std::string source;       // "aws.cloudwatch"
  std::string detail_type;  // "CloudWatch Alarm State Change"
  std::string detail_json;  // the "detail" object as JSON text
  std::vector<std::string> resources;
  absl::Time time;
};

class EventPublisher {
 public:
  virtual ~EventPublisher() = default;
  // Puts the event on the default bus of (account, region) inside `txn`: the matching rule
  // targets are enqueued in the durable outbox in that same transaction.
  virtual absl::Status PublishInTxn(storage::WriteTxn& txn, const ServiceEvent& event) = 0;
};

}  // namespace klaxon::events
