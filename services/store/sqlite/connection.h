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

namespace ruta::store::sqlite_internal {

// Turns a SQLite result code into a status whose message names `operation`
// and, when `db` is given, SQLite's error message for it. SQLITE_BUSY and
// SQLITE_LOCKED become UNAVAILABLE, SQLITE_FULL RESOURCE_EXHAUSTED, everything
// else INTERNAL.
absl::Status SqliteError(sqlite3* db, int rc, absl::string_view operation);

class Connection;

// A prepared statement borrowed from a connection's cache for one use. Bind
// parameters (1-based), Step() through the rows, read columns (0-based). The
// statement is reset and its bindings cleared when the Statement goes out of
// scope, so that it holds no lock or snapshot afterwards.
class Statement {
 public:
  Statement(Connection* connection, sqlite3_stmt* stmt)
      : connection_(connection), stmt_(stmt) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binding errors are remembered and returned by the next Step().
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, absl::string_view value);
  // Without this overload a string literal would bind as bool→int64.
  Statement& Bind(int index, const char* value) {
    return Bind(index, absl::string_view(value));
  }
  // Binds raw bytes as a BLOB (hashes, signatures).
  Statement& BindBlob(int index, absl::string_view bytes);

  // true: a row is available; false: the statement is done.
  absl::StatusOr<bool> Step();
  // Runs a statement that returns no rows.
  absl::Status Run();

  int64_t ColumnInt64(int column) const;
  std::string ColumnText(int column) const;
  // The column's bytes as stored (a BLOB column: raw bytes).
  std::string ColumnBlob(int column) const;
  bool ColumnIsNull(int column) const;

 private:
  absl::Status Error(int rc, absl::string_view operation) const;

  Connection* connection_;
  sqlite3_stmt* stmt_;
  absl::Status bind_status_;
};

class Connection {
 public:
  // Opens `path` with `flags` (SQLITE_OPEN_*; SQLITE_OPEN_NOMUTEX and
  // SQLITE_OPEN_EXRESCODE are added) and sets the busy timeout.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(
      const std::string& path, int flags, absl::Duration busy_timeout);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  // Finalizes every cached statement and closes the connection.
  ~Connection();

  // Returns the cached statement for `sql`, preparing it (persistent) on
  // first use. `sql` must be a single statement.
  absl::StatusOr<Statement> Prepare(const std::string& sql);

  // Runs `sql` (one or more statements, no parameters, rows ignored) without
  // caching it: pragmas and migrations.
  absl::Status Exec(const std::string& sql, absl::string_view operation);

  // Runs a cached single statement without parameters (BEGIN, COMMIT, ...).
  absl::Status Run(const std::string& sql);

  // Whether the connection is inside a transaction (SQLite may roll one back
  // by itself after some errors, e.g. SQLITE_FULL or SQLITE_IOERR).
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

  absl::Status Error(int rc, absl::string_view operation) const {
    return SqliteError(db_, rc, operation);
  }

  sqlite3* db() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace ruta::store::sqlite_internal

#endif  // RUTA_STORE_SQLITE_CONNECTION_H_
