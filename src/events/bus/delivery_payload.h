#pragma once
// The outbox payload of one (event, rule target) pair (internal to events/bus).
//
//   e1\nTYPE\nREGION\nRULE_ARN\nEVENT_TIME_US\nINGESTION_US\nHOPS\nTARGET_JSON\nEVENT_JSON
//
// TYPE is p (response plan), w (webhook) or b (event bus). TARGET_JSON is the target as
// PutTargets stored it (one line); EVENT_JSON the event envelope exactly as matched (last, so it
// needs no escaping). The target travels with the event: removing or changing a target later does
// not change what an accepted event is delivered to.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "events/bus/types.h"

namespace klaxon::events::internal {

inline constexpr char kTargetKind[] = "events.target";  // response plans, webhooks
inline constexpr char kBusKind[] = "events.bus";        // event bus targets (transactional)

// Events forwarded from bus to bus more than this many times are dropped (loop guard).
inline constexpr int kMaxHops = 4;

struct DeliveryPayload {
  TargetType type = TargetType::kResponsePlan;
  std::string region;
  std::string rule_arn;
  absl::Time event_time;
  absl::Time ingestion_time;
  int hops = 0;
  Target target;
  std::string event_json;
};

char TargetTypeCode(TargetType type);

// "e1\nTYPE\nREGION\nRULE_ARN\n": the part of the payload fixed per (rule, target).
std::string PayloadHead(TargetType type, std::string_view region, std::string_view rule_arn);

// Appends the per-event part to `head` (target_json: the target's serialized JSON).
std::string BuildPayload(std::string_view head, absl::Time event_time, absl::Time ingestion_time,
                         int hops, std::string_view target_json, std::string_view event_json);

// Errors: DataLoss for a payload that is not of this format.
absl::StatusOr<DeliveryPayload> ParsePayload(std::string_view payload);

}  // namespace klaxon::events::internal
