// Versioned schema migrations, one runner for both backends.
//
// The SQL files of services/store/migrations/<dialect>/ (NNNN_name.sql) are
// embedded into the binary at build time (sql/embedded_migration.h). On
// open, the pending ones are applied in order inside one transaction, each
// recorded in schema_migrations(version, applied_at_us).
#ifndef RUTA_STORE_SQL_MIGRATIONS_H_
#define RUTA_STORE_SQL_MIGRATIONS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "sql/connection.h"
#include "sql/embedded_migration.h"

namespace ruta::store::sql_internal {

// Applies to `connection` (the writer's, outside any transaction) every
// migration of `migrations` newer than the database's schema version, in one
// write transaction (Connection::BeginWrite: the backend's write lock, so
// that two processes opening one database cannot both migrate).
// `create_table` creates schema_migrations if it does not exist (in the
// backend's dialect); `database` names the database in messages.
// FAILED_PRECONDITION when the database's version is newer than the last of
// `migrations`; nothing is changed on any error.
absl::Status ApplyMigrations(Connection& connection,
                             absl::Span<const EmbeddedMigration> migrations,
                             const std::string& create_table,
                             absl::string_view database);

}  // namespace ruta::store::sql_internal

#endif  // RUTA_STORE_SQL_MIGRATIONS_H_
