// CloudWatch in the node: the metric store (recovered from its checkpoint and log), the alarm
// service (registry loaded from the store), the outbox handler that runs alarm actions (incidents
// through the node's IncidentService, OpsItems through its OpsItemService), the CloudWatch
// operation handlers, and the scheduler that evaluates alarms and runs checkpoints, compaction
// and history retention.
//
// The evaluation tick is 10 s (high-resolution alarms are evaluated every 10 s, others once per
// minute boundary). The config key cloudwatch.evaluation_interval_ms (or the environment variable
// KLAXON_CLOUDWATCH_EVALUATION_INTERVAL_MS, which takes precedence) makes the scheduler tick that
// often and re-evaluate an alarm as soon as data of its metrics arrives (so that datapoints sent
// for past periods count at once) — meant for tests and demos.

#include <cstdlib>
#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "alarms/alarm_service.h"
#include "alarms/metric_store.h"
#include "alarms/scheduler.h"
#include "api/services/cloudwatch/handlers.h"
#include "common/status.h"
#include "incidents/incident_manager.h"
#include "outbox/outbox.h"
#include "server/component.h"
#include "spdlog/spdlog.h"

namespace klaxon::server {
namespace {

class CloudWatchComponent final : public Component {
 public:
  CloudWatchComponent(std::unique_ptr<alarms::MetricStore> metrics,
                      std::unique_ptr<alarms::AlarmService> alarms,
                      std::unique_ptr<alarms::AlarmScheduler> scheduler)
      : metrics_(std::move(metrics)),
        alarms_(std::move(alarms)),
        scheduler_(std::move(scheduler)) {}

  absl::Status Start() override {
    scheduler_->Start();
    return absl::OkStatus();
  }

  void Stop() override {
    scheduler_->Stop();
    if (auto s = metrics_->Checkpoint(); !s.ok()) {
      spdlog::warn("cloudwatch: final metric checkpoint: {} (the log keeps the data)",
                   s.ToString());
    }
  }

 private:
  std::unique_ptr<alarms::MetricStore> metrics_;
  std::unique_ptr<alarms::AlarmService> alarms_;
  std::unique_ptr<alarms::AlarmScheduler> scheduler_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Component>> MakeCloudWatchComponent(NodeContext& context) {
  alarms::MetricStoreOptions metric_options;
  metric_options.region = context.config.region;
  auto metrics = std::make_unique<alarms::MetricStore>(context.store, metric_options);
  KLAXON_RETURN_IF_ERROR(metrics->Recover());

  alarms::AlarmServiceOptions alarm_options;
  alarm_options.region = context.config.region;
  alarms::AlarmDependencies deps;
  deps.outbox = context.outbox;
  deps.events = context.event_publisher;
  deps.incidents = &context.incidents.incidents();
  deps.ops_items = &context.ops_items;
  auto alarms =
      std::make_unique<alarms::AlarmService>(context.store, context.clock, alarm_options, deps);
  KLAXON_RETURN_IF_ERROR(alarms->Load());
  if (context.outbox != nullptr) {
    alarms::AlarmService* service = alarms.get();
    context.outbox->RegisterHandler(alarms::kAlarmActionKind, [service](const outbox::Entry& e) {
      return service->RunAction(e.id, e.payload);
    });
  } else {
    spdlog::warn("cloudwatch: no outbox in this node; alarm actions run without durability");
  }
  if (context.event_publisher == nullptr) {
    spdlog::warn("cloudwatch: no event publisher in this node; alarm events are not published");
  }

  alarms::SchedulerOptions scheduler_options;
  int64_t interval = context.config.cloudwatch_evaluation_interval_ms;
  if (const char* ms = std::getenv("KLAXON_CLOUDWATCH_EVALUATION_INTERVAL_MS")) {
    if (!absl::SimpleAtoi(ms, &interval) || interval < 0) {
      return absl::InvalidArgumentError(
          "KLAXON_CLOUDWATCH_EVALUATION_INTERVAL_MS must be a number of milliseconds >= 0");
    }
  }
  if (interval > 0) {
    scheduler_options.tick_interval = absl::Milliseconds(interval);
    scheduler_options.evaluate_on_new_data = true;
  }
  auto scheduler =
      std::make_unique<alarms::AlarmScheduler>(*alarms, *metrics, context.clock, scheduler_options);
  api::RegisterCloudWatchHandlers(context.operations, {*metrics, *alarms, context.clock});
  return std::unique_ptr<Component>(
      new CloudWatchComponent(std::move(metrics), std::move(alarms), std::move(scheduler)));
}

}  // namespace klaxon::server
