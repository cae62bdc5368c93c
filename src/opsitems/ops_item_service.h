#pragma once
// OpsCenter: OpsItems and their related items (the domain behind the ssm OpsCenter operations).
//
// Incident Manager creates a parent OpsItem for every new incident inside the incident's own store
// transaction (CreateInTxn / AssociateRelatedItemInTxn), so an incident never exists without its
// parent and a crash cannot leave half of the pair.
//
// Design. Every OpsItem belongs to one (account, Region); the account is the Store's account key
// and the Region prefixes every row id, so nothing of another account or Region is reachable.
// Tables (all written only by this module):
//   opsitems              REGION/oi-ID                      -> OpsItem JSON (internal schema)
//   opsitems_by_created   REGION/<inverted created ns>/oi-ID -> ""   (newest first, for Describe)
//   opsitem_dedup         REGION/<sha256 of dedup key>      -> oi-ID  (latest OpsItem of the key)
//   opsitem_related       REGION/oi-ID/<10-digit seq>       -> RelatedItem JSON
// Every operation runs in one Store transaction (Write for mutations, Read for queries), so a
// dedup check and the insert it guards are atomic.
//
// Errors carry the AWS exception of the ssm model (AwsError): OpsItemNotFoundException,
// OpsItemInvalidParameterException {ParameterNames}, OpsItemLimitExceededException {ResourceTypes,
// Limit, LimitType}, OpsItemRelatedItemAlreadyExistsException {ResourceUri, OpsItemId},
// OpsItemRelatedItemAssociationNotFoundException, OpsItemAccessDeniedException, InvalidNextToken;
// store failures pass through unchanged (kInternal / kUnavailable).
//
// Input is expected to be model-valid already (lengths, patterns, enums and ranges of the ssm
// model are checked by the protocol layer); this module enforces the semantic rules on top (see
// README.md and docs/compat/ssm.md).
//
// Thread-safety: all methods are thread-safe (state lives in the Store). Copy/move: neither.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
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
  bool operator==(const OpsItemDataValue&) const = default;
};

using OperationalData = std::map<std::string, OpsItemDataValue>;

// The operational-data keys OpsCenter reserves for itself; callers may set them (and only these
// among the keys that start with aws/amazon/amzn/ssm).
inline constexpr char kResourcesKey[] = "/aws/resources";      // [{"arn": "..."}]
inline constexpr char kAutomationsKey[] = "/aws/automations";  // [{"automationId": ..., ...}]
inline constexpr char kDedupKey[] = "/aws/dedup";              // {"dedupString": "..."}

inline constexpr char kDefaultOpsItemType[] = "/aws/issue";

struct NewOpsItem {
  std::string title;
  std::string description;
  std::string source;
  std::string ops_item_type;  // default "/aws/issue" when empty
  std::optional<int> priority;
  std::string severity;  // "" or "1".."4"
  std::string category;
  OperationalData operational_data;
  std::vector<std::string> notification_arns;
  std::vector<std::string> related_ops_item_ids;
  std::map<std::string, std::string> tags;
  std::optional<absl::Time> actual_start_time;
  std::optional<absl::Time> actual_end_time;
  std::optional<absl::Time> planned_start_time;
  std::optional<absl::Time> planned_end_time;
  // The AccountId member: the account to create in. Empty or the scope's account; any other
  // account is OpsItemAccessDeniedException (cross-account OpsCenter is not emulated).
  std::string account_id;
};

struct OpsItem {
  std::string ops_item_id;   // oi-<12 hex>
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
  std::string version;  // "1", then +1 on every successful UpdateOpsItem
  OperationalData operational_data;
  std::vector<std::string> notification_arns;
  std::vector<std::string> related_ops_item_ids;
  std::map<std::string, std::string> tags;  // stored; not part of the OpsItem output shape
  std::optional<absl::Time> actual_start_time;
  std::optional<absl::Time> actual_end_time;
  std::optional<absl::Time> planned_start_time;
  std::optional<absl::Time> planned_end_time;
  // Set only in the result of Create/CreateInTxn: true when OpsCenter's dedup returned an existing
  // open OpsItem instead of creating one. Never stored.
  bool deduplicated = false;
};

// UpdateOpsItem: unset members are left unchanged.
struct OpsItemUpdate {
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<std::string> status;
  std::optional<int> priority;
  std::optional<std::string> severity;
  std::optional<std::string> category;
  // Applied in this order: the keys of operational_data_to_delete are removed (absent keys are
  // ignored), then operational_data is merged in (each key added or replaced).
  std::vector<std::string> operational_data_to_delete;
  OperationalData operational_data;
  std::optional<std::vector<std::string>> notification_arns;     // replaces the list
  std::optional<std::vector<std::string>> related_ops_item_ids;  // replaces the list
  std::optional<absl::Time> actual_start_time;
  std::optional<absl::Time> actual_end_time;
  std::optional<absl::Time> planned_start_time;
  std::optional<absl::Time> planned_end_time;
};

// One DescribeOpsItems filter: AND across filters, OR across `values`.
struct OpsItemFilter {
  std::string key;  // OpsItemFilterKey enum
  std::string op;   // Equal | Contains | GreaterThan | LessThan
  std::vector<std::string> values;
};

struct OpsItemPage {
  std::vector<OpsItem> items;
  std::string next_token;  // empty on the last page
};

// An association between an OpsItem and a resource (AssociateOpsItemRelatedItem).
struct RelatedItem {
  std::string ops_item_id;
  std::string association_id;    // UUID
  std::string association_type;  // IsParentOf | RelatesTo
  std::string resource_type;     // AWS::SSMIncidents::IncidentRecord | AWS::SSM::Document
  std::string resource_uri;
  std::string created_by;
  absl::Time created_time;
  std::string last_modified_by;
  absl::Time last_modified_time;
};

// One ListOpsItemRelatedItems filter (operator Equal): AND across filters, OR across values.
struct RelatedItemFilter {
  std::string key;  // AssociationId | ResourceType | ResourceUri
  std::vector<std::string> values;
};

struct RelatedItemPage {
  std::vector<RelatedItem> items;
  std::string next_token;  // empty on the last page
};

// Quotas, AWS's defaults (docs/compat/ssm.md).
struct Limits {
  size_t max_related_items_per_ops_item = 100;      // associations per OpsItem
  size_t max_operational_data_value_bytes = 20480;  // 20 KB per value
  int default_page_size = 50;                       // when MaxResults is absent
};

class OpsItemService {
 public:
  OpsItemService(storage::Store& store, Clock& clock);
  OpsItemService(storage::Store& store, Clock& clock, Limits limits);
  OpsItemService(const OpsItemService&) = delete;
  OpsItemService& operator=(const OpsItemService&) = delete;

  // Creates an OpsItem in its own transaction. Applies OpsCenter's dedup (operational data key
  // "/aws/dedup"): a duplicate of an open OpsItem returns the existing one (deduplicated = true).
  // OpsItemInvalidParameterException for semantic violations (Source containing aws/amazon/amzn,
  // reserved OperationalData keys, malformed reserved values, Severity outside 1..4, unknown
  // RelatedOpsItems); OpsItemLimitExceededException for quota violations;
  // OpsItemAccessDeniedException for another AccountId.
  absl::StatusOr<OpsItem> Create(const Scope& scope, const NewOpsItem& item);

  // Same, inside a caller's transaction (for incident parents).
  absl::StatusOr<OpsItem> CreateInTxn(storage::WriteTxn& txn, const Scope& scope,
                                      const NewOpsItem& item);

  // The OpsItem, or OpsItemNotFoundException.
  absl::StatusOr<OpsItem> Get(const Scope& scope, const std::string& ops_item_id);

  // Applies `update`, bumps Version, sets LastModifiedBy/Time. Returns the updated OpsItem.
  // OpsItemNotFoundException; OpsItemInvalidParameterException (as for Create, plus any change to
  // "/aws/dedup", which is immutable after creation); OpsItemLimitExceededException.
  absl::StatusOr<OpsItem> Update(const Scope& scope, const std::string& ops_item_id,
                                 const OpsItemUpdate& update);

  // DescribeOpsItems: newest first. `max_results` 0 = default page size. `next_token` from a
  // previous page (InvalidNextToken if malformed). OpsItemInvalidParameterException for a key /
  // operator combination OpsCenter does not support, or an unparsable value.
  absl::StatusOr<OpsItemPage> Describe(const Scope& scope,
                                       const std::vector<OpsItemFilter>& filters, int max_results,
                                       const std::string& next_token);

  // Links `resource_uri` (of `resource_type`, e.g. "AWS::SSMIncidents::IncidentRecord") to the
  // OpsItem with `association_type` ("IsParentOf" | "RelatesTo"). Returns the AssociationId.
  // NotFound if the OpsItem does not exist in scope.
  absl::StatusOr<std::string> AssociateRelatedItemInTxn(storage::WriteTxn& txn, const Scope& scope,
                                                        const std::string& ops_item_id,
                                                        const std::string& association_type,
                                                        const std::string& resource_type,
                                                        const std::string& resource_uri);

  // CreateInTxn, then AssociateRelatedItemInTxn on the new OpsItem, without reading back what
  // was just written (a new OpsItem has no related items yet). When OpsCenter's dedup returns an
  // existing OpsItem instead, the association is added to it exactly as AssociateRelatedItemInTxn
  // would. Returns the OpsItem and the AssociationId. Errors: those of both calls.
  absl::StatusOr<std::pair<OpsItem, std::string>> CreateAndAssociateInTxn(
      storage::WriteTxn& txn, const Scope& scope, const NewOpsItem& item,
      const std::string& association_type, const std::string& resource_type,
      const std::string& resource_uri);

  // Same, in its own transaction. Errors: OpsItemNotFoundException (kNotFound);
  // OpsItemInvalidParameterException (unsupported AssociationType / ResourceType, empty
  // ResourceUri); OpsItemRelatedItemAlreadyExistsException (the OpsItem already has an
  // association with this ResourceUri); OpsItemLimitExceededException.
  absl::StatusOr<std::string> AssociateRelatedItem(const Scope& scope,
                                                   const std::string& ops_item_id,
                                                   const std::string& association_type,
                                                   const std::string& resource_type,
                                                   const std::string& resource_uri);

  // ListOpsItemRelatedItems: associations of `ops_item_id` (or of every OpsItem in scope when
  // empty), oldest first per OpsItem. No error when the OpsItem does not exist (empty list).
  absl::StatusOr<RelatedItemPage> ListRelatedItems(const Scope& scope,
                                                   const std::string& ops_item_id,
                                                   const std::vector<RelatedItemFilter>& filters,
                                                   int max_results, const std::string& next_token);

  // DisassociateOpsItemRelatedItem. OpsItemNotFoundException;
  // OpsItemRelatedItemAssociationNotFoundException.
  absl::Status DisassociateRelatedItem(const Scope& scope, const std::string& ops_item_id,
                                       const std::string& association_id);

  const Limits& limits() const { return limits_; }

 private:
  storage::Store& store_;
  Clock& clock_;
  const Limits limits_;
};

// "arn:aws:ssm:REGION:ACCOUNT:opsitem/ID".
std::string OpsItemArn(const Scope& scope, const std::string& ops_item_id);

}  // namespace klaxon::opsitems
