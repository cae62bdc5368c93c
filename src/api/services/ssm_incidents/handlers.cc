#include "api/services/ssm_incidents/handlers.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "boost/json.hpp"
#include "common/clock.h"
#include "common/status.h"

namespace klaxon::api::ssm_incidents {
namespace {

namespace json = boost::json;
namespace im = klaxon::incidents;

constexpr char kService[] = "ssm-incidents";

// ---------------------------------------------------------------------------------------------
// Reading the model-shaped input. The protocol layer has validated it against the model; these
// readers still refuse a wrong JSON type (a handler called directly, or a codec bug) with a
// ValidationException rather than misbehave.

absl::Status TypeError(std::string_view member, std::string_view expected) {
  return ValidationError("Member '" + std::string(member) + "' must be " + std::string(expected) +
                         ".");
}

const json::value* Member(const json::object& in, std::string_view member) {
  const json::value* v = in.if_contains(json::string_view(member.data(), member.size()));
  return v == nullptr || v->is_null() ? nullptr : v;
}

absl::StatusOr<std::optional<std::string>> OptString(const json::object& in,
                                                     std::string_view member) {
  const json::value* v = Member(in, member);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return TypeError(member, "a string");
  return std::optional<std::string>(std::string(v->get_string()));
}

absl::StatusOr<std::string> RequiredString(const json::object& in, std::string_view member) {
  KLAXON_ASSIGN_OR_RETURN(auto v, OptString(in, member));
  if (!v) return ValidationError("Member '" + std::string(member) + "' is required.");
  return *std::move(v);
}

absl::StatusOr<std::optional<int64_t>> OptInt(const json::object& in, std::string_view member) {
  const json::value* v = Member(in, member);
  if (v == nullptr) return std::optional<int64_t>();
  if (v->is_int64()) return std::optional<int64_t>(v->get_int64());
  if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return std::optional<int64_t>(static_cast<int64_t>(v->get_uint64()));
  }
  if (v->is_double() &&
      v->get_double() == static_cast<double>(static_cast<int64_t>(v->get_double()))) {
    return std::optional<int64_t>(static_cast<int64_t>(v->get_double()));
  }
  return TypeError(member, "an integer");
}

absl::StatusOr<std::optional<int>> OptSmallInt(const json::object& in, std::string_view member) {
  KLAXON_ASSIGN_OR_RETURN(auto v, OptInt(in, member));
  if (!v) return std::optional<int>();
  if (*v < INT32_MIN || *v > INT32_MAX) return TypeError(member, "a 32-bit integer");
  return std::optional<int>(static_cast<int>(*v));
}

absl::StatusOr<std::optional<bool>> OptBool(const json::object& in, std::string_view member) {
  const json::value* v = Member(in, member);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_bool()) return TypeError(member, "a boolean");
  return std::optional<bool>(v->get_bool());
}

absl::StatusOr<std::optional<absl::Time>> OptTime(const json::object& in, std::string_view member) {
  const json::value* v = Member(in, member);
  if (v == nullptr) return std::optional<absl::Time>();
  if (!v->is_number()) return TypeError(member, "a timestamp (epoch seconds)");
  return std::optional<absl::Time>(FromEpochSeconds(v->to_number<double>()));
}

absl::StatusOr<absl::Time> RequiredTime(const json::object& in, std::string_view member) {
  KLAXON_ASSIGN_OR_RETURN(auto v, OptTime(in, member));
  if (!v) return ValidationError("Member '" + std::string(member) + "' is required.");
  return *v;
}

absl::StatusOr<const json::array*> OptArray(const json::object& in, std::string_view member) {
  const json::value* v = Member(in, member);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) return TypeError(member, "a list");
  return &v->get_array();
}

absl::StatusOr<const json::object*> OptObject(const json::object& in, std::string_view member) {
  const json::value* v = Member(in, member);
  if (v == nullptr) return nullptr;
  if (!v->is_object()) return TypeError(member, "a structure or map");
  return &v->get_object();
}

absl::StatusOr<const json::object*> RequiredObject(const json::object& in,
                                                   std::string_view member) {
  KLAXON_ASSIGN_OR_RETURN(const json::object* v, OptObject(in, member));
  if (v == nullptr) return ValidationError("Member '" + std::string(member) + "' is required.");
  return v;
}

absl::StatusOr<std::vector<std::string>> StringList(const json::array& a, std::string_view member) {
  std::vector<std::string> out;
  for (const auto& v : a) {
    if (!v.is_string()) return TypeError(member, "a list of strings");
    out.emplace_back(v.get_string());
  }
  return out;
}

absl::StatusOr<std::optional<std::vector<std::string>>> OptStringList(const json::object& in,
                                                                      std::string_view member) {
  KLAXON_ASSIGN_OR_RETURN(const json::array* a, OptArray(in, member));
  if (a == nullptr) return std::optional<std::vector<std::string>>();
  KLAXON_ASSIGN_OR_RETURN(auto list, StringList(*a, member));
  return std::optional<std::vector<std::string>>(std::move(list));
}

absl::StatusOr<std::optional<std::map<std::string, std::string>>> OptTagMap(
    const json::object& in, std::string_view member) {
  KLAXON_ASSIGN_OR_RETURN(const json::object* o, OptObject(in, member));
  if (o == nullptr) return std::optional<std::map<std::string, std::string>>();
  std::map<std::string, std::string> tags;
  for (const auto& [k, v] : *o) {
    if (!v.is_string()) return TypeError(member, "a map of strings");
    tags[std::string(k)] = std::string(v.get_string());
  }
  return std::optional<std::map<std::string, std::string>>(std::move(tags));
}

// A union member value (chatChannel, notificationTargets, integrations): kept as given, after
// checking it is the right JSON container.
absl::StatusOr<std::optional<json::value>> OptRaw(const json::object& in, std::string_view member,
                                                  bool list) {
  const json::value* v = Member(in, member);
  if (v == nullptr) return std::optional<json::value>();
  if (list ? !v->is_array() : !v->is_object()) {
    return TypeError(member, list ? "a list" : "a structure");
  }
  return std::optional<json::value>(*v);
}

// Exactly one member of a union object.
absl::Status CheckUnion(const json::object& o, std::string_view member) {
  if (o.size() != 1) {
    return ValidationError("Member '" + std::string(member) + "' must set exactly one member.");
  }
  return absl::OkStatus();
}

absl::StatusOr<im::ItemIdentifier> ReadItemIdentifier(const json::object& in) {
  im::ItemIdentifier id;
  KLAXON_ASSIGN_OR_RETURN(id.type, RequiredString(in, "type"));
  KLAXON_ASSIGN_OR_RETURN(const json::object* value, RequiredObject(in, "value"));
  KLAXON_RETURN_IF_ERROR(CheckUnion(*value, "value"));
  KLAXON_ASSIGN_OR_RETURN(id.value.arn, OptString(*value, "arn"));
  KLAXON_ASSIGN_OR_RETURN(id.value.url, OptString(*value, "url"));
  KLAXON_ASSIGN_OR_RETURN(id.value.metric_definition, OptString(*value, "metricDefinition"));
  KLAXON_ASSIGN_OR_RETURN(const json::object* pd, OptObject(*value, "pagerDutyIncidentDetail"));
  if (pd != nullptr) {
    im::PagerDutyIncidentDetail detail;
    KLAXON_ASSIGN_OR_RETURN(detail.id, RequiredString(*pd, "id"));
    KLAXON_ASSIGN_OR_RETURN(detail.auto_resolve, OptBool(*pd, "autoResolve"));
    KLAXON_ASSIGN_OR_RETURN(detail.secret_id, OptString(*pd, "secretId"));
    id.value.pager_duty_incident_detail = std::move(detail);
  }
  if (id.value.members_set() != 1) {
    return ValidationError(
        "Member 'value' must set exactly one of arn, url, metricDefinition, "
        "pagerDutyIncidentDetail.");
  }
  return id;
}

absl::StatusOr<im::RelatedItem> ReadRelatedItem(const json::object& in) {
  im::RelatedItem item;
  KLAXON_ASSIGN_OR_RETURN(const json::object* identifier, RequiredObject(in, "identifier"));
  KLAXON_ASSIGN_OR_RETURN(item.identifier, ReadItemIdentifier(*identifier));
  KLAXON_ASSIGN_OR_RETURN(item.title, OptString(in, "title"));
  KLAXON_ASSIGN_OR_RETURN(auto generated, OptString(in, "generatedId"));
  item.generated_id = generated.value_or("");  // ignored: the service assigns ids
  return item;
}

absl::StatusOr<std::vector<im::EventReference>> ReadEventReferences(const json::array& a) {
  std::vector<im::EventReference> refs;
  for (const auto& v : a) {
    if (!v.is_object()) return TypeError("eventReferences", "a list of structures");
    KLAXON_RETURN_IF_ERROR(CheckUnion(v.get_object(), "eventReferences"));
    im::EventReference ref;
    KLAXON_ASSIGN_OR_RETURN(ref.resource, OptString(v.get_object(), "resource"));
    KLAXON_ASSIGN_OR_RETURN(ref.related_item_id, OptString(v.get_object(), "relatedItemId"));
    refs.push_back(std::move(ref));
  }
  return refs;
}

absl::StatusOr<std::vector<im::Filter>> ReadFilters(const json::object& in) {
  std::vector<im::Filter> filters;
  KLAXON_ASSIGN_OR_RETURN(const json::array* a, OptArray(in, "filters"));
  if (a == nullptr) return filters;
  for (const auto& v : *a) {
    if (!v.is_object()) return TypeError("filters", "a list of structures");
    const json::object& f = v.get_object();
    im::Filter filter;
    KLAXON_ASSIGN_OR_RETURN(filter.key, RequiredString(f, "key"));
    KLAXON_ASSIGN_OR_RETURN(const json::object* condition, RequiredObject(f, "condition"));
    KLAXON_RETURN_IF_ERROR(CheckUnion(*condition, "condition"));
    KLAXON_ASSIGN_OR_RETURN(filter.before, OptTime(*condition, "before"));
    KLAXON_ASSIGN_OR_RETURN(filter.after, OptTime(*condition, "after"));
    KLAXON_ASSIGN_OR_RETURN(const json::object* equals, OptObject(*condition, "equals"));
    if (equals != nullptr) {
      KLAXON_RETURN_IF_ERROR(CheckUnion(*equals, "equals"));
      KLAXON_ASSIGN_OR_RETURN(filter.string_values, OptStringList(*equals, "stringValues"));
      KLAXON_ASSIGN_OR_RETURN(const json::array* ints, OptArray(*equals, "integerValues"));
      if (ints != nullptr) {
        std::vector<int64_t> values;
        for (const auto& i : *ints) {
          if (i.is_int64()) {
            values.push_back(i.get_int64());
          } else if (i.is_uint64()) {
            values.push_back(static_cast<int64_t>(i.get_uint64()));
          } else {
            return TypeError("integerValues", "a list of integers");
          }
        }
        filter.integer_values = std::move(values);
      }
    }
    filters.push_back(std::move(filter));
  }
  return filters;
}

absl::StatusOr<im::Action> ReadAction(const json::value& v) {
  if (!v.is_object()) return TypeError("actions", "a list of structures");
  KLAXON_RETURN_IF_ERROR(CheckUnion(v.get_object(), "actions"));
  KLAXON_ASSIGN_OR_RETURN(const json::object* s, RequiredObject(v.get_object(), "ssmAutomation"));
  im::Action action;
  im::SsmAutomation& a = action.ssm_automation;
  KLAXON_ASSIGN_OR_RETURN(a.document_name, RequiredString(*s, "documentName"));
  KLAXON_ASSIGN_OR_RETURN(a.document_version, OptString(*s, "documentVersion"));
  KLAXON_ASSIGN_OR_RETURN(a.role_arn, RequiredString(*s, "roleArn"));
  KLAXON_ASSIGN_OR_RETURN(a.target_account, OptString(*s, "targetAccount"));
  KLAXON_ASSIGN_OR_RETURN(const json::object* params, OptObject(*s, "parameters"));
  if (params != nullptr) {
    for (const auto& [k, values] : *params) {
      if (!values.is_array()) return TypeError("parameters", "a map of string lists");
      KLAXON_ASSIGN_OR_RETURN(a.parameters[std::string(k)],
                              StringList(values.get_array(), "parameters"));
    }
  }
  KLAXON_ASSIGN_OR_RETURN(const json::object* dynamic, OptObject(*s, "dynamicParameters"));
  if (dynamic != nullptr) {
    for (const auto& [k, value] : *dynamic) {
      if (!value.is_object()) return TypeError("dynamicParameters", "a map of structures");
      KLAXON_RETURN_IF_ERROR(CheckUnion(value.get_object(), "dynamicParameters"));
      KLAXON_ASSIGN_OR_RETURN(a.dynamic_parameters[std::string(k)],
                              RequiredString(value.get_object(), "variable"));
    }
  }
  return action;
}

absl::StatusOr<std::optional<std::vector<im::Action>>> ReadActions(const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(const json::array* a, OptArray(in, "actions"));
  if (a == nullptr) return std::optional<std::vector<im::Action>>();
  std::vector<im::Action> actions;
  for (const auto& v : *a) {
    KLAXON_ASSIGN_OR_RETURN(auto action, ReadAction(v));
    actions.push_back(std::move(action));
  }
  return std::optional<std::vector<im::Action>>(std::move(actions));
}

std::optional<std::string> ClientToken(const json::object& in) {
  const json::value* v = Member(in, "clientToken");
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

im::Scope ScopeOf(const CallContext& ctx) {
  return im::Scope{ctx.caller.account_id, ctx.caller.region, ctx.caller.principal_arn};
}

// ---------------------------------------------------------------------------------------------
// Writing the model-shaped output.

json::value Time(absl::Time t) { return json::value(ToEpochSeconds(t)); }

json::array Strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

json::object TagMap(const std::map<std::string, std::string>& tags) {
  json::object o;
  for (const auto& [k, v] : tags) o[k] = v;
  return o;
}

// A stored union list (notificationTargets, integrations): only well-formed items (exactly one
// member) go out, so a client never sees an invalid union.
json::array UnionList(const json::value& list) {
  json::array out;
  if (!list.is_array()) return out;
  for (const auto& item : list.get_array()) {
    if (item.is_object() && item.get_object().size() == 1) out.push_back(item);
  }
  return out;
}

bool IsUnion(const json::value& v) { return v.is_object() && v.get_object().size() == 1; }

json::object ItemIdentifierJson(const im::ItemIdentifier& id) {
  json::object value;
  if (id.value.arn) {
    value["arn"] = *id.value.arn;
  } else if (id.value.url) {
    value["url"] = *id.value.url;
  } else if (id.value.metric_definition) {
    value["metricDefinition"] = *id.value.metric_definition;
  } else if (id.value.pager_duty_incident_detail) {
    const auto& d = *id.value.pager_duty_incident_detail;
    json::object pd{{"id", d.id}};
    if (d.auto_resolve) pd["autoResolve"] = *d.auto_resolve;
    if (d.secret_id) pd["secretId"] = *d.secret_id;
    value["pagerDutyIncidentDetail"] = std::move(pd);
  }
  return json::object{{"type", id.type}, {"value", std::move(value)}};
}

json::object RelatedItemJson(const im::RelatedItem& item) {
  json::object o{{"identifier", ItemIdentifierJson(item.identifier)}};
  if (item.title) o["title"] = *item.title;
  if (!item.generated_id.empty()) o["generatedId"] = item.generated_id;
  return o;
}

json::object SourceJson(const im::IncidentRecordSource& s) {
  json::object o{{"createdBy", s.created_by}, {"source", s.source}};
  if (s.invoked_by) o["invokedBy"] = *s.invoked_by;
  if (s.resource_arn) o["resourceArn"] = *s.resource_arn;
  return o;
}

json::object IncidentRecordJson(const im::IncidentRecord& r) {
  json::object o;
  o["arn"] = r.arn;
  if (!r.automation_executions.empty()) {
    json::array a;
    for (const auto& e : r.automation_executions)
      a.emplace_back(json::object{{"ssmExecutionArn", e}});
    o["automationExecutions"] = std::move(a);
  }
  if (IsUnion(r.chat_channel)) o["chatChannel"] = r.chat_channel;
  o["creationTime"] = Time(r.creation_time);
  o["dedupeString"] = r.dedupe_string;
  o["impact"] = r.impact;
  o["incidentRecordSource"] = SourceJson(r.incident_record_source);
  o["lastModifiedBy"] = r.last_modified_by;
  o["lastModifiedTime"] = Time(r.last_modified_time);
  if (r.notification_targets.is_array()) {
    o["notificationTargets"] = UnionList(r.notification_targets);
  }
  if (r.resolved_time) o["resolvedTime"] = Time(*r.resolved_time);
  o["status"] = im::IncidentStatusName(r.status);
  if (r.summary) o["summary"] = *r.summary;
  o["title"] = r.title;
  return o;
}

json::object IncidentRecordSummaryJson(const im::IncidentRecord& r) {
  json::object o;
  o["arn"] = r.arn;
  o["creationTime"] = Time(r.creation_time);
  o["impact"] = r.impact;
  o["incidentRecordSource"] = SourceJson(r.incident_record_source);
  if (r.resolved_time) o["resolvedTime"] = Time(*r.resolved_time);
  o["status"] = im::IncidentStatusName(r.status);
  o["title"] = r.title;
  return o;
}

json::object ActionJson(const im::Action& action) {
  const im::SsmAutomation& s = action.ssm_automation;
  json::object a{{"documentName", s.document_name}, {"roleArn", s.role_arn}};
  if (s.document_version) a["documentVersion"] = *s.document_version;
  if (s.target_account) a["targetAccount"] = *s.target_account;
  if (!s.parameters.empty()) {
    json::object p;
    for (const auto& [k, v] : s.parameters) p[k] = Strings(v);
    a["parameters"] = std::move(p);
  }
  if (!s.dynamic_parameters.empty()) {
    json::object p;
    for (const auto& [k, v] : s.dynamic_parameters) p[k] = json::object{{"variable", v}};
    a["dynamicParameters"] = std::move(p);
  }
  return json::object{{"ssmAutomation", std::move(a)}};
}

json::object ResponsePlanJson(const im::ResponsePlan& plan) {
  json::object o;
  json::array actions;
  for (const auto& a : plan.actions) actions.emplace_back(ActionJson(a));
  o["actions"] = std::move(actions);
  o["arn"] = plan.arn;
  if (IsUnion(plan.chat_channel)) o["chatChannel"] = plan.chat_channel;
  if (plan.display_name) o["displayName"] = *plan.display_name;
  o["engagements"] = Strings(plan.engagements);
  const im::IncidentTemplate& t = plan.incident_template;
  json::object tmpl{{"impact", t.impact}, {"title", t.title}};
  if (t.dedupe_string) tmpl["dedupeString"] = *t.dedupe_string;
  if (!t.incident_tags.empty()) tmpl["incidentTags"] = TagMap(t.incident_tags);
  if (t.notification_targets.is_array()) {
    tmpl["notificationTargets"] = UnionList(t.notification_targets);
  }
  if (t.summary) tmpl["summary"] = *t.summary;
  o["incidentTemplate"] = std::move(tmpl);
  if (plan.integrations.is_array()) o["integrations"] = UnionList(plan.integrations);
  o["name"] = plan.name;
  return o;
}

json::object ReplicationSetJson(const im::ReplicationSet& set) {
  json::object regions;
  for (const auto& [name, info] : set.regions) {
    json::object r{{"status", info.status},
                   {"statusUpdateDateTime", Time(info.status_update_time)}};
    if (info.sse_kms_key_id) r["sseKmsKeyId"] = *info.sse_kms_key_id;
    if (info.status_message) r["statusMessage"] = *info.status_message;
    regions[name] = std::move(r);
  }
  json::object o;
  o["arn"] = set.arn;
  o["createdBy"] = set.created_by;
  o["createdTime"] = Time(set.created_time);
  o["deletionProtected"] = set.deletion_protected;
  o["lastModifiedBy"] = set.last_modified_by;
  o["lastModifiedTime"] = Time(set.last_modified_time);
  o["regionMap"] = std::move(regions);
  o["status"] = set.status;
  return o;
}

json::array EventReferencesJson(const std::vector<im::EventReference>& refs) {
  json::array a;
  for (const auto& r : refs) {
    if (r.resource) {
      a.emplace_back(json::object{{"resource", *r.resource}});
    } else if (r.related_item_id) {
      a.emplace_back(json::object{{"relatedItemId", *r.related_item_id}});
    }
  }
  return a;
}

// EventSummary, or TimelineEvent when `with_data`.
json::object TimelineEventJson(const im::TimelineEvent& e, bool with_data) {
  json::object o;
  if (with_data) o["eventData"] = e.event_data;
  o["eventId"] = e.event_id;
  if (!e.event_references.empty()) o["eventReferences"] = EventReferencesJson(e.event_references);
  o["eventTime"] = Time(e.event_time);
  o["eventType"] = e.event_type;
  o["eventUpdatedTime"] = Time(e.event_updated_time);
  o["incidentRecordArn"] = e.incident_record_arn;
  return o;
}

void PutNextToken(json::object& out, const std::string& token) {
  if (!token.empty()) out["nextToken"] = token;
}

// ---------------------------------------------------------------------------------------------
// Handlers.

using Result = absl::StatusOr<json::object>;

// --- replication set ---

Result CreateReplicationSet(im::IncidentManager& m, const CallContext& ctx,
                            const json::object& in) {
  im::CreateReplicationSetRequest req;
  KLAXON_ASSIGN_OR_RETURN(const json::object* regions, RequiredObject(in, "regions"));
  for (const auto& [name, value] : *regions) {
    if (!value.is_null() && !value.is_object()) return TypeError("regions", "a map of structures");
    std::optional<std::string> key;
    if (value.is_object()) {
      KLAXON_ASSIGN_OR_RETURN(key, OptString(value.get_object(), "sseKmsKeyId"));
    }
    req.regions[std::string(name)] = key;
  }
  KLAXON_ASSIGN_OR_RETURN(auto tags, OptTagMap(in, "tags"));
  if (tags) req.tags = *std::move(tags);
  req.client_token = ClientToken(in);
  KLAXON_ASSIGN_OR_RETURN(std::string arn, m.replication_sets().Create(ScopeOf(ctx), req));
  return json::object{{"arn", arn}};
}

Result GetReplicationSet(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string arn, RequiredString(in, "arn"));
  KLAXON_ASSIGN_OR_RETURN(im::ReplicationSet set, m.replication_sets().Get(ScopeOf(ctx), arn));
  return json::object{{"replicationSet", ReplicationSetJson(set)}};
}

Result ListReplicationSets(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(auto max_results, OptSmallInt(in, "maxResults"));
  KLAXON_ASSIGN_OR_RETURN(auto token, OptString(in, "nextToken"));
  KLAXON_ASSIGN_OR_RETURN(auto page,
                          m.replication_sets().List(ScopeOf(ctx), max_results, token.value_or("")));
  json::object out{{"replicationSetArns", Strings(page.items)}};
  PutNextToken(out, page.next_token);
  return out;
}

Result UpdateReplicationSet(im::IncidentManager& m, const CallContext& ctx,
                            const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string arn, RequiredString(in, "arn"));
  KLAXON_ASSIGN_OR_RETURN(const json::array* actions, OptArray(in, "actions"));
  if (actions == nullptr || actions->size() != 1) {
    return ValidationError("Member 'actions' must contain exactly one action.");
  }
  const json::value& a = actions->front();
  if (!a.is_object()) return TypeError("actions", "a list of structures");
  KLAXON_RETURN_IF_ERROR(CheckUnion(a.get_object(), "actions"));
  im::ReplicationSetAction action;
  KLAXON_ASSIGN_OR_RETURN(const json::object* add, OptObject(a.get_object(), "addRegionAction"));
  KLAXON_ASSIGN_OR_RETURN(const json::object* del, OptObject(a.get_object(), "deleteRegionAction"));
  if (add != nullptr) {
    action.kind = im::ReplicationSetAction::Kind::kAddRegion;
    KLAXON_ASSIGN_OR_RETURN(action.region, RequiredString(*add, "regionName"));
    KLAXON_ASSIGN_OR_RETURN(action.sse_kms_key_id, OptString(*add, "sseKmsKeyId"));
  } else if (del != nullptr) {
    action.kind = im::ReplicationSetAction::Kind::kDeleteRegion;
    KLAXON_ASSIGN_OR_RETURN(action.region, RequiredString(*del, "regionName"));
  } else {
    return ValidationError(
        "Member 'actions' must set exactly one of addRegionAction, deleteRegionAction.");
  }
  KLAXON_RETURN_IF_ERROR(m.replication_sets().Update(ScopeOf(ctx), arn, action, ClientToken(in)));
  return json::object{};
}

Result UpdateDeletionProtection(im::IncidentManager& m, const CallContext& ctx,
                                const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string arn, RequiredString(in, "arn"));
  KLAXON_ASSIGN_OR_RETURN(auto protect, OptBool(in, "deletionProtected"));
  if (!protect) return ValidationError("Member 'deletionProtected' is required.");
  KLAXON_RETURN_IF_ERROR(
      m.replication_sets().UpdateDeletionProtection(ScopeOf(ctx), arn, *protect, ClientToken(in)));
  return json::object{};
}

Result DeleteReplicationSet(im::IncidentManager& m, const CallContext& ctx,
                            const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string arn, RequiredString(in, "arn"));
  KLAXON_RETURN_IF_ERROR(m.replication_sets().Delete(ScopeOf(ctx), arn));
  return json::object{};
}

// --- response plans ---

absl::StatusOr<im::IncidentTemplate> ReadIncidentTemplate(const json::object& in) {
  im::IncidentTemplate t;
  KLAXON_ASSIGN_OR_RETURN(t.title, RequiredString(in, "title"));
  KLAXON_ASSIGN_OR_RETURN(auto impact, OptSmallInt(in, "impact"));
  if (!impact) return ValidationError("Member 'incidentTemplate.impact' is required.");
  t.impact = *impact;
  KLAXON_ASSIGN_OR_RETURN(t.summary, OptString(in, "summary"));
  KLAXON_ASSIGN_OR_RETURN(t.dedupe_string, OptString(in, "dedupeString"));
  KLAXON_ASSIGN_OR_RETURN(auto targets, OptRaw(in, "notificationTargets", /*list=*/true));
  if (targets) t.notification_targets = *std::move(targets);
  KLAXON_ASSIGN_OR_RETURN(auto tags, OptTagMap(in, "incidentTags"));
  if (tags) t.incident_tags = *std::move(tags);
  return t;
}

Result CreateResponsePlan(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  im::CreateResponsePlanRequest req;
  KLAXON_ASSIGN_OR_RETURN(req.name, RequiredString(in, "name"));
  KLAXON_ASSIGN_OR_RETURN(req.display_name, OptString(in, "displayName"));
  KLAXON_ASSIGN_OR_RETURN(const json::object* tmpl, RequiredObject(in, "incidentTemplate"));
  KLAXON_ASSIGN_OR_RETURN(req.incident_template, ReadIncidentTemplate(*tmpl));
  KLAXON_ASSIGN_OR_RETURN(auto chat, OptRaw(in, "chatChannel", /*list=*/false));
  if (chat) req.chat_channel = *std::move(chat);
  KLAXON_ASSIGN_OR_RETURN(auto engagements, OptStringList(in, "engagements"));
  if (engagements) req.engagements = *std::move(engagements);
  KLAXON_ASSIGN_OR_RETURN(auto actions, ReadActions(in));
  if (actions) req.actions = *std::move(actions);
  KLAXON_ASSIGN_OR_RETURN(auto integrations, OptRaw(in, "integrations", /*list=*/true));
  if (integrations) req.integrations = *std::move(integrations);
  KLAXON_ASSIGN_OR_RETURN(auto tags, OptTagMap(in, "tags"));
  if (tags) req.tags = *std::move(tags);
  req.client_token = ClientToken(in);
  KLAXON_ASSIGN_OR_RETURN(std::string arn, m.response_plans().Create(ScopeOf(ctx), req));
  return json::object{{"arn", arn}};
}

Result GetResponsePlan(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string arn, RequiredString(in, "arn"));
  KLAXON_ASSIGN_OR_RETURN(im::ResponsePlan plan, m.response_plans().Get(ScopeOf(ctx), arn));
  return ResponsePlanJson(plan);
}

Result ListResponsePlans(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(auto max_results, OptSmallInt(in, "maxResults"));
  KLAXON_ASSIGN_OR_RETURN(auto token, OptString(in, "nextToken"));
  KLAXON_ASSIGN_OR_RETURN(auto page,
                          m.response_plans().List(ScopeOf(ctx), max_results, token.value_or("")));
  json::array summaries;
  for (const auto& plan : page.items) {
    json::object s{{"arn", plan.arn}, {"name", plan.name}};
    if (plan.display_name) s["displayName"] = *plan.display_name;
    summaries.emplace_back(std::move(s));
  }
  json::object out{{"responsePlanSummaries", std::move(summaries)}};
  PutNextToken(out, page.next_token);
  return out;
}

Result UpdateResponsePlan(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  im::UpdateResponsePlanRequest req;
  KLAXON_ASSIGN_OR_RETURN(req.arn, RequiredString(in, "arn"));
  KLAXON_ASSIGN_OR_RETURN(req.display_name, OptString(in, "displayName"));
  KLAXON_ASSIGN_OR_RETURN(req.incident_template_title, OptString(in, "incidentTemplateTitle"));
  KLAXON_ASSIGN_OR_RETURN(req.incident_template_impact, OptSmallInt(in, "incidentTemplateImpact"));
  KLAXON_ASSIGN_OR_RETURN(req.incident_template_summary, OptString(in, "incidentTemplateSummary"));
  KLAXON_ASSIGN_OR_RETURN(req.incident_template_dedupe_string,
                          OptString(in, "incidentTemplateDedupeString"));
  KLAXON_ASSIGN_OR_RETURN(req.incident_template_notification_targets,
                          OptRaw(in, "incidentTemplateNotificationTargets", /*list=*/true));
  KLAXON_ASSIGN_OR_RETURN(req.incident_template_tags, OptTagMap(in, "incidentTemplateTags"));
  KLAXON_ASSIGN_OR_RETURN(req.chat_channel, OptRaw(in, "chatChannel", /*list=*/false));
  KLAXON_ASSIGN_OR_RETURN(req.engagements, OptStringList(in, "engagements"));
  KLAXON_ASSIGN_OR_RETURN(req.actions, ReadActions(in));
  KLAXON_ASSIGN_OR_RETURN(req.integrations, OptRaw(in, "integrations", /*list=*/true));
  req.client_token = ClientToken(in);
  KLAXON_RETURN_IF_ERROR(m.response_plans().Update(ScopeOf(ctx), req));
  return json::object{};
}

Result DeleteResponsePlan(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string arn, RequiredString(in, "arn"));
  KLAXON_RETURN_IF_ERROR(m.response_plans().Delete(ScopeOf(ctx), arn));
  return json::object{};
}

// --- incidents ---

absl::StatusOr<im::StartIncidentRequest> ReadStartIncident(const CallContext& ctx,
                                                           const json::object& in) {
  im::StartIncidentRequest req;
  KLAXON_ASSIGN_OR_RETURN(req.response_plan_arn, RequiredString(in, "responsePlanArn"));
  KLAXON_ASSIGN_OR_RETURN(req.title, OptString(in, "title"));
  KLAXON_ASSIGN_OR_RETURN(req.impact, OptSmallInt(in, "impact"));
  req.client_token = ClientToken(in);
  KLAXON_ASSIGN_OR_RETURN(const json::object* trigger, OptObject(in, "triggerDetails"));
  if (trigger != nullptr) {
    im::TriggerDetails details;
    KLAXON_ASSIGN_OR_RETURN(details.source, RequiredString(*trigger, "source"));
    KLAXON_ASSIGN_OR_RETURN(details.trigger_arn, OptString(*trigger, "triggerArn"));
    KLAXON_ASSIGN_OR_RETURN(details.timestamp, RequiredTime(*trigger, "timestamp"));
    KLAXON_ASSIGN_OR_RETURN(details.raw_data, OptString(*trigger, "rawData"));
    req.trigger_details = std::move(details);
  }
  KLAXON_ASSIGN_OR_RETURN(const json::array* items, OptArray(in, "relatedItems"));
  if (items != nullptr) {
    for (const auto& v : *items) {
      if (!v.is_object()) return TypeError("relatedItems", "a list of structures");
      KLAXON_ASSIGN_OR_RETURN(auto item, ReadRelatedItem(v.get_object()));
      req.related_items.push_back(std::move(item));
    }
  }
  // A manual start (API, CLI, SDK): the caller is both creator and invoker.
  req.source.created_by = ctx.caller.principal_arn;
  req.source.invoked_by = ctx.caller.principal_arn;
  req.source.source = std::string(im::kManualIncidentSource);
  return req;
}

json::object StartIncidentOutput(const im::StartIncidentResult& result) {
  return json::object{{"incidentRecordArn", result.incident_record_arn}};
}

Result StartIncident(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(im::StartIncidentRequest req, ReadStartIncident(ctx, in));
  KLAXON_ASSIGN_OR_RETURN(im::StartIncidentResult result, m.incidents().Start(ScopeOf(ctx), req));
  return StartIncidentOutput(result);
}

// On the HTTP server's I/O thread: the start's transaction is queued for the store's group
// commit and the response sent when it is durable, with no thread waiting for it.
absl::Status StartIncidentAsync(im::IncidentManager& m, const CallContext& ctx,
                                const json::object& in,
                                std::function<void(absl::StatusOr<json::object>)> done) {
  KLAXON_ASSIGN_OR_RETURN(im::StartIncidentRequest req, ReadStartIncident(ctx, in));
  return m.incidents().StartAsync(
      ScopeOf(ctx), std::move(req),
      [done = std::move(done)](absl::StatusOr<im::StartIncidentResult> r) {
        if (!r.ok()) {
          done(r.status());
        } else {
          done(StartIncidentOutput(*r));
        }
      });
}

Result GetIncidentRecord(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string arn, RequiredString(in, "arn"));
  KLAXON_ASSIGN_OR_RETURN(im::IncidentRecord record, m.incidents().Get(ScopeOf(ctx), arn));
  return json::object{{"incidentRecord", IncidentRecordJson(record)}};
}

Result ListIncidentRecords(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(auto filters, ReadFilters(in));
  KLAXON_ASSIGN_OR_RETURN(auto max_results, OptSmallInt(in, "maxResults"));
  KLAXON_ASSIGN_OR_RETURN(auto token, OptString(in, "nextToken"));
  KLAXON_ASSIGN_OR_RETURN(
      auto page, m.incidents().List(ScopeOf(ctx), filters, max_results, token.value_or("")));
  json::array summaries;
  for (const auto& r : page.items) summaries.emplace_back(IncidentRecordSummaryJson(r));
  json::object out{{"incidentRecordSummaries", std::move(summaries)}};
  PutNextToken(out, page.next_token);
  return out;
}

Result UpdateIncidentRecord(im::IncidentManager& m, const CallContext& ctx,
                            const json::object& in) {
  im::UpdateIncidentRecordRequest req;
  KLAXON_ASSIGN_OR_RETURN(req.arn, RequiredString(in, "arn"));
  KLAXON_ASSIGN_OR_RETURN(req.title, OptString(in, "title"));
  KLAXON_ASSIGN_OR_RETURN(req.summary, OptString(in, "summary"));
  KLAXON_ASSIGN_OR_RETURN(req.impact, OptSmallInt(in, "impact"));
  KLAXON_ASSIGN_OR_RETURN(auto status, OptString(in, "status"));
  if (status) {
    req.status = im::ParseIncidentStatus(*status);
    if (!req.status) {
      return ValidationError("Member 'status' must be one of OPEN, RESOLVED, got '" + *status +
                             "'.");
    }
  }
  KLAXON_ASSIGN_OR_RETURN(req.chat_channel, OptRaw(in, "chatChannel", /*list=*/false));
  KLAXON_ASSIGN_OR_RETURN(req.notification_targets,
                          OptRaw(in, "notificationTargets", /*list=*/true));
  req.client_token = ClientToken(in);
  KLAXON_RETURN_IF_ERROR(m.incidents().Update(ScopeOf(ctx), req));
  return json::object{};
}

Result DeleteIncidentRecord(im::IncidentManager& m, const CallContext& ctx,
                            const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string arn, RequiredString(in, "arn"));
  KLAXON_RETURN_IF_ERROR(m.incidents().Delete(ScopeOf(ctx), arn));
  return json::object{};
}

Result ListRelatedItems(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string arn, RequiredString(in, "incidentRecordArn"));
  KLAXON_ASSIGN_OR_RETURN(auto max_results, OptSmallInt(in, "maxResults"));
  KLAXON_ASSIGN_OR_RETURN(auto token, OptString(in, "nextToken"));
  KLAXON_ASSIGN_OR_RETURN(auto page, m.incidents().ListRelatedItems(ScopeOf(ctx), arn, max_results,
                                                                    token.value_or("")));
  json::array items;
  for (const auto& item : page.items) items.emplace_back(RelatedItemJson(item));
  json::object out{{"relatedItems", std::move(items)}};
  PutNextToken(out, page.next_token);
  return out;
}

Result UpdateRelatedItems(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string arn, RequiredString(in, "incidentRecordArn"));
  KLAXON_ASSIGN_OR_RETURN(const json::object* update, RequiredObject(in, "relatedItemsUpdate"));
  KLAXON_RETURN_IF_ERROR(CheckUnion(*update, "relatedItemsUpdate"));
  im::RelatedItemsUpdate u;
  KLAXON_ASSIGN_OR_RETURN(const json::object* add, OptObject(*update, "itemToAdd"));
  KLAXON_ASSIGN_OR_RETURN(const json::object* remove, OptObject(*update, "itemToRemove"));
  if (add != nullptr) {
    KLAXON_ASSIGN_OR_RETURN(u.item_to_add, ReadRelatedItem(*add));
  } else if (remove != nullptr) {
    KLAXON_ASSIGN_OR_RETURN(u.item_to_remove, ReadItemIdentifier(*remove));
  } else {
    return ValidationError(
        "Member 'relatedItemsUpdate' must set exactly one of itemToAdd, itemToRemove.");
  }
  KLAXON_RETURN_IF_ERROR(m.incidents().UpdateRelatedItems(ScopeOf(ctx), arn, u, ClientToken(in)));
  return json::object{};
}

// --- timeline ---

Result CreateTimelineEvent(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  im::CreateTimelineEventRequest req;
  KLAXON_ASSIGN_OR_RETURN(req.incident_record_arn, RequiredString(in, "incidentRecordArn"));
  KLAXON_ASSIGN_OR_RETURN(req.event_time, RequiredTime(in, "eventTime"));
  KLAXON_ASSIGN_OR_RETURN(req.event_type, RequiredString(in, "eventType"));
  KLAXON_ASSIGN_OR_RETURN(req.event_data, RequiredString(in, "eventData"));
  KLAXON_ASSIGN_OR_RETURN(const json::array* refs, OptArray(in, "eventReferences"));
  if (refs != nullptr) {
    KLAXON_ASSIGN_OR_RETURN(req.event_references, ReadEventReferences(*refs));
  }
  req.client_token = ClientToken(in);
  KLAXON_ASSIGN_OR_RETURN(std::string id, m.timeline().Create(ScopeOf(ctx), req));
  return json::object{{"eventId", id}, {"incidentRecordArn", req.incident_record_arn}};
}

Result GetTimelineEvent(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string arn, RequiredString(in, "incidentRecordArn"));
  KLAXON_ASSIGN_OR_RETURN(std::string id, RequiredString(in, "eventId"));
  KLAXON_ASSIGN_OR_RETURN(im::TimelineEvent event, m.timeline().Get(ScopeOf(ctx), arn, id));
  return json::object{{"event", TimelineEventJson(event, /*with_data=*/true)}};
}

Result ListTimelineEvents(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  im::ListTimelineEventsRequest req;
  KLAXON_ASSIGN_OR_RETURN(req.incident_record_arn, RequiredString(in, "incidentRecordArn"));
  KLAXON_ASSIGN_OR_RETURN(req.filters, ReadFilters(in));
  KLAXON_ASSIGN_OR_RETURN(auto sort_by, OptString(in, "sortBy"));
  if (sort_by && *sort_by != "EVENT_TIME") {
    return ValidationError("Member 'sortBy' must be EVENT_TIME.");
  }
  KLAXON_ASSIGN_OR_RETURN(auto sort_order, OptString(in, "sortOrder"));
  if (sort_order && *sort_order != "ASCENDING" && *sort_order != "DESCENDING") {
    return ValidationError("Member 'sortOrder' must be ASCENDING or DESCENDING.");
  }
  req.ascending = sort_order && *sort_order == "ASCENDING";
  KLAXON_ASSIGN_OR_RETURN(req.max_results, OptSmallInt(in, "maxResults"));
  KLAXON_ASSIGN_OR_RETURN(auto token, OptString(in, "nextToken"));
  req.next_token = token.value_or("");
  KLAXON_ASSIGN_OR_RETURN(auto page, m.timeline().List(ScopeOf(ctx), req));
  json::array events;
  for (const auto& e : page.items) events.emplace_back(TimelineEventJson(e, /*with_data=*/false));
  json::object out{{"eventSummaries", std::move(events)}};
  PutNextToken(out, page.next_token);
  return out;
}

Result UpdateTimelineEvent(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  im::UpdateTimelineEventRequest req;
  KLAXON_ASSIGN_OR_RETURN(req.incident_record_arn, RequiredString(in, "incidentRecordArn"));
  KLAXON_ASSIGN_OR_RETURN(req.event_id, RequiredString(in, "eventId"));
  KLAXON_ASSIGN_OR_RETURN(req.event_time, OptTime(in, "eventTime"));
  KLAXON_ASSIGN_OR_RETURN(req.event_type, OptString(in, "eventType"));
  KLAXON_ASSIGN_OR_RETURN(req.event_data, OptString(in, "eventData"));
  KLAXON_ASSIGN_OR_RETURN(const json::array* refs, OptArray(in, "eventReferences"));
  if (refs != nullptr) {
    KLAXON_ASSIGN_OR_RETURN(req.event_references, ReadEventReferences(*refs));
  }
  req.client_token = ClientToken(in);
  KLAXON_RETURN_IF_ERROR(m.timeline().Update(ScopeOf(ctx), req));
  return json::object{};
}

Result DeleteTimelineEvent(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string arn, RequiredString(in, "incidentRecordArn"));
  KLAXON_ASSIGN_OR_RETURN(std::string id, RequiredString(in, "eventId"));
  KLAXON_RETURN_IF_ERROR(m.timeline().Delete(ScopeOf(ctx), arn, id));
  return json::object{};
}

// --- tags and resource policies ---

Result TagResource(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string arn, RequiredString(in, "resourceArn"));
  KLAXON_ASSIGN_OR_RETURN(auto tags, OptTagMap(in, "tags"));
  if (!tags) return ValidationError("Member 'tags' is required.");
  KLAXON_RETURN_IF_ERROR(m.tags().Tag(ScopeOf(ctx), arn, *tags));
  return json::object{};
}

Result UntagResource(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string arn, RequiredString(in, "resourceArn"));
  KLAXON_ASSIGN_OR_RETURN(auto keys, OptStringList(in, "tagKeys"));
  if (!keys) return ValidationError("Member 'tagKeys' is required.");
  KLAXON_RETURN_IF_ERROR(m.tags().Untag(ScopeOf(ctx), arn, *keys));
  return json::object{};
}

Result ListTagsForResource(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string arn, RequiredString(in, "resourceArn"));
  KLAXON_ASSIGN_OR_RETURN(auto tags, m.tags().List(ScopeOf(ctx), arn));
  return json::object{{"tags", TagMap(tags)}};
}

Result PutResourcePolicy(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string arn, RequiredString(in, "resourceArn"));
  KLAXON_ASSIGN_OR_RETURN(std::string policy, RequiredString(in, "policy"));
  KLAXON_ASSIGN_OR_RETURN(std::string id, m.policies().Put(ScopeOf(ctx), arn, policy));
  return json::object{{"policyId", id}};
}

Result GetResourcePolicies(im::IncidentManager& m, const CallContext& ctx, const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string arn, RequiredString(in, "resourceArn"));
  KLAXON_ASSIGN_OR_RETURN(auto max_results, OptSmallInt(in, "maxResults"));
  KLAXON_ASSIGN_OR_RETURN(auto token, OptString(in, "nextToken"));
  KLAXON_ASSIGN_OR_RETURN(auto page,
                          m.policies().Get(ScopeOf(ctx), arn, max_results, token.value_or("")));
  json::array policies;
  for (const auto& p : page.items) {
    policies.emplace_back(json::object{{"policyDocument", p.policy_document},
                                       {"policyId", p.policy_id},
                                       {"ramResourceShareRegion", p.ram_resource_share_region}});
  }
  json::object out{{"resourcePolicies", std::move(policies)}};
  PutNextToken(out, page.next_token);
  return out;
}

Result DeleteResourcePolicy(im::IncidentManager& m, const CallContext& ctx,
                            const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(std::string arn, RequiredString(in, "resourceArn"));
  KLAXON_ASSIGN_OR_RETURN(std::string id, RequiredString(in, "policyId"));
  KLAXON_RETURN_IF_ERROR(m.policies().Delete(ScopeOf(ctx), arn, id));
  return json::object{};
}

using Fn = Result (*)(im::IncidentManager&, const CallContext&, const json::object&);

}  // namespace

void RegisterSsmIncidentsHandlers(OperationTable& table, incidents::IncidentManager& incidents) {
  const std::pair<const char*, Fn> kOperations[] = {
      {"CreateReplicationSet", CreateReplicationSet},
      {"GetReplicationSet", GetReplicationSet},
      {"ListReplicationSets", ListReplicationSets},
      {"UpdateReplicationSet", UpdateReplicationSet},
      {"UpdateDeletionProtection", UpdateDeletionProtection},
      {"DeleteReplicationSet", DeleteReplicationSet},
      {"CreateResponsePlan", CreateResponsePlan},
      {"GetResponsePlan", GetResponsePlan},
      {"ListResponsePlans", ListResponsePlans},
      {"UpdateResponsePlan", UpdateResponsePlan},
      {"DeleteResponsePlan", DeleteResponsePlan},
      {"StartIncident", StartIncident},
      {"GetIncidentRecord", GetIncidentRecord},
      {"ListIncidentRecords", ListIncidentRecords},
      {"UpdateIncidentRecord", UpdateIncidentRecord},
      {"DeleteIncidentRecord", DeleteIncidentRecord},
      {"ListRelatedItems", ListRelatedItems},
      {"UpdateRelatedItems", UpdateRelatedItems},
      {"CreateTimelineEvent", CreateTimelineEvent},
      {"GetTimelineEvent", GetTimelineEvent},
      {"ListTimelineEvents", ListTimelineEvents},
      {"UpdateTimelineEvent", UpdateTimelineEvent},
      {"DeleteTimelineEvent", DeleteTimelineEvent},
      {"TagResource", TagResource},
      {"UntagResource", UntagResource},
      {"ListTagsForResource", ListTagsForResource},
      {"PutResourcePolicy", PutResourcePolicy},
      {"GetResourcePolicies", GetResourcePolicies},
      {"DeleteResourcePolicy", DeleteResourcePolicy},
  };
  for (const auto& [name, fn] : kOperations) {
    Fn f = fn;
    table.Add(kService, name, [&incidents, f](const CallContext& ctx, const json::object& in) {
      return f(incidents, ctx, in);
    });
  }
  // Inside a NonBlockingScope (the HTTP server's I/O thread) StartIncident answers a storm's
  // duplicate from memory and queues any other start for the group commit.
  table.AddAsync(kService, "StartIncident",
                 [&incidents](const CallContext& ctx, const json::object& in,
                              std::function<void(absl::StatusOr<json::object>)> done) {
                   return StartIncidentAsync(incidents, ctx, in, std::move(done));
                 });
}

}  // namespace klaxon::api::ssm_incidents
