#include "storage/ordered_ids.h"

#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace klaxon::storage {
namespace {

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

TEST(OrderedUuid, HasTheVersion7Layout) {
  const std::string id = NewOrderedUuid();
  ASSERT_EQ(id.size(), 36u);
  for (size_t i = 0; i < id.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      EXPECT_EQ(id[i], '-') << id;
    } else {
      EXPECT_TRUE(IsLowerHex(id[i])) << id;
    }
  }
  EXPECT_EQ(id[14], '7') << id;
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
}

TEST(OrderedUuid, IncreasesStrictlyInByteOrder) {
  std::string prev = NewOrderedUuid();
  for (int i = 0; i < 20000; ++i) {  // many per millisecond: the sequence orders them
    std::string next = NewOrderedUuid();
    ASSERT_LT(prev, next);
    prev = std::move(next);
  }
}

TEST(OrderedUuid, UniqueAcrossThreads) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 5000;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ids, t] {
      for (int i = 0; i < kPerThread; ++i) ids[t].push_back(NewOrderedUuid());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& v : ids) {
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));  // each thread sees increasing ids
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST(OrderedHex48, TwelveLowerHexIncreasing) {
  std::string prev = NewOrderedHex48();
  ASSERT_EQ(prev.size(), 12u);
  for (int i = 0; i < 20000; ++i) {
    std::string next = NewOrderedHex48();
    ASSERT_EQ(next.size(), 12u);
    ASSERT_TRUE(std::all_of(next.begin(), next.end(), IsLowerHex)) << next;
    ASSERT_LT(prev, next);
    prev = std::move(next);
  }
}

TEST(OrderedHex48, ClockSteppingBackStillIncreases) {
  const uint64_t a = internal::NextOrderedValue(uint64_t{1} << 40);
  const uint64_t b = internal::NextOrderedValue(uint64_t{1} << 20);  // the clock went back
  const uint64_t c = internal::NextOrderedValue(0);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_GE(a, uint64_t{1} << 40);
}

}  // namespace
}  // namespace klaxon::storage
