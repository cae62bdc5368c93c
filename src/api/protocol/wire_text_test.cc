#include "api/protocol/wire_text.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::api::protocol {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(SplitTarget, SplitsPathAndQuery) {
  std::string_view path, query;
  SplitTarget("/getIncidentRecord?arn=a%3Ab", &path, &query);
  EXPECT_EQ(path, "/getIncidentRecord");
  EXPECT_EQ(query, "arn=a%3Ab");
  SplitTarget("/x", &path, &query);
  EXPECT_EQ(path, "/x");
  EXPECT_EQ(query, "");
  SplitTarget("http://127.0.0.1:4566/tags/a?b=c#frag", &path, &query);
  EXPECT_EQ(path, "/tags/a");
  EXPECT_EQ(query, "b=c");
  SplitTarget("", &path, &query);
  EXPECT_EQ(path, "/");
  SplitTarget("?a=1", &path, &query);
  EXPECT_EQ(path, "/");
  EXPECT_EQ(query, "a=1");
}

TEST(PercentDecode, DecodesAndKeepsMalformedEscapes) {
  EXPECT_EQ(PercentDecode("arn%3Aaws%2Fplan", false), "arn:aws/plan");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("100%", false), "100%");
  EXPECT_EQ(PercentDecode("%zz%4", false), "%zz%4");
  EXPECT_EQ(PercentDecode("%e2%9c%93", false), "\xe2\x9c\x93");
}

TEST(ParseQuery, KeepsRepeatedKeysInOrder) {
  EXPECT_THAT(ParseQuery("tagKeys=k&tagKeys=k2&x&=v&&y=a%20b+c"),
              ElementsAre(Pair("tagKeys", "k"), Pair("tagKeys", "k2"), Pair("x", ""), Pair("", "v"),
                          Pair("y", "a b c")));
  EXPECT_TRUE(ParseQuery("").empty());
}

TEST(IsValidUtf8, RejectsMalformedSequences) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

TEST(CredentialScopeService, ReadsHeaderOrPresignedQuery) {
  EXPECT_EQ(CredentialScopeService(
                "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/ssm-incidents/aws4_request, "
                "SignedHeaders=host, Signature=abc",
                ""),
            "ssm-incidents");
  EXPECT_EQ(CredentialScopeService(
                "", "X-Amz-Credential=AKID%2F20240101%2Fus-east-1%2Fmonitoring%2Faws4_request"),
            "monitoring");
  EXPECT_EQ(CredentialScopeService("garbage", ""), "");
  EXPECT_EQ(CredentialScopeService("Credential=/", ""), "");
}

}  // namespace
}  // namespace klaxon::api::protocol
