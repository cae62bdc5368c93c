#pragma once
// ARNs of EventBridge resources and of the targets klaxon delivers to.
//
//   event bus            arn:aws:events:REGION:ACCOUNT:event-bus/NAME
//   rule (default bus)   arn:aws:events:REGION:ACCOUNT:rule/NAME
//   rule (other bus)     arn:aws:events:REGION:ACCOUNT:rule/BUS/NAME   (BUS may hold '/': partner)
//   event source         arn:aws:events:REGION::event-source/aws.partner/PARTNER/.../NAME
//
// All functions are pure and thread-safe.

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "events/bus/types.h"

namespace klaxon::events {

std::string EventBusArn(std::string_view region, std::string_view account, std::string_view bus);
std::string RuleArn(std::string_view region, std::string_view account, std::string_view bus,
                    std::string_view rule);
std::string EventSourceArn(std::string_view region, std::string_view source_name);

// A bus named by name or ARN, resolved in the caller's scope.
struct BusRef {
  std::string account;
  std::string region;
  std::string name;
};

// Resolves EventBusName (name or ARN; empty = "default") for `scope`. An ARN naming another
// account or Region is returned as such; callers decide whether that is allowed.
// Errors: ValidationException (malformed ARN).
absl::StatusOr<BusRef> ResolveBus(const Scope& scope, std::string_view name_or_arn);

struct RuleRef {
  std::string account;
  std::string region;
  std::string bus;
  std::string name;
};

// Parses a rule ARN; nullopt when `arn` is not one.
std::optional<RuleRef> ParseRuleArn(std::string_view arn);
// Parses an event bus ARN; nullopt when `arn` is not one.
std::optional<BusRef> ParseEventBusArn(std::string_view arn);

// The partner's name in a partner event source name: "aws.partner/PARTNER/..." -> "PARTNER".
std::string PartnerName(std::string_view source_name);

// What a target ARN delivers to. Errors: ValidationException naming the supported kinds, for
// ARNs klaxon cannot deliver to (Lambda, SQS, ... and API destinations).
absl::StatusOr<TargetType> ClassifyTargetArn(std::string_view arn);

// The response plan ARN of a target in the canonical (response-plan/NAME) spelling and the
// account it names.
struct PlanRef {
  std::string account;
  std::string name;
};
std::optional<PlanRef> ParseResponsePlanArn(std::string_view arn);

// The assumed-role principal EventBridge acts as when it uses `role_arn`
// (arn:aws:iam::ACCOUNT:role/PATH/NAME -> arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION).
// Returns `role_arn` unchanged when it is not a role ARN.
std::string AssumedRoleArn(std::string_view role_arn, std::string_view session);

}  // namespace klaxon::events
