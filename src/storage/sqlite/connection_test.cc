#include "storage/sqlite/connection.h"

#include <stdlib.h>

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sqlite/migrations.h"

namespace klaxon::storage::internal {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

TEST(PrefixUpperBound, IncrementsTheLastByteBelowFF) {
  EXPECT_EQ(PrefixUpperBound(""), std::nullopt);
  EXPECT_THAT(PrefixUpperBound("a"), Optional(std::string("b")));
  EXPECT_THAT(PrefixUpperBound("inc/"), Optional(std::string("inc0")));
  EXPECT_THAT(PrefixUpperBound("a\xff"), Optional(std::string("b")));
  EXPECT_THAT(PrefixUpperBound("a\xfe\xff\xff"), Optional(std::string("a\xff")));
  EXPECT_THAT(PrefixUpperBound(std::string("\0", 1)), Optional(std::string("\x01")));
  EXPECT_EQ(PrefixUpperBound("\xff\xff"), std::nullopt);
}

TEST(SqliteError, MapsTransientCodesToUnavailable) {
  EXPECT_EQ(SqliteError(SQLITE_BUSY, "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(SqliteError(SQLITE_IOERR_FSYNC, "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(SqliteError(SQLITE_FULL, "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(SqliteError(SQLITE_CORRUPT, "x").code(), absl::StatusCode::kInternal);
  EXPECT_EQ(SqliteError(SQLITE_TOOBIG, "x").code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(SqliteError(SQLITE_CORRUPT, "put").message()),
              HasSubstr("sqlite: put: database disk image is malformed"));
}

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "klaxon_conn_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto conn = Connection::Open(dir_ + "/test.db", false, absl::Seconds(1));
    ASSERT_TRUE(conn.ok()) << conn.status();
    conn_ = std::move(*conn);
  }
  void TearDown() override {
    conn_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string dir_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(ConnectionTest, MigrationsAreIdempotent) {
  EXPECT_EQ(*ApplyMigrations(*conn_, SchemaMigrations()), 1);
  EXPECT_EQ(*ApplyMigrations(*conn_, SchemaMigrations()), 1);
  EXPECT_EQ(*conn_->QueryText("SELECT COUNT(*) FROM schema_migrations"), "1");
  EXPECT_EQ(*conn_->QueryText("SELECT name FROM schema_migrations WHERE version = 1"), "kv");
}

TEST_F(ConnectionTest, LaterMigrationsApplyInOrderOnce) {
  ASSERT_EQ(*ApplyMigrations(*conn_, SchemaMigrations()), 1);
  const Migration more[] = {SchemaMigrations()[0],
                            {2, "t2", "CREATE TABLE t2(x)"},
                            {3, "t2_row", "INSERT INTO t2 VALUES (42)"}};
  EXPECT_EQ(*ApplyMigrations(*conn_, more), 3);
  EXPECT_EQ(*ApplyMigrations(*conn_, more), 3);
  EXPECT_EQ(*conn_->QueryText("SELECT COUNT(*) FROM t2"), "1");
  // Back to a binary that knows only version 1: refused.
  EXPECT_EQ(ApplyMigrations(*conn_, SchemaMigrations()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(ConnectionTest, FailingMigrationRollsBackEntirely) {
  const Migration bad[] = {SchemaMigrations()[0], {2, "broken", "CREATE TABLE ok(x); NONSENSE"}};
  auto result = ApplyMigrations(*conn_, bad);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("migration 2 (broken)"));
  EXPECT_FALSE(conn_->InTransaction());
  // Not even migration 1 was recorded: the whole run is one transaction.
  EXPECT_EQ(*conn_->QueryText("SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('kv', 'ok')"),
            "0");
}

TEST_F(ConnectionTest, BackendErrorIsRememberedByTheTxn) {
  ASSERT_TRUE(ApplyMigrations(*conn_, SchemaMigrations()).ok());
  sqlite3_limit(conn_->db(), SQLITE_LIMIT_LENGTH, 100);
  SqliteTxn txn(*conn_);
  absl::Status status = txn.Put("t", "a", "x", std::string(200, 'v'));
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(status.message()), HasSubstr("too big"));
  EXPECT_TRUE(txn.Put("t", "a", "y", "small").ok());
  EXPECT_EQ(txn.error(), status);  // the first error sticks
}

TEST_F(ConnectionTest, ReadOnlyConnectionRefusesWrites) {
  ASSERT_TRUE(ApplyMigrations(*conn_, SchemaMigrations()).ok());
  auto ro = Connection::Open(dir_ + "/test.db", true, absl::Seconds(1));
  ASSERT_TRUE(ro.ok());
  SqliteTxn txn(**ro);
  EXPECT_EQ(txn.Put("t", "a", "x", "v").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(txn.Delete("t", "a", "x").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(*txn.Get("t", "a", "x"), std::nullopt);
}

TEST(ConnectionOpen, MissingDirectoryIsUnavailable) {
  auto conn = Connection::Open("/nonexistent/dir/x.db", false, absl::Seconds(1));
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace klaxon::storage::internal
