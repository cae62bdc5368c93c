#include "common/non_blocking.h"

#include <thread>

#include "gtest/gtest.h"

namespace klaxon {
namespace {

TEST(NonBlockingScope, SetsTheFlagForItsThreadAndNests) {
  EXPECT_FALSE(IsNonBlocking());
  {
    NonBlockingScope outer;
    EXPECT_TRUE(IsNonBlocking());
    bool other_thread = true;
    std::thread([&] { other_thread = IsNonBlocking(); }).join();
    EXPECT_FALSE(other_thread);
    {
      NonBlockingScope inner;
      EXPECT_TRUE(IsNonBlocking());
    }
    EXPECT_TRUE(IsNonBlocking());
  }
  EXPECT_FALSE(IsNonBlocking());
}

TEST(NonBlockingScope, WouldBlockIsRecognisedAndNothingElseIs) {
  EXPECT_TRUE(IsWouldBlock(WouldBlockError()));
  EXPECT_FALSE(IsWouldBlock(absl::UnavailableError("store closed")));
  EXPECT_FALSE(IsWouldBlock(absl::OkStatus()));
}

}  // namespace
}  // namespace klaxon
