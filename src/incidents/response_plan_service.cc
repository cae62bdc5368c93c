#include "incidents/response_plan_service.h"

#include "absl/strings/match.h"
#include "boost/json/object.hpp"
#include "boost/json/parse.hpp"
#include "common/status.h"
#include "incidents/arn.h"
#include "incidents/errors.h"
#include "incidents/records.h"
#include "incidents/strings.h"

namespace klaxon::incidents {
namespace json = boost::json;

namespace {

constexpr int kModelMaxEngagements = 5;
constexpr int kModelMaxActions = 1;
constexpr int kModelMaxIntegrations = 1;
constexpr int kModelMaxNotificationTargets = 10;
constexpr int kModelMaxTags = 50;

absl::Status CheckTags(const std::map<std::string, std::string>& tags, std::string_view what) {
  for (const auto& [k, v] : tags) {
    if (k.empty() || absl::StartsWith(absl::string_view(k.data(), k.size()), "aws:")) {
      return InvalidArgument(internal::Cat("Invalid tag key in ", what, ": \"", k,
                                           "\" (tag keys can't be empty or start with aws:)"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckUnionList(const json::value& list, std::string_view what, int model_max) {
  if (list.is_null()) return absl::OkStatus();
  if (!list.is_array()) return InvalidArgument(internal::Cat(what, " must be a list"));
  if (static_cast<int>(list.get_array().size()) > model_max) {
    return InvalidArgument(internal::Cat("Too many ", what, ": at most ", model_max, " allowed"));
  }
  for (const auto& item : list.get_array()) {
    if (!item.is_object() || item.get_object().size() != 1) {
      return InvalidArgument(internal::Cat("Each item of ", what, " must set exactly one member"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckChatChannel(const json::value& channel) {
  if (channel.is_null()) return absl::OkStatus();
  if (!channel.is_object() || channel.get_object().size() != 1) {
    return InvalidArgument("chatChannel must set exactly one of chatbotSns, empty");
  }
  return absl::OkStatus();
}

absl::Status CheckAction(const Action& action) {
  const SsmAutomation& s = action.ssm_automation;
  if (s.document_name.empty()) return InvalidArgument("ssmAutomation.documentName is required");
  if (s.role_arn.empty()) return InvalidArgument("ssmAutomation.roleArn is required");
  if (s.target_account && *s.target_account != "RESPONSE_PLAN_OWNER_ACCOUNT" &&
      *s.target_account != "IMPACTED_ACCOUNT") {
    return InvalidArgument(
        internal::Cat("Invalid ssmAutomation.targetAccount: ", *s.target_account));
  }
  for (const auto& [name, variable] : s.dynamic_parameters) {
    if (variable != "INCIDENT_RECORD_ARN" && variable != "INVOLVED_RESOURCES") {
      return InvalidArgument(
          internal::Cat("Invalid dynamic parameter variable for ", name, ": ", variable));
    }
    if (s.parameters.count(name)) {
      return InvalidArgument(
          internal::Cat("Parameter ", name, " is given both in parameters and dynamicParameters"));
    }
  }
  return absl::OkStatus();
}

json::value PlanFingerprintJson(const ResponsePlan& plan,
                                const std::map<std::string, std::string>& tags) {
  ResponsePlan copy = plan;
  copy.created_time = absl::UnixEpoch();
  json::object tag_obj;
  for (const auto& [k, v] : tags) tag_obj[k] = v;
  return json::object{{"plan", internal::Encode(copy)}, {"tags", std::move(tag_obj)}};
}

}  // namespace

ResponsePlanService::ResponsePlanService(storage::Store& store, Clock& clock, const Limits& limits,
                                         ClientTokens& tokens)
    : store_(store), clock_(clock), limits_(limits), tokens_(tokens) {}

absl::Status ResponsePlanService::Validate(const ResponsePlan& plan, size_t tag_count) const {
  const IncidentTemplate& t = plan.incident_template;
  if (t.impact < 1 || t.impact > 5) {
    return InvalidArgument(internal::Cat("incidentTemplate.impact must be 1..5, got ", t.impact));
  }
  KLAXON_RETURN_IF_ERROR(
      CheckUnionList(t.notification_targets, "notificationTargets", kModelMaxNotificationTargets));
  KLAXON_RETURN_IF_ERROR(CheckTags(t.incident_tags, "incidentTags"));
  if (static_cast<int>(t.incident_tags.size()) > kModelMaxTags) {
    return InvalidArgument("Too many incidentTags: at most 50 allowed");
  }
  KLAXON_RETURN_IF_ERROR(CheckChatChannel(plan.chat_channel));
  KLAXON_RETURN_IF_ERROR(
      CheckCount(static_cast<int64_t>(plan.engagements.size()), limits_.max_engagements,
                 kModelMaxEngagements, "engagements in a response plan",
                 "engagements-per-response-plan", ResourceType::kResponsePlan, plan.arn));
  KLAXON_RETURN_IF_ERROR(CheckCount(static_cast<int64_t>(plan.actions.size()), limits_.max_actions,
                                    kModelMaxActions, "actions in a response plan",
                                    "actions-per-response-plan", ResourceType::kResponsePlan,
                                    plan.arn));
  for (const auto& action : plan.actions) KLAXON_RETURN_IF_ERROR(CheckAction(action));
  KLAXON_RETURN_IF_ERROR(CheckUnionList(plan.integrations, "integrations", kModelMaxIntegrations));
  KLAXON_RETURN_IF_ERROR(CheckCount(static_cast<int64_t>(tag_count), limits_.max_tags,
                                    kModelMaxTags, "tags", "tags-per-resource",
                                    ResourceType::kResponsePlan, plan.arn));
  return absl::OkStatus();
}

absl::StatusOr<std::string> ResponsePlanService::Create(const Scope& scope,
                                                        const CreateResponsePlanRequest& request) {
  ResponsePlan plan;
  plan.name = request.name;
  plan.arn = ResponsePlanArn(scope.account_id, request.name);
  if (!ParseArn(plan.arn)) {
    return InvalidArgument(internal::Cat("Invalid response plan name: \"", request.name,
                                         "\" (1-200 letters, digits, - and _)"));
  }
  plan.display_name = request.display_name;
  plan.incident_template = request.incident_template;
  plan.chat_channel = request.chat_channel;
  plan.engagements = request.engagements;
  plan.actions = request.actions;
  plan.integrations = request.integrations;
  IncidentTemplate& t = plan.incident_template;
  if (t.dedupe_string && t.dedupe_string->empty()) t.dedupe_string.reset();
  if (t.notification_targets.is_array() && t.notification_targets.get_array().empty()) {
    t.notification_targets = nullptr;
  }
  if (plan.integrations.is_array() && plan.integrations.get_array().empty()) {
    plan.integrations = nullptr;
  }
  KLAXON_RETURN_IF_ERROR(CheckTags(request.tags, "tags"));
  KLAXON_RETURN_IF_ERROR(Validate(plan, request.tags.size()));
  const std::string fingerprint = internal::Fingerprint(PlanFingerprintJson(plan, request.tags));

  KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(auto replay,
                            tokens_.Replay(txn, scope.account_id, "CreateResponsePlan",
                                           request.client_token, fingerprint, clock_.Now()));
    if (replay) return absl::OkStatus();
    KLAXON_RETURN_IF_ERROR(internal::RequireActiveReplicationSet(txn, scope).status());
    KLAXON_ASSIGN_OR_RETURN(auto existing,
                            internal::LoadResponsePlan(txn, scope.account_id, plan.name));
    if (existing) {
      return Conflict(internal::Cat("A response plan named ", plan.name, " already exists"),
                      ResourceType::kResponsePlan, plan.arn);
    }
    const absl::Time now = clock_.Now();
    ResponsePlan stored = plan;
    stored.created_time = now;
    KLAXON_RETURN_IF_ERROR(txn.Put(internal::kResponsePlanTable, scope.account_id, plan.name,
                                   internal::Encode(stored)));
    KLAXON_RETURN_IF_ERROR(internal::SaveTags(txn, scope.account_id, plan.arn, request.tags));
    return tokens_.Save(txn, scope.account_id, "CreateResponsePlan", request.client_token,
                        fingerprint, json::value(plan.arn), now);
  }));
  return plan.arn;
}

absl::StatusOr<ResponsePlan> ResponsePlanService::Get(const Scope& scope, std::string_view arn) {
  ResponsePlan plan;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(plan, internal::RequireResponsePlan(txn, scope, arn));
    return absl::OkStatus();
  }));
  return plan;
}

absl::StatusOr<Page<ResponsePlan>> ResponsePlanService::List(const Scope& scope,
                                                             std::optional<int> max_results,
                                                             std::string_view next_token) {
  KLAXON_ASSIGN_OR_RETURN(std::string after,
                          internal::DecodePageToken("response-plans", next_token));
  const int n = internal::PageSize(max_results, limits_);
  Page<ResponsePlan> page;
  absl::Status decode;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    return txn.Scan(internal::kResponsePlanTable, scope.account_id, "", after,
                    static_cast<size_t>(n) + 1, [&](std::string_view, std::string_view value) {
                      auto plan = internal::DecodeResponsePlan(value);
                      if (!plan.ok()) {
                        decode = plan.status();
                        return false;
                      }
                      page.items.push_back(*std::move(plan));
                      return true;
                    });
  }));
  KLAXON_RETURN_IF_ERROR(decode);
  if (static_cast<int>(page.items.size()) > n) {
    page.items.resize(n);
    page.next_token = internal::EncodePageToken("response-plans", page.items.back().name);
  }
  return page;
}

absl::Status ResponsePlanService::Update(const Scope& scope,
                                         const UpdateResponsePlanRequest& request) {
  json::object params;
  params["arn"] = CanonicalResponsePlanArn(request.arn);
  if (request.display_name) params["displayName"] = *request.display_name;
  if (request.incident_template_title) params["title"] = *request.incident_template_title;
  if (request.incident_template_impact) params["impact"] = *request.incident_template_impact;
  if (request.incident_template_summary) params["summary"] = *request.incident_template_summary;
  if (request.incident_template_dedupe_string) {
    params["dedupeString"] = *request.incident_template_dedupe_string;
  }
  if (request.incident_template_notification_targets) {
    params["notificationTargets"] = *request.incident_template_notification_targets;
  }
  if (request.incident_template_tags) {
    json::object tags;
    for (const auto& [k, v] : *request.incident_template_tags) tags[k] = v;
    params["incidentTags"] = std::move(tags);
  }
  if (request.chat_channel) params["chatChannel"] = *request.chat_channel;
  if (request.engagements) {
    json::array a;
    for (const auto& e : *request.engagements) a.emplace_back(e);
    params["engagements"] = std::move(a);
  }
  if (request.actions) {
    json::array a;
    for (const auto& action : *request.actions) a.emplace_back(internal::ActionToJson(action));
    params["actions"] = std::move(a);
  }
  if (request.integrations) params["integrations"] = *request.integrations;
  const std::string fingerprint = internal::Fingerprint(params);
  if (request.incident_template_tags) {
    KLAXON_RETURN_IF_ERROR(CheckTags(*request.incident_template_tags, "incidentTemplateTags"));
  }

  return store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(auto replay,
                            tokens_.Replay(txn, scope.account_id, "UpdateResponsePlan",
                                           request.client_token, fingerprint, clock_.Now()));
    if (replay) return absl::OkStatus();
    KLAXON_ASSIGN_OR_RETURN(ResponsePlan plan,
                            internal::RequireResponsePlan(txn, scope, request.arn));
    IncidentTemplate& t = plan.incident_template;
    if (request.display_name) plan.display_name = *request.display_name;
    if (request.incident_template_title) t.title = *request.incident_template_title;
    if (request.incident_template_impact) t.impact = *request.incident_template_impact;
    if (request.incident_template_summary) t.summary = *request.incident_template_summary;
    if (request.incident_template_dedupe_string) {
      if (request.incident_template_dedupe_string->empty()) {
        t.dedupe_string.reset();
      } else {
        t.dedupe_string = *request.incident_template_dedupe_string;
      }
    }
    if (request.incident_template_notification_targets) {
      t.notification_targets = *request.incident_template_notification_targets;
      if (t.notification_targets.is_array() && t.notification_targets.get_array().empty()) {
        t.notification_targets = nullptr;
      }
    }
    if (request.incident_template_tags) t.incident_tags = *request.incident_template_tags;
    if (request.chat_channel) plan.chat_channel = *request.chat_channel;
    if (request.engagements) plan.engagements = *request.engagements;
    if (request.actions) plan.actions = *request.actions;
    if (request.integrations) {
      plan.integrations = *request.integrations;
      if (plan.integrations.is_array() && plan.integrations.get_array().empty()) {
        plan.integrations = nullptr;
      }
    }
    KLAXON_ASSIGN_OR_RETURN(auto tags, internal::LoadTags(txn, scope.account_id, plan.arn));
    KLAXON_RETURN_IF_ERROR(Validate(plan, tags.size()));
    KLAXON_RETURN_IF_ERROR(
        txn.Put(internal::kResponsePlanTable, scope.account_id, plan.name, internal::Encode(plan)));
    return tokens_.Save(txn, scope.account_id, "UpdateResponsePlan", request.client_token,
                        fingerprint, json::value(true), clock_.Now());
  });
}

absl::Status ResponsePlanService::Delete(const Scope& scope, std::string_view arn) {
  KLAXON_ASSIGN_OR_RETURN(std::string name, ResponsePlanNameFromArn(scope, arn));
  const std::string canonical = ResponsePlanArn(scope.account_id, name);
  return store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_RETURN_IF_ERROR(txn.Delete(internal::kResponsePlanTable, scope.account_id, name));
    KLAXON_RETURN_IF_ERROR(txn.Delete(internal::kTagTable, scope.account_id, canonical));
    return internal::DeletePrefix(txn, internal::kPolicyTable, scope.account_id,
                                  internal::Cat(name, "/"));
  });
}

}  // namespace klaxon::incidents
