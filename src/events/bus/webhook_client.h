#pragma once
// Outbound HTTP for webhook targets: one POST per delivery, synchronous, with a deadline.
//
// WebhookClient is the interface delivery uses (tests inject a fake); BeastWebhookClient is the
// implementation on Boost.Beast (http://) and Boost.Asio SSL with OpenSSL (https://, peer
// certificate verified against the system store, SNI set).
//
// Thread-safety: Post() may be called concurrently (each call uses its own connection).

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace klaxon::events {

struct HttpResult {
  int status = 0;
  std::string body;  // at most the first 64 KiB
};

class WebhookClient {
 public:
  virtual ~WebhookClient() = default;
  // POSTs `body` to `url` (http or https, with query string). Errors: Unavailable (connection,
  // TLS or timeout), InvalidArgument (malformed URL). An HTTP error status is a result, not an
  // error.
  virtual absl::StatusOr<HttpResult> Post(const std::string& url,
                                          const std::map<std::string, std::string>& headers,
                                          const std::string& body, absl::Duration timeout) = 0;
};

class BeastWebhookClient final : public WebhookClient {
 public:
  BeastWebhookClient() = default;
  absl::StatusOr<HttpResult> Post(const std::string& url,
                                  const std::map<std::string, std::string>& headers,
                                  const std::string& body, absl::Duration timeout) override;
};

}  // namespace klaxon::events
