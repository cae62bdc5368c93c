#include "api/dispatcher.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/protocol/detect.h"
#include "api/protocol/errors.h"
#include "common/ids.h"
#include "common/non_blocking.h"
#include "common/status.h"
#include "spdlog/spdlog.h"

namespace klaxon::api {
namespace {

constexpr std::string_view kUnknown = "unknown";

bool IsServerError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
      return true;
    default:
      return false;
  }
}

}  // namespace

// What Process() found out, for encoding and metrics.
struct Dispatcher::Outcome {
  std::string request_id;
  protocol::Detection detection;
  const protocol::Codec* codec = nullptr;
  const model::Operation* operation = nullptr;
  HttpResponse response;
  std::string admitted_account;  // set when the rate limiter took a token
  std::chrono::steady_clock::time_point start;
};

Dispatcher::Dispatcher(const Authenticator& authenticator, const OperationTable& operations,
                       const model::ModelRegistry& models, metrics::Registry& metrics,
                       const Clock& clock, DispatcherOptions options)
    : authenticator_(authenticator),
      operations_(operations),
      models_(models),
      metrics_(metrics),
      clock_(clock),
      options_(options),
      codecs_(models) {}

Dispatcher::~Dispatcher() = default;

double Dispatcher::Burst() const {
  return options_.throttle_burst > 0 ? options_.throttle_burst
                                     : std::max(1.0, options_.throttle_rate);
}

bool Dispatcher::Admit(const std::string& account) {
  if (options_.throttle_rate <= 0) return true;
  const double burst = Burst();
  absl::Time now = clock_.Now();
  klaxon::MutexLock lock(&mu_);
  auto [it, inserted] = buckets_.try_emplace(account);
  Bucket& b = it->second;
  if (inserted) {
    b.tokens = burst;
  } else {
    double elapsed = std::max(0.0, absl::ToDoubleSeconds(now - b.last));
    b.tokens = std::min(burst, b.tokens + elapsed * options_.throttle_rate);
  }
  b.last = now;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

void Dispatcher::Refund(const std::string& account) {
  klaxon::MutexLock lock(&mu_);
  auto it = buckets_.find(account);
  if (it == buckets_.end()) return;
  it->second.tokens = std::min(Burst(), it->second.tokens + 1.0);
}

absl::Status Dispatcher::Process(const HttpRequest& request, Outcome& out) {
  KLAXON_ASSIGN_OR_RETURN(Caller caller, authenticator_.Authenticate(request));

  if (!Admit(caller.account_id)) {
    return AwsError(absl::StatusCode::kResourceExhausted, "ThrottlingException", "Rate exceeded",
                    {{"quotaCode", "klaxon-account-request-rate"}});
  }
  if (options_.throttle_rate > 0) out.admitted_account = caller.account_id;

  const model::ServiceModel* service = out.detection.service;
  if (service == nullptr) {
    return protocol::UnknownOperationError("No service served here matches this request");
  }
  const std::string& signing_name = service->metadata().signing_name;
  if (!caller.signing_service.empty() && caller.signing_service != signing_name) {
    return AwsError(
        absl::StatusCode::kUnauthenticated, "InvalidSignatureException",
        absl::StrCat("Credential should be scoped to correct service: '", signing_name, "'. "));
  }
  if (out.codec == nullptr) {
    return protocol::UnknownOperationError(
        absl::StrCat("The ", std::string(protocol::ProtocolName(out.detection.protocol)),
                     " protocol is not supported yet for ", service->name()));
  }

  KLAXON_ASSIGN_OR_RETURN(out.operation,
                          out.codec->ResolveOperation(request, *service, out.detection.operation));
  const OperationTable::Entry* entry = operations_.Lookup(service->name(), out.operation->name);
  if (entry == nullptr) {
    return protocol::UnknownOperationError(
        absl::StrCat("Operation ", out.operation->name, " is not supported"));
  }
  const bool non_blocking = IsNonBlocking();
  if (non_blocking && !entry->TriedWithoutBlocking()) return WouldBlockError();

  KLAXON_ASSIGN_OR_RETURN(boost::json::object input,
                          out.codec->DecodeInput(request, *service, *out.operation));

  CallContext context;
  context.caller = std::move(caller);
  context.service = service->name();
  context.operation = out.operation->name;
  context.request_id = out.request_id;

  if (non_blocking && entry->async) {
    // The response is built later, on the connection's thread, from what the handler reports.
    auto deferred = std::make_shared<DeferredResponse>();
    auto done_outcome = std::make_shared<Outcome>(out);
    absl::Status queued;
    try {
      queued = entry->async(context, input,
                            [this, deferred, done_outcome](absl::StatusOr<boost::json::object> r) {
                              deferred->Complete([this, done_outcome, r = std::move(r)]() mutable {
                                return FinishDeferred(*done_outcome, std::move(r));
                              });
                            });
    } catch (const std::exception& e) {
      spdlog::error("request {}: {}.{} threw: {}", out.request_id, service->name(),
                    out.operation->name, e.what());
      return absl::InternalError("handler threw");
    }
    if (!queued.ok()) return queued;
    out.response.deferred = std::move(deferred);
    return absl::OkStatus();
  }

  absl::StatusOr<boost::json::object> output;
  try {
    output = entry->handler(context, input);
  } catch (const std::exception& e) {
    spdlog::error("request {}: {}.{} threw: {}", out.request_id, service->name(),
                  out.operation->name, e.what());
    return absl::InternalError("handler threw");
  } catch (...) {
    spdlog::error("request {}: {}.{} threw a non-std exception", out.request_id, service->name(),
                  out.operation->name);
    return absl::InternalError("handler threw");
  }
  if (!output.ok()) return output.status();
  out.codec->EncodeOutput(*service, *out.operation, std::move(*output), out.request_id,
                          &out.response);
  return absl::OkStatus();
}

uint64_t Dispatcher::RouteKey(const HttpRequest& request) const {
  std::string_view amz_target = request.Header("x-amz-target");
  if (!amz_target.empty()) return HashRouteKey(amz_target);
  std::string_view path = request.target;
  path = path.substr(0, path.find('?'));
  if (path.starts_with("/service/")) return HashRouteKey(path);
  std::string_view body = request.body;
  if (body.starts_with("Action=") || body.find("&Action=") != std::string_view::npos) {
    size_t at = body.starts_with("Action=") ? 0 : body.find("&Action=") + 1;
    std::string_view action = body.substr(at);
    return HashRouteKey(action.substr(0, action.find('&')));
  }
  size_t segment_end = path.size() > 1 ? path.find('/', 1) : std::string_view::npos;
  return HashRouteKey(path.substr(0, segment_end), HashRouteKey(request.method));
}

HttpResponse Dispatcher::Handle(const HttpRequest& request) {
  Outcome out;
  out.start = std::chrono::steady_clock::now();
  out.request_id = NewUuid();
  out.detection = protocol::DetectService(request, models_);
  out.codec = codecs_.Find(out.detection.protocol);

  absl::Status status;
  try {
    status = Process(request, out);
  } catch (const std::exception& e) {
    spdlog::error("request {}: exception outside the handler: {}", out.request_id, e.what());
    status = absl::InternalError("exception");
  } catch (...) {
    status = absl::InternalError("exception");
  }

  if (IsWouldBlock(status)) {
    // Not an answer: the server runs the request again where it may block (see message.h). The
    // retry is the one that counts, in the rate limiter and in the metrics.
    if (!out.admitted_account.empty()) Refund(out.admitted_account);
    HttpResponse retry;
    retry.would_block = true;
    return retry;
  }
  if (status.ok() && out.response.deferred) return std::move(out.response);  // see FinishDeferred
  return Finalize(out, status);
}

HttpResponse Dispatcher::FinishDeferred(Outcome& out, absl::StatusOr<boost::json::object> output) {
  absl::Status status = output.status();
  if (status.ok()) {
    out.codec->EncodeOutput(*out.detection.service, *out.operation, std::move(*output),
                            out.request_id, &out.response);
  }
  return Finalize(out, status);
}

HttpResponse Dispatcher::Finalize(Outcome& out, const absl::Status& status) {
  const model::ServiceModel* service = out.detection.service;
  std::string service_label = service != nullptr ? service->name() : std::string(kUnknown);
  std::string operation_label = out.operation != nullptr ? out.operation->name
                                : !out.detection.operation.empty() && service != nullptr &&
                                        service->FindOperation(out.detection.operation) != nullptr
                                    ? out.detection.operation
                                    : std::string(kUnknown);

  if (!status.ok()) {
    if (IsServerError(status)) {
      spdlog::error("request {}: {}.{} failed: {}", out.request_id, service_label, operation_label,
                    status.ToString());
    } else {
      spdlog::debug("request {}: {}.{}: {}", out.request_id, service_label, operation_label,
                    status.ToString());
    }
    out.response = HttpResponse();
    protocol::Protocol protocol = out.detection.protocol;
    if (out.codec != nullptr) {
      out.codec->EncodeError(status, service, out.request_id, &out.response);
    } else {
      protocol::EncodeStatus(status, service, protocol, out.request_id, &out.response);
    }
  }
  out.response.SetHeader("x-amzn-RequestId", out.request_id);

  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - out.start).count();
  metrics_
      .GetCounter("klaxon_requests_total", "API requests by service, operation and HTTP status.",
                  {{"service", service_label},
                   {"operation", operation_label},
                   {"status", std::to_string(out.response.status)}})
      .Add();
  metrics_
      .GetHistogram("klaxon_request_seconds",
                    "API request latency (detection to encoded response), seconds.",
                    {{"service", service_label}, {"operation", operation_label}})
      .Observe(seconds);
  return std::move(out.response);
}

}  // namespace klaxon::api
