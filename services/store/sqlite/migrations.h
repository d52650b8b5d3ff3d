// Versioned schema migrations of the SQLite store.
//
// The SQL files of services/store/migrations/sqlite/ (NNNN_name.sql) are
// embedded into the binary at build time (cmake/EmbedMigrations.cmake). On
// open, the pending ones are applied in order inside one transaction, each
// recorded in schema_migrations(version, applied_at_us).
#ifndef RUTA_STORE_SQLITE_MIGRATIONS_H_
#define RUTA_STORE_SQLITE_MIGRATIONS_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace ruta::store::sqlite_internal {

class Connection;

struct EmbeddedMigration {
  int64_t version;   // 1, 2, 3, ... in order, no gaps
  const char* name;  // file name, e.g. "0001_initial.sql"
  const char* sql;   // the file's text
};

// Defined in the generated sqlite_migrations.cc (build tree).
extern const EmbeddedMigration kSqliteMigrations[];
extern const std::size_t kSqliteMigrationsCount;

inline absl::Span<const EmbeddedMigration> SqliteMigrations() {
  return absl::MakeConstSpan(kSqliteMigrations, kSqliteMigrationsCount);
}

// Applies to `connection` (the writer's, outside any transaction) every
// migration of `migrations` newer than the database's schema version, in one
// transaction. FAILED_PRECONDITION when the database's version is newer than
// the last of `migrations`; nothing is changed on any error.
absl::Status ApplyMigrations(Connection& connection,
                             absl::Span<const EmbeddedMigration> migrations);

}  // namespace ruta::store::sqlite_internal

#endif  // RUTA_STORE_SQLITE_MIGRATIONS_H_
