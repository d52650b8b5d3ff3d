// The SQLite implementation of ruta::store::Store: opens the connections
// (WAL, synchronous=FULL) and migrates; the group-committing writer and the
// readers are sql/sql_store.cc's. See ../README.md.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ruta/common/status_macros.h"
#include "ruta/store/store.h"
#include "sql/embedded_migration.h"
#include "sql/migrations.h"
#include "sql/sql_store.h"
#include "sqlite/connection.h"

namespace ruta::store {
namespace {

using sqlite_internal::Connection;

absl::Status ValidateOptions(const SqliteOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("sqlite: the database path is empty");
  }
  if (options.path == ":memory:") {
    return absl::InvalidArgumentError(
        "sqlite: the store needs a database file (WAL and several "
        "connections), not an in-memory database");
  }
  if (options.reader_threads < 1) {
    return absl::InvalidArgumentError("sqlite: reader_threads must be >= 1");
  }
  if (options.max_group_size < 1) {
    return absl::InvalidArgumentError("sqlite: max_group_size must be >= 1");
  }
  if (options.writer_cache_kib < 0) {
    return absl::InvalidArgumentError(
        "sqlite: writer_cache_kib must be >= 0 (0: SQLite's default)");
  }
  return absl::OkStatus();
}

// Creates the database file readable by its owner only if it does not exist
// yet. SQLite gives the -wal and -shm files the mode of the database file.
absl::Status CreatePrivateFile(const std::string& path) {
  std::filesystem::path file(path);
  std::filesystem::path parent = file.parent_path();
  if (parent.empty()) parent = ".";
  std::error_code ec;
  if (!std::filesystem::is_directory(parent, ec)) {
    return absl::NotFoundError(absl::StrCat(
        "sqlite: the directory of the database ", path, " does not exist"));
  }
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return absl::OkStatus();
  }
  int error = errno;
  if (error == EEXIST) return absl::OkStatus();
  std::string message = absl::StrCat("sqlite: cannot create database ", path,
                                     ": ", std::strerror(error));
  if (error == EACCES || error == EPERM || error == EROFS) {
    return absl::PermissionDeniedError(message);
  }
  return absl::InternalError(message);
}

absl::Status ConfigureWriter(Connection& connection,
                             const SqliteOptions& options) {
  {
    // journal_mode is persistent in the file; the pragma answers the mode in
    // effect, which is not WAL on file systems that cannot support it.
    RUTA_ASSIGN_OR_RETURN(auto stmt,
                          connection.Prepare("PRAGMA journal_mode=WAL"));
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    std::string mode = row ? absl::AsciiStrToLower(stmt.ColumnText(0)) : "";
    if (mode != "wal") {
      return absl::InternalError(
          absl::StrCat("sqlite: cannot enable WAL on ", connection.path(),
                       " (journal mode is '", mode, "')"));
    }
  }
  // FULL: in WAL mode, every COMMIT syncs the WAL before returning, so a
  // committed (and acknowledged) write survives power loss.
  RUTA_RETURN_IF_ERROR(
      connection.Exec("PRAGMA synchronous=FULL", "set synchronous"));
  RUTA_RETURN_IF_ERROR(
      connection.Exec("PRAGMA foreign_keys=ON", "set foreign_keys"));
  // Deleted content (erased cases) is overwritten, not left in free pages.
  RUTA_RETURN_IF_ERROR(
      connection.Exec("PRAGMA secure_delete=ON", "set secure_delete"));
  if (options.writer_cache_kib > 0) {
    // Negative: a size in KiB rather than in pages.
    RUTA_RETURN_IF_ERROR(connection.Exec(
        absl::StrCat("PRAGMA cache_size=-", options.writer_cache_kib),
        "set cache_size"));
  }
  return absl::OkStatus();
}

// Errors of opening name the database file (the only place where a path
// appears in a status; it is configuration, not case data).
absl::Status NameFile(const std::string& path, absl::Status status) {
  if (status.ok() || absl::string_view(status.message()).find(path) !=
                         absl::string_view::npos) {
    return status;
  }
  return absl::Status(status.code(),
                      absl::StrCat("opening ", path, ": ", status.message()));
}

}  // namespace

int64_t SqliteSchemaVersion() {
  auto migrations = sql_internal::SqliteMigrations();
  return migrations.empty() ? 0 : migrations.back().version;
}

absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(
    const SqliteOptions& options) {
  RUTA_RETURN_IF_ERROR(ValidateOptions(options));
  RUTA_RETURN_IF_ERROR(CreatePrivateFile(options.path));

  RUTA_ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer,
                        Connection::Open(options.path, SQLITE_OPEN_READWRITE,
                                         options.busy_timeout));
  RUTA_RETURN_IF_ERROR(
      NameFile(options.path, ConfigureWriter(*writer, options)));
  RUTA_RETURN_IF_ERROR(NameFile(
      options.path, sql_internal::ApplyMigrations(
                        *writer, sql_internal::SqliteMigrations(),
                        "CREATE TABLE IF NOT EXISTS schema_migrations ("
                        " version INTEGER NOT NULL PRIMARY KEY,"
                        " applied_at_us INTEGER NOT NULL) STRICT",
                        absl::StrCat("database ", options.path))));

  std::vector<std::unique_ptr<Connection>> readers;
  for (int i = 0; i < options.reader_threads; ++i) {
    RUTA_ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader,
                          Connection::Open(options.path, SQLITE_OPEN_READONLY,
                                           options.busy_timeout));
    readers.push_back(std::move(reader));
  }
  std::vector<std::unique_ptr<sql_internal::Connection>> reader_base;
  for (auto& reader : readers) reader_base.push_back(std::move(reader));
  return sql_internal::MakeSqlStore(options.max_group_size, std::move(writer),
                                    std::move(reader_base));
}

}  // namespace ruta::store
