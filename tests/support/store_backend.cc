#include "ruta/testing/store_backend.h"

#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <pqxx/pqxx>
#include <random>
#include <string>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace ruta::testing {
namespace {

std::string RandomLetters(int n) {
  std::random_device device;
  std::mt19937_64 rng((static_cast<uint64_t>(device()) << 32) ^ device() ^
                      static_cast<uint64_t>(::getpid()));
  std::uniform_int_distribution<int> letter(0, 25);
  std::string out;
  for (int i = 0; i < n; ++i)
    out.push_back(static_cast<char>('a' + letter(rng)));
  return out;
}

// `conninfo` (keyword/value form) with its dbname replaced by `db`.
std::string WithDbname(const std::string& conninfo, const std::string& db) {
  std::string out;
  for (absl::string_view part :
       absl::StrSplit(conninfo, ' ', absl::SkipWhitespace())) {
    if (absl::StartsWith(part, "dbname=")) continue;
    absl::StrAppend(&out, part, " ");
  }
  absl::StrAppend(&out, "dbname=", db);
  return out;
}

absl::Status PgExec(const std::string& conninfo, const std::string& sql) {
  try {
    pqxx::connection connection(conninfo);
    pqxx::nontransaction work(connection);
    work.exec(sql);
    return absl::OkStatus();
  } catch (const pqxx::broken_connection& e) {
    return absl::UnavailableError(e.what());
  } catch (const std::exception& e) {
    return absl::InternalError(e.what());
  }
}

absl::StatusOr<int64_t> PgQueryInt64(const std::string& conninfo,
                                     const std::string& sql) {
  try {
    pqxx::connection connection(conninfo);
    pqxx::nontransaction work(connection);
    pqxx::result result = work.exec(sql);
    if (result.empty() || result[0][0].is_null()) return 0;
    return result[0][0].as<int64_t>();
  } catch (const std::exception& e) {
    return absl::InternalError(e.what());
  }
}

absl::Status SqliteExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return absl::InternalError("cannot open the SQLite file");
  }
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  if (rc != SQLITE_OK) return absl::InternalError(message);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> SqliteQueryInt64(const std::string& path,
                                         const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
      SQLITE_OK) {
    sqlite3_close(db);
    return absl::InternalError("cannot open the SQLite file");
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    std::string message = sqlite3_errmsg(db);
    sqlite3_close(db);
    return absl::InternalError(message);
  }
  int64_t value = 0;
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    return absl::InternalError("sqlite step failed");
  }
  return value;
}

}  // namespace

std::string StoreBackendName(
    const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param == StoreBackend::kSqlite ? "Sqlite" : "Postgres";
}

std::ostream& operator<<(std::ostream& os, StoreBackend backend) {
  return os << (backend == StoreBackend::kSqlite ? "Sqlite" : "Postgres");
}

std::optional<std::string> PostgresTestConninfo() {
  const char* value = std::getenv("RUTA_TEST_POSTGRES");
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

bool PostgresRequired() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

std::string MissingPostgresMessage() {
  return "RUTA_TEST_POSTGRES is not set: set it to a libpq connection string "
         "of a maintenance database of a role with CREATEDB (e.g. "
         "\"host=/var/run/postgresql dbname=postgres\") to run the PostgreSQL "
         "store tests";
}

// --- ScratchPostgresDatabase

ScratchPostgresDatabase::ScratchPostgresDatabase(std::string maintenance,
                                                 std::string name)
    : maintenance_(std::move(maintenance)),
      name_(std::move(name)),
      conninfo_(WithDbname(maintenance_, name_)) {}

absl::StatusOr<std::unique_ptr<ScratchPostgresDatabase>>
ScratchPostgresDatabase::Create() {
  std::optional<std::string> maintenance = PostgresTestConninfo();
  if (!maintenance.has_value()) {
    return absl::FailedPreconditionError(MissingPostgresMessage());
  }
  std::string name = absl::StrCat("ruta_test_", RandomLetters(12));
  absl::Status created = PgExec(
      *maintenance, absl::StrCat("CREATE DATABASE ", name, " ENCODING 'UTF8'"));
  if (!created.ok()) return created;
  return std::unique_ptr<ScratchPostgresDatabase>(
      new ScratchPostgresDatabase(*maintenance, std::move(name)));
}

ScratchPostgresDatabase::~ScratchPostgresDatabase() {
  absl::Status dropped =
      PgExec(maintenance_,
             absl::StrCat("DROP DATABASE IF EXISTS ", name_, " WITH (FORCE)"));
  if (!dropped.ok()) {
    ADD_FAILURE() << "cannot drop scratch database " << name_ << ": "
                  << dropped;
  }
}

absl::Status ScratchPostgresDatabase::Exec(const std::string& sql) {
  return PgExec(conninfo_, sql);
}

absl::StatusOr<int64_t> ScratchPostgresDatabase::QueryInt64(
    const std::string& sql) {
  return PgQueryInt64(conninfo_, sql);
}

// --- ScratchStore

absl::StatusOr<std::unique_ptr<ScratchStore>> ScratchStore::Create(
    StoreBackend backend) {
  std::unique_ptr<ScratchStore> scratch(new ScratchStore(backend));
  if (backend == StoreBackend::kPostgres) {
    absl::StatusOr<std::unique_ptr<ScratchPostgresDatabase>> db =
        ScratchPostgresDatabase::Create();
    if (!db.ok()) return db.status();
    scratch->postgres_ = std::move(*db);
    return scratch;
  }
  std::string pattern =
      (std::filesystem::temp_directory_path() / "ruta-store-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError("mkdtemp failed");
  }
  scratch->directory_ = pattern;
  scratch->sqlite_path_ = pattern + "/node.db";
  return scratch;
}

ScratchStore::~ScratchStore() {
  if (!directory_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(directory_, ec);
  }
}

absl::StatusOr<std::unique_ptr<store::Store>> ScratchStore::Open(
    int readers, int max_group_size) const {
  if (backend_ == StoreBackend::kPostgres) {
    store::PostgresOptions options;
    options.conninfo = postgres_->conninfo();
    options.reader_connections = readers;
    options.max_group_size = max_group_size;
    return store::OpenPostgresStore(options);
  }
  store::SqliteOptions options;
  options.path = sqlite_path_;
  options.reader_threads = readers;
  options.max_group_size = max_group_size;
  return store::OpenSqliteStore(options);
}

absl::Status ScratchStore::Exec(const std::string& sql) const {
  if (backend_ == StoreBackend::kPostgres) return postgres_->Exec(sql);
  return SqliteExec(sqlite_path_, sql);
}

absl::StatusOr<int64_t> ScratchStore::QueryInt64(const std::string& sql) const {
  if (backend_ == StoreBackend::kPostgres) return postgres_->QueryInt64(sql);
  return SqliteQueryInt64(sqlite_path_, sql);
}

}  // namespace ruta::testing
