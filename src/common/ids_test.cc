#include "common/ids.h"

#include <set>

#include "gtest/gtest.h"
#include "re2/re2.h"

namespace klaxon {
namespace {

TEST(Ids, UuidShape) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewUuid();
    EXPECT_TRUE(RE2::FullMatch(id, "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"))
        << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Ids, Hex) {
  EXPECT_TRUE(RE2::FullMatch(RandomHex(12), "[0-9a-f]{12}"));
  EXPECT_TRUE(RE2::FullMatch(RandomUpperHex(32), "[0-9A-F]{32}"));
}

TEST(Hex16, IsFixedWidthLowerHexInNumericOrderAndParsesBack) {
  EXPECT_EQ(Hex16(0), "0000000000000000");
  EXPECT_EQ(Hex16(0xabcdef0123456789ULL), "abcdef0123456789");
  EXPECT_LT(Hex16(15), Hex16(16));
  EXPECT_LT(Hex16(0xffffffffULL), Hex16(0x100000000ULL));
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{0xfeedULL}, ~uint64_t{0}}) {
    EXPECT_EQ(ParseHex16(Hex16(v)), v);
  }
  EXPECT_EQ(ParseHex16("000000000000000"), std::nullopt);    // 15 digits
  EXPECT_EQ(ParseHex16("00000000000000000"), std::nullopt);  // 17
  EXPECT_EQ(ParseHex16("000000000000000A"), std::nullopt);   // upper case
  EXPECT_EQ(ParseHex16("000000000000000g"), std::nullopt);
}

}  // namespace
}  // namespace klaxon
