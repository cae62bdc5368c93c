#pragma once
// EventBridge: event buses, rules, targets, SaaS partner event sources, PutEvents — the domain
// behind the `events` API and the EventPublisher klaxon's own services publish through.
//
// Design.
// - State lives in the Store (records.h). Every mutation runs in one Store::Write; mutations are
//   serialized by one mutex of this service, which also guards the in-memory compiled state, so
//   memory always equals the store after each mutation (single process per store).
// - Matching never locks: each bus has an immutable BusSnapshot (the compiled pattern RuleSet of
//   its enabled rules plus the rules' targets), published through an atomic shared_ptr and
//   swapped after each committed change; the map of buses is itself an immutable snapshot
//   swapped when a bus appears or disappears. Load() rebuilds everything from the store at start.
// - PutEvents: validates each entry, builds the envelope (envelope.h), matches it against the
//   bus's snapshot and writes every (event, matching rule target) pair to the durable outbox in
//   ONE Store::Write for the whole request, then wakes the outbox. An entry is acknowledged (an
//   EventId returned) only after that write committed; entries that match nothing need no write.
//   Delivery (delivery.h) happens afterwards, with retries.
//
// Errors use the AWS exception names of the events model through AwsError(): ValidationException,
// ResourceNotFoundException, ResourceAlreadyExistsException, LimitExceededException,
// InvalidEventPatternException, InvalidStateException.
//
// Thread-safety: all methods are thread-safe. Lifetime: store, clock and outbox must outlive the
// service. Copy/move: neither.

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "events/bus/delivery_payload.h"
#include "events/bus/types.h"
#include "events/pattern/rule_set.h"
#include "events/publisher.h"
#include "outbox/outbox.h"
#include "storage/store.h"

namespace klaxon::events {

struct EventBusOptions {
  std::string default_region = "us-east-1";  // when a Scope has no Region
  size_t max_buses_per_account = 100;        // custom and partner buses per Region (AWS: 100)
  size_t max_rules_per_bus = 2000;           // AWS default quota: 300 (adjustable)
  size_t max_targets_per_rule = 5;           // AWS: 5
  size_t max_put_events_bytes =
      size_t{256} * 1024;  // total entry size of one PutEvents (AWS: 256 KB)
  // If set: klaxon_events_entries_total{result="accepted|failed"},
  // klaxon_events_matches_total. Must outlive the service.
  metrics::Registry* metrics = nullptr;
};

namespace internal {

// One rule as the matcher needs it: what to enqueue for each of its targets.
struct CompiledTarget {
  TargetType type;
  std::string head;         // PayloadHead(type, region, rule arn)
  std::string target_json;  // TargetToJson(target), serialized
  std::optional<outbox::RetryPolicy> policy;
};
struct CompiledRule {
  std::string name;
  std::string arn;
  std::vector<CompiledTarget> targets;
};
// Immutable: what PutEvents matches against.
struct BusSnapshot {
  std::shared_ptr<const pattern::RuleSet> rule_set;  // enabled rules with a pattern
  absl::flat_hash_map<pattern::RuleId, std::shared_ptr<const CompiledRule>> rules;
};
struct BusState;  // a snapshot holder plus the writer's builder
using BusMap = absl::flat_hash_map<std::string, std::shared_ptr<BusState>>;

}  // namespace internal

class EventBusService final : public EventPublisher {
 public:
  EventBusService(storage::Store& store, Clock& clock, outbox::Outbox& outbox,
                  EventBusOptions options = {});
  ~EventBusService() override;
  EventBusService(const EventBusService&) = delete;
  EventBusService& operator=(const EventBusService&) = delete;

  // Rebuilds the compiled rule sets from the store. Call once before serving. Errors: store
  // errors; DataLoss for unreadable records.
  absl::Status Load();

  // --- Event buses ---------------------------------------------------------------------------
  // Creates a custom bus, or the partner bus of `event_source_name` (then `name` must equal it,
  // the source must have been offered to this account and have no bus yet). Errors:
  // ResourceAlreadyExistsException, ResourceNotFoundException (source), ValidationException,
  // LimitExceededException, InvalidStateException (source deleted).
  absl::StatusOr<EventBus> CreateEventBus(const Scope& scope, const std::string& name,
                                          const std::optional<std::string>& event_source_name,
                                          const std::optional<std::string>& description,
                                          const std::vector<Tag>& tags);
  // `name_or_arn` empty = default. Errors: ResourceNotFoundException, ValidationException.
  absl::StatusOr<EventBus> DescribeEventBus(const Scope& scope, const std::string& name_or_arn);
  // Buses by name (the default bus included). Errors: ValidationException (bad token).
  absl::StatusOr<Page<EventBus>> ListEventBuses(const Scope& scope, const std::string& name_prefix,
                                                std::optional<int> limit,
                                                const std::string& next_token);
  // Idempotent (an absent bus is not an error). Errors: ValidationException (default bus; rules
  // remain on the bus).
  absl::Status DeleteEventBus(const Scope& scope, const std::string& name);

  // --- Rules ---------------------------------------------------------------------------------
  // Creates or replaces a rule (targets and tags of an existing rule are kept). Returns its ARN.
  // Errors: InvalidEventPatternException (engine's reason), ValidationException (neither pattern
  // nor schedule; ScheduleExpression, which klaxon does not run), ResourceNotFoundException (bus),
  // LimitExceededException (rules per bus).
  absl::StatusOr<std::string> PutRule(const Scope& scope, const PutRuleRequest& request);
  // Errors: ResourceNotFoundException ("Rule R does not exist on EventBus B.").
  absl::StatusOr<Rule> DescribeRule(const Scope& scope, const std::string& bus,
                                    const std::string& name);
  // Rules by name. Errors: ResourceNotFoundException (bus), ValidationException (token).
  absl::StatusOr<Page<Rule>> ListRules(const Scope& scope, const std::string& bus,
                                       const std::string& name_prefix, std::optional<int> limit,
                                       const std::string& next_token);
  // Refused while the rule has targets (ValidationException), as AWS. Absent rule: OK.
  absl::Status DeleteRule(const Scope& scope, const std::string& bus, const std::string& name);
  absl::Status SetRuleState(const Scope& scope, const std::string& bus, const std::string& name,
                            RuleState state);
  // Names of the rules of `bus` with a target whose Arn is `target_arn`.
  absl::StatusOr<Page<std::string>> ListRuleNamesByTarget(const Scope& scope,
                                                          const std::string& bus,
                                                          const std::string& target_arn,
                                                          std::optional<int> limit,
                                                          const std::string& next_token);

  // --- Targets -------------------------------------------------------------------------------
  // Adds or replaces targets by Id. A target klaxon cannot deliver to (unsupported ARN, response
  // plan without RoleArn or of another account, bus of another account or the rule's own bus,
  // invalid input settings) is refused as a failed entry (ErrorCode ValidationException); the
  // others are applied. Errors: ResourceNotFoundException (rule), LimitExceededException (more
  // than max_targets_per_rule after the change).
  absl::StatusOr<std::vector<TargetFailure>> PutTargets(const Scope& scope, const std::string& bus,
                                                        const std::string& rule,
                                                        const std::vector<Target>& targets);
  // Ids the rule does not have are ignored. Errors: ResourceNotFoundException (rule).
  absl::StatusOr<std::vector<TargetFailure>> RemoveTargets(const Scope& scope,
                                                           const std::string& bus,
                                                           const std::string& rule,
                                                           const std::vector<std::string>& ids);
  absl::StatusOr<Page<Target>> ListTargetsByRule(const Scope& scope, const std::string& bus,
                                                 const std::string& rule, std::optional<int> limit,
                                                 const std::string& next_token);

  // --- Tags (rules and event buses) -----------------------------------------------------------
  // Errors: ResourceNotFoundException, ValidationException (not a rule or bus ARN of the caller).
  absl::Status TagResource(const Scope& scope, const std::string& arn,
                           const std::vector<Tag>& tags);
  absl::Status UntagResource(const Scope& scope, const std::string& arn,
                             const std::vector<std::string>& keys);
  absl::StatusOr<std::vector<Tag>> ListTagsForResource(const Scope& scope, const std::string& arn);

  // --- Events --------------------------------------------------------------------------------
  // One result per entry, index-aligned. Per-entry errors: InvalidArgument (missing Source,
  // DetailType or Detail), MalformedDetail, ResourceNotFoundException (no such bus),
  // AccessDeniedException (bus of another account). Errors for the whole request:
  // ValidationException (total size over max_put_events_bytes), store errors.
  absl::StatusOr<std::vector<PutEventsResult>> PutEvents(
      const Scope& scope, const std::vector<PutEventsEntry>& entries);
  // Errors: InvalidEventPatternException, ValidationException (event not a JSON object or
  // missing id, account, source, time, region, resources, detail-type).
  absl::StatusOr<bool> TestEventPattern(const std::string& pattern, const std::string& event);

  // EventPublisher: puts a service event on the default bus of (account, region) in `txn`.
  // The caller should call NotifyDelivery() after its commit (delivery otherwise starts within
  // the outbox's poll interval).
  absl::Status PublishInTxn(storage::WriteTxn& txn, const ServiceEvent& event) override;
  void NotifyDelivery();

  // Forwards an event (an event-bus target's delivery) to its target bus inside `txn`: matches it
  // there and enqueues the pairs. Errors: NotFound (target bus gone), permanent.
  absl::Status ForwardInTxn(storage::WriteTxn& txn, const std::string& account,
                            const internal::DeliveryPayload& payload);

  // --- Partner event sources: the partner's side --------------------------------------------
  // Offers `name` to `account`. Errors: ResourceAlreadyExistsException, ValidationException.
  absl::StatusOr<std::string> CreatePartnerEventSource(const Scope& partner,
                                                       const std::string& name,
                                                       const std::string& account);
  // Errors: ResourceNotFoundException.
  absl::StatusOr<std::string> DescribePartnerEventSource(const Scope& partner,
                                                         const std::string& name);
  // Distinct source names the caller created, by name.
  absl::StatusOr<Page<std::string>> ListPartnerEventSources(const Scope& partner,
                                                            const std::string& name_prefix,
                                                            std::optional<int> limit,
                                                            const std::string& next_token);
  absl::StatusOr<Page<PartnerEventSourceAccount>> ListPartnerEventSourceAccounts(
      const Scope& partner, const std::string& name, std::optional<int> limit,
      const std::string& next_token);
  // Idempotent. The customer's source becomes DELETED (its bus stays, receiving nothing).
  absl::Status DeletePartnerEventSource(const Scope& partner, const std::string& name,
                                        const std::string& account);
  // Entries' Source must be a source the caller created; each event goes to the partner bus of
  // every account where the source is ACTIVE. Per-entry errors: InvalidArgument,
  // MalformedDetail, NotAuthorizedForSourceException.
  absl::StatusOr<std::vector<PutEventsResult>> PutPartnerEvents(
      const Scope& partner, const std::vector<PutEventsEntry>& entries);

  // --- Partner event sources: the customer's side -------------------------------------------
  absl::StatusOr<Page<EventSource>> ListEventSources(const Scope& scope,
                                                     const std::string& name_prefix,
                                                     std::optional<int> limit,
                                                     const std::string& next_token);
  absl::StatusOr<EventSource> DescribeEventSource(const Scope& scope, const std::string& name);
  // Errors: ResourceNotFoundException, InvalidStateException (not deactivated / deleted).
  absl::Status ActivateEventSource(const Scope& scope, const std::string& name);
  // Errors: ResourceNotFoundException, InvalidStateException (not active).
  absl::Status DeactivateEventSource(const Scope& scope, const std::string& name);

  // Number of rules compiled into the snapshot of a bus (tests, metrics).
  size_t CompiledRuleCount(const std::string& account, const std::string& region,
                           const std::string& bus) const;

 private:
  struct Pending;  // outbox entries of one request

  Scope Normalize(const Scope& scope) const;
  std::shared_ptr<const internal::BusMap> Buses() const { return buses_.load(); }
  std::shared_ptr<internal::BusState> FindBus(const std::string& account, const std::string& region,
                                              const std::string& bus) const;
  // Writer side (mu_ held).
  std::shared_ptr<internal::BusState> EnsureBusLocked(const std::string& account,
                                                      const std::string& region,
                                                      const std::string& bus);
  void DropBusLocked(const std::string& account, const std::string& region, const std::string& bus);
  absl::Status CompileRuleLocked(const std::string& account, const std::string& region,
                                 const Rule& rule);
  void RemoveRuleLocked(const std::string& account, const std::string& region, const Rule& rule);
  // Matches `event_json` on `bus` and appends one outbox payload per matching target.
  absl::Status MatchInto(const internal::BusState* bus, const std::string& event_json,
                         absl::Time event_time, absl::Time ingestion_time, int hops,
                         const std::string& account, Pending& out) const;
  absl::Status EnqueueInTxn(storage::WriteTxn& txn, const Pending& pending);
  absl::StatusOr<Rule> LoadRule(storage::ReadTxn& txn, const Scope& scope, const std::string& bus,
                                const std::string& name);
  absl::Status RequireBus(storage::ReadTxn& txn, const Scope& scope, const std::string& bus);
  // Validates one target for PutTargets (empty = OK, else the failure message).
  std::string CheckTarget(const Scope& scope, const std::string& bus, const Target& target) const;
  absl::StatusOr<std::vector<PutEventsResult>> Put(const Scope& scope,
                                                   const std::vector<PutEventsEntry>& entries,
                                                   bool partner);

  storage::Store& store_;
  Clock& clock_;
  outbox::Outbox& outbox_;
  const EventBusOptions options_;
  metrics::Counter* accepted_ = nullptr;
  metrics::Counter* failed_ = nullptr;
  metrics::Counter* matches_ = nullptr;

  // Serializes mutations and guards the writer side of every BusState.
  mutable std::mutex mu_;
  std::atomic<std::shared_ptr<const internal::BusMap>> buses_;
  pattern::RuleId next_rule_id_ = 1;  // guarded by mu_
};

}  // namespace klaxon::events
