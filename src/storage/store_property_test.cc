// Property test: SqliteStore behaves exactly like MemoryStore (the reference) on random sequences
// of transactions mixing puts, deletes, gets, scans (prefix/after/limit over ids with 0x00, 0x80
// and 0xFF bytes) and failing functions.

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "storage/memory_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace klaxon::storage {
namespace {

enum class Kind { kPut, kDelete, kGet, kScan, kFail };

struct Op {
  Kind kind;
  int table;
  int account;
  std::string id;  // Put/Delete/Get; the prefix for Scan
  std::string value_or_after;
  size_t limit;
};

struct Transaction {
  bool read_only;
  std::vector<Op> ops;
};

// Short strings over bytes that stress ordering and prefix bounds.
rc::Gen<std::string> Key(int max_len) {
  return rc::gen::container<std::string>(*rc::gen::inRange(0, max_len + 1),
                                         rc::gen::element('a', 'b', '\0', '\x7f', '\x80', '\xff'));
}

rc::Gen<Op> AnOp() {
  return rc::gen::apply(
      [](Kind kind, int table, int account, std::string id, std::string value, int limit) {
        return Op{
            kind, table, account, std::move(id), std::move(value), static_cast<size_t>(limit)};
      },
      rc::gen::weightedElement<Kind>({{4, Kind::kPut},
                                      {2, Kind::kDelete},
                                      {2, Kind::kGet},
                                      {3, Kind::kScan},
                                      {1, Kind::kFail}}),
      rc::gen::inRange(0, 2), rc::gen::inRange(0, 2), Key(3), Key(3), rc::gen::inRange(0, 4));
}

const char* const kTables[] = {"t0", "t1"};
const char* const kAccounts[] = {"000000000000", "000000000001"};

// Runs `ops` against `txn` and logs every observation; stops at the first kFail (returning an
// error) or, in a read-only transaction, skips writes.
absl::Status Apply(ReadTxn& txn, WriteTxn* writer, const std::vector<Op>& ops,
                   std::vector<std::string>& log) {
  for (const Op& op : ops) {
    const char* table = kTables[op.table];
    const char* account = kAccounts[op.account];
    switch (op.kind) {
      case Kind::kPut:
        if (writer != nullptr) {
          absl::Status s = writer->Put(table, account, op.id, op.value_or_after);
          if (!s.ok()) return s;
        }
        break;
      case Kind::kDelete:
        if (writer != nullptr) {
          absl::Status s = writer->Delete(table, account, op.id);
          if (!s.ok()) return s;
        }
        break;
      case Kind::kGet: {
        auto value = txn.Get(table, account, op.id);
        if (!value.ok()) return value.status();
        log.push_back(*value ? "=" + **value : "<none>");
        break;
      }
      case Kind::kScan: {
        std::string out = "scan:";
        absl::Status s = txn.Scan(table, account, op.id, op.value_or_after, op.limit,
                                  [&](std::string_view id, std::string_view value) {
                                    absl::StrAppend(&out, id.size(), ":", std::string(id), "=",
                                                    std::string(value), ";");
                                    return true;
                                  });
        if (!s.ok()) return s;
        log.push_back(out);
        break;
      }
      case Kind::kFail:
        return absl::AbortedError("injected");
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> Run(Store& store, const std::vector<Transaction>& txns) {
  std::vector<std::string> log;
  for (const Transaction& t : txns) {
    absl::Status status;
    if (t.read_only) {
      status = store.Read([&](ReadTxn& txn) { return Apply(txn, nullptr, t.ops, log); });
    } else {
      status = store.Write([&](WriteTxn& txn) { return Apply(txn, &txn, t.ops, log); });
    }
    log.push_back(status.ToString());
  }
  // The final state of every (table, account).
  for (int table = 0; table < 2; ++table) {
    for (int account = 0; account < 2; ++account) {
      std::vector<Op> scan = {Op{Kind::kScan, table, account, "", "", 0}};
      absl::Status s = store.Read([&](ReadTxn& txn) { return Apply(txn, nullptr, scan, log); });
      log.push_back(s.ToString());
    }
  }
  return log;
}

RC_GTEST_PROP(StoreProperty, SqliteMatchesMemoryStore, ()) {
  auto txns = *rc::gen::container<std::vector<Transaction>>(rc::gen::apply(
      [](bool read_only, std::vector<Op> ops) {
        return Transaction{read_only, std::move(ops)};
      },
      rc::gen::weightedElement<bool>({{1, true}, {3, false}}),
      rc::gen::container<std::vector<Op>>(AnOp())));

  std::string tmpl = ::testing::TempDir() + "klaxon_store_prop_XXXXXX";
  RC_ASSERT(mkdtemp(tmpl.data()) != nullptr);
  SqliteOptions options;
  options.data_dir = tmpl;
  options.synchronous = SqliteSynchronous::kOff;  // durability is not what this test checks
  auto sqlite = SqliteStore::Open(options);
  RC_ASSERT(sqlite.ok());
  MemoryStore memory;

  std::vector<std::string> want = Run(memory, txns);
  std::vector<std::string> got = Run(**sqlite, txns);
  (*sqlite)->Close();
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
  RC_ASSERT(got == want);
}

}  // namespace
}  // namespace klaxon::storage
