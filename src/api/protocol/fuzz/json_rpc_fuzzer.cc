// libFuzzer target: the JSON 1.1 request decoder (body parsing and validation) over the ssm and
// events models. Input format: "<service>.<Operation>\n" then the body, e.g.
// "AmazonSSM.CreateOpsItem\n{...}".
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/model/model_registry.h"
#include "api/protocol/detect.h"
#include "api/protocol/json_rpc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace klaxon::api;
  static const model::ModelRegistry& registry = model::ModelRegistry::Embedded();
  static const protocol::JsonRpcCodec codec(protocol::Protocol::kAwsJson11);

  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t eol = text.find('\n');
  HttpRequest request;
  request.method = "POST";
  request.target = "/";
  request.headers = {{"X-Amz-Target", std::string(text.substr(0, eol))},
                     {"Content-Type", "application/x-amz-json-1.1"}};
  request.body = eol == std::string_view::npos ? "" : std::string(text.substr(eol + 1));

  protocol::Detection detection = protocol::DetectService(request, registry);
  if (detection.service == nullptr) return 0;
  HttpResponse response;
  auto op = codec.ResolveOperation(request, *detection.service, detection.operation);
  if (!op.ok()) {
    codec.EncodeError(op.status(), detection.service, "fuzz", &response);
    return 0;
  }
  auto input = codec.DecodeInput(request, *detection.service, **op);
  if (!input.ok()) {
    codec.EncodeError(input.status(), detection.service, "fuzz", &response);
    return 0;
  }
  codec.EncodeOutput(*detection.service, **op, std::move(*input), "fuzz", &response);
  return 0;
}
