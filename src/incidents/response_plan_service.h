#pragma once
// Response plans: the templates incidents are started from.
//
// A plan is named (unique per account) and addressed by
// arn:aws:ssm-incidents::ACCOUNT:response-plan/NAME (the alarm-action spelling
// .../responseplan/NAME is accepted too). Plans can be created only while the account's
// replication set is ACTIVE and includes the caller's Region. Deleting a plan deletes its tags and
// resource policies; incidents started from it stay.
//
// Thread-safety: all methods are thread-safe (state lives in the Store). Copy/move: neither.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/json/value.hpp"
#include "common/clock.h"
#include "incidents/client_tokens.h"
#include "incidents/types.h"
#include "storage/store.h"

namespace klaxon::incidents {

struct CreateResponsePlanRequest {
  std::string name;
  std::optional<std::string> display_name;
  IncidentTemplate incident_template;
  boost::json::value chat_channel;  // null = none
  std::vector<std::string> engagements;
  std::vector<Action> actions;
  boost::json::value integrations;  // null = none
  std::map<std::string, std::string> tags;
  std::optional<std::string> client_token;
};

// Every member but arn is optional: an absent member is left unchanged; a present one replaces the
// stored value (an empty list/map/string clears it).
struct UpdateResponsePlanRequest {
  std::string arn;
  std::optional<std::string> display_name;
  std::optional<std::string> incident_template_title;
  std::optional<int> incident_template_impact;
  std::optional<std::string> incident_template_summary;
  std::optional<std::string> incident_template_dedupe_string;
  std::optional<boost::json::value> incident_template_notification_targets;
  std::optional<std::map<std::string, std::string>> incident_template_tags;
  std::optional<boost::json::value> chat_channel;
  std::optional<std::vector<std::string>> engagements;
  std::optional<std::vector<Action>> actions;
  std::optional<boost::json::value> integrations;
  std::optional<std::string> client_token;
};

class ResponsePlanService {
 public:
  ResponsePlanService(storage::Store& store, Clock& clock, const Limits& limits,
                      ClientTokens& tokens);
  ResponsePlanService(const ResponsePlanService&) = delete;
  ResponsePlanService& operator=(const ResponsePlanService&) = delete;

  // Returns the new plan's ARN. Errors: ValidationException (no ACTIVE replication set, invalid
  // members, more engagements/actions/integrations/tags than the model allows),
  // ServiceQuotaExceededException (more than configured), ConflictException{RESPONSE_PLAN} (name
  // taken, or clientToken reused with other parameters).
  absl::StatusOr<std::string> Create(const Scope& scope, const CreateResponsePlanRequest& request);

  // Errors: ValidationException (not a plan ARN), AccessDeniedException (other account),
  // ResourceNotFoundException{RESPONSE_PLAN}.
  absl::StatusOr<ResponsePlan> Get(const Scope& scope, std::string_view arn);

  // Plans in name order.
  absl::StatusOr<Page<ResponsePlan>> List(const Scope& scope, std::optional<int> max_results,
                                          std::string_view next_token);

  // Errors: as Get and Create.
  absl::Status Update(const Scope& scope, const UpdateResponsePlanRequest& request);

  // Idempotent: deleting an absent plan succeeds. Errors: ValidationException (not a plan ARN),
  // AccessDeniedException (other account).
  absl::Status Delete(const Scope& scope, std::string_view arn);

 private:
  absl::Status Validate(const ResponsePlan& plan, size_t tag_count) const;

  storage::Store& store_;
  Clock& clock_;
  const Limits limits_;
  ClientTokens& tokens_;
};

}  // namespace klaxon::incidents
