#pragma once
// The awsQuery protocol (CloudWatch from Debian's aws-cli 2.9 / boto3 1.26, SNS): `POST /` with a
// form body `Action=<Op>&Version=<apiVersion>&<flattened input>` (parameters in the URL query
// are accepted too), answered in XML.
//
// Input flattening (decoded by walking the input shape, so only modeled names are read):
// structure members by name (`AlarmName=x`), lists as `Name.member.N` (1-based; `Name=` alone is
// an empty list), maps as `Name.entry.N.key` / `Name.entry.N.value` (or the map's key/value
// locationNames, e.g. SNS `MessageAttributes.entry.1.Name`), nested structures with `.` paths.
// Scalars convert from text to the member type (timestamps: ISO-8601 or epoch seconds).
// List indexes above kMaxQueryListIndex are refused, so a request cannot allocate huge arrays.
//
// Output:
//   <OpResponse xmlns="<xmlNamespace>"><OpResult>…members…</OpResult>
//   <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></OpResponse>
// (the Result element, named by the model's resultWrapper, only when the operation has an
// output); lists as <member>, maps as <entry><key/><value/></entry>, timestamps ISO-8601 with
// milliseconds, booleans true/false. Errors: errors.h (<ErrorResponse>).

#include "api/protocol/codec.h"

namespace klaxon::api::protocol {

inline constexpr int kMaxQueryListIndex = 10000;

class QueryCodec final : public Codec {
 public:
  Protocol protocol() const override { return Protocol::kAwsQuery; }
  absl::StatusOr<const model::Operation*> ResolveOperation(
      const HttpRequest& request, const model::ServiceModel& service,
      std::string_view operation_hint) const override;
  absl::StatusOr<boost::json::object> DecodeInput(const HttpRequest& request,
                                                  const model::ServiceModel& service,
                                                  const model::Operation& op) const override;
  void EncodeOutput(const model::ServiceModel& service, const model::Operation& op,
                    boost::json::object output, const std::string& request_id,
                    HttpResponse* response) const override;
  void EncodeError(const absl::Status& status, const model::ServiceModel* service,
                   const std::string& request_id, HttpResponse* response) const override;
};

}  // namespace klaxon::api::protocol
