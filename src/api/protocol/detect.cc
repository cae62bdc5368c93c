#include "api/protocol/detect.h"

#include "api/protocol/wire_text.h"

namespace klaxon::api::protocol {
namespace {

constexpr std::string_view kCborMarker = "/service/";
constexpr std::string_view kCborOperation = "/operation/";

}  // namespace

Detection DetectService(const HttpRequest& request, const model::ModelRegistry& registry) {
  Detection d;
  std::string_view content_type = request.Header("Content-Type");

  // 1. JSON-RPC.
  if (request.HasHeader("X-Amz-Target")) {
    std::string_view target = request.Header("X-Amz-Target");
    size_t dot = target.rfind('.');
    std::string_view prefix = dot == std::string_view::npos ? target : target.substr(0, dot);
    d.operation = dot == std::string_view::npos ? "" : std::string(target.substr(dot + 1));
    d.service = registry.FindByTargetPrefix(prefix);
    if (StartsWithIgnoreCase(content_type, "application/x-amz-json-1.0")) {
      d.protocol = Protocol::kAwsJson10;
    } else if (StartsWithIgnoreCase(content_type, "application/x-amz-json-1.1")) {
      d.protocol = Protocol::kAwsJson11;
    } else {
      d.protocol = d.service != nullptr && d.service->metadata().json_version == "1.0"
                       ? Protocol::kAwsJson10
                       : Protocol::kAwsJson11;
    }
    return d;
  }

  std::string_view path, query;
  SplitTarget(request.target, &path, &query);

  // 2. Smithy RPC v2 CBOR: [base path]/service/<prefix>/operation/<Op>.
  if (StartsWithIgnoreCase(request.Header("smithy-protocol"), "rpc-v2-cbor")) {
    size_t op_pos = path.rfind(kCborOperation);
    if (op_pos != std::string_view::npos) {
      std::string_view before = path.substr(0, op_pos);
      size_t svc_pos = before.rfind(kCborMarker);
      if (svc_pos != std::string_view::npos) {
        d.protocol = Protocol::kRpcV2Cbor;
        d.service = registry.FindByTargetPrefix(before.substr(svc_pos + kCborMarker.size()));
        d.operation = std::string(path.substr(op_pos + kCborOperation.size()));
        return d;
      }
    }
  }

  std::string scope_service = CredentialScopeService(request.Header("Authorization"), query);

  // 3. Query (form POST).
  if (StartsWithIgnoreCase(content_type, "application/x-www-form-urlencoded")) {
    d.protocol = Protocol::kAwsQuery;
    std::string version;
    for (auto& [name, value] : ParseQuery(request.body)) {
      if (name == "Action" && d.operation.empty()) d.operation = value;
      if (name == "Version" && version.empty()) version = value;
    }
    for (const auto& s : registry.services()) {
      if (s->metadata().protocol == "query" && !version.empty() &&
          s->metadata().api_version == version) {
        d.service = s.get();
        break;
      }
    }
    if (d.service == nullptr) d.service = registry.FindBySigningName(scope_service);
    return d;
  }

  // 4. rest-json.
  d.protocol = Protocol::kRestJson;
  const model::ServiceModel* by_scope = registry.FindBySigningName(scope_service);
  if (by_scope != nullptr && by_scope->metadata().protocol == "rest-json") {
    d.service = by_scope;
    return d;
  }
  const model::ServiceModel* only = nullptr;
  for (const auto& s : registry.services()) {
    if (s->metadata().protocol != "rest-json") continue;
    if (only != nullptr) return d;  // ambiguous
    only = s.get();
  }
  d.service = only;
  return d;
}

}  // namespace klaxon::api::protocol
