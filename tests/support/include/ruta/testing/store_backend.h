// Store backends for tests: the conformance suite (tests/unit/store) runs
// every test on both SQLite and PostgreSQL; failover and backup tests reuse
// the PostgreSQL scratch database.
//
// PostgreSQL tests need a server: env RUTA_TEST_POSTGRES is a libpq
// connection string to a maintenance database of a role with CREATEDB, e.g.
// "host=/var/run/postgresql dbname=postgres". Without it, a PostgreSQL test
// is skipped with a message naming the variable, except when env CI is
// "true" (the test script), where it fails: CI never skips silently.
#ifndef RUTA_TESTING_STORE_BACKEND_H_
#define RUTA_TESTING_STORE_BACKEND_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "ruta/store/store.h"

namespace ruta::testing {

enum class StoreBackend { kSqlite, kPostgres };

// "Sqlite" / "Postgres": readable test names for INSTANTIATE_TEST_SUITE_P.
std::string StoreBackendName(
    const ::testing::TestParamInfo<StoreBackend>& info);
std::ostream& operator<<(std::ostream& os, StoreBackend backend);

// The value of RUTA_TEST_POSTGRES; nullopt when unset or empty.
std::optional<std::string> PostgresTestConninfo();
// Whether a missing PostgreSQL must fail the test (env CI is "true").
bool PostgresRequired();
// The message of a skip or failure for lack of RUTA_TEST_POSTGRES.
std::string MissingPostgresMessage();

// In a test body or SetUp (it returns from it): when `backend` is PostgreSQL
// and RUTA_TEST_POSTGRES is unset, skips (or, under CI, fails) the test.
#define RUTA_SKIP_WITHOUT_POSTGRES(backend)                      \
  do {                                                           \
    if ((backend) == ::ruta::testing::StoreBackend::kPostgres && \
        !::ruta::testing::PostgresTestConninfo().has_value()) {  \
      if (::ruta::testing::PostgresRequired()) {                 \
        FAIL() << ::ruta::testing::MissingPostgresMessage();     \
      }                                                          \
      GTEST_SKIP() << ::ruta::testing::MissingPostgresMessage(); \
    }                                                            \
  } while (false)

// A fresh database `ruta_test_<random letters>` created through
// RUTA_TEST_POSTGRES, dropped (WITH (FORCE): open sessions are ended) when
// this object is destroyed.
class ScratchPostgresDatabase final {
 public:
  // FAILED_PRECONDITION when RUTA_TEST_POSTGRES is unset; UNAVAILABLE or
  // INTERNAL when the database cannot be created.
  static absl::StatusOr<std::unique_ptr<ScratchPostgresDatabase>> Create();

  ScratchPostgresDatabase(const ScratchPostgresDatabase&) = delete;
  ScratchPostgresDatabase& operator=(const ScratchPostgresDatabase&) = delete;
  ~ScratchPostgresDatabase();

  const std::string& name() const { return name_; }
  // RUTA_TEST_POSTGRES with dbname replaced by this database.
  const std::string& conninfo() const { return conninfo_; }

  // Runs `sql` (no parameters) on this database, outside the store.
  absl::Status Exec(const std::string& sql);
  // The first column of the first row of `sql`, as an integer (0 when there
  // is no row or it is NULL).
  absl::StatusOr<int64_t> QueryInt64(const std::string& sql);

 private:
  ScratchPostgresDatabase(std::string maintenance, std::string name);

  const std::string maintenance_;
  const std::string name_;
  const std::string conninfo_;
};

// A place for a store of either backend: a temporary directory with a
// SQLite file, or a scratch PostgreSQL database. Stores opened on it see
// the same data (close and reopen, several "replicas").
class ScratchStore final {
 public:
  static absl::StatusOr<std::unique_ptr<ScratchStore>> Create(
      StoreBackend backend);
  ScratchStore(const ScratchStore&) = delete;
  ScratchStore& operator=(const ScratchStore&) = delete;
  ~ScratchStore();

  // Opens a store (applying migrations) with `readers` reader connections
  // and at most `max_group_size` writes per group.
  absl::StatusOr<std::unique_ptr<store::Store>> Open(
      int readers = 2, int max_group_size = 256) const;

  StoreBackend backend() const { return backend_; }
  // The SQLite database file (empty for PostgreSQL).
  const std::string& sqlite_path() const { return sqlite_path_; }
  // The PostgreSQL scratch database (nullptr for SQLite).
  ScratchPostgresDatabase* postgres() const { return postgres_.get(); }

  // Raw SQL on the store's database, outside the store, in the syntax both
  // backends speak: tests that inspect or tamper with tables.
  absl::Status Exec(const std::string& sql) const;
  absl::StatusOr<int64_t> QueryInt64(const std::string& sql) const;

 private:
  explicit ScratchStore(StoreBackend backend) : backend_(backend) {}

  const StoreBackend backend_;
  std::string directory_;
  std::string sqlite_path_;
  std::unique_ptr<ScratchPostgresDatabase> postgres_;
};

}  // namespace ruta::testing

#endif  // RUTA_TESTING_STORE_BACKEND_H_
