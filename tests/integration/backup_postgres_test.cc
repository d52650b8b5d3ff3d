// Backup and restore of a PostgreSQL store (ruta::store::OpenPostgresStore):
// pg_dump streamed through the encryption while a writer commits, and
// `ruta-node restore`'s pg_restore --single-transaction into the configured
// database, against a real PostgreSQL server.
//
// Needs RUTA_TEST_POSTGRES (ruta/testing/store_backend.h), e.g.
//   RUTA_TEST_POSTGRES="host=/var/run/postgresql dbname=postgres"
// Each test uses a scratch database, dropped after it. Without the variable
// the tests are skipped with a message naming it, or fail when CI=true.
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/backup/backup.h"
#include "ruta/core/domain.h"
#include "ruta/node/restore.h"
#include "ruta/node/v1/config.pb.h"
#include "ruta/store/store.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/store_backend.h"
#include "ruta/testing/subprocess.h"

namespace ruta {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::StoreBackend;

std::string CaseId(int n) {
  std::string id = "cs_aaaaaaaaaaaaaaaaaaaa";
  for (size_t i = id.size() - 1; n > 0; --i, n /= 26) {
    id[i] = static_cast<char>('a' + n % 26);
  }
  return id;
}

// Case `n` and its audit record (index `n`), in one write: the pair a
// consistent copy holds both or neither of.
absl::Status WriteCase(store::Store& store, int n) {
  return store.WriteSync([n](store::WriteTxn& txn) {
    core::Case c;
    c.case_id = CaseId(n);
    c.person_ref = "pr1_" + std::string(32, 'a');
    c.kind = core::CaseKind::kVictim;
    c.owner_region = "cusco";
    c.stage = core::Stage::kIdentified;
    c.profile.age_band = core::AgeBand::k12To14;
    c.profile.sex = core::Sex::kFemale;
    c.profile.origin_province = "0812";
    c.profile.exploitation_forms = {core::ExploitationForm::kSexual};
    c.profile.setting = core::Setting::kMiningCamp;
    c.profile.recruitment_means = core::RecruitmentMeans::kFalseJobOffer;
    c.profile.identified_month = {2026, 3};
    c.legal_basis = core::LegalBasis::kUpeProtectiveMeasure;
    c.version = 1;
    c.opened_at = absl::Now();
    c.updated_at = c.opened_at;
    c.opened_by = "spiffe://cusco.ruta.pe/office/upe";
    absl::Status s = txn.PutCase(c);
    if (!s.ok()) return s;
    store::AuditRecord audit;
    audit.index = n;
    audit.at = absl::Now();
    audit.principal = c.opened_by;
    audit.method = "CaseOffice.OpenCase";
    audit.subject = c.case_id;
    audit.hash = std::string(32, 'h');
    return txn.AppendAudit(audit);
  });
}

class BackupPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RUTA_SKIP_WITHOUT_POSTGRES(StoreBackend::kPostgres);
    absl::StatusOr<std::unique_ptr<testing::ScratchPostgresDatabase>> db =
        testing::ScratchPostgresDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
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

  std::unique_ptr<store::Store> Open() {
    store::PostgresOptions options;
    options.conninfo = db_->conninfo();
    absl::StatusOr<std::unique_ptr<store::Store>> store =
        store::OpenPostgresStore(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  absl::StatusOr<backup::BackupResult> Backup(const std::string& conninfo) {
    backup::BackupOptions options;
    options.directory = dir_ + "/backups";
    options.key_file = key_file_;
    options.region = "cusco";
    options.schema_version = store::PostgresSchemaVersion();
    backup::BackupSource source;
    source.backend = backup::BackupBackend::kPostgres;
    source.postgres_conninfo = conninfo;
    return backup::CreateBackup(options, source, absl::Now());
  }

  int64_t Query(const std::string& sql) {
    absl::StatusOr<int64_t> n = db_->QueryInt64(sql);
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? *n : -1;
  }

  std::unique_ptr<testing::ScratchPostgresDatabase> db_;
  std::string dir_, key_file_;
  ruta::node::v1::NodeConfig config_;
};

TEST_F(BackupPostgresTest, BackupUnderAWriterRestoresAConsistentStore) {
  std::unique_ptr<store::Store> store = Open();
  ASSERT_NE(store, nullptr);
  constexpr int kInitial = 2000;
  for (int n = 0; n < kInitial; ++n) ASSERT_TRUE(WriteCase(*store, n).ok());

  // A writer commits case + audit pairs while pg_dump runs.
  std::atomic<bool> stop{false};
  std::atomic<int> next{kInitial};
  std::thread writer([&] {
    while (!stop.load()) {
      const int n = next.load();
      if (!WriteCase(*store, n).ok()) return;
      next = n + 1;
    }
  });
  absl::StatusOr<backup::BackupResult> made = Backup(db_->conninfo());
  const int written_after_backup = next.load();
  stop = true;
  writer.join();
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->header.backend, backup::BackupBackend::kPostgres);
  // pg_dump's custom format starts with "PGDMP"; the file must not show it.
  EXPECT_THAT(testing::ReadFile(made->path), Not(HasSubstr("PGDMP")));
  EXPECT_THAT(testing::ReadFile(made->path), Not(HasSubstr(CaseId(7))));

  // More changes after the backup; the node is then stopped.
  for (int n = next.load(); n < next.load() + 50; ++n) {
    ASSERT_TRUE(WriteCase(*store, n).ok());
  }
  store.reset();
  const int64_t live_cases = Query("SELECT count(*) FROM cases");

  ruta::node::RestoreOptions options;
  options.backup_file = made->path;
  absl::StatusOr<ruta::node::RestoreReport> report =
      ruta::node::RestoreBackup(config_, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->backend, "postgres");

  // A consistent snapshot: every case has its audit record and vice versa,
  // at least the cases written before the backup, fewer than at the end.
  const int64_t cases = Query("SELECT count(*) FROM cases");
  EXPECT_GE(cases, kInitial);
  EXPECT_LE(cases, written_after_backup);
  EXPECT_LT(cases, live_cases);
  EXPECT_EQ(Query("SELECT count(*) FROM audit_log"), cases);
  EXPECT_EQ(Query("SELECT max(idx) + 1 FROM audit_log"), cases);

  store = Open();
  ASSERT_NE(store, nullptr);
  std::optional<std::string> pending;
  ASSERT_TRUE(store
                  ->ReadSync([&](store::ReadTxn& txn) -> absl::Status {
                    absl::StatusOr<std::optional<std::string>> value =
                        txn.GetSetting(
                            ruta::federation::kRestorePendingSetting);
                    if (!value.ok()) return value.status();
                    pending = *value;
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(pending, made->file_name);
}

TEST_F(BackupPostgresTest, DamagedBackupChangesNothing) {
  std::unique_ptr<store::Store> store = Open();
  ASSERT_NE(store, nullptr);
  for (int n = 0; n < 100; ++n) ASSERT_TRUE(WriteCase(*store, n).ok());
  absl::StatusOr<backup::BackupResult> made = Backup(db_->conninfo());
  ASSERT_TRUE(made.ok()) << made.status();
  for (int n = 100; n < 110; ++n) ASSERT_TRUE(WriteCase(*store, n).ok());
  store.reset();

  std::string bytes = testing::ReadFile(made->path);
  bytes[bytes.size() - 10] ^= 4;  // in the last frame: pg_restore must not
                                  // have run on the frames before it
  const std::string damaged = dir_ + "/damaged.rbk";
  std::ofstream(damaged, std::ios::binary) << bytes;
  ruta::node::RestoreOptions options;
  options.backup_file = damaged;
  absl::StatusOr<ruta::node::RestoreReport> report =
      ruta::node::RestoreBackup(config_, options);
  ASSERT_EQ(report.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(report.status().message(), HasSubstr(damaged));
  EXPECT_EQ(Query("SELECT count(*) FROM cases"), 110);
  EXPECT_EQ(Query("SELECT count(*) FROM node_settings WHERE name = "
                  "'restore.pending'"),
            0);
}

TEST_F(BackupPostgresTest, PgDumpErrorsAreReportedAndLeaveNoFile) {
  absl::StatusOr<backup::BackupResult> made =
      Backup(db_->conninfo() + "_missing");
  ASSERT_EQ(made.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(made.status().message(), HasSubstr("pg_dump exited"));
  EXPECT_TRUE(std::filesystem::is_empty(dir_ + "/backups"));
}

}  // namespace
}  // namespace ruta
