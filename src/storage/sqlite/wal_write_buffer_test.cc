#include "storage/sqlite/wal_write_buffer.h"

#include <sqlite3.h>

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

// A VFS over "unix" that fails WAL writes of more than one page with SQLITE_FULL (a disk that is
// full) while `failures_left` > 0, counting down.
struct FaultVfs {
  static inline int failures_left = 0;

  struct File {
    sqlite3_file base;
    sqlite3_file* real;
    bool wal;
  };
  static constexpr size_t kRealOffset = 32;
  static_assert(sizeof(File) <= kRealOffset);

  static File* As(sqlite3_file* f) { return reinterpret_cast<File*>(f); }
  static const sqlite3_io_methods* M(sqlite3_file* f) { return As(f)->real->pMethods; }
  static sqlite3_file* R(sqlite3_file* f) { return As(f)->real; }

  static int Write(sqlite3_file* f, const void* data, int n, sqlite3_int64 offset) {
    if (As(f)->wal && n > 5000 && failures_left > 0) {
      --failures_left;
      return SQLITE_FULL;
    }
    return M(f)->xWrite(R(f), data, n, offset);
  }
  static int Close(sqlite3_file* f) { return M(f)->xClose(R(f)); }
  static int Read(sqlite3_file* f, void* out, int n, sqlite3_int64 offset) {
    return M(f)->xRead(R(f), out, n, offset);
  }
  static int Truncate(sqlite3_file* f, sqlite3_int64 size) { return M(f)->xTruncate(R(f), size); }
  static int Sync(sqlite3_file* f, int flags) { return M(f)->xSync(R(f), flags); }
  static int FileSize(sqlite3_file* f, sqlite3_int64* size) { return M(f)->xFileSize(R(f), size); }
  static int Lock(sqlite3_file* f, int level) { return M(f)->xLock(R(f), level); }
  static int Unlock(sqlite3_file* f, int level) { return M(f)->xUnlock(R(f), level); }
  static int CheckReservedLock(sqlite3_file* f, int* out) {
    return M(f)->xCheckReservedLock(R(f), out);
  }
  static int FileControl(sqlite3_file* f, int op, void* arg) {
    return M(f)->xFileControl(R(f), op, arg);
  }
  static int SectorSize(sqlite3_file* f) { return M(f)->xSectorSize(R(f)); }
  static int DeviceCharacteristics(sqlite3_file* f) { return M(f)->xDeviceCharacteristics(R(f)); }
  static int ShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
    return M(f)->xShmMap(R(f), page, size, extend, out);
  }
  static int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
    return M(f)->xShmLock(R(f), offset, n, flags);
  }
  static void ShmBarrier(sqlite3_file* f) { M(f)->xShmBarrier(R(f)); }
  static int ShmUnmap(sqlite3_file* f, int del) { return M(f)->xShmUnmap(R(f), del); }
  static int Fetch(sqlite3_file* f, sqlite3_int64 offset, int n, void** out) {
    return M(f)->xFetch(R(f), offset, n, out);
  }
  static int Unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
    return M(f)->xUnfetch(R(f), offset, p);
  }
  static constexpr sqlite3_io_methods kMethods = {
      3,
      Close,
      Read,
      Write,
      Truncate,
      Sync,
      FileSize,
      Lock,
      Unlock,
      CheckReservedLock,
      FileControl,
      SectorSize,
      DeviceCharacteristics,
      ShmMap,
      ShmLock,
      ShmBarrier,
      ShmUnmap,
      Fetch,
      Unfetch,
  };

  static int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags,
                  int* out_flags) {
    auto* unix = static_cast<sqlite3_vfs*>(vfs->pAppData);
    File* f = As(file);
    f->base.pMethods = nullptr;
    f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kRealOffset);
    f->wal = (flags & SQLITE_OPEN_WAL) != 0;
    int rc = unix->xOpen(unix, name, f->real, flags, out_flags);
    if (rc == SQLITE_OK) f->base.pMethods = &kMethods;
    return rc;
  }

  // Registers "klaxon-fault" and the write buffer over it, "klaxon-wal-buffer-over-fault".
  static const char* BufferOverFault() {
    static const char* const name = [] {
      static sqlite3_vfs vfs = *sqlite3_vfs_find("unix");
      vfs.zName = "klaxon-fault";
      vfs.pAppData = sqlite3_vfs_find("unix");
      vfs.szOsFile = static_cast<int>(kRealOffset) + vfs.szOsFile;
      vfs.xOpen = Open;
      vfs.pNext = nullptr;
      EXPECT_EQ(sqlite3_vfs_register(&vfs, 0), SQLITE_OK);
      return RegisterWalWriteBufferVfsOver("klaxon-fault", "klaxon-wal-buffer-over-fault");
    }();
    return name;
  }
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
    auto writer = OpenDb(path, FaultVfs::BufferOverFault(), false);
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
    FaultVfs::failures_left = failures;
    EXPECT_FALSE(writer->Exec("INSERT INTO t SELECT k + 1000, v, u || 'b' FROM t").ok());
    if (writer->InTransaction()) {
      // Only what the rules allow: the statement failed, so the transaction must not commit.
      (void)writer->Exec("ROLLBACK TO b; RELEASE b");
      EXPECT_FALSE(writer->Exec("COMMIT").ok());
      (void)writer->Exec("ROLLBACK");
    }
    FaultVfs::failures_left = 0;
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
