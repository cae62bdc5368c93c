#include "api/protocol/rpcv2_cbor.h"

#include <string>
#include <utility>

#include "api/model/validator.h"
#include "api/protocol/cbor.h"
#include "api/protocol/errors.h"
#include "common/status.h"

namespace klaxon::api::protocol {

namespace json = boost::json;

absl::StatusOr<const model::Operation*> RpcV2CborCodec::ResolveOperation(
    const HttpRequest& /*request*/, const model::ServiceModel& service,
    std::string_view operation_hint) const {
  const model::Operation* op = service.FindOperation(operation_hint);
  if (op != nullptr) return op;
  return UnknownOperationError("Unknown operation " + std::string(operation_hint));
}

absl::StatusOr<json::object> RpcV2CborCodec::DecodeInput(const HttpRequest& request,
                                                         const model::ServiceModel& /*service*/,
                                                         const model::Operation& op) const {
  json::value value = json::object();
  if (!request.body.empty()) {
    KLAXON_ASSIGN_OR_RETURN(value, DecodeCbor(request.body));
    if (!value.is_object()) return SerializationError("Request body must be a CBOR map");
  }
  if (op.input == nullptr) return json::object();
  model::ValidationOptions options;
  options.lower_camel_paths = true;
  KLAXON_RETURN_IF_ERROR(model::ValidateInput(*op.input, value, options));
  return std::move(value.get_object());
}

void RpcV2CborCodec::EncodeOutput(const model::ServiceModel& /*service*/,
                                  const model::Operation& op, json::object output,
                                  const std::string& /*request_id*/, HttpResponse* response) const {
  response->status = 200;
  json::value value = std::move(output);
  if (op.output != nullptr) {
    model::ShapeOutput(*op.output, value);
  } else {
    value = json::object();
  }
  response->body.clear();
  EncodeCbor(value, op.output, &response->body);
  response->SetHeader("smithy-protocol", "rpc-v2-cbor");
  response->SetHeader("Content-Type", "application/cbor");
}

void RpcV2CborCodec::EncodeError(const absl::Status& status, const model::ServiceModel* service,
                                 const std::string& request_id, HttpResponse* response) const {
  EncodeStatus(status, service, Protocol::kRpcV2Cbor, request_id, response);
}

}  // namespace klaxon::api::protocol
