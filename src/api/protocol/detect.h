#pragma once
// Which service, protocol and (for RPC protocols) operation a request addresses — decided before
// authentication so that even auth errors are answered in the request's protocol. Every service
// shares one endpoint; the order is wire-contract §1.2:
//   1. `X-Amz-Target: <prefix>.<Op>` → the service whose targetPrefix is <prefix>; JSON 1.0 or
//      1.1 by Content-Type (application/x-amz-json-1.0 / -1.1), else by the model's jsonVersion.
//   2. a path ending in `/service/<prefix>/operation/<Op>` with `smithy-protocol: rpc-v2-cbor`
//      → RPC v2 CBOR for the service whose targetPrefix is <prefix>.
//   3. Content-Type application/x-www-form-urlencoded → query; the service by the body's
//      `Version` (apiVersion of a query service: CloudWatch and SNS share action names), else by
//      the SigV4 credential-scope service; the operation is the body's `Action`.
//   4. anything else → rest-json: the rest-json service whose signing name is the credential-scope
//      service, else the only rest-json service served.
// Thread-safe; allocation only for the result.

#include <string>

#include "api/http/message.h"
#include "api/model/model_registry.h"
#include "api/protocol/protocol.h"

namespace klaxon::api::protocol {

struct Detection {
  Protocol protocol = Protocol::kRestJson;
  const model::ServiceModel* service = nullptr;  // nullptr: no served service matches
  std::string operation;  // RPC protocols: the operation name sent; empty for rest-json
};

Detection DetectService(const HttpRequest& request, const model::ModelRegistry& registry);

}  // namespace klaxon::api::protocol
