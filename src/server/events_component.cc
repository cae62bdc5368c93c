// EventBridge in the node: the bus service (rules compiled from the store at startup), its
// operation handlers, the outbox handlers that deliver matched events (response plans through the
// node's IncidentService, webhooks, other buses), and the EventPublisher other services use.

#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "api/services/events/handlers.h"
#include "common/status.h"
#include "events/bus/delivery.h"
#include "events/bus/event_bus_service.h"
#include "incidents/incident_manager.h"
#include "server/component.h"

namespace klaxon::server {
namespace {

class EventsComponent final : public Component {
 public:
  EventsComponent(std::unique_ptr<events::EventBusService> service,
                  std::unique_ptr<events::TargetDelivery> delivery)
      : service_(std::move(service)), delivery_(std::move(delivery)) {}

 private:
  std::unique_ptr<events::EventBusService> service_;
  std::unique_ptr<events::TargetDelivery> delivery_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Component>> MakeEventsComponent(NodeContext& context) {
  if (context.outbox == nullptr) {
    return absl::FailedPreconditionError(
        "the EventBridge component needs the outbox component before it");
  }
  events::EventBusOptions options;
  options.default_region = context.config.region;
  options.metrics = &context.metrics;
  auto service = std::make_unique<events::EventBusService>(context.store, context.clock,
                                                           *context.outbox, options);
  KLAXON_RETURN_IF_ERROR(service->Load());
  auto delivery =
      std::make_unique<events::TargetDelivery>(*service, &context.incidents.incidents());
  KLAXON_RETURN_IF_ERROR(delivery->Register(*context.outbox));
  api::RegisterEventsHandlers(context.operations, *service);
  context.event_publisher = service.get();
  return std::unique_ptr<Component>(new EventsComponent(std::move(service), std::move(delivery)));
}

}  // namespace klaxon::server
