#pragma once
// The replication set: one per account, the switch that enables Incident Manager.
//
// A replication set lists 1..3 Regions (Limits::max_regions). Response plans and
// incidents can only be created while it is ACTIVE and includes the caller's Region. klaxon makes
// every status transition immediate: CREATING -> ACTIVE on create, UPDATING -> ACTIVE and
// CREATING -> ACTIVE for an added Region, DELETING -> gone for a removed Region, so
// GetReplicationSet never reports a transitional state (the CLI waiters succeed at once).
//
// Deletion protection prevents deleting the last Region: DeleteReplicationSet, and an
// UpdateReplicationSet that removes the last Region, are refused while it is on. Deleting the set
// (or its last Region) deletes all Incident Manager data of the account in one transaction.
//
// Thread-safety: all methods are thread-safe (state lives in the Store). Copy/move: neither.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "incidents/client_tokens.h"
#include "incidents/types.h"
#include "storage/store.h"

namespace klaxon::incidents {

struct CreateReplicationSetRequest {
  std::map<std::string, std::optional<std::string>> regions;  // Region -> sseKmsKeyId
  std::map<std::string, std::string> tags;
  std::optional<std::string> client_token;
};

// One UpdateReplicationSet action (the model's union: addRegionAction | deleteRegionAction).
struct ReplicationSetAction {
  enum class Kind { kAddRegion, kDeleteRegion };
  Kind kind = Kind::kAddRegion;
  std::string region;
  std::optional<std::string> sse_kms_key_id;  // add only
};

class ReplicationSetService {
 public:
  ReplicationSetService(storage::Store& store, Clock& clock, const Limits& limits,
                        ClientTokens& tokens);
  ReplicationSetService(const ReplicationSetService&) = delete;
  ReplicationSetService& operator=(const ReplicationSetService&) = delete;

  // Creates the account's replication set (ACTIVE at once) and returns its ARN.
  // Errors: ValidationException (bad Region name, mixed AWS-owned/customer keys),
  // ServiceQuotaExceededException (more Regions than configured),
  // ConflictException{REPLICATION_SET} (a set exists, or the clientToken was used with other
  // parameters).
  absl::StatusOr<std::string> Create(const Scope& scope,
                                     const CreateReplicationSetRequest& request);

  // Errors: ResourceNotFoundException{REPLICATION_SET}, AccessDeniedException (other account),
  // ValidationException (not a replication set ARN).
  absl::StatusOr<ReplicationSet> Get(const Scope& scope, std::string_view arn);

  // The ARN of the account's replication set, if any (at most one; no further pages).
  absl::StatusOr<Page<std::string>> List(const Scope& scope, std::optional<int> max_results,
                                         std::string_view next_token);

  // Adds or removes one Region. Errors: as Get, plus ValidationException (Region already present /
  // absent, the last Region while deletion protection is on, a Region younger than
  // Limits::region_delete_min_age), ServiceQuotaExceededException (too many Regions),
  // ConflictException (clientToken reused with other parameters).
  absl::Status Update(const Scope& scope, std::string_view arn, const ReplicationSetAction& action,
                      const std::optional<std::string>& client_token);

  absl::Status UpdateDeletionProtection(const Scope& scope, std::string_view arn,
                                        bool deletion_protected,
                                        const std::optional<std::string>& client_token);

  // Deletes the set and all Incident Manager data of the account (response plans, incidents,
  // timelines, related items, tags, policies, client tokens). Parent OpsItems stay in OpsCenter.
  // Errors: as Get, plus ValidationException while deletion protection is on.
  absl::Status Delete(const Scope& scope, std::string_view arn);

 private:
  absl::StatusOr<ReplicationSet> RequireSet(storage::ReadTxn& txn, const Scope& scope,
                                            std::string_view arn);

  storage::Store& store_;
  Clock& clock_;
  const Limits limits_;
  ClientTokens& tokens_;
};

// Deletes every Incident Manager row of the account (used by Delete and by removing the last
// Region). Internal to src/incidents.
namespace internal {
absl::Status DeleteAllAccountData(storage::WriteTxn& txn, std::string_view account);
}  // namespace internal

}  // namespace klaxon::incidents
