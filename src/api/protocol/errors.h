#pragma once
// The one place where an absl::Status becomes an AWS wire error.
//
// Step 1, ToWireError: Status (+ the AWS type and extra members attached by AwsError(),
// common/status.h) → WireError {type, query code, HTTP status, sender/receiver, message, fields}.
//   - type: the attached one, else a default per status code, chosen among the service model's
//     own error shapes (kDefaultTypes in errors.cc: NotFound → ResourceNotFoundException, ...).
//   - HTTP status: the shape's `error.httpStatusCode` when modeled; else a table of the generic
//     AWS errors (auth, throttling, validation); else 400 (client fault) / 500 (server fault) for
//     JSON-RPC and query services, which AWS answers that way; else by status code (rest-json).
//   - message: the status message, except for server faults without an explicit AWS type, whose
//     text (possibly SQL or internal detail) is replaced by a generic message — log it instead.
//   - fields: the attached members that the shape models, plus placeholders for required members
//     the caller left out (e.g. ThrottlingException's serviceCode/quotaCode), so that strict
//     clients parse the error.
// Step 2, EncodeError: WireError → HttpResponse in the request's protocol:
//   - rest-json: `x-amzn-ErrorType: <Type>` and body {"__type":"<Type>","message":..., fields}.
//   - JSON 1.1: body {"__type":"<Type>","message"|"Message":..., fields}.
//   - JSON 1.0 of an awsQueryCompatible service (CloudWatch): also `x-amzn-query-error:
//     <query code>;Sender|Receiver`, which botocore needs to map the exception.
//   - query: <ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error>
//     <RequestId>…</RequestId></ErrorResponse>, with the generic codes renamed as query services
//     name them (InvalidClientTokenId, SignatureDoesNotMatch, ValidationError, InvalidAction, ...).
//   - RPC v2 CBOR: the same members as a CBOR map, `smithy-protocol: rpc-v2-cbor`, and
//     `x-amzn-query-error` for awsQueryCompatible services.
// Thread-safe: pure functions over immutable models.

#include <string>

#include "absl/status/status.h"
#include "api/http/message.h"
#include "api/model/service_model.h"
#include "api/protocol/protocol.h"
#include "boost/json/object.hpp"

namespace klaxon::api::protocol {

struct WireError {
  std::string type;        // shape name: "ResourceNotFoundException"
  std::string query_code;  // query protocols' <Code> (model error.code, or a renamed generic)
  int http_status = 400;
  bool sender_fault = true;  // "Sender" vs "Receiver"
  std::string message;
  std::string message_member = "message";  // "Message" for shapes that model it so
  boost::json::object fields;              // extra members, model names, wire-ready
};

// Maps `status` (not OK) for a request to `service` (nullptr when no served service matched)
// spoken in `protocol`.
WireError ToWireError(const absl::Status& status, const model::ServiceModel* service,
                      Protocol protocol);

// Writes `error` into `response` (status, headers, body) in `protocol`. `request_id` is needed
// by the query protocol's body; headers such as x-amzn-RequestId are the caller's business.
void EncodeError(const WireError& error, Protocol protocol, const model::ServiceModel* service,
                 const std::string& request_id, HttpResponse* response);

// Both steps.
inline void EncodeStatus(const absl::Status& status, const model::ServiceModel* service,
                         Protocol protocol, const std::string& request_id, HttpResponse* response) {
  EncodeError(ToWireError(status, service, protocol), protocol, service, request_id, response);
}

// The errors the protocol layer itself raises.
absl::Status UnknownOperationError(std::string_view message);
absl::Status SerializationError(std::string_view message);

}  // namespace klaxon::api::protocol
