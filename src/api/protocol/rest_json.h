#pragma once
// The rest-json protocol (ssm-incidents): operations routed by HTTP method and the model's
// requestUri template; input members bound to URI labels, query parameters and headers per the
// model's `location` traits, the rest in a JSON body.
//
// Routing: the request path is split on '/' first and each segment percent-decoded afterwards,
// so an ARN label sent as one segment with `%2F` (`/tags/arn%3Aaws%3A...%2Fplan`) stays one
// label. `{label}` matches one non-empty segment, `{label+}` the rest of the path (at least one
// segment). Literal query keys in a requestUri (`/x?versioning`) must be present. When several
// routes match, the one with the most literal segments wins.
//
// Binding: URI labels, query values ('+' is a space; repeated keys form a list) and header values
// (lists comma-separated) are converted from text to the member's type (integer, boolean,
// double, timestamp: ISO-8601, epoch seconds or, in headers, an HTTP date); a value that does not
// convert is passed on as text and reported by validation. A querystring-bound map member
// collects the query parameters no other member binds. Body members not bound elsewhere come from
// the JSON body (empty body = {}); a `payload` member takes the whole body.
//
// Output: status = the operation's responseCode (200 default); header-bound members become
// headers; a 204 has an empty body; other statuses carry at least `{}`.

#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "api/model/model_registry.h"
#include "api/protocol/codec.h"

namespace klaxon::api::protocol {

class RestJsonCodec final : public Codec {
 public:
  // Builds the route tables of every rest-json service in `registry`, which must outlive the
  // codec.
  explicit RestJsonCodec(const model::ModelRegistry& registry);
  ~RestJsonCodec() override;

  Protocol protocol() const override { return Protocol::kRestJson; }
  absl::StatusOr<const model::Operation*> ResolveOperation(
      const HttpRequest& request, const model::ServiceModel& service,
      std::string_view operation_hint) const override;
  absl::StatusOr<boost::json::object> DecodeInput(const HttpRequest& request,
                                                  const model::ServiceModel& service,
                                                  const model::Operation& op) const override;
  void EncodeOutput(const model::ServiceModel& service, const model::Operation& op,
                    boost::json::object output, const std::string& request_id,
                    HttpResponse* response) const override;
  void EncodeError(const absl::Status& status, const model::ServiceModel* service,
                   const std::string& request_id, HttpResponse* response) const override;

  struct Route;  // internal

 private:
  absl::flat_hash_map<const model::ServiceModel*, std::vector<Route>> routes_;
};

}  // namespace klaxon::api::protocol
