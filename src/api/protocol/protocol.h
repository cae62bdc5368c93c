#pragma once
// The AWS wire protocols klaxon answers, and the names used in logs and metrics.

#include <string_view>

namespace klaxon::api::protocol {

enum class Protocol {
  kRestJson,   // ssm-incidents
  kAwsJson10,  // CloudWatch from current boto3/aws-cli v1 (awsQueryCompatible)
  kAwsJson11,  // ssm, events, ssm-contacts
  kAwsQuery,   // CloudWatch from older clients, SNS (form POST, XML responses)
  kRpcV2Cbor,  // CloudWatch from JS v3, Go v2, Ruby
};

constexpr std::string_view ProtocolName(Protocol p) {
  switch (p) {
    case Protocol::kRestJson:
      return "rest-json";
    case Protocol::kAwsJson10:
      return "json-1.0";
    case Protocol::kAwsJson11:
      return "json-1.1";
    case Protocol::kAwsQuery:
      return "query";
    case Protocol::kRpcV2Cbor:
      return "rpc-v2-cbor";
  }
  return "unknown";
}

constexpr bool IsJsonRpc(Protocol p) {
  return p == Protocol::kAwsJson10 || p == Protocol::kAwsJson11;
}

}  // namespace klaxon::api::protocol
