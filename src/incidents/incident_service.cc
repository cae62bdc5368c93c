#include "incidents/incident_service.h"

#include <algorithm>
#include <set>

#include "boost/json/object.hpp"
#include "boost/json/serialize.hpp"
#include "common/ids.h"
#include "common/non_blocking.h"
#include "common/status.h"
#include "incidents/arn.h"
#include "incidents/errors.h"
#include "incidents/records.h"
#include "incidents/strings.h"
#include "storage/ordered_ids.h"

namespace klaxon::incidents {
namespace json = boost::json;

namespace {

constexpr int kModelMaxFilters = 5;
constexpr size_t kOpsItemDescriptionMax = 2048;
constexpr std::string_view kOpsItemSource = "SSM Incident Manager";
constexpr std::string_view kRunbookStartFailure =
    "SSM Automation Execution Start Failure for Incident";

absl::Status CheckRelatedItem(const RelatedItem& item) {
  if (!IsValidItemType(item.identifier.type)) {
    return InvalidArgument(
        internal::Cat("Invalid related item type: \"", item.identifier.type, "\""));
  }
  if (item.identifier.value.members_set() != 1) {
    return InvalidArgument(
        "A related item value must set exactly one of arn, url, metricDefinition, "
        "pagerDutyIncidentDetail");
  }
  return absl::OkStatus();
}

absl::Status CheckImpact(int impact) {
  if (impact < 1 || impact > 5) {
    return InvalidArgument(internal::Cat("impact must be between 1 and 5, got ", impact));
  }
  return absl::OkStatus();
}

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
std::string TruncateUtf8(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s;
}

json::object TriggerDetailsJson(const std::optional<TriggerDetails>& t) {
  json::object o;
  if (!t) return o;
  o["source"] = t->source;
  if (t->trigger_arn) o["triggerArn"] = *t->trigger_arn;
  o["timestamp"] = internal::TimeToJson(t->timestamp);
  if (t->raw_data) o["rawData"] = *t->raw_data;
  return o;
}

std::string TriggerEventData(bool created, const StartIncidentRequest& request) {
  json::object o;
  o["createdIncident"] = created;
  o["incidentSource"] =
      request.trigger_details ? request.trigger_details->source : request.source.source;
  if (request.trigger_details && request.trigger_details->trigger_arn) {
    o["triggerArn"] = *request.trigger_details->trigger_arn;
  }
  if (request.trigger_details && request.trigger_details->raw_data) {
    o["rawData"] = *request.trigger_details->raw_data;
  }
  return json::serialize(o);
}

std::vector<EventReference> TriggerReferences(const StartIncidentRequest& request) {
  std::vector<EventReference> refs;
  if (request.trigger_details && request.trigger_details->trigger_arn) {
    refs.push_back(EventReference{*request.trigger_details->trigger_arn, std::nullopt});
  }
  return refs;
}

// Request items without duplicates (same type and value; the first title wins).
std::vector<RelatedItem> UniqueItems(const std::vector<RelatedItem>& items,
                                     std::set<std::string>& seen) {
  std::vector<RelatedItem> out;
  for (const auto& item : items) {
    if (seen.insert(IdentityKey(item.identifier)).second) out.push_back(item);
  }
  return out;
}

absl::Status ValidateIncidentFilter(const Filter& f) {
  const int conditions = static_cast<int>(f.before.has_value()) +
                         static_cast<int>(f.after.has_value()) +
                         static_cast<int>(f.string_values.has_value()) +
                         static_cast<int>(f.integer_values.has_value());
  if (conditions != 1) {
    return InvalidArgument(internal::Cat("Filter ", f.key,
                                         ": the condition must set exactly one of before, after, "
                                         "equals (with exactly one of stringValues, "
                                         "integerValues)"));
  }
  if (f.key == "creationTime") {
    if (!f.before && !f.after) {
      return InvalidArgument("Filter creationTime supports only the before and after conditions");
    }
    return absl::OkStatus();
  }
  if (f.key == "impact") {
    if (!f.integer_values) {
      return InvalidArgument("Filter impact supports only equals with integerValues");
    }
    if (f.integer_values->empty()) return InvalidArgument("Filter impact: no values given");
    return absl::OkStatus();
  }
  if (f.key == "status" || f.key == "createdBy") {
    if (!f.string_values) {
      return InvalidArgument(
          internal::Cat("Filter ", f.key, " supports only equals with stringValues"));
    }
    if (f.string_values->empty()) {
      return InvalidArgument(internal::Cat("Filter ", f.key, ": no values given"));
    }
    if (f.key == "status") {
      for (const auto& v : *f.string_values) {
        if (!ParseIncidentStatus(v)) {
          return InvalidArgument(
              internal::Cat("Filter status: invalid value \"", v, "\" (OPEN or RESOLVED)"));
        }
      }
    }
    return absl::OkStatus();
  }
  return InvalidArgument(internal::Cat("Unknown filter key \"", f.key,
                                       "\" (valid keys: creationTime, impact, status, createdBy)"));
}

bool MatchesIncident(const IncidentRecord& r, const Filter& f) {
  if (f.key == "creationTime") {
    if (f.before) return r.creation_time < *f.before;
    return r.creation_time > *f.after;
  }
  if (f.key == "impact") {
    return std::find(f.integer_values->begin(), f.integer_values->end(), r.impact) !=
           f.integer_values->end();
  }
  const std::string& actual = f.key == "status" ? std::string(IncidentStatusName(r.status))
                                                : r.incident_record_source.created_by;
  return std::find(f.string_values->begin(), f.string_values->end(), actual) !=
         f.string_values->end();
}

// What a StartIncident clientToken record keeps, and the replayed result read back from it.
json::value StartTokenResult(const StartIncidentResult& result) {
  return json::object{{"arn", result.incident_record_arn},
                      {"created", result.created},
                      {"parent", result.parent_ops_item_id}};
}

StartIncidentResult StartResultFromToken(const json::value& stored) {
  StartIncidentResult result;
  result.replayed = true;
  const json::object* o = stored.if_object();
  if (o == nullptr) return result;
  if (const json::value* v = o->if_contains("arn"); v && v->is_string()) {
    result.incident_record_arn = std::string(v->get_string());
  }
  if (const json::value* v = o->if_contains("parent"); v && v->is_string()) {
    result.parent_ops_item_id = std::string(v->get_string());
  }
  if (const json::value* v = o->if_contains("created"); v && v->is_bool()) {
    result.created = v->get_bool();
  }
  return result;
}

std::string ValueText(const json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : json::serialize(v);
}

}  // namespace

IncidentService::IncidentService(storage::Store& store, Clock& clock,
                                 opsitems::OpsItemService& ops_items, const Limits& limits,
                                 ClientTokens& tokens, RunbookStarter* runbooks)
    : store_(store),
      clock_(clock),
      ops_items_(ops_items),
      limits_(limits),
      tokens_(tokens),
      runbooks_(runbooks) {}

absl::StatusOr<std::optional<StartIncidentResult>> IncidentService::PrepareStart(StartCall& call) {
  const Scope& scope = *call.scope;
  const StartIncidentRequest& request = *call.request;
  if (request.impact) KLAXON_RETURN_IF_ERROR(CheckImpact(*request.impact));
  if (request.trigger_details && request.trigger_details->source.empty()) {
    return InvalidArgument("triggerDetails.source is required");
  }
  for (const auto& item : request.related_items) KLAXON_RETURN_IF_ERROR(CheckRelatedItem(item));

  // A storm answer kept in memory (see absorbed_), if its rows are unchanged; a mark or a stale
  // answer sends the start to the read-only path first.
  const bool has_token = call.has_token();
  call.absorbed_key =
      internal::Cat(scope.account_id, "\x1f", scope.region, "\x1f",
                    CanonicalResponsePlanArn(request.response_plan_arn), "\x1f",
                    request.dedupe_key ? std::string_view(*request.dedupe_key) : "");
  if (const storage::ChangeStamps* stamps = store_.change_stamps(); stamps != nullptr) {
    MutexLock lock(&absorbed_mu_);
    if (auto it = absorbed_.find(call.absorbed_key); it != absorbed_.end()) {
      const Absorbed& a = it->second;
      if (a.stamps && a.stamps->Current(*stamps) &&
          (request.related_items.empty() || a.related_item_count >= limits_.max_related_items)) {
        if (!has_token) {
          return StartIncidentResult{a.arn, /*created=*/false, /*replayed=*/false,
                                     a.parent_ops_item_id};
        }
        call.absorbed = a;  // the token record is still to be written
      } else {
        call.may_absorb_read_only = true;
      }
    }
  }
  if (!has_token) return std::nullopt;  // without a clientToken, no fingerprint is needed
  // Parameters that make two calls "the same" for clientToken replay.
  json::object params;
  params["responsePlanArn"] = CanonicalResponsePlanArn(request.response_plan_arn);
  if (request.title) params["title"] = *request.title;
  if (request.impact) params["impact"] = *request.impact;
  if (request.trigger_details)
    params["triggerDetails"] = TriggerDetailsJson(request.trigger_details);
  json::array items;
  for (const auto& item : request.related_items) {
    RelatedItem copy = item;
    copy.generated_id.clear();
    items.emplace_back(internal::RelatedItemToJson(copy));
  }
  params["relatedItems"] = std::move(items);
  if (request.dedupe_key) params["dedupeKey"] = *request.dedupe_key;
  params["source"] = request.source.source;
  params["createdBy"] = request.source.created_by;
  if (request.source.resource_arn) params["resourceArn"] = *request.source.resource_arn;
  if (request.clip_related_items) params["clip"] = true;
  call.fingerprint = internal::Fingerprint(params);
  return std::nullopt;
}

absl::StatusOr<StartIncidentResult> IncidentService::Start(const Scope& scope,
                                                           const StartIncidentRequest& request) {
  StartCall call{&scope, &request};
  KLAXON_ASSIGN_OR_RETURN(std::optional<StartIncidentResult> known, PrepareStart(call));
  if (known) return *std::move(known);
  if (IsNonBlocking()) return WouldBlockError();
  const storage::ChangeStamps* stamps = store_.change_stamps();

  // A deduplicated start that would change nothing (the open incident's timeline full, no related
  // item to add: an alarm or rule storm into one incident) is answered from a read snapshot,
  // without a write transaction. The snapshot includes every write acknowledged before this call,
  // so the answer is what the write path would have given at that point; it is then kept in
  // memory (PrepareStart answers the next ones). With a clientToken, the write path below still
  // records the token, checking the snapshot's stamps instead of reading again. Anything else,
  // errors included, takes the whole write path.
  if (call.may_absorb_read_only) {
    std::optional<StartIncidentResult> absorbed;
    int64_t related_item_count = 0;
    std::optional<storage::ReadStamps> sealed;
    const uint64_t seq_before = stamps != nullptr ? stamps->seq() : 0;
    absl::Status read = store_.Read([&](storage::ReadTxn& raw) -> absl::Status {
      storage::StampedRead txn(raw);
      KLAXON_RETURN_IF_ERROR(internal::RequireActiveReplicationSetShared(txn, scope).status());
      KLAXON_ASSIGN_OR_RETURN(
          std::shared_ptr<const ResponsePlan> plan,
          internal::RequireResponsePlanShared(txn, scope, request.response_plan_arn));
      const std::optional<std::string>& plan_key = plan->incident_template.dedupe_string;
      const std::string_view key = plan_key && !plan_key->empty() ? std::string_view(*plan_key)
                                   : request.dedupe_key ? std::string_view(*request.dedupe_key)
                                                        : std::string_view();
      if (key.empty()) return absl::OkStatus();  // a generated key never deduplicates
      KLAXON_ASSIGN_OR_RETURN(auto holder, txn.Get(internal::kDedupTable, scope.account_id, key));
      if (!holder) return absl::OkStatus();
      KLAXON_ASSIGN_OR_RETURN(auto existing,
                              internal::LoadIncident(txn, scope.account_id, *holder));
      if (!existing || existing->status != IncidentStatus::kOpen ||
          existing->timeline_event_count < limits_.max_timeline_events ||
          (!request.related_items.empty() &&
           existing->related_item_count < limits_.max_related_items)) {
        return absl::OkStatus();
      }
      absorbed = StartIncidentResult{existing->arn, /*created=*/false, /*replayed=*/false,
                                     existing->parent_ops_item_id};
      related_item_count = existing->related_item_count;
      if (stamps != nullptr) sealed = txn.Seal(*stamps, seq_before);
      return absl::OkStatus();
    });
    MutexLock lock(&absorbed_mu_);
    if (read.ok() && absorbed) {
      // Unsealed (a commit raced the read): kept as a mark, so the next start reads again.
      Absorbed& kept = AbsorbedEntry(call.absorbed_key);
      kept = Absorbed{absorbed->incident_record_arn, absorbed->parent_ops_item_id,
                      related_item_count, std::move(sealed)};
      if (!call.has_token()) return *std::move(absorbed);
      if (kept.stamps) call.absorbed = kept;
    } else {
      absorbed_.erase(call.absorbed_key);  // no longer full (resolved, or a limit raised)
    }
  }

  KLAXON_RETURN_IF_ERROR(
      store_.Write([&](storage::WriteTxn& txn) { return StartInTxn(txn, call); }));
  return call.result;
}

IncidentService::Absorbed& IncidentService::AbsorbedEntry(const std::string& key) {
  if (absorbed_.size() >= kMaxAbsorbed && !absorbed_.contains(key)) absorbed_.clear();
  return absorbed_[key];
}

absl::Status IncidentService::StartAsync(
    const Scope& scope, StartIncidentRequest request,
    std::function<void(absl::StatusOr<StartIncidentResult>)> done) {
  StartCall call{&scope, &request};
  KLAXON_ASSIGN_OR_RETURN(std::optional<StartIncidentResult> known, PrepareStart(call));
  if (known) {
    done(*std::move(known));
    return absl::OkStatus();
  }
  // The read-only path (and with it the storm answer it leaves in memory) reads, so waits: the
  // caller runs Start() instead.
  if (!store_.supports_async_writes() || call.may_absorb_read_only) return WouldBlockError();
  // The transaction runs on the store's writer thread after this returns: the call's state moves
  // to the heap.
  struct Owned {
    Scope scope;
    StartIncidentRequest request;
    StartCall call;
  };
  auto owned = std::make_shared<Owned>(Owned{scope, std::move(request), std::move(call)});
  owned->call.scope = &owned->scope;
  owned->call.request = &owned->request;
  store_.WriteAsync([this, owned](storage::WriteTxn& txn) { return StartInTxn(txn, owned->call); },
                    [owned, done = std::move(done)](absl::Status status) {
                      if (!status.ok()) {
                        done(std::move(status));
                      } else {
                        done(owned->call.result);
                      }
                    });
  return absl::OkStatus();
}

absl::Status IncidentService::StartInTxn(storage::WriteTxn& txn, StartCall& call) {
  const Scope& scope = *call.scope;
  const StartIncidentRequest& request = *call.request;
  const std::string& fingerprint = call.fingerprint;
  StartIncidentResult& result = call.result;
  result = StartIncidentResult{};
  const std::string& account = scope.account_id;
  KLAXON_ASSIGN_OR_RETURN(
      auto replay, tokens_.Replay(txn, account, "StartIncident", request.client_token, fingerprint,
                                  clock_.Now()));
  if (replay) {
    result = StartResultFromToken(*replay);
    return absl::OkStatus();
  }
  // A storm answer from memory whose rows nothing has written since, not even a transaction
  // committed together with this one: only the token record is left to write.
  if (call.absorbed && call.absorbed->stamps && txn.Unchanged(*call.absorbed->stamps)) {
    result.incident_record_arn = call.absorbed->arn;
    result.parent_ops_item_id = call.absorbed->parent_ops_item_id;
    result.created = false;
    return tokens_.Save(txn, account, "StartIncident", request.client_token, fingerprint,
                        StartTokenResult(result), clock_.Now());
  }
  KLAXON_RETURN_IF_ERROR(internal::RequireActiveReplicationSetShared(txn, scope).status());
  KLAXON_ASSIGN_OR_RETURN(
      std::shared_ptr<const ResponsePlan> plan_ptr,
      internal::RequireResponsePlanShared(txn, scope, request.response_plan_arn));
  const ResponsePlan& plan = *plan_ptr;
  const absl::Time now = clock_.Now();
  const IncidentTemplate& tmpl = plan.incident_template;

  std::string dedupe_key;
  if (tmpl.dedupe_string && !tmpl.dedupe_string->empty()) {
    dedupe_key = *tmpl.dedupe_string;
  } else if (request.dedupe_key && !request.dedupe_key->empty()) {
    dedupe_key = *request.dedupe_key;
  } else {
    dedupe_key = storage::NewOrderedUuid();
  }

  // An OPEN incident holding the key absorbs this trigger.
  KLAXON_ASSIGN_OR_RETURN(auto holder, txn.Get(internal::kDedupTable, account, dedupe_key));
  if (holder) {
    KLAXON_ASSIGN_OR_RETURN(auto existing, internal::LoadIncident(txn, account, *holder));
    if (existing && existing->status == IncidentStatus::kOpen) {
      IncidentRecord& record = *existing;
      KLAXON_ASSIGN_OR_RETURN(
          auto appended,
          internal::AppendTimelineEvent(
              txn, account, *holder, record, limits_, /*enforce=*/false, kEventIncidentTrigger,
              request.trigger_details ? request.trigger_details->timestamp : now,
              TriggerEventData(false, request), TriggerReferences(request), now));
      bool changed = appended.has_value();
      // The duplicate's related items join the open incident (up to the limit, silently).
      if (!request.related_items.empty()) {
        KLAXON_ASSIGN_OR_RETURN(auto current, internal::LoadRelatedItems(txn, account, *holder));
        std::set<std::string> seen;
        for (const auto& [id, item] : current) seen.insert(IdentityKey(item.identifier));
        for (const auto& item : UniqueItems(request.related_items, seen)) {
          if (record.related_item_count >= limits_.max_related_items) break;
          KLAXON_RETURN_IF_ERROR(
              internal::AppendRelatedItem(txn, account, *holder, record, item).status());
          changed = true;
        }
      }
      // Only the counters change; a trigger that added nothing (full timeline) rewrites nothing.
      if (changed) KLAXON_RETURN_IF_ERROR(internal::SaveIncident(txn, account, *holder, record));
      if (!appended) {
        // Later identical starts can be answered from a read snapshot: leave a mark.
        MutexLock lock(&absorbed_mu_);
        AbsorbedEntry(call.absorbed_key);  // a new entry is a mark; an answer stays
      }
      result.incident_record_arn = record.arn;
      result.parent_ops_item_id = record.parent_ops_item_id;
      result.created = false;
      return tokens_.Save(txn, account, "StartIncident", request.client_token, fingerprint,
                          StartTokenResult(result), now);
    }
    // A stale row (holder resolved or deleted): the key is free.
  }

  // A new incident.
  std::set<std::string> seen;
  std::vector<RelatedItem> related = UniqueItems(request.related_items, seen);
  if (request.clip_related_items) {
    const size_t room = limits_.max_related_items > 0 ? limits_.max_related_items - 1 : 0;
    if (related.size() > room) related.resize(room);
  }
  KLAXON_RETURN_IF_ERROR(CheckCount(static_cast<int64_t>(related.size()) + 1,
                                    limits_.max_related_items, -1,
                                    "related items per incident (including the parent OpsItem)",
                                    "related-items-per-incident", ResourceType::kIncidentRecord));

  const std::string id = storage::NewOrderedUuid();
  const std::string key = internal::Cat(plan.name, "/", id);
  IncidentRecord record;
  record.arn = IncidentRecordArn(account, plan.name, id);
  record.title = request.title ? *request.title : tmpl.title;
  record.summary = tmpl.summary;
  record.status = IncidentStatus::kOpen;
  record.impact = request.impact ? *request.impact : tmpl.impact;
  record.creation_time = now;
  record.last_modified_by = request.source.created_by;
  record.last_modified_time = now;
  record.dedupe_string = dedupe_key;
  record.incident_record_source =
      IncidentRecordSource{request.source.created_by, request.source.invoked_by,
                           request.source.resource_arn, request.source.source};
  record.chat_channel = plan.chat_channel;
  record.notification_targets = tmpl.notification_targets;
  record.response_plan_arn = plan.arn;
  record.holds_dedupe_key = true;

  // Timeline: the trigger, then the start.
  KLAXON_RETURN_IF_ERROR(internal::AppendTimelineEvent(
                             txn, account, key, record, limits_, /*enforce=*/false,
                             kEventIncidentTrigger,
                             request.trigger_details ? request.trigger_details->timestamp : now,
                             TriggerEventData(true, request), TriggerReferences(request), now)
                             .status());

  // Related items from the request, then the parent OpsItem.
  for (const auto& item : related) {
    KLAXON_RETURN_IF_ERROR(internal::AppendRelatedItem(txn, account, key, record, item).status());
  }
  opsitems::Scope ops_scope{account, scope.region, request.source.created_by};
  opsitems::NewOpsItem parent;
  parent.title = record.title.empty() ? std::string("Incident") : record.title;
  parent.description = TruncateUtf8(
      record.summary && !record.summary->empty()
          ? *record.summary
          : internal::Cat(parent.title, " (Incident Manager incident ", record.arn, ")"),
      kOpsItemDescriptionMax);
  parent.source = std::string(kOpsItemSource);
  parent.ops_item_type = "/aws/issue";
  parent.priority = record.impact;
  parent.severity = internal::Cat(std::min(record.impact, 4));  // OpsCenter severities are 1..4
  parent.operational_data["/aws/resources"] = opsitems::OpsItemDataValue{
      json::serialize(json::array{json::object{{"arn", record.arn}}}), "SearchableString"};
  KLAXON_ASSIGN_OR_RETURN(auto created, ops_items_.CreateAndAssociateInTxn(
                                            txn, ops_scope, parent, "IsParentOf",
                                            "AWS::SSMIncidents::IncidentRecord", record.arn));
  const opsitems::OpsItem& ops_item = created.first;
  record.parent_ops_item_id = ops_item.ops_item_id;
  RelatedItem parent_item;
  parent_item.identifier.type = "PARENT";
  parent_item.identifier.value.arn = ops_item.ops_item_arn;
  parent_item.title = "parentItem";
  KLAXON_RETURN_IF_ERROR(
      internal::AppendRelatedItem(txn, account, key, record, parent_item).status());

  // The runbook, if the plan has one and a starter is configured.
  json::object start_data;
  start_data["incidentTitle"] = record.title;
  start_data["responsePlanArn"] = plan.arn;
  if (request.trigger_details && request.trigger_details->trigger_arn) {
    start_data["triggerArn"] = *request.trigger_details->trigger_arn;
  }
  if (runbooks_ != nullptr && request.run_runbook && !plan.actions.empty()) {
    RunbookRequest runbook;
    runbook.scope = scope;
    runbook.incident_record_arn = record.arn;
    runbook.response_plan_arn = plan.arn;
    runbook.automation = plan.actions.front().ssm_automation;
    for (const auto& item : related) {
      if (item.identifier.type == "INVOLVED_RESOURCE" && item.identifier.value.arn) {
        runbook.involved_resources.push_back(*item.identifier.value.arn);
      }
    }
    auto started = runbooks_->StartInTxn(txn, runbook);
    if (!started.ok()) {
      if (started.status().code() == absl::StatusCode::kInternal ||
          started.status().code() == absl::StatusCode::kUnavailable) {
        return started.status();
      }
      json::object failure{{"ssmDocumentName", runbook.automation.document_name},
                           {"failureReason", std::string(started.status().message())}};
      KLAXON_RETURN_IF_ERROR(internal::AppendTimelineEvent(txn, account, key, record, limits_,
                                                           /*enforce=*/false, kRunbookStartFailure,
                                                           now, json::serialize(failure), {}, now)
                                 .status());
    } else if (*started) {
      record.automation_executions.push_back(**started);
      start_data["ssmDocumentName"] = runbook.automation.document_name;
      if (runbook.automation.document_version) {
        start_data["ssmDocumentVersion"] = *runbook.automation.document_version;
      }
    }
  }
  KLAXON_RETURN_IF_ERROR(internal::AppendTimelineEvent(txn, account, key, record, limits_,
                                                       /*enforce=*/false, kEventIncidentStart, now,
                                                       json::serialize(start_data), {}, now)
                             .status());

  KLAXON_RETURN_IF_ERROR(internal::SaveTags(txn, account, record.arn, tmpl.incident_tags));
  KLAXON_RETURN_IF_ERROR(internal::SaveIncident(txn, account, key, record));
  KLAXON_RETURN_IF_ERROR(txn.Put(internal::kIncidentIndexTable, account,
                                 internal::IncidentIndexKey(record.creation_time, key), key));
  KLAXON_RETURN_IF_ERROR(txn.Put(internal::kDedupTable, account, dedupe_key, key));
  result.incident_record_arn = record.arn;
  result.parent_ops_item_id = record.parent_ops_item_id;
  result.created = true;
  return tokens_.Save(txn, account, "StartIncident", request.client_token, fingerprint,
                      StartTokenResult(result), now);
}

absl::StatusOr<IncidentRecord> IncidentService::Get(const Scope& scope, std::string_view arn) {
  IncidentRecord record;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(auto found, internal::RequireIncident(txn, scope, arn));
    record = std::move(found.second);
    return absl::OkStatus();
  }));
  return record;
}

absl::StatusOr<Page<IncidentRecord>> IncidentService::List(const Scope& scope,
                                                           const std::vector<Filter>& filters,
                                                           std::optional<int> max_results,
                                                           std::string_view next_token) {
  if (static_cast<int>(filters.size()) > kModelMaxFilters) {
    return InvalidArgument("Too many filters: at most 5 allowed");
  }
  for (const auto& f : filters) KLAXON_RETURN_IF_ERROR(ValidateIncidentFilter(f));
  KLAXON_ASSIGN_OR_RETURN(std::string after, internal::DecodePageToken("incidents", next_token));
  const int n = internal::PageSize(max_results, limits_);

  // The index is newest first: a creationTime "before" bound lets the scan skip newer incidents,
  // an "after" bound ends it.
  std::optional<absl::Time> newest_allowed;
  std::optional<absl::Time> oldest_allowed;
  for (const auto& f : filters) {
    if (f.key != "creationTime") continue;
    if (f.before && (!newest_allowed || *f.before < *newest_allowed)) newest_allowed = f.before;
    if (f.after && (!oldest_allowed || *f.after > *oldest_allowed)) oldest_allowed = f.after;
  }
  if (newest_allowed) {
    std::string bound = internal::IncidentIndexKey(*newest_allowed, "");
    bound.pop_back();  // drop the "/" so that incidents created exactly at the bound are scanned
    if (bound > after) after = bound;
  }

  // Index rows are read in batches and the incidents loaded between scans (no store call is
  // nested inside a Scan callback).
  constexpr size_t kBatch = 256;
  Page<IncidentRecord> page;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    std::string cursor = after;
    std::string last_position;
    while (true) {
      std::vector<std::pair<std::string, std::string>> rows;
      KLAXON_RETURN_IF_ERROR(txn.Scan(internal::kIncidentIndexTable, scope.account_id, "", cursor,
                                      kBatch, [&](std::string_view position, std::string_view key) {
                                        rows.emplace_back(position, key);
                                        return true;
                                      }));
      for (const auto& [position, key] : rows) {
        KLAXON_ASSIGN_OR_RETURN(auto record, internal::LoadIncident(txn, scope.account_id, key));
        if (!record) continue;  // index row of a deleted incident
        if (oldest_allowed && record->creation_time <= *oldest_allowed) return absl::OkStatus();
        bool match = true;
        for (const auto& f : filters) match = match && MatchesIncident(*record, f);
        if (!match) continue;
        if (static_cast<int>(page.items.size()) == n) {
          page.next_token = internal::EncodePageToken("incidents", last_position);
          return absl::OkStatus();
        }
        page.items.push_back(*std::move(record));
        last_position = position;
      }
      if (rows.size() < kBatch) return absl::OkStatus();
      cursor = rows.back().first;
    }
  }));
  return page;
}

absl::Status IncidentService::Update(const Scope& scope,
                                     const UpdateIncidentRecordRequest& request) {
  if (request.impact) KLAXON_RETURN_IF_ERROR(CheckImpact(*request.impact));
  if (request.chat_channel && !request.chat_channel->is_null() &&
      (!request.chat_channel->is_object() || request.chat_channel->get_object().size() != 1)) {
    return InvalidArgument("chatChannel must set exactly one of chatbotSns, empty");
  }
  if (request.notification_targets && !request.notification_targets->is_array()) {
    return InvalidArgument("notificationTargets must be a list");
  }

  json::object params;
  params["arn"] = request.arn;
  if (request.title) params["title"] = *request.title;
  if (request.summary) params["summary"] = *request.summary;
  if (request.impact) params["impact"] = *request.impact;
  if (request.status) params["status"] = IncidentStatusName(*request.status);
  if (request.chat_channel) params["chatChannel"] = *request.chat_channel;
  if (request.notification_targets) params["notificationTargets"] = *request.notification_targets;
  const std::string fingerprint = internal::Fingerprint(params);

  return store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    const std::string& account = scope.account_id;
    KLAXON_ASSIGN_OR_RETURN(
        auto replay, tokens_.Replay(txn, account, "UpdateIncidentRecord", request.client_token,
                                    fingerprint, clock_.Now()));
    if (replay) return absl::OkStatus();
    KLAXON_ASSIGN_OR_RETURN(auto found, internal::RequireIncident(txn, scope, request.arn));
    auto& [key, record] = found;
    const absl::Time now = clock_.Now();

    json::array modified;
    auto note = [&](std::string_view name, std::string value) {
      modified.emplace_back(json::object{{"attributeName", name}, {"newValue", std::move(value)}});
    };
    if (request.title) {
      record.title = *request.title;
      note("title", *request.title);
    }
    if (request.summary) {
      record.summary = *request.summary;
      note("summary", *request.summary);
    }
    if (request.impact) {
      record.impact = *request.impact;
      note("impact", internal::Cat(*request.impact));
    }
    if (request.chat_channel) {
      record.chat_channel = *request.chat_channel;
      note("chatChannel", ValueText(*request.chat_channel));
    }
    if (request.notification_targets) {
      record.notification_targets = *request.notification_targets;
      if (record.notification_targets.get_array().empty()) record.notification_targets = nullptr;
      note("notificationTargets", ValueText(*request.notification_targets));
    }
    if (request.status) {
      note("status", std::string(IncidentStatusName(*request.status)));
      if (*request.status == IncidentStatus::kResolved && record.status == IncidentStatus::kOpen) {
        record.status = IncidentStatus::kResolved;
        record.resolved_time = now;
        if (record.holds_dedupe_key) {
          KLAXON_ASSIGN_OR_RETURN(auto holder,
                                  txn.Get(internal::kDedupTable, account, record.dedupe_string));
          if (holder && *holder == key) {
            KLAXON_RETURN_IF_ERROR(
                txn.Delete(internal::kDedupTable, account, record.dedupe_string));
          }
          record.holds_dedupe_key = false;
        }
      } else if (*request.status == IncidentStatus::kOpen &&
                 record.status == IncidentStatus::kResolved) {
        record.status = IncidentStatus::kOpen;
        record.resolved_time.reset();
        KLAXON_ASSIGN_OR_RETURN(auto holder,
                                txn.Get(internal::kDedupTable, account, record.dedupe_string));
        bool free = !holder;
        if (holder) {
          // A stale row (its incident resolved or deleted) does not hold the key.
          KLAXON_ASSIGN_OR_RETURN(auto other, internal::LoadIncident(txn, account, *holder));
          free = !other || other->status != IncidentStatus::kOpen;
        }
        if (free) {
          KLAXON_RETURN_IF_ERROR(
              txn.Put(internal::kDedupTable, account, record.dedupe_string, key));
          record.holds_dedupe_key = true;
        }
      }
    }
    record.last_modified_by = scope.caller_arn;
    record.last_modified_time = now;
    if (!modified.empty()) {
      json::object data{{"modifiedBy", scope.caller_arn},
                        {"modifiedAttributes", std::move(modified)},
                        {"incidentTitle", record.title}};
      KLAXON_RETURN_IF_ERROR(internal::AppendTimelineEvent(
                                 txn, account, key, record, limits_, /*enforce=*/false,
                                 kEventIncidentRecordUpdate, now, json::serialize(data), {}, now)
                                 .status());
    }
    KLAXON_RETURN_IF_ERROR(internal::SaveIncident(txn, account, key, record));
    return tokens_.Save(txn, account, "UpdateIncidentRecord", request.client_token, fingerprint,
                        json::value(true), now);
  });
}

absl::Status IncidentService::Delete(const Scope& scope, std::string_view arn) {
  KLAXON_ASSIGN_OR_RETURN(std::string key, IncidentKeyFromArn(scope, arn));
  return store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    const std::string& account = scope.account_id;
    KLAXON_ASSIGN_OR_RETURN(auto record, internal::LoadIncident(txn, account, key));
    if (!record) return absl::OkStatus();
    KLAXON_ASSIGN_OR_RETURN(auto holder,
                            txn.Get(internal::kDedupTable, account, record->dedupe_string));
    if (holder && *holder == key) {
      KLAXON_RETURN_IF_ERROR(txn.Delete(internal::kDedupTable, account, record->dedupe_string));
    }
    KLAXON_RETURN_IF_ERROR(txn.Delete(internal::kIncidentTable, account, key));
    KLAXON_RETURN_IF_ERROR(txn.Delete(internal::kIncidentIndexTable, account,
                                      internal::IncidentIndexKey(record->creation_time, key)));
    KLAXON_RETURN_IF_ERROR(
        internal::DeletePrefix(txn, internal::kTimelineTable, account, internal::ChildPrefix(key)));
    KLAXON_RETURN_IF_ERROR(internal::DeletePrefix(txn, internal::kRelatedItemTable, account,
                                                  internal::ChildPrefix(key)));
    return txn.Delete(internal::kTagTable, account, record->arn);
  });
}

absl::StatusOr<Page<RelatedItem>> IncidentService::ListRelatedItems(const Scope& scope,
                                                                    std::string_view arn,
                                                                    std::optional<int> max_results,
                                                                    std::string_view next_token) {
  KLAXON_ASSIGN_OR_RETURN(std::string after,
                          internal::DecodePageToken("related-items", next_token));
  const int n = internal::PageSize(max_results, limits_);
  Page<RelatedItem> page;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(auto found, internal::RequireIncident(txn, scope, arn));
    const std::string prefix = internal::ChildPrefix(found.first);
    if (!after.empty() && after.compare(0, prefix.size(), prefix) != 0) {
      return InvalidArgument("Invalid nextToken: it belongs to another incident");
    }
    absl::Status inner;
    std::string last;
    KLAXON_RETURN_IF_ERROR(
        txn.Scan(internal::kRelatedItemTable, scope.account_id, prefix, after,
                 static_cast<size_t>(n) + 1, [&](std::string_view id, std::string_view value) {
                   if (static_cast<int>(page.items.size()) == n) {
                     page.next_token = internal::EncodePageToken("related-items", last);
                     return false;
                   }
                   auto item = internal::DecodeRelatedItem(value);
                   if (!item.ok()) {
                     inner = item.status();
                     return false;
                   }
                   page.items.push_back(*std::move(item));
                   last = std::string(id);
                   return true;
                 }));
    return inner;
  }));
  return page;
}

absl::Status IncidentService::UpdateRelatedItems(const Scope& scope, std::string_view arn,
                                                 const RelatedItemsUpdate& update,
                                                 const std::optional<std::string>& client_token) {
  if (update.item_to_add.has_value() == update.item_to_remove.has_value()) {
    return InvalidArgument("relatedItemsUpdate must set exactly one of itemToAdd, itemToRemove");
  }
  json::object params;
  params["arn"] = arn;
  if (update.item_to_add) {
    RelatedItem copy = *update.item_to_add;
    copy.generated_id.clear();
    KLAXON_RETURN_IF_ERROR(CheckRelatedItem(copy));
    params["itemToAdd"] = internal::RelatedItemToJson(copy);
  } else {
    KLAXON_RETURN_IF_ERROR(CheckRelatedItem(RelatedItem{*update.item_to_remove, {}, {}}));
    params["itemToRemove"] = internal::ItemIdentifierToJson(*update.item_to_remove);
  }
  const std::string fingerprint = internal::Fingerprint(params);

  return store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    const std::string& account = scope.account_id;
    KLAXON_ASSIGN_OR_RETURN(auto replay, tokens_.Replay(txn, account, "UpdateRelatedItems",
                                                        client_token, fingerprint, clock_.Now()));
    if (replay) return absl::OkStatus();
    KLAXON_ASSIGN_OR_RETURN(auto found, internal::RequireIncident(txn, scope, arn));
    auto& [key, record] = found;
    KLAXON_ASSIGN_OR_RETURN(auto current, internal::LoadRelatedItems(txn, account, key));
    const std::string wanted =
        IdentityKey(update.item_to_add ? update.item_to_add->identifier : *update.item_to_remove);
    auto match = std::find_if(current.begin(), current.end(), [&](const auto& row) {
      return IdentityKey(row.second.identifier) == wanted;
    });
    if (update.item_to_add) {
      if (match != current.end()) {
        return Conflict("The incident already has a related item of this type and value",
                        ResourceType::kIncidentRecord, record.arn);
      }
      KLAXON_RETURN_IF_ERROR(CheckCount(record.related_item_count + 1, limits_.max_related_items,
                                        -1, "related items per incident",
                                        "related-items-per-incident", ResourceType::kIncidentRecord,
                                        record.arn));
      RelatedItem item = *update.item_to_add;
      KLAXON_RETURN_IF_ERROR(internal::AppendRelatedItem(txn, account, key, record, item).status());
    } else {
      if (match == current.end()) {
        return NotFound(std::nullopt, record.arn,
                        "The incident has no related item of this type and value");
      }
      KLAXON_RETURN_IF_ERROR(txn.Delete(internal::kRelatedItemTable, account, match->first));
      --record.related_item_count;
    }
    KLAXON_RETURN_IF_ERROR(internal::SaveIncident(txn, account, key, record));
    return tokens_.Save(txn, account, "UpdateRelatedItems", client_token, fingerprint,
                        json::value(true), clock_.Now());
  });
}

}  // namespace klaxon::incidents
