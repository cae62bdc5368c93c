#pragma once
// Parsing of untrusted JSON request bodies, shared by the JSON codecs.

#include <string_view>

#include "absl/status/statusor.h"
#include "boost/json/object.hpp"

namespace klaxon::api::protocol {

// Nesting deeper than this is refused (the parser stops there; nothing recurses further).
inline constexpr int kMaxJsonDepth = 64;

// Parses a request body that must be a JSON object; an empty (or all-whitespace) body is `{}`.
// Errors: InvalidArgument with type SerializationException (not JSON, not an object, invalid
// UTF-8, nested deeper than kMaxJsonDepth).
absl::StatusOr<boost::json::object> ParseJsonObjectBody(std::string_view body);

}  // namespace klaxon::api::protocol
