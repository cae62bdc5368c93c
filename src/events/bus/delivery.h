#pragma once
// Delivery of matched events to rule targets: the outbox handlers of events/bus.
//
// - Response plan targets ("events.target", type p): IncidentService::Start with
//     clientToken   "events-" + outbox entry id (stable across retries and restarts, so a
//                   redelivery after a crash replays the first result instead of creating twice)
//     triggerDetails source "aws.events", triggerArn = rule ARN, timestamp = event time,
//                   rawData = the matched event JSON (cut to 10,000 characters)
//     relatedItems  INVOLVED_RESOURCE {arn} for each event resource that is an ARN
//     dedupe key    the rule ARN (the plan's dedupeString wins when set; IncidentService decides)
//     source        createdBy = the assumed-role ARN of the target's RoleArn,
//                   invokedBy "events.amazonaws.com", source "aws.events", resourceArn = rule ARN
//   in the rule's account and Region. Retryable: Unavailable/Internal/... from the service;
//   everything else (no replication set, no such plan, ...) dead-letters the entry.
// - Webhook targets ("events.target", type w): POST of the target's input (input.h) with
//   Content-Type application/json (or text/plain when the input is not JSON), the target's
//   HttpParameters (headers, query string, '*' path values). 2xx = delivered; 401, 407, 409,
//   429, 5xx and connection errors are retried (as API destinations); other statuses dead-letter.
// - Event bus targets ("events.bus", type b): a transactional handler that matches the event on
//   the target bus and enqueues its targets in the same transaction that removes the entry.
//
// Thread-safety: handlers run concurrently on outbox threads; everything here is immutable after
// Register().

#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "events/bus/event_bus_service.h"
#include "events/bus/webhook_client.h"
#include "incidents/incident_service.h"
#include "outbox/outbox.h"

namespace klaxon::events {

struct DeliveryOptions {
  absl::Duration webhook_timeout = absl::Seconds(5);  // API destinations: 5 s
  size_t max_related_items = 40;  // INVOLVED_RESOURCE items per incident (Limits: 50 in all)
  size_t max_raw_data = 10000;    // TriggerDetails.rawData (botocore 1.43)
};

class TargetDelivery {
 public:
  // `incidents` may be null (response plan targets then dead-letter); `webhooks` may be null (a
  // BeastWebhookClient is used). All must outlive this object.
  TargetDelivery(EventBusService& buses, incidents::IncidentService* incidents,
                 WebhookClient* webhooks = nullptr, DeliveryOptions options = {});

  // Registers the handlers of kTargetKind and kBusKind on `outbox`.
  absl::Status Register(outbox::Outbox& outbox);

  // The plain handler (response plans, webhooks). Exposed for tests.
  absl::Status Deliver(const outbox::Entry& entry);

 private:
  EventBusService& buses_;
  incidents::IncidentService* incidents_;
  std::unique_ptr<WebhookClient> owned_webhooks_;
  WebhookClient* webhooks_;
  const DeliveryOptions options_;
};

}  // namespace klaxon::events
