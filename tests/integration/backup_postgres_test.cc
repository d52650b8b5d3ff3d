// Backup and restore of a PostgreSQL store: pg_dump streamed through the
// encryption, and `ruta-node restore`'s pg_restore --single-transaction into
// the configured database, against a real PostgreSQL server.
//
// Needs RUTA_TEST_POSTGRES: a libpq connection string to a maintenance
// database of a role with CREATEDB, e.g.
//   RUTA_TEST_POSTGRES="host=/var/run/postgresql dbname=postgres"
// Each test creates a scratch database and drops it. Without the variable
// the tests are skipped with a message naming it, or fail when CI=true.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/backup/backup.h"
#include "ruta/node/restore.h"
#include "ruta/node/v1/config.pb.h"
#include "ruta/store/store.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/subprocess.h"

namespace ruta {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string FindProgram(const std::string& name) {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir :
       absl::StrSplit(path != nullptr ? path : "/usr/bin", ':')) {
    const std::string candidate = absl::StrCat(dir, "/", name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return name;
}

// A database created for one test and dropped after it.
class ScratchDatabase final {
 public:
  explicit ScratchDatabase(std::string maintenance)
      : maintenance_(std::move(maintenance)) {
    std::mt19937 random(std::random_device{}());
    name_ =
        absl::StrCat("ruta_backup_test_", ::getpid(), "_", random() % 1000000);
    ok_ = Psql(maintenance_, absl::StrCat("CREATE DATABASE ", name_)).empty();
  }
  ~ScratchDatabase() {
    Psql(maintenance_,
         absl::StrCat("DROP DATABASE IF EXISTS ", name_, " WITH (FORCE)"));
  }
  bool ok() const { return ok_; }
  std::string conninfo() const {
    return absl::StrCat(maintenance_, " dbname=", name_);
  }
  // Runs `sql`; returns "" on success, else psql's error.
  static std::string Psql(const std::string& conninfo, const std::string& sql,
                          std::string* out = nullptr) {
    testing::ProcessResult result = testing::RunProcess(
        {FindProgram("psql"), "--no-password", "--quiet", "--tuples-only",
         "--no-align", "-v", "ON_ERROR_STOP=1", "--dbname", conninfo, "-c",
         sql},
        absl::Seconds(60));
    if (out != nullptr) *out = result.out;
    return result.exit_code == 0 ? "" : result.err + result.out;
  }
  std::string Query(const std::string& sql) const {
    std::string out;
    const std::string err = Psql(conninfo(), sql, &out);
    EXPECT_EQ(err, "") << sql;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
      out.pop_back();
    }
    return out;
  }

 private:
  std::string maintenance_;
  std::string name_;
  bool ok_ = false;
};

class BackupPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* conninfo = std::getenv("RUTA_TEST_POSTGRES");
    if (conninfo == nullptr || *conninfo == '\0') {
      const char* ci = std::getenv("CI");
      if (ci != nullptr && std::string(ci) == "true") {
        FAIL() << "RUTA_TEST_POSTGRES is not set but CI=true: the PostgreSQL "
                  "backup tests must run in CI";
      }
      GTEST_SKIP() << "RUTA_TEST_POSTGRES is not set (a libpq connection "
                      "string to a maintenance database of a role with "
                      "CREATEDB, e.g. \"host=/var/run/postgresql "
                      "dbname=postgres\")";
    }
    db_ = std::make_unique<ScratchDatabase>(conninfo);
    ASSERT_TRUE(db_->ok()) << "cannot create a scratch database with "
                           << conninfo;
    // A store-like schema: the node settings and some case rows.
    ASSERT_EQ(db_->Query("CREATE TABLE node_settings (name TEXT PRIMARY KEY, "
                         "value TEXT NOT NULL); CREATE TABLE cases (id "
                         "SERIAL PRIMARY KEY, body TEXT NOT NULL); INSERT "
                         "INTO cases(body) SELECT repeat('c', 200) FROM "
                         "generate_series(1, 5000)"),
              "");
    dir_ = testing::MakeTempDir("backup-pg");
    ::chmod(dir_.c_str(), 0700);
    std::filesystem::create_directory(dir_ + "/backups");
    ::chmod((dir_ + "/backups").c_str(), 0700);
    key_file_ = dir_ + "/backup.key";
    std::ofstream(key_file_) << std::string(64, 'c') << "\n";
    ::chmod(key_file_.c_str(), 0600);
    config_.set_region("cusco");
    config_.mutable_storage()->set_database("postgres:" + db_->conninfo());
    config_.mutable_backup()->set_directory(dir_ + "/backups");
    config_.mutable_backup()->set_key_file(key_file_);
  }

  backup::BackupResult Backup() {
    backup::BackupOptions options;
    options.directory = dir_ + "/backups";
    options.key_file = key_file_;
    options.region = "cusco";
    options.schema_version = store::SqliteSchemaVersion();
    backup::BackupSource source;
    source.backend = backup::BackupBackend::kPostgres;
    source.postgres_conninfo = db_->conninfo();
    absl::StatusOr<backup::BackupResult> result =
        backup::CreateBackup(options, source, absl::Now());
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : backup::BackupResult();
  }

  std::unique_ptr<ScratchDatabase> db_;
  std::string dir_, key_file_;
  ruta::node::v1::NodeConfig config_;
};

TEST_F(BackupPostgresTest, DumpRestoresIntoTheConfiguredDatabase) {
  const backup::BackupResult made = Backup();
  ASSERT_FALSE(made.file_name.empty());
  EXPECT_EQ(made.header.backend, backup::BackupBackend::kPostgres);
  // pg_dump's custom format starts with "PGDMP"; the file must not show it.
  EXPECT_THAT(testing::ReadFile(made.path), Not(HasSubstr("PGDMP")));
  EXPECT_THAT(testing::ReadFile(made.path), Not(HasSubstr("cccccccc")));

  // Changes after the backup, then the restore brings back the backup's.
  ASSERT_EQ(db_->Query("DELETE FROM cases WHERE id <= 100; INSERT INTO "
                       "cases(body) VALUES ('late'); CREATE TABLE extra (x "
                       "int)"),
            "");
  ruta::node::RestoreOptions options;
  options.backup_file = made.path;
  absl::StatusOr<ruta::node::RestoreReport> report =
      ruta::node::RestoreBackup(config_, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->backend, "postgres");
  EXPECT_EQ(db_->Query("SELECT count(*), min(id), max(id) FROM cases"),
            "5000|1|5000");
  EXPECT_EQ(db_->Query("SELECT value FROM node_settings WHERE name = "
                       "'restore.pending'"),
            made.file_name);
}

TEST_F(BackupPostgresTest, DamagedBackupChangesNothing) {
  const backup::BackupResult made = Backup();
  std::string bytes = testing::ReadFile(made.path);
  bytes[bytes.size() - 10] ^= 4;  // in the last frame: pg_restore must not
                                  // have run on the frames before it
  const std::string damaged = dir_ + "/damaged.rbk";
  std::ofstream(damaged, std::ios::binary) << bytes;
  ASSERT_EQ(db_->Query("DELETE FROM cases WHERE id <= 10"), "");
  ruta::node::RestoreOptions options;
  options.backup_file = damaged;
  absl::StatusOr<ruta::node::RestoreReport> report =
      ruta::node::RestoreBackup(config_, options);
  ASSERT_EQ(report.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(report.status().message(), HasSubstr(damaged));
  EXPECT_EQ(db_->Query("SELECT count(*) FROM cases"), "4990");
  EXPECT_EQ(db_->Query("SELECT count(*) FROM node_settings"), "0");
}

TEST_F(BackupPostgresTest, PgDumpErrorsAreReported) {
  backup::BackupOptions options;
  options.directory = dir_ + "/backups";
  options.key_file = key_file_;
  options.region = "cusco";
  backup::BackupSource source;
  source.backend = backup::BackupBackend::kPostgres;
  source.postgres_conninfo = db_->conninfo() + "_missing";
  absl::StatusOr<backup::BackupResult> result =
      backup::CreateBackup(options, source, absl::Now());
  ASSERT_EQ(result.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(result.status().message(), HasSubstr("pg_dump exited"));
  EXPECT_TRUE(std::filesystem::is_empty(dir_ + "/backups"));
}

}  // namespace
}  // namespace ruta
