#include "storage/sqlite/wal_write_buffer.h"

#include <sqlite3.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "storage/sqlite/connection.h"
#include "storage/test_util.h"

namespace klaxon::storage::internal {
namespace {

using Table = std::map<int, std::string>;

// A database in WAL mode, synchronous=FULL, with table t(k INTEGER PRIMARY KEY, v BLOB), written
// through `vfs` (nullptr: SQLite's default).
std::unique_ptr<Connection> OpenDb(const std::string& path, const char* vfs, bool read_only) {
  auto conn = Connection::Open(path, read_only, absl::Seconds(5), vfs);
  EXPECT_TRUE(conn.ok()) << conn.status();
  if (!conn.ok()) return nullptr;
  if (!read_only) {
    EXPECT_TRUE((*conn)
                    ->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                           "CREATE TABLE IF NOT EXISTS t(k INTEGER PRIMARY KEY, v BLOB)")
                    .ok());
  }
  return std::move(*conn);
}

void Put(Connection& c, int k, const std::string& v) {
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(c.db(), "INSERT OR REPLACE INTO t VALUES(?1, ?2)", -1, &stmt, nullptr),
      SQLITE_OK);
  sqlite3_bind_int(stmt, 1, k);
  sqlite3_bind_blob(stmt, 2, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sqlite3_errmsg(c.db());
  sqlite3_finalize(stmt);
}

Table ReadAll(Connection& c) {
  Table out;
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(c.db(), "SELECT k, v FROM t", -1, &stmt, nullptr), SQLITE_OK);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    const char* v = static_cast<const char*>(sqlite3_column_blob(stmt, 1));
    out[sqlite3_column_int(stmt, 0)] =
        std::string(v == nullptr ? "" : v, static_cast<size_t>(sqlite3_column_bytes(stmt, 1)));
  }
  sqlite3_finalize(stmt);
  return out;
}

TEST(WalWriteBuffer, ACommitIsOneWriteToTheOperatingSystem) {
  ASSERT_NE(WalWriteBufferVfs(), nullptr);
  storage::testing::TempDir dir("klaxon_walbuf");
  const std::string path = dir.path() + "/db";
  auto writer = OpenDb(path, WalWriteBufferVfs(), false);
  ASSERT_NE(writer, nullptr);
  Put(*writer, 0, "first");  // the WAL header and its first frames

  const WalWriteBufferStats before = GetWalWriteBufferStats();
  ASSERT_TRUE(writer->Exec("BEGIN").ok());
  for (int k = 1; k <= 20; ++k) Put(*writer, k, std::string(3000, static_cast<char>('a' + k % 26)));
  ASSERT_TRUE(writer->Exec("COMMIT").ok());
  const WalWriteBufferStats after = GetWalWriteBufferStats();
  // 20 rows of 3 KB: about 17 pages, each written by SQLite as a header and a page.
  EXPECT_GE(after.writes - before.writes, 30u);
  EXPECT_LE(after.flushes - before.flushes, 2u);

  // Another connection, on the default VFS, sees the commit.
  auto reader = OpenDb(path, nullptr, true);
  ASSERT_NE(reader, nullptr);
  Table got = ReadAll(*reader);
  ASSERT_EQ(got.size(), 21u);
  EXPECT_EQ(got[0], "first");
  EXPECT_EQ(got[20], std::string(3000, static_cast<char>('a' + 20 % 26)));
}

TEST(WalWriteBuffer, ATransactionLargerThanTheBufferIsWrittenWhole) {
  storage::testing::TempDir dir("klaxon_walbuf");
  const std::string path = dir.path() + "/db";
  auto writer = OpenDb(path, WalWriteBufferVfs(), false);
  ASSERT_NE(writer, nullptr);
  const WalWriteBufferStats before = GetWalWriteBufferStats();
  ASSERT_TRUE(writer->Exec("BEGIN").ok());
  for (int k = 0; k < 12; ++k) Put(*writer, k, std::string(500000, static_cast<char>('k' + k)));
  ASSERT_TRUE(writer->Exec("COMMIT").ok());
  const WalWriteBufferStats after = GetWalWriteBufferStats();
  // 6 MB through a 120 KiB buffer: some 50 writes to the OS for some 3,000 from SQLite.
  EXPECT_GE(after.flushes - before.flushes, 48u);
  EXPECT_LT(after.flushes - before.flushes, (after.writes - before.writes) / 20);

  auto reader = OpenDb(path, nullptr, true);
  ASSERT_NE(reader, nullptr);
  Table got = ReadAll(*reader);
  ASSERT_EQ(got.size(), 12u);
  for (int k = 0; k < 12; ++k) EXPECT_EQ(got[k], std::string(500000, static_cast<char>('k' + k)));
}

struct Change {
  int key = 0;
  size_t size = 0;  // 0: delete
};
struct Txn {
  std::vector<Change> changes;
  bool commit = true;
};

// Random transactions through the buffer, committed or rolled back, sometimes spilling pages to
// the WAL before their commit (a tiny page cache), sometimes checkpointed: after each, a reader
// on the default VFS sees exactly the committed rows, and so does the database reopened without
// the buffer at the end.
RC_GTEST_PROP(WalWriteBufferProperty, ReadersSeeExactlyTheCommittedRows, ()) {
  // At most 30 transactions of at most 30 changes: each commit is an fsync.
  const auto txns = *rc::gen::resize(
      30,
      rc::gen::container<std::vector<Txn>>(rc::gen::build<Txn>(
          rc::gen::set(
              &Txn::changes,
              rc::gen::container<std::vector<Change>>(rc::gen::build<Change>(
                  rc::gen::set(&Change::key, rc::gen::inRange(0, 40)),
                  rc::gen::set(&Change::size, rc::gen::weightedElement<size_t>(
                                                  {{2, 0}, {6, 20}, {3, 5000}, {1, 200000}}))))),
          rc::gen::set(&Txn::commit, rc::gen::weightedElement<bool>({{4, true}, {1, false}})))));
  storage::testing::TempDir dir("klaxon_walbuf_prop");
  const std::string path = dir.path() + "/db";
  Table model;
  {
    auto writer = OpenDb(path, WalWriteBufferVfs(), false);
    RC_ASSERT(writer != nullptr);
    RC_ASSERT(writer->Exec("PRAGMA cache_size=-64").ok());  // 64 KiB: big transactions spill
    auto reader = OpenDb(path, nullptr, true);
    RC_ASSERT(reader != nullptr);
    int n = 0;
    for (const Txn& txn : txns) {
      Table next = model;
      RC_ASSERT(writer->Exec("BEGIN").ok());
      for (const Change& c : txn.changes) {
        if (c.size == 0) {
          RC_ASSERT(writer->Exec("DELETE FROM t WHERE k=" + std::to_string(c.key)).ok());
          next.erase(c.key);
        } else {
          std::string v(c.size, static_cast<char>('a' + (c.key + n) % 26));
          Put(*writer, c.key, v);
          next[c.key] = v;
        }
      }
      RC_ASSERT(writer->Exec(txn.commit ? "COMMIT" : "ROLLBACK").ok());
      if (txn.commit) model = std::move(next);
      if (++n % 5 == 0) RC_ASSERT(writer->Exec("PRAGMA wal_checkpoint(PASSIVE)").ok());
      RC_ASSERT(ReadAll(*reader) == model);
    }
  }
  auto reopened = OpenDb(path, nullptr, false);
  RC_ASSERT(reopened != nullptr);
  RC_ASSERT(*reopened->QueryText("PRAGMA integrity_check") == "ok");
  RC_ASSERT(ReadAll(*reopened) == model);
}

}  // namespace
}  // namespace klaxon::storage::internal
