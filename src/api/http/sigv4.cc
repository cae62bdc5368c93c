#include "api/http/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace klaxon::api {
namespace {

absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(Absl(a), Absl(b));
}

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr char kHexLower[] = "0123456789abcdef";

void UriEncodeAppend(std::string_view in, bool keep_slash, std::string* out) {
  for (unsigned char c : in) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out->push_back(static_cast<char>(c));
    } else {
      out->push_back('%');
      out->push_back(kHexUpper[c >> 4]);
      out->push_back(kHexUpper[c & 15]);
    }
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes; a '%' not followed by two hex digits stays literal, '+' stays '+'.
std::string PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
  return out;
}

std::string ToHex(const uint8_t* data, size_t n) {
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHexLower[data[i] >> 4];
    out[2 * i + 1] = kHexLower[data[i] & 15];
  }
  return out;
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

sigv4::Key Hmac(const void* key, size_t key_len, std::string_view data) {
  sigv4::Key out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key, static_cast<int>(key_len),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return out;
}

absl::Status Incomplete(std::string_view message) {
  return AwsError(absl::StatusCode::kUnauthenticated, "IncompleteSignatureException", message);
}

absl::Status InvalidSignature(std::string_view message) {
  return AwsError(absl::StatusCode::kUnauthenticated, "InvalidSignatureException", message);
}

bool AllDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Splits "AKID/DATE/REGION/SERVICE/aws4_request" into `auth`.
absl::Status ParseCredential(std::string_view credential, sigv4::Authorization* auth) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (parts.size() < 6) {
    size_t slash = credential.find('/', start);
    if (slash == std::string_view::npos) {
      parts.push_back(credential.substr(start));
      break;
    }
    parts.push_back(credential.substr(start, slash - start));
    start = slash + 1;
  }
  if (parts.size() != 5) {
    return Incomplete(absl::StrCat(
        "Credential should be scoped to a valid region, not a malformed scope: '", Absl(credential),
        "'. Expected ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request."));
  }
  if (parts[4] != "aws4_request") {
    return Incomplete(absl::StrCat("Credential should be scoped with a valid terminator: ",
                                   "'aws4_request', not '", Absl(parts[4]), "'."));
  }
  if (parts[0].empty()) return Incomplete("Credential must have a non-empty access key id.");
  if (parts[1].size() != 8 || !AllDigits(parts[1])) {
    return Incomplete(absl::StrCat("Credential should be scoped to a valid date (YYYYMMDD), not '",
                                   Absl(parts[1]), "'."));
  }
  if (parts[2].empty()) return Incomplete("Credential should be scoped to a valid region.");
  if (parts[3].empty()) return Incomplete("Credential should be scoped to a valid service.");
  auth->access_key_id = std::string(parts[0]);
  auth->date = std::string(parts[1]);
  auth->region = std::string(parts[2]);
  auth->service = std::string(parts[3]);
  return absl::OkStatus();
}

absl::Status ParseSignedHeaders(std::string_view value, sigv4::Authorization* auth) {
  auth->signed_headers = std::string(value);
  auth->signed_header_names.clear();
  size_t start = 0;
  while (start <= value.size()) {
    size_t semi = value.find(';', start);
    if (semi == std::string_view::npos) semi = value.size();
    std::string_view name = value.substr(start, semi - start);
    if (name.empty()) {
      return Incomplete(absl::StrCat("Authorization SignedHeaders has an empty header name: '",
                                     Absl(value), "'."));
    }
    auth->signed_header_names.push_back(absl::AsciiStrToLower(Absl(name)));
    start = semi + 1;
  }
  return absl::OkStatus();
}

// Calls fn(raw_name, raw_value) for each non-empty '&'-separated pair of a raw query.
template <typename Fn>
void ForEachQueryPair(std::string_view query, Fn fn) {
  size_t start = 0;
  while (start < query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(start, amp - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos) {
        fn(pair, std::string_view());
      } else {
        fn(pair.substr(0, eq), pair.substr(eq + 1));
      }
    }
    start = amp + 1;
  }
}

std::string FormatSkew(absl::Duration d) {
  int64_t minutes = absl::ToInt64Minutes(d);
  if (absl::Minutes(minutes) == d) return absl::StrCat(minutes, " min.");
  return absl::StrCat(absl::ToInt64Seconds(d), " sec.");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// KeyStore

absl::Status KeyStore::Add(AccessKey key) {
  if (key.access_key_id.empty() || key.access_key_id.find('/') != std::string::npos) {
    return absl::InvalidArgumentError("access key id must be non-empty and contain no '/'");
  }
  if (key.secret_access_key.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("secret of access key ", key.access_key_id, " is empty"));
  }
  if (key.account_id.size() != 12 || !AllDigits(key.account_id)) {
    return absl::InvalidArgumentError(absl::StrCat("account id of access key ", key.access_key_id,
                                                   " must be 12 digits, not '", key.account_id,
                                                   "'"));
  }
  if (key.principal_arn.empty()) {
    key.principal_arn = absl::StrCat("arn:aws:iam::", key.account_id, ":root");
  }
  std::string id = key.access_key_id;
  auto [it, inserted] = keys_.try_emplace(std::move(id), std::move(key));
  if (!inserted) {
    return absl::AlreadyExistsError(absl::StrCat("duplicate access key id ", it->first));
  }
  return absl::OkStatus();
}

const AccessKey* KeyStore::Find(std::string_view access_key_id) const {
  auto it = keys_.find(Absl(access_key_id));
  return it == keys_.end() ? nullptr : &it->second;
}

KeyStore KeyStore::Default() {
  KeyStore store;
  absl::Status status = store.Add({"test", "test", "000000000000", ""});
  (void)status;  // cannot fail
  return store;
}

namespace sigv4 {

std::string Authorization::CredentialScope() const {
  return absl::StrCat(date, "/", region, "/", service, "/aws4_request");
}

absl::StatusOr<Authorization> ParseAuthorizationHeader(std::string_view value) {
  std::string_view v = Trim(value);
  size_t space = v.find_first_of(" \t");
  std::string_view algorithm = v.substr(0, space);
  if (algorithm != kAlgorithm) {
    return Incomplete(absl::StrCat("Unsupported AWS 'algorithm': '", Absl(algorithm),
                                   "'. Only AWS4-HMAC-SHA256 is supported."));
  }
  std::string_view rest = space == std::string_view::npos ? std::string_view() : v.substr(space);
  Authorization auth;
  bool have_credential = false, have_signed_headers = false, have_signature = false;
  size_t start = 0;
  while (start <= rest.size()) {
    size_t comma = rest.find(',', start);
    if (comma == std::string_view::npos) comma = rest.size();
    std::string_view item = Trim(rest.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return Incomplete(absl::StrCat("Authorization header has a malformed component '", Absl(item),
                                     "'. Authorization=", Absl(v)));
    }
    std::string_view key = Trim(item.substr(0, eq));
    std::string_view val = Trim(item.substr(eq + 1));
    bool* seen = nullptr;
    if (key == "Credential") {
      seen = &have_credential;
      KLAXON_RETURN_IF_ERROR(ParseCredential(val, &auth));
    } else if (key == "SignedHeaders") {
      seen = &have_signed_headers;
      KLAXON_RETURN_IF_ERROR(ParseSignedHeaders(val, &auth));
    } else if (key == "Signature") {
      seen = &have_signature;
      auth.signature = std::string(val);
    } else {
      continue;  // unknown components are ignored, as AWS does
    }
    if (*seen) {
      return Incomplete(absl::StrCat("Authorization header has a duplicate '", Absl(key),
                                     "' parameter. Authorization=", Absl(v)));
    }
    *seen = true;
  }
  std::string missing;
  if (!have_credential) missing += "Authorization header requires 'Credential' parameter. ";
  if (!have_signature) missing += "Authorization header requires 'Signature' parameter. ";
  if (!have_signed_headers) {
    missing += "Authorization header requires 'SignedHeaders' parameter. ";
  }
  if (!missing.empty()) return Incomplete(absl::StrCat(missing, "Authorization=", Absl(v)));
  return auth;
}

bool IsPresignedQuery(std::string_view raw_query) {
  bool found = false;
  ForEachQueryPair(raw_query, [&](std::string_view name, std::string_view) {
    if (!found && PercentDecode(name) == "X-Amz-Algorithm") found = true;
  });
  return found;
}

absl::StatusOr<Authorization> ParsePresignedQuery(std::string_view raw_query) {
  std::string algorithm, credential, date, expires, signed_headers, signature;
  bool have_algorithm = false, have_credential = false, have_date = false, have_expires = false,
       have_signed_headers = false, have_signature = false;
  ForEachQueryPair(raw_query, [&](std::string_view raw_name, std::string_view raw_value) {
    std::string name = PercentDecode(raw_name);
    struct Slot {
      const char* name;
      std::string* value;
      bool* seen;
    };
    const Slot slots[] = {{"X-Amz-Algorithm", &algorithm, &have_algorithm},
                          {"X-Amz-Credential", &credential, &have_credential},
                          {"X-Amz-Date", &date, &have_date},
                          {"X-Amz-Expires", &expires, &have_expires},
                          {"X-Amz-SignedHeaders", &signed_headers, &have_signed_headers},
                          {"X-Amz-Signature", &signature, &have_signature}};
    for (const Slot& slot : slots) {
      if (name == slot.name && !*slot.seen) {
        *slot.value = PercentDecode(raw_value);
        *slot.seen = true;
      }
    }
  });
  if (algorithm != kAlgorithm) {
    return Incomplete(absl::StrCat("Unsupported AWS 'algorithm': '", algorithm,
                                   "'. Only AWS4-HMAC-SHA256 is supported."));
  }
  std::string missing;
  for (auto [seen, name] :
       {std::pair{have_credential, "X-Amz-Credential"}, std::pair{have_date, "X-Amz-Date"},
        std::pair{have_signed_headers, "X-Amz-SignedHeaders"},
        std::pair{have_signature, "X-Amz-Signature"}}) {
    if (!seen) absl::StrAppend(&missing, "AWS query-string parameters must include '", name, "'. ");
  }
  if (!missing.empty()) return Incomplete(absl::StrCat(missing, "Re-examine the query-string."));
  Authorization auth;
  auth.presigned = true;
  KLAXON_RETURN_IF_ERROR(ParseCredential(credential, &auth));
  KLAXON_RETURN_IF_ERROR(ParseSignedHeaders(signed_headers, &auth));
  auth.signature = std::move(signature);
  auth.amz_date = std::move(date);
  if (have_expires) {
    if (!absl::SimpleAtoi(Absl(expires), &auth.expires_seconds) || auth.expires_seconds < 0 ||
        !AllDigits(expires)) {
      return Incomplete(
          absl::StrCat("X-Amz-Expires should be a number of seconds, not '", expires, "'."));
    }
    if (auth.expires_seconds > kMaxPresignExpiresSeconds) {
      return Incomplete(
          "X-Amz-Expires must be less than a week (in seconds) that is 604800 seconds.");
    }
  }
  return auth;
}

void SplitTarget(std::string_view target, std::string_view* path, std::string_view* query) {
  size_t hash = target.find('#');
  if (hash != std::string_view::npos) target = target.substr(0, hash);
  // absolute-form: scheme "://" authority path
  size_t scheme = target.find("://");
  if (scheme != std::string_view::npos && target.find('/') > scheme) {
    size_t slash = target.find('/', scheme + 3);
    size_t qmark = target.find('?', scheme + 3);
    size_t cut = std::min(slash, qmark);
    target = cut == std::string_view::npos ? std::string_view() : target.substr(cut);
  }
  size_t q = target.find('?');
  if (q == std::string_view::npos) {
    *path = target;
    *query = {};
  } else {
    *path = target.substr(0, q);
    *query = target.substr(q + 1);
  }
}

std::string CanonicalUri(std::string_view raw_path) {
  if (raw_path.empty()) return "/";
  // Remove dot segments and empty segments (RFC 3986 5.2.4 plus AWS's slash collapsing), exactly
  // as botocore.utils.remove_dot_segments and @smithy/signature-v4 getCanonicalPath.
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (start <= raw_path.size()) {
    size_t slash = raw_path.find('/', start);
    if (slash == std::string_view::npos) slash = raw_path.size();
    std::string_view seg = raw_path.substr(start, slash - start);
    start = slash + 1;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(seg);
  }
  std::string normalized;
  normalized.reserve(raw_path.size() + 16);
  // An origin-form target always starts with '/'; anything else (e.g. "*") is treated as if it
  // did, so the canonical URI is always absolute.
  normalized.push_back('/');
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i) normalized.push_back('/');
    normalized.append(segments[i]);
  }
  if (raw_path.back() == '/' && !segments.empty()) normalized.push_back('/');
  if (normalized.empty()) return "/";
  std::string out;
  out.reserve(normalized.size() + 16);
  UriEncodeAppend(normalized, /*keep_slash=*/true, &out);
  return out;
}

std::string CanonicalQueryString(std::string_view raw_query, bool drop_signature) {
  std::vector<std::pair<std::string, std::string>> pairs;
  ForEachQueryPair(raw_query, [&](std::string_view raw_name, std::string_view raw_value) {
    std::string name = PercentDecode(raw_name);
    if (drop_signature && name == "X-Amz-Signature") return;
    std::string k, v;
    UriEncodeAppend(name, false, &k);
    UriEncodeAppend(PercentDecode(raw_value), false, &v);
    pairs.emplace_back(std::move(k), std::move(v));
  });
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i) out.push_back('&');
    out.append(pairs[i].first);
    out.push_back('=');
    out.append(pairs[i].second);
  }
  return out;
}

std::string CanonicalHeaders(const HttpRequest& request,
                             const std::vector<std::string>& signed_header_names) {
  std::string out;
  for (const std::string& name : signed_header_names) {
    out.append(name);
    out.push_back(':');
    bool first = true;
    for (const auto& [k, v] : request.headers) {
      if (!EqualsIgnoreCase(k, name)) continue;
      if (!first) out.push_back(',');
      first = false;
      // Trim, and collapse every run of whitespace to one space.
      std::string_view value = Trim(v);
      bool in_space = false;
      for (char c : value) {
        if (IsAsciiSpace(c)) {
          in_space = true;
          continue;
        }
        if (in_space) out.push_back(' ');
        in_space = false;
        out.push_back(c);
      }
    }
    out.push_back('\n');
  }
  return out;
}

std::string CanonicalRequest(const HttpRequest& request, std::string_view signed_headers,
                             const std::vector<std::string>& signed_header_names,
                             std::string_view payload_hash, bool presigned) {
  std::string_view path, query;
  SplitTarget(request.target, &path, &query);
  std::string out;
  out.reserve(512);
  out.append(request.method);
  out.push_back('\n');
  out.append(CanonicalUri(path));
  out.push_back('\n');
  out.append(CanonicalQueryString(query, presigned));
  out.push_back('\n');
  out.append(CanonicalHeaders(request, signed_header_names));
  out.push_back('\n');
  out.append(signed_headers);
  out.push_back('\n');
  out.append(payload_hash);
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  return absl::StrCat(Absl(kAlgorithm), "\n", Absl(amz_date), "\n", Absl(scope), "\n",
                      Sha256Hex(canonical_request));
}

Key DeriveSigningKey(std::string_view secret, std::string_view date, std::string_view region,
                     std::string_view service) {
  std::string k_secret = absl::StrCat("AWS4", Absl(secret));
  Key k = Hmac(k_secret.data(), k_secret.size(), date);
  OPENSSL_cleanse(k_secret.data(), k_secret.size());
  k = Hmac(k.data(), k.size(), region);
  k = Hmac(k.data(), k.size(), service);
  return Hmac(k.data(), k.size(), "aws4_request");
}

std::string HmacSha256Hex(const Key& key, std::string_view data) {
  Key mac = Hmac(key.data(), key.size(), data);
  return ToHex(mac.data(), mac.size());
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return ToHex(digest, len);
}

std::string FormatAmzDate(absl::Time t) {
  return absl::FormatTime("%Y%m%dT%H%M%SZ", t, absl::UTCTimeZone());
}

bool ParseAmzDate(std::string_view s, absl::Time* t) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return false;
  if (!AllDigits(s.substr(0, 8)) || !AllDigits(s.substr(9, 6))) return false;
  auto num = [&](size_t pos, size_t len) {
    int v = 0;
    for (size_t i = 0; i < len; ++i) v = v * 10 + (s[pos + i] - '0');
    return v;
  };
  absl::CivilSecond cs(num(0, 4), num(4, 2), num(6, 2), num(9, 2), num(11, 2), num(13, 2));
  // Reject dates that CivilSecond normalized (e.g. month 13).
  if (cs.year() != num(0, 4) || cs.month() != num(4, 2) || cs.day() != num(6, 2) ||
      cs.hour() != num(9, 2) || cs.minute() != num(11, 2) || cs.second() != num(13, 2)) {
    return false;
  }
  *t = absl::FromCivil(cs, absl::UTCTimeZone());
  return true;
}

void SignRequest(HttpRequest& request, const AccessKey& key, std::string_view region,
                 std::string_view service, absl::Time now) {
  std::string amz_date = FormatAmzDate(now);
  // Drop a previous signature.
  std::erase_if(request.headers, [](const auto& h) {
    return EqualsIgnoreCase(h.first, "authorization") || EqualsIgnoreCase(h.first, "x-amz-date");
  });
  request.headers.emplace_back("X-Amz-Date", amz_date);
  std::vector<std::string> names;
  for (const auto& [k, v] : request.headers) {
    std::string lower = absl::AsciiStrToLower(Absl(k));
    if (lower == "user-agent" || lower == "expect" || lower == "x-amzn-trace-id" ||
        lower == "connection" || lower == "content-length" || lower == "transfer-encoding") {
      continue;
    }
    names.push_back(std::move(lower));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string signed_headers;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) signed_headers.push_back(';');
    signed_headers.append(names[i]);
  }
  std::string_view content_sha = request.Header("x-amz-content-sha256");
  std::string payload = content_sha.empty() ? Sha256Hex(request.body) : std::string(content_sha);
  Authorization auth;
  auth.date = amz_date.substr(0, 8);
  auth.region = std::string(region);
  auth.service = std::string(service);
  std::string scope = auth.CredentialScope();
  std::string canonical = CanonicalRequest(request, signed_headers, names, payload, false);
  Key signing_key = DeriveSigningKey(key.secret_access_key, auth.date, region, service);
  std::string signature = HmacSha256Hex(signing_key, StringToSign(amz_date, scope, canonical));
  request.headers.emplace_back(
      "Authorization", absl::StrCat(Absl(kAlgorithm), " Credential=", key.access_key_id, "/", scope,
                                    ", SignedHeaders=", signed_headers, ", Signature=", signature));
}

}  // namespace sigv4

// ---------------------------------------------------------------------------------------------
// SigV4Authenticator

SigV4Authenticator::SigV4Authenticator(KeyStore keys, const Clock& clock, SigV4Options options)
    : clock_(clock), options_(options), keys_(std::make_shared<const KeyStore>(std::move(keys))) {}

void SigV4Authenticator::ReplaceKeys(KeyStore keys) {
  auto fresh = std::make_shared<const KeyStore>(std::move(keys));
  std::unique_lock lock(mu_);
  keys_ = std::move(fresh);
  key_cache_.clear();
}

sigv4::Key SigV4Authenticator::SigningKey(const AccessKey& key,
                                          const sigv4::Authorization& auth) const {
  std::string cache_key =
      absl::StrCat(key.access_key_id, "/", auth.date, "/", auth.region, "/", auth.service);
  {
    std::shared_lock lock(mu_);
    auto it = key_cache_.find(cache_key);
    if (it != key_cache_.end()) return it->second;
  }
  sigv4::Key derived =
      sigv4::DeriveSigningKey(key.secret_access_key, auth.date, auth.region, auth.service);
  std::unique_lock lock(mu_);
  // Bounded: dates roll daily, so a full cache is simply dropped.
  if (key_cache_.size() >= 4096) key_cache_.clear();
  key_cache_.insert_or_assign(std::move(cache_key), derived);
  return derived;
}

absl::StatusOr<Caller> SigV4Authenticator::Authenticate(const HttpRequest& request) const {
  std::string_view path, query;
  sigv4::SplitTarget(request.target, &path, &query);
  std::string_view header = request.Header("authorization");

  sigv4::Authorization auth;
  std::string amz_date;
  if (!header.empty()) {
    KLAXON_ASSIGN_OR_RETURN(auth, sigv4::ParseAuthorizationHeader(header));
    std::string_view x_amz_date = request.Header("x-amz-date");
    if (!x_amz_date.empty()) {
      amz_date = std::string(Trim(x_amz_date));
    } else {
      std::string_view date = Trim(request.Header("date"));
      if (date.empty()) {
        return Incomplete(absl::StrCat(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
            "header. Authorization=",
            Absl(header)));
      }
      absl::Time t;
      std::string err;
      if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", Absl(date), &t, &err)) {
        return Incomplete(absl::StrCat("Date must be in RFC 1123 format. Got '", Absl(date), "'."));
      }
      amz_date = sigv4::FormatAmzDate(t);
    }
  } else if (sigv4::IsPresignedQuery(query)) {
    KLAXON_ASSIGN_OR_RETURN(auth, sigv4::ParsePresignedQuery(query));
    amz_date = auth.amz_date;
  } else {
    return AwsError(absl::StatusCode::kUnauthenticated, "MissingAuthenticationTokenException",
                    "Missing Authentication Token");
  }

  absl::Time request_time;
  if (!sigv4::ParseAmzDate(amz_date, &request_time)) {
    return Incomplete(absl::StrCat("Date must be in ISO-8601 'basic format'. Got '", amz_date,
                                   "'. See http://en.wikipedia.org/wiki/ISO_8601"));
  }
  if (std::string_view(amz_date).substr(0, 8) != auth.date) {
    return InvalidSignature(
        absl::StrCat("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                     "date from HTTP: '",
                     auth.date, "' != '", amz_date.substr(0, 8), "', from '", amz_date, "'."));
  }
  if (!std::any_of(auth.signed_header_names.begin(), auth.signed_header_names.end(),
                   [](const std::string& n) { return n == "host" || n == ":authority"; })) {
    return Incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  if (!options_.region.empty() && auth.region != options_.region) {
    return InvalidSignature(absl::StrCat("Credential should be scoped to a valid region, not '",
                                         auth.region, "'. This endpoint serves '", options_.region,
                                         "'."));
  }

  std::shared_ptr<const KeyStore> keys;
  {
    std::shared_lock lock(mu_);
    keys = keys_;
  }
  const AccessKey* key = keys->Find(auth.access_key_id);
  if (key == nullptr) {
    return AwsError(absl::StatusCode::kUnauthenticated, "UnrecognizedClientException",
                    "The security token included in the request is invalid.");
  }

  const absl::Time now = clock_.Now();
  const absl::Duration skew = options_.max_skew;
  if (request_time - now > skew) {
    return InvalidSignature(absl::StrCat("Signature not yet current: ", amz_date,
                                         " is still later than ", sigv4::FormatAmzDate(now + skew),
                                         " (", sigv4::FormatAmzDate(now), " + ", FormatSkew(skew),
                                         ")"));
  }
  if (auth.presigned) {
    absl::Duration expires = auth.expires_seconds > 0 ? absl::Seconds(auth.expires_seconds) : skew;
    if (now - request_time > expires) {
      return InvalidSignature(absl::StrCat("Signature expired: ", amz_date, " is now earlier than ",
                                           sigv4::FormatAmzDate(now - expires), " (",
                                           sigv4::FormatAmzDate(now), " - ", FormatSkew(expires),
                                           ")"));
    }
  } else if (now - request_time > skew) {
    return InvalidSignature(absl::StrCat("Signature expired: ", amz_date, " is now earlier than ",
                                         sigv4::FormatAmzDate(now - skew), " (",
                                         sigv4::FormatAmzDate(now), " - ", FormatSkew(skew), ")"));
  }

  std::string payload_hash;
  std::string_view content_sha = Trim(request.Header("x-amz-content-sha256"));
  if (!content_sha.empty()) {
    if (content_sha == sigv4::kUnsignedPayload) {
      if (!options_.allow_unsigned_payload) {
        return InvalidSignature("UNSIGNED-PAYLOAD is not accepted by this server.");
      }
    } else if (content_sha.size() == 64 && IsLowerHex(absl::AsciiStrToLower(Absl(content_sha)))) {
      if (!EqualsIgnoreCase(content_sha, sigv4::Sha256Hex(request.body))) {
        return InvalidSignature(
            "The provided 'x-amz-content-sha256' header does not match what was computed.");
      }
    } else {
      return InvalidSignature(
          "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value.");
    }
    payload_hash = std::string(content_sha);
  } else {
    payload_hash = sigv4::Sha256Hex(request.body);
  }

  std::string canonical = sigv4::CanonicalRequest(
      request, auth.signed_headers, auth.signed_header_names, payload_hash, auth.presigned);
  std::string string_to_sign = sigv4::StringToSign(amz_date, auth.CredentialScope(), canonical);
  std::string expected = sigv4::HmacSha256Hex(SigningKey(*key, auth), string_to_sign);
  if (expected.size() != auth.signature.size() ||
      CRYPTO_memcmp(expected.data(), auth.signature.data(), expected.size()) != 0) {
    std::string message =
        "The request signature we calculated does not match the signature you provided. Check "
        "your AWS Secret Access Key and signing method. Consult the service documentation for "
        "details.";
    if (options_.explain_signature_mismatch) {
      absl::StrAppend(&message, "\n\nThe Canonical String for this request should have been\n'",
                      canonical, "'\n\nThe String-to-Sign should have been\n'", string_to_sign,
                      "'\n");
    }
    return InvalidSignature(message);
  }

  Caller caller;
  caller.account_id = key->account_id;
  caller.access_key_id = key->access_key_id;
  caller.principal_arn = key->principal_arn;
  caller.region = std::move(auth.region);
  caller.signing_service = std::move(auth.service);
  return caller;
}

}  // namespace klaxon::api
