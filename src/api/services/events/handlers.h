#pragma once
// Operation handlers of EventBridge (`events`, JSON 1.1): event buses, rules, targets, tags,
// PutEvents, TestEventPattern and both sides of SaaS partner event sources (29 operations of the
// Debian botocore model 2015-10-07). Archives, replays, API destinations, connections, global
// endpoints and bus permissions are not registered (UnknownOperationException).
//
// Each handler turns the model-shaped input object (api/operation.h: member names of the model,
// already validated against it, timestamps as epoch-seconds doubles) into a call of
// events::EventBusService in the caller's account and Region (CallContext::caller), and its result
// into the model's output shape. Semantic rules and their errors live in the domain
// (events/bus/event_bus_service.h); handlers only map shapes.
//
// Thread-safety: the registered handlers are thread-safe (they hold only a reference to the
// service, which is thread-safe); `service` must outlive the table.

#include "api/operation.h"
#include "events/bus/event_bus_service.h"

namespace klaxon::api::events {

// Registers the handlers under service "events".
void RegisterEventsHandlers(OperationTable& table, ::klaxon::events::EventBusService& service);

}  // namespace klaxon::api::events

namespace klaxon::api {
using events::RegisterEventsHandlers;
}  // namespace klaxon::api
