// The node's side of backups (private to services/node): what the backup of
// this node's store copies, and the runner behind Admin.Backup. Shared by
// node.cc and the offline restore (restore.cc).
#ifndef RUTA_NODE_BACKUPS_H_
#define RUTA_NODE_BACKUPS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ruta/backup/backup.h"
#include "ruta/node/v1/config.pb.h"

namespace ruta::node {

// The prefix of a PostgreSQL storage.database.
inline constexpr char kPostgresScheme[] = "postgres:";

// The database of `config` (storage.database, validated by ParseConfig) as a
// backup source: "sqlite:<path>" or "postgres:<conninfo>" with the password
// from storage.password_file (first line), else the environment variable
// RUTA_DATABASE_PASSWORD, else none. FAILED_PRECONDITION naming the file
// when the password file cannot be read.
absl::StatusOr<backup::BackupSource> BackupSourceFor(
    const ruta::node::v1::NodeConfig& config);

// The store's schema version this binary writes for `backend`.
int64_t SchemaVersionFor(backup::BackupBackend backend);

// The runner of Admin.Backup for `config`; null when the `backup` section is
// not configured (Admin.Backup then answers FAILED_PRECONDITION).
absl::StatusOr<std::unique_ptr<backup::BackupRunner>> MakeBackupRunner(
    const ruta::node::v1::NodeConfig& config);

}  // namespace ruta::node

#endif  // RUTA_NODE_BACKUPS_H_
