#pragma once
// What a target receives: the whole event, a constant (Input), a part of the event (InputPath),
// or a template filled from the event (InputTransformer), as EventBridge builds them.
//
// JSONPath: the subset EventBridge documents for InputPath / InputPathsMap: `$`, dot notation
// (`$.detail.instance-id`; names may hold dashes, underscores, slashes, alphanumerics), bracketed
// names (`$['a b']`) and array indices (`$.resources[0]`). Wildcards are not supported (rejected at
// PutTargets).
//
// InputTemplate: `<name>` placeholders name an InputPathsMap variable or a predefined one
// (`aws.events.rule-arn`, `aws.events.rule-name`, `aws.events.event.ingestion-time`,
// `aws.events.event` = the event without `detail`, `aws.events.event.json` = the whole event).
// A template whose first non-blank character is `{` or `[` is a JSON template: a placeholder
// standing as a JSON value is replaced by the value's JSON (a string gets quotes); inside a JSON
// string it is replaced by the text of the value, JSON-escaped (AWS inserts it unescaped, which
// can produce invalid JSON; klaxon keeps the output valid). The result is minified when it is
// valid JSON. Any other template is text: placeholders become the value's text (strings without
// quotes). A path that does not exist in the event gives `null` as a JSON value and nothing
// inside a string or a text template.
//
// All functions are pure and thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "boost/json/value.hpp"
#include "events/bus/types.h"

namespace klaxon::events {

struct JsonPathStep {
  std::optional<std::string> name;  // object member
  std::optional<size_t> index;      // array element
};

// Parses a JSONPath of the supported subset. Errors: InvalidArgument naming the problem.
absl::StatusOr<std::vector<JsonPathStep>> ParseJsonPath(std::string_view path);

// The value at `steps` in `root`, or nullptr when absent.
const boost::json::value* EvalJsonPath(const boost::json::value& root,
                                       const std::vector<JsonPathStep>& steps);

// Checks a target's input settings as PutTargets does: at most one of Input, InputPath,
// InputTransformer; Input valid JSON; paths of the supported subset; no variable named like a
// predefined one (`aws.` prefix). Errors: InvalidArgument with the reason.
absl::Status ValidateTargetInput(const Target& target);

// Values a template can use besides the event's own.
struct InputContext {
  std::string rule_arn;
  std::string rule_name;
  absl::Time ingestion_time;
};

// The text delivered to `target` for `event_json` (the whole event when the target sets no
// input). Errors: InvalidArgument if the event is not valid JSON (never for events klaxon built).
absl::StatusOr<std::string> TransformInput(const Target& target, std::string_view event_json,
                                           const InputContext& context);

}  // namespace klaxon::events
