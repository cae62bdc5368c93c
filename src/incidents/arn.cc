#include "incidents/arn.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "incidents/errors.h"
#include "incidents/strings.h"

namespace klaxon::incidents {
namespace {

constexpr std::string_view kPrefix = "arn:aws:ssm-incidents:";

bool IsAccount(std::string_view s) {
  if (s.size() != 12) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A plan name as the model allows it: ^[a-zA-Z0-9-_]*$, 1..200.
bool IsPlanName(std::string_view s) {
  if (s.empty() || s.size() > 200) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace

std::string ResponsePlanArn(std::string_view account, std::string_view name) {
  return internal::Cat(kPrefix, ":", account, ":response-plan/", name);
}

std::string IncidentRecordArn(std::string_view account, std::string_view plan,
                              std::string_view id) {
  return internal::Cat(kPrefix, ":", account, ":incident-record/", plan, "/", id);
}

std::string ReplicationSetArn(std::string_view account, std::string_view id) {
  return internal::Cat(kPrefix, ":", account, ":replication-set/", id);
}

std::optional<ParsedArn> ParseArn(std::string_view arn) {
  if (arn.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view rest = arn.substr(kPrefix.size());
  // REGION:ACCOUNT:RESOURCE
  size_t c1 = rest.find(':');
  if (c1 == std::string_view::npos) return std::nullopt;
  size_t c2 = rest.find(':', c1 + 1);
  if (c2 == std::string_view::npos) return std::nullopt;
  std::string_view account = rest.substr(c1 + 1, c2 - c1 - 1);
  std::string_view resource = rest.substr(c2 + 1);
  if (!IsAccount(account)) return std::nullopt;
  size_t slash = resource.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view type = resource.substr(0, slash);
  std::string_view name = resource.substr(slash + 1);
  ParsedArn parsed{ArnKind::kResponsePlan, std::string(account), std::string(name)};
  if (type == "response-plan" || type == "responseplan") {
    if (!IsPlanName(name)) return std::nullopt;
    parsed.kind = ArnKind::kResponsePlan;
  } else if (type == "incident-record") {
    size_t s = name.find('/');
    if (s == std::string_view::npos || !IsPlanName(name.substr(0, s)) || s + 1 >= name.size() ||
        name.find('/', s + 1) != std::string_view::npos) {
      return std::nullopt;
    }
    parsed.kind = ArnKind::kIncidentRecord;
  } else if (type == "replication-set") {
    if (name.empty() || name.find('/') != std::string_view::npos) return std::nullopt;
    parsed.kind = ArnKind::kReplicationSet;
  } else {
    return std::nullopt;
  }
  return parsed;
}

absl::StatusOr<std::string> ResponsePlanNameFromArn(const Scope& scope, std::string_view arn) {
  auto parsed = ParseArn(arn);
  if (!parsed || parsed->kind != ArnKind::kResponsePlan) {
    return InvalidArgument(internal::Cat("Invalid response plan ARN: ", arn));
  }
  if (parsed->account != scope.account_id) return CrossAccountDenied(arn);
  return parsed->resource;
}

absl::StatusOr<std::string> IncidentKeyFromArn(const Scope& scope, std::string_view arn) {
  auto parsed = ParseArn(arn);
  if (!parsed || parsed->kind != ArnKind::kIncidentRecord) {
    return InvalidArgument(internal::Cat("Invalid incident record ARN: ", arn));
  }
  if (parsed->account != scope.account_id) return CrossAccountDenied(arn);
  return parsed->resource;
}

std::string CanonicalResponsePlanArn(std::string_view arn) {
  auto parsed = ParseArn(arn);
  if (!parsed || parsed->kind != ArnKind::kResponsePlan) return std::string(arn);
  return ResponsePlanArn(parsed->account, parsed->resource);
}

}  // namespace klaxon::incidents
