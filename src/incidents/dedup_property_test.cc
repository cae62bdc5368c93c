// Property test: deduplication, with its fast paths (the full-timeline hint, the read-only path
// and the storm answers kept in memory), behaves exactly like a naive model of the semantics on
// random sequences of starts (some tried inside a NonBlockingScope first, or through StartAsync,
// as the HTTP server does), resolves and updates. Small limits make timelines and related items
// fill up often.
//
// The model: a plan's dedup key is held by at most one open incident; a start with that key joins
// it (created=false), recording its trigger event if the timeline has room and its related item
// if it is new and there is room; otherwise it opens a new incident (trigger + start events, the
// parent OpsItem plus its item as related items). A plan without a dedupeString never
// deduplicates. Resolving frees the key; an update records an event if there is room.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/non_blocking.h"
#include "gtest/gtest.h"
#include "incidents/incident_manager.h"
#include "opsitems/ops_item_service.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "storage/memory_store.h"

namespace klaxon::incidents {
namespace {

constexpr char kAccount[] = "000000000000";
constexpr char kCaller[] = "arn:aws:iam::000000000000:user/alice";
constexpr int kPlans = 3;  // plans 0 and 1 have a dedupeString, plan 2 has none
constexpr int kItems = 2;

enum class Kind { kStart, kStartNonBlockingFirst, kStartAsync, kResolve, kRetitle };

struct Op {
  Kind kind;
  int plan;
  int item;  // -1: none
  bool token;
};

rc::Gen<Op> AnOp() {
  return rc::gen::apply(
      [](Kind kind, int plan, int item, bool token) {
        return Op{kind, plan, item, token};
      },
      rc::gen::weightedElement<Kind>({{3, Kind::kStart},
                                      {4, Kind::kStartNonBlockingFirst},
                                      {4, Kind::kStartAsync},
                                      {1, Kind::kResolve},
                                      {1, Kind::kRetitle}}),
      rc::gen::inRange(0, kPlans), rc::gen::inRange(-1, kItems),
      rc::gen::weightedElement<bool>({{5, false}, {1, true}}));
}

struct ModelIncident {
  int plan = 0;
  bool open = true;
  int timeline = 0;
  std::set<int> items;  // related items besides the parent
  std::string arn;      // the service's ARN for it
};

class Harness {
 public:
  explicit Harness(const Limits& limits)
      : limits_(limits), ops_(store_, clock_), im_(store_, clock_, ops_, limits_) {
    CreateReplicationSetRequest set;
    set.regions["us-east-1"] = std::nullopt;
    RC_ASSERT(im_.replication_sets().Create(scope(), set).ok());
    for (int p = 0; p < kPlans; ++p) {
      CreateResponsePlanRequest plan;
      plan.name = absl::StrCat("plan-", p);
      plan.incident_template.title = "t";
      plan.incident_template.impact = 3;
      if (p < 2) plan.incident_template.dedupe_string = absl::StrCat("key-", p);
      auto arn = im_.response_plans().Create(scope(), plan);
      RC_ASSERT(arn.ok());
      plan_arns_.push_back(*arn);
    }
  }

  Scope scope() const { return Scope{kAccount, "us-east-1", kCaller}; }

  void Apply(const Op& op) {
    clock_.Advance(absl::Seconds(1));
    switch (op.kind) {
      case Kind::kStart:
      case Kind::kStartNonBlockingFirst:
      case Kind::kStartAsync:
        Start(op);
        break;
      case Kind::kResolve:
      case Kind::kRetitle:
        Update(op);
        break;
    }
  }

  // Every incident's timeline and related items, as the service lists them, match the model.
  void CheckAll() {
    for (const ModelIncident& m : model_) {
      ListTimelineEventsRequest list;
      list.incident_record_arn = m.arn;
      list.max_results = 100;
      auto events = im_.timeline().List(scope(), list);
      RC_ASSERT(events.ok());
      RC_ASSERT(static_cast<int>(events->items.size()) == m.timeline);
      auto related = im_.incidents().ListRelatedItems(scope(), m.arn, 100, "");
      RC_ASSERT(related.ok());
      RC_ASSERT(related->items.size() == m.items.size() + 1);  // + the parent OpsItem
      auto record = im_.incidents().Get(scope(), m.arn);
      RC_ASSERT(record.ok());
      RC_ASSERT((record->status == IncidentStatus::kOpen) == m.open);
    }
  }

 private:
  void Start(const Op& op) {
    StartIncidentRequest req;
    req.response_plan_arn = plan_arns_[op.plan];
    req.source.created_by = kCaller;
    req.source.invoked_by = kCaller;
    if (op.token) req.client_token = absl::StrCat("token-", next_token_++);
    if (op.item >= 0) {
      RelatedItem item;
      item.identifier.type = "OTHER";
      item.identifier.value.arn = absl::StrCat("arn:aws:s3:::item-", op.item);
      item.title = "item";
      req.related_items.push_back(item);
    }

    // What the model says.
    std::optional<size_t> holder;
    if (op.plan < 2 && holders_.contains(op.plan)) holder = holders_[op.plan];
    bool model_writes = true;
    if (holder) {
      const ModelIncident& m = model_[*holder];
      const bool event = m.timeline < limits_.max_timeline_events;
      const bool item = op.item >= 0 && !m.items.contains(op.item) &&
                        static_cast<int>(m.items.size()) + 1 < limits_.max_related_items;
      model_writes = event || item || op.token;
    }

    absl::StatusOr<StartIncidentResult> result = absl::UnknownError("not run");
    if (op.kind == Kind::kStartNonBlockingFirst) {
      {
        NonBlockingScope non_blocking;
        result = im_.incidents().Start(scope(), req);
      }
      if (result.ok()) {
        // Answered without the store: only right if the model changes nothing.
        RC_ASSERT(holder.has_value());
        RC_ASSERT(!model_writes);
      } else {
        RC_ASSERT(IsWouldBlock(result.status()));
      }
    }
    if (op.kind == Kind::kStartAsync) {
      // As the HTTP server's I/O thread calls it; the memory store completes inside the call.
      bool called = false;
      absl::Status queued;
      {
        NonBlockingScope non_blocking;
        queued =
            im_.incidents().StartAsync(scope(), req, [&](absl::StatusOr<StartIncidentResult> r) {
              RC_ASSERT(!called);
              called = true;
              result = std::move(r);
            });
      }
      if (queued.ok()) {
        RC_ASSERT(called);
      } else {
        RC_ASSERT(IsWouldBlock(queued));
        RC_ASSERT(!called);
      }
    }
    if (!result.ok()) result = im_.incidents().Start(scope(), req);
    RC_ASSERT(result.ok());
    RC_ASSERT(!result->replayed);

    if (holder) {
      ModelIncident& m = model_[*holder];
      RC_ASSERT(!result->created);
      RC_ASSERT(result->incident_record_arn == m.arn);
      if (m.timeline < limits_.max_timeline_events) ++m.timeline;
      if (op.item >= 0 && static_cast<int>(m.items.size()) + 1 < limits_.max_related_items) {
        m.items.insert(op.item);
      }
      return;
    }
    RC_ASSERT(result->created);
    for (const ModelIncident& m : model_) RC_ASSERT(m.arn != result->incident_record_arn);
    ModelIncident m;
    m.plan = op.plan;
    m.timeline = 2;
    if (op.item >= 0) m.items.insert(op.item);
    m.arn = result->incident_record_arn;
    model_.push_back(m);
    if (op.plan < 2) holders_[op.plan] = model_.size() - 1;
  }

  void Update(const Op& op) {
    if (op.plan >= 2 || !holders_.contains(op.plan)) return;
    ModelIncident& m = model_[holders_[op.plan]];
    UpdateIncidentRecordRequest req;
    req.arn = m.arn;
    if (op.kind == Kind::kResolve) {
      req.status = IncidentStatus::kResolved;
      m.open = false;
      holders_.erase(op.plan);
    } else {
      req.title = absl::StrCat("title-", next_token_++);
    }
    RC_ASSERT(im_.incidents().Update(scope(), req).ok());
    if (m.timeline < limits_.max_timeline_events) ++m.timeline;
  }

  Limits limits_;
  storage::MemoryStore store_;
  SimulatedClock clock_;
  opsitems::OpsItemService ops_;
  IncidentManager im_;
  std::vector<std::string> plan_arns_;
  std::vector<ModelIncident> model_;
  std::map<int, size_t> holders_;  // plan -> index in model_ of the open incident holding its key
  int next_token_ = 0;
};

RC_GTEST_PROP(DedupProperty, FastPathsAgreeWithTheModel, ()) {
  Limits limits;
  limits.max_timeline_events = *rc::gen::inRange(3, 7);
  limits.max_related_items = *rc::gen::inRange(2, 4);
  Harness harness(limits);
  const auto ops = *rc::gen::container<std::vector<Op>>(AnOp());
  for (const Op& op : ops) harness.Apply(op);
  harness.CheckAll();
}

}  // namespace
}  // namespace klaxon::incidents
