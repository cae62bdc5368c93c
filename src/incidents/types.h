#pragma once
// Typed records of the Incident Manager domain: replication set, response plans, incident records,
// related items, timeline events, resource policies, and the configuration (Limits) and caller
// (Scope) every service takes.
//
// These are value types (copyable, movable, no invariants beyond the comments). They are stored as
// JSON text in the Store (see records.h for the storage encoding) and mapped to the wire by
// api/services/ssm_incidents; parts the domain never interprets (chat channel, notification
// targets, integrations) are kept as boost::json values in the model's own shape.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "boost/json/value.hpp"

namespace klaxon::incidents {

// Who acts and where. Every read and write is confined to `account_id`.
struct Scope {
  std::string account_id;  // 12 digits
  std::string region;      // the Region of the call ("" = unknown: Region checks are skipped)
  std::string caller_arn;  // principal recorded as createdBy / lastModifiedBy / modifiedBy
};

// Configurable limits. Defaults are AWS's quotas. A count above the model's own limit is a
// ValidationException (the model forbids it); a count above a configured limit that the model
// allows is a ServiceQuotaExceededException (serviceCode "ssm-incidents", quotaCode below).
struct Limits {
  int max_related_items = 50;      // per incident; quotaCode "related-items-per-incident"
  int max_timeline_events = 1000;  // per incident; quotaCode "timeline-events-per-incident"
  int max_engagements = 5;      // per plan (model max 5); quotaCode "engagements-per-response-plan"
  int max_actions = 1;          // per plan (model max 1); quotaCode "actions-per-response-plan"
  int max_regions = 3;          // per replication set (model max 3); "regions-per-replication-set"
  int max_tags = 50;            // per resource; quotaCode "tags-per-resource"
  int default_page_size = 100;  // maxResults when the caller gives none
  // AWS refuses to delete a Region within 24 h of adding it; klaxon defaults to no wait.
  absl::Duration region_delete_min_age = absl::ZeroDuration();
  // clientToken records: how long a token replays its first result, and how many are kept per
  // account (the oldest go first).
  absl::Duration client_token_retention = absl::Hours(24);
  size_t max_client_tokens = 1'000'000;
};

// Resource types named in ResourceNotFound/Conflict/ServiceQuotaExceeded errors.
enum class ResourceType {
  kResponsePlan,
  kIncidentRecord,
  kTimelineEvent,
  kReplicationSet,
  kResourcePolicy
};
std::string_view ResourceTypeName(ResourceType type);  // "RESPONSE_PLAN", ...

// ---------------------------------------------------------------------------------------------
// Replication set

struct RegionInfo {
  std::string status = "ACTIVE";  // ACTIVE | CREATING | DELETING | FAILED
  std::optional<std::string> sse_kms_key_id;
  std::optional<std::string> status_message;
  absl::Time status_update_time;
  absl::Time added_time;
};

struct ReplicationSet {
  std::string arn;  // arn:aws:ssm-incidents::ACCOUNT:replication-set/UUID
  std::map<std::string, RegionInfo> regions;
  std::string status = "ACTIVE";  // ACTIVE | CREATING | UPDATING | DELETING | FAILED
  bool deletion_protected = false;
  std::string created_by;
  absl::Time created_time;
  std::string last_modified_by;
  absl::Time last_modified_time;
};

// ---------------------------------------------------------------------------------------------
// Response plans

struct SsmAutomation {
  std::string document_name;
  std::optional<std::string> document_version;
  std::string role_arn;
  std::optional<std::string> target_account;  // RESPONSE_PLAN_OWNER_ACCOUNT | IMPACTED_ACCOUNT
  std::map<std::string, std::vector<std::string>> parameters;
  std::map<std::string, std::string>
      dynamic_parameters;  // name -> INCIDENT_RECORD_ARN | INVOLVED_RESOURCES
  bool operator==(const SsmAutomation&) const = default;
};

// The model's Action union; ssm_automation is its only member.
struct Action {
  SsmAutomation ssm_automation;
  bool operator==(const Action&) const = default;
};

struct IncidentTemplate {
  std::string title;
  int impact = 3;
  std::optional<std::string> summary;
  std::optional<std::string> dedupe_string;  // empty string = none
  boost::json::value notification_targets;   // null = none; else array of NotificationTargetItem
  std::map<std::string, std::string> incident_tags;
};

struct ResponsePlan {
  std::string name;
  std::string arn;  // arn:aws:ssm-incidents::ACCOUNT:response-plan/NAME
  std::optional<std::string> display_name;
  IncidentTemplate incident_template;
  boost::json::value chat_channel;  // null = none; else the ChatChannel union object
  std::vector<std::string> engagements;
  std::vector<Action> actions;
  boost::json::value integrations;  // null = none; else array of Integration unions
  absl::Time created_time;
};

// ---------------------------------------------------------------------------------------------
// Incident records and what hangs off them

enum class IncidentStatus { kOpen, kResolved };
std::string_view IncidentStatusName(IncidentStatus status);  // "OPEN" | "RESOLVED"
std::optional<IncidentStatus> ParseIncidentStatus(std::string_view name);

struct PagerDutyIncidentDetail {
  std::string id;
  std::optional<bool> auto_resolve;
  std::optional<std::string> secret_id;
  bool operator==(const PagerDutyIncidentDetail&) const = default;
};

// The model's ItemValue union: exactly one member is set.
struct ItemValue {
  std::optional<std::string> arn;
  std::optional<std::string> url;
  std::optional<std::string> metric_definition;
  std::optional<PagerDutyIncidentDetail> pager_duty_incident_detail;
  bool operator==(const ItemValue&) const = default;
  int members_set() const;
};

// Related item types of the model's ItemType enum.
bool IsValidItemType(std::string_view type);

struct ItemIdentifier {
  std::string type;  // ANALYSIS | INCIDENT | METRIC | PARENT | ATTACHMENT | OTHER | AUTOMATION |
                     // INVOLVED_RESOURCE | TASK
  ItemValue value;
  bool operator==(const ItemIdentifier&) const = default;
};

// The identity of a related item within an incident: its type and the value that names it (arn,
// url, metric definition or PagerDuty incident id). Two items with the same key are duplicates.
std::string IdentityKey(const ItemIdentifier& identifier);

struct RelatedItem {
  ItemIdentifier identifier;
  std::optional<std::string> title;
  std::string generated_id;  // related-item/<TYPE>/<32 upper hex>; assigned by the service
};

struct IncidentRecordSource {
  std::string created_by;
  std::optional<std::string> invoked_by;
  std::optional<std::string> resource_arn;
  std::string source;  // "aws.ssm-incidents.custom" for manual incidents
};

struct IncidentRecord {
  std::string arn;  // arn:aws:ssm-incidents::ACCOUNT:incident-record/PLAN/UUID
  std::string title;
  std::optional<std::string> summary;
  IncidentStatus status = IncidentStatus::kOpen;
  int impact = 3;
  absl::Time creation_time;
  std::optional<absl::Time> resolved_time;
  std::string last_modified_by;
  absl::Time last_modified_time;
  std::string dedupe_string;  // always set: the plan's, the trigger's key or a generated UUID
  IncidentRecordSource incident_record_source;
  boost::json::value chat_channel;                 // null = none
  boost::json::value notification_targets;         // null = none
  std::vector<std::string> automation_executions;  // ssmExecutionArn values
  std::string response_plan_arn;
  std::string parent_ops_item_id;  // "" if none
  // Bookkeeping (not on the wire).
  int64_t timeline_event_count = 0;
  int64_t next_event_seq = 0;
  int64_t related_item_count = 0;
  int64_t next_related_seq = 0;
  bool holds_dedupe_key = false;  // true while incident_dedup[dedupe_string] points here
};

struct EventReference {
  std::optional<std::string> resource;         // an ARN
  std::optional<std::string> related_item_id;  // a generatedId
  bool operator==(const EventReference&) const = default;
};

// Automatic timeline event types written by the service, and the two types clients may create.
inline constexpr std::string_view kEventIncidentTrigger = "SSM Incident Trigger";
inline constexpr std::string_view kEventIncidentStart = "SSM Incident Start";
inline constexpr std::string_view kEventIncidentRecordUpdate = "SSM Incident Record Update";
inline constexpr std::string_view kEventCustom = "Custom Event";
inline constexpr std::string_view kEventNote = "Note";
bool IsClientEventType(std::string_view event_type);

struct TimelineEvent {
  std::string incident_record_arn;
  std::string event_id;  // UUID
  absl::Time event_time;
  std::string event_type;
  std::string event_data;  // usually JSON text
  std::vector<EventReference> event_references;
  absl::Time event_updated_time;
  int64_t seq = 0;  // creation order within the incident; breaks eventTime ties
};

struct ResourcePolicy {
  std::string policy_id;
  std::string policy_document;
  std::string ram_resource_share_region;
};

// Timestamp/integer/string filter conditions of ListIncidentRecords and ListTimelineEvents
// (the model's Filter with its Condition union: before | after |
// equals{stringValues|integerValues}).
struct Filter {
  std::string key;
  std::optional<absl::Time> before;
  std::optional<absl::Time> after;
  std::optional<std::vector<std::string>> string_values;
  std::optional<std::vector<int64_t>> integer_values;
};

// One page of a list call: the items and the opaque token of the next page ("" = last page).
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_token;
};

}  // namespace klaxon::incidents
