#pragma once
// The AWS JSON-RPC protocols: awsJson1_1 (ssm, events, ssm-contacts) and awsJson1_0 (CloudWatch
// from current clients, with awsQueryCompatible errors). `POST /` with
// `X-Amz-Target: <targetPrefix>.<Operation>` and a JSON body of the input members (empty body or
// `{}` for none); the response is the output members as JSON (`{}` when empty) with
// `Content-Type: application/x-amz-json-1.<v>`. Validation paths are printed lower-camel-cased,
// as AWS does for these services ('opsItemId').

#include "api/protocol/codec.h"

namespace klaxon::api::protocol {

class JsonRpcCodec final : public Codec {
 public:
  // `protocol` is kAwsJson10 or kAwsJson11.
  explicit JsonRpcCodec(Protocol protocol);

  Protocol protocol() const override { return protocol_; }
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

 private:
  const Protocol protocol_;
  const char* content_type_;
};

}  // namespace klaxon::api::protocol
