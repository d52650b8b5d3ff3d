// The PostgreSQL implementation of ruta::store::Store: opens the connections
// and migrates; the group-committing writer and the readers are
// sql/sql_store.cc's, the transaction code sql/*_txn.cc's. See ../README.md.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "postgres/connection.h"
#include "ruta/common/status_macros.h"
#include "ruta/store/store.h"
#include "sql/embedded_migration.h"
#include "sql/migrations.h"
#include "sql/sql_store.h"

namespace ruta::store {
namespace {

using postgres_internal::PgConnection;
using sql_internal::EmbeddedMigration;

absl::Status ValidateOptions(const PostgresOptions& options) {
  if (options.reader_connections < 1) {
    return absl::InvalidArgumentError(
        "postgres: reader_connections must be >= 1");
  }
  if (options.max_group_size < 1) {
    return absl::InvalidArgumentError("postgres: max_group_size must be >= 1");
  }
  return absl::OkStatus();
}

// Applies the pending migrations (sql/migrations.h) in one transaction.
// Replicas starting at once serialize on a session advisory lock (so only
// the first migrates); the transaction also takes the writers' lock
// (BeginWrite), so that no writer of an older replica interleaves with a
// migration.
absl::Status ApplyMigrations(PgConnection& connection,
                             absl::Span<const EmbeddedMigration> migrations) {
  RUTA_RETURN_IF_ERROR(
      connection.Exec(absl::StrCat("SELECT pg_advisory_lock(",
                                   postgres_internal::kMigrationLockKey, ")"),
                      "take the migration lock"));
  absl::Status status = sql_internal::ApplyMigrations(
      connection, migrations,
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version BIGINT NOT NULL PRIMARY KEY,"
      " applied_at_us BIGINT NOT NULL)",
      connection.description());
  // Ends with the session too, should the connection be gone.
  connection
      .Exec(absl::StrCat("SELECT pg_advisory_unlock(",
                         postgres_internal::kMigrationLockKey, ")"),
            "release the migration lock")
      .IgnoreError();
  return status;
}

}  // namespace

int64_t PostgresSchemaVersion() {
  auto migrations = sql_internal::PostgresMigrations();
  return migrations.empty() ? 0 : migrations.back().version;
}

absl::StatusOr<std::unique_ptr<Store>> OpenPostgresStore(
    const PostgresOptions& options) {
  RUTA_RETURN_IF_ERROR(ValidateOptions(options));
  RUTA_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> writer,
                        PgConnection::Open(options));
  RUTA_RETURN_IF_ERROR(
      ApplyMigrations(*writer, sql_internal::PostgresMigrations()));
  std::vector<std::unique_ptr<sql_internal::Connection>> readers;
  for (int i = 0; i < options.reader_connections; ++i) {
    RUTA_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> reader,
                          PgConnection::Open(options));
    readers.push_back(std::move(reader));
  }
  return sql_internal::MakeSqlStore(options.max_group_size, std::move(writer),
                                    std::move(readers));
}

}  // namespace ruta::store
