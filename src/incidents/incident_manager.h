#pragma once
// Incident Manager: the domain behind the ssm-incidents API (replication set, response plans,
// incidents with deduplication, related items, timelines, tags, resource policies).
//
// IncidentManager owns one instance of each service over a shared Store, Clock and OpsCenter.
// Everything that creates incidents (API, console, EventBridge targets, CloudWatch alarm actions)
// goes through incidents().Start().
//
// Thread-safety: all services are thread-safe. Lifetime: the Store, Clock, OpsItemService and
// RunbookStarter must outlive this object. Copy/move: neither.

#include "common/clock.h"
#include "incidents/client_tokens.h"
#include "incidents/incident_service.h"
#include "incidents/replication_set_service.h"
#include "incidents/response_plan_service.h"
#include "incidents/runbook_starter.h"
#include "incidents/tag_service.h"
#include "incidents/timeline_service.h"
#include "incidents/types.h"
#include "opsitems/ops_item_service.h"
#include "storage/store.h"

namespace klaxon::incidents {

class IncidentManager {
 public:
  // `runbooks` may be null (incidents start no runbook).
  IncidentManager(storage::Store& store, Clock& clock, opsitems::OpsItemService& ops_items,
                  const Limits& limits = Limits(), RunbookStarter* runbooks = nullptr)
      : tokens_(limits),
        replication_sets_(store, clock, limits, tokens_),
        response_plans_(store, clock, limits, tokens_),
        incidents_(store, clock, ops_items, limits, tokens_, runbooks),
        timeline_(store, clock, limits, tokens_),
        tags_(store, limits),
        policies_(store, limits) {}
  IncidentManager(const IncidentManager&) = delete;
  IncidentManager& operator=(const IncidentManager&) = delete;

  ReplicationSetService& replication_sets() { return replication_sets_; }
  ResponsePlanService& response_plans() { return response_plans_; }
  IncidentService& incidents() { return incidents_; }
  TimelineService& timeline() { return timeline_; }
  TagService& tags() { return tags_; }
  ResourcePolicyService& policies() { return policies_; }
  // The clientToken records of every service above (one per store: a service built beside these,
  // over the same store, must share it).
  ClientTokens& client_tokens() { return tokens_; }

 private:
  ClientTokens tokens_;
  ReplicationSetService replication_sets_;
  ResponsePlanService response_plans_;
  IncidentService incidents_;
  TimelineService timeline_;
  TagService tags_;
  ResourcePolicyService policies_;
};

// The name the server wiring uses.
using Services = IncidentManager;

}  // namespace klaxon::incidents
