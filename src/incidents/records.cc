#include "incidents/records.h"

#include <openssl/evp.h>

#include <cinttypes>
#include <cstdio>
#include <limits>

#include "absl/strings/escaping.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "common/ids.h"
#include "common/status.h"
#include "incidents/arn.h"
#include "incidents/decoded_cache.h"
#include "incidents/errors.h"
#include "incidents/strings.h"
#include "storage/ordered_ids.h"

namespace klaxon::incidents::internal {
namespace json = boost::json;
namespace {

// ---- reading stored JSON (tolerant: absent members take defaults) ----

const json::value* Find(const json::object& o, std::string_view key) {
  return o.if_contains(json::string_view(key.data(), key.size()));
}

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = Find(o, key);
  if (v == nullptr || !v->is_string()) return "";
  return std::string(v->get_string());
}

std::optional<std::string> OptStr(const json::object& o, std::string_view key) {
  const json::value* v = Find(o, key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

int64_t Int(const json::object& o, std::string_view key, int64_t fallback = 0) {
  const json::value* v = Find(o, key);
  if (v == nullptr) return fallback;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->get_double());
  return fallback;
}

bool Bool(const json::object& o, std::string_view key) {
  const json::value* v = Find(o, key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

std::optional<bool> OptBool(const json::object& o, std::string_view key) {
  const json::value* v = Find(o, key);
  if (v == nullptr || !v->is_bool()) return std::nullopt;
  return v->get_bool();
}

absl::Time Time(const json::object& o, std::string_view key) {
  return absl::FromUnixNanos(Int(o, key));
}

std::optional<absl::Time> OptTime(const json::object& o, std::string_view key) {
  if (Find(o, key) == nullptr) return std::nullopt;
  return Time(o, key);
}

json::value Raw(const json::object& o, std::string_view key) {
  const json::value* v = Find(o, key);
  return v == nullptr ? json::value() : *v;
}

const json::object& Obj(const json::object& o, std::string_view key) {
  static const json::object kEmpty;
  const json::value* v = Find(o, key);
  return v != nullptr && v->is_object() ? v->get_object() : kEmpty;
}

const json::array& Arr(const json::object& o, std::string_view key) {
  static const json::array kEmpty;
  const json::value* v = Find(o, key);
  return v != nullptr && v->is_array() ? v->get_array() : kEmpty;
}

std::vector<std::string> StrList(const json::array& a) {
  std::vector<std::string> out;
  for (const auto& v : a) {
    if (v.is_string()) out.emplace_back(v.get_string());
  }
  return out;
}

std::map<std::string, std::string> StrMap(const json::object& o) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : o) {
    if (v.is_string()) out.emplace(std::string(k), std::string(v.get_string()));
  }
  return out;
}

absl::StatusOr<json::object> ParseObject(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !v.is_object()) {
    return absl::InternalError(Cat("corrupt stored ", what));
  }
  return std::move(v.get_object());
}

// ---- writing ----

void PutOpt(json::object& o, std::string_view key, const std::optional<std::string>& v) {
  if (v) o[key] = *v;
}

void PutRaw(json::object& o, std::string_view key, const json::value& v) {
  if (!v.is_null()) o[key] = v;
}

json::array ToArray(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

json::object ToObject(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

// ---- per type ----

json::object RegionToJson(const RegionInfo& r) {
  json::object o;
  o["status"] = r.status;
  PutOpt(o, "sseKmsKeyId", r.sse_kms_key_id);
  PutOpt(o, "statusMessage", r.status_message);
  o["statusUpdateTime"] = TimeToJson(r.status_update_time);
  o["addedTime"] = TimeToJson(r.added_time);
  return o;
}

RegionInfo RegionFromJson(const json::object& o) {
  RegionInfo r;
  r.status = Str(o, "status");
  r.sse_kms_key_id = OptStr(o, "sseKmsKeyId");
  r.status_message = OptStr(o, "statusMessage");
  r.status_update_time = Time(o, "statusUpdateTime");
  r.added_time = Time(o, "addedTime");
  return r;
}

json::object TemplateToJson(const IncidentTemplate& t) {
  json::object o;
  o["title"] = t.title;
  o["impact"] = t.impact;
  PutOpt(o, "summary", t.summary);
  PutOpt(o, "dedupeString", t.dedupe_string);
  PutRaw(o, "notificationTargets", t.notification_targets);
  if (!t.incident_tags.empty()) o["incidentTags"] = ToObject(t.incident_tags);
  return o;
}

IncidentTemplate TemplateFromJson(const json::object& o) {
  IncidentTemplate t;
  t.title = Str(o, "title");
  t.impact = static_cast<int>(Int(o, "impact", 3));
  t.summary = OptStr(o, "summary");
  t.dedupe_string = OptStr(o, "dedupeString");
  t.notification_targets = Raw(o, "notificationTargets");
  t.incident_tags = StrMap(Obj(o, "incidentTags"));
  return t;
}

Action ActionFromJson(const json::object& o) {
  Action a;
  const json::object& s = Obj(o, "ssmAutomation");
  a.ssm_automation.document_name = Str(s, "documentName");
  a.ssm_automation.document_version = OptStr(s, "documentVersion");
  a.ssm_automation.role_arn = Str(s, "roleArn");
  a.ssm_automation.target_account = OptStr(s, "targetAccount");
  for (const auto& [k, v] : Obj(s, "parameters")) {
    a.ssm_automation.parameters[std::string(k)] =
        v.is_array() ? StrList(v.get_array()) : std::vector<std::string>{};
  }
  for (const auto& [k, v] : Obj(s, "dynamicParameters")) {
    if (v.is_object()) {
      a.ssm_automation.dynamic_parameters[std::string(k)] = Str(v.get_object(), "variable");
    }
  }
  return a;
}

ItemIdentifier IdentifierFromJson(const json::object& o) {
  ItemIdentifier id;
  id.type = Str(o, "type");
  const json::object& v = Obj(o, "value");
  id.value.arn = OptStr(v, "arn");
  id.value.url = OptStr(v, "url");
  id.value.metric_definition = OptStr(v, "metricDefinition");
  if (const json::value* pd = Find(v, "pagerDutyIncidentDetail"); pd && pd->is_object()) {
    PagerDutyIncidentDetail d;
    d.id = Str(pd->get_object(), "id");
    d.auto_resolve = OptBool(pd->get_object(), "autoResolve");
    d.secret_id = OptStr(pd->get_object(), "secretId");
    id.value.pager_duty_incident_detail = d;
  }
  return id;
}

EventReference EventReferenceFromJson(const json::object& o) {
  return EventReference{OptStr(o, "resource"), OptStr(o, "relatedItemId")};
}

std::string Hex(const unsigned char* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 15]);
  }
  return out;
}

}  // namespace

std::vector<std::string_view> AllTables() {
  return {kReplicationSetTable, kResponsePlanTable, kIncidentTable,    kIncidentIndexTable,
          kDedupTable,          kTimelineTable,     kRelatedItemTable, kTagTable,
          kPolicyTable,         kTokenTable,        kTokenLogTable};
}

json::value TimeToJson(absl::Time t) { return json::value(absl::ToUnixNanos(t)); }

json::object ItemIdentifierToJson(const ItemIdentifier& id) {
  json::object value;
  PutOpt(value, "arn", id.value.arn);
  PutOpt(value, "url", id.value.url);
  PutOpt(value, "metricDefinition", id.value.metric_definition);
  if (id.value.pager_duty_incident_detail) {
    const auto& d = *id.value.pager_duty_incident_detail;
    json::object pd;
    pd["id"] = d.id;
    if (d.auto_resolve) pd["autoResolve"] = *d.auto_resolve;
    PutOpt(pd, "secretId", d.secret_id);
    value["pagerDutyIncidentDetail"] = std::move(pd);
  }
  json::object o;
  o["type"] = id.type;
  o["value"] = std::move(value);
  return o;
}

json::object RelatedItemToJson(const RelatedItem& v) {
  json::object o;
  o["identifier"] = ItemIdentifierToJson(v.identifier);
  PutOpt(o, "title", v.title);
  if (!v.generated_id.empty()) o["generatedId"] = v.generated_id;
  return o;
}

json::object EventReferenceToJson(const EventReference& v) {
  json::object o;
  PutOpt(o, "resource", v.resource);
  PutOpt(o, "relatedItemId", v.related_item_id);
  return o;
}

json::object ActionToJson(const Action& a) {
  const SsmAutomation& s = a.ssm_automation;
  json::object o;
  o["documentName"] = s.document_name;
  PutOpt(o, "documentVersion", s.document_version);
  o["roleArn"] = s.role_arn;
  PutOpt(o, "targetAccount", s.target_account);
  if (!s.parameters.empty()) {
    json::object p;
    for (const auto& [k, v] : s.parameters) p[k] = ToArray(v);
    o["parameters"] = std::move(p);
  }
  if (!s.dynamic_parameters.empty()) {
    json::object p;
    for (const auto& [k, v] : s.dynamic_parameters) p[k] = json::object{{"variable", v}};
    o["dynamicParameters"] = std::move(p);
  }
  return json::object{{"ssmAutomation", std::move(o)}};
}

std::string Encode(const ReplicationSet& v) {
  json::object o;
  o["arn"] = v.arn;
  json::object regions;
  for (const auto& [name, info] : v.regions) regions[name] = RegionToJson(info);
  o["regions"] = std::move(regions);
  o["status"] = v.status;
  o["deletionProtected"] = v.deletion_protected;
  o["createdBy"] = v.created_by;
  o["createdTime"] = TimeToJson(v.created_time);
  o["lastModifiedBy"] = v.last_modified_by;
  o["lastModifiedTime"] = TimeToJson(v.last_modified_time);
  return json::serialize(o);
}

absl::StatusOr<ReplicationSet> DecodeReplicationSet(std::string_view text) {
  KLAXON_ASSIGN_OR_RETURN(json::object o, ParseObject(text, "replication set"));
  ReplicationSet v;
  v.arn = Str(o, "arn");
  for (const auto& [name, info] : Obj(o, "regions")) {
    if (info.is_object()) v.regions[std::string(name)] = RegionFromJson(info.get_object());
  }
  v.status = Str(o, "status");
  v.deletion_protected = Bool(o, "deletionProtected");
  v.created_by = Str(o, "createdBy");
  v.created_time = Time(o, "createdTime");
  v.last_modified_by = Str(o, "lastModifiedBy");
  v.last_modified_time = Time(o, "lastModifiedTime");
  return v;
}

std::string Encode(const ResponsePlan& v) {
  json::object o;
  o["name"] = v.name;
  o["arn"] = v.arn;
  PutOpt(o, "displayName", v.display_name);
  o["incidentTemplate"] = TemplateToJson(v.incident_template);
  PutRaw(o, "chatChannel", v.chat_channel);
  o["engagements"] = ToArray(v.engagements);
  json::array actions;
  for (const auto& a : v.actions) actions.emplace_back(ActionToJson(a));
  o["actions"] = std::move(actions);
  PutRaw(o, "integrations", v.integrations);
  o["createdTime"] = TimeToJson(v.created_time);
  return json::serialize(o);
}

absl::StatusOr<ResponsePlan> DecodeResponsePlan(std::string_view text) {
  KLAXON_ASSIGN_OR_RETURN(json::object o, ParseObject(text, "response plan"));
  ResponsePlan v;
  v.name = Str(o, "name");
  v.arn = Str(o, "arn");
  v.display_name = OptStr(o, "displayName");
  v.incident_template = TemplateFromJson(Obj(o, "incidentTemplate"));
  v.chat_channel = Raw(o, "chatChannel");
  v.engagements = StrList(Arr(o, "engagements"));
  for (const auto& a : Arr(o, "actions")) {
    if (a.is_object()) v.actions.push_back(ActionFromJson(a.get_object()));
  }
  v.integrations = Raw(o, "integrations");
  v.created_time = Time(o, "createdTime");
  return v;
}

std::string Encode(const IncidentRecord& v) {
  json::object o;
  o["arn"] = v.arn;
  o["title"] = v.title;
  PutOpt(o, "summary", v.summary);
  o["status"] = IncidentStatusName(v.status);
  o["impact"] = v.impact;
  o["creationTime"] = TimeToJson(v.creation_time);
  if (v.resolved_time) o["resolvedTime"] = TimeToJson(*v.resolved_time);
  o["lastModifiedBy"] = v.last_modified_by;
  o["lastModifiedTime"] = TimeToJson(v.last_modified_time);
  o["dedupeString"] = v.dedupe_string;
  json::object src;
  src["createdBy"] = v.incident_record_source.created_by;
  PutOpt(src, "invokedBy", v.incident_record_source.invoked_by);
  PutOpt(src, "resourceArn", v.incident_record_source.resource_arn);
  src["source"] = v.incident_record_source.source;
  o["incidentRecordSource"] = std::move(src);
  PutRaw(o, "chatChannel", v.chat_channel);
  PutRaw(o, "notificationTargets", v.notification_targets);
  if (!v.automation_executions.empty()) {
    o["automationExecutions"] = ToArray(v.automation_executions);
  }
  o["responsePlanArn"] = v.response_plan_arn;
  if (!v.parent_ops_item_id.empty()) o["parentOpsItemId"] = v.parent_ops_item_id;
  o["timelineEventCount"] = v.timeline_event_count;
  o["nextEventSeq"] = v.next_event_seq;
  o["relatedItemCount"] = v.related_item_count;
  o["nextRelatedSeq"] = v.next_related_seq;
  o["holdsDedupeKey"] = v.holds_dedupe_key;
  return json::serialize(o);
}

absl::StatusOr<IncidentRecord> DecodeIncidentRecord(std::string_view text) {
  KLAXON_ASSIGN_OR_RETURN(json::object o, ParseObject(text, "incident record"));
  IncidentRecord v;
  v.arn = Str(o, "arn");
  v.title = Str(o, "title");
  v.summary = OptStr(o, "summary");
  v.status = ParseIncidentStatus(Str(o, "status")).value_or(IncidentStatus::kOpen);
  v.impact = static_cast<int>(Int(o, "impact", 3));
  v.creation_time = Time(o, "creationTime");
  v.resolved_time = OptTime(o, "resolvedTime");
  v.last_modified_by = Str(o, "lastModifiedBy");
  v.last_modified_time = Time(o, "lastModifiedTime");
  v.dedupe_string = Str(o, "dedupeString");
  const json::object& src = Obj(o, "incidentRecordSource");
  v.incident_record_source.created_by = Str(src, "createdBy");
  v.incident_record_source.invoked_by = OptStr(src, "invokedBy");
  v.incident_record_source.resource_arn = OptStr(src, "resourceArn");
  v.incident_record_source.source = Str(src, "source");
  v.chat_channel = Raw(o, "chatChannel");
  v.notification_targets = Raw(o, "notificationTargets");
  v.automation_executions = StrList(Arr(o, "automationExecutions"));
  v.response_plan_arn = Str(o, "responsePlanArn");
  v.parent_ops_item_id = Str(o, "parentOpsItemId");
  v.timeline_event_count = Int(o, "timelineEventCount");
  v.next_event_seq = Int(o, "nextEventSeq");
  v.related_item_count = Int(o, "relatedItemCount");
  v.next_related_seq = Int(o, "nextRelatedSeq");
  v.holds_dedupe_key = Bool(o, "holdsDedupeKey");
  return v;
}

std::string Encode(const RelatedItem& v) { return json::serialize(RelatedItemToJson(v)); }

absl::StatusOr<RelatedItem> DecodeRelatedItem(std::string_view text) {
  KLAXON_ASSIGN_OR_RETURN(json::object o, ParseObject(text, "related item"));
  RelatedItem v;
  v.identifier = IdentifierFromJson(Obj(o, "identifier"));
  v.title = OptStr(o, "title");
  v.generated_id = Str(o, "generatedId");
  return v;
}

std::string Encode(const TimelineEvent& v) {
  json::object o;
  o["incidentRecordArn"] = v.incident_record_arn;
  o["eventId"] = v.event_id;
  o["eventTime"] = TimeToJson(v.event_time);
  o["eventType"] = v.event_type;
  o["eventData"] = v.event_data;
  json::array refs;
  for (const auto& r : v.event_references) refs.emplace_back(EventReferenceToJson(r));
  o["eventReferences"] = std::move(refs);
  o["eventUpdatedTime"] = TimeToJson(v.event_updated_time);
  o["seq"] = v.seq;
  return json::serialize(o);
}

absl::StatusOr<TimelineEvent> DecodeTimelineEvent(std::string_view text) {
  KLAXON_ASSIGN_OR_RETURN(json::object o, ParseObject(text, "timeline event"));
  TimelineEvent v;
  v.incident_record_arn = Str(o, "incidentRecordArn");
  v.event_id = Str(o, "eventId");
  v.event_time = Time(o, "eventTime");
  v.event_type = Str(o, "eventType");
  v.event_data = Str(o, "eventData");
  for (const auto& r : Arr(o, "eventReferences")) {
    if (r.is_object()) v.event_references.push_back(EventReferenceFromJson(r.get_object()));
  }
  v.event_updated_time = Time(o, "eventUpdatedTime");
  v.seq = Int(o, "seq");
  return v;
}

std::string Encode(const ResourcePolicy& v) {
  json::object o;
  o["policyId"] = v.policy_id;
  o["policyDocument"] = v.policy_document;
  o["ramResourceShareRegion"] = v.ram_resource_share_region;
  return json::serialize(o);
}

absl::StatusOr<ResourcePolicy> DecodeResourcePolicy(std::string_view text) {
  KLAXON_ASSIGN_OR_RETURN(json::object o, ParseObject(text, "resource policy"));
  return ResourcePolicy{Str(o, "policyId"), Str(o, "policyDocument"),
                        Str(o, "ramResourceShareRegion")};
}

// ---- keys ----

std::string IncidentIndexKey(absl::Time creation_time, std::string_view incident_key) {
  // Inverted so that an ascending scan yields the newest incident first.
  int64_t nanos = absl::ToUnixNanos(creation_time);
  if (nanos < 0) nanos = 0;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%019" PRId64, std::numeric_limits<int64_t>::max() - nanos);
  return Cat(buf, "/", incident_key);
}

std::string TimelineKey(std::string_view incident_key, std::string_view event_id) {
  return Cat(incident_key, "/", event_id);
}

std::string RelatedItemKey(std::string_view incident_key, int64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%010" PRId64, seq);
  return Cat(incident_key, "/", buf);
}

std::string ChildPrefix(std::string_view incident_key) { return Cat(incident_key, "/"); }

// ---- typed access ----

absl::StatusOr<std::optional<ReplicationSet>> LoadReplicationSet(storage::ReadTxn& txn,
                                                                 std::string_view account) {
  KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(kReplicationSetTable, account, kReplicationSetId));
  if (!text) return std::optional<ReplicationSet>();
  KLAXON_ASSIGN_OR_RETURN(ReplicationSet set, DecodeReplicationSet(*text));
  return std::optional<ReplicationSet>(std::move(set));
}

namespace {

absl::Status NoReplicationSet() {
  return InvalidArgument(
      "Incident Manager is not set up in this account: create a replication set first "
      "(CreateReplicationSet)");
}

// The set must be ACTIVE and include scope.region (when set) as an ACTIVE Region.
absl::Status CheckActive(const ReplicationSet* set, const Scope& scope) {
  if (set->status != "ACTIVE") {
    return InvalidArgument(Cat("The replication set is ", set->status,
                               "; Incident Manager can be used once it is ACTIVE"));
  }
  if (!scope.region.empty()) {
    auto it = set->regions.find(scope.region);
    if (it == set->regions.end() || it->second.status != "ACTIVE") {
      return InvalidArgument(Cat("Incident Manager is not enabled in Region ", scope.region,
                                 ": the Region is not an ACTIVE member of the "
                                 "replication set"));
    }
  }
  return absl::OkStatus();
}

DecodedCache<ReplicationSet>& ReplicationSetCache() {
  static auto* cache = new DecodedCache<ReplicationSet>();
  return *cache;
}

DecodedCache<ResponsePlan>& ResponsePlanCache() {
  static auto* cache = new DecodedCache<ResponsePlan>();
  return *cache;
}

// Decodes `text` through `cache` (see DecodedCache: served only for byte-identical text).
template <typename T, typename Decode>
absl::StatusOr<std::shared_ptr<const T>> DecodeShared(DecodedCache<T>& cache, std::string key,
                                                      std::string text, Decode decode) {
  if (auto hit = cache.Find(key, text)) return hit;
  KLAXON_ASSIGN_OR_RETURN(T value, decode(text));
  auto shared = std::make_shared<const T>(std::move(value));
  cache.Insert(std::move(key), std::move(text), shared);
  return shared;
}

}  // namespace

absl::StatusOr<ReplicationSet> RequireActiveReplicationSet(storage::ReadTxn& txn,
                                                           const Scope& scope) {
  KLAXON_ASSIGN_OR_RETURN(auto set, LoadReplicationSet(txn, scope.account_id));
  if (!set) return NoReplicationSet();
  KLAXON_RETURN_IF_ERROR(CheckActive(&*set, scope));
  return *std::move(set);
}

absl::StatusOr<std::shared_ptr<const ReplicationSet>> RequireActiveReplicationSetShared(
    storage::ReadTxn& txn, const Scope& scope) {
  KLAXON_ASSIGN_OR_RETURN(auto text,
                          txn.Get(kReplicationSetTable, scope.account_id, kReplicationSetId));
  if (!text) return NoReplicationSet();
  KLAXON_ASSIGN_OR_RETURN(std::shared_ptr<const ReplicationSet> set,
                          DecodeShared(ReplicationSetCache(), scope.account_id, *std::move(text),
                                       [](std::string_view t) { return DecodeReplicationSet(t); }));
  KLAXON_RETURN_IF_ERROR(CheckActive(set.get(), scope));
  return set;
}

absl::StatusOr<std::shared_ptr<const ResponsePlan>> RequireResponsePlanShared(
    storage::ReadTxn& txn, const Scope& scope, std::string_view arn) {
  KLAXON_ASSIGN_OR_RETURN(std::string name, ResponsePlanNameFromArn(scope, arn));
  KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(kResponsePlanTable, scope.account_id, name));
  if (!text) {
    return NotFound(ResourceType::kResponsePlan, arn, Cat("Response plan not found: ", arn));
  }
  return DecodeShared(ResponsePlanCache(), Cat(scope.account_id, "/", name), *std::move(text),
                      [](std::string_view t) { return DecodeResponsePlan(t); });
}

absl::StatusOr<std::optional<ResponsePlan>> LoadResponsePlan(storage::ReadTxn& txn,
                                                             std::string_view account,
                                                             std::string_view name) {
  KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(kResponsePlanTable, account, name));
  if (!text) return std::optional<ResponsePlan>();
  KLAXON_ASSIGN_OR_RETURN(ResponsePlan plan, DecodeResponsePlan(*text));
  return std::optional<ResponsePlan>(std::move(plan));
}

absl::StatusOr<ResponsePlan> RequireResponsePlan(storage::ReadTxn& txn, const Scope& scope,
                                                 std::string_view arn) {
  KLAXON_ASSIGN_OR_RETURN(std::string name, ResponsePlanNameFromArn(scope, arn));
  KLAXON_ASSIGN_OR_RETURN(auto plan, LoadResponsePlan(txn, scope.account_id, name));
  if (!plan) {
    return NotFound(ResourceType::kResponsePlan, arn, Cat("Response plan not found: ", arn));
  }
  return *std::move(plan);
}

absl::StatusOr<std::optional<IncidentRecord>> LoadIncident(storage::ReadTxn& txn,
                                                           std::string_view account,
                                                           std::string_view key) {
  KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(kIncidentTable, account, key));
  if (!text) return std::optional<IncidentRecord>();
  KLAXON_ASSIGN_OR_RETURN(IncidentRecord record, DecodeIncidentRecord(*text));
  return std::optional<IncidentRecord>(std::move(record));
}

absl::StatusOr<std::pair<std::string, IncidentRecord>> RequireIncident(storage::ReadTxn& txn,
                                                                       const Scope& scope,
                                                                       std::string_view arn) {
  KLAXON_ASSIGN_OR_RETURN(std::string key, IncidentKeyFromArn(scope, arn));
  KLAXON_ASSIGN_OR_RETURN(auto record, LoadIncident(txn, scope.account_id, key));
  if (!record) {
    return NotFound(ResourceType::kIncidentRecord, arn, Cat("Incident record not found: ", arn));
  }
  return std::make_pair(std::move(key), *std::move(record));
}

absl::Status SaveIncident(storage::WriteTxn& txn, std::string_view account, std::string_view key,
                          const IncidentRecord& record) {
  return txn.Put(kIncidentTable, account, key, Encode(record));
}

absl::StatusOr<std::vector<std::pair<std::string, RelatedItem>>> LoadRelatedItems(
    storage::ReadTxn& txn, std::string_view account, std::string_view incident_key) {
  std::vector<std::pair<std::string, RelatedItem>> items;
  absl::Status decode_status;
  KLAXON_RETURN_IF_ERROR(txn.Scan(kRelatedItemTable, account, ChildPrefix(incident_key), "", 0,
                                  [&](std::string_view id, std::string_view value) {
                                    auto item = DecodeRelatedItem(value);
                                    if (!item.ok()) {
                                      decode_status = item.status();
                                      return false;
                                    }
                                    items.emplace_back(std::string(id), *std::move(item));
                                    return true;
                                  }));
  KLAXON_RETURN_IF_ERROR(decode_status);
  return items;
}

absl::StatusOr<std::vector<TimelineEvent>> LoadTimeline(storage::ReadTxn& txn,
                                                        std::string_view account,
                                                        std::string_view incident_key) {
  std::vector<TimelineEvent> events;
  absl::Status decode_status;
  KLAXON_RETURN_IF_ERROR(txn.Scan(kTimelineTable, account, ChildPrefix(incident_key), "", 0,
                                  [&](std::string_view, std::string_view value) {
                                    auto event = DecodeTimelineEvent(value);
                                    if (!event.ok()) {
                                      decode_status = event.status();
                                      return false;
                                    }
                                    events.push_back(*std::move(event));
                                    return true;
                                  }));
  KLAXON_RETURN_IF_ERROR(decode_status);
  return events;
}

absl::StatusOr<std::map<std::string, std::string>> LoadTags(storage::ReadTxn& txn,
                                                            std::string_view account,
                                                            std::string_view arn) {
  KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(kTagTable, account, arn));
  if (!text) return std::map<std::string, std::string>();
  KLAXON_ASSIGN_OR_RETURN(json::object o, ParseObject(*text, "tags"));
  return StrMap(o);
}

absl::Status SaveTags(storage::WriteTxn& txn, std::string_view account, std::string_view arn,
                      const std::map<std::string, std::string>& tags) {
  if (tags.empty()) return txn.Delete(kTagTable, account, arn);
  return txn.Put(kTagTable, account, arn, json::serialize(ToObject(tags)));
}

absl::Status DeletePrefix(storage::WriteTxn& txn, std::string_view table, std::string_view account,
                          std::string_view prefix) {
  std::vector<std::string> ids;
  KLAXON_RETURN_IF_ERROR(
      txn.Scan(table, account, prefix, "", 0, [&](std::string_view id, std::string_view) {
        ids.emplace_back(id);
        return true;
      }));
  for (const auto& id : ids) KLAXON_RETURN_IF_ERROR(txn.Delete(table, account, id));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<TimelineEvent>> AppendTimelineEvent(
    storage::WriteTxn& txn, std::string_view account, std::string_view incident_key,
    IncidentRecord& record, const Limits& limits, bool enforce, std::string_view event_type,
    absl::Time event_time, std::string event_data, std::vector<EventReference> references,
    absl::Time now) {
  if (record.timeline_event_count >= limits.max_timeline_events) {
    if (!enforce) return std::optional<TimelineEvent>();
    return QuotaExceeded("timeline-events-per-incident",
                         Cat("Quota exceeded: an incident can have at most ",
                             limits.max_timeline_events, " timeline events"),
                         ResourceType::kIncidentRecord, record.arn);
  }
  TimelineEvent event;
  event.incident_record_arn = record.arn;
  event.event_id = storage::NewOrderedUuid();
  event.event_time = event_time;
  event.event_type = std::string(event_type);
  event.event_data = std::move(event_data);
  event.event_references = std::move(references);
  event.event_updated_time = now;
  event.seq = record.next_event_seq++;
  ++record.timeline_event_count;
  KLAXON_RETURN_IF_ERROR(
      txn.Put(kTimelineTable, account, TimelineKey(incident_key, event.event_id), Encode(event)));
  return std::optional<TimelineEvent>(std::move(event));
}

absl::StatusOr<RelatedItem> AppendRelatedItem(storage::WriteTxn& txn, std::string_view account,
                                              std::string_view incident_key, IncidentRecord& record,
                                              RelatedItem item) {
  item.generated_id = NewGeneratedId(item.identifier.type);
  const int64_t seq = record.next_related_seq++;
  ++record.related_item_count;
  KLAXON_RETURN_IF_ERROR(
      txn.Put(kRelatedItemTable, account, RelatedItemKey(incident_key, seq), Encode(item)));
  return item;
}

// ---- idempotency ----

std::string Fingerprint(const json::value& parameters) {
  std::string text = json::serialize(parameters);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  return Hex(digest, len);
}

// ---- pagination ----

std::string EncodePageToken(std::string_view list, std::string_view position) {
  std::string raw = Cat("v1|", list, "|", position);
  return absl::WebSafeBase64Escape(absl::string_view(raw.data(), raw.size()));
}

absl::StatusOr<std::string> DecodePageToken(std::string_view list, std::string_view token) {
  if (token.empty()) return std::string();
  std::string raw;
  if (!absl::WebSafeBase64Unescape(absl::string_view(token.data(), token.size()), &raw)) {
    return InvalidArgument("Invalid nextToken");
  }
  std::string prefix = Cat("v1|", list, "|");
  if (raw.compare(0, prefix.size(), prefix) != 0 || raw.size() == prefix.size()) {
    return InvalidArgument("Invalid nextToken");
  }
  return raw.substr(prefix.size());
}

int PageSize(std::optional<int> max_results, const Limits& limits) {
  int n = max_results.value_or(limits.default_page_size);
  if (n < 1) n = 1;
  if (n > 100) n = 100;
  return n;
}

std::string NewGeneratedId(std::string_view item_type) {
  return Cat("related-item/", item_type, "/", RandomUpperHex(32));
}

}  // namespace klaxon::incidents::internal
