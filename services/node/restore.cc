#include "ruta/node/restore.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backups.h"
#include "ruta/backup/backup_file.h"
#include "ruta/backup/snapshot.h"
#include "ruta/common/status_macros.h"
#include "ruta/store/store.h"

namespace ruta::node {
namespace {

namespace fs = std::filesystem;

absl::Status Errno(const std::string& what, int err) {
  return absl::FailedPreconditionError(
      absl::StrCat(what, ": ", std::strerror(err)));
}

absl::Status FsyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno(absl::StrCat("cannot open ", dir), errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  return rc == 0 ? absl::OkStatus()
                 : Errno(absl::StrCat("cannot fsync ", dir), err);
}

// The restored database before it is renamed in: removed (with any -wal,
// -shm, -journal) unless Keep().
class TempDatabase final {
 public:
  static absl::StatusOr<std::unique_ptr<TempDatabase>> Create(
      const std::string& db_path) {
    std::string pattern = absl::StrCat(db_path, ".restore-XXXXXX");
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    const int fd = ::mkstemp(buf.data());
    if (fd < 0) {
      return Errno(absl::StrCat("cannot create a file beside ", db_path),
                   errno);
    }
    ::fchmod(fd, 0600);
    return std::unique_ptr<TempDatabase>(new TempDatabase(fd, buf.data()));
  }
  ~TempDatabase() {
    if (fd_ >= 0) ::close(fd_);
    if (!kept_) {
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        ::unlink(absl::StrCat(path_, suffix).c_str());
      }
    }
  }
  absl::Status Write(absl::string_view bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t w = ::write(fd_, bytes.data() + done, bytes.size() - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Errno(absl::StrCat("cannot write ", path_), errno);
      done += static_cast<size_t>(w);
    }
    return absl::OkStatus();
  }
  absl::Status Close() {
    const int rc = ::fsync(fd_);
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    return rc == 0 ? absl::OkStatus()
                   : Errno(absl::StrCat("cannot fsync ", path_), err);
  }
  void Keep() { kept_ = true; }
  const std::string& path() const { return path_; }

 private:
  TempDatabase(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
  bool kept_ = false;
};

// FAILED_PRECONDITION while another process (a running node) has the
// database open: its WAL connections keep a shared lock on the file.
absl::Status CheckNotInUse(const std::string& db_path) {
  if (!fs::exists(db_path)) return absl::OkStatus();
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_exec(db,
                      "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; "
                      "COMMIT;",
                      nullptr, nullptr, nullptr);
  }
  const std::string message =
      db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  sqlite3_close_v2(db);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the database ", db_path,
        " is in use (is ruta-node running?): stop the node before restoring"));
  }
  if (rc != SQLITE_OK) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot open the current database ", db_path, ": ", message));
  }
  return absl::OkStatus();
}

absl::Status IntegrityCheck(const std::string& path,
                            const std::string& backup_file) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  std::string result;
  if (rc == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr);
    if (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
      result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close_v2(db);
  if (result != "ok") {
    return absl::DataLossError(absl::StrCat(
        backup_file, ": the database it holds fails SQLite's integrity check",
        result.empty() ? "" : ": ", result));
  }
  return absl::OkStatus();
}

absl::Status RecordPendingSqlite(const std::string& path,
                                 const std::string& backup_name) {
  store::SqliteOptions options;
  options.path = path;
  options.reader_threads = 1;
  RUTA_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store,
                        store::OpenSqliteStore(options));
  return store->WriteSync([&backup_name](store::WriteTxn& txn) {
    return txn.PutSetting(federation::kRestorePendingSetting, backup_name);
  });
}

absl::StatusOr<std::vector<std::string>> SwapIn(const std::string& db_path,
                                                TempDatabase& restored,
                                                absl::Time now) {
  const std::string aside = absl::StrCat(
      db_path, ".before-restore-",
      absl::FormatTime("%Y%m%dT%H%M%SZ", now, absl::UTCTimeZone()));
  std::vector<std::string> moved;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string from = absl::StrCat(db_path, suffix);
    if (!fs::exists(from)) continue;
    const std::string to = absl::StrCat(aside, suffix);
    if (fs::exists(to)) {
      return absl::AlreadyExistsError(
          absl::StrCat(to, " exists already: move it away and retry"));
    }
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return Errno(absl::StrCat("cannot move ", from, " to ", to), errno);
    }
    moved.push_back(to);
  }
  if (::rename(restored.path().c_str(), db_path.c_str()) != 0) {
    return Errno(
        absl::StrCat("cannot rename ", restored.path(), " to ", db_path,
                     " (the previous database is in ", aside, ")"),
        errno);
  }
  restored.Keep();
  RUTA_RETURN_IF_ERROR(
      FsyncDirectory(fs::path(db_path).parent_path().string()));
  return moved;
}

// Records restore.pending in the restored PostgreSQL database through the
// store (which also migrates an older backup's schema).
absl::Status RecordPendingPostgres(const backup::BackupSource& source,
                                   const std::string& backup_name) {
  store::PostgresOptions options;
  options.conninfo = source.postgres_conninfo;
  options.password = source.postgres_password;
  options.reader_connections = 1;
  absl::StatusOr<std::unique_ptr<store::Store>> store =
      store::OpenPostgresStore(options);
  absl::Status status = store.status();
  if (status.ok()) {
    status = (*store)->WriteSync([&backup_name](store::WriteTxn& txn) {
      return txn.PutSetting(federation::kRestorePendingSetting, backup_name);
    });
  }
  if (!status.ok()) {
    return absl::Status(
        status.code(),
        absl::StrCat("the database was restored, but the setting ",
                     federation::kRestorePendingSetting,
                     " could not be recorded (", status.message(),
                     "); run the restore again"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RestoreReport> RestoreBackup(
    const ruta::node::v1::NodeConfig& config, const RestoreOptions& options) {
  if (options.backup_file.empty()) {
    return absl::InvalidArgumentError("--backup FILE is required");
  }
  const std::string key_file =
      !options.key_file.empty() ? options.key_file : config.backup().key_file();
  if (key_file.empty()) {
    return absl::InvalidArgumentError(
        "no backup key: give --key-file FILE or set backup.key_file in the "
        "node configuration");
  }
  RUTA_ASSIGN_OR_RETURN(backup::BackupKey key,
                        backup::BackupKey::LoadFromFile(key_file));
  RUTA_ASSIGN_OR_RETURN(backup::BackupSource source, BackupSourceFor(config));
  RUTA_ASSIGN_OR_RETURN(backup::BackupHeader header,
                        backup::ReadBackupHeader(options.backup_file, key));
  if (header.region != config.region()) {
    return absl::FailedPreconditionError(absl::StrCat(
        options.backup_file, " is a backup of region ", header.region,
        ", but the configuration is of region ", config.region()));
  }
  if (header.backend != source.backend) {
    return absl::FailedPreconditionError(absl::StrCat(
        options.backup_file, " is a ", backup::BackendName(header.backend),
        " backup, but storage.database is ",
        backup::BackendName(source.backend),
        " (a backup restores into the same kind of database)"));
  }
  const int64_t ours = SchemaVersionFor(source.backend);
  if (header.schema_version > ours) {
    return absl::FailedPreconditionError(absl::StrCat(
        options.backup_file, " was made with schema version ",
        header.schema_version, ", newer than this ruta-node's (", ours,
        "): restore it with the ruta-node version that made it, or newer"));
  }
  const std::string backup_name =
      fs::path(options.backup_file).filename().string();

  RestoreReport report;
  report.region = header.region;
  report.backend = backup::BackendName(header.backend);
  report.schema_version = header.schema_version;
  report.created_at = header.created_at;

  if (source.backend == backup::BackupBackend::kPostgres) {
    // All of it is checked before pg_restore sees a byte.
    RUTA_RETURN_IF_ERROR(
        backup::ReadBackupFile(options.backup_file, key, nullptr).status());
    RUTA_RETURN_IF_ERROR(backup::RestorePostgres(
        options.pg_restore, source.postgres_conninfo, source.postgres_password,
        [&](const backup::ByteSink& sink) {
          return backup::ReadBackupFile(options.backup_file, key, sink)
              .status();
        }));
    RUTA_RETURN_IF_ERROR(RecordPendingPostgres(source, backup_name));
    return report;
  }

  const std::string& db_path = source.sqlite_path;
  RUTA_RETURN_IF_ERROR(CheckNotInUse(db_path));
  RUTA_ASSIGN_OR_RETURN(std::unique_ptr<TempDatabase> restored,
                        TempDatabase::Create(db_path));
  TempDatabase* out = restored.get();
  RUTA_RETURN_IF_ERROR(backup::ReadBackupFile(options.backup_file, key,
                                              [out](absl::string_view bytes) {
                                                return out->Write(bytes);
                                              })
                           .status());
  RUTA_RETURN_IF_ERROR(restored->Close());
  RUTA_RETURN_IF_ERROR(IntegrityCheck(restored->path(), options.backup_file));
  RUTA_RETURN_IF_ERROR(RecordPendingSqlite(restored->path(), backup_name));
  if (fs::exists(restored->path() + "-wal")) {
    return absl::InternalError(absl::StrCat(
        "the restored database ", restored->path(),
        " kept a WAL file after it was closed; nothing was changed"));
  }
  RUTA_ASSIGN_OR_RETURN(report.moved_aside,
                        SwapIn(db_path, *restored, options.now));
  return report;
}

}  // namespace ruta::node
