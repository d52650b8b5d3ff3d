// Group commit of the store, measured on each backend: the same durable write
// (a new case, its request record and a counter, as OpenCase writes) from 1
// writer, from 64 writers each committing alone (max_group_size = 1), and
// from 64 writers sharing commits (group commit); then reads (FindCase of a
// random stored case) from 8 threads on 2 reader connections. Prints one line
// per backend and setup.
//
// Usage: store_bench [DIR] [SECONDS]   DIR should be on the disk a node uses
// (fsync is the point); default: a fresh directory under /tmp, 5 s each.
// SQLite always; PostgreSQL too when RUTA_TEST_POSTGRES is set (a scratch
// database is created through it and dropped, see
// ruta/testing/store_backend.h).
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ruta/core/domain.h"
#include "ruta/store/store.h"
#include "ruta/testing/store_backend.h"

namespace {

using ruta::core::Case;

std::string CaseId(int n) {
  std::string id = "cs_aaaaaaaaaaaaaaaaaaaa";
  for (size_t i = id.size() - 1; n > 0; --i, n /= 26) {
    id[i] = static_cast<char>('a' + n % 26);
  }
  return id;
}

Case MakeCase(int n) {
  Case c;
  c.case_id = CaseId(n);
  c.person_ref = "pr1_" + std::string(32, 'a');
  c.kind = ruta::core::CaseKind::kVictim;
  c.owner_region = "madre-de-dios";
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
  c.opened_by = "spiffe://madre-de-dios.ruta.pe/office/upe";
  return c;
}

struct Setup {
  const char* name;
  int threads;
  int max_group_size;
  bool reads;
};

using OpenFn =
    std::function<absl::StatusOr<std::unique_ptr<ruta::store::Store>>(
        int max_group_size)>;

absl::Status Write(ruta::store::Store& store, int n) {
  return store.WriteSync([n](ruta::store::WriteTxn& txn) {
    absl::Status s = txn.PutCase(MakeCase(n));
    if (!s.ok()) return s;
    ruta::store::RequestRecord record;
    record.request_id = absl::StrCat("req-", n);
    record.principal = "spiffe://madre-de-dios.ruta.pe/office/upe";
    record.method = "CaseOffice.OpenCase";
    record.fingerprint = "f";
    record.case_id = CaseId(n);
    record.case_version = 1;
    record.recorded_at = absl::Now();
    s = txn.PutRequest(record);
    if (!s.ok()) return s;
    return txn.AddToAggregate("cases", "madre-de-dios|2026Q1", 1);
  });
}

absl::Status Read(ruta::store::Store& store, int n) {
  return store.ReadSync([n](ruta::store::ReadTxn& txn) -> absl::Status {
    auto found = txn.FindCase(CaseId(n));
    if (!found.ok()) return found.status();
    if (!found->has_value()) return absl::NotFoundError("case not stored");
    return absl::OkStatus();
  });
}

// Runs every setup on stores from `open`; false on an error.
bool RunBackend(const char* backend, const OpenFn& open,
                absl::Duration duration) {
  const Setup setups[] = {
      {"1 writer", 1, 256, false},
      {"64 writers, each commits alone", 64, 1, false},
      {"64 writers, group commit (256)", 64, 256, false},
      {"8 readers, FindCase", 8, 256, true},
  };
  int next_case_base = 0;
  for (const Setup& setup : setups) {
    auto store = open(setup.max_group_size);
    if (!store.ok()) {
      std::fprintf(stderr, "store_bench: %s: %s\n", backend,
                   std::string(store.status().message()).c_str());
      return false;
    }
    // Reads find the cases the write setups stored (in the same database:
    // every setup of a backend shares it).
    const int stored = next_case_base;
    std::atomic<int64_t> ops{0};
    std::atomic<int64_t> latency_us{0};
    std::atomic<int> next_case{next_case_base};
    std::atomic<bool> failed{false};
    const absl::Time deadline = absl::Now() + duration;
    std::vector<std::thread> threads;
    for (int t = 0; t < setup.threads; ++t) {
      threads.emplace_back([&, t] {
        uint64_t rng = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(t + 1);
        while (absl::Now() < deadline && !failed) {
          const absl::Time start = absl::Now();
          absl::Status status;
          if (setup.reads) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            status = Read(
                **store, static_cast<int>(rng % static_cast<uint64_t>(stored)));
          } else {
            status = Write(**store, next_case.fetch_add(1));
          }
          if (!status.ok()) {
            std::fprintf(stderr, "store_bench: %s: %s\n", backend,
                         std::string(status.message()).c_str());
            failed = true;
            return;
          }
          latency_us += absl::ToInt64Microseconds(absl::Now() - start);
          ++ops;
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    store->reset();
    if (failed) return false;
    if (!setup.reads) next_case_base = next_case.load();
    const double seconds = absl::ToDoubleSeconds(duration);
    std::printf("%-9s %-34s %9.0f %s/s  mean latency %7.2f ms\n", backend,
                setup.name, ops.load() / seconds,
                setup.reads ? "reads " : "writes",
                ops.load() > 0 ? latency_us.load() / 1000.0 / ops.load() : 0.0);
    std::fflush(stdout);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "";
  if (dir.empty()) {
    dir = absl::StrCat(std::filesystem::temp_directory_path().string(),
                       "/ruta-store-bench-", ::getpid());
    std::filesystem::create_directories(dir);
  }
  const absl::Duration duration =
      absl::Seconds(argc > 2 ? std::atoi(argv[2]) : 5);

  const std::string sqlite_path = absl::StrCat(dir, "/bench.db");
  const bool sqlite_ok = RunBackend(
      "sqlite",
      [&](int max_group_size) {
        ruta::store::SqliteOptions options;
        options.path = sqlite_path;
        options.max_group_size = max_group_size;
        return ruta::store::OpenSqliteStore(options);
      },
      duration);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(sqlite_path + suffix);
  }
  if (!sqlite_ok) return 1;

  if (!ruta::testing::PostgresTestConninfo().has_value()) {
    std::printf("postgres  skipped: RUTA_TEST_POSTGRES is not set\n");
    return 0;
  }
  auto db = ruta::testing::ScratchPostgresDatabase::Create();
  if (!db.ok()) {
    std::fprintf(stderr, "store_bench: postgres: %s\n",
                 std::string(db.status().message()).c_str());
    return 1;
  }
  const bool postgres_ok = RunBackend(
      "postgres",
      [&](int max_group_size) {
        ruta::store::PostgresOptions options;
        options.conninfo = (*db)->conninfo();
        options.max_group_size = max_group_size;
        return ruta::store::OpenPostgresStore(options);
      },
      duration);
  return postgres_ok ? 0 : 1;
}
