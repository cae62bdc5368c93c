#pragma once
// Deliberate departures from the embedded (Debian botocore 1.29.27) models, in one table each.
//
// Limits: where a newer AWS model raised a limit, klaxon accepts the newer one (BRIEF.md), so that
// newer clients are not refused. Metadata: facts of newer models that the old ones lack (the
// CloudWatch JSON-RPC target prefix needed by JSON 1.0 / RPC v2 CBOR clients); a value already
// in the model wins.

#include <optional>
#include <span>

#include "absl/status/status.h"
#include "api/model/service_model.h"

namespace klaxon::api::model {

struct LimitOverride {
  const char* service;  // botocore service name
  const char* shape;
  std::optional<double> min;  // nullopt = keep the model's
  std::optional<double> max;
  const char* reason;
};

struct MetadataOverride {
  const char* service;
  const char* target_prefix;  // nullptr = keep
  const char* json_version;   // nullptr = keep
  bool aws_query_compatible;
  const char* reason;
};

std::span<const LimitOverride> LimitOverrides();
std::span<const MetadataOverride> MetadataOverrides();

// Applies every override for `model`'s service. Errors: NotFound if an override names a shape the
// model lacks (the table is stale).
absl::Status ApplyOverrides(ServiceModel& model);

}  // namespace klaxon::api::model
