#pragma once
// Operation handlers of CloudWatch (`cloudwatch`, model 2010-08-01): metrics (PutMetricData,
// GetMetricStatistics, GetMetricData, ListMetrics) and alarms (PutMetricAlarm,
// PutCompositeAlarm, DescribeAlarms, DescribeAlarmsForMetric, DeleteAlarms, SetAlarmState,
// DescribeAlarmHistory, EnableAlarmActions, DisableAlarmActions, TagResource, UntagResource,
// ListTagsForResource).
//
// Handlers see only model-shaped JSON (api/operation.h), so the same handlers serve all three
// CloudWatch protocols (query, JSON 1.0, RPC v2 CBOR). They translate to the typed domain of
// alarms/ and add the rules that need the wire form (member paths in messages, AWS's
// PutMetricData and GetMetricStatistics parameter rules). Errors carry the cloudwatch model's
// exceptions (InvalidParameterValueException, InvalidParameterCombinationException,
// MissingRequiredParameterException, ResourceNotFound, ...), which the protocol layer encodes
// with their query codes.
//
// Thread-safety: the registered handlers are thread-safe; the services must outlive the table.

#include "alarms/alarm_service.h"
#include "alarms/metric_store.h"
#include "api/operation.h"
#include "common/clock.h"

namespace klaxon::api::cloudwatch {

struct CloudWatchServices {
  alarms::MetricStore& metrics;
  alarms::AlarmService& alarms;
  Clock& clock;
};

// Registers the handlers above under service "cloudwatch".
void RegisterCloudWatchHandlers(OperationTable& table, CloudWatchServices services);

}  // namespace klaxon::api::cloudwatch

namespace klaxon::api {
using cloudwatch::RegisterCloudWatchHandlers;
}  // namespace klaxon::api
