#include "incidents/tag_service.h"

#include "absl/strings/match.h"
#include "boost/json/parse.hpp"
#include "common/ids.h"
#include "common/status.h"
#include "incidents/arn.h"
#include "incidents/errors.h"
#include "incidents/records.h"
#include "incidents/strings.h"

namespace klaxon::incidents {
namespace json = boost::json;

namespace {

constexpr int kModelMaxTagsPerRequest = 50;

// Checks that `arn` names an existing taggable resource of scope's account.
absl::Status RequireTaggable(storage::ReadTxn& txn, const Scope& scope, std::string_view arn) {
  auto parsed = ParseArn(arn);
  if (!parsed) {
    return NotFound(std::nullopt, arn,
                    internal::Cat("Resource not found: ", arn,
                                  " is not an Incident Manager response plan, incident record or "
                                  "replication set ARN"));
  }
  if (parsed->account != scope.account_id) return CrossAccountDenied(arn);
  switch (parsed->kind) {
    case ArnKind::kResponsePlan:
      return internal::RequireResponsePlan(txn, scope, arn).status();
    case ArnKind::kIncidentRecord:
      return internal::RequireIncident(txn, scope, arn).status();
    case ArnKind::kReplicationSet: {
      KLAXON_ASSIGN_OR_RETURN(auto set, internal::LoadReplicationSet(txn, scope.account_id));
      if (!set || set->arn != arn) {
        return NotFound(ResourceType::kReplicationSet, arn,
                        internal::Cat("Replication set not found: ", arn));
      }
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

std::optional<ResourceType> TypeOf(std::string_view arn) {
  auto parsed = ParseArn(arn);
  if (!parsed) return std::nullopt;
  switch (parsed->kind) {
    case ArnKind::kResponsePlan:
      return ResourceType::kResponsePlan;
    case ArnKind::kIncidentRecord:
      return ResourceType::kIncidentRecord;
    case ArnKind::kReplicationSet:
      return ResourceType::kReplicationSet;
  }
  return std::nullopt;
}

}  // namespace

TagService::TagService(storage::Store& store, const Limits& limits)
    : store_(store), limits_(limits) {}

absl::Status TagService::Tag(const Scope& scope, std::string_view given_arn,
                             const std::map<std::string, std::string>& tags) {
  // Tags of a plan are kept under its canonical ARN (responseplan/ is accepted too).
  const std::string arn = CanonicalResponsePlanArn(given_arn);
  if (tags.empty()) return InvalidArgument("tags must contain at least one tag");
  if (static_cast<int>(tags.size()) > kModelMaxTagsPerRequest) {
    return InvalidArgument("Too many tags: at most 50 per request");
  }
  for (const auto& [k, v] : tags) {
    if (k.empty() || absl::StartsWith(absl::string_view(k.data(), k.size()), "aws:")) {
      return InvalidArgument(
          internal::Cat("Invalid tag key \"", k, "\": tag keys can't be empty or start with aws:"));
    }
  }
  return store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_RETURN_IF_ERROR(RequireTaggable(txn, scope, arn));
    KLAXON_ASSIGN_OR_RETURN(auto current, internal::LoadTags(txn, scope.account_id, arn));
    for (const auto& [k, v] : tags) current[k] = v;
    KLAXON_RETURN_IF_ERROR(CheckCount(static_cast<int64_t>(current.size()), limits_.max_tags, -1,
                                      "tags on a resource", "tags-per-resource", TypeOf(arn), arn));
    return internal::SaveTags(txn, scope.account_id, arn, current);
  });
}

absl::Status TagService::Untag(const Scope& scope, std::string_view given_arn,
                               const std::vector<std::string>& keys) {
  const std::string arn = CanonicalResponsePlanArn(given_arn);
  return store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_RETURN_IF_ERROR(RequireTaggable(txn, scope, arn));
    KLAXON_ASSIGN_OR_RETURN(auto current, internal::LoadTags(txn, scope.account_id, arn));
    for (const auto& k : keys) current.erase(k);
    return internal::SaveTags(txn, scope.account_id, arn, current);
  });
}

absl::StatusOr<std::map<std::string, std::string>> TagService::List(const Scope& scope,
                                                                    std::string_view given_arn) {
  const std::string arn = CanonicalResponsePlanArn(given_arn);
  std::map<std::string, std::string> tags;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    KLAXON_RETURN_IF_ERROR(RequireTaggable(txn, scope, arn));
    KLAXON_ASSIGN_OR_RETURN(tags, internal::LoadTags(txn, scope.account_id, arn));
    return absl::OkStatus();
  }));
  return tags;
}

ResourcePolicyService::ResourcePolicyService(storage::Store& store, const Limits& limits)
    : store_(store), limits_(limits) {}

absl::StatusOr<std::string> ResourcePolicyService::Put(const Scope& scope,
                                                       std::string_view resource_arn,
                                                       std::string_view policy) {
  boost::system::error_code ec;
  json::value doc = json::parse(json::string_view(policy.data(), policy.size()), ec);
  if (ec || !doc.is_object()) {
    return InvalidArgument("The policy must be a JSON object (an IAM policy document)");
  }
  const json::value* statement = doc.get_object().if_contains("Statement");
  if (statement == nullptr ||
      !(statement->is_object() || (statement->is_array() && !statement->get_array().empty()))) {
    return InvalidArgument("The policy must have a Statement (an object or a non-empty list)");
  }
  std::string policy_id;
  KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(ResponsePlan plan,
                            internal::RequireResponsePlan(txn, scope, resource_arn));
    policy_id = RandomHex(32);
    ResourcePolicy stored{policy_id, std::string(policy), scope.region};
    return txn.Put(internal::kPolicyTable, scope.account_id,
                   internal::Cat(plan.name, "/", policy_id), internal::Encode(stored));
  }));
  return policy_id;
}

absl::StatusOr<Page<ResourcePolicy>> ResourcePolicyService::Get(const Scope& scope,
                                                                std::string_view resource_arn,
                                                                std::optional<int> max_results,
                                                                std::string_view next_token) {
  KLAXON_ASSIGN_OR_RETURN(std::string after, internal::DecodePageToken("policies", next_token));
  const int n = internal::PageSize(max_results, limits_);
  Page<ResourcePolicy> page;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(ResponsePlan plan,
                            internal::RequireResponsePlan(txn, scope, resource_arn));
    const std::string prefix = internal::Cat(plan.name, "/");
    if (!after.empty() && after.compare(0, prefix.size(), prefix) != 0) {
      return InvalidArgument("Invalid nextToken: it belongs to another resource");
    }
    absl::Status inner;
    std::string last;
    KLAXON_RETURN_IF_ERROR(
        txn.Scan(internal::kPolicyTable, scope.account_id, prefix, after,
                 static_cast<size_t>(n) + 1, [&](std::string_view id, std::string_view value) {
                   if (static_cast<int>(page.items.size()) == n) {
                     page.next_token = internal::EncodePageToken("policies", last);
                     return false;
                   }
                   auto policy = internal::DecodeResourcePolicy(value);
                   if (!policy.ok()) {
                     inner = policy.status();
                     return false;
                   }
                   page.items.push_back(*std::move(policy));
                   last = std::string(id);
                   return true;
                 }));
    return inner;
  }));
  return page;
}

absl::Status ResourcePolicyService::Delete(const Scope& scope, std::string_view resource_arn,
                                           std::string_view policy_id) {
  return store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(ResponsePlan plan,
                            internal::RequireResponsePlan(txn, scope, resource_arn));
    const std::string row = internal::Cat(plan.name, "/", policy_id);
    KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(internal::kPolicyTable, scope.account_id, row));
    if (!text) {
      return NotFound(ResourceType::kResourcePolicy, policy_id,
                      internal::Cat("Resource policy not found: ", policy_id));
    }
    return txn.Delete(internal::kPolicyTable, scope.account_id, row);
  });
}

}  // namespace klaxon::incidents
