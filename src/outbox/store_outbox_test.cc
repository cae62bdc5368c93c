#include "outbox/store_outbox.h"

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/memory_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace klaxon::outbox {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class OutboxTest : public ::testing::Test {
 protected:
  OutboxOptions ManualOptions() {
    OutboxOptions o;
    o.delivery_threads = 0;
    return o;
  }

  std::string Enqueue(StoreOutbox& outbox, const std::string& payload,
                      const RetryPolicy* policy = nullptr, const std::string& kind = "k") {
    std::string id;
    EXPECT_TRUE(store_
                    .Write([&](storage::WriteTxn& txn) -> absl::Status {
                      auto r = outbox.EnqueueInTxn(txn, "111122223333", kind, payload, policy);
                      if (!r.ok()) return r.status();
                      id = *r;
                      return absl::OkStatus();
                    })
                    .ok());
    return id;
  }

  storage::MemoryStore store_;
  SimulatedClock clock_;
};

TEST_F(OutboxTest, DeliversCommittedEntryOnceAndRemovesIt) {
  StoreOutbox outbox(store_, clock_, ManualOptions());
  std::vector<Entry> seen;
  outbox.RegisterHandler("k", [&](const Entry& e) {
    seen.push_back(e);
    return absl::OkStatus();
  });
  std::string id = Enqueue(outbox, "{\"a\":\"line1\\nline2\"}\nraw second line");
  ASSERT_THAT(*outbox.Pending(), SizeIs(1));
  EXPECT_EQ(*outbox.DeliverDue(), 1u);
  ASSERT_THAT(seen, SizeIs(1));
  EXPECT_EQ(seen[0].id, id);
  EXPECT_EQ(seen[0].account_id, "111122223333");
  EXPECT_EQ(seen[0].kind, "k");
  EXPECT_EQ(seen[0].payload, "{\"a\":\"line1\\nline2\"}\nraw second line");
  EXPECT_EQ(seen[0].attempts, 0);
  EXPECT_EQ(seen[0].enqueued, clock_.Now());
  EXPECT_THAT(*outbox.Pending(), IsEmpty());
  EXPECT_EQ(*outbox.DeliverDue(), 0u);
  EXPECT_THAT(seen, SizeIs(1));
}

TEST_F(OutboxTest, RolledBackTransactionEnqueuesNothing) {
  StoreOutbox outbox(store_, clock_, ManualOptions());
  absl::Status s = store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    auto r = outbox.EnqueueInTxn(txn, "111122223333", "k", "x");
    if (!r.ok()) return r.status();
    return absl::AbortedError("caller gives up");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(*outbox.Pending(), IsEmpty());
}

TEST_F(OutboxTest, IdsAreUniqueAndTimeOrdered) {
  StoreOutbox outbox(store_, clock_, ManualOptions());
  std::string a = Enqueue(outbox, "a");
  clock_.Advance(absl::Microseconds(1));
  std::string b = Enqueue(outbox, "b");
  std::string c = Enqueue(outbox, "c");
  EXPECT_LT(a, b);
  EXPECT_NE(b, c);
}

TEST_F(OutboxTest, RetryableFailureBacksOffExponentially) {
  StoreOutbox outbox(store_, clock_, ManualOptions());
  std::vector<int> attempts;
  outbox.RegisterHandler("k", [&](const Entry& e) {
    attempts.push_back(e.attempts);
    if (attempts.size() < 4) return absl::UnavailableError("target down");
    return absl::OkStatus();
  });
  Enqueue(outbox, "p");
  EXPECT_EQ(*outbox.DeliverDue(), 1u);  // attempt 0 fails
  auto pending = *outbox.Pending();
  ASSERT_THAT(pending, SizeIs(1));
  EXPECT_EQ(pending[0].entry.attempts, 1);
  EXPECT_THAT(pending[0].entry.last_error, HasSubstr("target down"));
  EXPECT_EQ(pending[0].due, clock_.Now() + absl::Milliseconds(100));

  EXPECT_EQ(*outbox.DeliverDue(), 0u);  // not due yet
  clock_.Advance(absl::Milliseconds(99));
  EXPECT_EQ(*outbox.DeliverDue(), 0u);
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(*outbox.DeliverDue(), 1u);  // attempt 1 fails, next in 200 ms
  clock_.Advance(absl::Milliseconds(199));
  EXPECT_EQ(*outbox.DeliverDue(), 0u);
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(*outbox.DeliverDue(), 1u);  // attempt 2 fails, next in 400 ms
  clock_.Advance(absl::Milliseconds(400));
  EXPECT_EQ(*outbox.DeliverDue(), 1u);  // attempt 3 succeeds
  EXPECT_THAT(attempts, ElementsAre(0, 1, 2, 3));
  EXPECT_THAT(*outbox.Pending(), IsEmpty());
  EXPECT_THAT(*outbox.DeadLetters("111122223333", 0), IsEmpty());
}

TEST_F(OutboxTest, BackoffIsCapped) {
  RetryPolicy p;
  p.initial_backoff = absl::Seconds(1);
  p.max_backoff = absl::Seconds(10);
  EXPECT_EQ(StoreOutbox::Backoff(p, 1), absl::Seconds(1));
  EXPECT_EQ(StoreOutbox::Backoff(p, 2), absl::Seconds(2));
  EXPECT_EQ(StoreOutbox::Backoff(p, 4), absl::Seconds(8));
  EXPECT_EQ(StoreOutbox::Backoff(p, 5), absl::Seconds(10));
  EXPECT_EQ(StoreOutbox::Backoff(p, 1000), absl::Seconds(10));
}

TEST_F(OutboxTest, PermanentFailureIsDeadLetteredAtOnce) {
  StoreOutbox outbox(store_, clock_, ManualOptions());
  int calls = 0;
  outbox.RegisterHandler("k", [&](const Entry&) {
    ++calls;
    return absl::InvalidArgumentError("plan does not exist");
  });
  std::string id = Enqueue(outbox, "p");
  EXPECT_EQ(*outbox.DeliverDue(), 1u);
  EXPECT_EQ(calls, 1);
  EXPECT_THAT(*outbox.Pending(), IsEmpty());
  auto dead = *outbox.DeadLetters("111122223333", 0);
  ASSERT_THAT(dead, SizeIs(1));
  EXPECT_EQ(dead[0].id, id);
  EXPECT_EQ(dead[0].attempts, 1);
  EXPECT_EQ(dead[0].payload, "p");
  EXPECT_THAT(dead[0].last_error, HasSubstr("plan does not exist"));
  EXPECT_THAT(*outbox.DeadLetters("999999999999", 0), IsEmpty());
}

TEST_F(OutboxTest, ExhaustedAttemptsAreDeadLettered) {
  StoreOutbox outbox(store_, clock_, ManualOptions());
  int calls = 0;
  outbox.RegisterHandler("k", [&](const Entry&) {
    ++calls;
    return absl::InternalError("boom");
  });
  RetryPolicy policy;
  policy.max_attempts = 3;
  policy.initial_backoff = absl::Seconds(1);
  Enqueue(outbox, "p", &policy);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(outbox.DeliverDue().ok());
    clock_.Advance(absl::Seconds(10));
  }
  EXPECT_EQ(calls, 3);
  auto dead = *outbox.DeadLetters("111122223333", 0);
  ASSERT_THAT(dead, SizeIs(1));
  EXPECT_EQ(dead[0].attempts, 3);
}

TEST_F(OutboxTest, MaximumAgeEndsRetries) {
  StoreOutbox outbox(store_, clock_, ManualOptions());
  int calls = 0;
  outbox.RegisterHandler("k", [&](const Entry&) {
    ++calls;
    return absl::UnavailableError("down");
  });
  RetryPolicy policy;
  policy.max_age = absl::Minutes(1);
  policy.initial_backoff = absl::Seconds(10);
  policy.max_backoff = absl::Seconds(10);
  Enqueue(outbox, "p", &policy);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(outbox.DeliverDue().ok());
    clock_.Advance(absl::Seconds(10));
  }
  // Attempts at 0, 10, ..., 60 s; the retry after 60 s would be past the age.
  EXPECT_EQ(calls, 7);
  EXPECT_THAT(*outbox.Pending(), IsEmpty());
  EXPECT_THAT(*outbox.DeadLetters("111122223333", 0), SizeIs(1));
}

TEST_F(OutboxTest, EntryOlderThanMaxAgeIsNotAttempted) {
  StoreOutbox outbox(store_, clock_, ManualOptions());
  int calls = 0;
  outbox.RegisterHandler("k", [&](const Entry&) {
    ++calls;
    return absl::OkStatus();
  });
  RetryPolicy policy;
  policy.max_age = absl::Minutes(1);
  Enqueue(outbox, "p", &policy);
  clock_.Advance(absl::Minutes(2));  // e.g. the node was down
  ASSERT_TRUE(outbox.DeliverDue().ok());
  EXPECT_EQ(calls, 0);
  auto dead = *outbox.DeadLetters("111122223333", 0);
  ASSERT_THAT(dead, SizeIs(1));
  EXPECT_THAT(dead[0].last_error, HasSubstr("maximum event age"));
}

TEST_F(OutboxTest, UnknownKindIsDeadLettered) {
  StoreOutbox outbox(store_, clock_, ManualOptions());
  Enqueue(outbox, "p", nullptr, "nobody.handles");
  ASSERT_TRUE(outbox.DeliverDue().ok());
  auto dead = *outbox.DeadLetters("111122223333", 0);
  ASSERT_THAT(dead, SizeIs(1));
  EXPECT_THAT(dead[0].last_error, HasSubstr("no handler"));
}

TEST_F(OutboxTest, RedriveRequeuesADeadLetter) {
  StoreOutbox outbox(store_, clock_, ManualOptions());
  bool fail = true;
  int calls = 0;
  outbox.RegisterHandler("k", [&](const Entry& e) {
    ++calls;
    EXPECT_EQ(e.attempts, 0);
    return fail ? absl::NotFoundError("missing") : absl::OkStatus();
  });
  std::string id = Enqueue(outbox, "p");
  ASSERT_TRUE(outbox.DeliverDue().ok());
  ASSERT_THAT(*outbox.DeadLetters("111122223333", 0), SizeIs(1));
  EXPECT_EQ(outbox.Redrive("111122223333", "nope").code(), absl::StatusCode::kNotFound);
  fail = false;
  ASSERT_TRUE(outbox.Redrive("111122223333", id).ok());
  EXPECT_THAT(*outbox.DeadLetters("111122223333", 0), IsEmpty());
  ASSERT_TRUE(outbox.DeliverDue().ok());
  EXPECT_EQ(calls, 2);
  EXPECT_THAT(*outbox.Pending(), IsEmpty());
}

TEST_F(OutboxTest, CustomPolicySurvivesTheRow) {
  StoreOutbox outbox(store_, clock_, ManualOptions());
  RetryPolicy policy;
  policy.max_attempts = 7;
  policy.max_age = absl::Seconds(90);
  policy.initial_backoff = absl::Milliseconds(5);
  policy.max_backoff = absl::Seconds(3);
  Enqueue(outbox, "p", &policy);
  clock_.Advance(absl::Milliseconds(1));
  Enqueue(outbox, "q");
  auto pending = *outbox.Pending();
  ASSERT_THAT(pending, SizeIs(2));
  EXPECT_EQ(pending[0].policy.max_attempts, 7);
  EXPECT_EQ(pending[0].policy.max_age, absl::Seconds(90));
  EXPECT_EQ(pending[0].policy.initial_backoff, absl::Milliseconds(5));
  EXPECT_EQ(pending[0].policy.max_backoff, absl::Seconds(3));
  EXPECT_EQ(pending[1].policy.max_attempts, RetryPolicy().max_attempts);
}

TEST_F(OutboxTest, TxnHandlerEffectCommitsWithTheRemoval) {
  StoreOutbox outbox(store_, clock_, ManualOptions());
  bool fail = true;
  ASSERT_TRUE(outbox
                  .RegisterTxnHandler("fwd",
                                      [&](storage::WriteTxn& txn, const Entry& e) -> absl::Status {
                                        KLAXON_RETURN_IF_ERROR(
                                            txn.Put("effects", e.account_id, e.id, e.payload));
                                        if (fail) return absl::UnavailableError("later");
                                        return absl::OkStatus();
                                      })
                  .ok());
  std::string id = Enqueue(outbox, "payload", nullptr, "fwd");
  ASSERT_TRUE(outbox.DeliverDue().ok());
  auto effect = [&] {
    std::optional<std::string> v;
    EXPECT_TRUE(store_
                    .Read([&](storage::ReadTxn& txn) -> absl::Status {
                      auto r = txn.Get("effects", "111122223333", id);
                      if (!r.ok()) return r.status();
                      v = *r;
                      return absl::OkStatus();
                    })
                    .ok());
    return v;
  };
  EXPECT_FALSE(effect().has_value());  // rolled back with the failed attempt
  ASSERT_THAT(*outbox.Pending(), SizeIs(1));
  fail = false;
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(outbox.DeliverDue().ok());
  EXPECT_EQ(effect(), "payload");
  EXPECT_THAT(*outbox.Pending(), IsEmpty());
}

TEST_F(OutboxTest, TxnEntriesShareATransactionAndAFailureIsolatesItself) {
  StoreOutbox outbox(store_, clock_, ManualOptions());
  std::map<std::string, int> calls;
  ASSERT_TRUE(outbox
                  .RegisterTxnHandler("fwd",
                                      [&](storage::WriteTxn& txn, const Entry& e) -> absl::Status {
                                        ++calls[e.payload];
                                        if (e.payload == "bad") return absl::UnavailableError("no");
                                        return txn.Put("effects", e.account_id, e.payload, "x");
                                      })
                  .ok());
  for (const char* p : {"a", "b", "bad", "c"}) {
    Enqueue(outbox, p, nullptr, "fwd");
    clock_.Advance(absl::Microseconds(1));  // a known order within the batch
  }
  ASSERT_TRUE(outbox.DeliverDue().ok());
  auto pending = *outbox.Pending();
  ASSERT_THAT(pending, SizeIs(1));
  EXPECT_EQ(pending[0].entry.payload, "bad");
  EXPECT_EQ(pending[0].entry.attempts, 1);
  // The batch ran up to "bad" (rolled back), then each entry alone.
  EXPECT_EQ(calls["a"], 2);
  EXPECT_EQ(calls["bad"], 2);
  EXPECT_EQ(calls["c"], 1);
  int effects = 0;
  ASSERT_TRUE(store_
                  .Read([&](storage::ReadTxn& txn) {
                    return txn.Scan("effects", "111122223333", "", "", 0,
                                    [&](std::string_view, std::string_view) {
                                      ++effects;
                                      return true;
                                    });
                  })
                  .ok());
  EXPECT_EQ(effects, 3);
}

TEST_F(OutboxTest, TxnBatchWithoutFailuresRunsEachHandlerOnce) {
  StoreOutbox outbox(store_, clock_, ManualOptions());
  int calls = 0;
  ASSERT_TRUE(outbox
                  .RegisterTxnHandler("fwd",
                                      [&](storage::WriteTxn&, const Entry&) -> absl::Status {
                                        ++calls;
                                        return absl::OkStatus();
                                      })
                  .ok());
  for (int i = 0; i < 100; ++i) Enqueue(outbox, std::to_string(i), nullptr, "fwd");
  EXPECT_EQ(*outbox.DeliverDue(), 100u);
  EXPECT_EQ(calls, 100);
  EXPECT_THAT(*outbox.Pending(), IsEmpty());
}

TEST_F(OutboxTest, HandlerExceptionIsARetryableFailure) {
  StoreOutbox outbox(store_, clock_, ManualOptions());
  outbox.RegisterHandler("k",
                         [&](const Entry&) -> absl::Status { throw std::runtime_error("oops"); });
  Enqueue(outbox, "p");
  ASSERT_TRUE(outbox.DeliverDue().ok());
  auto pending = *outbox.Pending();
  ASSERT_THAT(pending, SizeIs(1));
  EXPECT_THAT(pending[0].entry.last_error, HasSubstr("oops"));
}

// Threads: every committed entry is delivered exactly once when nothing fails, and retried ones
// eventually succeed.
TEST(OutboxThreads, DeliversEverythingExactlyOnce) {
  storage::MemoryStore store;
  SystemClock& clock = SystemClock::Get();
  OutboxOptions options;
  options.delivery_threads = 4;
  options.poll_interval = absl::Milliseconds(20);
  options.max_in_flight = 32;
  options.default_policy.initial_backoff = absl::Milliseconds(1);
  StoreOutbox outbox(store, clock, options);
  std::mutex mu;
  std::map<std::string, int> calls;
  std::set<std::string> failed_once;
  outbox.RegisterHandler("k", [&](const Entry& e) {
    std::lock_guard<std::mutex> lock(mu);
    ++calls[e.id];
    // Every tenth entry fails its first attempt.
    if (e.payload.back() == '0' && failed_once.insert(e.id).second) {
      return absl::UnavailableError("flaky");
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(outbox.Start().ok());
  std::vector<std::string> ids;
  std::vector<std::thread> producers;
  std::mutex ids_mu;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < 250; ++i) {
        std::string id;
        ASSERT_TRUE(store
                        .Write([&](storage::WriteTxn& txn) -> absl::Status {
                          auto r = outbox.EnqueueInTxn(txn, "111122223333", "k",
                                                       absl::StrCat(p, "-", i));
                          if (!r.ok()) return r.status();
                          id = *r;
                          return absl::OkStatus();
                        })
                        .ok());
        outbox.Notify();
        std::lock_guard<std::mutex> lock(ids_mu);
        ids.push_back(id);
      }
    });
  }
  for (auto& t : producers) t.join();
  for (int i = 0; i < 500; ++i) {
    if (outbox.Pending()->empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  outbox.Stop();
  EXPECT_THAT(*outbox.Pending(), IsEmpty());
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(calls.size(), 1000u);
  for (const auto& id : ids) {
    int expected = failed_once.count(id) ? 2 : 1;
    EXPECT_EQ(calls[id], expected) << id;
  }
}

// Undelivered entries stay durable across a restart (SQLite) and are delivered by the next
// outbox.
TEST(OutboxSqlite, UndeliveredEntriesSurviveRestart) {
  std::string dir = ::testing::TempDir() + "/outbox_restart_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  SimulatedClock clock;
  storage::SqliteOptions so;
  so.data_dir = dir;
  so.synchronous = storage::SqliteSynchronous::kOff;
  {
    auto store = *storage::SqliteStore::Open(so);
    OutboxOptions o;
    o.delivery_threads = 0;
    StoreOutbox outbox(*store, clock, o);
    ASSERT_TRUE(store
                    ->Write([&](storage::WriteTxn& txn) -> absl::Status {
                      for (int i = 0; i < 3; ++i) {
                        auto r = outbox.EnqueueInTxn(txn, "111122223333", "k", std::to_string(i));
                        if (!r.ok()) return r.status();
                      }
                      return absl::OkStatus();
                    })
                    .ok());
  }
  auto store = *storage::SqliteStore::Open(so);
  OutboxOptions o;
  o.delivery_threads = 0;
  StoreOutbox outbox(*store, clock, o);
  std::vector<std::string> payloads;
  outbox.RegisterHandler("k", [&](const Entry& e) {
    payloads.push_back(e.payload);
    return absl::OkStatus();
  });
  EXPECT_EQ(*outbox.DeliverDue(), 3u);
  EXPECT_THAT(payloads, ::testing::UnorderedElementsAre("0", "1", "2"));
  store->Close();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace klaxon::outbox
