// libFuzzer target for what PutTargets accepts from callers and delivery then runs: JSONPath
// (InputPath, InputPathsMap values) and InputTransformer templates, applied to a fixed event and to
// the fuzzed bytes as an event. Input format: PATH \n TEMPLATE \n EVENT.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "events/bus/input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t a = in.find('\n');
  size_t b = a == std::string_view::npos ? a : in.find('\n', a + 1);
  std::string path(in.substr(0, a));
  std::string tmpl(a == std::string_view::npos ? "" : in.substr(a + 1, b - a - 1));
  std::string event(b == std::string_view::npos ? R"({"detail":{"a":[1,{"b":"c"}]}})" : in.substr(b + 1));
  (void)klaxon::events::ParseJsonPath(path);
  klaxon::events::Target t;
  t.id = "t";
  t.arn = "https://example.com/";
  if (!tmpl.empty()) {
    t.input_transformer = klaxon::events::InputTransformer{{{"v", path}}, tmpl};
  } else {
    t.input_path = path;
  }
  if (klaxon::events::ValidateTargetInput(t).ok()) {
    (void)klaxon::events::TransformInput(t, event, {"arn:aws:events:us-east-1:1:rule/r", "r", {}});
  }
  return 0;
}
