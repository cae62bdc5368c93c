// libFuzzer target for the SigV4 parsers and canonicalization (untrusted input from any client).
//
// Input layout: line 1 is an Authorization header value, line 2 a request target, following lines
// up to an empty line are "name: value" headers, the rest is the body. Checks, beyond "no crash,
// no sanitizer report": the canonical URI and query use only unreserved characters, '/', '&',
// '=' and %XX escapes, and canonicalizing a canonical query string changes nothing.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/http/sigv4.h"
#include "common/clock.h"

namespace {

using klaxon::api::HttpRequest;
namespace sigv4 = klaxon::api::sigv4;

bool IsCanonicalChar(char c, bool query) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  if (c == '-' || c == '_' || c == '.' || c == '~' || c == '%') return true;
  return query ? (c == '&' || c == '=') : c == '/';
}

void CheckCanonical(const std::string& s, bool query) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (!IsCanonicalChar(s[i], query)) std::abort();
    if (s[i] == '%') {
      if (i + 2 >= s.size()) std::abort();
      for (size_t j = i + 1; j <= i + 2; ++j) {
        char h = s[j];
        if (!((h >= '0' && h <= '9') || (h >= 'A' && h <= 'F'))) std::abort();
      }
    }
  }
}

std::string_view NextLine(std::string_view& in) {
  size_t nl = in.find('\n');
  std::string_view line = in.substr(0, nl);
  in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view authorization = NextLine(in);
  std::string_view target = NextLine(in);

  HttpRequest request;
  request.method = "POST";
  request.target = std::string(target);
  request.headers.emplace_back("Authorization", std::string(authorization));
  while (!in.empty()) {
    std::string_view line = NextLine(in);
    if (line.empty()) break;
    size_t colon = line.find(':');
    request.headers.emplace_back(
        std::string(line.substr(0, colon)),
        colon == std::string_view::npos ? std::string() : std::string(line.substr(colon + 1)));
  }
  request.body = std::string(in);

  std::string_view path, query;
  sigv4::SplitTarget(request.target, &path, &query);
  std::string uri = sigv4::CanonicalUri(path);
  CheckCanonical(uri, /*query=*/false);
  if (uri.empty() || uri[0] != '/') std::abort();
  std::string canonical_query = sigv4::CanonicalQueryString(query);
  CheckCanonical(canonical_query, /*query=*/true);
  if (sigv4::CanonicalQueryString(canonical_query) != canonical_query) std::abort();

  auto parsed = sigv4::ParseAuthorizationHeader(authorization);
  if (parsed.ok()) {
    (void)sigv4::CanonicalRequest(request, parsed->signed_headers, parsed->signed_header_names,
                                  sigv4::Sha256Hex(request.body), false);
  }
  if (sigv4::IsPresignedQuery(query)) (void)sigv4::ParsePresignedQuery(query);

  static klaxon::SimulatedClock* clock = [] {
    auto* c = new klaxon::SimulatedClock();
    absl::Time t;
    sigv4::ParseAmzDate("20150830T123600Z", &t);
    c->Set(t);
    return c;
  }();
  static klaxon::api::SigV4Authenticator* auth = [] {
    klaxon::api::KeyStore keys;
    (void)keys.Add({"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "111122223333", ""});
    return new klaxon::api::SigV4Authenticator(std::move(keys), *clock);
  }();
  (void)auth->Authenticate(request);
  return 0;
}
