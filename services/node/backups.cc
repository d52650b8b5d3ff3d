#include "backups.h"

#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ruta/common/status_macros.h"
#include "ruta/node/config.h"
#include "ruta/store/store.h"

namespace ruta::node {

absl::StatusOr<backup::BackupSource> BackupSourceFor(
    const ruta::node::v1::NodeConfig& config) {
  const std::string& database = config.storage().database();
  backup::BackupSource source;
  if (absl::StartsWith(database, kPostgresScheme)) {
    source.backend = backup::BackupBackend::kPostgres;
    source.postgres_conninfo = database.substr(sizeof(kPostgresScheme) - 1);
    const std::string& file = config.storage().password_file();
    if (!file.empty()) {
      std::ifstream in(file);
      std::string line;
      if (!in || !std::getline(in, line)) {
        return absl::FailedPreconditionError(
            absl::StrCat("storage.password_file: cannot read ", file));
      }
      source.postgres_password = std::string(absl::StripAsciiWhitespace(line));
    } else if (const char* env = std::getenv("RUTA_DATABASE_PASSWORD")) {
      source.postgres_password = env;
    }
    return source;
  }
  RUTA_ASSIGN_OR_RETURN(source.sqlite_path, SqlitePath(database));
  return source;
}

int64_t SchemaVersionFor(backup::BackupBackend backend) {
  return backend == backup::BackupBackend::kPostgres
             ? store::PostgresSchemaVersion()
             : store::SqliteSchemaVersion();
}

absl::StatusOr<std::unique_ptr<backup::BackupRunner>> MakeBackupRunner(
    const ruta::node::v1::NodeConfig& config) {
  if (config.backup().directory().empty() ||
      config.backup().key_file().empty()) {
    return nullptr;
  }
  backup::BackupOptions options;
  options.directory = config.backup().directory();
  options.key_file = config.backup().key_file();
  options.region = config.region();
  RUTA_ASSIGN_OR_RETURN(backup::BackupSource source, BackupSourceFor(config));
  options.schema_version = SchemaVersionFor(source.backend);
  return std::make_unique<backup::BackupRunner>(std::move(options),
                                                std::move(source));
}

}  // namespace ruta::node
