#include "api/protocol/cbor.h"

#include "api/model/model_registry.h"
#include "api/protocol/rpcv2_cbor.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::api::protocol {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

std::string Hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string ToHex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

TEST(DecodeCbor, WireContractExamples) {
  // {"AlarmNames": ["cpu-high"], "StateValue": "ALARM"} as botocore sends it.
  auto v = DecodeCbor(
      Hex("a26a416c61726d4e616d657381686370752d686967686a537461746556616c756565414c41524d"));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, json::parse(R"({"AlarmNames":["cpu-high"],"StateValue":"ALARM"})"));
  // Value 3.5 as float64, Timestamp as tag 1 + integer.
  v = DecodeCbor(Hex("a26556616c7565fb400c0000000000006954696d657374616d70c11a65920080"));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->at("Value"), 3.5);
  EXPECT_EQ(v->at("Timestamp"), 1704067200);
}

TEST(DecodeCbor, ScalarsAndIndefiniteLengths) {
  EXPECT_EQ(*DecodeCbor(Hex("20")), -1);
  EXPECT_EQ(*DecodeCbor(Hex("3903e7")), -1000);
  EXPECT_EQ(*DecodeCbor(Hex("1bffffffffffffffff")), json::value(18446744073709551615ULL));
  EXPECT_EQ(*DecodeCbor(Hex("f93e00")), 1.5);           // half float
  EXPECT_EQ(*DecodeCbor(Hex("fa47c35000")), 100000.0);  // single float
  EXPECT_EQ(*DecodeCbor(Hex("f5")), true);
  EXPECT_TRUE(DecodeCbor(Hex("f6"))->is_null());
  EXPECT_EQ(*DecodeCbor(Hex("43010203")), "AQID");  // bytes → base64
  EXPECT_EQ(*DecodeCbor(Hex("7f657374726561646d696e67ff")), "streaming");
  EXPECT_EQ(*DecodeCbor(Hex("9f018202039f0405ffff")), json::parse("[1,[2,3],[4,5]]"));
  EXPECT_EQ(*DecodeCbor(Hex("bf61610161629f0203ffff")), json::parse(R"({"a":1,"b":[2,3]})"));
}

TEST(DecodeCbor, RejectsMalformedInput) {
  for (const char* hex :
       {"", "a1", "a16161", "62", "1b0000", "ff", "a10102", "0101", "9bffffffffffffffff",
        "5bffffffffffffffff00", "7f01ff", "62c328", "fc", "1f"}) {
    auto v = DecodeCbor(Hex(hex));
    EXPECT_FALSE(v.ok()) << hex;
    if (!v.ok()) {
      EXPECT_EQ(AwsErrorType(v.status()).value_or(""), "SerializationException") << hex;
    }
  }
  std::string deep(200, '\x81');
  deep += '\x01';
  EXPECT_FALSE(DecodeCbor(deep).ok());
}

TEST(EncodeCbor, ShapesTimestampsBlobsAndDoubles) {
  const model::ServiceModel& cw = *model::ModelRegistry::Embedded().Find("cloudwatch");
  const model::Shape* output = cw.FindOperation("DescribeAlarms")->output;
  json::value v = json::parse(R"({"MetricAlarms":[{"AlarmName":"a","Threshold":80,
      "StateUpdatedTimestamp":1704067200,"Period":60}]})");
  std::string out;
  EncodeCbor(v, output, &out);
  auto back = DecodeCbor(out);
  ASSERT_TRUE(back.ok()) << back.status();
  const json::value& alarm = back->at("MetricAlarms").at(0);
  EXPECT_TRUE(alarm.at("Threshold").is_double());              // double member → float64
  EXPECT_TRUE(alarm.at("StateUpdatedTimestamp").is_double());  // tag 1 + float64
  EXPECT_TRUE(alarm.at("Period").is_int64());
  EXPECT_THAT(ToHex(out), HasSubstr("c1fb41d9648020000000"));  // tag 1, 1704067200.0

  std::string generic;
  EncodeCbor(json::parse(R"({"a":[1,-2,"x",true,null]})"), nullptr, &generic);
  EXPECT_EQ(ToHex(generic), "a161618501216178f5f6");
}

TEST(Base64, RoundTrips) {
  std::string bytes;
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    ASSERT_TRUE(Base64Decode(Base64Encode(s), &bytes));
    EXPECT_EQ(bytes, s);
  }
  EXPECT_EQ(Base64Encode("abcd"), "YWJjZA==");
  EXPECT_FALSE(Base64Decode("YW=J", &bytes));
  EXPECT_FALSE(Base64Decode("Y!", &bytes));
}

TEST(RpcV2CborCodec, DecodesValidatesAndEncodes) {
  const model::ServiceModel& cw = *model::ModelRegistry::Embedded().Find("cloudwatch");
  RpcV2CborCodec codec;
  HttpRequest r;
  r.method = "POST";
  r.target = "/service/GraniteServiceVersion20100801/operation/DescribeAlarms";
  r.body = Hex("a26a416c61726d4e616d657381686370752d686967686a537461746556616c756565414c41524d");
  auto op = codec.ResolveOperation(r, cw, "DescribeAlarms");
  ASSERT_TRUE(op.ok());
  auto input = codec.DecodeInput(r, cw, **op);
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(input->at("StateValue"), "ALARM");

  r.body = Hex("a16a537461746556616c7565644e4f5045");  // {"StateValue":"NOPE"}
  input = codec.DecodeInput(r, cw, **op);
  ASSERT_FALSE(input.ok());
  EXPECT_THAT(input.status().message(), HasSubstr("at 'stateValue'"));

  r.body.clear();
  EXPECT_TRUE(codec.DecodeInput(r, cw, **op).ok());

  HttpResponse response;
  codec.EncodeOutput(cw, *cw.FindOperation("PutMetricAlarm"), {}, "rid", &response);
  EXPECT_EQ(ToHex(response.body), "a0");
  EXPECT_EQ(response.headers.at(0).first, "smithy-protocol");

  response = HttpResponse();
  codec.EncodeError(AwsError(absl::StatusCode::kNotFound, "ResourceNotFound", "Alarm nope"), &cw,
                    "rid", &response);
  EXPECT_EQ(response.status, 404);
  auto error = DecodeCbor(response.body);
  ASSERT_TRUE(error.ok());
  EXPECT_EQ(error->at("__type"), "ResourceNotFound");
  EXPECT_EQ(error->at("message"), "Alarm nope");
  bool query_error = false;
  for (auto& [k, v] : response.headers) {
    query_error |= (k == "x-amzn-query-error" && v == "ResourceNotFound;Sender");
  }
  EXPECT_TRUE(query_error);
}

}  // namespace
}  // namespace klaxon::api::protocol
