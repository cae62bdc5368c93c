#pragma once
// SigV4 signing for klaxon's load generators (aws_load, events_load, put_metric_load).
//
// Written independently of the server's verifier (src/api/http/sigv4), on OpenSSL directly, so
// that every benchmark request also cross-checks the server's implementation. Covers what the
// generators send: a path without characters needing encoding, no query string, and the
// headers content-type, host, x-amz-date and (when set) x-amz-target.

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "boost/beast/http.hpp"

namespace klaxon::bench {

inline std::string Hex(const unsigned char* data, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 15];
  }
  return out;
}

inline std::string Sha256Hex(const std::string& s) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), md);
  return Hex(md, sizeof(md));
}

inline std::string Hmac(const std::string& key, const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

struct Signer {
  std::string key_id = "test";
  std::string secret = "test";
  std::string region = "us-east-1";

  // Sets Host and X-Amz-Date, signs `req` for `service` and sets Authorization and the length.
  void Sign(boost::beast::http::request<boost::beast::http::string_body>& req,
            const std::string& service, const std::string& host) const {
    namespace http = boost::beast::http;
    const std::string amz_date =
        absl::FormatTime("%Y%m%dT%H%M%SZ", absl::Now(), absl::UTCTimeZone());
    const std::string date = amz_date.substr(0, 8);
    req.set(http::field::host, host);
    req.set("X-Amz-Date", amz_date);
    const std::string target(req["X-Amz-Target"]);
    std::string signed_headers = "content-type;host;x-amz-date";
    std::string canonical_headers =
        absl::StrCat("content-type:", std::string(req[http::field::content_type]), "\nhost:", host,
                     "\nx-amz-date:", amz_date, "\n");
    if (!target.empty()) {
      signed_headers += ";x-amz-target";
      absl::StrAppend(&canonical_headers, "x-amz-target:", target, "\n");
    }
    const std::string canonical =
        absl::StrCat(std::string(req.method_string()), "\n", std::string(req.target()), "\n\n",
                     canonical_headers, "\n", signed_headers, "\n", Sha256Hex(req.body()));
    const std::string scope = absl::StrCat(date, "/", region, "/", service, "/aws4_request");
    const std::string to_sign =
        absl::StrCat("AWS4-HMAC-SHA256\n", amz_date, "\n", scope, "\n", Sha256Hex(canonical));
    std::string k = Hmac("AWS4" + secret, date);
    k = Hmac(k, region);
    k = Hmac(k, service);
    k = Hmac(k, "aws4_request");
    const std::string sig = Hmac(k, to_sign);
    req.set(http::field::authorization,
            absl::StrCat("AWS4-HMAC-SHA256 Credential=", key_id, "/", scope,
                         ", SignedHeaders=", signed_headers, ", Signature=",
                         Hex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size())));
    req.prepare_payload();
  }
};

}  // namespace klaxon::bench
