#pragma once
// Authentication: who is calling. Implemented by api/http/sigv4.h (SigV4 against configured keys).

#include <string>

#include "absl/status/statusor.h"
#include "api/http/message.h"

namespace klaxon::api {

// The verified caller of one request.
struct Caller {
  std::string account_id;     // 12 digits; scopes every read and write of the request
  std::string access_key_id;  // the key that signed
  std::string principal_arn;  // e.g. arn:aws:iam::000000000000:root or ...:user/NAME
  std::string region;         // from the credential scope
  std::string signing_service;  // from the credential scope ("ssm-incidents", "monitoring", ...)
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // Verifies the request's signature. Errors carry the AWS type (via AwsError) of the generic
  // JSON-protocol name: "MissingAuthenticationTokenException" (no auth, 403),
  // "UnrecognizedClientException" (unknown key, 403), "InvalidSignatureException" (bad signature
  // or outside the clock-skew window, 403). The protocol layer renames them for query protocols
  // (MissingAuthenticationToken, InvalidClientTokenId, SignatureDoesNotMatch). Thread-safe.
  virtual absl::StatusOr<Caller> Authenticate(const HttpRequest& request) const = 0;
};

}  // namespace klaxon::api
