// Backup throughput: a SQLite store of N cases (each with its request record
// and an audit record, as OpenCase writes them) is backed up with
// ruta::backup::CreateBackup three times; prints the median time and MB/s
// (database image and encrypted file), and the same for reading the backup
// back (decrypt and authenticate, as a restore does before writing).
//
// Usage: backup_bench [CASES] [DIR]   default 100000 cases, a fresh
// directory under /tmp (use the disk the node's backups go to). With
// RUTA_TEST_POSTGRES set, the same on a scratch PostgreSQL database
// (pg_dump --format=custom).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ruta/backup/backup.h"
#include "ruta/core/domain.h"
#include "ruta/store/store.h"
#include "ruta/testing/store_backend.h"

namespace {

std::string CaseId(int n) {
  std::string id = "cs_aaaaaaaaaaaaaaaaaaaa";
  for (size_t i = id.size() - 1; n > 0; --i, n /= 26) {
    id[i] = static_cast<char>('a' + n % 26);
  }
  return id;
}

ruta::core::Case MakeCase(int n) {
  ruta::core::Case c;
  c.case_id = CaseId(n);
  c.person_ref = "pr1_" + std::string(32, 'a');
  c.kind = ruta::core::CaseKind::kVictim;
  c.owner_region = "cusco";
  c.stage = ruta::core::Stage::kIdentified;
  c.profile.age_band = ruta::core::AgeBand::k12To14;
  c.profile.sex = ruta::core::Sex::kFemale;
  c.profile.origin_province = "0812";
  c.profile.exploitation_forms = {ruta::core::ExploitationForm::kSexual};
  c.profile.setting = ruta::core::Setting::kMiningCamp;
  c.profile.recruitment_means = ruta::core::RecruitmentMeans::kFalseJobOffer;
  c.profile.identified_month = {2026, 3};
  c.legal_basis = ruta::core::LegalBasis::kUpeProtectiveMeasure;
  c.version = 1;
  c.opened_at = absl::Now();
  c.updated_at = c.opened_at;
  c.opened_by = "spiffe://cusco.ruta.pe/office/upe";
  return c;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "backup_bench: %s\n", status.ToString().c_str());
  return 1;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Writes `cases` cases (with their request and audit records) to `store`.
absl::Status Populate(ruta::store::Store& store, int cases) {
  constexpr int kBatch = 2000;
  for (int first = 0; first < cases; first += kBatch) {
    absl::Status status =
        store.WriteSync([first, cases](ruta::store::WriteTxn& txn) {
          for (int n = first; n < std::min(first + kBatch, cases); ++n) {
            absl::Status s = txn.PutCase(MakeCase(n));
            if (!s.ok()) return s;
            ruta::store::RequestRecord record;
            record.request_id = absl::StrCat("req-", n);
            record.principal = "spiffe://cusco.ruta.pe/office/upe";
            record.method = "CaseOffice.OpenCase";
            record.fingerprint = std::string(32, 'f');
            record.case_id = CaseId(n);
            record.case_version = 1;
            record.recorded_at = absl::Now();
            s = txn.PutRequest(record);
            if (!s.ok()) return s;
            ruta::store::AuditRecord audit;
            audit.index = n;
            audit.at = absl::Now();
            audit.principal = record.principal;
            audit.method = record.method;
            audit.subject = record.case_id;
            audit.hash = std::string(32, 'h');
            s = txn.AppendAudit(audit);
            if (!s.ok()) return s;
          }
          return absl::OkStatus();
        });
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

// Three backups of `source`, each read back; prints the medians.
int Measure(const char* name, int cases,
            const ruta::backup::BackupOptions& options,
            const ruta::backup::BackupSource& source) {
  auto key = ruta::backup::BackupKey::LoadFromFile(options.key_file);
  if (!key.ok()) return Fail(key.status());
  std::vector<double> seconds, read_seconds;
  int64_t payload = 0, size = 0;
  for (int round = 0; round < 3; ++round) {
    const absl::Time start = absl::Now();
    absl::StatusOr<ruta::backup::BackupResult> result =
        ruta::backup::CreateBackup(options, source, absl::Now());
    if (!result.ok()) return Fail(result.status());
    seconds.push_back(absl::ToDoubleSeconds(absl::Now() - start));
    payload = result->payload_bytes;
    size = result->size_bytes;
    const absl::Time read_start = absl::Now();
    absl::StatusOr<ruta::backup::BackupHeader> header =
        ruta::backup::ReadBackupFile(result->path, *key, [](absl::string_view) {
          return absl::OkStatus();
        });
    if (!header.ok()) return Fail(header.status());
    read_seconds.push_back(absl::ToDoubleSeconds(absl::Now() - read_start));
    std::filesystem::remove(result->path);
  }
  const double mb = static_cast<double>(payload) / 1e6;
  std::printf(
      "backup (%s, %d cases): payload %.1f MB, file %.1f MB; median of 3: "
      "%.2f s, %.1f MB/s of payload (runs %.2f %.2f %.2f s)\n",
      name, cases, mb, static_cast<double>(size) / 1e6, Median(seconds),
      mb / Median(seconds), seconds[0], seconds[1], seconds[2]);
  std::printf(
      "read back (%s; decrypt + authenticate): median of 3: %.2f s, %.1f "
      "MB/s\n",
      name, Median(read_seconds), mb / Median(read_seconds));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int cases = argc > 1 ? std::atoi(argv[1]) : 100000;
  std::string dir = argc > 2 ? argv[2] : "";
  if (dir.empty()) {
    dir = absl::StrCat(std::filesystem::temp_directory_path().string(),
                       "/ruta-backup-bench-", ::getpid());
  }
  std::filesystem::create_directories(dir + "/backups");
  ::chmod(dir.c_str(), 0700);
  ::chmod((dir + "/backups").c_str(), 0700);
  const std::string key_file = dir + "/backup.key";
  std::ofstream(key_file) << std::string(64, '7') << "\n";
  ::chmod(key_file.c_str(), 0600);
  ruta::backup::BackupOptions options;
  options.directory = dir + "/backups";
  options.key_file = key_file;
  options.region = "cusco";
  options.schema_version = ruta::store::SqliteSchemaVersion();

  ruta::store::SqliteOptions store_options;
  store_options.path = dir + "/cusco.db";
  {
    auto store = ruta::store::OpenSqliteStore(store_options);
    if (!store.ok()) return Fail(store.status());
    const absl::Time start = absl::Now();
    absl::Status status = Populate(**store, cases);
    if (!status.ok()) return Fail(status);
    std::printf("SQLite store of %d cases written in %.1f s\n", cases,
                absl::ToDoubleSeconds(absl::Now() - start));
  }
  ruta::backup::BackupSource source;
  source.sqlite_path = store_options.path;
  if (int rc = Measure("SQLite", cases, options, source); rc != 0) return rc;

  if (ruta::testing::PostgresTestConninfo().has_value()) {
    auto db = ruta::testing::ScratchPostgresDatabase::Create();
    if (!db.ok()) return Fail(db.status());
    ruta::store::PostgresOptions pg;
    pg.conninfo = (*db)->conninfo();
    {
      auto store = ruta::store::OpenPostgresStore(pg);
      if (!store.ok()) return Fail(store.status());
      const absl::Time start = absl::Now();
      absl::Status status = Populate(**store, cases);
      if (!status.ok()) return Fail(status);
      std::printf("PostgreSQL store of %d cases written in %.1f s\n", cases,
                  absl::ToDoubleSeconds(absl::Now() - start));
    }
    ruta::backup::BackupSource pg_source;
    pg_source.backend = ruta::backup::BackupBackend::kPostgres;
    pg_source.postgres_conninfo = (*db)->conninfo();
    options.schema_version = ruta::store::PostgresSchemaVersion();
    if (int rc = Measure("PostgreSQL", cases, options, pg_source); rc != 0) {
      return rc;
    }
  } else {
    std::printf("PostgreSQL: not measured (set RUTA_TEST_POSTGRES)\n");
  }
  std::filesystem::remove_all(dir);
  return 0;
}
