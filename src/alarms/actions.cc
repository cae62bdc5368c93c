#include "alarms/actions.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace klaxon::alarms {
namespace {

absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status Unsupported(std::string_view arn, std::string_view why) {
  return ValidationError(
      absl::StrCat("Invalid alarm action ", Absl(arn), ": ", Absl(why),
                   ". klaxon supports arn:aws:ssm-incidents::ACCOUNT:responseplan/NAME and "
                   "arn:aws:ssm:REGION:ACCOUNT:opsitem:SEVERITY[#CATEGORY=NAME]."));
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 200) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

void AddMetricResources(const MetricId& m, std::string_view region, std::string_view account,
                        std::vector<std::string>& out) {
  std::map<std::string, std::string> dims;
  for (const Dimension& d : m.dimensions) dims[d.name] = d.value;
  auto get = [&](const char* name) -> const std::string* {
    auto it = dims.find(name);
    return it == dims.end() ? nullptr : &it->second;
  };
  const absl::string_view r = Absl(region), a = Absl(account);
  auto add = [&](std::string arn) {
    if (std::find(out.begin(), out.end(), arn) == out.end()) out.push_back(std::move(arn));
  };
  if (m.ns == "AWS/EC2") {
    if (const auto* id = get("InstanceId"))
      add(absl::StrCat("arn:aws:ec2:", r, ":", a, ":instance/", *id));
    if (const auto* id = get("ImageId")) add(absl::StrCat("arn:aws:ec2:", r, "::image/", *id));
  } else if (m.ns == "AWS/RDS") {
    if (const auto* id = get("DBInstanceIdentifier")) {
      add(absl::StrCat("arn:aws:rds:", r, ":", a, ":db:", *id));
    }
    if (const auto* id = get("DBClusterIdentifier")) {
      add(absl::StrCat("arn:aws:rds:", r, ":", a, ":cluster:", *id));
    }
  } else if (m.ns == "AWS/Lambda") {
    const auto* fn = get("FunctionName");
    if (const auto* res = get("Resource")) {
      // "name", "name:alias" or "name:version"
      add(absl::StrCat("arn:aws:lambda:", r, ":", a, ":function:", *res));
    } else if (fn) {
      if (const auto* version = get("ExecutedVersion")) {
        add(absl::StrCat("arn:aws:lambda:", r, ":", a, ":function:", *fn, ":", *version));
      } else {
        add(absl::StrCat("arn:aws:lambda:", r, ":", a, ":function:", *fn));
      }
    }
  } else if (m.ns == "AWS/DynamoDB") {
    if (const auto* table = get("TableName")) {
      std::string base = absl::StrCat("arn:aws:dynamodb:", r, ":", a, ":table/", *table);
      if (const auto* gsi = get("GlobalSecondaryIndexName")) {
        add(absl::StrCat(base, "/index/", *gsi));
      } else if (const auto* stream = get("StreamLabel")) {
        add(absl::StrCat(base, "/stream/", *stream));
      } else {
        add(base);
      }
    }
  } else if (m.ns == "AWS/S3") {
    if (const auto* bucket = get("BucketName")) add(absl::StrCat("arn:aws:s3:::", *bucket));
  }
}

}  // namespace

absl::StatusOr<AlarmAction> ParseAlarmAction(std::string_view arn, std::string_view region,
                                             std::string_view account) {
  constexpr std::string_view kIncidents = "arn:aws:ssm-incidents::";
  constexpr std::string_view kSsm = "arn:aws:ssm:";
  AlarmAction action;
  if (arn.substr(0, kIncidents.size()) == kIncidents) {
    std::string_view rest = arn.substr(kIncidents.size());
    size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return Unsupported(arn, "malformed ARN");
    if (rest.substr(0, colon) != account) {
      return Unsupported(arn, "the response plan must be in the alarm's account");
    }
    std::string_view resource = rest.substr(colon + 1);
    for (std::string_view prefix :
         {std::string_view("responseplan/"), std::string_view("response-plan/")}) {
      if (resource.substr(0, prefix.size()) == prefix) {
        std::string_view name = resource.substr(prefix.size());
        if (!ValidName(name)) return Unsupported(arn, "invalid response plan name");
        action.kind = AlarmAction::Kind::kStartIncident;
        action.response_plan_name = std::string(name);
        return action;
      }
    }
    return Unsupported(arn, "not a response plan");
  }
  if (arn.substr(0, kSsm.size()) == kSsm) {
    // REGION:ACCOUNT:opsitem:SEVERITY[#CATEGORY=NAME]
    std::string_view rest = arn.substr(kSsm.size());
    std::vector<std::string_view> parts;
    for (int i = 0; i < 3; ++i) {
      size_t colon = rest.find(':');
      if (colon == std::string_view::npos) return Unsupported(arn, "malformed ARN");
      parts.push_back(rest.substr(0, colon));
      rest.remove_prefix(colon + 1);
    }
    if (parts[2] != "opsitem") return Unsupported(arn, "not an OpsItem action");
    if (parts[0] != region) {
      return Unsupported(arn, absl::StrCat("the Region must be the alarm's (", Absl(region), ")"));
    }
    if (parts[1] != account) return Unsupported(arn, "the account must be the alarm's");
    std::string_view severity = rest;
    std::optional<std::string> category;
    if (size_t hash = rest.find('#'); hash != std::string_view::npos) {
      severity = rest.substr(0, hash);
      std::string_view tail = rest.substr(hash + 1);
      constexpr std::string_view kCategory = "CATEGORY=";
      if (tail.substr(0, kCategory.size()) != kCategory) {
        return Unsupported(arn, "expected #CATEGORY=NAME");
      }
      std::string_view name = tail.substr(kCategory.size());
      static constexpr std::string_view kCategories[] = {"Availability", "Cost", "Performance",
                                                         "Recovery", "Security"};
      if (std::find(std::begin(kCategories), std::end(kCategories), name) ==
          std::end(kCategories)) {
        return Unsupported(arn,
                           "CATEGORY must be Availability, Cost, Performance, Recovery or "
                           "Security");
      }
      category = std::string(name);
    }
    if (severity.size() != 1 || severity[0] < '1' || severity[0] > '4') {
      return Unsupported(arn, "SEVERITY must be 1, 2, 3 or 4");
    }
    action.kind = AlarmAction::Kind::kCreateOpsItem;
    action.severity = std::string(severity);
    action.category = std::move(category);
    return action;
  }
  return Unsupported(arn, "unsupported action type");
}

std::vector<std::string> InvolvedResources(const AnyAlarm& alarm, std::string_view region,
                                           std::string_view account) {
  std::vector<std::string> out;
  if (const auto* m = std::get_if<MetricAlarm>(&alarm)) {
    if (m->metric) AddMetricResources(*m->metric, region, account, out);
    for (const MetricDataQuery& q : m->metrics) {
      if (q.metric_stat) AddMetricResources(q.metric_stat->metric, region, account, out);
    }
  }
  return out;
}

}  // namespace klaxon::alarms
