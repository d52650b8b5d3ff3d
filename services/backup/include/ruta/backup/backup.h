// Online, consistent, encrypted backups of a ruta node's store
// (DESIGN.md section 7, issue 8), without gRPC types.
//
// A backup is taken while the node serves:
// * SQLite: the online backup API (sqlite3_backup_step(-1)) from a connection
//   of its own. The source is in WAL mode, so one step(-1) copies one
//   consistent snapshot (one read transaction) without blocking the node's
//   writer. The copy goes into an in-memory database (SQLite's memdb VFS)
//   whose image is then streamed through the encryptor: no plaintext copy
//   touches the disk. A database larger than `max_in_memory_bytes` is copied
//   instead into a file inside a fresh directory of mode 0700 under the
//   backup directory, streamed, and removed (also on every error path).
// * PostgreSQL: `pg_dump --format=custom` run as a subprocess (no shell; the
//   password only in the child's PGPASSWORD), its output streamed through the
//   encryptor as it comes. pg_dump itself takes a consistent snapshot.
//
// The encrypted file (backup_file.h) is written to a temporary file in the
// backup directory (mode 0600), fsynced, linked to its final name
// `ruta-<region>-<yyyymmddThhmmssZ>[-N].rbk` (never replacing a file), and
// the directory fsynced: a crash leaves either no backup or a complete one
// (and at most a `.ruta-backup-*` temporary to delete).
#ifndef RUTA_BACKUP_BACKUP_H_
#define RUTA_BACKUP_BACKUP_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ruta/backup/backup_file.h"

namespace ruta::backup {

// The database to copy.
struct BackupSource {
  BackupBackend backend = BackupBackend::kSqlite;
  // SQLite: the database file the node uses.
  std::string sqlite_path;
  // SQLite: databases up to this size (main file plus WAL) are copied in
  // memory; larger ones through a 0700 temporary directory. Default 1 GiB
  // (SQLite's memdb limit).
  int64_t max_in_memory_bytes = int64_t{1} << 30;
  // PostgreSQL: the libpq connection string (without password).
  std::string postgres_conninfo;
  // PostgreSQL: the password, given to pg_dump as PGPASSWORD in its own
  // environment only; empty: none set (libpq's own means).
  std::string postgres_password;
  // PostgreSQL: the pg_dump program (looked up in PATH unless a path).
  std::string pg_dump = "pg_dump";
};

struct BackupOptions {
  // Directory for backup files: must exist, be a directory writable by the
  // node and have no permission for others (FAILED_PRECONDITION otherwise).
  std::string directory;
  // The key file (BackupKey::LoadFromFile).
  std::string key_file;
  std::string region;          // the node's region slug; required
  int64_t schema_version = 0;  // the store's schema version; recorded
};

// What a finished backup is.
struct BackupResult {
  std::string file_name;      // in the backup directory
  std::string path;           // directory + "/" + file_name
  int64_t size_bytes = 0;     // of the encrypted file
  std::string sha256;         // of the encrypted file, 32 raw bytes
  int64_t payload_bytes = 0;  // plaintext copied (database image / archive)
  BackupHeader header;
};

// Makes one backup now, blocking until it is written (seconds to minutes:
// never call it on a gRPC or store thread). `now` names the file and is the
// header's created_at. FAILED_PRECONDITION naming the setting for a missing
// or unusable directory or key file (INVALID_ARGUMENT for a malformed key);
// INTERNAL naming SQLite's or pg_dump's reason when the copy fails (pg_dump's
// stderr, last lines). On error nothing is left in the directory.
absl::StatusOr<BackupResult> CreateBackup(const BackupOptions& options,
                                          const BackupSource& source,
                                          absl::Time now);

// The backup file name for `region` at `now` (UTC, whole seconds).
std::string BackupFileName(const std::string& region, absl::Time now);

// Runs backups one at a time on a thread of their own, for Admin.Backup:
// never blocks its caller.
//
// Idempotent: a request (caller, request_id) that already succeeded gets the
// same result again (the last 256 successes are remembered, in memory: a
// retry after a node restart makes a new backup); a retry while that same
// request is still running waits for it. Another request while one runs gets
// RESOURCE_EXHAUSTED. A failed request is not remembered (a retry tries
// again).
class BackupRunner final {
 public:
  using Done = std::function<void(absl::StatusOr<BackupResult>)>;
  // Makes the backup; CreateBackup with the options below by default (tests
  // inject a slower or failing one).
  using Maker = std::function<absl::StatusOr<BackupResult>(absl::Time now)>;

  BackupRunner(BackupOptions options, BackupSource source);
  explicit BackupRunner(Maker maker);
  // Waits for the running backup, if any (its callbacks are called).
  ~BackupRunner();
  BackupRunner(const BackupRunner&) = delete;
  BackupRunner& operator=(const BackupRunner&) = delete;

  // Starts (or joins) the backup of (caller, request_id); `done` runs on the
  // runner's thread when it ends, or at once (on the calling thread) with a
  // remembered result or RESOURCE_EXHAUSTED. `done` must not block.
  void Run(const std::string& caller, const std::string& request_id, Done done);

 private:
  void Work(std::string key);

  const Maker maker_;
  absl::Mutex mu_;
  std::string running_key_ ABSL_GUARDED_BY(mu_);  // empty when idle
  absl::Time running_since_ ABSL_GUARDED_BY(mu_);
  std::vector<Done> waiters_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, BackupResult> done_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> done_order_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // the last (or running) backup; joined before reuse
};

}  // namespace ruta::backup

#endif  // RUTA_BACKUP_BACKUP_H_
