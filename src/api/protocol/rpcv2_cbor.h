#pragma once
// Smithy RPC v2 CBOR (CloudWatch from the JS SDK v3, Go v2, Ruby and current botocore):
// `POST [base]/service/<targetPrefix>/operation/<Op>` with `smithy-protocol: rpc-v2-cbor` and a
// CBOR map of the input members (empty body = no members). Responses carry
// `smithy-protocol: rpc-v2-cbor` (the Go SDK rejects responses without it) and
// `Content-Type: application/cbor`; the body is a CBOR map of the output members (`a0` when
// empty). Errors: a CBOR map {"__type", "message", fields} plus `x-amzn-query-error` for
// awsQueryCompatible services (errors.h). CBOR details in cbor.h.

#include "api/protocol/codec.h"

namespace klaxon::api::protocol {

class RpcV2CborCodec final : public Codec {
 public:
  Protocol protocol() const override { return Protocol::kRpcV2Cbor; }
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
