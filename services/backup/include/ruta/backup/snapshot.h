// Copying a store's database out (for a backup) and back in (restore),
// streamed: the bytes go to or come from a ByteSink, never through a
// plaintext file of our own unless said below.
#ifndef RUTA_BACKUP_SNAPSHOT_H_
#define RUTA_BACKUP_SNAPSHOT_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "ruta/backup/backup_file.h"

namespace ruta::backup {

// Copies one consistent snapshot of the SQLite database at `path` (used by a
// running node, WAL mode) with the online backup API from a connection of
// its own, and passes the database image to `sink`. Up to
// `max_in_memory_bytes` (database plus WAL size) the copy is an in-memory
// database; beyond, a file in a fresh 0700 directory under `spill_dir`,
// removed before returning. NOT_FOUND when the database is missing;
// INTERNAL naming SQLite's reason; the sink's error as it returned it.
absl::Status SnapshotSqlite(const std::string& path,
                            int64_t max_in_memory_bytes,
                            const std::string& spill_dir, const ByteSink& sink);

// Runs `pg_dump --format=custom --no-password --dbname=<conninfo>` (no shell;
// `password`, when not empty, in the child's PGPASSWORD only) and passes its
// output to `sink` as it comes. INTERNAL with pg_dump's exit status and the
// last lines of its stderr when it fails; FAILED_PRECONDITION when it cannot
// be started. On a sink error pg_dump is killed.
absl::Status DumpPostgres(const std::string& pg_dump,
                          const std::string& conninfo,
                          const std::string& password, const ByteSink& sink);

// Runs `pg_restore --clean --if-exists --single-transaction --no-owner
// --exit-on-error --dbname=<conninfo>` and feeds it the archive: `produce`
// is called with a sink writing to pg_restore's stdin. INTERNAL with
// pg_restore's exit status and stderr when it fails (its single transaction
// is then rolled back); `produce`'s error (pg_restore killed) otherwise.
absl::Status RestorePostgres(
    const std::string& pg_restore, const std::string& conninfo,
    const std::string& password,
    const std::function<absl::Status(const ByteSink&)>& produce);

}  // namespace ruta::backup

#endif  // RUTA_BACKUP_SNAPSHOT_H_
