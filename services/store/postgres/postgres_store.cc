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
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "postgres/connection.h"
#include "ruta/common/status_macros.h"
#include "ruta/store/store.h"
#include "sql/embedded_migration.h"
#include "sql/sql_store.h"

namespace ruta::store {
namespace {

using postgres_internal::PgConnection;
using sql_internal::EmbeddedMigration;
using sql_internal::Statement;

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

absl::Status ApplyInTransaction(
    PgConnection& connection, absl::Span<const EmbeddedMigration> migrations) {
  RUTA_RETURN_IF_ERROR(
      connection.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                      " version BIGINT NOT NULL PRIMARY KEY,"
                      " applied_at_us BIGINT NOT NULL)",
                      "create schema_migrations"));
  int64_t current = 0;
  {
    RUTA_ASSIGN_OR_RETURN(
        Statement select,
        connection.Prepare(
            "SELECT coalesce(max(version), 0) FROM schema_migrations"));
    RUTA_ASSIGN_OR_RETURN(bool row, select.Step());
    if (row) current = select.ColumnInt64(0);
  }
  const int64_t latest = migrations.empty() ? 0 : migrations.back().version;
  if (current > latest) {
    return absl::FailedPreconditionError(
        absl::StrCat("postgres: the database has schema version ", current,
                     ", newer than the latest this binary knows (", latest,
                     "): use a newer ruta-node"));
  }
  int64_t expected = 1;
  for (const EmbeddedMigration& migration : migrations) {
    if (migration.version != expected) {
      return absl::InternalError(absl::StrCat(
          "postgres: embedded migration ", migration.name, " has version ",
          migration.version, ", expected ", expected));
    }
    ++expected;
    if (migration.version <= current) continue;
    RUTA_RETURN_IF_ERROR(connection.Exec(
        migration.sql, absl::StrCat("apply migration ", migration.name)));
    RUTA_ASSIGN_OR_RETURN(
        Statement record,
        connection.Prepare("INSERT INTO schema_migrations (version, "
                           "applied_at_us) VALUES (?1, ?2)"));
    record.Bind(1, migration.version);
    record.Bind(2, absl::ToUnixMicros(absl::Now()));
    RUTA_RETURN_IF_ERROR(record.Run());
  }
  return absl::OkStatus();
}

// Applies the pending migrations in one transaction. Replicas starting at
// once serialize on a session advisory lock (so only the first migrates) and
// the transaction also takes the writers' lock, so that no writer of an
// older replica interleaves with a migration.
absl::Status ApplyMigrations(PgConnection& connection,
                             absl::Span<const EmbeddedMigration> migrations) {
  RUTA_RETURN_IF_ERROR(
      connection.Exec(absl::StrCat("SELECT pg_advisory_lock(",
                                   postgres_internal::kMigrationLockKey, ")"),
                      "take the migration lock"));
  absl::Status status = connection.BeginWrite();
  if (status.ok()) status = ApplyInTransaction(connection, migrations);
  if (status.ok()) status = connection.Run("COMMIT");
  if (!status.ok() && connection.InTransaction()) {
    // Nothing of a failed migration is kept.
    connection.Run("ROLLBACK").IgnoreError();
  }
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
