#pragma once
// Server-side validation of operation inputs against the service model, and shaping of
// operation outputs — both protocol-independent, working on the JSON object handlers see
// (api/operation.h conventions).
//
// Clients validate only required members, types and minimums (botocore) or nothing (JS v3), so
// the server enforces everything the model says: required members, string length (in UTF-16 code
// units, like the Java services), patterns (RE2, whole-value match; see
// ServiceModel::unsupported_patterns()), enums, numeric ranges, list/map sizes, unions with
// exactly one member, JSON types. Errors read like AWS's (Coral) messages:
//   1 validation error detected: Value 'x' at 'responsePlanArn' failed to satisfy constraint:
//   Member must satisfy regular expression pattern: ^arn:aws...
// Paths: structure members joined with '.', list items as `name.N.member` (1-based), map values
// as `name.<key>`; map keys are reported at the map itself ("Map keys must satisfy constraint").
//
// Hostile input: recursion is bounded by ValidationOptions::max_depth (the JSON parser bounds it
// too), error collection by max_errors, and each value quoted in a message by 256 characters.
// Thread-safe (stateless; the model is immutable).

#include <cstddef>

#include "absl/status/status.h"
#include "api/model/service_model.h"
#include "boost/json/value.hpp"

namespace klaxon::api::model {

struct ValidationOptions {
  // Nesting depth beyond which input is refused.
  int max_depth = 64;
  // Constraint violations listed in one message (AWS lists all; we cap the work).
  size_t max_errors = 10;
  // Member paths with the first letter lower-cased, as AWS prints them for JSON 1.1 services
  // ("Value null at 'opsItemId'" for the model's OpsItemId).
  bool lower_camel_paths = false;
};

// Validates `value` against `shape` and normalizes it in place for the handler: JSON nulls and
// members the model does not know are removed; timestamps become epoch-seconds doubles (numbers,
// numeric strings and RFC 3339 strings are accepted); integral doubles for integer/long members
// become integers; numbers for float/double members become doubles.
// Errors: InvalidArgument carrying AwsError type "ValidationException" with an AWS-style message.
absl::Status ValidateInput(const Shape& shape, boost::json::value& value,
                           const ValidationOptions& options = {});

// Shapes a handler's output for the wire: removes nulls and members the model does not know,
// drops union members that have no member set (an empty union breaks clients — wire-contract
// §0.3), keeps only the first member of a union with several, turns timestamps given as RFC 3339
// strings into epoch seconds. Never fails: problems are logged (they are handler bugs), including
// required output members left out (once per member).
void ShapeOutput(const Shape& shape, boost::json::value& value);

}  // namespace klaxon::api::model
