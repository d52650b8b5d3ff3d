#include "sqlite/connection.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace ruta::store::sqlite_internal {
namespace {

// The beginning of a statement's text, to name it in an error. Statement
// texts hold placeholders, never values.
absl::string_view SqlHead(absl::string_view sql) {
  constexpr size_t kMax = 60;
  return sql.size() > kMax ? sql.substr(0, kMax) : sql;
}

}  // namespace

absl::Status SqliteError(sqlite3* db, int rc, absl::string_view operation) {
  // sqlite3_errmsg describes the most recent failure of the connection; it
  // names tables, columns and constraints, never bound values.
  const char* reason = db != nullptr && sqlite3_extended_errcode(db) == rc
                           ? sqlite3_errmsg(db)
                           : sqlite3_errstr(rc);
  std::string message =
      absl::StrCat("sqlite: ", operation, ": ", reason, " (code ", rc, ")");
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(message);
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::InternalError(message);
  }
}

// --- Statement
// ----------------------------------------------------------------

void SqliteStatement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_status_ = absl::OkStatus();
}

void SqliteStatement::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_status_.ok()) {
    bind_status_ = Error(rc, "bind");
  }
}

void SqliteStatement::Bind(int index, absl::string_view value) {
  // An empty string_view may have a null data(): bind a real empty text, not
  // NULL (the columns are NOT NULL).
  const char* data = value.data() != nullptr ? value.data() : "";
  int rc = sqlite3_bind_text64(stmt_, index, data, value.size(),
                               SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_status_.ok()) {
    bind_status_ = Error(rc, "bind");
  }
}

void SqliteStatement::BindBlob(int index, absl::string_view bytes) {
  // Like Bind: an empty value is a zero-length BLOB, never NULL.
  static const char kEmpty = 0;
  const void* data = bytes.data() != nullptr ? bytes.data() : &kEmpty;
  int rc =
      sqlite3_bind_blob64(stmt_, index, data, bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_status_.ok()) {
    bind_status_ = Error(rc, "bind");
  }
}

absl::StatusOr<bool> SqliteStatement::Step() {
  if (!bind_status_.ok()) return bind_status_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Error(rc, "step");
}

int64_t SqliteStatement::ColumnInt64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string SqliteStatement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(size));
}

std::string SqliteStatement::ColumnBlob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return std::string();
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

bool SqliteStatement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

absl::Status SqliteStatement::Error(int rc, absl::string_view operation) const {
  const char* sql = sqlite3_sql(stmt_);
  return SqliteError(
      sqlite3_db_handle(stmt_), rc,
      absl::StrCat(operation, " [", SqlHead(sql != nullptr ? sql : ""), "]"));
}

// --- Connection
// ---------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(
    const std::string& path, int flags, absl::Duration busy_timeout) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                           nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(db, rc, absl::StrCat("open ", path));
    sqlite3_close(db);  // A handle is returned even on most failures.
    return status;
  }
  std::unique_ptr<Connection> connection(new Connection(db, path));
  int64_t timeout_ms = absl::ToInt64Milliseconds(busy_timeout);
  if (timeout_ms < 0) timeout_ms = 0;
  if (timeout_ms > INT32_MAX) timeout_ms = INT32_MAX;
  rc = sqlite3_busy_timeout(db, static_cast<int>(timeout_ms));
  if (rc != SQLITE_OK) return connection->Error(rc, "set busy timeout");
  return connection;
}

Connection::~Connection() {
  statements_.clear();  // Finalizes them.
  sqlite3_close(db_);
}

absl::StatusOr<Statement> Connection::Prepare(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return Error(rc, absl::StrCat("prepare [", SqlHead(sql), "]"));
    }
    it =
        statements_.emplace(sql, std::make_unique<SqliteStatement>(stmt)).first;
  }
  return Statement(it->second.get());
}

absl::Status Connection::Exec(const std::string& sql,
                              absl::string_view operation) {
  char* error = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  sqlite3_free(error);  // Same text as sqlite3_errmsg, used by Error().
  if (rc != SQLITE_OK) return Error(rc, operation);
  return absl::OkStatus();
}

absl::Status Connection::Run(const std::string& sql) {
  absl::StatusOr<Statement> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  return stmt->Run();
}

}  // namespace ruta::store::sqlite_internal
