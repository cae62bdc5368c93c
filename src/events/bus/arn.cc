#include "events/bus/arn.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace klaxon::events {
namespace {

absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Splits "arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE" (RESOURCE may contain ':').
struct ArnParts {
  std::string_view partition, service, region, account, resource;
};

std::optional<ArnParts> SplitArn(std::string_view arn) {
  if (arn.substr(0, 4) != "arn:") return std::nullopt;
  std::string_view rest = arn.substr(4);
  std::string_view f[4];
  for (auto& part : f) {
    size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    part = rest.substr(0, colon);
    rest.remove_prefix(colon + 1);
  }
  if (f[0].substr(0, 3) != "aws") return std::nullopt;
  return ArnParts{f[0], f[1], f[2], f[3], rest};
}

bool IsAccountId(std::string_view s) {
  if (s.size() != 12) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::string EventBusArn(std::string_view region, std::string_view account, std::string_view bus) {
  return absl::StrCat("arn:aws:events:", ToAbsl(region), ":", ToAbsl(account), ":event-bus/",
                      ToAbsl(bus));
}

std::string RuleArn(std::string_view region, std::string_view account, std::string_view bus,
                    std::string_view rule) {
  if (bus == kDefaultBus) {
    return absl::StrCat("arn:aws:events:", ToAbsl(region), ":", ToAbsl(account), ":rule/",
                        ToAbsl(rule));
  }
  return absl::StrCat("arn:aws:events:", ToAbsl(region), ":", ToAbsl(account), ":rule/",
                      ToAbsl(bus), "/", ToAbsl(rule));
}

std::string EventSourceArn(std::string_view region, std::string_view source_name) {
  return absl::StrCat("arn:aws:events:", ToAbsl(region), "::event-source/", ToAbsl(source_name));
}

std::optional<BusRef> ParseEventBusArn(std::string_view arn) {
  auto parts = SplitArn(arn);
  if (!parts || parts->service != "events" || parts->region.empty() ||
      !IsAccountId(parts->account) || parts->resource.substr(0, 10) != "event-bus/" ||
      parts->resource.size() == 10) {
    return std::nullopt;
  }
  return BusRef{std::string(parts->account), std::string(parts->region),
                std::string(parts->resource.substr(10))};
}

absl::StatusOr<BusRef> ResolveBus(const Scope& scope, std::string_view name_or_arn) {
  if (name_or_arn.empty()) return BusRef{scope.account_id, scope.region, kDefaultBus};
  if (name_or_arn.substr(0, 4) != "arn:") {
    return BusRef{scope.account_id, scope.region, std::string(name_or_arn)};
  }
  auto ref = ParseEventBusArn(name_or_arn);
  if (!ref) {
    return ValidationError(
        absl::StrCat("Parameter EventBusName is not valid: ", ToAbsl(name_or_arn),
                     " is not an event bus ARN (arn:aws:events:REGION:ACCOUNT:event-bus/NAME)."));
  }
  return *ref;
}

std::optional<RuleRef> ParseRuleArn(std::string_view arn) {
  auto parts = SplitArn(arn);
  if (!parts || parts->service != "events" || !IsAccountId(parts->account) ||
      parts->resource.substr(0, 5) != "rule/") {
    return std::nullopt;
  }
  std::string_view path = parts->resource.substr(5);
  size_t slash = path.rfind('/');
  RuleRef ref{std::string(parts->account), std::string(parts->region), kDefaultBus, ""};
  if (slash == std::string_view::npos) {
    ref.name = std::string(path);
  } else {
    ref.bus = std::string(path.substr(0, slash));
    ref.name = std::string(path.substr(slash + 1));
  }
  if (ref.name.empty() || ref.bus.empty()) return std::nullopt;
  return ref;
}

std::string PartnerName(std::string_view source_name) {
  // aws.partner/PARTNER/...
  size_t first = source_name.find('/');
  if (first == std::string_view::npos) return std::string(source_name);
  size_t second = source_name.find('/', first + 1);
  return std::string(source_name.substr(
      first + 1, second == std::string_view::npos ? std::string_view::npos : second - first - 1));
}

std::optional<PlanRef> ParseResponsePlanArn(std::string_view arn) {
  auto parts = SplitArn(arn);
  if (!parts || parts->service != "ssm-incidents" || !IsAccountId(parts->account)) {
    return std::nullopt;
  }
  std::string_view name;
  if (parts->resource.substr(0, 14) == "response-plan/") {
    name = parts->resource.substr(14);
  } else if (parts->resource.substr(0, 13) == "responseplan/") {
    name = parts->resource.substr(13);
  } else {
    return std::nullopt;
  }
  if (name.empty() || name.find('/') != std::string_view::npos) return std::nullopt;
  return PlanRef{std::string(parts->account), std::string(name)};
}

absl::StatusOr<TargetType> ClassifyTargetArn(std::string_view arn) {
  if (absl::StartsWithIgnoreCase(ToAbsl(arn), "http://") ||
      absl::StartsWithIgnoreCase(ToAbsl(arn), "https://")) {
    return TargetType::kWebhook;
  }
  if (ParseResponsePlanArn(arn)) return TargetType::kResponsePlan;
  if (ParseEventBusArn(arn)) return TargetType::kEventBus;
  std::string_view why = "it is not a target klaxon can deliver to";
  if (auto parts = SplitArn(arn)) {
    if (parts->service == "events" && parts->resource.substr(0, 16) == "api-destination/") {
      why = "API destinations are not supported; give the endpoint URL (https://...) as the Arn";
    } else if (parts->service == "ssm-incidents") {
      why = "an Incident Manager target must be a response plan ARN";
    }
  } else {
    why = "it is neither an ARN nor an http(s):// URL";
  }
  return ValidationError(absl::StrCat(
      "Parameter Arn is not valid: ", ToAbsl(arn), ": ", ToAbsl(why),
      ". Supported targets: Incident Manager response plans "
      "(arn:aws:ssm-incidents::ACCOUNT:response-plan/NAME), event buses "
      "(arn:aws:events:REGION:ACCOUNT:event-bus/NAME) and webhooks (http:// or https:// URLs)."));
}

std::string AssumedRoleArn(std::string_view role_arn, std::string_view session) {
  auto parts = SplitArn(role_arn);
  if (!parts || parts->service != "iam" || parts->resource.substr(0, 5) != "role/") {
    return std::string(role_arn);
  }
  std::string_view path = parts->resource.substr(5);
  size_t slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return absl::StrCat("arn:", ToAbsl(parts->partition), ":sts::", ToAbsl(parts->account),
                      ":assumed-role/", ToAbsl(name), "/", ToAbsl(session));
}

}  // namespace klaxon::events
