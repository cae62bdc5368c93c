#pragma once
// The api layer's RequestHandler: one request's life from HTTP message to HTTP response.
//
//   1. detect the service, protocol and (RPC) operation name — protocol/detect.h, before auth so
//      that every error, auth errors included, is answered in the request's protocol;
//   2. authenticate (Authenticator; its errors are encoded as they come);
//   3. per-account rate limit (off by default) → ThrottlingException;
//   4. check the SigV4 credential scope names the addressed service ("ssm-incidents",
//      "monitoring", ...) → InvalidSignatureException otherwise;
//   5. resolve the operation with the protocol's codec (rest-json: method + URI) and find its
//      handler in the OperationTable — either missing → UnknownOperationException;
//   6. decode the input and validate it against the model → SerializationException /
//      ValidationException;
//   7. call the handler (exceptions are caught: InternalServerException, logged);
//   8. encode the output, or the handler's error through protocol/errors.h.
// A handler that returns WouldBlockError() (it was called inside a NonBlockingScope and would have
// to block) gets a response with `would_block` set, which the HTTP server retries on its pool; it
// is not counted in the metrics and its rate-limit token is given back. Inside a NonBlockingScope
// an operation with an AsyncHandler is called through it: the response then has `deferred` set,
// and is encoded (and counted) when the server finishes it.
// Every response carries `x-amzn-RequestId` (a UUID, also the CallContext's request_id).
// Metrics: `klaxon_requests_total{service,operation,status}` and
// `klaxon_request_seconds{service,operation}` (unknown parts are labeled "unknown").
//
// Thread-safe: Handle() runs concurrently on the HTTP server's workers. Everything it reads is
// immutable except the rate limiter (its own mutex) and the metrics (thread-safe).

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "api/auth.h"
#include "api/http/message.h"
#include "api/model/model_registry.h"
#include "api/operation.h"
#include "api/protocol/codecs.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "common/mutex.h"

namespace klaxon::api {

struct DispatcherOptions {
  // Requests per second each account may make (token bucket over the injected clock); 0 = no
  // limit (the default). Excess requests get ThrottlingException (HTTP 429 for ssm-incidents,
  // 400 for JSON 1.1 services), which the AWS clients retry with backoff.
  double throttle_rate = 0;
  // Bucket size: requests allowed in a burst. 0 = max(1, throttle_rate).
  double throttle_burst = 0;
};

class Dispatcher final : public RequestHandler {
 public:
  // Every argument must outlive the dispatcher. The OperationTable must be fully filled before
  // the first Handle().
  Dispatcher(const Authenticator& authenticator, const OperationTable& operations,
             const model::ModelRegistry& models, metrics::Registry& metrics, const Clock& clock,
             DispatcherOptions options = {});
  ~Dispatcher() override;
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Never throws; always returns a complete response.
  HttpResponse Handle(const HttpRequest& request) override;

  // The operation a request names, hashed without decoding it: X-Amz-Target (JSON protocols), the
  // /service/S/operation/O path (RPC v2 CBOR), the form body's Action (query), else the method
  // and first path segment (rest-json: "/startIncident", "/tags"). Lets the HTTP server learn
  // which operations block on commits.
  uint64_t RouteKey(const HttpRequest& request) const override;

 private:
  struct Outcome;
  absl::Status Process(const HttpRequest& request, Outcome& outcome);
  // The response of a deferred call (an AsyncHandler's result), built on the connection's thread.
  HttpResponse FinishDeferred(Outcome& outcome, absl::StatusOr<boost::json::object> output);
  // Encodes an error (if any), adds x-amzn-RequestId, records the metrics.
  HttpResponse Finalize(Outcome& outcome, const absl::Status& status);
  // The bucket size (DispatcherOptions::throttle_burst, or its default).
  double Burst() const;
  // False when `account` is over its rate.
  bool Admit(const std::string& account);
  // Gives back the token of a request that is going to be retried (would_block).
  void Refund(const std::string& account);

  const Authenticator& authenticator_;
  const OperationTable& operations_;
  const model::ModelRegistry& models_;
  metrics::Registry& metrics_;
  const Clock& clock_;
  const DispatcherOptions options_;
  const protocol::CodecSet codecs_;

  struct Bucket {
    double tokens = 0;
    absl::Time last;
  };
  klaxon::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace klaxon::api
