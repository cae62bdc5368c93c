#include "incidents/client_tokens.h"

#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/json/serialize.hpp"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "incidents/errors.h"
#include "incidents/records.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "storage/memory_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/test_util.h"

namespace klaxon::incidents {
namespace {

using TempDir = storage::testing::TempDir;

namespace json = boost::json;
using ::testing::Optional;

constexpr char kAccount[] = "000000000000";
const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

// Replay or Save in a write transaction of their own.
struct Calls {
  storage::Store& store;
  ClientTokens& tokens;

  absl::StatusOr<std::optional<json::value>> Replay(const std::string& op, const std::string& token,
                                                    const std::string& fp, absl::Time now,
                                                    const std::string& account = kAccount) {
    std::optional<json::value> out;
    absl::Status s = store.Write([&](storage::WriteTxn& txn) -> absl::Status {
      KLAXON_ASSIGN_OR_RETURN(out, tokens.Replay(txn, account, op, token, fp, now));
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }
  absl::Status Save(const std::string& op, const std::string& token, const std::string& fp,
                    const json::value& result, absl::Time now,
                    const std::string& account = kAccount) {
    return store.Write([&](storage::WriteTxn& txn) {
      return tokens.Save(txn, account, op, token, fp, result, now);
    });
  }
};

// A replay's outcome as text: "none", the result's JSON, or the AWS error type.
std::string Show(const absl::StatusOr<std::optional<json::value>>& replay) {
  if (!replay.ok()) return AwsErrorType(replay.status()).value_or(replay.status().ToString());
  return *replay ? json::serialize(**replay) : "none";
}

std::unique_ptr<storage::SqliteStore> OpenSqlite(const std::string& dir) {
  storage::SqliteOptions options;
  options.data_dir = dir;
  auto store = storage::SqliteStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

size_t LogRows(storage::Store& store, const std::string& account = kAccount) {
  size_t n = 0;
  EXPECT_TRUE(store
                  .Read([&](storage::ReadTxn& txn) {
                    return txn.Scan(internal::kTokenLogTable, account, "", "", 0,
                                    [&](std::string_view, std::string_view) {
                                      ++n;
                                      return true;
                                    });
                  })
                  .ok());
  return n;
}

TEST(ClientTokensTest, ReplaysTheFirstResultAndRefusesOtherParameters) {
  storage::MemoryStore store;
  ClientTokens tokens{Limits()};
  Calls calls{store, tokens};
  EXPECT_EQ(Show(calls.Replay("StartIncident", "t1", "fp", kT0)), "none");
  ASSERT_TRUE(calls.Save("StartIncident", "t1", "fp", json::value("arn-1"), kT0).ok());
  EXPECT_EQ(Show(calls.Replay("StartIncident", "t1", "fp", kT0 + absl::Minutes(5))),
            json::serialize(json::value("arn-1")));
  auto conflict = calls.Replay("StartIncident", "t1", "other", kT0);
  EXPECT_EQ(AwsErrorType(conflict.status()), "ConflictException");
  EXPECT_THAT(conflict.status().message(), ::testing::HasSubstr("t1"));
  // Scoped to the operation and the account; an absent or empty token is never recorded.
  EXPECT_EQ(Show(calls.Replay("UpdateIncidentRecord", "t1", "fp", kT0)), "none");
  EXPECT_EQ(Show(calls.Replay("StartIncident", "t1", "fp", kT0, "111122223333")), "none");
  ASSERT_TRUE(calls.Save("StartIncident", "", "fp", json::value(1), kT0).ok());
  EXPECT_EQ(LogRows(store), 1u);
}

TEST(ClientTokensTest, ARolledBackSaveLeavesNoRecord) {
  storage::MemoryStore store;
  ClientTokens tokens{Limits()};
  Calls calls{store, tokens};
  absl::Status aborted = store.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_RETURN_IF_ERROR(
        tokens.Save(txn, kAccount, "StartIncident", "t1", "fp", json::value(1), kT0));
    return absl::AbortedError("later step failed");
  });
  EXPECT_EQ(aborted.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Show(calls.Replay("StartIncident", "t1", "fp", kT0)), "none");
  ASSERT_TRUE(calls.Save("StartIncident", "t1", "fp2", json::value(2), kT0).ok());
  EXPECT_EQ(Show(calls.Replay("StartIncident", "t1", "fp2", kT0)), json::serialize(json::value(2)));
}

TEST(ClientTokensTest, TokensExpireAfterTheRetentionAndAreSweptByLaterSaves) {
  storage::MemoryStore store;
  Limits limits;
  limits.client_token_retention = absl::Hours(1);
  ClientTokens tokens{limits};
  Calls calls{store, tokens};
  ASSERT_TRUE(calls.Save("StartIncident", "old", "fp", json::value(1), kT0).ok());
  EXPECT_EQ(Show(calls.Replay("StartIncident", "old", "fp", kT0 + absl::Minutes(59))),
            json::serialize(json::value(1)));
  EXPECT_EQ(Show(calls.Replay("StartIncident", "old", "fp", kT0 + absl::Minutes(60))), "none");
  EXPECT_EQ(LogRows(store), 1u);
  ASSERT_TRUE(calls.Save("StartIncident", "new", "fp", json::value(2), kT0 + absl::Hours(2)).ok());
  EXPECT_EQ(LogRows(store), 1u);  // "old" was swept
  EXPECT_EQ(Show(calls.Replay("StartIncident", "new", "fp", kT0 + absl::Hours(2))),
            json::serialize(json::value(2)));
}

TEST(ClientTokensTest, AtMostTheCapPerAccountOldestFirst) {
  storage::MemoryStore store;
  Limits limits;
  limits.max_client_tokens = 3;
  ClientTokens tokens{limits};
  Calls calls{store, tokens};
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(calls.Save("StartIncident", absl::StrCat("t", i), "fp", json::value(i), kT0).ok());
  }
  ASSERT_TRUE(calls.Save("StartIncident", "t0", "fp", json::value(0), kT0, "111122223333").ok());
  EXPECT_EQ(LogRows(store), 3u);
  for (int i = 0; i < 5; ++i) {
    auto replay = calls.Replay("StartIncident", absl::StrCat("t", i), "fp", kT0);
    ASSERT_TRUE(replay.ok()) << replay.status();
    EXPECT_EQ(replay->has_value(), i >= 2) << i;
  }
  EXPECT_EQ(Show(calls.Replay("StartIncident", "t0", "fp", kT0, "111122223333")),
            json::serialize(json::value(0)));
}

// After a restart the index is rebuilt from the log, and new records never overwrite old ones.
TEST(ClientTokensTest, ARestartedProcessReplaysFromTheLog) {
  TempDir dir;
  {
    auto store = OpenSqlite(dir.path());
    ASSERT_NE(store, nullptr);
    ClientTokens tokens{Limits()};
    Calls calls{*store, tokens};
    ASSERT_TRUE(calls.Save("StartIncident", "t1", "fp", json::value("a"), kT0).ok());
    ASSERT_TRUE(calls.Save("CreateTimelineEvent", "t2", "fp", json::value("b"), kT0).ok());
  }
  auto store = OpenSqlite(dir.path());
  ASSERT_NE(store, nullptr);
  ClientTokens tokens{Limits()};
  Calls calls{*store, tokens};
  EXPECT_EQ(Show(calls.Replay("StartIncident", "t1", "fp", kT0)),
            json::serialize(json::value("a")));
  ASSERT_TRUE(calls.Save("StartIncident", "t3", "fp", json::value("c"), kT0).ok());
  EXPECT_EQ(Show(calls.Replay("CreateTimelineEvent", "t2", "fp", kT0)),
            json::serialize(json::value("b")));
  EXPECT_EQ(Show(calls.Replay("StartIncident", "t3", "fp", kT0)),
            json::serialize(json::value("c")));
  EXPECT_EQ(LogRows(*store), 3u);
}

// Warm() builds the index before the first call: that call reads nothing of the log (here, a
// corrupt row added after the warm-up would otherwise fail it).
TEST(ClientTokensTest, WarmBuildsTheIndexBeforeTheFirstCall) {
  storage::MemoryStore store;
  {
    ClientTokens before{Limits()};
    Calls calls{store, before};
    ASSERT_TRUE(calls.Save("StartIncident", "t1", "fp", json::value("a"), kT0).ok());
  }
  auto corrupt = [&](ClientTokens& tokens) {
    EXPECT_TRUE(store
                    .Write([](storage::WriteTxn& txn) {
                      return txn.Put(internal::kTokenLogTable, kAccount, "zz", "not json");
                    })
                    .ok());
    Calls calls{store, tokens};
    auto replay = calls.Replay("StartIncident", "t2", "fp", kT0);
    EXPECT_TRUE(store
                    .Write([](storage::WriteTxn& txn) {
                      return txn.Delete(internal::kTokenLogTable, kAccount, "zz");
                    })
                    .ok());
    return replay;
  };
  ClientTokens warmed{Limits()};
  ASSERT_TRUE(warmed.Warm(store, kAccount).ok());
  EXPECT_EQ(Show(corrupt(warmed)), "none");
  ClientTokens cold{Limits()};
  EXPECT_EQ(corrupt(cold).status().code(), absl::StatusCode::kInternal);
  // And the warmed index has the record saved before it.
  Calls calls{store, warmed};
  EXPECT_EQ(Show(calls.Replay("StartIncident", "t1", "fp", kT0)), "\"a\"");
}

// Two calls with one token queued back to back (usually one group commit): the second replays
// the first, whose record is not committed yet when it looks.
TEST(ClientTokensTest, ACallSeesTheRecordOfOneGroupedBeforeIt) {
  TempDir dir;
  auto store = OpenSqlite(dir.path());
  ASSERT_NE(store, nullptr);
  ClientTokens tokens{Limits()};
  auto first = std::make_shared<std::promise<absl::Status>>();
  auto second = std::make_shared<std::promise<absl::Status>>();
  auto seen = std::make_shared<std::optional<json::value>>();
  store->WriteAsync(
      [&tokens](storage::WriteTxn& txn) {
        return tokens.Save(txn, kAccount, "StartIncident", "t", "fp", json::value(7), kT0);
      },
      [first](absl::Status s) { first->set_value(s); });
  store->WriteAsync(
      [&tokens, seen](storage::WriteTxn& txn) -> absl::Status {
        KLAXON_ASSIGN_OR_RETURN(*seen,
                                tokens.Replay(txn, kAccount, "StartIncident", "t", "fp", kT0));
        return absl::OkStatus();
      },
      [second](absl::Status s) { second->set_value(s); });
  EXPECT_TRUE(first->get_future().get().ok());
  EXPECT_TRUE(second->get_future().get().ok());
  EXPECT_THAT(*seen, Optional(json::value(7)));
}

// Records of the table used before the log still replay.
TEST(ClientTokensTest, RecordsOfTheEarlierTableStillReplay) {
  storage::MemoryStore store;
  json::object legacy{{"fp", "fp"}, {"result", "arn-old"}, {"time", absl::ToUnixNanos(kT0)}};
  ASSERT_TRUE(store
                  .Write([&](storage::WriteTxn& txn) {
                    return txn.Put(internal::kTokenTable, kAccount, "StartIncident/old",
                                   json::serialize(legacy));
                  })
                  .ok());
  ClientTokens tokens{Limits()};
  Calls calls{store, tokens};
  EXPECT_EQ(Show(calls.Replay("StartIncident", "old", "fp", kT0 + absl::Hours(1))),
            json::serialize(json::value("arn-old")));
  EXPECT_EQ(AwsErrorType(calls.Replay("StartIncident", "old", "x", kT0).status()),
            "ConflictException");
  EXPECT_EQ(Show(calls.Replay("StartIncident", "new", "fp", kT0)), "none");
  EXPECT_EQ(Show(calls.Replay("StartIncident", "old", "fp", kT0 + absl::Hours(25))), "none");
}

// Property: on random saves, replays, rollbacks, restarts and clock steps, ClientTokens answers
// like a naive model: a map of every committed record, a token honoured while younger than the
// retention and among the newest `cap` of its account.
RC_GTEST_PROP(ClientTokensProperty, AgreesWithANaiveModel, ()) {
  Limits limits;
  limits.client_token_retention = absl::Minutes(10);
  limits.max_client_tokens = *rc::gen::inRange<size_t>(1, 6);
  storage::MemoryStore store;
  auto tokens = std::make_unique<ClientTokens>(limits);
  struct Rec {
    std::string fp;
    int result;
    absl::Time time;
    int order;
  };
  std::map<std::tuple<std::string, std::string, std::string>, Rec> model;  // newest per key
  std::map<std::string, int> saved;  // records committed per account, for the cap
  absl::Time now = kT0;
  const int steps = *rc::gen::inRange(1, 100);
  for (int step = 0; step < steps; ++step) {
    const std::string account = *rc::gen::element<std::string>("a1", "a2");
    const std::string op = *rc::gen::element<std::string>("StartIncident", "UpdateTimelineEvent");
    const std::string token = absl::StrCat("t", *rc::gen::inRange(0, 4));
    const std::string fp = absl::StrCat("fp", *rc::gen::inRange(0, 2));
    const int what = *rc::gen::inRange(0, 10);
    if (what == 0) {
      tokens = std::make_unique<ClientTokens>(limits);  // a restart
    } else if (what == 1) {
      now += absl::Minutes(*rc::gen::inRange(1, 8));
    } else if (what <= 4) {
      const bool commit = *rc::gen::weightedElement<bool>({{2, true}, {1, false}});
      absl::Status s = store.Write([&](storage::WriteTxn& txn) -> absl::Status {
        KLAXON_RETURN_IF_ERROR(tokens->Save(txn, account, op, token, fp, json::value(step), now));
        return commit ? absl::OkStatus() : absl::AbortedError("rolled back");
      });
      RC_ASSERT(s.ok() == commit);
      if (commit) model[{account, op, token}] = Rec{fp, step, now, saved[account]++};
    } else {
      Calls calls{store, *tokens};
      auto got = calls.Replay(op, token, fp, now, account);
      std::optional<Rec> want;
      if (auto it = model.find({account, op, token}); it != model.end()) {
        const Rec& r = it->second;
        const bool young = now - r.time < limits.client_token_retention;
        const bool kept = saved[account] - r.order <= static_cast<int>(limits.max_client_tokens);
        if (young && kept) want = r;
      }
      if (!want) {
        RC_ASSERT(got.ok());
        RC_ASSERT(!got->has_value());
      } else if (want->fp != fp) {
        RC_ASSERT(AwsErrorType(got.status()) == std::optional<std::string>("ConflictException"));
      } else {
        RC_ASSERT(got.ok());
        RC_ASSERT(*got == std::optional<json::value>(json::value(want->result)));
      }
    }
  }
}

}  // namespace
}  // namespace klaxon::incidents
