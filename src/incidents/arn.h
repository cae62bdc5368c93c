#pragma once
// ARNs of Incident Manager resources.
//
//   response plan     arn:aws:ssm-incidents::ACCOUNT:response-plan/NAME
//                     (CloudWatch alarm actions spell it
//                     arn:aws:ssm-incidents::ACCOUNT:responseplan/NAME;
//                      both spellings are accepted wherever a plan ARN is read)
//   incident record   arn:aws:ssm-incidents::ACCOUNT:incident-record/PLAN/UUID
//   replication set   arn:aws:ssm-incidents::ACCOUNT:replication-set/UUID
//
// Incident Manager ARNs carry no Region; a Region field, if present, is ignored when parsing.
// All functions are pure and thread-safe.

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "incidents/types.h"

namespace klaxon::incidents {

std::string ResponsePlanArn(std::string_view account, std::string_view name);
std::string IncidentRecordArn(std::string_view account, std::string_view plan, std::string_view id);
std::string ReplicationSetArn(std::string_view account, std::string_view id);

enum class ArnKind { kResponsePlan, kIncidentRecord, kReplicationSet };

struct ParsedArn {
  ArnKind kind;
  std::string account;
  std::string resource;  // NAME, PLAN/UUID or UUID
};

// Parses an ssm-incidents ARN of one of the three kinds; nullopt for anything else.
std::optional<ParsedArn> ParseArn(std::string_view arn);

// The plan name of a response plan ARN (either spelling) that must belong to scope's account.
// Errors: ValidationException (not a response plan ARN), AccessDeniedException (other account).
absl::StatusOr<std::string> ResponsePlanNameFromArn(const Scope& scope, std::string_view arn);

// The storage key PLAN/UUID of an incident record ARN of scope's account.
// Errors: ValidationException (not an incident record ARN), AccessDeniedException (other account).
absl::StatusOr<std::string> IncidentKeyFromArn(const Scope& scope, std::string_view arn);

// Canonical form of a response plan ARN given in either spelling (unchanged if not a plan ARN).
std::string CanonicalResponsePlanArn(std::string_view arn);

}  // namespace klaxon::incidents
