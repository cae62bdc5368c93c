// Conformance suite for the Store contract (store.h), run against every backend. A new backend
// (PostgreSQL) joins by adding one entry to kBackends.

#include "storage/store.h"

#include <atomic>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/non_blocking.h"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/change_stamps.h"
#include "storage/memory_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/test_util.h"

namespace klaxon::storage {
namespace {

using TempDir = storage::testing::TempDir;

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;
using ::testing::Pair;

using Rows = std::vector<std::pair<std::string, std::string>>;

struct Backend {
  std::string name;
  std::function<std::unique_ptr<Store>(const std::string& dir)> open;
};

const Backend kBackends[] = {
    {"Memory", [](const std::string&) { return std::make_unique<MemoryStore>(); }},
    {"Sqlite",
     [](const std::string& dir) -> std::unique_ptr<Store> {
       SqliteOptions options;
       options.data_dir = dir;
       auto store = SqliteStore::Open(options);
       if (!store.ok()) {
         ADD_FAILURE() << store.status();
         return nullptr;
       }
       return std::move(*store);
     }},
};

class StoreConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    store_ = GetParam().open(dir_.path());
    ASSERT_NE(store_, nullptr);
  }

  absl::Status Put(std::string_view table, std::string_view account, std::string_view id,
                   std::string_view value) {
    return store_->Write([&](WriteTxn& txn) { return txn.Put(table, account, id, value); });
  }

  std::optional<std::string> Get(std::string_view table, std::string_view account,
                                 std::string_view id) {
    std::optional<std::string> out;
    absl::Status status = store_->Read([&](ReadTxn& txn) -> absl::Status {
      auto value = txn.Get(table, account, id);
      if (!value.ok()) return value.status();
      out = *value;
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
    return out;
  }

  Rows Scan(std::string_view table, std::string_view account, std::string_view prefix,
            std::string_view after = "", size_t limit = 0) {
    Rows rows;
    absl::Status status = store_->Read([&](ReadTxn& txn) {
      return txn.Scan(table, account, prefix, after, limit,
                      [&](std::string_view id, std::string_view value) {
                        rows.emplace_back(id, value);
                        return true;
                      });
    });
    EXPECT_TRUE(status.ok()) << status;
    return rows;
  }

  std::vector<std::string> ScanIds(std::string_view prefix, std::string_view after = "",
                                   size_t limit = 0) {
    std::vector<std::string> ids;
    for (auto& [id, value] : Scan("t", "a", prefix, after, limit)) ids.push_back(id);
    return ids;
  }

  // The stamps of a read of (table, account, id), sealed; nullopt if they could not be.
  std::optional<ReadStamps> SealedRead(std::string_view table, std::string_view account,
                                       std::string_view id) {
    const ChangeStamps* stamps = store_->change_stamps();
    if (stamps == nullptr) return std::nullopt;
    std::optional<ReadStamps> sealed;
    const uint64_t before = stamps->seq();
    EXPECT_TRUE(store_
                    ->Read([&](ReadTxn& raw) -> absl::Status {
                      StampedRead txn(raw);
                      KLAXON_RETURN_IF_ERROR(txn.Get(table, account, id).status());
                      sealed = txn.Seal(*stamps, before);
                      return absl::OkStatus();
                    })
                    .ok());
    return sealed;
  }

  // Queues `fn` with WriteAsync; the future gets what it reports.
  std::future<absl::Status> QueueWrite(std::function<absl::Status(WriteTxn&)> fn) {
    auto promise = std::make_shared<std::promise<absl::Status>>();
    std::future<absl::Status> reported = promise->get_future();
    store_->WriteAsync(std::move(fn), [promise](absl::Status s) { promise->set_value(s); });
    return reported;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreConformance, GetMissingIsNullopt) { EXPECT_EQ(Get("t", "a", "x"), std::nullopt); }

TEST_P(StoreConformance, PutThenGet) {
  ASSERT_TRUE(Put("t", "a", "x", R"({"v":1})").ok());
  EXPECT_THAT(Get("t", "a", "x"), Optional(std::string(R"({"v":1})")));
}

TEST_P(StoreConformance, PutReplaces) {
  ASSERT_TRUE(Put("t", "a", "x", "1").ok());
  ASSERT_TRUE(Put("t", "a", "x", "2").ok());
  EXPECT_THAT(Get("t", "a", "x"), Optional(std::string("2")));
  EXPECT_THAT(Scan("t", "a", ""), ElementsAre(Pair("x", "2")));
}

TEST_P(StoreConformance, DeleteRemovesAndMissingIsOk) {
  ASSERT_TRUE(Put("t", "a", "x", "1").ok());
  ASSERT_TRUE(store_->Write([](WriteTxn& txn) { return txn.Delete("t", "a", "x"); }).ok());
  EXPECT_EQ(Get("t", "a", "x"), std::nullopt);
  EXPECT_TRUE(store_->Write([](WriteTxn& txn) { return txn.Delete("t", "a", "nope"); }).ok());
}

TEST_P(StoreConformance, ValuesAreBytes) {
  const std::string binary("a\0b\xff\x80", 5);
  ASSERT_TRUE(Put("t", "a", "bin", binary).ok());
  ASSERT_TRUE(Put("t", "a", "empty", "").ok());
  EXPECT_THAT(Get("t", "a", "bin"), Optional(binary));
  EXPECT_THAT(Get("t", "a", "empty"), Optional(std::string()));
}

TEST_P(StoreConformance, EmptyIdIsAKey) {
  ASSERT_TRUE(Put("t", "a", "", "root").ok());
  EXPECT_THAT(Get("t", "a", ""), Optional(std::string("root")));
  EXPECT_THAT(ScanIds(""), ElementsAre(""));
}

TEST_P(StoreConformance, ScanIsInAscendingByteOrder) {
  for (const char* id : {"b", "a", "c", "aa", "a\x01", "\x80", "\xff", "A", "0"}) {
    ASSERT_TRUE(Put("t", "a", id, id).ok());
  }
  EXPECT_THAT(ScanIds(""), ElementsAre("0", "A", "a", "a\x01", "aa", "b", "c", "\x80", "\xff"));
  EXPECT_THAT(Scan("t", "a", "a"),
              ElementsAre(Pair("a", "a"), Pair("a\x01", "a\x01"), Pair("aa", "aa")));
}

TEST_P(StoreConformance, ScanPrefix) {
  for (const char* id : {"inc", "inc/", "inc/1", "inc/2", "inc0", "ind/1", "in"}) {
    ASSERT_TRUE(Put("t", "a", id, "v").ok());
  }
  EXPECT_THAT(ScanIds("inc/"), ElementsAre("inc/", "inc/1", "inc/2"));
  EXPECT_THAT(ScanIds("inc"), ElementsAre("inc", "inc/", "inc/1", "inc/2", "inc0"));
  EXPECT_THAT(ScanIds("zzz"), IsEmpty());
}

TEST_P(StoreConformance, ScanPrefixWithFFBytes) {
  for (const char* id : {"a", "a\xff", "a\xff\xff", "a\xff\xff\x01", "b", "\xff", "\xff\xff"}) {
    ASSERT_TRUE(Put("t", "a", id, "v").ok());
  }
  EXPECT_THAT(ScanIds("a\xff"), ElementsAre("a\xff", "a\xff\xff", "a\xff\xff\x01"));
  EXPECT_THAT(ScanIds("a\xff\xff"), ElementsAre("a\xff\xff", "a\xff\xff\x01"));
  EXPECT_THAT(ScanIds("\xff"), ElementsAre("\xff", "\xff\xff"));
  EXPECT_THAT(ScanIds("\xff\xff"), ElementsAre("\xff\xff"));
}

TEST_P(StoreConformance, ScanAfterIsStrict) {
  for (const char* id : {"p/1", "p/2", "p/3", "q/1"}) ASSERT_TRUE(Put("t", "a", id, "v").ok());
  EXPECT_THAT(ScanIds("p/", "p/1"), ElementsAre("p/2", "p/3"));
  EXPECT_THAT(ScanIds("p/", "p/15"), ElementsAre("p/2", "p/3"));
  EXPECT_THAT(ScanIds("p/", "a"), ElementsAre("p/1", "p/2", "p/3"));  // after before the prefix
  EXPECT_THAT(ScanIds("p/", "p/3"), IsEmpty());
  EXPECT_THAT(ScanIds("p/", "z"), IsEmpty());  // after past the prefix
  EXPECT_THAT(ScanIds("", "p/3"), ElementsAre("q/1"));
}

TEST_P(StoreConformance, ScanLimitAndEarlyStop) {
  for (const char* id : {"1", "2", "3", "4"}) ASSERT_TRUE(Put("t", "a", id, "v").ok());
  EXPECT_THAT(ScanIds("", "", 2), ElementsAre("1", "2"));
  EXPECT_THAT(ScanIds("", "2", 1), ElementsAre("3"));
  EXPECT_THAT(ScanIds("", "", 0), ElementsAre("1", "2", "3", "4"));
  EXPECT_THAT(ScanIds("", "", 10), ElementsAre("1", "2", "3", "4"));
  std::vector<std::string> seen;
  ASSERT_TRUE(store_
                  ->Read([&](ReadTxn& txn) {
                    return txn.Scan("t", "a", "", "", 0, [&](std::string_view id, auto) {
                      seen.emplace_back(id);
                      return seen.size() < 3;
                    });
                  })
                  .ok());
  EXPECT_THAT(seen, ElementsAre("1", "2", "3"));
}

TEST_P(StoreConformance, ScanManyRowsAndPaginate) {
  // More rows than one internal chunk of any backend, written in one transaction.
  constexpr int kRows = 1000;
  ASSERT_TRUE(store_
                  ->Write([&](WriteTxn& txn) -> absl::Status {
                    for (int i = 0; i < kRows; ++i) {
                      auto status = txn.Put("t", "a", absl::StrFormat("r%05d", i), "v");
                      if (!status.ok()) return status;
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  std::vector<std::string> all = ScanIds("r");
  ASSERT_EQ(all.size(), kRows);
  EXPECT_EQ(all.front(), "r00000");
  EXPECT_EQ(all.back(), "r00999");
  std::vector<std::string> paged;
  std::string after;
  for (;;) {
    std::vector<std::string> page = ScanIds("r", after, 70);
    if (page.empty()) break;
    paged.insert(paged.end(), page.begin(), page.end());
    after = page.back();
  }
  EXPECT_EQ(paged, all);
  EXPECT_EQ(ScanIds("r", "", 300).size(), 300u);
}

TEST_P(StoreConformance, AccountsAndTablesAreIsolated) {
  ASSERT_TRUE(Put("t", "111111111111", "x", "mine").ok());
  ASSERT_TRUE(Put("t", "222222222222", "x", "theirs").ok());
  ASSERT_TRUE(Put("u", "111111111111", "x", "other table").ok());
  EXPECT_THAT(Get("t", "111111111111", "x"), Optional(std::string("mine")));
  EXPECT_THAT(Get("t", "222222222222", "x"), Optional(std::string("theirs")));
  EXPECT_EQ(Get("t", "333333333333", "x"), std::nullopt);
  EXPECT_THAT(Scan("t", "111111111111", ""), ElementsAre(Pair("x", "mine")));
  EXPECT_THAT(Scan("u", "111111111111", ""), ElementsAre(Pair("x", "other table")));
  // An account that is a prefix of another sees nothing of it.
  ASSERT_TRUE(Put("t", "1111", "y", "short").ok());
  EXPECT_THAT(Scan("t", "1111", ""), ElementsAre(Pair("y", "short")));
  ASSERT_TRUE(
      store_->Write([](WriteTxn& txn) { return txn.Delete("t", "222222222222", "x"); }).ok());
  EXPECT_THAT(Get("t", "111111111111", "x"), Optional(std::string("mine")));
}

TEST_P(StoreConformance, FunctionErrorRollsBackAndIsReturnedAsIs) {
  ASSERT_TRUE(Put("t", "a", "keep", "1").ok());
  absl::Status status = store_->Write([](WriteTxn& txn) -> absl::Status {
    EXPECT_TRUE(txn.Put("t", "a", "new", "x").ok());
    EXPECT_TRUE(txn.Put("t", "a", "keep", "changed").ok());
    EXPECT_TRUE(txn.Delete("t", "a", "keep").ok());
    return absl::AlreadyExistsError("duplicate");
  });
  EXPECT_EQ(status, absl::AlreadyExistsError("duplicate"));
  EXPECT_EQ(Get("t", "a", "new"), std::nullopt);
  EXPECT_THAT(Get("t", "a", "keep"), Optional(std::string("1")));
  // The store still works.
  ASSERT_TRUE(Put("t", "a", "after", "1").ok());
  EXPECT_THAT(ScanIds(""), ElementsAre("after", "keep"));
}

TEST_P(StoreConformance, ReadFunctionErrorIsReturnedAsIs) {
  EXPECT_EQ(store_->Read([](ReadTxn&) { return absl::NotFoundError("nope"); }),
            absl::NotFoundError("nope"));
}

TEST_P(StoreConformance, ReadYourWritesAfterWriteReturns) {
  for (int i = 0; i < 50; ++i) {
    std::string id = absl::StrFormat("k%d", i);
    ASSERT_TRUE(Put("t", "a", id, id).ok());
    ASSERT_THAT(Get("t", "a", id), Optional(id));
  }
}

TEST_P(StoreConformance, TransactionSeesItsOwnWrites) {
  ASSERT_TRUE(Put("t", "a", "old", "1").ok());
  ASSERT_TRUE(Put("t", "a", "gone", "1").ok());
  absl::Status status = store_->Write([](WriteTxn& txn) -> absl::Status {
    EXPECT_TRUE(txn.Put("t", "a", "new", "2").ok());
    EXPECT_TRUE(txn.Put("t", "a", "old", "3").ok());
    EXPECT_TRUE(txn.Delete("t", "a", "gone").ok());
    EXPECT_THAT(*txn.Get("t", "a", "new"), Optional(std::string("2")));
    EXPECT_THAT(*txn.Get("t", "a", "old"), Optional(std::string("3")));
    EXPECT_EQ(*txn.Get("t", "a", "gone"), std::nullopt);
    Rows rows;
    EXPECT_TRUE(txn.Scan("t", "a", "", "", 0,
                         [&](std::string_view id, std::string_view value) {
                           rows.emplace_back(id, value);
                           return true;
                         })
                    .ok());
    EXPECT_THAT(rows, ElementsAre(Pair("new", "2"), Pair("old", "3")));
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_THAT(Scan("t", "a", ""), ElementsAre(Pair("new", "2"), Pair("old", "3")));
}

TEST_P(StoreConformance, ScanCallbackMayUseTheTransaction) {
  for (const char* id : {"1", "2", "3"}) ASSERT_TRUE(Put("src", "a", id, id).ok());
  absl::Status status = store_->Write([](WriteTxn& txn) {
    return txn.Scan("src", "a", "", "", 0, [&](std::string_view id, std::string_view value) {
      EXPECT_TRUE(txn.Put("dst", "a", id, std::string(value) + "!").ok());
      EXPECT_TRUE(txn.Get("src", "a", id).ok());
      return true;
    });
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_THAT(Scan("dst", "a", ""), ElementsAre(Pair("1", "1!"), Pair("2", "2!"), Pair("3", "3!")));
}

TEST_P(StoreConformance, ClosedStoreIsUnavailable) {
  ASSERT_TRUE(Put("t", "a", "x", "1").ok());
  store_->Close();
  store_->Close();  // idempotent
  EXPECT_EQ(store_->Write([](WriteTxn&) { return absl::OkStatus(); }).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_->Read([](ReadTxn&) { return absl::OkStatus(); }).code(),
            absl::StatusCode::kUnavailable);
}

TEST_P(StoreConformance, NonBlockingCallersAreRefusedWithoutRunningTheFunction) {
  bool ran = false;
  {
    NonBlockingScope scope;
    EXPECT_TRUE(IsWouldBlock(store_->Write([&](WriteTxn& txn) {
      ran = true;
      return txn.Put("t", "a", "x", "1");
    })));
    EXPECT_TRUE(IsWouldBlock(store_->Read([&](ReadTxn&) {
      ran = true;
      return absl::OkStatus();
    })));
  }
  EXPECT_FALSE(ran);
  EXPECT_EQ(Get("t", "a", "x"), std::nullopt);
}

// WriteAsync reports what Write() would have returned, after the commit, and never waits (so it
// is allowed inside a NonBlockingScope).
TEST_P(StoreConformance, WriteAsyncCommitsThenReports) {
  ASSERT_TRUE(store_->supports_async_writes());
  // std::promise, not absl::Notification: TSan cannot see Debian's uninstrumented Abseil.
  auto write_async = [&](std::function<absl::Status(WriteTxn&)> fn) {
    std::future<absl::Status> reported;
    {
      NonBlockingScope scope;
      reported = QueueWrite(std::move(fn));
    }
    EXPECT_EQ(reported.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    return reported.get();
  };
  // The function owns what it uses: the caller's frame may be gone when it runs.
  std::string value = "async";
  EXPECT_TRUE(write_async([value](WriteTxn& txn) { return txn.Put("t", "a", "x", value); }).ok());
  EXPECT_THAT(Get("t", "a", "x"), Optional(std::string("async")));
  // A function's error aborts only its writes and is reported as is.
  absl::Status failed = write_async([](WriteTxn& txn) -> absl::Status {
    EXPECT_TRUE(txn.Put("t", "a", "y", "no").ok());
    return absl::AbortedError("changed my mind");
  });
  EXPECT_EQ(failed.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(failed.message(), "changed my mind");
  EXPECT_EQ(Get("t", "a", "y"), std::nullopt);
  // Many at once, from several threads: each reported once, all committed.
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string id = absl::StrFormat("k%d-%02d", t, i);
        if (write_async([id](WriteTxn& txn) { return txn.Put("m", "a", id, "v"); }).ok()) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 100);
  EXPECT_EQ(Scan("m", "a", "").size(), 100u);
  store_->Close();
  EXPECT_EQ(write_async([](WriteTxn& txn) { return txn.Put("t", "a", "z", "1"); }).code(),
            absl::StatusCode::kUnavailable);
}

// A stamped read stays current until a commit writes one of the rows it read, and that commit's
// stamps are published before its Write() returns.
TEST_P(StoreConformance, ChangeStampsMoveWhenARowReadIsWritten) {
  const ChangeStamps* stamps = store_->change_stamps();
  ASSERT_NE(stamps, nullptr);
  ASSERT_NE(ChangeStamps::SlotOf("t", "a", "x"), ChangeStamps::SlotOf("t", "a", "y"));
  ASSERT_TRUE(Put("t", "a", "x", "1").ok());
  std::optional<ReadStamps> sealed = SealedRead("t", "a", "x");
  ASSERT_TRUE(sealed.has_value());
  EXPECT_TRUE(sealed->Current(*stamps));
  ASSERT_TRUE(Put("t", "a", "y", "1").ok());  // another row
  EXPECT_TRUE(sealed->Current(*stamps));
  ASSERT_TRUE(Put("t", "a", "x", "2").ok());
  EXPECT_FALSE(sealed->Current(*stamps));
}

TEST_P(StoreConformance, ChangeStampsMoveOnDelete) {
  const ChangeStamps* stamps = store_->change_stamps();
  ASSERT_NE(stamps, nullptr);
  const uint32_t slot = ChangeStamps::SlotOf("t", "a", "x");
  const uint64_t before = stamps->at(slot);
  ASSERT_TRUE(store_->Write([](WriteTxn& txn) { return txn.Delete("t", "a", "x"); }).ok());
  EXPECT_NE(stamps->at(slot), before);
}

// Inside a write, Unchanged() vouches for a sealed read until one of its rows is written: by a
// published commit, by the transaction itself, or by one queued before it (grouped into the same
// commit or not: either way the answer must be false).
TEST_P(StoreConformance, UnchangedSeesPublishedOwnAndGroupedWrites) {
  const ChangeStamps* stamps = store_->change_stamps();
  ASSERT_NE(stamps, nullptr);
  ASSERT_NE(ChangeStamps::SlotOf("t", "a", "x"), ChangeStamps::SlotOf("t", "a", "y"));
  ASSERT_TRUE(Put("t", "a", "x", "1").ok());
  const std::optional<ReadStamps> sealed = SealedRead("t", "a", "x");
  ASSERT_TRUE(sealed.has_value());
  const ReadStamps& read = *sealed;
  std::vector<bool> seen;
  ASSERT_TRUE(store_
                  ->Write([&](WriteTxn& txn) -> absl::Status {
                    seen.push_back(txn.Unchanged(read));
                    KLAXON_RETURN_IF_ERROR(txn.Put("t", "a", "y", "1"));  // another row
                    seen.push_back(txn.Unchanged(read));
                    KLAXON_RETURN_IF_ERROR(txn.Put("t", "a", "x", "2"));  // its own write
                    seen.push_back(txn.Unchanged(read));
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_THAT(seen, ElementsAre(true, true, false));
  ASSERT_TRUE(store_
                  ->Write([&](WriteTxn& txn) -> absl::Status {
                    EXPECT_FALSE(txn.Unchanged(read));  // the write above is published
                    return absl::OkStatus();
                  })
                  .ok());

  // Queued back to back (the SQLite writer usually groups them into one commit).
  const std::optional<ReadStamps> fresh = SealedRead("t", "a", "x");
  ASSERT_TRUE(fresh.has_value());
  auto unchanged = std::make_shared<std::optional<bool>>();
  auto first = QueueWrite([](WriteTxn& txn) { return txn.Put("t", "a", "x", "3"); });
  auto second = QueueWrite([fresh = *fresh, unchanged](WriteTxn& txn) {
    *unchanged = txn.Unchanged(fresh);
    return absl::OkStatus();
  });
  EXPECT_TRUE(first.get().ok());
  EXPECT_TRUE(second.get().ok());
  EXPECT_THAT(*unchanged, Optional(false));
}

// OnRollback hooks run, newest first, when the function's writes roll back, and never after a
// commit (also when grouped with a failing function).
TEST_P(StoreConformance, RollbackHooksRunOnlyForRolledBackWrites) {
  std::vector<std::string> ran;
  absl::Status failed = store_->Write([&](WriteTxn& txn) -> absl::Status {
    KLAXON_RETURN_IF_ERROR(txn.Put("t", "a", "x", "1"));
    txn.OnRollback([&] { ran.push_back("first"); });
    txn.OnRollback([&] { ran.push_back("second"); });
    return absl::AbortedError("no");
  });
  EXPECT_EQ(failed.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(ran, ElementsAre("second", "first"));

  ran.clear();
  ASSERT_TRUE(store_
                  ->Write([&](WriteTxn& txn) -> absl::Status {
                    txn.OnRollback([&] { ran.push_back("committed"); });
                    return txn.Put("t", "a", "x", "2");
                  })
                  .ok());
  // Queued back to back with a failing one (the SQLite writer usually groups them).
  auto hooks = std::make_shared<std::vector<std::string>>();
  auto ok = QueueWrite([hooks](WriteTxn& txn) {
    txn.OnRollback([hooks] { hooks->push_back("kept"); });
    return txn.Put("t", "a", "y", "1");
  });
  auto bad = QueueWrite([hooks](WriteTxn& txn) {
    txn.OnRollback([hooks] { hooks->push_back("undone"); });
    return absl::AbortedError("no");
  });
  EXPECT_TRUE(ok.get().ok());
  EXPECT_EQ(bad.get().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(ran, IsEmpty());
  EXPECT_THAT(*hooks, ElementsAre("undone"));
  EXPECT_THAT(Get("t", "a", "x"), Optional(std::string("2")));
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance, ::testing::ValuesIn(kBackends),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace klaxon::storage
