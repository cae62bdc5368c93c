#pragma once
// Operation handlers of the Systems Manager (`ssm`, JSON 1.1) OpsCenter operations:
// CreateOpsItem, GetOpsItem, UpdateOpsItem, DescribeOpsItems, AssociateOpsItemRelatedItem,
// ListOpsItemRelatedItems, DisassociateOpsItemRelatedItem.
//
// Each handler turns the model-shaped input object (api/operation.h: member names of the ssm
// model, already validated against it, timestamps as epoch-seconds doubles) into a call of
// opsitems::OpsItemService in the caller's account and Region (CallContext::caller), and its
// result into the model's output shape. Semantic rules and their errors live in the domain
// (opsitems/ops_item_service.h); a handler only adds the checks that need the wire form
// (OpsItemArn consistency, members whose model shape is looser than what OpsCenter accepts).
//
// Thread-safety: the registered handlers are thread-safe (they hold only a reference to the
// service, which is thread-safe); `service` must outlive the table.

#include "api/operation.h"
#include "opsitems/ops_item_service.h"

namespace klaxon::api {
namespace ssm {

// Registers the handlers above under service "ssm".
void RegisterSsmHandlers(OperationTable& table, opsitems::OpsItemService& service);

// Model-shaped output of one OpsItem (shape OpsItem of the ssm model).
boost::json::object OpsItemToJson(const opsitems::OpsItem& item);
// Model-shaped OpsItemSummary: like OpsItem, but OperationalData holds only the searchable
// (SearchableString) entries, as DescribeOpsItems shows them in OpsCenter.
boost::json::object OpsItemSummaryToJson(const opsitems::OpsItem& item);
// Model-shaped OpsItemRelatedItemSummary.
boost::json::object RelatedItemToJson(const opsitems::RelatedItem& item);

}  // namespace ssm

// Also reachable as api::RegisterSsmHandlers.
using ssm::RegisterSsmHandlers;

}  // namespace klaxon::api
