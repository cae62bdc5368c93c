#include "events/bus/event_bus_service.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "boost/url/parse.hpp"
#include "common/ids.h"
#include "common/status.h"
#include "events/bus/arn.h"
#include "events/bus/envelope.h"
#include "events/bus/input.h"
#include "events/bus/records.h"
#include "events/pattern/pattern.h"
#include "spdlog/spdlog.h"

namespace klaxon::events {
namespace json = boost::json;
using internal::BusSnapshot;
using internal::BusState;
using internal::CompiledRule;
using internal::CompiledTarget;

namespace internal {

struct BusState {
  std::atomic<std::shared_ptr<const BusSnapshot>> snapshot;
  // Writer side, guarded by EventBusService::mu_.
  pattern::RuleSetBuilder builder;
  std::map<std::string, pattern::RuleId> ids;  // every rule of the bus by name
  absl::flat_hash_map<pattern::RuleId, std::shared_ptr<const CompiledRule>> rules;  // compiled

  BusState() { snapshot.store(std::make_shared<const BusSnapshot>()); }
  void Publish() {
    auto s = std::make_shared<BusSnapshot>();
    if (!rules.empty()) s->rule_set = builder.Build();
    s->rules = rules;
    snapshot.store(std::move(s));
  }
};

}  // namespace internal

struct EventBusService::Pending {
  struct Item {
    std::string account;
    const char* kind;
    std::string payload;
    std::optional<outbox::RetryPolicy> policy;
  };
  std::vector<Item> items;
};

namespace {

absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

constexpr int kDefaultPageSize = 100;
constexpr size_t kMaxTags = 50;

std::string BusMapKey(std::string_view account, std::string_view region, std::string_view bus) {
  return absl::StrCat(ToAbsl(account), "|", ToAbsl(region), "|", ToAbsl(bus));
}

absl::Status NotFound(std::string_view message) {
  return AwsError(absl::StatusCode::kNotFound, "ResourceNotFoundException", message);
}
absl::Status AlreadyExists(std::string_view message) {
  return AwsError(absl::StatusCode::kAlreadyExists, "ResourceAlreadyExistsException", message);
}
absl::Status LimitExceeded(std::string_view message) {
  return AwsError(absl::StatusCode::kResourceExhausted, "LimitExceededException", message);
}
absl::Status InvalidState(std::string_view message) {
  return AwsError(absl::StatusCode::kFailedPrecondition, "InvalidStateException", message);
}
absl::Status InvalidPattern(std::string_view reason) {
  return AwsError(absl::StatusCode::kInvalidArgument, "InvalidEventPatternException",
                  absl::StrCat("Event pattern is not valid. Reason: ", ToAbsl(reason)));
}

absl::Status RuleNotFound(std::string_view rule, std::string_view bus) {
  return NotFound(
      absl::StrCat("Rule ", ToAbsl(rule), " does not exist on EventBus ", ToAbsl(bus), "."));
}
absl::Status BusNotFound(std::string_view bus) {
  return NotFound(absl::StrCat("Event bus ", ToAbsl(bus), " does not exist."));
}

size_t PageSize(std::optional<int> limit) {
  return static_cast<size_t>(limit && *limit > 0 ? *limit : kDefaultPageSize);
}

absl::StatusOr<pattern::Pattern> CompilePattern(const std::string& text) {
  auto parsed = pattern::ParsePattern(text);
  if (!parsed.ok()) return InvalidPattern(std::string(parsed.status().message()));
  return parsed;
}

outbox::RetryPolicy RetryPolicyOf(const Target& t) {
  outbox::RetryPolicy p;
  if (t.maximum_retry_attempts) p.max_attempts = *t.maximum_retry_attempts + 1;
  if (t.maximum_event_age_in_seconds) p.max_age = absl::Seconds(*t.maximum_event_age_in_seconds);
  return p;
}

// AWS's PutEventsRequestEntry size (eb-putevent-size).
size_t EntrySize(const PutEventsEntry& e) {
  size_t n = e.time ? 14 : 0;
  if (e.source) n += e.source->size();
  if (e.detail_type) n += e.detail_type->size();
  if (e.detail) n += e.detail->size();
  for (const auto& r : e.resources) n += r.size();
  return n;
}

PutEventsResult Failure(std::string code, std::string message) {
  return PutEventsResult{"", std::move(code), std::move(message)};
}

// Splits "REGION|BUS|RULE" (BUS may not contain '|').
bool SplitRuleKey(std::string_view key, std::string* region, std::string* bus) {
  size_t a = key.find('|');
  size_t b = key.rfind('|');
  if (a == std::string_view::npos || b == a) return false;
  *region = std::string(key.substr(0, a));
  *bus = std::string(key.substr(a + 1, b - a - 1));
  return true;
}

template <typename T, typename KeyFn>
Page<T> Paginate(std::vector<T> sorted, size_t page_size, const std::string& after,
                 std::string_view list, KeyFn key) {
  Page<T> page;
  for (auto& item : sorted) {
    if (!after.empty() && key(item) <= after) continue;
    if (page.items.size() == page_size) {
      page.next_token = internal::EncodePageToken(list, key(page.items.back()));
      break;
    }
    page.items.push_back(std::move(item));
  }
  return page;
}

}  // namespace

EventBusService::EventBusService(storage::Store& store, Clock& clock, outbox::Outbox& outbox,
                                 EventBusOptions options)
    : store_(store), clock_(clock), outbox_(outbox), options_(std::move(options)) {
  buses_.store(std::make_shared<const internal::BusMap>());
  if (options_.metrics) {
    const char* help = "PutEvents / PutPartnerEvents entries by result";
    accepted_ = &options_.metrics->GetCounter("klaxon_events_entries_total", help,
                                              {{"result", "accepted"}});
    failed_ =
        &options_.metrics->GetCounter("klaxon_events_entries_total", help, {{"result", "failed"}});
    matches_ = &options_.metrics->GetCounter("klaxon_events_matches_total",
                                             "(event, rule target) pairs written to the outbox");
  }
}

EventBusService::~EventBusService() = default;

Scope EventBusService::Normalize(const Scope& scope) const {
  Scope s = scope;
  if (s.region.empty()) s.region = options_.default_region;
  return s;
}

// ---------------------------------------------------------------------------------------------
// In-memory compiled state

std::shared_ptr<BusState> EventBusService::FindBus(const std::string& account,
                                                   const std::string& region,
                                                   const std::string& bus) const {
  auto map = buses_.load();
  auto it = map->find(BusMapKey(account, region, bus));
  return it == map->end() ? nullptr : it->second;
}

std::shared_ptr<BusState> EventBusService::EnsureBusLocked(const std::string& account,
                                                           const std::string& region,
                                                           const std::string& bus) {
  std::string key = BusMapKey(account, region, bus);
  auto map = buses_.load();
  if (auto it = map->find(key); it != map->end()) return it->second;
  auto next = std::make_shared<internal::BusMap>(*map);
  auto state = std::make_shared<BusState>();
  (*next)[key] = state;
  buses_.store(std::move(next));
  return state;
}

void EventBusService::DropBusLocked(const std::string& account, const std::string& region,
                                    const std::string& bus) {
  auto map = buses_.load();
  std::string key = BusMapKey(account, region, bus);
  if (!map->contains(key)) return;
  auto next = std::make_shared<internal::BusMap>(*map);
  next->erase(key);
  buses_.store(std::move(next));
}

absl::Status EventBusService::CompileRuleLocked(const std::string& account,
                                                const std::string& region, const Rule& rule) {
  auto state = EnsureBusLocked(account, region, rule.event_bus_name);
  auto [it, inserted] = state->ids.try_emplace(rule.name, 0);
  if (inserted) it->second = next_rule_id_++;
  const pattern::RuleId id = it->second;
  if (rule.state == RuleState::kEnabled && rule.event_pattern) {
    KLAXON_ASSIGN_OR_RETURN(pattern::Pattern p, CompilePattern(*rule.event_pattern));
    KLAXON_RETURN_IF_ERROR(state->builder.Add(id, p));
    auto compiled = std::make_shared<CompiledRule>();
    compiled->name = rule.name;
    compiled->arn = rule.arn;
    for (const Target& t : rule.targets) {
      auto type = ClassifyTargetArn(t.arn);
      if (!type.ok()) continue;  // refused at PutTargets; never stored
      CompiledTarget ct;
      ct.type = *type;
      ct.head = internal::PayloadHead(*type, region, rule.arn);
      ct.target_json = json::serialize(internal::TargetToJson(t));
      if (t.maximum_retry_attempts || t.maximum_event_age_in_seconds) ct.policy = RetryPolicyOf(t);
      compiled->targets.push_back(std::move(ct));
    }
    state->rules[id] = std::move(compiled);
  } else {
    state->builder.Remove(id);
    state->rules.erase(id);
  }
  state->Publish();
  return absl::OkStatus();
}

void EventBusService::RemoveRuleLocked(const std::string& account, const std::string& region,
                                       const Rule& rule) {
  auto state = FindBus(account, region, rule.event_bus_name);
  if (!state) return;
  auto it = state->ids.find(rule.name);
  if (it == state->ids.end()) return;
  state->builder.Remove(it->second);
  state->rules.erase(it->second);
  state->ids.erase(it);
  state->Publish();
}

size_t EventBusService::CompiledRuleCount(const std::string& account, const std::string& region,
                                          const std::string& bus) const {
  auto state = FindBus(account, region, bus);
  if (!state) return 0;
  return state->snapshot.load()->rules.size();
}

absl::Status EventBusService::Load() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> accounts;
  struct Loaded {
    std::string account, region;
    std::vector<std::pair<std::string, std::string>> buses;  // region, name
    std::vector<std::pair<std::string, Rule>> rules;         // region, rule
  };
  std::vector<Loaded> loaded;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    accounts.clear();
    loaded.clear();
    KLAXON_RETURN_IF_ERROR(txn.Scan(internal::kAccountTable, "", "", "", 0,
                                    [&](std::string_view id, std::string_view) {
                                      accounts.emplace_back(id);
                                      return true;
                                    }));
    for (const std::string& account : accounts) {
      Loaded l;
      l.account = account;
      absl::Status error;
      KLAXON_RETURN_IF_ERROR(txn.Scan(
          internal::kBusTable, account, "", "", 0, [&](std::string_view key, std::string_view) {
            size_t bar = key.find('|');
            if (bar == std::string_view::npos) return true;
            l.buses.emplace_back(std::string(key.substr(0, bar)), std::string(key.substr(bar + 1)));
            return true;
          }));
      KLAXON_RETURN_IF_ERROR(txn.Scan(internal::kRuleTable, account, "", "", 0,
                                      [&](std::string_view key, std::string_view value) {
                                        std::string region, bus;
                                        if (!SplitRuleKey(key, &region, &bus)) return true;
                                        auto rule = internal::DecodeRule(value);
                                        if (!rule.ok()) {
                                          error = rule.status();
                                          return false;
                                        }
                                        l.rules.emplace_back(region, std::move(*rule));
                                        return true;
                                      }));
      KLAXON_RETURN_IF_ERROR(error);
      loaded.push_back(std::move(l));
    }
    return absl::OkStatus();
  }));
  size_t rules = 0;
  for (const Loaded& l : loaded) {
    for (const auto& [region, name] : l.buses) EnsureBusLocked(l.account, region, name);
    for (const auto& [region, rule] : l.rules) {
      absl::Status s = CompileRuleLocked(l.account, region, rule);
      if (!s.ok()) {
        spdlog::error("events: rule {} not compiled: {}", rule.arn, s.ToString());
        continue;
      }
      ++rules;
    }
  }
  spdlog::info("events: loaded {} rules of {} accounts", rules, accounts.size());
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Event buses

absl::Status EventBusService::RequireBus(storage::ReadTxn& txn, const Scope& scope,
                                         const std::string& bus) {
  if (bus == kDefaultBus) return absl::OkStatus();
  KLAXON_ASSIGN_OR_RETURN(auto row, txn.Get(internal::kBusTable, scope.account_id,
                                            internal::BusKey(scope.region, bus)));
  if (!row) return BusNotFound(bus);
  return absl::OkStatus();
}

absl::StatusOr<EventBus> EventBusService::CreateEventBus(
    const Scope& raw_scope, const std::string& name,
    const std::optional<std::string>& event_source_name,
    const std::optional<std::string>& description, const std::vector<Tag>& tags) {
  const Scope scope = Normalize(raw_scope);
  if (name == kDefaultBus) return AlreadyExists("Event bus default already exists.");
  if (event_source_name) {
    if (*event_source_name != name) {
      return ValidationError(
          "Parameter Name is not valid: a partner event bus must have the name of its event "
          "source (EventSourceName).");
    }
  } else if (name.find('/') != std::string::npos || absl::StartsWith(name, "aws.")) {
    return ValidationError(absl::StrCat(
        "Parameter Name is not valid: ", name,
        ": a custom event bus name can't contain '/' or start with 'aws.' (those are partner "
        "event bus names, created with EventSourceName)."));
  }
  if (tags.size() > kMaxTags) return ValidationError("Too many tags (at most 50).");
  const absl::Time now = clock_.Now();
  EventBus bus;
  bus.name = name;
  bus.arn = EventBusArn(scope.region, scope.account_id, name);
  bus.event_source_name = event_source_name;
  bus.description = description;
  bus.creation_time = now;
  bus.last_modified_time = now;
  std::lock_guard<std::mutex> lock(mu_);
  KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    const std::string key = internal::BusKey(scope.region, name);
    KLAXON_ASSIGN_OR_RETURN(auto existing, txn.Get(internal::kBusTable, scope.account_id, key));
    if (existing) return AlreadyExists(absl::StrCat("Event bus ", name, " already exists."));
    size_t count = 0;
    KLAXON_RETURN_IF_ERROR(
        txn.Scan(internal::kBusTable, scope.account_id, absl::StrCat(scope.region, "|"), "",
                 options_.max_buses_per_account + 1, [&](std::string_view, std::string_view) {
                   ++count;
                   return true;
                 }));
    if (count >= options_.max_buses_per_account) {
      return LimitExceeded(
          absl::StrCat("The requested resource exceeds the maximum number "
                       "allowed (",
                       options_.max_buses_per_account, " event buses)."));
    }
    if (event_source_name) {
      const std::string skey = internal::SourceKey(scope.region, *event_source_name);
      KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(internal::kSourceTable, scope.account_id, skey));
      if (!text) {
        return NotFound(absl::StrCat("Event source ", *event_source_name, " does not exist."));
      }
      KLAXON_ASSIGN_OR_RETURN(internal::SourceRecord src, internal::DecodeSource(*text));
      if (src.deleted) {
        return InvalidState(
            absl::StrCat("Event source ", *event_source_name, " was deleted by its partner."));
      }
      src.has_bus = true;
      KLAXON_RETURN_IF_ERROR(
          txn.Put(internal::kSourceTable, scope.account_id, skey, internal::EncodeSource(src)));
    }
    KLAXON_RETURN_IF_ERROR(
        txn.Put(internal::kBusTable, scope.account_id, key, internal::EncodeBus(bus)));
    if (!tags.empty()) {
      KLAXON_RETURN_IF_ERROR(
          txn.Put(internal::kTagTable, scope.account_id, bus.arn, internal::EncodeTags(tags)));
    }
    return txn.Put(internal::kAccountTable, "", scope.account_id, "");
  }));
  EnsureBusLocked(scope.account_id, scope.region, name);
  return bus;
}

absl::StatusOr<EventBus> EventBusService::DescribeEventBus(const Scope& raw_scope,
                                                           const std::string& name_or_arn) {
  const Scope scope = Normalize(raw_scope);
  KLAXON_ASSIGN_OR_RETURN(BusRef ref, ResolveBus(scope, name_or_arn));
  if (ref.account != scope.account_id || ref.region != scope.region) return BusNotFound(ref.name);
  if (ref.name == kDefaultBus) {
    EventBus bus;
    bus.name = kDefaultBus;
    bus.arn = EventBusArn(scope.region, scope.account_id, kDefaultBus);
    return bus;
  }
  std::optional<std::string> text;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(text, txn.Get(internal::kBusTable, scope.account_id,
                                          internal::BusKey(scope.region, ref.name)));
    return absl::OkStatus();
  }));
  if (!text) return BusNotFound(ref.name);
  return internal::DecodeBus(*text);
}

absl::StatusOr<Page<EventBus>> EventBusService::ListEventBuses(const Scope& raw_scope,
                                                               const std::string& name_prefix,
                                                               std::optional<int> limit,
                                                               const std::string& next_token) {
  const Scope scope = Normalize(raw_scope);
  KLAXON_ASSIGN_OR_RETURN(std::string after, internal::DecodePageToken("buses", next_token));
  std::vector<EventBus> buses;
  if (absl::StartsWith(kDefaultBus, name_prefix)) {
    EventBus d;
    d.name = kDefaultBus;
    d.arn = EventBusArn(scope.region, scope.account_id, kDefaultBus);
    buses.push_back(std::move(d));
  }
  absl::Status error;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    return txn.Scan(internal::kBusTable, scope.account_id,
                    internal::BusKey(scope.region, name_prefix), "", 0,
                    [&](std::string_view, std::string_view value) {
                      auto bus = internal::DecodeBus(value);
                      if (!bus.ok()) {
                        error = bus.status();
                        return false;
                      }
                      buses.push_back(std::move(*bus));
                      return true;
                    });
  }));
  KLAXON_RETURN_IF_ERROR(error);
  std::sort(buses.begin(), buses.end(),
            [](const EventBus& a, const EventBus& b) { return a.name < b.name; });
  return Paginate(std::move(buses), PageSize(limit), after, "buses",
                  [](const EventBus& b) -> const std::string& { return b.name; });
}

absl::Status EventBusService::DeleteEventBus(const Scope& raw_scope, const std::string& name) {
  const Scope scope = Normalize(raw_scope);
  if (name == kDefaultBus) return ValidationError("Cannot delete event bus default.");
  std::lock_guard<std::mutex> lock(mu_);
  bool deleted = false;
  KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    deleted = false;
    const std::string key = internal::BusKey(scope.region, name);
    KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(internal::kBusTable, scope.account_id, key));
    if (!text) return absl::OkStatus();
    bool has_rules = false;
    KLAXON_RETURN_IF_ERROR(txn.Scan(internal::kRuleTable, scope.account_id,
                                    internal::RulePrefix(scope.region, name), "", 1,
                                    [&](std::string_view, std::string_view) {
                                      has_rules = true;
                                      return false;
                                    }));
    if (has_rules) {
      return ValidationError(
          absl::StrCat("Event bus ", name, " still has rules: delete them before the bus."));
    }
    KLAXON_ASSIGN_OR_RETURN(EventBus bus, internal::DecodeBus(*text));
    if (bus.event_source_name) {
      const std::string skey = internal::SourceKey(scope.region, *bus.event_source_name);
      KLAXON_ASSIGN_OR_RETURN(auto stext, txn.Get(internal::kSourceTable, scope.account_id, skey));
      if (stext) {
        KLAXON_ASSIGN_OR_RETURN(internal::SourceRecord src, internal::DecodeSource(*stext));
        src.has_bus = false;
        KLAXON_RETURN_IF_ERROR(
            txn.Put(internal::kSourceTable, scope.account_id, skey, internal::EncodeSource(src)));
      }
    }
    KLAXON_RETURN_IF_ERROR(txn.Delete(internal::kTagTable, scope.account_id, bus.arn));
    deleted = true;
    return txn.Delete(internal::kBusTable, scope.account_id, key);
  }));
  if (deleted) DropBusLocked(scope.account_id, scope.region, name);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Rules

absl::StatusOr<Rule> EventBusService::LoadRule(storage::ReadTxn& txn, const Scope& scope,
                                               const std::string& bus, const std::string& name) {
  KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(internal::kRuleTable, scope.account_id,
                                             internal::RuleKey(scope.region, bus, name)));
  if (!text) return RuleNotFound(name, bus);
  return internal::DecodeRule(*text);
}

namespace {

// The bus a rule operation names, which must be the caller's own.
absl::StatusOr<std::string> OwnBus(const Scope& scope, const std::string& name_or_arn) {
  KLAXON_ASSIGN_OR_RETURN(BusRef ref, ResolveBus(scope, name_or_arn));
  if (ref.account != scope.account_id || ref.region != scope.region) {
    return AwsError(absl::StatusCode::kPermissionDenied, "AccessDeniedException",
                    absl::StrCat("Event bus ", name_or_arn,
                                 " belongs to another account or Region; klaxon manages rules "
                                 "only on the caller's own event buses."));
  }
  return ref.name;
}

}  // namespace

absl::StatusOr<std::string> EventBusService::PutRule(const Scope& raw_scope,
                                                     const PutRuleRequest& request) {
  const Scope scope = Normalize(raw_scope);
  KLAXON_ASSIGN_OR_RETURN(std::string bus, OwnBus(scope, request.event_bus_name));
  if (!request.event_pattern && !request.schedule_expression) {
    return ValidationError("Parameter(s) EventPattern or ScheduleExpression must be specified.");
  }
  if (request.schedule_expression) {
    return ValidationError(
        "Parameter ScheduleExpression is not supported: klaxon runs event-pattern rules only "
        "(see docs/compat/events.md); use an event pattern, or a scheduler outside klaxon that "
        "calls PutEvents.");
  }
  if (request.event_pattern)
    KLAXON_RETURN_IF_ERROR(CompilePattern(*request.event_pattern).status());
  if (request.tags.size() > kMaxTags) return ValidationError("Too many tags (at most 50).");
  const std::string arn = RuleArn(scope.region, scope.account_id, bus, request.name);
  std::lock_guard<std::mutex> lock(mu_);
  Rule stored;
  KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_RETURN_IF_ERROR(RequireBus(txn, scope, bus));
    const std::string key = internal::RuleKey(scope.region, bus, request.name);
    KLAXON_ASSIGN_OR_RETURN(auto existing, txn.Get(internal::kRuleTable, scope.account_id, key));
    Rule rule;
    if (existing) {
      KLAXON_ASSIGN_OR_RETURN(rule, internal::DecodeRule(*existing));
    } else {
      size_t count = 0;
      KLAXON_RETURN_IF_ERROR(
          txn.Scan(internal::kRuleTable, scope.account_id, internal::RulePrefix(scope.region, bus),
                   "", options_.max_rules_per_bus + 1, [&](std::string_view, std::string_view) {
                     ++count;
                     return true;
                   }));
      if (count >= options_.max_rules_per_bus) {
        return LimitExceeded(
            absl::StrCat("The requested resource exceeds the maximum number "
                         "allowed (",
                         options_.max_rules_per_bus, " rules per event bus)."));
      }
      rule.name = request.name;
      rule.arn = arn;
      rule.event_bus_name = bus;
      rule.created_by = scope.account_id;
      if (!request.tags.empty()) {
        KLAXON_RETURN_IF_ERROR(txn.Put(internal::kTagTable, scope.account_id, arn,
                                       internal::EncodeTags(request.tags)));
      }
    }
    // PutRule replaces the whole definition; omitted members become empty (as AWS).
    rule.event_pattern = request.event_pattern;
    rule.schedule_expression = request.schedule_expression;
    rule.state = request.state.value_or(RuleState::kEnabled);
    rule.description = request.description;
    rule.role_arn = request.role_arn;
    stored = rule;
    KLAXON_RETURN_IF_ERROR(
        txn.Put(internal::kRuleTable, scope.account_id, key, internal::EncodeRule(rule)));
    return txn.Put(internal::kAccountTable, "", scope.account_id, "");
  }));
  KLAXON_RETURN_IF_ERROR(CompileRuleLocked(scope.account_id, scope.region, stored));
  return arn;
}

absl::StatusOr<Rule> EventBusService::DescribeRule(const Scope& raw_scope, const std::string& bus,
                                                   const std::string& name) {
  const Scope scope = Normalize(raw_scope);
  KLAXON_ASSIGN_OR_RETURN(std::string bus_name, OwnBus(scope, bus));
  Rule rule;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(rule, LoadRule(txn, scope, bus_name, name));
    return absl::OkStatus();
  }));
  return rule;
}

absl::StatusOr<Page<Rule>> EventBusService::ListRules(const Scope& raw_scope,
                                                      const std::string& bus,
                                                      const std::string& name_prefix,
                                                      std::optional<int> limit,
                                                      const std::string& next_token) {
  const Scope scope = Normalize(raw_scope);
  KLAXON_ASSIGN_OR_RETURN(std::string bus_name, OwnBus(scope, bus));
  KLAXON_ASSIGN_OR_RETURN(std::string after, internal::DecodePageToken("rules", next_token));
  const size_t page_size = PageSize(limit);
  const std::string prefix = internal::RulePrefix(scope.region, bus_name);
  Page<Rule> page;
  absl::Status error;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    page = Page<Rule>();
    KLAXON_RETURN_IF_ERROR(RequireBus(txn, scope, bus_name));
    return txn.Scan(internal::kRuleTable, scope.account_id, prefix + name_prefix,
                    after.empty() ? "" : prefix + after, page_size + 1,
                    [&](std::string_view, std::string_view value) {
                      auto rule = internal::DecodeRule(value);
                      if (!rule.ok()) {
                        error = rule.status();
                        return false;
                      }
                      page.items.push_back(std::move(*rule));
                      return true;
                    });
  }));
  KLAXON_RETURN_IF_ERROR(error);
  if (page.items.size() > page_size) {
    page.items.pop_back();
    page.next_token = internal::EncodePageToken("rules", page.items.back().name);
  }
  return page;
}

absl::Status EventBusService::DeleteRule(const Scope& raw_scope, const std::string& bus,
                                         const std::string& name) {
  const Scope scope = Normalize(raw_scope);
  KLAXON_ASSIGN_OR_RETURN(std::string bus_name, OwnBus(scope, bus));
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<Rule> deleted;
  KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    deleted.reset();
    const std::string key = internal::RuleKey(scope.region, bus_name, name);
    KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(internal::kRuleTable, scope.account_id, key));
    if (!text) return absl::OkStatus();
    KLAXON_ASSIGN_OR_RETURN(Rule rule, internal::DecodeRule(*text));
    if (!rule.targets.empty()) {
      return ValidationError("Rule can't be deleted since it has targets.");
    }
    KLAXON_RETURN_IF_ERROR(txn.Delete(internal::kTagTable, scope.account_id, rule.arn));
    KLAXON_RETURN_IF_ERROR(txn.Delete(internal::kRuleTable, scope.account_id, key));
    deleted = std::move(rule);
    return absl::OkStatus();
  }));
  if (deleted) RemoveRuleLocked(scope.account_id, scope.region, *deleted);
  return absl::OkStatus();
}

absl::Status EventBusService::SetRuleState(const Scope& raw_scope, const std::string& bus,
                                           const std::string& name, RuleState state) {
  const Scope scope = Normalize(raw_scope);
  KLAXON_ASSIGN_OR_RETURN(std::string bus_name, OwnBus(scope, bus));
  std::lock_guard<std::mutex> lock(mu_);
  Rule rule;
  KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(rule, LoadRule(txn, scope, bus_name, name));
    rule.state = state;
    return txn.Put(internal::kRuleTable, scope.account_id,
                   internal::RuleKey(scope.region, bus_name, name), internal::EncodeRule(rule));
  }));
  return CompileRuleLocked(scope.account_id, scope.region, rule);
}

absl::StatusOr<Page<std::string>> EventBusService::ListRuleNamesByTarget(
    const Scope& raw_scope, const std::string& bus, const std::string& target_arn,
    std::optional<int> limit, const std::string& next_token) {
  const Scope scope = Normalize(raw_scope);
  KLAXON_ASSIGN_OR_RETURN(std::string bus_name, OwnBus(scope, bus));
  KLAXON_ASSIGN_OR_RETURN(std::string after, internal::DecodePageToken("names", next_token));
  std::vector<std::string> names;
  absl::Status error;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    names.clear();
    KLAXON_RETURN_IF_ERROR(RequireBus(txn, scope, bus_name));
    return txn.Scan(internal::kRuleTable, scope.account_id,
                    internal::RulePrefix(scope.region, bus_name), "", 0,
                    [&](std::string_view, std::string_view value) {
                      auto rule = internal::DecodeRule(value);
                      if (!rule.ok()) {
                        error = rule.status();
                        return false;
                      }
                      for (const Target& t : rule->targets) {
                        if (t.arn == target_arn) {
                          names.push_back(rule->name);
                          break;
                        }
                      }
                      return true;
                    });
  }));
  KLAXON_RETURN_IF_ERROR(error);
  return Paginate(std::move(names), PageSize(limit), after, "names",
                  [](const std::string& n) -> const std::string& { return n; });
}

// ---------------------------------------------------------------------------------------------
// Targets

std::string EventBusService::CheckTarget(const Scope& scope, const std::string& bus,
                                         const Target& target) const {
  auto type = ClassifyTargetArn(target.arn);
  if (!type.ok()) return std::string(type.status().message());
  switch (*type) {
    case TargetType::kResponsePlan: {
      auto plan = ParseResponsePlanArn(target.arn);
      if (plan->account != scope.account_id) {
        return absl::StrCat("The response plan ", target.arn,
                            " belongs to another account; a rule can start incidents only from "
                            "response plans of its own account.");
      }
      if (!target.role_arn) {
        return "RoleArn is required for an Incident Manager response plan target (the role "
               "EventBridge assumes to call ssm-incidents:StartIncident).";
      }
      break;
    }
    case TargetType::kEventBus: {
      auto ref = ParseEventBusArn(target.arn);
      if (ref->account != scope.account_id) {
        return absl::StrCat("The event bus ", target.arn,
                            " belongs to another account; cross-account event bus targets are "
                            "not supported.");
      }
      if (ref->region == scope.region && ref->name == bus) {
        return "A rule can't target the event bus it is on.";
      }
      break;
    }
    case TargetType::kWebhook: {
      auto url = boost::urls::parse_uri(target.arn);
      if (!url || url->host().empty()) {
        return absl::StrCat("The webhook URL ", target.arn, " is not a valid http(s) URL.");
      }
      break;
    }
  }
  absl::Status input = ValidateTargetInput(target);
  if (!input.ok()) return std::string(input.message());
  return "";
}

absl::StatusOr<std::vector<TargetFailure>> EventBusService::PutTargets(
    const Scope& raw_scope, const std::string& bus, const std::string& rule_name,
    const std::vector<Target>& targets) {
  const Scope scope = Normalize(raw_scope);
  KLAXON_ASSIGN_OR_RETURN(std::string bus_name, OwnBus(scope, bus));
  std::vector<TargetFailure> failures;
  std::vector<Target> valid;
  for (const Target& t : targets) {
    std::string why = CheckTarget(scope, bus_name, t);
    if (why.empty()) {
      valid.push_back(t);
    } else {
      failures.push_back(TargetFailure{t.id, "ValidationException", std::move(why)});
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  Rule rule;
  KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(rule, LoadRule(txn, scope, bus_name, rule_name));
    for (const Target& t : valid) {
      auto it = std::find_if(rule.targets.begin(), rule.targets.end(),
                             [&](const Target& x) { return x.id == t.id; });
      if (it != rule.targets.end()) {
        *it = t;
      } else {
        rule.targets.push_back(t);
      }
    }
    if (rule.targets.size() > options_.max_targets_per_rule) {
      return LimitExceeded(
          absl::StrCat("The requested resource exceeds the maximum number allowed (",
                       options_.max_targets_per_rule, " targets per rule)."));
    }
    if (valid.empty()) return absl::OkStatus();
    return txn.Put(internal::kRuleTable, scope.account_id,
                   internal::RuleKey(scope.region, bus_name, rule_name),
                   internal::EncodeRule(rule));
  }));
  if (!valid.empty())
    KLAXON_RETURN_IF_ERROR(CompileRuleLocked(scope.account_id, scope.region, rule));
  return failures;
}

absl::StatusOr<std::vector<TargetFailure>> EventBusService::RemoveTargets(
    const Scope& raw_scope, const std::string& bus, const std::string& rule_name,
    const std::vector<std::string>& ids) {
  const Scope scope = Normalize(raw_scope);
  KLAXON_ASSIGN_OR_RETURN(std::string bus_name, OwnBus(scope, bus));
  std::lock_guard<std::mutex> lock(mu_);
  Rule rule;
  KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(rule, LoadRule(txn, scope, bus_name, rule_name));
    std::set<std::string> remove(ids.begin(), ids.end());
    rule.targets.erase(std::remove_if(rule.targets.begin(), rule.targets.end(),
                                      [&](const Target& t) { return remove.count(t.id) > 0; }),
                       rule.targets.end());
    return txn.Put(internal::kRuleTable, scope.account_id,
                   internal::RuleKey(scope.region, bus_name, rule_name),
                   internal::EncodeRule(rule));
  }));
  KLAXON_RETURN_IF_ERROR(CompileRuleLocked(scope.account_id, scope.region, rule));
  return std::vector<TargetFailure>();
}

absl::StatusOr<Page<Target>> EventBusService::ListTargetsByRule(const Scope& raw_scope,
                                                                const std::string& bus,
                                                                const std::string& rule_name,
                                                                std::optional<int> limit,
                                                                const std::string& next_token) {
  const Scope scope = Normalize(raw_scope);
  KLAXON_ASSIGN_OR_RETURN(std::string bus_name, OwnBus(scope, bus));
  KLAXON_ASSIGN_OR_RETURN(std::string after, internal::DecodePageToken("targets", next_token));
  Rule rule;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(rule, LoadRule(txn, scope, bus_name, rule_name));
    return absl::OkStatus();
  }));
  size_t start = 0;
  if (!after.empty() && !absl::SimpleAtoi(after, &start))
    return ValidationError("Invalid NextToken");
  Page<Target> page;
  const size_t page_size = PageSize(limit);
  for (size_t i = start; i < rule.targets.size(); ++i) {
    if (page.items.size() == page_size) {
      page.next_token = internal::EncodePageToken("targets", std::to_string(i));
      break;
    }
    page.items.push_back(rule.targets[i]);
  }
  return page;
}

// ---------------------------------------------------------------------------------------------
// Tags

namespace {

// The stored resource a taggable ARN names: rule or bus of the caller.
struct Taggable {
  bool is_rule = false;
  std::string bus;
  std::string rule;
};

absl::StatusOr<Taggable> ParseTaggable(const Scope& scope, const std::string& arn) {
  Taggable t;
  if (auto rule = ParseRuleArn(arn)) {
    if (rule->account != scope.account_id || rule->region != scope.region) {
      return NotFound(absl::StrCat("Resource ", arn, " does not exist."));
    }
    t.is_rule = true;
    t.bus = rule->bus;
    t.rule = rule->name;
    return t;
  }
  if (auto bus = ParseEventBusArn(arn)) {
    if (bus->account != scope.account_id || bus->region != scope.region) {
      return NotFound(absl::StrCat("Resource ", arn, " does not exist."));
    }
    t.bus = bus->name;
    return t;
  }
  return ValidationError(absl::StrCat("Parameter ResourceARN is not valid: ", arn,
                                      " is not the ARN of a rule or an event bus."));
}

}  // namespace

absl::Status EventBusService::TagResource(const Scope& raw_scope, const std::string& arn,
                                          const std::vector<Tag>& tags) {
  const Scope scope = Normalize(raw_scope);
  KLAXON_ASSIGN_OR_RETURN(Taggable what, ParseTaggable(scope, arn));
  std::lock_guard<std::mutex> lock(mu_);
  return store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    if (what.is_rule) {
      KLAXON_RETURN_IF_ERROR(LoadRule(txn, scope, what.bus, what.rule).status());
    } else {
      KLAXON_RETURN_IF_ERROR(RequireBus(txn, scope, what.bus));
    }
    std::vector<Tag> current;
    KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(internal::kTagTable, scope.account_id, arn));
    if (text) {
      KLAXON_ASSIGN_OR_RETURN(current, internal::DecodeTags(*text));
    }
    for (const Tag& t : tags) {
      auto it = std::find_if(current.begin(), current.end(),
                             [&](const Tag& c) { return c.key == t.key; });
      if (it != current.end()) {
        it->value = t.value;
      } else {
        current.push_back(t);
      }
    }
    if (current.size() > kMaxTags) {
      return LimitExceeded("The requested resource exceeds the maximum number allowed (50 tags).");
    }
    return txn.Put(internal::kTagTable, scope.account_id, arn, internal::EncodeTags(current));
  });
}

absl::Status EventBusService::UntagResource(const Scope& raw_scope, const std::string& arn,
                                            const std::vector<std::string>& keys) {
  const Scope scope = Normalize(raw_scope);
  KLAXON_ASSIGN_OR_RETURN(Taggable what, ParseTaggable(scope, arn));
  std::lock_guard<std::mutex> lock(mu_);
  return store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    if (what.is_rule) {
      KLAXON_RETURN_IF_ERROR(LoadRule(txn, scope, what.bus, what.rule).status());
    } else {
      KLAXON_RETURN_IF_ERROR(RequireBus(txn, scope, what.bus));
    }
    KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(internal::kTagTable, scope.account_id, arn));
    if (!text) return absl::OkStatus();
    KLAXON_ASSIGN_OR_RETURN(std::vector<Tag> current, internal::DecodeTags(*text));
    std::set<std::string> remove(keys.begin(), keys.end());
    current.erase(std::remove_if(current.begin(), current.end(),
                                 [&](const Tag& t) { return remove.count(t.key) > 0; }),
                  current.end());
    return txn.Put(internal::kTagTable, scope.account_id, arn, internal::EncodeTags(current));
  });
}

absl::StatusOr<std::vector<Tag>> EventBusService::ListTagsForResource(const Scope& raw_scope,
                                                                      const std::string& arn) {
  const Scope scope = Normalize(raw_scope);
  KLAXON_ASSIGN_OR_RETURN(Taggable what, ParseTaggable(scope, arn));
  std::vector<Tag> tags;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    if (what.is_rule) {
      KLAXON_RETURN_IF_ERROR(LoadRule(txn, scope, what.bus, what.rule).status());
    } else {
      KLAXON_RETURN_IF_ERROR(RequireBus(txn, scope, what.bus));
    }
    KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(internal::kTagTable, scope.account_id, arn));
    if (text) {
      KLAXON_ASSIGN_OR_RETURN(tags, internal::DecodeTags(*text));
    }
    return absl::OkStatus();
  }));
  return tags;
}

// ---------------------------------------------------------------------------------------------
// Events

absl::Status EventBusService::MatchInto(const BusState* bus, const std::string& event_json,
                                        absl::Time event_time, absl::Time ingestion_time, int hops,
                                        const std::string& account, Pending& out) const {
  std::shared_ptr<const BusSnapshot> snap = bus->snapshot.load();
  if (!snap->rule_set || snap->rules.empty()) return absl::OkStatus();
  thread_local std::vector<pattern::RuleId> ids;
  KLAXON_RETURN_IF_ERROR(snap->rule_set->MatchInto(event_json, &ids));
  for (pattern::RuleId id : ids) {
    auto it = snap->rules.find(id);
    if (it == snap->rules.end()) continue;
    for (const CompiledTarget& t : it->second->targets) {
      out.items.push_back(Pending::Item{
          account, t.type == TargetType::kEventBus ? internal::kBusKind : internal::kTargetKind,
          internal::BuildPayload(t.head, event_time, ingestion_time, hops, t.target_json,
                                 event_json),
          t.policy});
    }
  }
  return absl::OkStatus();
}

absl::Status EventBusService::EnqueueInTxn(storage::WriteTxn& txn, const Pending& pending) {
  for (const Pending::Item& item : pending.items) {
    KLAXON_RETURN_IF_ERROR(outbox_
                               .EnqueueInTxn(txn, item.account, item.kind, item.payload,
                                             item.policy ? &*item.policy : nullptr)
                               .status());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<PutEventsResult>> EventBusService::PutEvents(
    const Scope& scope, const std::vector<PutEventsEntry>& entries) {
  return Put(scope, entries, /*partner=*/false);
}

absl::StatusOr<std::vector<PutEventsResult>> EventBusService::PutPartnerEvents(
    const Scope& partner, const std::vector<PutEventsEntry>& entries) {
  return Put(partner, entries, /*partner=*/true);
}

absl::StatusOr<std::vector<PutEventsResult>> EventBusService::Put(
    const Scope& raw_scope, const std::vector<PutEventsEntry>& entries, bool partner) {
  const Scope scope = Normalize(raw_scope);
  size_t total = 0;
  for (const auto& e : entries) total += EntrySize(e);
  if (total > options_.max_put_events_bytes) {
    return ValidationError("Total size of the entries in the request is over the limit.");
  }
  const absl::Time now = clock_.Now();
  std::vector<PutEventsResult> results(entries.size());
  Pending pending;

  // Partner events: the accounts each source was offered to, with the source ACTIVE there.
  std::map<std::string, std::vector<std::string>> active_accounts;  // source -> accounts
  if (partner) {
    std::set<std::string> sources;
    for (const auto& e : entries) {
      if (e.source) sources.insert(*e.source);
    }
    KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
      active_accounts.clear();
      for (const std::string& source : sources) {
        std::vector<std::string> offered;
        KLAXON_RETURN_IF_ERROR(txn.Scan(internal::kPartnerTable, scope.account_id,
                                        absl::StrCat(scope.region, "|", source, "|"), "", 0,
                                        [&](std::string_view key, std::string_view) {
                                          offered.emplace_back(key.substr(key.rfind('|') + 1));
                                          return true;
                                        }));
        auto& active = active_accounts[source];
        for (const std::string& account : offered) {
          KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(internal::kSourceTable, account,
                                                     internal::SourceKey(scope.region, source)));
          if (!text) continue;
          KLAXON_ASSIGN_OR_RETURN(internal::SourceRecord src, internal::DecodeSource(*text));
          if (src.partner_account == scope.account_id && src.State() == EventSourceState::kActive) {
            active.push_back(account);
          }
        }
        if (offered.empty()) active_accounts.erase(source);
      }
      return absl::OkStatus();
    }));
  }

  for (size_t i = 0; i < entries.size(); ++i) {
    const PutEventsEntry& e = entries[i];
    if (!e.source || e.source->empty()) {
      results[i] = Failure("InvalidArgument",
                           "Parameter Source is not valid. Reason: Source is a required argument.");
      continue;
    }
    if (!e.detail_type || e.detail_type->empty()) {
      results[i] =
          Failure("InvalidArgument",
                  "Parameter DetailType is not valid. Reason: DetailType is a required argument.");
      continue;
    }
    if (!e.detail) {
      results[i] = Failure("InvalidArgument",
                           "Parameter Detail is not valid. Reason: Detail is a required argument.");
      continue;
    }
    auto detail = NormalizeDetail(*e.detail);
    if (!detail.ok()) {
      results[i] = Failure("MalformedDetail", "Detail is malformed.");
      continue;
    }
    const std::string id = NewUuid();
    const absl::Time time = e.time.value_or(now);
    absl::Status matched;
    if (partner) {
      auto it = active_accounts.find(*e.source);
      if (it == active_accounts.end()) {
        results[i] = Failure("NotAuthorizedForSourceException", "Not authorized for the source.");
        continue;
      }
      for (const std::string& account : it->second) {
        auto bus = FindBus(account, scope.region, *e.source);
        if (!bus) continue;
        std::string event = BuildEnvelope(EnvelopeFields{
            id, *e.detail_type, *e.source, account, time, scope.region, &e.resources, *detail});
        matched.Update(MatchInto(bus.get(), event, time, now, 0, account, pending));
      }
    } else {
      auto ref = ResolveBus(scope, e.event_bus_name.value_or(""));
      if (!ref.ok()) {
        results[i] = Failure("InvalidArgument", std::string(ref.status().message()));
        continue;
      }
      if (ref->account != scope.account_id) {
        results[i] = Failure("AccessDeniedException",
                             absl::StrCat("Not authorized to put events on event bus ",
                                          *e.event_bus_name, " of another account."));
        continue;
      }
      auto bus = FindBus(ref->account, ref->region, ref->name);
      if (!bus && ref->name != kDefaultBus) {
        results[i] = Failure("ResourceNotFoundException",
                             absl::StrCat("Event bus ", ref->name, " does not exist."));
        continue;
      }
      if (bus) {
        std::string event = BuildEnvelope(EnvelopeFields{
            id, *e.detail_type, *e.source, ref->account, time, ref->region, &e.resources, *detail});
        matched = MatchInto(bus.get(), event, time, now, 0, ref->account, pending);
      }
    }
    if (!matched.ok()) {
      results[i] = Failure(matched.code() == absl::StatusCode::kInvalidArgument ? "InvalidArgument"
                                                                                : "InternalFailure",
                           std::string(matched.message()));
      continue;
    }
    results[i].event_id = id;
  }

  if (!pending.items.empty()) {
    KLAXON_RETURN_IF_ERROR(
        store_.Write([&](storage::WriteTxn& txn) { return EnqueueInTxn(txn, pending); }));
    outbox_.Notify();
  }
  if (accepted_) {
    size_t ok = 0;
    for (const auto& r : results) ok += r.error_code.empty() ? 1 : 0;
    accepted_->Add(ok);
    failed_->Add(results.size() - ok);
    matches_->Add(pending.items.size());
  }
  return results;
}

absl::StatusOr<bool> EventBusService::TestEventPattern(const std::string& pattern_text,
                                                       const std::string& event) {
  KLAXON_ASSIGN_OR_RETURN(pattern::Pattern p, CompilePattern(pattern_text));
  boost::system::error_code ec;
  json::value v = json::parse(event, ec);
  if (ec || !v.is_object()) {
    return ValidationError("Parameter Event is not valid. Reason: the event is not a JSON object.");
  }
  std::vector<std::string> missing;
  for (const char* field :
       {"id", "account", "source", "time", "region", "resources", "detail-type"}) {
    if (!v.as_object().contains(field)) missing.push_back(field);
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) absl::StrAppend(&list, list.empty() ? "" : ", ", m);
    return ValidationError(absl::StrCat(
        "Parameter Event is not valid. Reason: Provided Event is missing required fields: ", list,
        "."));
  }
  auto match = pattern::MatchesOne(p, event);
  if (!match.ok()) {
    return ValidationError(
        absl::StrCat("Parameter Event is not valid. Reason: ", match.status().message()));
  }
  return *match;
}

absl::Status EventBusService::PublishInTxn(storage::WriteTxn& txn, const ServiceEvent& event) {
  const std::string region = event.region.empty() ? options_.default_region : event.region;
  auto bus = FindBus(event.account_id, region, kDefaultBus);
  if (!bus) return absl::OkStatus();
  KLAXON_ASSIGN_OR_RETURN(std::string detail,
                          NormalizeDetail(event.detail_json.empty() ? "{}" : event.detail_json));
  const std::string id = event.id.empty() ? NewUuid() : event.id;
  const absl::Time now = clock_.Now();
  const absl::Time time = event.time == absl::Time() ? now : event.time;
  std::string envelope =
      BuildEnvelope(EnvelopeFields{id, event.detail_type, event.source, event.account_id, time,
                                   region, &event.resources, detail});
  Pending pending;
  KLAXON_RETURN_IF_ERROR(MatchInto(bus.get(), envelope, time, now, 0, event.account_id, pending));
  if (matches_) matches_->Add(pending.items.size());
  return EnqueueInTxn(txn, pending);
}

void EventBusService::NotifyDelivery() { outbox_.Notify(); }

absl::Status EventBusService::ForwardInTxn(storage::WriteTxn& txn, const std::string& account,
                                           const internal::DeliveryPayload& payload) {
  auto ref = ParseEventBusArn(payload.target.arn);
  if (!ref) return absl::InvalidArgumentError("not an event bus target");
  if (ref->account != account) {
    return absl::PermissionDeniedError("cross-account event bus targets are not supported");
  }
  if (payload.hops + 1 > internal::kMaxHops) {
    spdlog::warn("events: event dropped after {} bus-to-bus hops (rule {})", payload.hops,
                 payload.rule_arn);
    return absl::OkStatus();
  }
  auto bus = FindBus(ref->account, ref->region, ref->name);
  if (!bus) {
    if (ref->name == kDefaultBus) return absl::OkStatus();
    return absl::NotFoundError(absl::StrCat("Event bus ", ref->name, " does not exist."));
  }
  Pending pending;
  KLAXON_RETURN_IF_ERROR(MatchInto(bus.get(), payload.event_json, payload.event_time, clock_.Now(),
                                   payload.hops + 1, ref->account, pending));
  if (matches_) matches_->Add(pending.items.size());
  return EnqueueInTxn(txn, pending);
}

// ---------------------------------------------------------------------------------------------
// Partner event sources

absl::StatusOr<std::string> EventBusService::CreatePartnerEventSource(const Scope& raw_partner,
                                                                      const std::string& name,
                                                                      const std::string& account) {
  const Scope partner = Normalize(raw_partner);
  const std::string arn = EventSourceArn(partner.region, name);
  std::lock_guard<std::mutex> lock(mu_);
  KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    const std::string pkey = internal::PartnerKey(partner.region, name, account);
    KLAXON_ASSIGN_OR_RETURN(auto mine, txn.Get(internal::kPartnerTable, partner.account_id, pkey));
    if (mine) return AlreadyExists(absl::StrCat("Event source ", name, " already exists."));
    const std::string skey = internal::SourceKey(partner.region, name);
    KLAXON_ASSIGN_OR_RETURN(auto theirs, txn.Get(internal::kSourceTable, account, skey));
    internal::SourceRecord src;
    if (theirs) {
      KLAXON_ASSIGN_OR_RETURN(src, internal::DecodeSource(*theirs));
      if (!src.deleted) {
        return AlreadyExists(absl::StrCat("Event source ", name, " already exists."));
      }
    }
    // A re-created source keeps the customer's bus association.
    src.source.name = name;
    src.source.arn = arn;
    src.source.created_by = PartnerName(name);
    src.source.creation_time = clock_.Now();
    src.partner_account = partner.account_id;
    src.deactivated = false;
    src.deleted = false;
    KLAXON_RETURN_IF_ERROR(txn.Put(internal::kPartnerTable, partner.account_id, pkey, ""));
    KLAXON_RETURN_IF_ERROR(
        txn.Put(internal::kSourceTable, account, skey, internal::EncodeSource(src)));
    return txn.Put(internal::kAccountTable, "", account, "");
  }));
  return arn;
}

absl::StatusOr<std::string> EventBusService::DescribePartnerEventSource(const Scope& raw_partner,
                                                                        const std::string& name) {
  const Scope partner = Normalize(raw_partner);
  bool found = false;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    return txn.Scan(internal::kPartnerTable, partner.account_id,
                    absl::StrCat(partner.region, "|", name, "|"), "", 1,
                    [&](std::string_view, std::string_view) {
                      found = true;
                      return false;
                    });
  }));
  if (!found) return NotFound(absl::StrCat("Event source ", name, " does not exist."));
  return EventSourceArn(partner.region, name);
}

absl::StatusOr<Page<std::string>> EventBusService::ListPartnerEventSources(
    const Scope& raw_partner, const std::string& name_prefix, std::optional<int> limit,
    const std::string& next_token) {
  const Scope partner = Normalize(raw_partner);
  KLAXON_ASSIGN_OR_RETURN(std::string after, internal::DecodePageToken("psources", next_token));
  std::set<std::string> names;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    names.clear();
    return txn.Scan(internal::kPartnerTable, partner.account_id,
                    absl::StrCat(partner.region, "|", name_prefix), "", 0,
                    [&](std::string_view key, std::string_view) {
                      std::string region, name;
                      if (SplitRuleKey(key, &region, &name)) names.insert(name);
                      return true;
                    });
  }));
  return Paginate(std::vector<std::string>(names.begin(), names.end()), PageSize(limit), after,
                  "psources", [](const std::string& n) -> const std::string& { return n; });
}

absl::StatusOr<Page<PartnerEventSourceAccount>> EventBusService::ListPartnerEventSourceAccounts(
    const Scope& raw_partner, const std::string& name, std::optional<int> limit,
    const std::string& next_token) {
  const Scope partner = Normalize(raw_partner);
  KLAXON_ASSIGN_OR_RETURN(std::string after, internal::DecodePageToken("paccounts", next_token));
  std::vector<PartnerEventSourceAccount> accounts;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    accounts.clear();
    std::vector<std::string> ids;
    KLAXON_RETURN_IF_ERROR(txn.Scan(internal::kPartnerTable, partner.account_id,
                                    absl::StrCat(partner.region, "|", name, "|"), "", 0,
                                    [&](std::string_view key, std::string_view) {
                                      ids.emplace_back(key.substr(key.rfind('|') + 1));
                                      return true;
                                    }));
    for (const std::string& account : ids) {
      PartnerEventSourceAccount a;
      a.account = account;
      KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(internal::kSourceTable, account,
                                                 internal::SourceKey(partner.region, name)));
      if (text) {
        KLAXON_ASSIGN_OR_RETURN(internal::SourceRecord src, internal::DecodeSource(*text));
        a.creation_time = src.source.creation_time;
        a.state = src.State();
      }
      accounts.push_back(std::move(a));
    }
    return absl::OkStatus();
  }));
  if (accounts.empty()) return NotFound(absl::StrCat("Event source ", name, " does not exist."));
  return Paginate(
      std::move(accounts), PageSize(limit), after, "paccounts",
      [](const PartnerEventSourceAccount& a) -> const std::string& { return a.account; });
}

absl::Status EventBusService::DeletePartnerEventSource(const Scope& raw_partner,
                                                       const std::string& name,
                                                       const std::string& account) {
  const Scope partner = Normalize(raw_partner);
  std::lock_guard<std::mutex> lock(mu_);
  return store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    const std::string pkey = internal::PartnerKey(partner.region, name, account);
    KLAXON_ASSIGN_OR_RETURN(auto mine, txn.Get(internal::kPartnerTable, partner.account_id, pkey));
    if (!mine) return absl::OkStatus();
    KLAXON_RETURN_IF_ERROR(txn.Delete(internal::kPartnerTable, partner.account_id, pkey));
    const std::string skey = internal::SourceKey(partner.region, name);
    KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(internal::kSourceTable, account, skey));
    if (!text) return absl::OkStatus();
    KLAXON_ASSIGN_OR_RETURN(internal::SourceRecord src, internal::DecodeSource(*text));
    if (src.partner_account != partner.account_id) return absl::OkStatus();
    src.deleted = true;
    return txn.Put(internal::kSourceTable, account, skey, internal::EncodeSource(src));
  });
}

absl::StatusOr<Page<EventSource>> EventBusService::ListEventSources(const Scope& raw_scope,
                                                                    const std::string& name_prefix,
                                                                    std::optional<int> limit,
                                                                    const std::string& next_token) {
  const Scope scope = Normalize(raw_scope);
  KLAXON_ASSIGN_OR_RETURN(std::string after, internal::DecodePageToken("sources", next_token));
  std::vector<EventSource> sources;
  absl::Status error;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    sources.clear();
    return txn.Scan(internal::kSourceTable, scope.account_id,
                    internal::SourceKey(scope.region, name_prefix), "", 0,
                    [&](std::string_view, std::string_view value) {
                      auto src = internal::DecodeSource(value);
                      if (!src.ok()) {
                        error = src.status();
                        return false;
                      }
                      sources.push_back(src->source);
                      return true;
                    });
  }));
  KLAXON_RETURN_IF_ERROR(error);
  return Paginate(std::move(sources), PageSize(limit), after, "sources",
                  [](const EventSource& s) -> const std::string& { return s.name; });
}

absl::StatusOr<EventSource> EventBusService::DescribeEventSource(const Scope& raw_scope,
                                                                 const std::string& name) {
  const Scope scope = Normalize(raw_scope);
  std::optional<std::string> text;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(text, txn.Get(internal::kSourceTable, scope.account_id,
                                          internal::SourceKey(scope.region, name)));
    return absl::OkStatus();
  }));
  if (!text) return NotFound(absl::StrCat("Event source ", name, " does not exist."));
  KLAXON_ASSIGN_OR_RETURN(internal::SourceRecord src, internal::DecodeSource(*text));
  return src.source;
}

absl::Status EventBusService::ActivateEventSource(const Scope& raw_scope, const std::string& name) {
  const Scope scope = Normalize(raw_scope);
  std::lock_guard<std::mutex> lock(mu_);
  return store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    const std::string key = internal::SourceKey(scope.region, name);
    KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(internal::kSourceTable, scope.account_id, key));
    if (!text) return NotFound(absl::StrCat("Event source ", name, " does not exist."));
    KLAXON_ASSIGN_OR_RETURN(internal::SourceRecord src, internal::DecodeSource(*text));
    if (src.deleted) {
      return InvalidState(absl::StrCat("Event source ", name, " was deleted by its partner."));
    }
    src.deactivated = false;
    return txn.Put(internal::kSourceTable, scope.account_id, key, internal::EncodeSource(src));
  });
}

absl::Status EventBusService::DeactivateEventSource(const Scope& raw_scope,
                                                    const std::string& name) {
  const Scope scope = Normalize(raw_scope);
  std::lock_guard<std::mutex> lock(mu_);
  return store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    const std::string key = internal::SourceKey(scope.region, name);
    KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(internal::kSourceTable, scope.account_id, key));
    if (!text) return NotFound(absl::StrCat("Event source ", name, " does not exist."));
    KLAXON_ASSIGN_OR_RETURN(internal::SourceRecord src, internal::DecodeSource(*text));
    if (src.deleted) {
      return InvalidState(absl::StrCat("Event source ", name, " was deleted by its partner."));
    }
    src.deactivated = true;
    return txn.Put(internal::kSourceTable, scope.account_id, key, internal::EncodeSource(src));
  });
}

}  // namespace klaxon::events
