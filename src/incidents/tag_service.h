#pragma once
// Tags of Incident Manager resources (response plans, incident records, the replication set) and
// resource policies of response plans.
//
// Thread-safety: all methods are thread-safe (state lives in the Store). Copy/move: neither.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "incidents/types.h"
#include "storage/store.h"

namespace klaxon::incidents {

class TagService {
 public:
  TagService(storage::Store& store, const Limits& limits);
  TagService(const TagService&) = delete;
  TagService& operator=(const TagService&) = delete;

  // Adds or overwrites tags. Errors: ResourceNotFoundException (unknown or absent resource, with
  // its resourceType when the ARN names one), AccessDeniedException (other account),
  // ValidationException (aws: prefix, empty key), ServiceQuotaExceededException (more than
  // Limits::max_tags in total).
  absl::Status Tag(const Scope& scope, std::string_view arn,
                   const std::map<std::string, std::string>& tags);
  // Removes tags; absent keys are ignored. Errors: as Tag.
  absl::Status Untag(const Scope& scope, std::string_view arn,
                     const std::vector<std::string>& keys);
  // Errors: as Tag.
  absl::StatusOr<std::map<std::string, std::string>> List(const Scope& scope, std::string_view arn);

 private:
  storage::Store& store_;
  const Limits limits_;
};

// Resource policies (RAM sharing of response plans). Stored and validated only: klaxon does not
// evaluate them (no cross-account access).
class ResourcePolicyService {
 public:
  ResourcePolicyService(storage::Store& store, const Limits& limits);
  ResourcePolicyService(const ResourcePolicyService&) = delete;
  ResourcePolicyService& operator=(const ResourcePolicyService&) = delete;

  // Adds a policy to a response plan and returns its policyId. Errors: ValidationException (not
  // a JSON object with a Statement), ResourceNotFoundException{RESPONSE_PLAN},
  // AccessDeniedException.
  absl::StatusOr<std::string> Put(const Scope& scope, std::string_view resource_arn,
                                  std::string_view policy);
  // Errors: ResourceNotFoundException{RESPONSE_PLAN}, AccessDeniedException, ValidationException.
  absl::StatusOr<Page<ResourcePolicy>> Get(const Scope& scope, std::string_view resource_arn,
                                           std::optional<int> max_results,
                                           std::string_view next_token);
  // Errors: ResourceNotFoundException{RESPONSE_PLAN | RESOURCE_POLICY}, AccessDeniedException.
  absl::Status Delete(const Scope& scope, std::string_view resource_arn,
                      std::string_view policy_id);

 private:
  storage::Store& store_;
  const Limits limits_;
};

}  // namespace klaxon::incidents
