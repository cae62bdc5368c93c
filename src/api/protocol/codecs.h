#pragma once
// The codecs klaxon speaks, by protocol. Immutable after construction; thread-safe.

#include <memory>

#include "api/model/model_registry.h"
#include "api/protocol/codec.h"
#include "api/protocol/json_rpc.h"
#include "api/protocol/query.h"
#include "api/protocol/rest_json.h"
#include "api/protocol/rpcv2_cbor.h"

namespace klaxon::api::protocol {

class CodecSet {
 public:
  // `registry` must outlive the set.
  explicit CodecSet(const model::ModelRegistry& registry)
      : rest_json_(registry), json10_(Protocol::kAwsJson10), json11_(Protocol::kAwsJson11) {}

  // Every Protocol has a codec; nullptr only for a value outside the enum.
  const Codec* Find(Protocol protocol) const {
    switch (protocol) {
      case Protocol::kRestJson:
        return &rest_json_;
      case Protocol::kAwsJson10:
        return &json10_;
      case Protocol::kAwsJson11:
        return &json11_;
      case Protocol::kAwsQuery:
        return &query_;
      case Protocol::kRpcV2Cbor:
        return &cbor_;
    }
    return nullptr;
  }

 private:
  RestJsonCodec rest_json_;
  JsonRpcCodec json10_;
  JsonRpcCodec json11_;
  QueryCodec query_;
  RpcV2CborCodec cbor_;
};

}  // namespace klaxon::api::protocol
