// libFuzzer target: the RPC v2 CBOR decoder (cbor.h) and codec over the CloudWatch model.
// Input: "<Operation>\n" then the CBOR body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/model/model_registry.h"
#include "api/protocol/cbor.h"
#include "api/protocol/rpcv2_cbor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace klaxon::api;
  static const model::ServiceModel& service = *model::ModelRegistry::Embedded().Find("cloudwatch");
  static const protocol::RpcV2CborCodec codec;

  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t eol = text.find('\n');
  std::string op_name(text.substr(0, eol));
  HttpRequest request;
  request.method = "POST";
  request.target = "/service/GraniteServiceVersion20100801/operation/" + op_name;
  request.headers = {{"smithy-protocol", "rpc-v2-cbor"}};
  request.body = eol == std::string_view::npos ? "" : std::string(text.substr(eol + 1));

  // The raw decoder on its own, then re-encoding what it produced.
  auto value = protocol::DecodeCbor(request.body);
  if (value.ok()) {
    std::string out;
    protocol::EncodeCbor(*value, nullptr, &out);
  }
  HttpResponse response;
  auto op = codec.ResolveOperation(request, service, op_name);
  if (!op.ok()) return 0;
  auto input = codec.DecodeInput(request, service, **op);
  if (!input.ok()) {
    codec.EncodeError(input.status(), &service, "fuzz", &response);
    return 0;
  }
  codec.EncodeOutput(service, **op, std::move(*input), "fuzz", &response);
  return 0;
}
