#pragma once
// Typed records of the EventBridge domain: event buses, rules, targets, partner event sources,
// PutEvents entries and results, and the caller's Scope.
//
// Value types (copyable, movable). Stored as JSON text in the Store (records.h) and mapped to the
// wire by api/services/events.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace klaxon::events {

// Who acts and where. Every read and write is confined to `account_id` (partner operations also
// write the customer account's view of a partner event source).
struct Scope {
  std::string account_id;  // 12 digits
  std::string region;      // the Region of the call
  std::string caller_arn;  // the principal
};

struct Tag {
  std::string key;
  std::string value;
  bool operator==(const Tag&) const = default;
};

inline constexpr char kDefaultBus[] = "default";

struct EventBus {
  std::string name;
  std::string arn;                               // arn:aws:events:REGION:ACCOUNT:event-bus/NAME
  std::optional<std::string> event_source_name;  // partner event buses
  std::optional<std::string> description;
  absl::Time creation_time;
  absl::Time last_modified_time;
};

struct InputTransformer {
  std::map<std::string, std::string> input_paths_map;  // variable -> JSONPath
  std::string input_template;
  bool operator==(const InputTransformer&) const = default;
};

// HttpParameters of webhook targets.
struct HttpParameters {
  std::vector<std::string> path_parameter_values;  // replace the '*'s of the URL path, in order
  std::map<std::string, std::string> header_parameters;
  std::map<std::string, std::string> query_string_parameters;
  bool operator==(const HttpParameters&) const = default;
};

// What a target delivers to (decided from its ARN at PutTargets).
enum class TargetType {
  kResponsePlan,  // arn:aws:ssm-incidents::ACCOUNT:response-plan/NAME (or responseplan/NAME)
  kEventBus,      // arn:aws:events:REGION:ACCOUNT:event-bus/NAME
  kWebhook,       // http://... or https://...
};

struct Target {
  std::string id;
  std::string arn;
  std::optional<std::string> role_arn;
  std::optional<std::string> input;       // constant JSON text
  std::optional<std::string> input_path;  // JSONPath into the event
  std::optional<InputTransformer> input_transformer;
  std::optional<HttpParameters> http_parameters;
  std::optional<int> maximum_retry_attempts;        // RetryPolicy (0..185)
  std::optional<int> maximum_event_age_in_seconds;  // RetryPolicy (60..86400)
  std::optional<std::string> dead_letter_arn;       // DeadLetterConfig.Arn (kept, see README)
  bool operator==(const Target&) const = default;
};

enum class RuleState { kEnabled, kDisabled };

struct Rule {
  std::string name;
  std::string arn;  // arn:aws:events:REGION:ACCOUNT:rule/[BUS/]NAME
  std::string event_bus_name;
  std::optional<std::string> event_pattern;  // as given by the caller
  std::optional<std::string> schedule_expression;
  RuleState state = RuleState::kEnabled;
  std::optional<std::string> description;
  std::optional<std::string> role_arn;
  std::string created_by;  // account id
  std::vector<Target> targets;
};

struct PutRuleRequest {
  std::string name;
  std::string event_bus_name;  // name or ARN; "" = default
  std::optional<std::string> event_pattern;
  std::optional<std::string> schedule_expression;
  std::optional<RuleState> state;  // default ENABLED
  std::optional<std::string> description;
  std::optional<std::string> role_arn;
  std::vector<Tag> tags;  // applied when the rule is created only (as AWS)
};

// One failed entry of PutTargets / RemoveTargets.
struct TargetFailure {
  std::string target_id;
  std::string error_code;
  std::string error_message;
};

struct PutEventsEntry {
  std::optional<absl::Time> time;
  std::optional<std::string> source;
  std::vector<std::string> resources;
  std::optional<std::string> detail_type;
  std::optional<std::string> detail;
  std::optional<std::string> event_bus_name;  // name or ARN; absent = default
  std::optional<std::string> trace_header;
};

// Either event_id or error_code/error_message.
struct PutEventsResult {
  std::string event_id;
  std::string error_code;
  std::string error_message;
};

enum class EventSourceState { kPending, kActive, kDeleted };

// The customer account's view of a partner event source.
struct EventSource {
  std::string name;
  std::string arn;         // arn:aws:events:REGION::event-source/aws.partner/...
  std::string created_by;  // the partner's name (second segment of the source name)
  absl::Time creation_time;
  EventSourceState state = EventSourceState::kPending;
};

// The partner's view: one source offered to one account.
struct PartnerEventSourceAccount {
  std::string account;
  absl::Time creation_time;
  EventSourceState state = EventSourceState::kPending;
};

// One page of a list call and the opaque token of the next page ("" = last page).
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_token;
};

}  // namespace klaxon::events
