#pragma once
// Test fixture shared by the incidents unit tests: a MemoryStore, a SimulatedClock, the real
// OpsItemService and an IncidentManager over them, plus helpers for common setup and error checks.

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "common/clock.h"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "incidents/incident_manager.h"
#include "opsitems/ops_item_service.h"
#include "storage/memory_store.h"

namespace klaxon::incidents::testing {

inline constexpr char kAccount[] = "000000000000";
inline constexpr char kCaller[] = "arn:aws:iam::000000000000:user/alice";

// The AWS exception name of `status` ("" if none).
inline std::string ErrorType(const absl::Status& status) {
  return AwsErrorType(status).value_or("");
}

inline std::string ErrorField(const absl::Status& status, const char* name) {
  auto fields = AwsErrorFields(status);
  auto* v = fields.if_contains(name);
  return v && v->is_string() ? std::string(v->get_string()) : "";
}

class IncidentsTest : public ::testing::Test {
 protected:
  explicit IncidentsTest(Limits limits = Limits()) : limits_(limits) {}

  void SetUp() override {
    ops_ = std::make_unique<opsitems::OpsItemService>(store_, clock_);
    im_ = std::make_unique<IncidentManager>(store_, clock_, *ops_, limits_, runbooks_);
  }

  Scope scope(std::string account = kAccount) const { return Scope{account, "us-east-1", kCaller}; }

  std::string CreateReplicationSet() {
    CreateReplicationSetRequest req;
    req.regions["us-east-1"] = std::nullopt;
    auto arn = im_->replication_sets().Create(scope(), req);
    EXPECT_TRUE(arn.ok()) << arn.status();
    return arn.value_or("");
  }

  std::string CreatePlan(const std::string& name, std::optional<std::string> dedupe = std::nullopt,
                         int impact = 3) {
    CreateResponsePlanRequest req;
    req.name = name;
    req.incident_template.title = "Title of " + name;
    req.incident_template.impact = impact;
    req.incident_template.dedupe_string = dedupe;
    auto arn = im_->response_plans().Create(scope(), req);
    EXPECT_TRUE(arn.ok()) << arn.status();
    return arn.value_or("");
  }

  StartIncidentRequest ManualStart(const std::string& plan_arn) const {
    StartIncidentRequest req;
    req.response_plan_arn = plan_arn;
    req.source.created_by = kCaller;
    req.source.invoked_by = kCaller;
    return req;
  }

  std::string Start(const std::string& plan_arn) {
    auto result = im_->incidents().Start(scope(), ManualStart(plan_arn));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->incident_record_arn : "";
  }

  Limits limits_;
  RunbookStarter* runbooks_ = nullptr;
  storage::MemoryStore store_;
  SimulatedClock clock_;
  std::unique_ptr<opsitems::OpsItemService> ops_;
  std::unique_ptr<IncidentManager> im_;
};

}  // namespace klaxon::incidents::testing
