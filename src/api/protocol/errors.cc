#include "api/protocol/errors.h"

#include <string_view>

#include "api/protocol/cbor.h"
#include "api/protocol/scalar_text.h"
#include "boost/json/serialize.hpp"
#include "common/status.h"

namespace klaxon::api::protocol {
namespace {

namespace json = boost::json;
using model::Shape;
using model::ShapeType;

constexpr std::string_view kInternalMessage = "An internal error occurred. Retry the request.";

// Default AWS type per status code: the first candidate the service models as an error shape
// wins, else the first candidate (a generic AWS error, understood by every client).
struct DefaultType {
  absl::StatusCode code;
  std::string_view candidates[5];  // unused slots are empty
};

constexpr DefaultType kDefaultTypes[] = {
    {absl::StatusCode::kInvalidArgument, {"ValidationException"}},
    {absl::StatusCode::kOutOfRange, {"ValidationException"}},
    {absl::StatusCode::kNotFound, {"ResourceNotFoundException", "ResourceNotFound"}},
    {absl::StatusCode::kAlreadyExists,
     {"ConflictException", "ResourceAlreadyExistsException", "AlreadyExistsException"}},
    {absl::StatusCode::kFailedPrecondition,
     {"ConflictException", "ConcurrentModificationException"}},
    {absl::StatusCode::kAborted, {"ConflictException", "ConcurrentModificationException"}},
    {absl::StatusCode::kResourceExhausted,
     {"ServiceQuotaExceededException", "LimitExceededException", "LimitExceededFault"}},
    {absl::StatusCode::kPermissionDenied, {"AccessDeniedException"}},
    {absl::StatusCode::kUnauthenticated, {"MissingAuthenticationTokenException"}},
    {absl::StatusCode::kUnimplemented, {"UnknownOperationException"}},
};

constexpr DefaultType kInternalDefault = {
    absl::StatusCode::kInternal,
    {"InternalServerException", "InternalServerError", "InternalException", "InternalServiceFault",
     "InternalFailure"}};

// Generic AWS errors that no model defines: HTTP status and the name query services use.
struct GenericError {
  std::string_view type;
  int http_status;
  std::string_view query_code;
};

constexpr GenericError kGenericErrors[] = {
    {"ValidationException", 400, "ValidationError"},
    {"SerializationException", 400, "MalformedInput"},
    {"UnknownOperationException", 400, "InvalidAction"},
    {"MissingAuthenticationTokenException", 403, "MissingAuthenticationToken"},
    {"UnrecognizedClientException", 403, "InvalidClientTokenId"},
    {"InvalidSignatureException", 403, "SignatureDoesNotMatch"},
    {"IncompleteSignatureException", 400, "IncompleteSignature"},
    {"AccessDeniedException", 403, "AccessDenied"},
    {"ThrottlingException", 400, "Throttling"},
    {"RequestEntityTooLargeException", 413, "RequestEntityTooLarge"},
    {"ServiceUnavailableException", 503, "ServiceUnavailable"},
    {"InternalFailure", 500, "InternalFailure"},
    {"InternalServerException", 500, "InternalFailure"},
    {"InternalServerError", 500, "InternalFailure"},
    {"InternalException", 500, "InternalFailure"},
};

const GenericError* FindGeneric(std::string_view type) {
  for (const GenericError& g : kGenericErrors) {
    if (g.type == type) return &g;
  }
  return nullptr;
}

bool IsServerCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
      return true;
    default:
      return false;
  }
}

int HttpStatusForCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 400;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return 403;
    case absl::StatusCode::kUnimplemented:
      return 404;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

const Shape* FindErrorShape(const model::ServiceModel* service, std::string_view type) {
  if (service == nullptr) return nullptr;
  const Shape* shape = service->FindShape(type);
  return shape != nullptr && shape->exception ? shape : nullptr;
}

std::string DefaultTypeFor(absl::StatusCode code, const model::ServiceModel* service) {
  const DefaultType* def = &kInternalDefault;
  for (const DefaultType& d : kDefaultTypes) {
    if (d.code == code) {
      def = &d;
      break;
    }
  }
  for (std::string_view c : def->candidates) {
    if (!c.empty() && FindErrorShape(service, c) != nullptr) return std::string(c);
  }
  return std::string(def->candidates[0]);
}

// A placeholder for a required error member the caller did not provide.
json::value Placeholder(const model::Member& member, const model::ServiceModel* service) {
  const Shape& shape = *member.shape;
  switch (shape.type) {
    case ShapeType::kString:
      if (!shape.enum_values.empty()) return json::value(shape.enum_values.front());
      if (member.name == "serviceCode" && service != nullptr) {
        return json::value(service->metadata().signing_name);
      }
      return json::value("");
    case ShapeType::kInteger:
    case ShapeType::kLong:
      return json::value(0);
    case ShapeType::kFloat:
    case ShapeType::kDouble:
    case ShapeType::kTimestamp:
      return json::value(0.0);
    case ShapeType::kBoolean:
      return json::value(false);
    case ShapeType::kList:
      return json::array();
    default:
      return json::object();
  }
}

}  // namespace

WireError ToWireError(const absl::Status& status, const model::ServiceModel* service,
                      Protocol protocol) {
  WireError error;
  std::optional<std::string> explicit_type = AwsErrorType(status);
  bool server_code = IsServerCode(status.code());
  error.type = explicit_type ? *explicit_type
               : server_code ? DefaultTypeFor(absl::StatusCode::kInternal, service)
                             : DefaultTypeFor(status.code(), service);
  error.message = std::string(status.message());
  if (server_code && !explicit_type) error.message = std::string(kInternalMessage);

  const Shape* shape = FindErrorShape(service, error.type);
  const GenericError* generic = FindGeneric(error.type);
  bool json_rpc_or_query =
      IsJsonRpc(protocol) || protocol == Protocol::kAwsQuery || protocol == Protocol::kRpcV2Cbor;

  // Sender or receiver fault.
  if (shape != nullptr) {
    error.sender_fault = shape->http_status != 0 ? shape->http_status < 500 : !shape->fault;
  } else if (generic != nullptr) {
    error.sender_fault = generic->http_status < 500;
  } else {
    error.sender_fault = !server_code;
  }

  // HTTP status.
  if (shape != nullptr && shape->http_status != 0) {
    error.http_status = shape->http_status;
  } else if (generic != nullptr) {
    error.http_status = generic->http_status;
    if (error.type == "UnknownOperationException" && protocol == Protocol::kRestJson) {
      error.http_status = 404;
    }
  } else if (json_rpc_or_query) {
    error.http_status = error.sender_fault ? 400 : 500;
  } else {
    error.http_status =
        HttpStatusForCode(server_code ? absl::StatusCode::kInternal : status.code());
  }

  // Query code.
  if (shape != nullptr) {
    error.query_code = shape->error_code.empty() ? shape->name : shape->error_code;
  } else if (generic != nullptr) {
    error.query_code = std::string(generic->query_code);
  } else {
    error.query_code = error.type;
  }

  // Fields: modeled members only (all of them when the shape is unknown), then placeholders for
  // missing required ones.
  json::object fields = AwsErrorFields(status);
  if (shape != nullptr) {
    if (shape->FindMember("Message") != nullptr && shape->FindMember("message") == nullptr) {
      error.message_member = "Message";
    }
    for (const auto& [key, value] : fields) {
      const model::Member* member = shape->FindMember(std::string_view(key.data(), key.size()));
      if (member == nullptr || member->name == error.message_member || value.is_null()) continue;
      error.fields[key] = value;
    }
    for (const model::Member& member : shape->members) {
      if (!member.required || member.name == error.message_member) continue;
      if (!error.fields.contains(member.name)) {
        error.fields[member.name] = Placeholder(member, service);
      }
    }
  } else {
    for (const auto& [key, value] : fields) {
      if (key == "message" || key == "Message" || key == "__type" || value.is_null()) continue;
      error.fields[key] = value;
    }
  }
  return error;
}

void EncodeError(const WireError& error, Protocol protocol, const model::ServiceModel* service,
                 const std::string& request_id, HttpResponse* response) {
  response->status = error.http_status;
  if (protocol == Protocol::kAwsQuery) {
    std::string xml = "<ErrorResponse";
    if (service != nullptr && !service->metadata().xml_namespace.empty()) {
      xml += " xmlns=\"";
      AppendXmlEscaped(service->metadata().xml_namespace, &xml);
      xml += "\"";
    }
    xml += "><Error><Type>";
    xml += error.sender_fault ? "Sender" : "Receiver";
    xml += "</Type><Code>";
    AppendXmlEscaped(error.query_code, &xml);
    xml += "</Code><Message>";
    AppendXmlEscaped(error.message, &xml);
    xml += "</Message>";
    for (const auto& [key, value] : error.fields) {
      if (!value.is_string()) continue;
      xml += "<" + std::string(key) + ">";
      AppendXmlEscaped(std::string_view(value.get_string().data(), value.get_string().size()),
                       &xml);
      xml += "</" + std::string(key) + ">";
    }
    xml += "</Error><RequestId>";
    AppendXmlEscaped(request_id, &xml);
    xml += "</RequestId></ErrorResponse>";
    response->SetHeader("Content-Type", "text/xml");
    response->body = std::move(xml);
    return;
  }

  json::object body;
  body["__type"] = error.type;
  body[error.message_member] = error.message;
  for (const auto& [key, value] : error.fields) body[key] = value;
  bool query_compatible = service != nullptr && service->metadata().aws_query_compatible;
  if (protocol == Protocol::kRpcV2Cbor) {
    response->body.clear();
    const Shape* shape = FindErrorShape(service, error.type);
    EncodeCbor(body, shape, &response->body);
    response->SetHeader("smithy-protocol", "rpc-v2-cbor");
    response->SetHeader("Content-Type", "application/cbor");
    if (query_compatible) {
      response->SetHeader("x-amzn-query-error",
                          error.query_code + (error.sender_fault ? ";Sender" : ";Receiver"));
    }
    return;
  }
  response->body = json::serialize(body);
  switch (protocol) {
    case Protocol::kRestJson:
      response->SetHeader("Content-Type", "application/json");
      response->SetHeader("x-amzn-ErrorType", error.type);
      break;
    case Protocol::kAwsJson11:
      response->SetHeader("Content-Type", "application/x-amz-json-1.1");
      break;
    case Protocol::kAwsJson10:
    case Protocol::kRpcV2Cbor:
    case Protocol::kAwsQuery:
      response->SetHeader("Content-Type", "application/x-amz-json-1.0");
      if (query_compatible) {
        response->SetHeader("x-amzn-query-error",
                            error.query_code + (error.sender_fault ? ";Sender" : ";Receiver"));
      }
      break;
  }
}

absl::Status UnknownOperationError(std::string_view message) {
  return AwsError(absl::StatusCode::kUnimplemented, "UnknownOperationException", message);
}

absl::Status SerializationError(std::string_view message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "SerializationException", message);
}

}  // namespace klaxon::api::protocol
