#pragma once
// Storage encoding of alarms and history items (internal JSON; times as Unix microseconds), and a
// JSON serializer that writes numbers the way AWS's JSON does (80, 0.5, 99.50160229693434 —
// never Boost.JSON's "8E1"), used for event payloads and history data.

#include <optional>
#include <string>
#include <variant>

#include "absl/status/statusor.h"
#include "alarms/types.h"
#include "boost/json/value.hpp"

namespace klaxon::alarms {

using AnyAlarm = std::variant<MetricAlarm, CompositeAlarm>;

std::string EncodeAlarm(const AnyAlarm& alarm);
// Errors: kDataLoss when the row does not decode.
absl::StatusOr<AnyAlarm> DecodeAlarm(std::string_view text);

std::string EncodeHistoryItem(const AlarmHistoryItem& item);
absl::StatusOr<AlarmHistoryItem> DecodeHistoryItem(std::string_view text);

// JSON text of `v` with integral doubles written without a fraction and other doubles in their
// shortest round-trip form.
std::string SerializeJson(const boost::json::value& v);

// A double as a JSON value: an integer when it is integral and small enough, else a double.
boost::json::value JsonNumber(double v);

}  // namespace klaxon::alarms
