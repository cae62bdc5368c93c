#include "api/http/sigv4.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "boost/json/parse.hpp"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::api {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kAkid[] = "AKIDEXAMPLE";
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr char kScope[] = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

absl::Time VectorTime() {
  absl::Time t;
  EXPECT_TRUE(sigv4::ParseAmzDate("20150830T123600Z", &t));
  return t;
}

KeyStore ExampleKeys() {
  KeyStore keys;
  EXPECT_TRUE(keys.Add({kAkid, kSecret, "111122223333", ""}).ok());
  return keys;
}

std::string TypeOf(const absl::Status& status) { return AwsErrorType(status).value_or(""); }

// A case of AWS's aws-sig-v4-test-suite (2015-08-30, us-east-1, service "service",
// Host: example.amazonaws.com) with the published signature.
struct Vector {
  const char* name;
  const char* method;
  const char* target;
  std::vector<std::pair<std::string, std::string>> extra_headers;
  const char* body;
  const char* signed_headers;
  const char* signature;
};

std::vector<Vector> SuiteVectors() {
  return {
      {"get-vanilla",
       "GET",
       "/",
       {},
       "",
       "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-unreserved",
       "GET",
       "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
       {},
       "",
       "host;x-amz-date",
       "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
      {"get-slashes",
       "GET",
       "//example//",
       {},
       "",
       "host;x-amz-date",
       "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},
      {"get-vanilla-query-order-key-case",
       "GET",
       "/?Param2=value2&Param1=value1",
       {},
       "",
       "host;x-amz-date",
       "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"get-vanilla-query-order-value",
       "GET",
       "/?Param1=value2&Param1=value1",
       {},
       "",
       "host;x-amz-date",
       "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"},
      {"get-vanilla-utf8-query",
       "GET",
       "/?\xe1\x88\xb4=bar",
       {},
       "",
       "host;x-amz-date",
       "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
      {"get-header-value-order",
       "GET",
       "/",
       {{"My-Header1", "value4"},
        {"My-Header1", "value1"},
        {"My-Header1", "value3"},
        {"My-Header1", "value2"}},
       "",
       "host;my-header1;x-amz-date",
       "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
      {"get-header-key-duplicate",
       "GET",
       "/",
       {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}},
       "",
       "host;my-header1;x-amz-date",
       "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
      {"get-header-value-trim",
       "GET",
       "/",
       {{"My-Header1", " value1"}, {"My-Header2", "\"a   b   c\""}},
       "",
       "host;my-header1;my-header2;x-amz-date",
       "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
      {"post-x-www-form-urlencoded",
       "POST",
       "/",
       {{"Content-Type", "application/x-www-form-urlencoded"}},
       "Param1=value1",
       "content-type;host;x-amz-date",
       "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
      {"post-sts-header-before",
       "GET",
       "/",
       {{"X-Amz-Security-Token",
         "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"}},
       "",
       "host;x-amz-date;x-amz-security-token",
       "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"},
  };
}

HttpRequest VectorRequest(const Vector& v) {
  HttpRequest request;
  request.method = v.method;
  request.target = v.target;
  request.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  for (const auto& h : v.extra_headers) request.headers.push_back(h);
  request.body = v.body;
  request.headers.emplace_back("Authorization", absl::StrCat("AWS4-HMAC-SHA256 Credential=", kScope,
                                                             ", SignedHeaders=", v.signed_headers,
                                                             ", Signature=", v.signature));
  return request;
}

TEST(SigV4, DerivesPublishedSigningKeys) {
  // AWS General Reference, "Examples of how to derive a signing key for Signature Version 4".
  sigv4::Key key = sigv4::DeriveSigningKey(kSecret, "20120215", "us-east-1", "iam");
  std::string hex;
  for (uint8_t b : key) absl::StrAppend(&hex, absl::Hex(b, absl::kZeroPad2));
  EXPECT_EQ(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
  key = sigv4::DeriveSigningKey(kSecret, "20150830", "us-east-1", "iam");
  hex.clear();
  for (uint8_t b : key) absl::StrAppend(&hex, absl::Hex(b, absl::kZeroPad2));
  EXPECT_EQ(hex, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
}

TEST(SigV4, GetVanillaCanonicalRequestAndStringToSign) {
  HttpRequest request = VectorRequest(SuiteVectors()[0]);
  std::string canonical = sigv4::CanonicalRequest(
      request, "host;x-amz-date", {"host", "x-amz-date"}, sigv4::Sha256Hex(""), false);
  EXPECT_EQ(canonical,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(
      sigv4::StringToSign("20150830T123600Z", "20150830/us-east-1/service/aws4_request", canonical),
      "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
      "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
}

TEST(SigV4, VerifiesPublishedTestSuiteVectors) {
  SimulatedClock clock(VectorTime());
  SigV4Authenticator auth(ExampleKeys(), clock);
  for (const Vector& v : SuiteVectors()) {
    SCOPED_TRACE(v.name);
    HttpRequest request = VectorRequest(v);
    absl::StatusOr<Caller> caller = auth.Authenticate(request);
    ASSERT_TRUE(caller.ok()) << caller.status();
    EXPECT_EQ(caller->account_id, "111122223333");
    EXPECT_EQ(caller->access_key_id, kAkid);
    EXPECT_EQ(caller->principal_arn, "arn:aws:iam::111122223333:root");
    EXPECT_EQ(caller->region, "us-east-1");
    EXPECT_EQ(caller->signing_service, "service");

    // Any change of a signed part breaks the signature.
    HttpRequest tampered = request;
    tampered.body += "x";
    EXPECT_EQ(TypeOf(auth.Authenticate(tampered).status()), "InvalidSignatureException");
    tampered = request;
    tampered.method = request.method == "GET" ? "HEAD" : "PUT";
    EXPECT_EQ(TypeOf(auth.Authenticate(tampered).status()), "InvalidSignatureException");
    tampered = request;
    tampered.target += request.target.find('?') == std::string::npos ? "?x=1" : "&x=1";
    EXPECT_EQ(TypeOf(auth.Authenticate(tampered).status()), "InvalidSignatureException");
    tampered = request;
    tampered.headers[0].second = "other.example.com";
    EXPECT_EQ(TypeOf(auth.Authenticate(tampered).status()), "InvalidSignatureException");
    // Unsigned headers may change.
    tampered = request;
    tampered.headers.emplace_back("User-Agent", "whatever");
    EXPECT_TRUE(auth.Authenticate(tampered).ok());
  }
}

TEST(SigV4, SignRequestReproducesPublishedSignature) {
  HttpRequest request;
  request.method = "GET";
  request.target = "/";
  request.headers = {{"Host", "example.amazonaws.com"}};
  AccessKey key{kAkid, kSecret, "111122223333", ""};
  sigv4::SignRequest(request, key, "us-east-1", "service", VectorTime());
  EXPECT_EQ(
      request.Header("authorization"),
      absl::StrCat("AWS4-HMAC-SHA256 Credential=", kScope,
                   ", SignedHeaders=host;x-amz-date, "
                   "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
  // Re-signing replaces the previous signature.
  sigv4::SignRequest(request, key, "us-east-1", "service", VectorTime());
  int count = 0;
  for (const auto& h : request.headers) count += h.first == "Authorization";
  EXPECT_EQ(count, 1);
}

TEST(SigV4, CanonicalUri) {
  struct Case {
    const char* raw;
    const char* canonical;
  };
  const Case cases[] = {
      {"", "/"},
      {"/", "/"},
      {"/example space/", "/example%20space/"},  // suite: get-space (raw request line)
      {"/\xe1\x88\xb4", "/%E1%88%B4"},           // suite: get-utf8
      {"//example//", "/example/"},
      {"/./", "/"},
      {"/example/..", "/"},
      {"/example1/example2/../..", "/"},
      {"/a/./b/../c", "/a/c"},
      {"/a/..b/.c", "/a/..b/.c"},
      // Non-S3 services sign the already-encoded path encoded once more.
      {"/tags/arn%3Aaws%3Assm-incidents%3A%3A111122223333%3Aresponse-plan%2Fmyplan",
       "/tags/arn%253Aaws%253Assm-incidents%253A%253A111122223333%253Aresponse-plan%252Fmyplan"},
      {"/a%2Fb", "/a%252Fb"},
      {"/100%25", "/100%2525"},
      {"/~user/x-y_z.w", "/~user/x-y_z.w"},
      {"/startIncident", "/startIncident"},
      {"*", "/%2A"},
      {"relative/x", "/relative/x"},
  };
  for (const Case& c : cases) EXPECT_EQ(sigv4::CanonicalUri(c.raw), c.canonical) << c.raw;
}

TEST(SigV4, CanonicalQueryString) {
  struct Case {
    const char* raw;
    const char* canonical;
  };
  const Case cases[] = {
      {"", ""},
      {"Param2=value2&Param1=value1", "Param1=value1&Param2=value2"},
      {"Param1=value2&Param1=value1", "Param1=value1&Param1=value2"},
      {"a=10&a=9", "a=10&a=9"},
      {"x=a.b&x=a%2Fb", "x=a%2Fb&x=a.b"},
      {"a=1&a=1", "a=1&a=1"},
      {"q=a+b", "q=a%2Bb"},
      {"q=a%20b", "q=a%20b"},
      {"b&a=1", "a=1&b="},
      {"a=1=2", "a=1%3D2"},
      {"a=%7e", "a=~"},
      {"a=%zz", "a=%25zz"},
      {"tagKeys=k2&tagKeys=k%201&tagKeys=k2", "tagKeys=k%201&tagKeys=k2&tagKeys=k2"},
      {"arn=arn%3Aaws%3Assm-incidents%3A%3A1%3Aincident-record%2Fp%2Fx",
       "arn=arn%3Aaws%3Assm-incidents%3A%3A1%3Aincident-record%2Fp%2Fx"},
      {"&&a=1&", "a=1"},
      {"-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789",
       "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789"},
  };
  for (const Case& c : cases) EXPECT_EQ(sigv4::CanonicalQueryString(c.raw), c.canonical) << c.raw;
  EXPECT_EQ(sigv4::CanonicalQueryString("b=1&X-Amz-Signature=abc&a=2", true), "a=2&b=1");
}

TEST(SigV4, ParsesAuthorizationHeader) {
  auto auth = sigv4::ParseAuthorizationHeader(
      "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/ssm-incidents/aws4_request,"
      "SignedHeaders=content-type;host;x-amz-date ,  Signature=abcdef");
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_EQ(auth->access_key_id, "AKID");
  EXPECT_EQ(auth->date, "20240101");
  EXPECT_EQ(auth->region, "eu-west-1");
  EXPECT_EQ(auth->service, "ssm-incidents");
  EXPECT_EQ(auth->signed_headers, "content-type;host;x-amz-date");
  EXPECT_THAT(auth->signed_header_names,
              ::testing::ElementsAre("content-type", "host", "x-amz-date"));
  EXPECT_EQ(auth->signature, "abcdef");
  EXPECT_EQ(auth->CredentialScope(), "20240101/eu-west-1/ssm-incidents/aws4_request");
}

TEST(SigV4, RejectsMalformedAuthorizationHeaders) {
  const char* bad[] = {
      "",
      "AWS4-HMAC-SHA256",
      "Bearer abc",
      "AWS4-HMAC-SHA512 Credential=A/20240101/r/s/aws4_request, SignedHeaders=host, Signature=x",
      "AWS4-HMAC-SHA256 Credential=A/20240101/r/s/aws4_request, SignedHeaders=host",
      "AWS4-HMAC-SHA256 Credential=A/20240101/r/s/aws4_request, Signature=x",
      "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=x",
      "AWS4-HMAC-SHA256 Credential=A/20240101/r/s, SignedHeaders=host, Signature=x",
      "AWS4-HMAC-SHA256 Credential=A/20240101/r/s/aws4_request/x, SignedHeaders=host, Signature=x",
      "AWS4-HMAC-SHA256 Credential=A/2024010/r/s/aws4_request, SignedHeaders=host, Signature=x",
      "AWS4-HMAC-SHA256 Credential=A/20240101/r/s/aws5_request, SignedHeaders=host, Signature=x",
      "AWS4-HMAC-SHA256 Credential=/20240101/r/s/aws4_request, SignedHeaders=host, Signature=x",
      "AWS4-HMAC-SHA256 Credential=A/20240101//s/aws4_request, SignedHeaders=host, Signature=x",
      "AWS4-HMAC-SHA256 Credential=A/20240101/r/s/aws4_request, SignedHeaders=host;;x, Sig=x",
      "AWS4-HMAC-SHA256 Signature=x,Credential=A/20240101/r/s/aws4_request,Signature=y",
      "AWS4-HMAC-SHA256 Credential=A/20240101/r/s/aws4_request, SignedHeaders=host, garbage",
  };
  for (const char* header : bad) {
    auto auth = sigv4::ParseAuthorizationHeader(header);
    ASSERT_FALSE(auth.ok()) << header;
    EXPECT_EQ(auth.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(TypeOf(auth.status()), "IncompleteSignatureException") << header;
  }
}

TEST(SigV4, ParsesAmzDateStrictly) {
  absl::Time t;
  EXPECT_TRUE(sigv4::ParseAmzDate("20150830T123600Z", &t));
  EXPECT_EQ(sigv4::FormatAmzDate(t), "20150830T123600Z");
  for (const char* bad : {"", "20150830T123600", "2015-08-30T12:36:00Z", "20151330T123600Z",
                          "20150830T256000Z", "20150830X123600Z", "2015083aT123600Z"}) {
    EXPECT_FALSE(sigv4::ParseAmzDate(bad, &t)) << bad;
  }
}

class SigV4AuthTest : public ::testing::Test {
 protected:
  SigV4AuthTest() : clock_(VectorTime()), auth_(ExampleKeys(), clock_) {}

  HttpRequest Signed(absl::Time at, std::string target = "/startIncident",
                     std::string body = "{}") {
    HttpRequest request;
    request.method = "POST";
    request.target = std::move(target);
    request.headers = {{"Host", "127.0.0.1:4566"}, {"Content-Type", "application/json"}};
    request.body = std::move(body);
    sigv4::SignRequest(request, {kAkid, kSecret, "111122223333", ""}, "us-east-1", "ssm-incidents",
                       at);
    return request;
  }

  SimulatedClock clock_;
  SigV4Authenticator auth_;
};

TEST_F(SigV4AuthTest, MissingAuthentication) {
  HttpRequest request;
  request.method = "GET";
  request.target = "/getIncidentRecord?arn=x";
  request.headers = {{"Host", "h"}};
  absl::Status status = auth_.Authenticate(request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(TypeOf(status), "MissingAuthenticationTokenException");
  EXPECT_EQ(status.message(), "Missing Authentication Token");
}

TEST_F(SigV4AuthTest, UnknownAccessKey) {
  HttpRequest request = Signed(clock_.Now());
  sigv4::SignRequest(request, {"AKIDOTHER", kSecret, "111122223333", ""}, "us-east-1",
                     "ssm-incidents", clock_.Now());
  absl::Status status = auth_.Authenticate(request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(TypeOf(status), "UnrecognizedClientException");
  EXPECT_EQ(status.message(), "The security token included in the request is invalid.");
}

TEST_F(SigV4AuthTest, WrongSecret) {
  HttpRequest request = Signed(clock_.Now());
  sigv4::SignRequest(request, {kAkid, "not-the-secret", "111122223333", ""}, "us-east-1",
                     "ssm-incidents", clock_.Now());
  absl::Status status = auth_.Authenticate(request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(TypeOf(status), "InvalidSignatureException");
  EXPECT_THAT(std::string(status.message()),
              StartsWith("The request signature we calculated does not match the signature you "
                         "provided. Check your AWS Secret Access Key and signing method."));
  EXPECT_THAT(std::string(status.message()), HasSubstr("The Canonical String for this request"));
}

TEST_F(SigV4AuthTest, ClockSkewWindow) {
  const absl::Time now = clock_.Now();
  EXPECT_TRUE(auth_.Authenticate(Signed(now - absl::Minutes(15))).ok());
  EXPECT_TRUE(auth_.Authenticate(Signed(now + absl::Minutes(15))).ok());

  absl::Status old = auth_.Authenticate(Signed(now - absl::Minutes(16))).status();
  EXPECT_EQ(TypeOf(old), "InvalidSignatureException");
  EXPECT_EQ(old.message(),
            "Signature expired: 20150830T122000Z is now earlier than 20150830T122100Z "
            "(20150830T123600Z - 15 min.)");

  absl::Status future = auth_.Authenticate(Signed(now + absl::Minutes(16))).status();
  EXPECT_EQ(TypeOf(future), "InvalidSignatureException");
  EXPECT_EQ(future.message(),
            "Signature not yet current: 20150830T125200Z is still later than 20150830T125100Z "
            "(20150830T123600Z + 15 min.)");
}

TEST_F(SigV4AuthTest, CredentialDateMustMatchAmzDate) {
  HttpRequest request = Signed(clock_.Now());
  for (auto& [k, v] : request.headers) {
    if (k == "Authorization") v = absl::StrReplaceAll(v, {{"/20150830/", "/20150831/"}});
  }
  absl::Status status = auth_.Authenticate(request).status();
  EXPECT_EQ(TypeOf(status), "InvalidSignatureException");
  EXPECT_THAT(std::string(status.message()), HasSubstr("'20150831' != '20150830'"));
}

TEST_F(SigV4AuthTest, DateHeaderWhenNoAmzDate) {
  HttpRequest request;
  request.method = "GET";
  request.target = "/";
  request.headers = {{"Host", "example.amazonaws.com"}, {"Date", "Sun, 30 Aug 2015 12:36:00 GMT"}};
  sigv4::Key key = sigv4::DeriveSigningKey(kSecret, "20150830", "us-east-1", "service");
  std::string canonical =
      sigv4::CanonicalRequest(request, "date;host", {"date", "host"}, sigv4::Sha256Hex(""), false);
  std::string signature = sigv4::HmacSha256Hex(
      key, sigv4::StringToSign("20150830T123600Z", "20150830/us-east-1/service/aws4_request",
                               canonical));
  request.headers.emplace_back("Authorization",
                               absl::StrCat("AWS4-HMAC-SHA256 Credential=", kScope,
                                            ", SignedHeaders=date;host, Signature=", signature));
  EXPECT_TRUE(auth_.Authenticate(request).ok());

  request.headers[1].second = "yesterday";
  EXPECT_EQ(TypeOf(auth_.Authenticate(request).status()), "IncompleteSignatureException");
  request.headers.erase(request.headers.begin() + 1);
  absl::Status status = auth_.Authenticate(request).status();
  EXPECT_EQ(TypeOf(status), "IncompleteSignatureException");
  EXPECT_THAT(std::string(status.message()), HasSubstr("'X-Amz-Date' or a 'Date' header"));
}

TEST_F(SigV4AuthTest, HostMustBeSigned) {
  HttpRequest request = VectorRequest(SuiteVectors()[0]);
  for (auto& [k, v] : request.headers) {
    if (k == "Authorization") v = absl::StrReplaceAll(v, {{"host;x-amz-date", "x-amz-date"}});
  }
  EXPECT_EQ(TypeOf(auth_.Authenticate(request).status()), "IncompleteSignatureException");
}

TEST_F(SigV4AuthTest, ContentSha256Header) {
  HttpRequest request;
  request.method = "POST";
  request.target = "/";
  request.headers = {{"Host", "h"}, {"X-Amz-Content-Sha256", sigv4::Sha256Hex("{}")}};
  request.body = "{}";
  AccessKey key{kAkid, kSecret, "111122223333", ""};
  sigv4::SignRequest(request, key, "us-east-1", "ssm", clock_.Now());
  EXPECT_TRUE(auth_.Authenticate(request).ok());

  // The header is signed, so the body must match it.
  request.body = "{ }";
  absl::Status status = auth_.Authenticate(request).status();
  EXPECT_EQ(TypeOf(status), "InvalidSignatureException");
  EXPECT_THAT(std::string(status.message()), HasSubstr("x-amz-content-sha256"));

  request.headers[1].second = "UNSIGNED-PAYLOAD";
  sigv4::SignRequest(request, key, "us-east-1", "ssm", clock_.Now());
  EXPECT_TRUE(auth_.Authenticate(request).ok());
  SigV4Options strict;
  strict.allow_unsigned_payload = false;
  SigV4Authenticator strict_auth(ExampleKeys(), clock_, strict);
  EXPECT_EQ(TypeOf(strict_auth.Authenticate(request).status()), "InvalidSignatureException");

  request.headers[1].second = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
  sigv4::SignRequest(request, key, "us-east-1", "ssm", clock_.Now());
  EXPECT_EQ(TypeOf(auth_.Authenticate(request).status()), "InvalidSignatureException");
}

TEST_F(SigV4AuthTest, CredentialScopedToAnotherRegion) {
  SigV4Options options;
  options.region = "us-east-1";
  SigV4Authenticator regional(ExampleKeys(), clock_, options);
  EXPECT_TRUE(regional.Authenticate(Signed(clock_.Now())).ok());

  HttpRequest request = Signed(clock_.Now());
  sigv4::SignRequest(request, {kAkid, kSecret, "111122223333", ""}, "eu-west-1", "ssm-incidents",
                     clock_.Now());
  absl::Status status = regional.Authenticate(request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(TypeOf(status), "InvalidSignatureException");
  EXPECT_THAT(std::string(status.message()),
              StartsWith("Credential should be scoped to a valid region, not 'eu-west-1'."));
  // Without a configured Region (tests, tools) any Region is accepted.
  EXPECT_TRUE(auth_.Authenticate(request).ok());
}

TEST_F(SigV4AuthTest, ReplaceKeys) {
  HttpRequest request = Signed(clock_.Now());
  ASSERT_TRUE(auth_.Authenticate(request).ok());
  KeyStore other;
  ASSERT_TRUE(
      other.Add({kAkid, "rotated", "222233334444", "arn:aws:iam::222233334444:user/a"}).ok());
  auth_.ReplaceKeys(std::move(other));
  EXPECT_EQ(TypeOf(auth_.Authenticate(request).status()), "InvalidSignatureException");
  sigv4::SignRequest(request, {kAkid, "rotated", "", ""}, "us-east-1", "ssm-incidents",
                     clock_.Now());
  auto caller = auth_.Authenticate(request);
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->account_id, "222233334444");
  EXPECT_EQ(caller->principal_arn, "arn:aws:iam::222233334444:user/a");
}

TEST_F(SigV4AuthTest, ConcurrentVerification) {
  std::vector<HttpRequest> requests;
  requests.reserve(8);
  for (int i = 0; i < 8; ++i) {
    requests.push_back(Signed(clock_.Now() - absl::Minutes(i), absl::StrCat("/x", i)));
  }
  std::vector<std::thread> threads;
  threads.reserve(8);
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (!auth_.Authenticate(requests[(t + i) % requests.size()]).ok()) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(KeyStore, ValidatesKeys) {
  KeyStore keys;
  EXPECT_TRUE(keys.Add({"A", "s", "123456789012", ""}).ok());
  EXPECT_EQ(keys.Add({"A", "s", "123456789012", ""}).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(keys.Add({"", "s", "123456789012", ""}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(keys.Add({"B", "", "123456789012", ""}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(keys.Add({"B", "s", "1234", ""}).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_NE(keys.Find("A"), nullptr);
  EXPECT_EQ(keys.Find("A")->principal_arn, "arn:aws:iam::123456789012:root");
  EXPECT_EQ(keys.Find("B"), nullptr);
  KeyStore dev = KeyStore::Default();
  ASSERT_NE(dev.Find("test"), nullptr);
  EXPECT_EQ(dev.Find("test")->account_id, "000000000000");
}

// ---------------------------------------------------------------------------------------------
// Requests signed by the real botocore (testdata/botocore_sign.py).

std::string RunCommand(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  if (pclose(pipe) != 0) out.clear();
  return out;
}

std::vector<std::pair<std::string, HttpRequest>> BotocoreRequests(const std::string& key,
                                                                  const std::string& secret) {
  std::string script = std::string(KLAXON_HTTP_TESTDATA) + "/botocore_sign.py";
  std::string json = RunCommand(absl::StrCat("/usr/bin/python3 ", script, " ", key, " ", secret,
                                             " http://127.0.0.1:4566 2>/dev/null"));
  std::vector<std::pair<std::string, HttpRequest>> out;
  if (json.empty()) return out;
  boost::json::value root = boost::json::parse(json);
  for (const auto& item : root.as_array()) {
    const auto& obj = item.as_object();
    HttpRequest request;
    request.method = std::string(obj.at("method").as_string());
    request.target = std::string(obj.at("target").as_string());
    request.body = std::string(obj.at("body").as_string());
    for (const auto& h : obj.at("headers").as_array()) {
      request.headers.emplace_back(std::string(h.as_array()[0].as_string()),
                                   std::string(h.as_array()[1].as_string()));
    }
    out.emplace_back(std::string(obj.at("name").as_string()), std::move(request));
  }
  return out;
}

TEST(SigV4Botocore, VerifiesRequestsSignedByBotocore) {
  auto requests = BotocoreRequests(kAkid, kSecret);
  if (requests.empty()) GTEST_SKIP() << "/usr/bin/python3 with botocore is not available";
  ASSERT_GE(requests.size(), 10u);
  SigV4Authenticator auth(ExampleKeys(), SystemClock::Get());
  bool saw_presigned = false;
  for (const auto& [name, request] : requests) {
    SCOPED_TRACE(name);
    absl::StatusOr<Caller> caller = auth.Authenticate(request);
    ASSERT_TRUE(caller.ok()) << caller.status();
    EXPECT_EQ(caller->account_id, "111122223333");
    if (name.find("presigned") != std::string::npos) saw_presigned = true;

    HttpRequest tampered = request;
    if (!tampered.body.empty()) {
      tampered.body.back() = tampered.body.back() == ' ' ? '\t' : ' ';
      EXPECT_EQ(TypeOf(auth.Authenticate(tampered).status()), "InvalidSignatureException");
    }
    tampered = request;
    size_t pos = tampered.target.find("%3A");
    if (pos == std::string::npos) pos = tampered.target.find('=');
    if (pos != std::string::npos) {
      tampered.target.insert(pos + 1, "0");
      EXPECT_EQ(TypeOf(auth.Authenticate(tampered).status()), "InvalidSignatureException")
          << tampered.target;
    }
    tampered = request;
    for (auto& [k, v] : tampered.headers) {
      if (absl::EqualsIgnoreCase(k, "host")) v = "127.0.0.1:4567";
    }
    EXPECT_EQ(TypeOf(auth.Authenticate(tampered).status()), "InvalidSignatureException");
  }
  EXPECT_TRUE(saw_presigned);
}

TEST(SigV4Botocore, UnknownKeyAndWrongSecret) {
  auto requests = BotocoreRequests("AKIDUNKNOWN", kSecret);
  if (requests.empty()) GTEST_SKIP() << "/usr/bin/python3 with botocore is not available";
  SigV4Authenticator auth(ExampleKeys(), SystemClock::Get());
  for (const auto& [name, request] : requests) {
    EXPECT_EQ(TypeOf(auth.Authenticate(request).status()), "UnrecognizedClientException") << name;
  }
  requests = BotocoreRequests(kAkid, "wrong-secret");
  for (const auto& [name, request] : requests) {
    EXPECT_EQ(TypeOf(auth.Authenticate(request).status()), "InvalidSignatureException") << name;
  }
}

}  // namespace
}  // namespace klaxon::api
