#include "api/model/overrides.h"

#include <string>

namespace klaxon::api::model {
namespace {

constexpr LimitOverride kLimitOverrides[] = {
    {"ssm-incidents", "IncidentSummary", std::nullopt, 8000,
     "botocore 1.43 raised UpdateIncidentRecord.summary / IncidentRecord.summary from 4000"},
    {"ssm-incidents", "RawData", std::nullopt, 10000,
     "botocore 1.43 raised TriggerDetails.rawData from 4000"},
};

constexpr MetadataOverride kMetadataOverrides[] = {
    {"cloudwatch", "GraniteServiceVersion20100801", "1.0", true,
     "newer models add JSON 1.0 (awsQueryCompatible) and RPC v2 CBOR; clients use this prefix"},
};

}  // namespace

std::span<const LimitOverride> LimitOverrides() { return kLimitOverrides; }
std::span<const MetadataOverride> MetadataOverrides() { return kMetadataOverrides; }

absl::Status ApplyOverrides(ServiceModel& model) {
  for (const LimitOverride& o : kLimitOverrides) {
    if (model.name() != o.service) continue;
    Shape* shape = model.FindMutableShape(o.shape);
    if (shape == nullptr) {
      return absl::NotFoundError(std::string("limit override for unknown shape ") + o.service +
                                 "/" + o.shape);
    }
    if (o.min) shape->min = o.min;
    if (o.max) shape->max = o.max;
  }
  for (const MetadataOverride& o : kMetadataOverrides) {
    if (model.name() != o.service) continue;
    ServiceMetadata& md = model.mutable_metadata();
    if (md.target_prefix.empty() && o.target_prefix != nullptr) md.target_prefix = o.target_prefix;
    if (md.json_version.empty() && o.json_version != nullptr) md.json_version = o.json_version;
    md.aws_query_compatible = md.aws_query_compatible || o.aws_query_compatible;
  }
  return absl::OkStatus();
}

}  // namespace klaxon::api::model
