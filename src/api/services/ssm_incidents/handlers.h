#pragma once
// Operation handlers of Incident Manager (`ssm-incidents`, rest-json): every operation of the
// Debian botocore model (2018-05-10, 29 operations). ListIncidentFindings and
// BatchGetIncidentFindings exist only in newer models and are not registered.
//
// Each handler turns the model-shaped input object (api/operation.h: member names of the model,
// already validated against it, URI/query members merged in, timestamps as epoch-seconds doubles)
// into a call of the incidents domain in the caller's account and Region (CallContext::caller),
// and its result into the model's output shape: required output members always present, unions
// with exactly one member, absent optional members omitted. Semantic rules and their errors live
// in the domain (incidents/*.h); handlers only map shapes.
//
// Thread-safety: the registered handlers are thread-safe (they hold only a reference to the
// services, which are thread-safe); `incidents` must outlive the table.

#include "api/operation.h"
#include "incidents/incident_manager.h"

namespace klaxon::api::ssm_incidents {

// Registers a handler for every ssm-incidents operation under service "ssm-incidents".
void RegisterSsmIncidentsHandlers(OperationTable& table, incidents::IncidentManager& incidents);

}  // namespace klaxon::api::ssm_incidents
