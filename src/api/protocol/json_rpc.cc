#include "api/protocol/json_rpc.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/model/validator.h"
#include "api/protocol/errors.h"
#include "api/protocol/json_body.h"
#include "boost/json/serialize.hpp"
#include "common/status.h"

namespace klaxon::api::protocol {

namespace json = boost::json;

JsonRpcCodec::JsonRpcCodec(Protocol protocol)
    : protocol_(protocol),
      content_type_(protocol == Protocol::kAwsJson10 ? "application/x-amz-json-1.0"
                                                     : "application/x-amz-json-1.1") {}

absl::StatusOr<const model::Operation*> JsonRpcCodec::ResolveOperation(
    const HttpRequest& /*request*/, const model::ServiceModel& service,
    std::string_view operation_hint) const {
  const model::Operation* op = service.FindOperation(operation_hint);
  if (op != nullptr) return op;
  return UnknownOperationError(absl::StrCat(
      "Unknown operation ", absl::string_view(operation_hint.data(), operation_hint.size())));
}

absl::StatusOr<json::object> JsonRpcCodec::DecodeInput(const HttpRequest& request,
                                                       const model::ServiceModel& /*service*/,
                                                       const model::Operation& op) const {
  KLAXON_ASSIGN_OR_RETURN(json::object body, ParseJsonObjectBody(request.body));
  if (op.input == nullptr) return json::object();
  json::value value = std::move(body);
  model::ValidationOptions options;
  options.lower_camel_paths = true;
  KLAXON_RETURN_IF_ERROR(model::ValidateInput(*op.input, value, options));
  return std::move(value.get_object());
}

void JsonRpcCodec::EncodeOutput(const model::ServiceModel& /*service*/, const model::Operation& op,
                                json::object output, const std::string& /*request_id*/,
                                HttpResponse* response) const {
  response->status = 200;
  json::value value = std::move(output);
  if (op.output != nullptr) {
    model::ShapeOutput(*op.output, value);
  } else {
    value = json::object();
  }
  response->body = json::serialize(value);
  response->SetHeader("Content-Type", content_type_);
}

void JsonRpcCodec::EncodeError(const absl::Status& status, const model::ServiceModel* service,
                               const std::string& request_id, HttpResponse* response) const {
  EncodeStatus(status, service, protocol_, request_id, response);
}

}  // namespace klaxon::api::protocol
