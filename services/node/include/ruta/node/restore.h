// Offline restore of a node's store from an encrypted backup
// (`ruta-node restore`, docs/backup.md). The node must be stopped.
#ifndef RUTA_NODE_RESTORE_H_
#define RUTA_NODE_RESTORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ruta/federation/restore.h"
#include "ruta/node/v1/config.pb.h"

namespace ruta::node {

// A restore leaves the setting federation::kRestorePendingSetting in the
// restored store, its value the backup's file name: at its next start the
// node sees it and recovers what the backup lacks from its peers
// (ruta/federation/restore.h, DESIGN.md section 7).

struct RestoreOptions {
  std::string backup_file;  // the .rbk file; required
  // The backup key file; empty: the configuration's backup.key_file.
  std::string key_file;
  // The PostgreSQL client's pg_restore (looked up in PATH unless a path).
  std::string pg_restore = "pg_restore";
  // Names the moved-aside database (<db>.before-restore-<yyyymmddThhmmssZ>).
  absl::Time now = absl::Now();
};

struct RestoreReport {
  std::string region;
  std::string backend;  // "sqlite" / "postgres"
  int64_t schema_version = 0;
  absl::Time created_at;
  // SQLite: the files the current database was moved to.
  std::vector<std::string> moved_aside;
};

// Restores `options.backup_file` into the store of `config` (a configuration
// that passed LoadConfig):
// 1. decrypts and checks the header: the backup's region must be the
//    configuration's, its backend the configured one, its schema version not
//    newer than this binary's (FAILED_PRECONDITION saying which);
// 2. SQLite: refuses while the database is open by a running node
//    (FAILED_PRECONDITION); writes the database to a temporary file beside
//    the current one, checks `PRAGMA integrity_check`, migrates it to this
//    binary's schema, records the setting restore.pending, moves the current
//    database (and its -wal/-shm) aside as <db>.before-restore-<ts>, and
//    renames the restored one in (then fsyncs the directory);
//    PostgreSQL: checks the whole file first, then feeds it to
//    `pg_restore --clean --if-exists --single-transaction` and records
//    restore.pending through the store (migrating an older schema);
// DATA_LOSS naming the file for a wrong key or a damaged or truncated file:
// then nothing is changed (no temporary file is left).
absl::StatusOr<RestoreReport> RestoreBackup(
    const ruta::node::v1::NodeConfig& config, const RestoreOptions& options);

// `ruta-node restore --config FILE --backup FILE [--key-file FILE]`: argv[0]
// is "restore". Returns the process exit status (0 restored, 1 refused or
// failed, 2 usage).
int RestoreMain(int argc, char** argv);

}  // namespace ruta::node

#endif  // RUTA_NODE_RESTORE_H_
