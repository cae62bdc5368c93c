#include "events/bus/envelope.h"

#include "absl/time/time.h"
#include "boost/json/parse.hpp"
#include "gtest/gtest.h"

namespace klaxon::events {
namespace {

TEST(Envelope, BuildsAwsShapeInAwsOrder) {
  std::vector<std::string> resources = {"arn:aws:ec2:us-east-1:111122223333:instance/i-1"};
  std::string e = BuildEnvelope(EnvelopeFields{"c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
                                               "EC2 Instance State-change Notification", "aws.ec2",
                                               "111122223333", absl::FromUnixSeconds(1570035880),
                                               "us-east-1", &resources, R"({"state":"stopped"})"});
  EXPECT_EQ(
      e,
      R"({"version":"0","id":"c4c1c1c9-6542-e61b-6ef0-8c4d36933a92","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"111122223333","time":"2019-10-02T17:04:40Z","region":"us-east-1","resources":["arn:aws:ec2:us-east-1:111122223333:instance/i-1"],"detail":{"state":"stopped"}})");
}

TEST(Envelope, EscapesStrings) {
  std::string out;
  AppendJsonString("a\"b\\c\n\x01\xc3\xa9", out);
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
  std::string e =
      BuildEnvelope(EnvelopeFields{"id", "t\"y", "s", "1", absl::UnixEpoch(), "r", nullptr, ""});
  boost::system::error_code ec;
  auto v = boost::json::parse(e, ec);
  ASSERT_FALSE(ec) << e;
  EXPECT_EQ(v.at("detail-type").as_string(), "t\"y");
  EXPECT_TRUE(v.at("resources").as_array().empty());
  EXPECT_TRUE(v.at("detail").as_object().empty());
}

TEST(NormalizeDetail, MinifiesObjectsAndRejectsTheRest) {
  EXPECT_EQ(*NormalizeDetail("{ \"a\" : [1, 2],\n \"b\": {} }"), R"({"a":[1,2],"b":{}})");
  EXPECT_EQ(*NormalizeDetail("{}"), "{}");
  EXPECT_FALSE(NormalizeDetail("[1]").ok());
  EXPECT_FALSE(NormalizeDetail("\"x\"").ok());
  EXPECT_FALSE(NormalizeDetail("{\"a\":").ok());
  EXPECT_FALSE(NormalizeDetail("").ok());
  EXPECT_FALSE(NormalizeDetail("{} {}").ok());
}

}  // namespace
}  // namespace klaxon::events
