#pragma once
// How a service joins a Region node. Each service folder's wiring lives in
// src/server/<service>_component.cc as one Make<Service>Component(NodeContext&) function that
// registers its operation handlers and returns the background work it runs (delivery threads,
// schedulers), which the node starts after the listener is up and stops before the store closes.

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/operation.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "server/config.h"
#include "storage/store.h"

namespace klaxon::opsitems {
class OpsItemService;
}
namespace klaxon::incidents {
class IncidentManager;
}
namespace klaxon::outbox {
class Outbox;
}
namespace klaxon::events {
class EventPublisher;
}

namespace klaxon::server {

// What the node has built so far; components read it and may fill the optional slots they own.
struct NodeContext {
  const Config& config;
  Clock& clock;
  metrics::Registry& metrics;
  storage::Store& store;
  api::OperationTable& operations;
  opsitems::OpsItemService& ops_items;
  incidents::IncidentManager& incidents;
  outbox::Outbox* outbox = nullptr;              // set by the outbox component
  events::EventPublisher* event_publisher = nullptr;  // set by the EventBridge component
};

// Background work of a component. Start() runs after every component is built; Stop() runs in
// reverse order before the store closes.
class Component {
 public:
  virtual ~Component() = default;
  virtual absl::Status Start() { return absl::OkStatus(); }
  virtual void Stop() {}
};

}  // namespace klaxon::server
