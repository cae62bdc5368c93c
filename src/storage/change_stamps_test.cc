#include "storage/change_stamps.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "storage/memory_store.h"

namespace klaxon::storage {
namespace {

TEST(ChangeStamps, SlotsDependOnEveryPartOfTheKeyAndSpread) {
  EXPECT_EQ(ChangeStamps::SlotOf("t", "a", "x"), ChangeStamps::SlotOf("t", "a", "x"));
  std::set<uint32_t> slots;
  for (int i = 0; i < 1000; ++i) {
    slots.insert(ChangeStamps::SlotOf("t", "a", absl::StrCat("id-", i)));
    EXPECT_LT(ChangeStamps::SlotOf("t", absl::StrCat("acct-", i), "x"), ChangeStamps::kSlots);
  }
  EXPECT_GT(slots.size(), 970u);  // ~8 collisions expected in 65,536 slots
  EXPECT_NE(ChangeStamps::SlotOf("t", "ax", ""), ChangeStamps::SlotOf("t", "a", "x"));
}

TEST(ChangeStamps, PublishMovesTheSequenceAndTheSlots) {
  ChangeStamps stamps;
  const uint32_t a = ChangeStamps::SlotOf("t", "a", "1");
  const uint32_t b = ChangeStamps::SlotOf("t", "a", "2");
  ASSERT_NE(a, b);
  EXPECT_EQ(stamps.seq(), 0u);
  stamps.Publish({});  // a commit that wrote nothing
  EXPECT_EQ(stamps.seq(), 0u);
  stamps.Publish({a});
  EXPECT_EQ(stamps.seq(), 1u);
  EXPECT_EQ(stamps.at(a), 1u);
  EXPECT_EQ(stamps.at(b), 0u);
  stamps.Publish({a, b});
  EXPECT_EQ(stamps.at(a), 2u);
  EXPECT_EQ(stamps.at(b), 2u);
}

// The reader's protocol: note seq(), read, seal. A commit published after the note that wrote a
// row of the read makes Seal refuse, because the snapshot may or may not include it.
TEST(StampedRead, SealRefusesRowsWrittenAfterTheNote) {
  MemoryStore store;
  const ChangeStamps& stamps = *store.change_stamps();
  ASSERT_TRUE(store.Write([](WriteTxn& txn) { return txn.Put("t", "a", "x", "1"); }).ok());
  const uint64_t before = stamps.seq();
  ASSERT_TRUE(store
                  .Read([&](ReadTxn& raw) -> absl::Status {
                    StampedRead txn(raw);
                    EXPECT_TRUE(txn.Get("t", "a", "x").ok());
                    EXPECT_TRUE(txn.Get("t", "a", "missing").ok());  // absent rows count too
                    EXPECT_TRUE(txn.Seal(stamps, before).has_value());
                    EXPECT_EQ(txn.Seal(stamps, before)->size(), 2u);
                    return absl::OkStatus();
                  })
                  .ok());
  std::optional<ReadStamps> sealed;
  ASSERT_TRUE(store
                  .Read([&](ReadTxn& raw) -> absl::Status {
                    StampedRead txn(raw);
                    EXPECT_TRUE(txn.Get("t", "a", "missing").ok());
                    sealed = txn.Seal(stamps, before);
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_TRUE(sealed.has_value());
  // The row that was absent appears: the answer "absent" is stale.
  ASSERT_TRUE(store.Write([](WriteTxn& txn) { return txn.Put("t", "a", "missing", "1"); }).ok());
  EXPECT_FALSE(sealed->Current(stamps));
  // A read noted before that commit cannot be sealed any more.
  ASSERT_TRUE(store
                  .Read([&](ReadTxn& raw) -> absl::Status {
                    StampedRead txn(raw);
                    EXPECT_TRUE(txn.Get("t", "a", "missing").ok());
                    EXPECT_FALSE(txn.Seal(stamps, before).has_value());
                    EXPECT_TRUE(txn.Seal(stamps, stamps.seq()).has_value());
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST(StampedRead, AReadThatScansCannotBeSealed) {
  MemoryStore store;
  const ChangeStamps& stamps = *store.change_stamps();
  ASSERT_TRUE(store
                  .Read([&](ReadTxn& raw) -> absl::Status {
                    StampedRead txn(raw);
                    EXPECT_TRUE(txn.Scan("t", "a", "", "", 0,
                                         [](std::string_view, std::string_view) { return true; })
                                    .ok());
                    EXPECT_FALSE(txn.Seal(stamps, stamps.seq()).has_value());
                    return absl::OkStatus();
                  })
                  .ok());
}

}  // namespace
}  // namespace klaxon::storage
