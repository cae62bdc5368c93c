#include "storage/sqlite/migrations.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace klaxon::storage::internal {
namespace {

constexpr Migration kMigrations[] = {
    {1, "kv",
     // Every record of every table: (table, account, id) -> value. The primary key is the only
     // index; every read is a point lookup or a range scan on a prefix of it.
     "CREATE TABLE kv ("
     "  tbl TEXT NOT NULL,"
     "  account TEXT NOT NULL,"
     "  id TEXT NOT NULL,"
     "  value BLOB NOT NULL,"
     "  PRIMARY KEY (tbl, account, id)"
     ") WITHOUT ROWID"},
};

}  // namespace

std::span<const Migration> SchemaMigrations() { return kMigrations; }

absl::StatusOr<int> ApplyMigrations(Connection& conn, std::span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return absl::InternalError(absl::StrCat("sqlite: migration #", i, " has version ",
                                              migrations[i].version, ", want ", i + 1));
    }
  }
  int newest = static_cast<int>(migrations.size());
  // IMMEDIATE takes the write lock first, so two processes opening one new database cannot both
  // apply the same migration.
  if (absl::Status s = conn.Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  auto body = [&]() -> absl::StatusOr<int> {
    if (absl::Status s = conn.Exec(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "  version INTEGER PRIMARY KEY,"
            "  name TEXT NOT NULL,"
            "  applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))");
        !s.ok()) {
      return s;
    }
    auto current_text = conn.QueryText("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (!current_text.ok()) return current_text.status();
    int current = std::stoi(current_text->empty() ? "0" : *current_text);
    if (current > newest) {
      return absl::FailedPreconditionError(absl::StrCat(
          "sqlite: the database has schema version ", current, " but this klaxon knows only up to ",
          newest, "; it was written by a newer klaxon"));
    }
    for (int v = current + 1; v <= newest; ++v) {
      const Migration& m = migrations[v - 1];
      if (absl::Status s = conn.Exec(std::string(m.sql)); !s.ok()) {
        return absl::Status(
            s.code(), absl::StrCat("migration ", v, " (", std::string(m.name), "): ", s.message()));
      }
      if (absl::Status s =
              conn.Exec(absl::StrCat("INSERT INTO schema_migrations(version, name) VALUES (", v,
                                     ", '", std::string(m.name), "')"));
          !s.ok()) {
        return s;
      }
    }
    return newest;
  };
  absl::StatusOr<int> result = body();
  if (result.ok()) {
    if (absl::Status s = conn.Exec("COMMIT"); !s.ok()) result = s;
  }
  if (!result.ok() && conn.InTransaction()) (void)conn.Exec("ROLLBACK");
  return result;
}

}  // namespace klaxon::storage::internal
