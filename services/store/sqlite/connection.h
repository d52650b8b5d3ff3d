// A SQLite connection owned by one thread, with a cache of prepared
// statements, and the conversion of SQLite result codes into absl::Status.
//
// Not thread-safe: each connection is used by exactly one store thread (the
// writer or one reader), which is why connections are opened with
// SQLITE_OPEN_NOMUTEX.
//
// Error messages name the operation and SQLite's reason, never a bound value:
// no case data ever reaches a status message through this file.
#ifndef RUTA_STORE_SQLITE_CONNECTION_H_
#define RUTA_STORE_SQLITE_CONNECTION_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "sql/connection.h"

namespace ruta::store::sqlite_internal {

using sql_internal::Statement;

// Turns a SQLite result code into a status whose message names `operation`
// and, when `db` is given, SQLite's error message for it. SQLITE_BUSY and
// SQLITE_LOCKED become UNAVAILABLE, SQLITE_FULL RESOURCE_EXHAUSTED, everything
// else INTERNAL.
absl::Status SqliteError(sqlite3* db, int rc, absl::string_view operation);

class SqliteStatement final : public sql_internal::StatementImpl {
 public:
  explicit SqliteStatement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement() override { sqlite3_finalize(stmt_); }

  void Bind(int index, int64_t value) override;
  void Bind(int index, absl::string_view value) override;
  void BindBlob(int index, absl::string_view bytes) override;
  absl::StatusOr<bool> Step() override;
  int64_t ColumnInt64(int column) const override;
  std::string ColumnText(int column) const override;
  std::string ColumnBlob(int column) const override;
  bool ColumnIsNull(int column) const override;
  void Reset() override;

 private:
  absl::Status Error(int rc, absl::string_view operation) const;

  sqlite3_stmt* stmt_;
  absl::Status bind_status_;
};

class Connection final : public sql_internal::Connection {
 public:
  // Opens `path` with `flags` (SQLITE_OPEN_*; SQLITE_OPEN_NOMUTEX and
  // SQLITE_OPEN_EXRESCODE are added) and sets the busy timeout.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(
      const std::string& path, int flags, absl::Duration busy_timeout);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  // Finalizes every cached statement and closes the connection.
  ~Connection() override;

  // Returns the cached statement for `sql`, preparing it (persistent) on
  // first use. `sql` must be a single statement.
  absl::StatusOr<Statement> Prepare(const std::string& sql) override;

  // Runs `sql` (one or more statements, no parameters, rows ignored) without
  // caching it: pragmas and migrations.
  absl::Status Exec(const std::string& sql,
                    absl::string_view operation) override;

  // Runs a cached single statement without parameters (BEGIN, COMMIT, ...).
  absl::Status Run(const std::string& sql) override;

  int64_t Changes() const override { return sqlite3_changes64(db_); }

  // Whether the connection is inside a transaction (SQLite may roll one back
  // by itself after some errors, e.g. SQLITE_FULL or SQLITE_IOERR).
  bool InTransaction() const override {
    return sqlite3_get_autocommit(db_) == 0;
  }

  // BEGIN IMMEDIATE: the write lock up front.
  absl::Status BeginWrite() override { return Run("BEGIN IMMEDIATE"); }
  // Under WAL, a transaction reads one snapshot from its first read to its
  // end, whatever the writer commits meanwhile.
  absl::Status BeginRead() override { return Run("BEGIN"); }
  absl::string_view backend() const override { return "sqlite"; }

  absl::Status Error(int rc, absl::string_view operation) const {
    return SqliteError(db_, rc, operation);
  }

  sqlite3* db() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, std::unique_ptr<SqliteStatement>> statements_;
};

}  // namespace ruta::store::sqlite_internal

#endif  // RUTA_STORE_SQLITE_CONNECTION_H_
