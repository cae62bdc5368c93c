#include "incidents/types.h"

#include <array>

#include "incidents/strings.h"

namespace klaxon::incidents {

std::string_view ResourceTypeName(ResourceType type) {
  switch (type) {
    case ResourceType::kResponsePlan:
      return "RESPONSE_PLAN";
    case ResourceType::kIncidentRecord:
      return "INCIDENT_RECORD";
    case ResourceType::kTimelineEvent:
      return "TIMELINE_EVENT";
    case ResourceType::kReplicationSet:
      return "REPLICATION_SET";
    case ResourceType::kResourcePolicy:
      return "RESOURCE_POLICY";
  }
  return "";
}

std::string_view IncidentStatusName(IncidentStatus status) {
  return status == IncidentStatus::kOpen ? "OPEN" : "RESOLVED";
}

std::optional<IncidentStatus> ParseIncidentStatus(std::string_view name) {
  if (name == "OPEN") return IncidentStatus::kOpen;
  if (name == "RESOLVED") return IncidentStatus::kResolved;
  return std::nullopt;
}

int ItemValue::members_set() const {
  return static_cast<int>(arn.has_value()) + static_cast<int>(url.has_value()) +
         static_cast<int>(metric_definition.has_value()) +
         static_cast<int>(pager_duty_incident_detail.has_value());
}

bool IsValidItemType(std::string_view type) {
  static constexpr std::array<std::string_view, 9> kTypes = {
      "ANALYSIS",   "INCIDENT",          "METRIC", "PARENT", "ATTACHMENT", "OTHER",
      "AUTOMATION", "INVOLVED_RESOURCE", "TASK"};
  for (auto t : kTypes) {
    if (t == type) return true;
  }
  return false;
}

std::string IdentityKey(const ItemIdentifier& identifier) {
  const ItemValue& v = identifier.value;
  if (v.arn) return internal::Cat(identifier.type, "\n", "arn\n", *v.arn);
  if (v.url) return internal::Cat(identifier.type, "\n", "url\n", *v.url);
  if (v.metric_definition) {
    return internal::Cat(identifier.type, "\n", "metricDefinition\n", *v.metric_definition);
  }
  if (v.pager_duty_incident_detail) {
    return internal::Cat(identifier.type, "\n", "pagerDuty\n", v.pager_duty_incident_detail->id);
  }
  return internal::Cat(identifier.type, "\n");
}

bool IsClientEventType(std::string_view event_type) {
  return event_type == kEventCustom || event_type == kEventNote;
}

}  // namespace klaxon::incidents
