#include "api/services/ssm/ssm_handlers.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/json.hpp"
#include "common/clock.h"
#include "common/status.h"

namespace klaxon::api {
namespace ssm {
namespace {

namespace json = boost::json;
using opsitems::OpsItem;
using opsitems::OpsItemService;
using opsitems::Scope;

absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// The protocol layer has validated types against the model; these readers still refuse a wrong
// JSON type (a handler called directly, or a codec bug) with a ValidationException rather than
// crash.
absl::Status TypeError(std::string_view member, std::string_view expected) {
  return ValidationError(
      absl::StrCat("Member '", ToAbsl(member), "' must be ", ToAbsl(expected), "."));
}

absl::StatusOr<std::optional<std::string>> OptString(const json::object& in,
                                                     std::string_view member) {
  const json::value* v = in.if_contains(json::string_view(member.data(), member.size()));
  if (!v || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return TypeError(member, "a string");
  return std::optional<std::string>(std::string(v->as_string()));
}

absl::StatusOr<std::string> String(const json::object& in, std::string_view member) {
  KLAXON_ASSIGN_OR_RETURN(auto v, OptString(in, member));
  return v.value_or("");
}

absl::StatusOr<std::optional<int64_t>> OptInt(const json::object& in, std::string_view member) {
  const json::value* v = in.if_contains(json::string_view(member.data(), member.size()));
  if (!v || v->is_null()) return std::optional<int64_t>();
  if (v->is_int64()) return std::optional<int64_t>(v->as_int64());
  if (v->is_uint64() && v->as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return std::optional<int64_t>(static_cast<int64_t>(v->as_uint64()));
  }
  if (v->is_double() &&
      v->as_double() == static_cast<double>(static_cast<int64_t>(v->as_double()))) {
    return std::optional<int64_t>(static_cast<int64_t>(v->as_double()));
  }
  return TypeError(member, "an integer");
}

absl::StatusOr<std::optional<absl::Time>> OptTime(const json::object& in, std::string_view member) {
  const json::value* v = in.if_contains(json::string_view(member.data(), member.size()));
  if (!v || v->is_null()) return std::optional<absl::Time>();
  if (!v->is_number()) return TypeError(member, "a timestamp (epoch seconds)");
  return std::optional<absl::Time>(FromEpochSeconds(v->to_number<double>()));
}

absl::StatusOr<const json::array*> OptArray(const json::object& in, std::string_view member) {
  const json::value* v = in.if_contains(json::string_view(member.data(), member.size()));
  if (!v || v->is_null()) return nullptr;
  if (!v->is_array()) return TypeError(member, "a list");
  return &v->as_array();
}

absl::StatusOr<const json::object*> OptObject(const json::object& in, std::string_view member) {
  const json::value* v = in.if_contains(json::string_view(member.data(), member.size()));
  if (!v || v->is_null()) return nullptr;
  if (!v->is_object()) return TypeError(member, "a structure or map");
  return &v->as_object();
}

// list<struct{Field: string}> → strings. A missing Field is OpsItemInvalidParameterException.
absl::StatusOr<std::optional<std::vector<std::string>>> StructFieldList(const json::object& in,
                                                                        std::string_view member,
                                                                        std::string_view field) {
  KLAXON_ASSIGN_OR_RETURN(const json::array* list, OptArray(in, member));
  if (!list) return std::optional<std::vector<std::string>>();
  std::vector<std::string> out;
  for (const auto& e : *list) {
    const json::value* f =
        e.is_object() ? e.as_object().if_contains(json::string_view(field.data(), field.size()))
                      : nullptr;
    if (!f || !f->is_string()) {
      return AwsError(absl::StatusCode::kInvalidArgument, "OpsItemInvalidParameterException",
                      absl::StrCat(ToAbsl(member), ": every entry needs ", ToAbsl(field), "."),
                      json::object{{"ParameterNames", json::array{json::string(member)}}});
    }
    out.emplace_back(f->as_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

absl::StatusOr<opsitems::OperationalData> OperationalDataFrom(const json::object& in,
                                                              std::string_view member) {
  opsitems::OperationalData data;
  KLAXON_ASSIGN_OR_RETURN(const json::object* map, OptObject(in, member));
  if (!map) return data;
  for (const auto& [key, v] : *map) {
    if (!v.is_object()) return TypeError(member, "a map of OpsItemDataValue");
    opsitems::OpsItemDataValue value;
    KLAXON_ASSIGN_OR_RETURN(value.value, String(v.as_object(), "Value"));
    KLAXON_ASSIGN_OR_RETURN(auto type, OptString(v.as_object(), "Type"));
    if (type) value.type = *type;
    data[std::string(key)] = std::move(value);
  }
  return data;
}

Scope ScopeOf(const CallContext& ctx) {
  return Scope{ctx.caller.account_id, ctx.caller.region.empty() ? "us-east-1" : ctx.caller.region,
               ctx.caller.principal_arn};
}

// GetOpsItem / UpdateOpsItem accept an optional OpsItemArn next to the OpsItemId; it must name
// the same OpsItem in the caller's account and Region.
absl::Status CheckOpsItemArn(const json::object& in, const Scope& scope,
                             const std::string& ops_item_id) {
  KLAXON_ASSIGN_OR_RETURN(auto arn, OptString(in, "OpsItemArn"));
  if (!arn) return absl::OkStatus();
  // arn:PARTITION:ssm:REGION:ACCOUNT:opsitem/ID
  std::vector<std::string> parts;
  std::string_view rest(*arn);
  for (int i = 0; i < 5; ++i) {
    size_t colon = rest.find(':');
    if (colon == std::string_view::npos) break;
    parts.emplace_back(rest.substr(0, colon));
    rest.remove_prefix(colon + 1);
  }
  if (parts.size() == 5 && parts[4] != scope.account_id) {
    return AwsError(absl::StatusCode::kPermissionDenied, "OpsItemAccessDeniedException",
                    "OpsItems of another account can't be accessed: cross-account OpsCenter is "
                    "not supported.");
  }
  if (*arn != opsitems::OpsItemArn(scope, ops_item_id)) {
    return AwsError(absl::StatusCode::kInvalidArgument, "OpsItemInvalidParameterException",
                    absl::StrCat("OpsItemArn ", *arn, " does not name OpsItem ", ops_item_id,
                                 " in ", scope.region, "."),
                    json::object{{"ParameterNames", json::array{"OpsItemArn"}}});
  }
  return absl::OkStatus();
}

json::object DataToJson(const opsitems::OperationalData& data, bool searchable_only) {
  json::object out;
  for (const auto& [key, v] : data) {
    if (searchable_only && v.type == "String") continue;
    out[key] = json::object{{"Value", v.value}, {"Type", v.type}};
  }
  return out;
}

void PutTimes(json::object& o, const OpsItem& item) {
  if (item.actual_start_time) o["ActualStartTime"] = ToEpochSeconds(*item.actual_start_time);
  if (item.actual_end_time) o["ActualEndTime"] = ToEpochSeconds(*item.actual_end_time);
  if (item.planned_start_time) o["PlannedStartTime"] = ToEpochSeconds(*item.planned_start_time);
  if (item.planned_end_time) o["PlannedEndTime"] = ToEpochSeconds(*item.planned_end_time);
}

int PageSize(std::optional<int64_t> max_results) {
  return max_results ? static_cast<int>(*max_results) : 0;
}

// ---------------------------------------------------------------------------------------------
// Handlers

absl::StatusOr<json::object> CreateOpsItem(OpsItemService& service, const CallContext& ctx,
                                           const json::object& in) {
  opsitems::NewOpsItem item;
  KLAXON_ASSIGN_OR_RETURN(item.title, String(in, "Title"));
  KLAXON_ASSIGN_OR_RETURN(item.description, String(in, "Description"));
  KLAXON_ASSIGN_OR_RETURN(item.source, String(in, "Source"));
  KLAXON_ASSIGN_OR_RETURN(item.ops_item_type, String(in, "OpsItemType"));
  KLAXON_ASSIGN_OR_RETURN(auto priority, OptInt(in, "Priority"));
  if (priority) item.priority = static_cast<int>(*priority);
  KLAXON_ASSIGN_OR_RETURN(item.severity, String(in, "Severity"));
  KLAXON_ASSIGN_OR_RETURN(item.category, String(in, "Category"));
  KLAXON_ASSIGN_OR_RETURN(item.operational_data, OperationalDataFrom(in, "OperationalData"));
  KLAXON_ASSIGN_OR_RETURN(auto notifications, StructFieldList(in, "Notifications", "Arn"));
  if (notifications) item.notification_arns = std::move(*notifications);
  KLAXON_ASSIGN_OR_RETURN(auto related, StructFieldList(in, "RelatedOpsItems", "OpsItemId"));
  if (related) item.related_ops_item_ids = std::move(*related);
  KLAXON_ASSIGN_OR_RETURN(const json::array* tags, OptArray(in, "Tags"));
  if (tags) {
    for (const auto& t : *tags) {
      if (!t.is_object()) return TypeError("Tags", "a list of Tag");
      KLAXON_ASSIGN_OR_RETURN(std::string key, String(t.as_object(), "Key"));
      KLAXON_ASSIGN_OR_RETURN(std::string value, String(t.as_object(), "Value"));
      item.tags[key] = value;
    }
  }
  KLAXON_ASSIGN_OR_RETURN(item.actual_start_time, OptTime(in, "ActualStartTime"));
  KLAXON_ASSIGN_OR_RETURN(item.actual_end_time, OptTime(in, "ActualEndTime"));
  KLAXON_ASSIGN_OR_RETURN(item.planned_start_time, OptTime(in, "PlannedStartTime"));
  KLAXON_ASSIGN_OR_RETURN(item.planned_end_time, OptTime(in, "PlannedEndTime"));
  KLAXON_ASSIGN_OR_RETURN(item.account_id, String(in, "AccountId"));

  KLAXON_ASSIGN_OR_RETURN(OpsItem created, service.Create(ScopeOf(ctx), item));
  return json::object{{"OpsItemId", created.ops_item_id}, {"OpsItemArn", created.ops_item_arn}};
}

absl::StatusOr<json::object> GetOpsItem(OpsItemService& service, const CallContext& ctx,
                                        const json::object& in) {
  Scope scope = ScopeOf(ctx);
  KLAXON_ASSIGN_OR_RETURN(std::string id, String(in, "OpsItemId"));
  KLAXON_RETURN_IF_ERROR(CheckOpsItemArn(in, scope, id));
  KLAXON_ASSIGN_OR_RETURN(OpsItem item, service.Get(scope, id));
  return json::object{{"OpsItem", OpsItemToJson(item)}};
}

absl::StatusOr<json::object> UpdateOpsItem(OpsItemService& service, const CallContext& ctx,
                                           const json::object& in) {
  Scope scope = ScopeOf(ctx);
  KLAXON_ASSIGN_OR_RETURN(std::string id, String(in, "OpsItemId"));
  KLAXON_RETURN_IF_ERROR(CheckOpsItemArn(in, scope, id));
  opsitems::OpsItemUpdate u;
  KLAXON_ASSIGN_OR_RETURN(u.title, OptString(in, "Title"));
  KLAXON_ASSIGN_OR_RETURN(u.description, OptString(in, "Description"));
  KLAXON_ASSIGN_OR_RETURN(u.status, OptString(in, "Status"));
  KLAXON_ASSIGN_OR_RETURN(auto priority, OptInt(in, "Priority"));
  if (priority) u.priority = static_cast<int>(*priority);
  KLAXON_ASSIGN_OR_RETURN(u.severity, OptString(in, "Severity"));
  KLAXON_ASSIGN_OR_RETURN(u.category, OptString(in, "Category"));
  KLAXON_ASSIGN_OR_RETURN(u.operational_data, OperationalDataFrom(in, "OperationalData"));
  KLAXON_ASSIGN_OR_RETURN(const json::array* to_delete, OptArray(in, "OperationalDataToDelete"));
  if (to_delete) {
    for (const auto& k : *to_delete) {
      if (!k.is_string()) return TypeError("OperationalDataToDelete", "a list of strings");
      u.operational_data_to_delete.emplace_back(k.as_string());
    }
  }
  KLAXON_ASSIGN_OR_RETURN(u.notification_arns, StructFieldList(in, "Notifications", "Arn"));
  KLAXON_ASSIGN_OR_RETURN(u.related_ops_item_ids,
                          StructFieldList(in, "RelatedOpsItems", "OpsItemId"));
  KLAXON_ASSIGN_OR_RETURN(u.actual_start_time, OptTime(in, "ActualStartTime"));
  KLAXON_ASSIGN_OR_RETURN(u.actual_end_time, OptTime(in, "ActualEndTime"));
  KLAXON_ASSIGN_OR_RETURN(u.planned_start_time, OptTime(in, "PlannedStartTime"));
  KLAXON_ASSIGN_OR_RETURN(u.planned_end_time, OptTime(in, "PlannedEndTime"));
  KLAXON_RETURN_IF_ERROR(service.Update(scope, id, u).status());
  return json::object{};
}

absl::StatusOr<json::object> DescribeOpsItems(OpsItemService& service, const CallContext& ctx,
                                              const json::object& in) {
  std::vector<opsitems::OpsItemFilter> filters;
  KLAXON_ASSIGN_OR_RETURN(const json::array* list, OptArray(in, "OpsItemFilters"));
  if (list) {
    for (const auto& f : *list) {
      if (!f.is_object()) return TypeError("OpsItemFilters", "a list of OpsItemFilter");
      opsitems::OpsItemFilter filter;
      KLAXON_ASSIGN_OR_RETURN(filter.key, String(f.as_object(), "Key"));
      KLAXON_ASSIGN_OR_RETURN(filter.op, String(f.as_object(), "Operator"));
      KLAXON_ASSIGN_OR_RETURN(const json::array* values, OptArray(f.as_object(), "Values"));
      if (values) {
        for (const auto& v : *values) {
          if (!v.is_string()) return TypeError("Values", "a list of strings");
          filter.values.emplace_back(v.as_string());
        }
      }
      filters.push_back(std::move(filter));
    }
  }
  KLAXON_ASSIGN_OR_RETURN(auto max_results, OptInt(in, "MaxResults"));
  KLAXON_ASSIGN_OR_RETURN(std::string token, String(in, "NextToken"));
  KLAXON_ASSIGN_OR_RETURN(opsitems::OpsItemPage page,
                          service.Describe(ScopeOf(ctx), filters, PageSize(max_results), token));
  json::array summaries;
  for (const auto& item : page.items) summaries.push_back(OpsItemSummaryToJson(item));
  json::object out{{"OpsItemSummaries", std::move(summaries)}};
  if (!page.next_token.empty()) out["NextToken"] = page.next_token;
  return out;
}

absl::StatusOr<json::object> AssociateOpsItemRelatedItem(OpsItemService& service,
                                                         const CallContext& ctx,
                                                         const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string id, String(in, "OpsItemId"));
  KLAXON_ASSIGN_OR_RETURN(std::string association_type, String(in, "AssociationType"));
  KLAXON_ASSIGN_OR_RETURN(std::string resource_type, String(in, "ResourceType"));
  KLAXON_ASSIGN_OR_RETURN(std::string resource_uri, String(in, "ResourceUri"));
  KLAXON_ASSIGN_OR_RETURN(std::string association_id,
                          service.AssociateRelatedItem(ScopeOf(ctx), id, association_type,
                                                       resource_type, resource_uri));
  return json::object{{"AssociationId", association_id}};
}

absl::StatusOr<json::object> ListOpsItemRelatedItems(OpsItemService& service,
                                                     const CallContext& ctx,
                                                     const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string id, String(in, "OpsItemId"));
  std::vector<opsitems::RelatedItemFilter> filters;
  KLAXON_ASSIGN_OR_RETURN(const json::array* list, OptArray(in, "Filters"));
  if (list) {
    for (const auto& f : *list) {
      if (!f.is_object()) return TypeError("Filters", "a list of OpsItemRelatedItemsFilter");
      opsitems::RelatedItemFilter filter;
      KLAXON_ASSIGN_OR_RETURN(filter.key, String(f.as_object(), "Key"));
      KLAXON_ASSIGN_OR_RETURN(std::string op, String(f.as_object(), "Operator"));
      if (!op.empty() && op != "Equal") {
        return AwsError(absl::StatusCode::kInvalidArgument, "OpsItemInvalidParameterException",
                        "Filters: the only supported Operator is Equal.",
                        json::object{{"ParameterNames", json::array{"Filters"}}});
      }
      KLAXON_ASSIGN_OR_RETURN(const json::array* values, OptArray(f.as_object(), "Values"));
      if (values) {
        for (const auto& v : *values) {
          if (!v.is_string()) return TypeError("Values", "a list of strings");
          filter.values.emplace_back(v.as_string());
        }
      }
      filters.push_back(std::move(filter));
    }
  }
  KLAXON_ASSIGN_OR_RETURN(auto max_results, OptInt(in, "MaxResults"));
  KLAXON_ASSIGN_OR_RETURN(std::string token, String(in, "NextToken"));
  KLAXON_ASSIGN_OR_RETURN(
      opsitems::RelatedItemPage page,
      service.ListRelatedItems(ScopeOf(ctx), id, filters, PageSize(max_results), token));
  json::array summaries;
  for (const auto& r : page.items) summaries.push_back(RelatedItemToJson(r));
  json::object out{{"Summaries", std::move(summaries)}};
  if (!page.next_token.empty()) out["NextToken"] = page.next_token;
  return out;
}

absl::StatusOr<json::object> DisassociateOpsItemRelatedItem(OpsItemService& service,
                                                            const CallContext& ctx,
                                                            const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string id, String(in, "OpsItemId"));
  KLAXON_ASSIGN_OR_RETURN(std::string association_id, String(in, "AssociationId"));
  KLAXON_RETURN_IF_ERROR(service.DisassociateRelatedItem(ScopeOf(ctx), id, association_id));
  return json::object{};
}

}  // namespace

json::object OpsItemToJson(const OpsItem& item) {
  json::object o;
  o["OpsItemId"] = item.ops_item_id;
  o["OpsItemArn"] = item.ops_item_arn;
  o["Title"] = item.title;
  o["Description"] = item.description;
  o["Source"] = item.source;
  o["OpsItemType"] = item.ops_item_type;
  o["Status"] = item.status;
  if (item.priority) o["Priority"] = *item.priority;
  if (!item.severity.empty()) o["Severity"] = item.severity;
  if (!item.category.empty()) o["Category"] = item.category;
  o["CreatedBy"] = item.created_by;
  o["CreatedTime"] = ToEpochSeconds(item.created_time);
  o["LastModifiedBy"] = item.last_modified_by;
  o["LastModifiedTime"] = ToEpochSeconds(item.last_modified_time);
  o["Version"] = item.version;
  json::array notifications;
  for (const auto& arn : item.notification_arns)
    notifications.push_back(json::object{{"Arn", arn}});
  o["Notifications"] = std::move(notifications);
  json::array related;
  for (const auto& id : item.related_ops_item_ids)
    related.push_back(json::object{{"OpsItemId", id}});
  o["RelatedOpsItems"] = std::move(related);
  o["OperationalData"] = DataToJson(item.operational_data, /*searchable_only=*/false);
  PutTimes(o, item);
  return o;
}

json::object OpsItemSummaryToJson(const OpsItem& item) {
  json::object o;
  o["OpsItemId"] = item.ops_item_id;
  o["Title"] = item.title;
  o["Source"] = item.source;
  o["OpsItemType"] = item.ops_item_type;
  o["Status"] = item.status;
  if (item.priority) o["Priority"] = *item.priority;
  if (!item.severity.empty()) o["Severity"] = item.severity;
  if (!item.category.empty()) o["Category"] = item.category;
  o["CreatedBy"] = item.created_by;
  o["CreatedTime"] = ToEpochSeconds(item.created_time);
  o["LastModifiedBy"] = item.last_modified_by;
  o["LastModifiedTime"] = ToEpochSeconds(item.last_modified_time);
  o["OperationalData"] = DataToJson(item.operational_data, /*searchable_only=*/true);
  PutTimes(o, item);
  return o;
}

json::object RelatedItemToJson(const opsitems::RelatedItem& r) {
  return json::object{
      {"OpsItemId", r.ops_item_id},
      {"AssociationId", r.association_id},
      {"ResourceType", r.resource_type},
      {"AssociationType", r.association_type},
      {"ResourceUri", r.resource_uri},
      {"CreatedBy", json::object{{"Arn", r.created_by}}},
      {"CreatedTime", ToEpochSeconds(r.created_time)},
      {"LastModifiedBy", json::object{{"Arn", r.last_modified_by}}},
      {"LastModifiedTime", ToEpochSeconds(r.last_modified_time)},
  };
}

void RegisterSsmHandlers(OperationTable& table, opsitems::OpsItemService& service) {
  using Fn = absl::StatusOr<boost::json::object> (*)(opsitems::OpsItemService&, const CallContext&,
                                                     const boost::json::object&);
  const std::pair<const char*, Fn> kOperations[] = {
      {"CreateOpsItem", &CreateOpsItem},
      {"GetOpsItem", &GetOpsItem},
      {"UpdateOpsItem", &UpdateOpsItem},
      {"DescribeOpsItems", &DescribeOpsItems},
      {"AssociateOpsItemRelatedItem", &AssociateOpsItemRelatedItem},
      {"ListOpsItemRelatedItems", &ListOpsItemRelatedItems},
      {"DisassociateOpsItemRelatedItem", &DisassociateOpsItemRelatedItem},
  };
  for (const auto& [name, fn] : kOperations) {
    table.Add("ssm", name,
              [&service, fn = fn](const CallContext& ctx, const boost::json::object& in) {
                return fn(service, ctx, in);
              });
  }
}

}  // namespace ssm
}  // namespace klaxon::api
