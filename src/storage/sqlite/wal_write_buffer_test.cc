#include "storage/sqlite/wal_write_buffer.h"

#include <errno.h>
#include <sqlite3.h>
#include <sys/types.h>

#include <filesystem>
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
  ASSERT_EQ(sqlite3_prepare_v2(c.db(), "INSERT OR REPLACE INTO t(k, v) VALUES(?1, ?2)", -1, &stmt,
                               nullptr),
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

// A disk that is full for WAL writes of more than one page while `failures_left` > 0 (counting
// down): the default VFS's write system calls, replaced through its xSetSystemCall, fail with
// ENOSPC there, which it reports as SQLITE_FULL. Restored when destroyed.
class FullDiskForWal {
 public:
  static inline int failures_left = 0;

  FullDiskForWal() : unix_(sqlite3_vfs_find("unix")) {
    EXPECT_NE(unix_, nullptr);
    real_write_ = reinterpret_cast<WriteFn>(unix_->xGetSystemCall(unix_, "write"));
    real_pwrite_ = reinterpret_cast<PwriteFn>(unix_->xGetSystemCall(unix_, "pwrite"));
    real_pwrite64_ = reinterpret_cast<PwriteFn>(unix_->xGetSystemCall(unix_, "pwrite64"));
    // SQLite uses one of them, chosen when it was built; each present one is replaced.
    Replace("write", real_write_, &Write);
    Replace("pwrite", real_pwrite_, &Pwrite);
    Replace("pwrite64", real_pwrite64_, &Pwrite64);
  }
  ~FullDiskForWal() { unix_->xSetSystemCall(unix_, nullptr, nullptr); }  // all back to default
  FullDiskForWal(const FullDiskForWal&) = delete;
  FullDiskForWal& operator=(const FullDiskForWal&) = delete;

 private:
  using WriteFn = ssize_t (*)(int, const void*, size_t);
  using PwriteFn = ssize_t (*)(int, const void*, size_t, off_t);

  template <typename Fn>
  void Replace(const char* name, Fn real, Fn fake) {
    if (real == nullptr) return;
    EXPECT_EQ(unix_->xSetSystemCall(unix_, name, reinterpret_cast<sqlite3_syscall_ptr>(fake)),
              SQLITE_OK);
  }
  // Consumes one failure if this write should fail.
  static bool Fails(int fd, size_t n) {
    if (n <= 5000 || failures_left <= 0) return false;
    std::error_code ec;
    const std::string file =
        std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(fd), ec).string();
    if (ec || file.size() < 4 || file.compare(file.size() - 4, 4, "-wal") != 0) return false;
    --failures_left;
    errno = ENOSPC;
    return true;
  }
  static ssize_t Write(int fd, const void* data, size_t n) {
    return Fails(fd, n) ? -1 : real_write_(fd, data, n);
  }
  static ssize_t Pwrite(int fd, const void* data, size_t n, off_t offset) {
    return Fails(fd, n) ? -1 : real_pwrite_(fd, data, n, offset);
  }
  static ssize_t Pwrite64(int fd, const void* data, size_t n, off_t offset) {
    return Fails(fd, n) ? -1 : real_pwrite64_(fd, data, n, offset);
  }

  sqlite3_vfs* unix_;
  static inline WriteFn real_write_ = nullptr;
  static inline PwriteFn real_pwrite_ = nullptr;
  static inline PwriteFn real_pwrite64_ = nullptr;
};

int Count(Connection& c) {
  auto n = c.QueryText("SELECT count(*) FROM t");
  return n.ok() ? std::stoi(*n) : -1;
}

// A transaction spills pages to the WAL (a 5-page cache), which stay in the buffer; a later
// statement of the same transaction reads one back, and writing them fails (disk full). The
// failure must end the whole transaction, never only that statement: else COMMIT would publish
// frames that never reached the file. Then the database must be exactly as before the transaction,
// for a reader, the writer, and a process that recovers the WAL after a crash.
TEST(WalWriteBuffer, AFailedWriteOfBufferedFramesFailsTheirTransaction) {
  for (int failures : {1, 1000}) {
    SCOPED_TRACE(failures);
    storage::testing::TempDir dir("klaxon_walbuf_fault");
    const std::string path = dir.path() + "/db";
    FullDiskForWal full_disk;
    auto writer = OpenDb(path, WalWriteBufferVfs(), false);
    ASSERT_NE(writer, nullptr);
    ASSERT_TRUE(writer
                    ->Exec("ALTER TABLE t ADD COLUMN u TEXT; CREATE UNIQUE INDEX tu ON t(u);"
                           "PRAGMA cache_size=5")
                    .ok());
    Put(*writer, 1000000, "before");
    ASSERT_TRUE(writer->Exec("BEGIN IMMEDIATE; SAVEPOINT a").ok());
    for (int k = 0; k < 40; ++k) {
      ASSERT_TRUE(writer
                      ->Exec("INSERT INTO t VALUES(" + std::to_string(k) + ", randomblob(600), 'a" +
                             std::to_string(k) + "')")
                      .ok());
    }
    ASSERT_TRUE(writer->Exec("RELEASE a; SAVEPOINT b").ok());
    FullDiskForWal::failures_left = failures;
    EXPECT_FALSE(writer->Exec("INSERT INTO t SELECT k + 1000, v, u || 'b' FROM t").ok());
    EXPECT_LT(FullDiskForWal::failures_left, failures);  // the disk was full for a WAL write
    if (writer->InTransaction()) {
      // Only what the rules allow: the statement failed, so the transaction must not commit.
      (void)writer->Exec("ROLLBACK TO b; RELEASE b");
      EXPECT_FALSE(writer->Exec("COMMIT").ok());
      (void)writer->Exec("ROLLBACK");
    }
    FullDiskForWal::failures_left = 0;
    EXPECT_EQ(Count(*writer), 1);
    auto reader = OpenDb(path, nullptr, true);
    ASSERT_NE(reader, nullptr);
    EXPECT_EQ(Count(*reader), 1);
    EXPECT_EQ(*reader->QueryText("PRAGMA integrity_check"), "ok");
    // The writer goes on once the disk has room.
    Put(*writer, 7, "after");
    EXPECT_EQ(Count(*reader), 2);
    // A crash now: a copy of the database and its WAL, recovered by a fresh connection.
    std::filesystem::copy_file(path, path + "-copy");
    std::filesystem::copy_file(path + "-wal", path + "-copy-wal");
    auto recovered = OpenDb(path + "-copy", nullptr, false);
    ASSERT_NE(recovered, nullptr);
    EXPECT_EQ(*recovered->QueryText("PRAGMA integrity_check"), "ok");
    EXPECT_EQ(Count(*recovered), 2);
  }
}

// Without power-safe overwrite SQLite syncs a commit in the middle of its last frame and
// publishes it without syncing the rest: such a WAL must not be buffered.
TEST(WalWriteBuffer, AWalWithoutPowersafeOverwriteIsNotBuffered) {
  storage::testing::TempDir dir("klaxon_walbuf_psow");
  const std::string path = dir.path() + "/db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(("file:" + path + "?psow=0").c_str(), &db,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                            WalWriteBufferVfs()),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                         "CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  const WalWriteBufferStats before = GetWalWriteBufferStats();
  ASSERT_EQ(
      sqlite3_exec(db, "INSERT INTO t VALUES(1, randomblob(3000))", nullptr, nullptr, nullptr),
      SQLITE_OK);
  EXPECT_EQ(GetWalWriteBufferStats().writes, before.writes);
  auto reader = OpenDb(path, nullptr, true);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(Count(*reader), 1);
  EXPECT_EQ(*reader->QueryText("PRAGMA integrity_check"), "ok");
  sqlite3_close(db);
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
