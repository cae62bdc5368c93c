#pragma once
// A protocol codec: turns an HTTP request into (operation, input object) for one service model
// and an output object or error back into an HTTP response — generic over the model, never
// written per operation. One implementation per wire protocol (rest_json.h, json_rpc.h); query,
// and RPC v2 CBOR plug in as further implementations of this interface.
//
// The input/output objects follow api/operation.h: model member names, timestamps as epoch-second
// doubles, blobs as base64 strings, rest-json URI/query/header members merged in.
//
// Implementations are immutable after construction and thread-safe.

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/http/message.h"
#include "api/model/service_model.h"
#include "api/protocol/protocol.h"
#include "boost/json/object.hpp"

namespace klaxon::api::protocol {

class Codec {
 public:
  virtual ~Codec() = default;

  virtual Protocol protocol() const = 0;

  // The operation `request` calls on `service`. `operation_hint` is the name detection found
  // (X-Amz-Target, the CBOR path, the query Action); empty for REST protocols, which route by
  // method and URI. Errors: Unimplemented with type UnknownOperationException.
  virtual absl::StatusOr<const model::Operation*> ResolveOperation(
      const HttpRequest& request, const model::ServiceModel& service,
      std::string_view operation_hint) const = 0;

  // Decodes the operation's input and validates it against the model (model/validator.h).
  // Errors: InvalidArgument with type SerializationException (unreadable body) or
  // ValidationException (constraint violations, AWS-style message).
  virtual absl::StatusOr<boost::json::object> DecodeInput(const HttpRequest& request,
                                                          const model::ServiceModel& service,
                                                          const model::Operation& op) const = 0;

  // Encodes a handler's output (shaped for the wire by model::ShapeOutput first) into `response`:
  // status, Content-Type and body. `request_id` is for protocols whose body carries it (query's
  // <ResponseMetadata>); the x-amzn-RequestId header is the caller's.
  virtual void EncodeOutput(const model::ServiceModel& service, const model::Operation& op,
                            boost::json::object output, const std::string& request_id,
                            HttpResponse* response) const = 0;

  // Encodes an error (errors.h) in this protocol. `service` may be null (no service matched).
  virtual void EncodeError(const absl::Status& status, const model::ServiceModel* service,
                           const std::string& request_id, HttpResponse* response) const = 0;
};

}  // namespace klaxon::api::protocol
