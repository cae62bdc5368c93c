#pragma once
// Test fixture of the events/bus unit tests: a MemoryStore, a SimulatedClock, a manual
// StoreOutbox (no threads: DeliverDue() drives delivery), the real Incident Manager and OpsCenter,
// an EventBusService and its TargetDelivery with a fake webhook client.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "events/bus/delivery.h"
#include "events/bus/event_bus_service.h"
#include "events/bus/webhook_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "incidents/incident_manager.h"
#include "opsitems/ops_item_service.h"
#include "outbox/store_outbox.h"
#include "storage/memory_store.h"

namespace klaxon::events::testing {

inline constexpr char kAccount[] = "111122223333";
inline constexpr char kOther[] = "444455556666";
inline constexpr char kRegion[] = "us-east-1";
inline constexpr char kRole[] = "arn:aws:iam::111122223333:role/EventBridgeStartIncident";

inline std::string ErrorType(const absl::Status& status) {
  return AwsErrorType(status).value_or("");
}

// Records webhook calls and answers with the queued statuses (200 when the queue is empty).
class FakeWebhooks final : public WebhookClient {
 public:
  struct Call {
    std::string url;
    std::map<std::string, std::string> headers;
    std::string body;
  };
  absl::StatusOr<HttpResult> Post(const std::string& url,
                                  const std::map<std::string, std::string>& headers,
                                  const std::string& body, absl::Duration) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(Call{url, headers, body});
    if (answers_.empty()) return HttpResult{200, "ok"};
    int status = answers_.front();
    answers_.erase(answers_.begin());
    if (status < 0) return absl::UnavailableError("connection refused");
    return HttpResult{status, "answer"};
  }
  void Answer(std::vector<int> statuses) {
    std::lock_guard<std::mutex> lock(mu_);
    answers_ = std::move(statuses);
  }
  std::vector<Call> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::vector<Call> calls_;
  std::vector<int> answers_;
};

class EventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    outbox::OutboxOptions oo;
    oo.delivery_threads = 0;
    outbox_ = std::make_unique<outbox::StoreOutbox>(store_, clock_, oo);
    ops_ = std::make_unique<opsitems::OpsItemService>(store_, clock_);
    im_ = std::make_unique<incidents::IncidentManager>(store_, clock_, *ops_);
    Rebuild();
  }

  // A fresh service over the same store (as after a restart).
  void Rebuild() {
    delivery_.reset();
    buses_ = std::make_unique<EventBusService>(store_, clock_, *outbox_, options_);
    ASSERT_TRUE(buses_->Load().ok());
    delivery_ = std::make_unique<TargetDelivery>(*buses_, &im_->incidents(), &webhooks_);
    ASSERT_TRUE(delivery_->Register(*outbox_).ok());
  }

  Scope scope(std::string account = kAccount) const {
    return Scope{account, kRegion, "arn:aws:iam::" + account + ":user/alice"};
  }
  incidents::Scope im_scope() const {
    return incidents::Scope{kAccount, kRegion, "arn:aws:iam::111122223333:user/alice"};
  }

  void SetUpIncidentManager() {
    incidents::CreateReplicationSetRequest rs;
    rs.regions[kRegion] = std::nullopt;
    ASSERT_TRUE(im_->replication_sets().Create(im_scope(), rs).ok());
  }

  std::string CreatePlan(const std::string& name,
                         std::optional<std::string> dedupe = std::nullopt) {
    incidents::CreateResponsePlanRequest req;
    req.name = name;
    req.incident_template.title = "Title of " + name;
    req.incident_template.impact = 2;
    req.incident_template.dedupe_string = dedupe;
    auto arn = im_->response_plans().Create(im_scope(), req);
    EXPECT_TRUE(arn.ok()) << arn.status();
    return arn.value_or("");
  }

  std::string PutRule(const std::string& name, const std::string& pattern,
                      const std::string& bus = "") {
    PutRuleRequest req;
    req.name = name;
    req.event_bus_name = bus;
    req.event_pattern = pattern;
    auto arn = buses_->PutRule(scope(), req);
    EXPECT_TRUE(arn.ok()) << arn.status();
    return arn.value_or("");
  }

  Target PlanTarget(const std::string& id, const std::string& plan_arn) {
    Target t;
    t.id = id;
    t.arn = plan_arn;
    t.role_arn = kRole;
    return t;
  }

  void AddTargets(const std::string& rule, std::vector<Target> targets,
                  const std::string& bus = "") {
    auto failed = buses_->PutTargets(scope(), bus, rule, targets);
    ASSERT_TRUE(failed.ok()) << failed.status();
    ASSERT_TRUE(failed->empty()) << (*failed)[0].error_message;
  }

  PutEventsEntry Entry(const std::string& source, const std::string& detail_type,
                       const std::string& detail, std::vector<std::string> resources = {},
                       std::optional<std::string> bus = std::nullopt) {
    PutEventsEntry e;
    e.source = source;
    e.detail_type = detail_type;
    e.detail = detail;
    e.resources = std::move(resources);
    e.event_bus_name = std::move(bus);
    return e;
  }

  std::vector<PutEventsResult> Put(std::vector<PutEventsEntry> entries,
                                   std::string account = kAccount) {
    auto r = buses_->PutEvents(scope(account), entries);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.value_or(std::vector<PutEventsResult>());
  }

  size_t Deliver() {
    auto n = outbox_->DeliverDue();
    EXPECT_TRUE(n.ok()) << n.status();
    return n.value_or(0);
  }

  // Delivers until the queue has nothing due (forwarded events enqueue further entries).
  void DeliverAll() {
    for (int i = 0; i < 10 && Deliver() > 0;) ++i;
  }

  std::vector<incidents::IncidentRecord> Incidents() {
    auto page = im_->incidents().List(im_scope(), {}, 100, "");
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->items : std::vector<incidents::IncidentRecord>();
  }

  storage::MemoryStore store_;
  SimulatedClock clock_;
  EventBusOptions options_;
  FakeWebhooks webhooks_;
  std::unique_ptr<outbox::StoreOutbox> outbox_;
  std::unique_ptr<opsitems::OpsItemService> ops_;
  std::unique_ptr<incidents::IncidentManager> im_;
  std::unique_ptr<EventBusService> buses_;
  std::unique_ptr<TargetDelivery> delivery_;
};

}  // namespace klaxon::events::testing
