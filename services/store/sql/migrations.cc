#include "sql/migrations.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ruta/common/status_macros.h"

namespace ruta::store::sql_internal {
namespace {

absl::Status ApplyInTransaction(Connection& connection,
                                absl::Span<const EmbeddedMigration> migrations,
                                const std::string& create_table,
                                absl::string_view database) {
  RUTA_RETURN_IF_ERROR(connection.Run(create_table));

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
    return absl::FailedPreconditionError(absl::StrCat(
        connection.backend(), ": ", database, " has schema version ", current,
        ", newer than the latest this binary knows (", latest,
        "): use a newer ruta-node"));
  }

  int64_t expected = 1;
  for (const EmbeddedMigration& migration : migrations) {
    if (migration.version != expected) {
      return absl::InternalError(absl::StrCat(
          connection.backend(), ": embedded migration ", migration.name,
          " has version ", migration.version, ", expected ", expected));
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

}  // namespace

absl::Status ApplyMigrations(Connection& connection,
                             absl::Span<const EmbeddedMigration> migrations,
                             const std::string& create_table,
                             absl::string_view database) {
  absl::Status status = connection.BeginWrite();
  if (status.ok()) {
    status = ApplyInTransaction(connection, migrations, create_table, database);
  }
  if (status.ok()) status = connection.Run("COMMIT");
  if (!status.ok() && connection.InTransaction()) {
    // Nothing of a failed migration is kept.
    connection.Run("ROLLBACK").IgnoreError();
  }
  return status;
}

}  // namespace ruta::store::sql_internal
