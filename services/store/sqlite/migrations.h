// Versioned schema migrations of the SQLite store.
//
// The SQL files of services/store/migrations/sqlite/ (NNNN_name.sql) are
// embedded into the binary at build time (sql/embedded_migration.h). On
// open, the pending ones are applied in order inside one transaction, each
// recorded in schema_migrations(version, applied_at_us).
#ifndef RUTA_STORE_SQLITE_MIGRATIONS_H_
#define RUTA_STORE_SQLITE_MIGRATIONS_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "sql/embedded_migration.h"

namespace ruta::store::sqlite_internal {

class Connection;

using sql_internal::EmbeddedMigration;
using sql_internal::SqliteMigrations;

// Applies to `connection` (the writer's, outside any transaction) every
// migration of `migrations` newer than the database's schema version, in one
// transaction. FAILED_PRECONDITION when the database's version is newer than
// the last of `migrations`; nothing is changed on any error.
absl::Status ApplyMigrations(Connection& connection,
                             absl::Span<const EmbeddedMigration> migrations);

}  // namespace ruta::store::sqlite_internal

#endif  // RUTA_STORE_SQLITE_MIGRATIONS_H_
