#include "incidents/replication_set_service.h"

#include <vector>

#include "boost/json/object.hpp"
#include "common/ids.h"
#include "common/status.h"
#include "incidents/arn.h"
#include "incidents/errors.h"
#include "incidents/records.h"
#include "incidents/strings.h"

namespace klaxon::incidents {
namespace json = boost::json;
using internal::LoadReplicationSet;

namespace {

constexpr std::string_view kDefaultKey = "DefaultKey";
constexpr int kModelMaxRegions = 3;
constexpr int kModelMaxTags = 50;

bool IsRegionName(std::string_view s) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

bool IsAwsOwnedKey(const std::optional<std::string>& key) {
  return !key || key->empty() || *key == kDefaultKey;
}

std::optional<std::string> NormalizeKey(const std::optional<std::string>& key) {
  if (IsAwsOwnedKey(key)) return std::string(kDefaultKey);
  return key;
}

absl::Status CheckRegionName(std::string_view region) {
  if (!IsRegionName(region)) {
    return InvalidArgument(internal::Cat("Invalid Region name: \"", region,
                                         "\" (expected lower-case letters, digits and hyphens)"));
  }
  return absl::OkStatus();
}

}  // namespace

namespace internal {
absl::Status DeleteAllAccountData(storage::WriteTxn& txn, std::string_view account) {
  for (std::string_view table : AllTables()) {
    KLAXON_RETURN_IF_ERROR(DeletePrefix(txn, table, account, ""));
  }
  return absl::OkStatus();
}
}  // namespace internal

ReplicationSetService::ReplicationSetService(storage::Store& store, Clock& clock,
                                             const Limits& limits, ClientTokens& tokens)
    : store_(store), clock_(clock), limits_(limits), tokens_(tokens) {}

absl::StatusOr<ReplicationSet> ReplicationSetService::RequireSet(storage::ReadTxn& txn,
                                                                 const Scope& scope,
                                                                 std::string_view arn) {
  auto parsed = ParseArn(arn);
  if (!parsed || parsed->kind != ArnKind::kReplicationSet) {
    return InvalidArgument(internal::Cat("Invalid replication set ARN: ", arn));
  }
  if (parsed->account != scope.account_id) return CrossAccountDenied(arn);
  KLAXON_ASSIGN_OR_RETURN(auto set, LoadReplicationSet(txn, scope.account_id));
  if (!set || set->arn != arn) {
    return NotFound(ResourceType::kReplicationSet, arn,
                    internal::Cat("Replication set not found: ", arn));
  }
  return *std::move(set);
}

absl::StatusOr<std::string> ReplicationSetService::Create(
    const Scope& scope, const CreateReplicationSetRequest& request) {
  if (request.regions.empty()) return InvalidArgument("regions must name at least one Region");
  int owned = 0;
  for (const auto& [region, key] : request.regions) {
    KLAXON_RETURN_IF_ERROR(CheckRegionName(region));
    owned += IsAwsOwnedKey(key) ? 1 : 0;
  }
  if (owned != 0 && owned != static_cast<int>(request.regions.size())) {
    return InvalidArgument(
        "All Regions of a replication set must use AWS owned keys, or all must use customer "
        "managed keys");
  }
  KLAXON_RETURN_IF_ERROR(CheckCount(static_cast<int64_t>(request.regions.size()),
                                    limits_.max_regions, kModelMaxRegions,
                                    "Regions in a replication set", "regions-per-replication-set",
                                    ResourceType::kReplicationSet));
  KLAXON_RETURN_IF_ERROR(CheckCount(static_cast<int64_t>(request.tags.size()), limits_.max_tags,
                                    kModelMaxTags, "tags", "tags-per-resource",
                                    ResourceType::kReplicationSet));

  json::object params;
  json::object regions;
  for (const auto& [region, key] : request.regions) regions[region] = NormalizeKey(key).value();
  params["regions"] = std::move(regions);
  json::object tags;
  for (const auto& [k, v] : request.tags) tags[k] = v;
  params["tags"] = std::move(tags);
  const std::string fingerprint = internal::Fingerprint(params);

  std::string arn;
  KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(auto replay,
                            tokens_.Replay(txn, scope.account_id, "CreateReplicationSet",
                                           request.client_token, fingerprint, clock_.Now()));
    if (replay) {
      arn = replay->is_string() ? std::string(replay->get_string()) : "";
      return absl::OkStatus();
    }
    KLAXON_ASSIGN_OR_RETURN(auto existing, LoadReplicationSet(txn, scope.account_id));
    if (existing) {
      return Conflict("A replication set already exists in this account",
                      ResourceType::kReplicationSet, existing->arn);
    }
    const absl::Time now = clock_.Now();
    ReplicationSet set;
    set.arn = ReplicationSetArn(scope.account_id, NewUuid());
    for (const auto& [region, key] : request.regions) {
      RegionInfo info;
      info.status = "ACTIVE";
      info.sse_kms_key_id = NormalizeKey(key);
      info.status_update_time = now;
      info.added_time = now;
      set.regions[region] = info;
    }
    set.status = "ACTIVE";
    set.deletion_protected = false;
    set.created_by = scope.caller_arn;
    set.created_time = now;
    set.last_modified_by = scope.caller_arn;
    set.last_modified_time = now;
    KLAXON_RETURN_IF_ERROR(txn.Put(internal::kReplicationSetTable, scope.account_id,
                                   internal::kReplicationSetId, internal::Encode(set)));
    KLAXON_RETURN_IF_ERROR(internal::SaveTags(txn, scope.account_id, set.arn, request.tags));
    KLAXON_RETURN_IF_ERROR(tokens_.Save(txn, scope.account_id, "CreateReplicationSet",
                                        request.client_token, fingerprint, json::value(set.arn),
                                        now));
    arn = set.arn;
    return absl::OkStatus();
  }));
  return arn;
}

absl::StatusOr<ReplicationSet> ReplicationSetService::Get(const Scope& scope,
                                                          std::string_view arn) {
  ReplicationSet result;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(result, RequireSet(txn, scope, arn));
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<Page<std::string>> ReplicationSetService::List(const Scope& scope,
                                                              std::optional<int> max_results,
                                                              std::string_view next_token) {
  (void)max_results;  // at most one set per account: a page always fits
  KLAXON_ASSIGN_OR_RETURN(std::string position,
                          internal::DecodePageToken("replication-sets", next_token));
  Page<std::string> page;
  if (!position.empty()) return page;  // never issued (single page), but decodable
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(auto set, LoadReplicationSet(txn, scope.account_id));
    if (set) page.items.push_back(set->arn);
    return absl::OkStatus();
  }));
  return page;
}

absl::Status ReplicationSetService::Update(const Scope& scope, std::string_view arn,
                                           const ReplicationSetAction& action,
                                           const std::optional<std::string>& client_token) {
  KLAXON_RETURN_IF_ERROR(CheckRegionName(action.region));
  json::object params;
  params["arn"] = arn;
  params["kind"] = action.kind == ReplicationSetAction::Kind::kAddRegion ? "add" : "delete";
  params["region"] = action.region;
  if (action.sse_kms_key_id) params["sseKmsKeyId"] = *action.sse_kms_key_id;
  const std::string fingerprint = internal::Fingerprint(params);

  return store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(
        auto replay, tokens_.Replay(txn, scope.account_id, "UpdateReplicationSet", client_token,
                                    fingerprint, clock_.Now()));
    if (replay) return absl::OkStatus();
    KLAXON_ASSIGN_OR_RETURN(ReplicationSet set, RequireSet(txn, scope, arn));
    const absl::Time now = clock_.Now();
    if (action.kind == ReplicationSetAction::Kind::kAddRegion) {
      if (set.regions.count(action.region)) {
        return InvalidArgument(
            internal::Cat("Region ", action.region, " is already in the replication set"));
      }
      bool set_owned = IsAwsOwnedKey(set.regions.begin()->second.sse_kms_key_id);
      if (set_owned != IsAwsOwnedKey(action.sse_kms_key_id)) {
        return InvalidArgument(
            "All Regions of a replication set must use AWS owned keys, or all must use customer "
            "managed keys");
      }
      KLAXON_RETURN_IF_ERROR(
          CheckCount(static_cast<int64_t>(set.regions.size() + 1), limits_.max_regions,
                     kModelMaxRegions, "Regions in a replication set",
                     "regions-per-replication-set", ResourceType::kReplicationSet, set.arn));
      RegionInfo info;
      info.status = "ACTIVE";
      info.sse_kms_key_id = NormalizeKey(action.sse_kms_key_id);
      info.status_update_time = now;
      info.added_time = now;
      set.regions[action.region] = info;
    } else {
      auto it = set.regions.find(action.region);
      if (it == set.regions.end()) {
        return InvalidArgument(
            internal::Cat("Region ", action.region, " is not in the replication set"));
      }
      if (now - it->second.added_time < limits_.region_delete_min_age) {
        return InvalidArgument(internal::Cat(
            "Region ", action.region, " was added too recently to be deleted (wait ",
            absl::FormatDuration(limits_.region_delete_min_age), " after adding a Region)"));
      }
      if (set.regions.size() == 1) {
        if (set.deletion_protected) {
          return InvalidArgument(
              "Deletion protection is enabled: the last Region of the replication set can't be "
              "deleted (turn it off with UpdateDeletionProtection)");
        }
        // Deleting the last Region deletes the replication set and all data.
        return internal::DeleteAllAccountData(txn, scope.account_id);
      }
      set.regions.erase(it);
    }
    set.last_modified_by = scope.caller_arn;
    set.last_modified_time = now;
    KLAXON_RETURN_IF_ERROR(txn.Put(internal::kReplicationSetTable, scope.account_id,
                                   internal::kReplicationSetId, internal::Encode(set)));
    return tokens_.Save(txn, scope.account_id, "UpdateReplicationSet", client_token, fingerprint,
                        json::value(true), now);
  });
}

absl::Status ReplicationSetService::UpdateDeletionProtection(
    const Scope& scope, std::string_view arn, bool deletion_protected,
    const std::optional<std::string>& client_token) {
  json::object params{{"arn", arn}, {"deletionProtected", deletion_protected}};
  const std::string fingerprint = internal::Fingerprint(params);
  return store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(
        auto replay, tokens_.Replay(txn, scope.account_id, "UpdateDeletionProtection", client_token,
                                    fingerprint, clock_.Now()));
    if (replay) return absl::OkStatus();
    KLAXON_ASSIGN_OR_RETURN(ReplicationSet set, RequireSet(txn, scope, arn));
    const absl::Time now = clock_.Now();
    set.deletion_protected = deletion_protected;
    set.last_modified_by = scope.caller_arn;
    set.last_modified_time = now;
    KLAXON_RETURN_IF_ERROR(txn.Put(internal::kReplicationSetTable, scope.account_id,
                                   internal::kReplicationSetId, internal::Encode(set)));
    return tokens_.Save(txn, scope.account_id, "UpdateDeletionProtection", client_token,
                        fingerprint, json::value(true), now);
  });
}

absl::Status ReplicationSetService::Delete(const Scope& scope, std::string_view arn) {
  return store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(ReplicationSet set, RequireSet(txn, scope, arn));
    if (set.deletion_protected) {
      return InvalidArgument(
          "Deletion protection is enabled on the replication set: turn it off with "
          "UpdateDeletionProtection before deleting it");
    }
    return internal::DeleteAllAccountData(txn, scope.account_id);
  });
}

}  // namespace klaxon::incidents
