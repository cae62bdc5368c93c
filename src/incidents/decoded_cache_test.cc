#include "incidents/decoded_cache.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace klaxon::incidents::internal {
namespace {

TEST(DecodedCache, HitsOnlyForTheSameText) {
  DecodedCache<int> cache;
  EXPECT_EQ(cache.Find("a", "{\"v\":1}"), nullptr);
  cache.Insert("a", "{\"v\":1}", std::make_shared<const int>(1));
  ASSERT_NE(cache.Find("a", "{\"v\":1}"), nullptr);
  EXPECT_EQ(*cache.Find("a", "{\"v\":1}"), 1);
  // The record changed (an update): the stale decoding is never served.
  EXPECT_EQ(cache.Find("a", "{\"v\":2}"), nullptr);
  EXPECT_EQ(cache.Find("b", "{\"v\":1}"), nullptr);  // keys are separate
}

TEST(DecodedCache, InsertReplacesAndHandedOutValuesStayValid) {
  DecodedCache<std::string> cache;
  cache.Insert("k", "1", std::make_shared<const std::string>("one"));
  std::shared_ptr<const std::string> old = cache.Find("k", "1");
  cache.Insert("k", "2", std::make_shared<const std::string>("two"));
  EXPECT_EQ(cache.Find("k", "1"), nullptr);
  EXPECT_EQ(*cache.Find("k", "2"), "two");
  EXPECT_EQ(*old, "one");
  EXPECT_EQ(cache.size(), 1u);
}

TEST(DecodedCache, StaysWithinItsCapacity) {
  DecodedCache<int> cache(/*capacity=*/4);
  for (int i = 0; i < 10; ++i) {
    cache.Insert(std::to_string(i), "t", std::make_shared<const int>(i));
    EXPECT_LE(cache.size(), 4u);
    EXPECT_EQ(*cache.Find(std::to_string(i), "t"), i);  // the newest entry is always there
  }
}

TEST(DecodedCache, ConcurrentReadersAndWritersNeverSeeAMismatchedValue) {
  DecodedCache<std::string> cache(/*capacity=*/8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string text = std::to_string((i + t) % 5);
        if (auto hit = cache.Find("k", text)) {
          ASSERT_EQ(*hit, "decoded " + text);
        } else {
          cache.Insert("k", text, std::make_shared<const std::string>("decoded " + text));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
}

}  // namespace
}  // namespace klaxon::incidents::internal
