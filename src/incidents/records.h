#pragma once
// Storage layout of the Incident Manager domain (internal to src/incidents).
//
// Every record is JSON text in one account-scoped table of the Store:
//
//   table                    id                                   value
//   im_replication_set       "current"                            ReplicationSet
//   im_response_plans        NAME                                 ResponsePlan
//   im_incidents             PLAN/UUID (the "incident key")       IncidentRecord (+ counters)
//   im_incident_index        <19-digit inverted ns>/PLAN/UUID     PLAN/UUID   (newest first)
//   im_incident_dedup        dedup key                            PLAN/UUID of the OPEN holder
//   im_timeline              PLAN/UUID/EVENT-UUID                 TimelineEvent
//   im_related_items         PLAN/UUID/<10-digit seq>             RelatedItem
//   im_tags                  resource ARN                         {"k":"v",...}
//   im_resource_policies     PLAN-NAME/POLICY-ID                  ResourcePolicy
//   im_client_tokens         OPERATION/TOKEN                      {"fp":sha256,"result":...}
//
// Timestamps are stored as integer nanoseconds since the epoch. Decoding failures of stored data
// are kInternal errors (corruption), never client errors.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/json/object.hpp"
#include "boost/json/value.hpp"
#include "incidents/types.h"
#include "storage/store.h"

namespace klaxon::incidents::internal {

inline constexpr std::string_view kReplicationSetTable = "im_replication_set";
inline constexpr std::string_view kResponsePlanTable = "im_response_plans";
inline constexpr std::string_view kIncidentTable = "im_incidents";
inline constexpr std::string_view kIncidentIndexTable = "im_incident_index";
inline constexpr std::string_view kDedupTable = "im_incident_dedup";
inline constexpr std::string_view kTimelineTable = "im_timeline";
inline constexpr std::string_view kRelatedItemTable = "im_related_items";
inline constexpr std::string_view kTagTable = "im_tags";
inline constexpr std::string_view kPolicyTable = "im_resource_policies";
inline constexpr std::string_view kTokenTable = "im_client_tokens";  // before the log (read only)
inline constexpr std::string_view kTokenLogTable = "im_client_token_log";  // see client_tokens.h
inline constexpr std::string_view kReplicationSetId = "current";

// Every table above (DeleteReplicationSet empties them all for the account).
std::vector<std::string_view> AllTables();

// --- encoding -----------------------------------------------------------------------------------
std::string Encode(const ReplicationSet& v);
std::string Encode(const ResponsePlan& v);
std::string Encode(const IncidentRecord& v);
std::string Encode(const RelatedItem& v);
std::string Encode(const TimelineEvent& v);
std::string Encode(const ResourcePolicy& v);
absl::StatusOr<ReplicationSet> DecodeReplicationSet(std::string_view text);
absl::StatusOr<ResponsePlan> DecodeResponsePlan(std::string_view text);
absl::StatusOr<IncidentRecord> DecodeIncidentRecord(std::string_view text);
absl::StatusOr<RelatedItem> DecodeRelatedItem(std::string_view text);
absl::StatusOr<TimelineEvent> DecodeTimelineEvent(std::string_view text);
absl::StatusOr<ResourcePolicy> DecodeResourcePolicy(std::string_view text);

// JSON forms shared with fingerprints.
boost::json::object ItemIdentifierToJson(const ItemIdentifier& v);
boost::json::object RelatedItemToJson(const RelatedItem& v);
boost::json::object EventReferenceToJson(const EventReference& v);
boost::json::object ActionToJson(const Action& v);
boost::json::value TimeToJson(absl::Time t);

// --- keys ---------------------------------------------------------------------------------------
std::string IncidentIndexKey(absl::Time creation_time, std::string_view incident_key);
std::string TimelineKey(std::string_view incident_key, std::string_view event_id);
std::string RelatedItemKey(std::string_view incident_key, int64_t seq);
std::string ChildPrefix(std::string_view incident_key);  // "PLAN/UUID/"

// --- typed access inside a transaction ----------------------------------------------------------
absl::StatusOr<std::optional<ReplicationSet>> LoadReplicationSet(storage::ReadTxn& txn,
                                                                 std::string_view account);
// The account's replication set, which must exist, be ACTIVE and (when scope.region is set)
// include scope.region as an ACTIVE Region. Errors: ValidationException.
absl::StatusOr<ReplicationSet> RequireActiveReplicationSet(storage::ReadTxn& txn,
                                                           const Scope& scope);

// The same two reads, returning a shared decoded record: decoded once per distinct stored text and
// then served from a process-wide DecodedCache (decoded_cache.h) as long as the row read in
// `txn` is byte-identical. For the hot path (StartIncident).
absl::StatusOr<std::shared_ptr<const ReplicationSet>> RequireActiveReplicationSetShared(
    storage::ReadTxn& txn, const Scope& scope);
absl::StatusOr<std::shared_ptr<const ResponsePlan>> RequireResponsePlanShared(storage::ReadTxn& txn,
                                                                              const Scope& scope,
                                                                              std::string_view arn);

absl::StatusOr<std::optional<ResponsePlan>> LoadResponsePlan(storage::ReadTxn& txn,
                                                             std::string_view account,
                                                             std::string_view name);
// The plan named by `arn` (either spelling). Errors: ValidationException, AccessDeniedException,
// ResourceNotFoundException{RESPONSE_PLAN}.
absl::StatusOr<ResponsePlan> RequireResponsePlan(storage::ReadTxn& txn, const Scope& scope,
                                                 std::string_view arn);

absl::StatusOr<std::optional<IncidentRecord>> LoadIncident(storage::ReadTxn& txn,
                                                           std::string_view account,
                                                           std::string_view key);
// The incident named by `arn` and its storage key. Errors: ValidationException,
// AccessDeniedException, ResourceNotFoundException{INCIDENT_RECORD}.
absl::StatusOr<std::pair<std::string, IncidentRecord>> RequireIncident(storage::ReadTxn& txn,
                                                                       const Scope& scope,
                                                                       std::string_view arn);
absl::Status SaveIncident(storage::WriteTxn& txn, std::string_view account, std::string_view key,
                          const IncidentRecord& record);

// Related items of an incident in insertion order, with their storage ids.
absl::StatusOr<std::vector<std::pair<std::string, RelatedItem>>> LoadRelatedItems(
    storage::ReadTxn& txn, std::string_view account, std::string_view incident_key);
// Timeline events of an incident (unordered).
absl::StatusOr<std::vector<TimelineEvent>> LoadTimeline(storage::ReadTxn& txn,
                                                        std::string_view account,
                                                        std::string_view incident_key);

absl::StatusOr<std::map<std::string, std::string>> LoadTags(storage::ReadTxn& txn,
                                                            std::string_view account,
                                                            std::string_view arn);
// Stores the tags of `arn` (deletes the row when empty).
absl::Status SaveTags(storage::WriteTxn& txn, std::string_view account, std::string_view arn,
                      const std::map<std::string, std::string>& tags);

// Deletes every row of `table` for `account` whose id starts with `prefix`.
absl::Status DeletePrefix(storage::WriteTxn& txn, std::string_view table, std::string_view account,
                          std::string_view prefix);

// Appends an event to the incident's timeline, assigning eventId and seq and counting it on
// `record` (the caller saves `record`). When the timeline already holds
// Limits::max_timeline_events events: with `enforce`, ServiceQuotaExceededException;
// without (automatic events), the event is dropped and nullopt returned.
absl::StatusOr<std::optional<TimelineEvent>> AppendTimelineEvent(
    storage::WriteTxn& txn, std::string_view account, std::string_view incident_key,
    IncidentRecord& record, const Limits& limits, bool enforce, std::string_view event_type,
    absl::Time event_time, std::string event_data, std::vector<EventReference> references,
    absl::Time now);

// Stores a related item, assigning its generatedId and counting it on `record` (the caller checks
// limits and duplicates, and saves `record`).
absl::StatusOr<RelatedItem> AppendRelatedItem(storage::WriteTxn& txn, std::string_view account,
                                              std::string_view incident_key, IncidentRecord& record,
                                              RelatedItem item);

// --- idempotency (clientToken) ------------------------------------------------------------------
// SHA-256 (hex) of the canonical JSON of a request's parameters.
std::string Fingerprint(const boost::json::value& parameters);

// --- pagination ---------------------------------------------------------------------------------
// Opaque tokens wrap a position (the last id returned); a token of another list is rejected.
std::string EncodePageToken(std::string_view list, std::string_view position);
// ValidationException for a malformed or foreign token. Empty token -> "" (start).
absl::StatusOr<std::string> DecodePageToken(std::string_view list, std::string_view token);
// maxResults or the configured default.
int PageSize(std::optional<int> max_results, const Limits& limits);

// --- generated ids ------------------------------------------------------------------------------
std::string NewGeneratedId(std::string_view item_type);  // related-item/<TYPE>/<32 upper hex>

}  // namespace klaxon::incidents::internal
