// DescribeOpsItems filters: which key takes which operators, and how a value is matched.

#include <algorithm>
#include <string>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "boost/json.hpp"
#include "opsitems/internal.h"

namespace klaxon::opsitems::internal {
namespace {

namespace json = boost::json;
using Kind = CompiledFilter::Kind;

constexpr size_t kTitleEqualsMax = 100;

struct KeyRule {
  std::string_view key;
  Kind kind;
  std::vector<std::string_view> ops;
};

const std::vector<KeyRule>& Rules() {
  static const auto* rules = new std::vector<KeyRule>{
      {"Status", Kind::kString, {"Equal"}},
      {"CreatedBy", Kind::kString, {"Equal", "Contains"}},
      {"Source", Kind::kString, {"Equal", "Contains"}},
      {"Priority", Kind::kPriority, {"Equal"}},
      {"Title", Kind::kString, {"Equal", "Contains"}},
      {"OpsItemId", Kind::kString, {"Equal"}},
      {"CreatedTime", Kind::kTime, {"GreaterThan", "LessThan"}},
      {"LastModifiedTime", Kind::kTime, {"GreaterThan", "LessThan"}},
      {"ActualStartTime", Kind::kTime, {"GreaterThan", "LessThan"}},
      {"ActualEndTime", Kind::kTime, {"GreaterThan", "LessThan"}},
      {"PlannedStartTime", Kind::kTime, {"GreaterThan", "LessThan"}},
      {"PlannedEndTime", Kind::kTime, {"GreaterThan", "LessThan"}},
      {"OperationalData", Kind::kDataPair, {"Equal"}},
      {"OperationalDataKey", Kind::kDataKey, {"Equal"}},
      {"OperationalDataValue", Kind::kDataValue, {"Equal", "Contains"}},
      {"ResourceId", Kind::kResourceId, {"Equal", "Contains"}},
      {"AutomationId", Kind::kAutomationId, {"Equal"}},
      {"Category", Kind::kString, {"Equal"}},
      {"Severity", Kind::kString, {"Equal"}},
      {"OpsItemType", Kind::kString, {"Equal"}},
      {"AccountId", Kind::kAccountId, {"Equal"}},
  };
  return *rules;
}

// Keys of Change Manager, insights and access requests: valid, but no OpsItem klaxon holds
// carries that data, so they match nothing.
bool IsNeverKey(std::string_view key) {
  return absl::StartsWith(ToAbsl(key), "ChangeRequestBy") ||
         absl::StartsWith(ToAbsl(key), "AccessRequestBy") || key == "InsightByType";
}

// Accepts RFC 3339 ("2024-01-01T00:00:00Z", offsets, fractions), the same without a zone
// (UTC), a date ("2024-01-01", UTC midnight), or epoch seconds ("1704067200" / "1704067200.5").
bool ParseFilterTime(const std::string& s, absl::Time* out) {
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, s, out, &err)) return true;
  if (absl::ParseTime("%Y-%m-%dT%H:%M:%E*S", s, absl::UTCTimeZone(), out, &err)) return true;
  if (absl::ParseTime("%Y-%m-%d", s, absl::UTCTimeZone(), out, &err)) return true;
  double seconds = 0;
  if (absl::SimpleAtod(s, &seconds)) {
    *out = absl::UnixEpoch() + absl::Seconds(seconds);
    return true;
  }
  return false;
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  return absl::StrContains(Lower(haystack), Lower(needle));
}

bool StringMatches(const CompiledFilter& f, std::string_view field) {
  for (const auto& v : f.values) {
    if (f.op == "Contains") {
      if (ContainsIgnoreCase(field, v)) return true;
    } else if (f.key == "Title") {
      if (field.substr(0, kTitleEqualsMax) == v) return true;
    } else if (field == v) {
      return true;
    }
  }
  return false;
}

std::string_view StringField(const std::string& key, const Scope& scope, const OpsItem& item) {
  (void)scope;
  if (key == "Status") return item.status;
  if (key == "CreatedBy") return item.created_by;
  if (key == "Source") return item.source;
  if (key == "Title") return item.title;
  if (key == "OpsItemId") return item.ops_item_id;
  if (key == "Category") return item.category;
  if (key == "Severity") return item.severity;
  if (key == "OpsItemType") return item.ops_item_type;
  return {};
}

std::optional<absl::Time> TimeField(const std::string& key, const OpsItem& item) {
  if (key == "CreatedTime") return item.created_time;
  if (key == "LastModifiedTime") return item.last_modified_time;
  if (key == "ActualStartTime") return item.actual_start_time;
  if (key == "ActualEndTime") return item.actual_end_time;
  if (key == "PlannedStartTime") return item.planned_start_time;
  if (key == "PlannedEndTime") return item.planned_end_time;
  return std::nullopt;
}

bool IsSearchable(const OpsItemDataValue& v) { return v.type != "String"; }

bool MatchOne(const CompiledFilter& f, const Scope& scope, const OpsItem& item) {
  switch (f.kind) {
    case Kind::kString:
      return StringMatches(f, StringField(f.key, scope, item));
    case Kind::kTime: {
      auto t = TimeField(f.key, item);
      if (!t) return false;
      for (absl::Time v : f.times) {
        if (f.op == "GreaterThan" ? *t > v : *t < v) return true;
      }
      return false;
    }
    case Kind::kPriority:
      return item.priority && std::find(f.priorities.begin(), f.priorities.end(), *item.priority) !=
                                  f.priorities.end();
    case Kind::kDataPair:
      for (const auto& [key, value] : f.pairs) {
        auto it = item.operational_data.find(key);
        if (it != item.operational_data.end() && IsSearchable(it->second) &&
            it->second.value == value) {
          return true;
        }
      }
      return false;
    case Kind::kDataKey:
      for (const auto& key : f.values) {
        auto it = item.operational_data.find(key);
        if (it != item.operational_data.end() && IsSearchable(it->second)) return true;
      }
      return false;
    case Kind::kDataValue:
      for (const auto& [key, data] : item.operational_data) {
        if (IsSearchable(data) && StringMatches(f, data.value)) return true;
      }
      return false;
    case Kind::kResourceId: {
      auto it = item.operational_data.find(kResourcesKey);
      if (it == item.operational_data.end()) return false;
      auto arns = ParseResourceArns(it->second.value);
      if (!arns.ok()) return false;
      for (const auto& arn : *arns) {
        if (StringMatches(f, arn)) return true;
      }
      return false;
    }
    case Kind::kAutomationId: {
      auto it = item.operational_data.find(kAutomationsKey);
      if (it == item.operational_data.end()) return false;
      auto ids = ParseAutomationIds(it->second.value);
      if (!ids.ok()) return false;
      for (const auto& id : *ids) {
        if (StringMatches(f, id)) return true;
      }
      return false;
    }
    case Kind::kAccountId:
      return StringMatches(f, scope.account_id);
    case Kind::kNever:
      return false;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::vector<CompiledFilter>> CompileFilters(
    const std::vector<OpsItemFilter>& filters) {
  std::vector<CompiledFilter> out;
  for (const auto& filter : filters) {
    CompiledFilter c;
    c.key = filter.key;
    c.op = filter.op;
    c.values = filter.values;
    if (filter.values.empty()) {
      return InvalidParameter({"OpsItemFilters"},
                              absl::StrCat("Filter ", filter.key, " has no Values."));
    }
    if (IsNeverKey(filter.key)) {
      c.kind = Kind::kNever;
      out.push_back(std::move(c));
      continue;
    }
    const auto& rules = Rules();
    auto rule = std::find_if(rules.begin(), rules.end(),
                             [&](const KeyRule& r) { return r.key == filter.key; });
    if (rule == rules.end()) {
      return InvalidParameter({"OpsItemFilters"},
                              absl::StrCat("Filter key \"", filter.key, "\" is not supported."));
    }
    if (std::find(rule->ops.begin(), rule->ops.end(), filter.op) == rule->ops.end()) {
      std::string allowed;
      for (auto op : rule->ops) absl::StrAppend(&allowed, allowed.empty() ? "" : ", ", ToAbsl(op));
      return InvalidParameter({"OpsItemFilters"},
                              absl::StrCat("Operator \"", filter.op, "\" is not supported for key ",
                                           filter.key, " (supported: ", allowed, ")."));
    }
    c.kind = rule->kind;
    for (const auto& v : filter.values) {
      switch (c.kind) {
        case Kind::kTime: {
          absl::Time t;
          if (!ParseFilterTime(v, &t)) {
            return InvalidParameter(
                {"OpsItemFilters"},
                absl::StrCat("Filter ", filter.key, ": \"", v,
                             "\" is not a timestamp (use e.g. 2024-01-01T00:00:00Z)."));
          }
          c.times.push_back(t);
          break;
        }
        case Kind::kPriority: {
          int p = 0;
          if (!absl::SimpleAtoi(v, &p)) {
            return InvalidParameter({"OpsItemFilters"},
                                    absl::StrCat("Filter Priority: \"", v, "\" is not a number."));
          }
          c.priorities.push_back(p);
          break;
        }
        case Kind::kDataPair: {
          boost::system::error_code ec;
          json::value j = json::parse(v, ec);
          const json::object* o = (!ec && j.is_object()) ? &j.as_object() : nullptr;
          const json::value* k = o ? o->if_contains("key") : nullptr;
          const json::value* val = o ? o->if_contains("value") : nullptr;
          if (!k || !val || !k->is_string() || !val->is_string()) {
            return InvalidParameter({"OpsItemFilters"},
                                    "Filter OperationalData: each value must be "
                                    "{\"key\":\"key_name\",\"value\":\"a_value\"}.");
          }
          c.pairs.emplace_back(std::string(k->as_string()), std::string(val->as_string()));
          break;
        }
        default:
          if (c.key == "Title" && c.op == "Equal" && v.size() > kTitleEqualsMax) {
            return InvalidParameter({"OpsItemFilters"},
                                    "Filter Title: the Equal operator matches the first 100 "
                                    "characters; the value exceeds the length limit.");
          }
          break;
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

bool Matches(const std::vector<CompiledFilter>& filters, const Scope& scope, const OpsItem& item) {
  for (const auto& f : filters) {
    if (!MatchOne(f, scope, item)) return false;
  }
  return true;
}

}  // namespace klaxon::opsitems::internal
