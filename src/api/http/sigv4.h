#pragma once
// AWS Signature Version 4 (SigV4) verification and signing.
//
// Design: verification rebuilds the canonical request from the HttpRequest exactly as AWS clients
// build it for services other than S3 (botocore SigV4Auth, @smithy/signature-v4 with
// uriEscapePath), derives the signing key from the secret of the access key named in the
// credential scope, and compares signatures in constant time. Both the `Authorization` header form
// and the presigned query-string form (X-Amz-Algorithm, X-Amz-Credential, ...) are accepted.
//
// Canonicalization rules (the part clients and servers must agree on byte for byte):
//  - canonical URI: the path exactly as received (still percent-encoded), with empty and "."
//    segments removed and ".." resolved, then every byte except unreserved characters and "/"
//    percent-encoded once more. So `/tags/arn%3Aaws%3A...%2Fplan` signs as
//    `/tags/arn%253Aaws%253A...%252Fplan`: the double encoding of non-S3 services.
//  - canonical query: every `name=value` pair percent-decoded, re-encoded (unreserved kept, all
//    else %XX uppercase, "+" is a literal plus), sorted by name then value; repeated names kept.
//  - canonical headers: names lowercased, values trimmed with inner whitespace runs collapsed to
//    one space; repeated headers joined with "," in arrival order.
//  - payload hash: the `x-amz-content-sha256` header when present (a hex digest must equal the
//    body's digest; `UNSIGNED-PAYLOAD` is accepted), else SHA-256 of the body.
//
// Limits: no SigV4A, no aws-chunked streaming payloads, no session tokens (an
// X-Amz-Security-Token is signed like any header but not checked against anything).

#include <array>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/auth.h"
#include "api/http/message.h"
#include "common/clock.h"

namespace klaxon::api {

// One access key and the identity it authenticates as.
struct AccessKey {
  std::string access_key_id;
  std::string secret_access_key;
  std::string account_id;     // 12 digits
  std::string principal_arn;  // empty: arn:aws:iam::<account_id>:root
};

// The configured access keys. A value type; build it once (from the config file) and hand it to
// the authenticator. Not thread-safe for mutation; const access is thread-safe.
class KeyStore {
 public:
  // Adds a key. InvalidArgument if a field is malformed (empty id or secret, account not 12
  // digits), AlreadyExists if the access key id is taken.
  absl::Status Add(AccessKey key);
  // The key with this id, or nullptr.
  const AccessKey* Find(std::string_view access_key_id) const;
  size_t size() const { return keys_.size(); }

  // The development default: account 000000000000, key `test` / secret `test`.
  static KeyStore Default();

 private:
  absl::flat_hash_map<std::string, AccessKey> keys_;
};

namespace sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// AWS's clock-skew window: a request dated more than this before or after "now" is refused.
inline constexpr absl::Duration kDefaultMaxSkew = absl::Minutes(15);
// Longest validity of a presigned request (X-Amz-Expires), as AWS.
inline constexpr int64_t kMaxPresignExpiresSeconds = int64_t{7} * 24 * 3600;

// The fields of an `Authorization: AWS4-HMAC-SHA256 ...` header or of the equivalent presigned
// query parameters.
struct Authorization {
  std::string access_key_id;
  std::string date;            // YYYYMMDD from the credential scope
  std::string region;          // from the credential scope
  std::string service;         // from the credential scope
  std::string signed_headers;  // as sent: lowercase names joined by ';'
  std::vector<std::string> signed_header_names;
  std::string signature;  // as sent (64 lowercase hex digits when well-formed)
  // Presigned form only.
  bool presigned = false;
  std::string amz_date;         // X-Amz-Date query parameter
  int64_t expires_seconds = 0;  // X-Amz-Expires

  std::string CredentialScope() const;  // DATE/REGION/SERVICE/aws4_request
};

// Parses the value of an Authorization header. Errors: IncompleteSignatureException (missing or
// malformed component, unsupported algorithm), all with code kUnauthenticated.
absl::StatusOr<Authorization> ParseAuthorizationHeader(std::string_view value);

// Parses the presigned-URL parameters of a raw query string (X-Amz-Algorithm, X-Amz-Credential,
// X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature). Same errors.
absl::StatusOr<Authorization> ParsePresignedQuery(std::string_view raw_query);

// True if the raw query string carries X-Amz-Algorithm (a presigned request).
bool IsPresignedQuery(std::string_view raw_query);

// Splits a request target into its raw path and raw query (without '?'); an absolute-form target
// ("http://host/p?q") yields its path. The fragment, if any, is dropped.
void SplitTarget(std::string_view target, std::string_view* path, std::string_view* query);

// Canonical URI of a raw (percent-encoded) path, as described at the top of this file.
std::string CanonicalUri(std::string_view raw_path);

// Canonical query string of a raw query. `drop_signature` omits X-Amz-Signature (presigned).
std::string CanonicalQueryString(std::string_view raw_query, bool drop_signature = false);

// Canonical headers block ("name:value\n" per signed header) for `signed_header_names` (lowercase).
// A signed header absent from the request contributes an empty value.
std::string CanonicalHeaders(const HttpRequest& request,
                             const std::vector<std::string>& signed_header_names);

// The complete canonical request.
std::string CanonicalRequest(const HttpRequest& request, std::string_view signed_headers,
                             const std::vector<std::string>& signed_header_names,
                             std::string_view payload_hash, bool presigned);

// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256(canonical_request)>".
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);

using Key = std::array<uint8_t, 32>;

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
Key DeriveSigningKey(std::string_view secret, std::string_view date, std::string_view region,
                     std::string_view service);

// Lowercase hex of HMAC-SHA256(key, data) / SHA-256(data).
std::string HmacSha256Hex(const Key& key, std::string_view data);
std::string Sha256Hex(std::string_view data);

// Formats a time as the SigV4 basic ISO-8601 timestamp "YYYYMMDDTHHMMSSZ".
std::string FormatAmzDate(absl::Time t);
// Parses "YYYYMMDDTHHMMSSZ" strictly.
bool ParseAmzDate(std::string_view s, absl::Time* t);

// Signs `request` in place as botocore does for non-S3 services: sets X-Amz-Date and
// Authorization (signing `host`, `x-amz-date`, and every x-amz-* / content-type header present).
// The request must carry a Host header. For tests, benchmarks and outbound calls.
void SignRequest(HttpRequest& request, const AccessKey& key, std::string_view region,
                 std::string_view service, absl::Time now);

}  // namespace sigv4

// Options of the SigV4 authenticator.
struct SigV4Options {
  // A request whose date is further than this from the clock's now is refused.
  absl::Duration max_skew = sigv4::kDefaultMaxSkew;
  // Accept `x-amz-content-sha256: UNSIGNED-PAYLOAD` (the body is then not covered by the
  // signature). botocore and the JS SDK never send it for the services we emulate.
  bool allow_unsigned_payload = true;
  // The Region this server is. When set, a credential scoped to another Region is refused
  // (InvalidSignatureException), as an AWS regional endpoint does: a client configured for the
  // wrong Region gets an error instead of writing into a Region this node does not serve.
  std::string region;
  // Append the canonical request and string to sign we computed to InvalidSignatureException
  // messages, as several AWS services do: invaluable to debug a client, reveals no secret.
  bool explain_signature_mismatch = true;
};

// Verifies SigV4 signatures against a KeyStore.
//
// Thread-safe. Derived signing keys are cached per (access key, date, region, service), so a
// request costs two SHA-256 (body, canonical request) and one HMAC. Errors (all
// absl::StatusCode::kUnauthenticated, with an AWS type via AwsError):
//  - MissingAuthenticationTokenException: neither an Authorization header nor presigned query.
//  - IncompleteSignatureException: a malformed Authorization header / presigned query / date
//    (AWS answers these with HTTP 400).
//  - UnrecognizedClientException: unknown access key id.
//  - InvalidSignatureException: wrong signature, credential date not matching X-Amz-Date, request
//    outside the clock-skew window ("Signature expired: ..." / "Signature not yet current: ..."),
//    expired presigned request, payload hash mismatch, a credential scoped to another Region
//    than SigV4Options::region.
class SigV4Authenticator final : public Authenticator {
 public:
  SigV4Authenticator(KeyStore keys, const Clock& clock, SigV4Options options = {});
  SigV4Authenticator(const SigV4Authenticator&) = delete;
  SigV4Authenticator& operator=(const SigV4Authenticator&) = delete;

  absl::StatusOr<Caller> Authenticate(const HttpRequest& request) const override;

  // Replaces the key set (config reload) and drops cached signing keys. Thread-safe.
  void ReplaceKeys(KeyStore keys);

 private:
  sigv4::Key SigningKey(const AccessKey& key, const sigv4::Authorization& auth) const;

  const Clock& clock_;
  const SigV4Options options_;
  // std::shared_mutex rather than absl::Mutex: Debian's Abseil is not built with TSan, so TSan
  // cannot see absl::Mutex synchronization and reports false races.
  mutable std::shared_mutex mu_;
  std::shared_ptr<const KeyStore> keys_;                            // guarded by mu_
  mutable absl::flat_hash_map<std::string, sigv4::Key> key_cache_;  // guarded by mu_
};

}  // namespace klaxon::api
