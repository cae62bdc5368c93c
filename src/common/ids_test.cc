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

}  // namespace
}  // namespace klaxon
