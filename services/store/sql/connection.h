// The database connection as the transaction code (sql/*_txn.cc) sees it, so
// that one body of SQL serves both backends (SQLite and PostgreSQL).
//
// Statements are written once in the dialect both understand: numbered
// placeholders `?1`, `?2`, ... (the PostgreSQL connection rewrites them to
// `$1`, ...), `INSERT ... ON CONFLICT ... DO UPDATE/NOTHING`, `RETURNING`,
// integers for booleans and times (microseconds), raw bytes through
// BindBlob/ColumnBlob. An unbound placeholder is NULL on both.
//
// Not thread-safe: each connection is used by exactly one store thread.
// Error messages name the operation and the database's reason, never a bound
// value: no case data reaches a status message through this layer.
#ifndef RUTA_STORE_SQL_CONNECTION_H_
#define RUTA_STORE_SQL_CONNECTION_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ruta::store::sql_internal {

// One prepared statement of a backend, owned (and cached) by its connection.
// Bind parameters (1-based), Step() through the rows, read columns
// (0-based); Reset() ends the use, clearing bindings and any result.
class StatementImpl {
 public:
  virtual ~StatementImpl() = default;
  // Binding errors are remembered and returned by the next Step().
  virtual void Bind(int index, int64_t value) = 0;
  virtual void Bind(int index, absl::string_view value) = 0;
  virtual void BindBlob(int index, absl::string_view bytes) = 0;
  // true: a row is available; false: the statement is done. The statement
  // runs on the first call.
  virtual absl::StatusOr<bool> Step() = 0;
  virtual int64_t ColumnInt64(int column) const = 0;
  virtual std::string ColumnText(int column) const = 0;
  virtual std::string ColumnBlob(int column) const = 0;
  virtual bool ColumnIsNull(int column) const = 0;
  virtual void Reset() = 0;
};

// A prepared statement borrowed from a connection's cache for one use; reset
// when it goes out of scope, so that it holds no lock or result afterwards.
class Statement {
 public:
  explicit Statement(StatementImpl* impl) : impl_(impl) {}
  Statement(Statement&& other) noexcept
      : impl_(std::exchange(other.impl_, nullptr)) {}
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() {
    if (impl_ != nullptr) impl_->Reset();
  }

  Statement& Bind(int index, int64_t value) {
    impl_->Bind(index, value);
    return *this;
  }
  Statement& Bind(int index, absl::string_view value) {
    impl_->Bind(index, value);
    return *this;
  }
  // Without this overload a string literal would bind as bool→int64.
  Statement& Bind(int index, const char* value) {
    return Bind(index, absl::string_view(value));
  }
  // Binds raw bytes (a BLOB / BYTEA column: hashes, signatures, events).
  Statement& BindBlob(int index, absl::string_view bytes) {
    impl_->BindBlob(index, bytes);
    return *this;
  }

  absl::StatusOr<bool> Step() { return impl_->Step(); }
  // Runs a statement that returns no rows (rows are ignored).
  absl::Status Run() {
    absl::StatusOr<bool> row = impl_->Step();
    return row.ok() ? absl::OkStatus() : row.status();
  }

  int64_t ColumnInt64(int column) const { return impl_->ColumnInt64(column); }
  std::string ColumnText(int column) const { return impl_->ColumnText(column); }
  // The column's bytes as stored (a BLOB / BYTEA column: raw bytes).
  std::string ColumnBlob(int column) const { return impl_->ColumnBlob(column); }
  bool ColumnIsNull(int column) const { return impl_->ColumnIsNull(column); }

 private:
  StatementImpl* impl_;
};

class Connection {
 public:
  virtual ~Connection() = default;

  // Returns the cached statement for `sql` (a single statement), preparing
  // it on first use.
  virtual absl::StatusOr<Statement> Prepare(const std::string& sql) = 0;
  // Runs a single statement without parameters (SAVEPOINT, COMMIT, ...).
  virtual absl::Status Run(const std::string& sql) = 0;
  // Runs `sql` (one or more statements, no parameters, rows ignored) without
  // preparing it: migrations and settings. Errors name `operation`.
  virtual absl::Status Exec(const std::string& sql,
                            absl::string_view operation) = 0;
  // Rows inserted, updated or deleted by the last statement run.
  virtual int64_t Changes() const = 0;
  // Whether the connection is inside a transaction (a backend may end one by
  // itself after some errors).
  virtual bool InTransaction() const = 0;
  // Begins the writer's transaction, holding the database's write lock until
  // it ends (SQLite: BEGIN IMMEDIATE; PostgreSQL: BEGIN and the writers'
  // advisory lock, reconnecting first if the connection was lost).
  virtual absl::Status BeginWrite() = 0;
  // Begins a read transaction on one consistent snapshot.
  virtual absl::Status BeginRead() = 0;
  // "sqlite" or "postgres", to prefix messages.
  virtual absl::string_view backend() const = 0;
};

}  // namespace ruta::store::sql_internal

#endif  // RUTA_STORE_SQL_CONNECTION_H_
