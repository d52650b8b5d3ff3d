// A versioned schema migration compiled into the binary.
//
// The SQL files of services/store/migrations/<dialect>/ (NNNN_name.sql) are
// embedded at build time by cmake/EmbedMigrations.cmake, one array per
// dialect. Both dialects have the same versions with the same meaning, so a
// schema version is one number whichever backend holds the data.
#ifndef RUTA_STORE_SQL_EMBEDDED_MIGRATION_H_
#define RUTA_STORE_SQL_EMBEDDED_MIGRATION_H_

#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"

namespace ruta::store::sql_internal {

struct EmbeddedMigration {
  int64_t version;   // 1, 2, 3, ... in order, no gaps
  const char* name;  // file name, e.g. "0001_initial.sql"
  const char* sql;   // the file's text
};

// Defined in the generated sqlite_migrations.cc / postgres_migrations.cc
// (build tree).
extern const EmbeddedMigration kSqliteMigrations[];
extern const std::size_t kSqliteMigrationsCount;
extern const EmbeddedMigration kPostgresMigrations[];
extern const std::size_t kPostgresMigrationsCount;

inline absl::Span<const EmbeddedMigration> SqliteMigrations() {
  return absl::MakeConstSpan(kSqliteMigrations, kSqliteMigrationsCount);
}
inline absl::Span<const EmbeddedMigration> PostgresMigrations() {
  return absl::MakeConstSpan(kPostgresMigrations, kPostgresMigrationsCount);
}

}  // namespace ruta::store::sql_internal

#endif  // RUTA_STORE_SQL_EMBEDDED_MIGRATION_H_
