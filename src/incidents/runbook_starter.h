#pragma once
// The hook through which a new incident starts its response plan's runbook (SSM Automation).
//
// Runbooks are a later issue; IncidentService calls this interface when it is given one and does
// nothing otherwise (it never pretends a runbook ran). The call happens inside the transaction that
// creates the incident, so an implementation can record the start durably (e.g. an outbox row that
// an executor picks up after commit) and the incident and its runbook request commit together.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "incidents/types.h"
#include "storage/store.h"

namespace klaxon::incidents {

struct RunbookRequest {
  Scope scope;
  std::string incident_record_arn;  // the value of the INCIDENT_RECORD_ARN dynamic parameter
  std::string response_plan_arn;
  SsmAutomation automation;  // the plan's action (document, role, parameters, dynamicParameters)
  std::vector<std::string> involved_resources;  // ARNs for INVOLVED_RESOURCES
};

class RunbookStarter {
 public:
  virtual ~RunbookStarter() = default;

  // Called for a newly created incident whose plan has an action, when the StartIncidentRequest
  // asked for it (run_runbook; false for cross-Region failover). Must write only through `txn` and
  // be safe to run more than once (the store may retry the transaction). Returns the automation
  // execution ARN to record in the incident's automationExecutions, or nullopt.
  // An error with code kInternal/kUnavailable aborts the incident creation (store failure); any
  // other error is recorded on the timeline as "SSM Automation Execution Start Failure for
  // Incident" and the incident is still created.
  virtual absl::StatusOr<std::optional<std::string>> StartInTxn(storage::WriteTxn& txn,
                                                                const RunbookRequest& request) = 0;
};

}  // namespace klaxon::incidents
