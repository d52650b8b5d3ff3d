// Group commit of the SQLite store, measured: the same durable write (a new
// case, its request record and a counter, as OpenCase writes) from 1 writer,
// from 64 writers each committing alone (max_group_size = 1), and from 64
// writers sharing commits (group commit). Prints one line per setup.
//
// Usage: store_bench [DIR] [SECONDS]   DIR should be on the disk a node uses
// (fsync is the point); default: a fresh directory under /tmp, 5 s each.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ruta/core/domain.h"
#include "ruta/store/store.h"

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
};

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
  const Setup setups[] = {
      {"1 writer", 1, 256},
      {"64 writers, each commits alone", 64, 1},
      {"64 writers, group commit (256)", 64, 256},
  };
  int round = 0;
  for (const Setup& setup : setups) {
    ruta::store::SqliteOptions options;
    options.path = absl::StrCat(dir, "/bench_", round++, ".db");
    options.max_group_size = setup.max_group_size;
    auto store = ruta::store::OpenSqliteStore(options);
    if (!store.ok()) {
      std::fprintf(stderr, "store_bench: %s\n",
                   std::string(store.status().message()).c_str());
      return 1;
    }
    std::atomic<int64_t> writes{0};
    std::atomic<int64_t> latency_us{0};
    std::atomic<int> next_case{0};
    std::atomic<bool> failed{false};
    const absl::Time deadline = absl::Now() + duration;
    std::vector<std::thread> threads;
    for (int t = 0; t < setup.threads; ++t) {
      threads.emplace_back([&] {
        while (absl::Now() < deadline && !failed) {
          const int n = next_case.fetch_add(1);
          const absl::Time start = absl::Now();
          const absl::Status status =
              (*store)->WriteSync([n](ruta::store::WriteTxn& txn) {
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
          if (!status.ok()) {
            std::fprintf(stderr, "store_bench: %s\n",
                         std::string(status.message()).c_str());
            failed = true;
            return;
          }
          latency_us += absl::ToInt64Microseconds(absl::Now() - start);
          ++writes;
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    store->reset();
    std::filesystem::remove(options.path);
    if (failed) return 1;
    const double seconds = absl::ToDoubleSeconds(duration);
    std::printf(
        "%-34s %9.0f writes/s  mean latency %7.2f ms\n", setup.name,
        writes.load() / seconds,
        writes.load() > 0 ? latency_us.load() / 1000.0 / writes.load() : 0.0);
  }
  return 0;
}
