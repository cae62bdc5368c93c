#pragma once
// Conversions between the text form of scalar members (URI labels, query strings, headers, form
// fields, XML) and the JSON form handlers see (api/operation.h conventions). Thread-safe.

#include <string>
#include <string_view>

#include "api/model/service_model.h"
#include "boost/json/value.hpp"

namespace klaxon::api::protocol {

// Converts `text` to the JSON type of `shape` (integer, long, float, double, boolean; timestamps
// given as epoch seconds, or as an HTTP date when `http_date` is set). Text that does not convert
// is returned as a string, so that validation reports it with the member's path (RFC 3339
// timestamps are converted there).
boost::json::value ScalarFromText(const model::Shape& shape, std::string_view text, bool http_date);

enum class TimestampText { kHttpDate, kIso8601 };

// Text of a scalar JSON value of `shape`; timestamps (epoch seconds) in `format`.
std::string ScalarToText(const boost::json::value& value, const model::Shape& shape,
                         TimestampText format);

// Appends `in` to `out` escaped for XML character data and attribute values. Control
// characters XML 1.0 cannot carry are replaced by U+FFFD.
void AppendXmlEscaped(std::string_view in, std::string* out);

}  // namespace klaxon::api::protocol
