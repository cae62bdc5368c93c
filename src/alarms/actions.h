#pragma once
// Alarm actions klaxon performs, and the resources an alarm involves.
//
// Supported action ARNs (anything else is refused at PutMetricAlarm / PutCompositeAlarm):
//   arn:aws:ssm-incidents::ACCOUNT:responseplan/NAME   start an incident from the response plan
//     (the resource spelling response-plan/NAME is accepted too);
//   arn:aws:ssm:REGION:ACCOUNT:opsitem:SEVERITY[#CATEGORY=CATEGORY]   create an OpsItem
//     (SEVERITY 1..4; CATEGORY Availability | Cost | Performance | Recovery | Security).
// The account must be the alarm's, the Region (OpsItems) the alarm's.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "alarms/records.h"
#include "alarms/types.h"

namespace klaxon::alarms {

struct AlarmAction {
  enum class Kind { kStartIncident, kCreateOpsItem };
  Kind kind = Kind::kStartIncident;
  std::string response_plan_name;  // kStartIncident
  std::string severity;            // kCreateOpsItem: "1".."4"
  std::optional<std::string> category;
};

// Errors: InvalidArgument (ValidationError) naming the ARN and what klaxon supports.
absl::StatusOr<AlarmAction> ParseAlarmAction(std::string_view arn, std::string_view region,
                                             std::string_view account);

// ARNs of the AWS resources an alarm's metric dimensions name, as Incident Manager collects them
// (EC2 instances and images, RDS instances and clusters, Lambda functions/aliases/versions,
// DynamoDB tables/indexes/streams, S3 buckets), each once, in metric order.
std::vector<std::string> InvolvedResources(const AnyAlarm& alarm, std::string_view region,
                                           std::string_view account);

}  // namespace klaxon::alarms
