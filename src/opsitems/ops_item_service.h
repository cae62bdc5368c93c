#pragma once
// OpsCenter: OpsItems and their related items (the domain behind the ssm OpsCenter operations).
//
// Incident Manager creates a parent OpsItem for every new incident inside the incident's own store
// transaction (CreateInTxn / AssociateRelatedItemInTxn), so an incident never exists without its
// parent and a crash cannot leave half of the pair.
//
// Thread-safety: all methods are thread-safe (state lives in the Store).

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "storage/store.h"

namespace klaxon::opsitems {

// Who acts and where: every OpsItem belongs to one account and Region.
struct Scope {
  std::string account_id;
  std::string region;
  std::string caller_arn;
};

struct OpsItemDataValue {
  std::string value;
  std::string type = "SearchableString";  // SearchableString | String
};

struct NewOpsItem {
  std::string title;
  std::string description;
  std::string source;
  std::string ops_item_type;  // default "/aws/issue" when empty
  std::optional<int> priority;
  std::string severity;
  std::string category;
  std::map<std::string, OpsItemDataValue> operational_data;
  std::vector<std::string> notification_arns;
  std::vector<std::string> related_ops_item_ids;
  std::map<std::string, std::string> tags;
};

struct OpsItem {
  std::string ops_item_id;  // oi-<12 hex>
  std::string ops_item_arn;  // arn:aws:ssm:REGION:ACCOUNT:opsitem/oi-...
  std::string title;
  std::string description;
  std::string source;
  std::string ops_item_type;
  std::string status = "Open";
  std::optional<int> priority;
  std::string severity;
  std::string category;
  std::string created_by;
  std::string last_modified_by;
  absl::Time created_time;
  absl::Time last_modified_time;
  std::string version;
  std::map<std::string, OpsItemDataValue> operational_data;
  std::vector<std::string> notification_arns;
  std::vector<std::string> related_ops_item_ids;
};

class OpsItemService {
 public:
  OpsItemService(storage::Store& store, Clock& clock);
  OpsItemService(const OpsItemService&) = delete;
  OpsItemService& operator=(const OpsItemService&) = delete;

  // Creates an OpsItem in its own transaction. Applies OpsCenter's dedup (operational data key
  // "/aws/dedup"): a duplicate of an open OpsItem returns the existing one.
  absl::StatusOr<OpsItem> Create(const Scope& scope, const NewOpsItem& item);

  // Same, inside a caller's transaction (for incident parents).
  absl::StatusOr<OpsItem> CreateInTxn(storage::WriteTxn& txn, const Scope& scope,
                                      const NewOpsItem& item);

  // Links `resource_uri` (of `resource_type`, e.g. "AWS::SSMIncidents::IncidentRecord") to the
  // OpsItem with `association_type` ("IsParentOf" | "RelatesTo"). Returns the AssociationId.
  // NotFound if the OpsItem does not exist in scope.
  absl::StatusOr<std::string> AssociateRelatedItemInTxn(storage::WriteTxn& txn, const Scope& scope,
                                                        const std::string& ops_item_id,
                                                        const std::string& association_type,
                                                        const std::string& resource_type,
                                                        const std::string& resource_uri);

  // (further operations: Get, Update, Describe, ListRelatedItems, Associate, ...)

 private:
  storage::Store& store_;
  Clock& clock_;
};

}  // namespace klaxon::opsitems
