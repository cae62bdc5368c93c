#pragma once
// Error handling helpers used across every module.
//
// Errors cross module boundaries as absl::Status / absl::StatusOr<T>. An error that must reach a
// client as a specific AWS exception carries that exception's shape name (and any extra members the
// shape defines, such as resourceIdentifier) as Status payloads; the api/protocol layer is the one
// place that turns a Status into a wire error (see api/protocol/errors.h).

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/json/object.hpp"

#define KLAXON_STATUS_CONCAT_INNER(a, b) a##b
#define KLAXON_STATUS_CONCAT(a, b) KLAXON_STATUS_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define KLAXON_RETURN_IF_ERROR(expr)                    \
  do {                                                  \
    ::absl::Status klaxon_status_ = (expr);             \
    if (!klaxon_status_.ok()) return klaxon_status_;    \
  } while (0)

// `lhs = value of rexpr`, or returns its error. rexpr is an absl::StatusOr<T>.
#define KLAXON_ASSIGN_OR_RETURN(lhs, rexpr) \
  KLAXON_ASSIGN_OR_RETURN_IMPL(KLAXON_STATUS_CONCAT(klaxon_statusor_, __LINE__), lhs, rexpr)
// NOLINTBEGIN(bugprone-macro-parentheses): `tmp` and `lhs` are declarations, not expressions.
#define KLAXON_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                 \
  if (!tmp.ok()) return std::move(tmp).status();      \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)

namespace klaxon {

// Builds an error that the wire layer reports as the AWS exception `type` (a shape name of the
// service model, e.g. "ResourceNotFoundException"). `fields` are extra members of that shape
// (e.g. {"resourceIdentifier": ..., "resourceType": "RESPONSE_PLAN"}). The absl code decides
// the HTTP status when the model does not define one for `type`.
absl::Status AwsError(absl::StatusCode code, std::string_view type, std::string_view message,
                      const boost::json::object& fields = {});

// The AWS exception name attached by AwsError, if any.
std::optional<std::string> AwsErrorType(const absl::Status& status);

// The extra members attached by AwsError (empty object if none).
boost::json::object AwsErrorFields(const absl::Status& status);

// Shorthands for the errors every service uses. Each names the offending member in `message`.
inline absl::Status ValidationError(std::string_view message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationException", message);
}

}  // namespace klaxon
