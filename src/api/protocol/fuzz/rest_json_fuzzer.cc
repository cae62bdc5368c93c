// libFuzzer target: the rest-json request decoder (routing, URI/query/header binding, JSON body,
// validation) over the ssm-incidents model.
// Input format: "METHOD TARGET\n" then "Name: value\n" header lines, an empty line, the body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/model/model_registry.h"
#include "api/protocol/detect.h"
#include "api/protocol/rest_json.h"

namespace {

klaxon::api::HttpRequest ParseRequest(std::string_view data) {
  klaxon::api::HttpRequest r;
  size_t eol = data.find('\n');
  std::string_view line = data.substr(0, eol);
  size_t space = line.find(' ');
  r.method = std::string(line.substr(0, space));
  r.target = space == std::string_view::npos ? "/" : std::string(line.substr(space + 1));
  data = eol == std::string_view::npos ? std::string_view() : data.substr(eol + 1);
  while (!data.empty()) {
    eol = data.find('\n');
    line = data.substr(0, eol);
    data = eol == std::string_view::npos ? std::string_view() : data.substr(eol + 1);
    if (line.empty()) break;
    size_t colon = line.find(':');
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    r.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  r.body = std::string(data);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace klaxon::api;
  static const model::ModelRegistry& registry = model::ModelRegistry::Embedded();
  static const model::ServiceModel& service = *registry.Find("ssm-incidents");
  static const protocol::RestJsonCodec codec(registry);

  HttpRequest request = ParseRequest(std::string_view(reinterpret_cast<const char*>(data), size));
  (void)protocol::DetectService(request, registry);
  auto op = codec.ResolveOperation(request, service, "");
  HttpResponse response;
  if (!op.ok()) {
    codec.EncodeError(op.status(), &service, "fuzz", &response);
    return 0;
  }
  auto input = codec.DecodeInput(request, service, **op);
  if (!input.ok()) {
    codec.EncodeError(input.status(), &service, "fuzz", &response);
    return 0;
  }
  // Echo the decoded input as the output: exercises output shaping on validated data.
  codec.EncodeOutput(service, **op, std::move(*input), "fuzz", &response);
  return 0;
}
