#pragma once
// The AWS errors of Incident Manager, built with the exact shape names and members of the
// ssm-incidents model (see common/status.h for how they reach the wire):
//
//   ValidationException            400  {message}
//   AccessDeniedException          403  {message}
//   ResourceNotFoundException      404  {message, resourceIdentifier, resourceType}
//   ConflictException              409  {message, resourceIdentifier?, resourceType?}
//   ServiceQuotaExceededException  402  {message, serviceCode:"ssm-incidents", quotaCode,
//                                        resourceIdentifier?, resourceType?}

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "incidents/types.h"

namespace klaxon::incidents {

absl::Status InvalidArgument(std::string_view message);
absl::Status NotFound(std::optional<ResourceType> type, std::string_view identifier,
                      std::string_view message);
absl::Status Conflict(std::string_view message, std::optional<ResourceType> type = std::nullopt,
                      std::string_view identifier = {});
absl::Status QuotaExceeded(std::string_view quota_code, std::string_view message,
                           std::optional<ResourceType> type = std::nullopt,
                           std::string_view identifier = {});
absl::Status AccessDenied(std::string_view message);
// AccessDeniedException for an ARN of another account (nothing of another account is visible).
absl::Status CrossAccountDenied(std::string_view arn);

// Checks a count against the model's maximum (ValidationException when above: the model forbids
// it) and then against the configured limit (ServiceQuotaExceededException with `quota_code`).
// `model_max` < 0 means the model has no limit for this count.
absl::Status CheckCount(int64_t count, int64_t configured, int64_t model_max, std::string_view what,
                        std::string_view quota_code,
                        std::optional<ResourceType> type = std::nullopt,
                        std::string_view identifier = {});

}  // namespace klaxon::incidents
