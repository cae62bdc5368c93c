#include "api/http/message.h"

#include "absl/strings/match.h"

namespace klaxon::api {
namespace {
bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(absl::string_view(a.data(), a.size()),
                                absl::string_view(b.data(), b.size()));
}
}  // namespace

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return {};
}

bool HttpRequest::HasHeader(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return true;
  }
  return false;
}

uint64_t HashRouteKey(std::string_view s, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint64_t RequestHandler::RouteKey(const HttpRequest& request) const {
  std::string_view target = request.target;
  target = target.substr(0, target.find('?'));
  return HashRouteKey(target, HashRouteKey(request.method));
}

void HttpResponse::SetHeader(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

void DeferredResponse::Complete(Finish finish) {
  std::function<void(Finish)> ready;
  {
    klaxon::MutexLock lock(&mu_);
    completed_ = true;
    if (!ready_) {
      finish_ = std::move(finish);
      return;
    }
    ready = std::move(ready_);
  }
  ready(std::move(finish));
}

void DeferredResponse::OnComplete(std::function<void(Finish)> ready) {
  Finish finish;
  {
    klaxon::MutexLock lock(&mu_);
    if (!completed_) {
      ready_ = std::move(ready);
      return;
    }
    finish = std::move(finish_);
  }
  ready(std::move(finish));
}

}  // namespace klaxon::api
