#pragma once
// The EventBridge events CloudWatch emits for alarms, in AWS's shapes (wire-contract §3.7,
// "Alarm events and EventBridge"):
//   "CloudWatch Alarm State Change"          detail {alarmName, configuration, previousState,
//                                                     state}
//   "CloudWatch Alarm Configuration Change"  detail {alarmName, operation (create|update|delete),
//                                                     state, configuration[,
//                                                     previousConfiguration]}
// Pure functions of the alarm records; numbers are written as AWS writes them (records.h).

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "alarms/records.h"
#include "alarms/types.h"
#include "boost/json/object.hpp"

namespace klaxon::alarms {

inline constexpr char kStateChangeDetailType[] = "CloudWatch Alarm State Change";
inline constexpr char kConfigurationChangeDetailType[] = "CloudWatch Alarm Configuration Change";
inline constexpr char kCloudWatchSource[] = "aws.cloudwatch";

// A state as events show it.
struct EventState {
  StateValue value = StateValue::kInsufficientData;
  std::string reason;
  std::optional<std::string> reason_data;
  absl::Time timestamp;
  std::optional<std::string> actions_suppressed_by;
  std::optional<std::string> actions_suppressed_reason;
};

EventState CurrentEventState(const AnyAlarm& alarm);

// The "detail" object of a state change of `alarm` (its configuration as of the change).
boost::json::object StateChangeDetail(const AnyAlarm& alarm, const EventState& previous,
                                      const EventState& current);

// The "detail" object of a configuration change. `previous` only for "update".
boost::json::object ConfigurationChangeDetail(const AnyAlarm& alarm, std::string_view operation,
                                              const AnyAlarm* previous);

// A complete event (EventBridge envelope around `detail`), as JSON text: what the incident's
// triggerDetails.rawData carries.
std::string EventJson(std::string_view id, std::string_view detail_type, std::string_view account,
                      std::string_view region, absl::Time time, std::string_view alarm_arn,
                      const boost::json::object& detail);

}  // namespace klaxon::alarms
