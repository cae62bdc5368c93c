#include "incidents/errors.h"

#include "common/status.h"
#include "incidents/strings.h"

namespace klaxon::incidents {
namespace {

boost::json::object ResourceFields(std::optional<ResourceType> type, std::string_view identifier) {
  boost::json::object fields;
  if (!identifier.empty()) fields["resourceIdentifier"] = identifier;
  if (type) fields["resourceType"] = ResourceTypeName(*type);
  return fields;
}

}  // namespace

absl::Status InvalidArgument(std::string_view message) { return ValidationError(message); }

absl::Status NotFound(std::optional<ResourceType> type, std::string_view identifier,
                      std::string_view message) {
  return AwsError(absl::StatusCode::kNotFound, "ResourceNotFoundException", message,
                  ResourceFields(type, identifier));
}

absl::Status Conflict(std::string_view message, std::optional<ResourceType> type,
                      std::string_view identifier) {
  return AwsError(absl::StatusCode::kAlreadyExists, "ConflictException", message,
                  ResourceFields(type, identifier));
}

absl::Status QuotaExceeded(std::string_view quota_code, std::string_view message,
                           std::optional<ResourceType> type, std::string_view identifier) {
  boost::json::object fields = ResourceFields(type, identifier);
  fields["serviceCode"] = "ssm-incidents";
  fields["quotaCode"] = quota_code;
  return AwsError(absl::StatusCode::kResourceExhausted, "ServiceQuotaExceededException", message,
                  fields);
}

absl::Status AccessDenied(std::string_view message) {
  return AwsError(absl::StatusCode::kPermissionDenied, "AccessDeniedException", message);
}

absl::Status CrossAccountDenied(std::string_view arn) {
  return AccessDenied(
      internal::Cat("You are not authorized to access ", arn, ": it belongs to another account"));
}

absl::Status CheckCount(int64_t count, int64_t configured, int64_t model_max, std::string_view what,
                        std::string_view quota_code, std::optional<ResourceType> type,
                        std::string_view identifier) {
  if (model_max >= 0 && count > model_max) {
    return InvalidArgument(
        internal::Cat("Too many ", what, ": ", count, " (at most ", model_max, " allowed)"));
  }
  if (count > configured) {
    return QuotaExceeded(quota_code,
                         internal::Cat("Quota exceeded: at most ", configured, " ", what, " (",
                                       count, " requested)"),
                         type, identifier);
  }
  return absl::OkStatus();
}

}  // namespace klaxon::incidents
