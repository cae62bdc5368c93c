// libFuzzer target: the awsQuery form decoder (flattened keys walked by the input shape,
// validation) and XML encoder over the CloudWatch and SNS models. Input: the form body
// ("Action=<Op>&Version=<apiVersion>&..."); the Version picks the service.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/model/model_registry.h"
#include "api/protocol/detect.h"
#include "api/protocol/query.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace klaxon::api;
  static const model::ModelRegistry& registry = model::ModelRegistry::Embedded();
  static const protocol::QueryCodec codec;

  HttpRequest request;
  request.method = "POST";
  request.target = "/";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  request.body = std::string(reinterpret_cast<const char*>(data), size);

  protocol::Detection detection = protocol::DetectService(request, registry);
  const model::ServiceModel* service =
      detection.service != nullptr ? detection.service : registry.Find("cloudwatch");
  HttpResponse response;
  auto op = codec.ResolveOperation(request, *service, detection.operation);
  if (!op.ok()) {
    codec.EncodeError(op.status(), service, "fuzz", &response);
    return 0;
  }
  auto input = codec.DecodeInput(request, *service, **op);
  if (!input.ok()) {
    codec.EncodeError(input.status(), service, "fuzz", &response);
    return 0;
  }
  codec.EncodeOutput(*service, **op, std::move(*input), "fuzz", &response);
  return 0;
}
