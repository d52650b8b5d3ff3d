// A PostgreSQL connection (libpqxx) owned by one store thread, with a cache
// of prepared statements, behind the connection interface of the shared
// transaction code (sql/connection.h), and the conversion of PostgreSQL
// errors into absl::Status.
//
// Statements arrive in the shared dialect (`?N` placeholders) and are
// rewritten to PostgreSQL's (`$N`). Values travel as text: integers in
// decimal, bytes in BYTEA's hex form (`\x...`), so that every parameter's type
// is the one PostgreSQL infers from its use.
//
// A connection that breaks (server restart, network) is dropped; the next
// BeginWrite/BeginRead opens a new one. Error messages name the operation,
// the SQLSTATE and the server's first line of reason, never a bound value nor
// the password: PostgreSQL's DETAIL lines (which quote row values) are
// dropped, and so is the reason of a data exception (class 22, which quotes
// the offending input).
//
// Not thread-safe: one connection per store thread.
#ifndef RUTA_STORE_POSTGRES_CONNECTION_H_
#define RUTA_STORE_POSTGRES_CONNECTION_H_

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ruta/store/store.h"
#include "sql/connection.h"

namespace ruta::store::postgres_internal {

using sql_internal::Statement;

// The key of the writers' transaction-scoped advisory lock: every write
// transaction of every process sharing the database takes it first.
inline constexpr int64_t kWriterLockKey = 0x7275746100000001;  // "ruta" 1
// The key of the session advisory lock held while migrating.
inline constexpr int64_t kMigrationLockKey = 0x7275746100000002;  // "ruta" 2

// "database <db> on <host>" from a conninfo (keyword/value or URI), for
// messages; never includes a password.
std::string DescribeConninfo(const std::string& conninfo);

// Rewrites `?N` placeholders outside string literals to PostgreSQL's `$M`,
// numbering the placeholders used 1, 2, ... in order of N (a statement built
// from parts may skip some N: PostgreSQL cannot type a parameter it never
// sees). `slots[N]` is then M, or 0 for an N the statement does not use.
std::string RewritePlaceholders(absl::string_view sql, std::vector<int>* slots);

class PgConnection;

class PgStatement final : public sql_internal::StatementImpl {
 public:
  PgStatement(PgConnection* connection, std::string name, std::string sql,
              std::vector<int> slots);
  ~PgStatement() override;

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
  void Set(int index, std::string value);

  PgConnection* connection_;
  const std::string name_;
  const std::string sql_;         // in PostgreSQL's dialect
  const std::vector<int> slots_;  // see RewritePlaceholders
  std::vector<std::optional<std::string>> params_;
  absl::Status bind_status_;
  // The connection generation it was prepared on (-1: not yet).
  int64_t prepared_generation_ = -1;
  std::unique_ptr<pqxx::result> result_;
  int64_t row_ = -1;
};

class PgConnection final : public sql_internal::Connection {
 public:
  // Connects (UNAVAILABLE when the server cannot be reached or refuses).
  static absl::StatusOr<std::unique_ptr<PgConnection>> Open(
      const PostgresOptions& options);

  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection() override;

  absl::StatusOr<Statement> Prepare(const std::string& sql) override;
  absl::Status Run(const std::string& sql) override;
  int64_t Changes() const override { return changes_; }
  bool InTransaction() const override { return in_transaction_; }
  absl::Status BeginWrite() override;
  absl::Status BeginRead() override;
  absl::string_view backend() const override { return "postgres"; }
  // "database <db> on <host>", for messages.
  const std::string& description() const { return description_; }

  // Runs `sql` (one or more statements, no parameters, rows ignored) without
  // preparing it: migrations and session settings.
  absl::Status Exec(const std::string& sql,
                    absl::string_view operation) override;

  // For PgStatement: runs prepared statement `name` (preparing it with
  // `sql` first when `*generation` is not the connection's).
  absl::StatusOr<pqxx::result> ExecPrepared(
      const std::string& name, const std::string& sql, int64_t* generation,
      const std::vector<std::optional<std::string>>& params);

  // The status of a libpqxx exception; a broken connection is dropped.
  absl::Status Error(const std::exception& e, absl::string_view operation);

 private:
  explicit PgConnection(const PostgresOptions& options);
  absl::Status Connect();
  absl::Status EnsureConnected();
  // INVALID_ARGUMENT for a malformed conninfo, else UNAVAILABLE.
  absl::Status ConnectError(const std::string& reason) const;
  void Drop();

  const PostgresOptions options_;
  const std::string description_;  // "database x on host y"
  std::unique_ptr<pqxx::connection> connection_;
  std::unique_ptr<pqxx::nontransaction> work_;
  int64_t generation_ = 0;  // incremented by every (re)connection
  bool in_transaction_ = false;
  int64_t changes_ = 0;
  std::unordered_map<std::string, std::unique_ptr<PgStatement>> statements_;
};

}  // namespace ruta::store::postgres_internal

#endif  // RUTA_STORE_POSTGRES_CONNECTION_H_
