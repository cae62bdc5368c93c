#pragma once
// Versioned schema migrations of the SQLite backend.
//
// The schema is an ordered list of migrations, each with a version number (1, 2, 3, ... with no
// gaps), a name and SQL. `schema_migrations(version, name, applied_at)` records the ones applied.
// ApplyMigrations runs, in one IMMEDIATE transaction, every migration newer than the recorded
// version; running it again is a no-op. A database whose recorded version is newer than the newest
// known migration was written by a newer klaxon and is refused (kFailedPrecondition), because this
// binary cannot know what the later migrations changed.
//
// Rule for authors: never edit a released migration; append a new one.

#include <span>
#include <string_view>

#include "absl/status/statusor.h"
#include "storage/sqlite/connection.h"

namespace klaxon::storage::internal {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// Every migration of the klaxon schema, in order.
std::span<const Migration> SchemaMigrations();

// Applies the migrations of `migrations` (ordered, versions 1..n) that `conn` has not applied yet
// and returns the schema version afterwards. `conn` must be read-write and outside a transaction.
absl::StatusOr<int> ApplyMigrations(Connection& conn, std::span<const Migration> migrations);

}  // namespace klaxon::storage::internal
