#pragma once
// Incident records: starting (with deduplication), reading, listing, updating, deleting, and their
// related items.
//
// Start() is THE entry point for every way an incident is created: the StartIncident API, the
// console, EventBridge rule targets and CloudWatch alarm actions all build a StartIncidentRequest
// and call it. Everything one call does happens in ONE store transaction, which is what makes
// deduplication atomic: the store serializes transactions, so N concurrent starts with one dedup
// key create exactly one incident and record N-1 deduplicated triggers on it.
//
// Deduplication key of a start: the plan's incidentTemplate.dedupeString if set, else the
// request's dedupe_key (automatic paths pass the alarm or rule ARN), else a fresh UUID (so a
// manual incident of a plan without dedupeString never deduplicates). Only OPEN incidents hold
// their key (table im_incident_dedup); resolving releases it, reopening re-acquires it if free.
//
// Every new incident gets: SSM Incident Trigger (createdIncident:true) and SSM Incident Start
// timeline events, the request's related items, the plan's incidentTags as tags, a parent OpsItem
// in OpsCenter (linked both ways: a PARENT related item here, an IsParentOf association there),
// and, when a RunbookStarter is configured, its runbook request.
//
// Storms: once an open incident's timeline is full, a duplicate start (no related item it could
// still add) changes nothing but its clientToken record, if it has a token. Such starts are
// answered from a read snapshot, and the answer is then kept in memory with the store's change
// stamps of every row that read; the next identical start is answered from memory while none of
// those rows has been written since — without a token, no store call, so also inside a
// NonBlockingScope (the HTTP server's I/O thread); with one, a write of the token record alone,
// whose transaction checks the stamps (WriteTxn::Unchanged) instead of reading the rows again.
// Anything else inside a NonBlockingScope returns WouldBlockError() before touching the store.
//
// Thread-safety: all methods are thread-safe (state lives in the Store; the in-memory hints and
// answers are revalidated against it). Copy/move: neither.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "boost/json/value.hpp"
#include "common/clock.h"
#include "common/mutex.h"
#include "incidents/client_tokens.h"
#include "incidents/runbook_starter.h"
#include "incidents/types.h"
#include "opsitems/ops_item_service.h"
#include "storage/change_stamps.h"
#include "storage/store.h"

namespace klaxon::incidents {

inline constexpr std::string_view kManualIncidentSource = "aws.ssm-incidents.custom";

// What detected the incident (the model's TriggerDetails).
struct TriggerDetails {
  std::string source;  // e.g. "aws.cloudwatch", "aws.events", or a customer source
  std::optional<std::string> trigger_arn;
  absl::Time timestamp;
  std::optional<std::string> raw_data;
};

// Who created the incident (becomes incidentRecordSource).
struct IncidentSourceInfo {
  std::string created_by;  // principal ARN
  std::optional<std::string> invoked_by;
  std::string source = std::string(kManualIncidentSource);
  std::optional<std::string> resource_arn;
};

struct StartIncidentRequest {
  std::string response_plan_arn;     // response-plan/NAME or responseplan/NAME
  std::optional<std::string> title;  // overrides the template's title
  std::optional<int> impact;         // overrides the template's impact
  std::optional<std::string> client_token;
  std::optional<TriggerDetails> trigger_details;
  std::vector<RelatedItem> related_items;  // generated_id is ignored and assigned by the service
  std::optional<std::string> dedupe_key;   // used when the plan has no dedupeString
  IncidentSourceInfo source;
  bool run_runbook = true;  // false for cross-Region failover incidents
  // Automatic paths set this: related items beyond Limits::max_related_items (the parent OpsItem
  // counts as one) are dropped instead of failing the start with ServiceQuotaExceededException.
  bool clip_related_items = false;
};

struct StartIncidentResult {
  std::string incident_record_arn;
  bool created = false;   // false: deduplicated into an open incident
  bool replayed = false;  // true: answered from a previous call with the same clientToken
  std::string parent_ops_item_id;
};

// Absent members are left unchanged.
struct UpdateIncidentRecordRequest {
  std::string arn;
  std::optional<std::string> title;
  std::optional<std::string> summary;
  std::optional<int> impact;
  std::optional<IncidentStatus> status;
  std::optional<boost::json::value> chat_channel;
  std::optional<boost::json::value> notification_targets;  // [] clears
  std::optional<std::string> client_token;
};

// The model's RelatedItemsUpdate union: exactly one member set.
struct RelatedItemsUpdate {
  std::optional<RelatedItem> item_to_add;
  std::optional<ItemIdentifier> item_to_remove;
};

class IncidentService {
 public:
  // `runbooks` may be null (no runbook is started).
  IncidentService(storage::Store& store, Clock& clock, opsitems::OpsItemService& ops_items,
                  const Limits& limits, ClientTokens& tokens, RunbookStarter* runbooks = nullptr);
  IncidentService(const IncidentService&) = delete;
  IncidentService& operator=(const IncidentService&) = delete;

  // Starts (or deduplicates) an incident. Errors: ValidationException (no ACTIVE replication set
  // in scope.region, invalid members), AccessDeniedException (plan of another account),
  // ResourceNotFoundException{RESPONSE_PLAN}, ServiceQuotaExceededException (more related items
  // than Limits::max_related_items), ConflictException (clientToken reused with other
  // parameters).
  absl::StatusOr<StartIncidentResult> Start(const Scope& scope,
                                            const StartIncidentRequest& request);

  // Start() without waiting, for a caller inside a NonBlockingScope (the HTTP server's I/O
  // thread). Returns an error without calling `done`: a validation error as Start() would, or
  // WouldBlockError() when the start needs a read first (the read-only path of a storm) or the
  // store cannot write asynchronously — run Start() instead. Otherwise returns OK and calls `done`
  // exactly once with what Start() would have returned: at once for an answer known in memory,
  // else after the transaction's durable commit, on the store's writer thread (so `done` must be
  // quick and must not call into the store).
  absl::Status StartAsync(const Scope& scope, StartIncidentRequest request,
                          std::function<void(absl::StatusOr<StartIncidentResult>)> done);

  // Errors: ValidationException (not an incident ARN), AccessDeniedException,
  // ResourceNotFoundException{INCIDENT_RECORD}.
  absl::StatusOr<IncidentRecord> Get(const Scope& scope, std::string_view arn);

  // Incidents newest first (creationTime descending), filtered: AND across filters, OR across
  // the values of one filter. Keys: creationTime (before/after, exclusive), impact
  // (equals integerValues), status and createdBy (equals stringValues).
  // Errors: ValidationException (unknown key, wrong condition for the key, empty value list, more
  // than 5 filters, bad nextToken).
  absl::StatusOr<Page<IncidentRecord>> List(const Scope& scope, const std::vector<Filter>& filters,
                                            std::optional<int> max_results,
                                            std::string_view next_token);

  // Updates the given attributes and records an SSM Incident Record Update timeline event.
  // RESOLVED sets resolvedTime and releases the dedup key; OPEN (reopen) clears resolvedTime and
  // re-acquires the key if no other open incident holds it. Errors: as Get, plus
  // ValidationException (impact out of range) and ConflictException (clientToken reuse).
  absl::Status Update(const Scope& scope, const UpdateIncidentRecordRequest& request);

  // Deletes the incident with its timeline, related items and tags (its parent OpsItem stays).
  // Idempotent: an absent incident is not an error. Errors: ValidationException,
  // AccessDeniedException.
  absl::Status Delete(const Scope& scope, std::string_view arn);

  // Related items in the order they were added. Errors: as Get.
  absl::StatusOr<Page<RelatedItem>> ListRelatedItems(const Scope& scope, std::string_view arn,
                                                     std::optional<int> max_results,
                                                     std::string_view next_token);

  // Adds or removes one related item. Errors: as Get, plus ValidationException (invalid item),
  // ConflictException (adding an item whose type and value are already present; clientToken
  // reuse), ResourceNotFoundException (removing an item that isn't there),
  // ServiceQuotaExceededException (more than Limits::max_related_items).
  absl::Status UpdateRelatedItems(const Scope& scope, std::string_view arn,
                                  const RelatedItemsUpdate& update,
                                  const std::optional<std::string>& client_token);

 private:
  // Identical starts whose open incident was last seen with a full timeline, keyed by account,
  // Region, canonical plan ARN and the request's dedupe key. With `stamps`: a storm answer read
  // from a snapshot, served while those rows are unchanged (see the top of this file); a start
  // with a clientToken still writes its token record, in a transaction that checks the stamps
  // instead of reading the rows again. Without (a mark left by the write path, or a read that
  // could not be sealed): the next identical start tries the read-only path first; a read
  // transaction per call costs more than it saves when the timeline still has room, hence only
  // for these. Dropped when the read does not absorb the start. Bounded: cleared past
  // kMaxAbsorbed.
  struct Absorbed {
    std::string arn;
    std::string parent_ops_item_id;
    int64_t related_item_count = 0;
    std::optional<storage::ReadStamps> stamps;  // replication set, plan, dedup row, incident
  };

  // One start's state between its preparation and its transaction.
  struct StartCall {
    const Scope* scope = nullptr;
    const StartIncidentRequest* request = nullptr;
    std::string absorbed_key;  // key of absorbed_
    std::string fingerprint;   // of the parameters, for clientToken replay (with a token only)
    bool may_absorb_read_only = false;  // absorbed_ holds a mark or a stale answer for it
    // With a clientToken: the storm answer (with its stamps) that only the token record keeps
    // from being final.
    std::optional<Absorbed> absorbed;
    StartIncidentResult result;  // set by StartInTxn

    bool has_token() const { return request->client_token && !request->client_token->empty(); }
  };
  // Validation, then the storm answer from memory (returned if known), then the rest of `call`.
  absl::StatusOr<std::optional<StartIncidentResult>> PrepareStart(StartCall& call);
  // The transaction of a start (clientToken replay, dedup, or the new incident); sets
  // call.result. Runs on the store's writer thread for StartAsync.
  absl::Status StartInTxn(storage::WriteTxn& txn, StartCall& call);

  storage::Store& store_;
  Clock& clock_;
  opsitems::OpsItemService& ops_items_;
  const Limits limits_;
  ClientTokens& tokens_;
  RunbookStarter* runbooks_;

  static constexpr size_t kMaxAbsorbed = 10000;
  Mutex absorbed_mu_;
  absl::flat_hash_map<std::string, Absorbed> absorbed_ ABSL_GUARDED_BY(absorbed_mu_);
  // absorbed_[key], a new entry being a mark; the map is cleared first when full.
  Absorbed& AbsorbedEntry(const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(absorbed_mu_);
};

}  // namespace klaxon::incidents
