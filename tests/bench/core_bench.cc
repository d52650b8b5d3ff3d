// Micro-benchmarks of the core's per-request CPU work: deriving a person_ref
// (ICU normalization + HMAC-SHA-256), validating an intake profile, and
// extending the audit chain (every call appends one record); releasing a
// dashboard table with complementary cell suppression.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "ruta/core/audit.h"
#include "ruta/core/disclosure.h"
#include "ruta/core/domain.h"
#include "ruta/core/profile.h"
#include "ruta/core/pseudonym.h"

namespace ruta::core {
namespace {

const LinkageKeyring& Keyring() {
  static const LinkageKeyring* const ring = [] {
    auto r = LinkageKeyring::FromKeys({{1, std::string(32, 'k')}});
    if (!r.ok()) std::abort();
    return new LinkageKeyring(*std::move(r));
  }();
  return *ring;
}

void BM_DerivePersonRef_Dni(benchmark::State& state) {
  IdentityTuple t;
  int i = 0;
  char dni[9];
  for (auto _ : state) {
    std::snprintf(dni, sizeof(dni), "%08d", (i++ * 7919) % 100000000);
    t.dni = dni;
    auto ref = Keyring().DerivePersonRef(t);
    benchmark::DoNotOptimize(ref);
  }
}
BENCHMARK(BM_DerivePersonRef_Dni);

void BM_DerivePersonRef_NamesAndBirth(benchmark::State& state) {
  IdentityTuple t;
  t.given_names = "José María";
  t.surnames = "Ñaupa-Quispe Huamán";
  t.birth_year = 2011;
  t.birth_month = 4;
  t.birth_day = 23;
  t.birth_district = "081201";
  for (auto _ : state) {
    auto ref = Keyring().DerivePersonRef(t);
    benchmark::DoNotOptimize(ref);
  }
}
BENCHMARK(BM_DerivePersonRef_NamesAndBirth);

void BM_NormalizeName(benchmark::State& state) {
  const std::string name = "  JOSÉ  María Ñaupa-Quispe ";
  for (auto _ : state) {
    auto n = NormalizeName(name);
    benchmark::DoNotOptimize(n);
  }
}
BENCHMARK(BM_NormalizeName);

void BM_ValidateProfile(benchmark::State& state) {
  Profile p;
  p.age_band = AgeBand::k12To14;
  p.sex = Sex::kFemale;
  p.origin_province = "0812";
  p.exploitation_forms = {ExploitationForm::kSexual, ExploitationForm::kLabour};
  p.setting = Setting::kMiningCamp;
  p.recruitment_means = RecruitmentMeans::kFalseJobOffer;
  p.identified_month = {2026, 8};
  for (auto _ : state) {
    absl::Status s = ValidateProfile(p, CaseKind::kVictim);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_ValidateProfile);

// A typical record: an office's clerk opening a case.
store::AuditRecord TypicalAuditRecord() {
  store::AuditRecord record;
  record.index = 41;
  record.at = absl::FromUnixMicros(1795000000123456);
  record.principal = "spiffe://madre-de-dios.ruta.pe/office/puerto-maldonado";
  record.clerk = "clerk-0042";
  record.method = "CaseOffice.OpenCase";
  record.subject = "cs_abcdefghijklmnopqrst";
  record.outcome = 0;
  return record;
}

void BM_CanonicalAuditRecord(benchmark::State& state) {
  const store::AuditRecord record = TypicalAuditRecord();
  for (auto _ : state) {
    std::string bytes = CanonicalAuditRecord(record);
    benchmark::DoNotOptimize(bytes);
  }
}
BENCHMARK(BM_CanonicalAuditRecord);

// One chain step h_i = SHA-256(h_{i-1} || canonical(record_i)), each step
// fed the previous hash as the append path does.
void BM_AuditChainStep(benchmark::State& state) {
  store::AuditRecord record = TypicalAuditRecord();
  std::string hash = ZeroAuditHash();
  for (auto _ : state) {
    ++record.index;
    hash = ChainAuditHash(hash, record);
    benchmark::DoNotOptimize(hash);
  }
}
BENCHMARK(BM_AuditChainStep);

// A dashboard table of rows x columns (args) with about a third of its cells
// below k = 10 (ages x quarters, provinces x stages...), released with
// complementary suppression; a fixed seed, so every run measures the same
// tables.
void BM_ReleaseCountTable(benchmark::State& state) {
  const int rows = static_cast<int>(state.range(0));
  const int columns = static_cast<int>(state.range(1));
  std::mt19937_64 rng(20261129);
  std::vector<CountTable> tables(16);
  for (CountTable& t : tables) {
    t.counts.assign(rows, std::vector<int64_t>(columns, 0));
    for (auto& row : t.counts) {
      for (int64_t& v : row) {
        v = std::uniform_int_distribution<int>(0, 2)(rng) == 0
                ? std::uniform_int_distribution<int64_t>(0, 9)(rng)
                : std::uniform_int_distribution<int64_t>(10, 120)(rng);
      }
    }
  }
  const DisclosureOptions options;
  size_t i = 0;
  for (auto _ : state) {
    auto released = ReleaseCountTable(tables[i++ % tables.size()], options);
    if (!released.ok()) std::abort();
    benchmark::DoNotOptimize(released);
  }
}
BENCHMARK(BM_ReleaseCountTable)
    ->Args({5, 3})
    ->Args({20, 5})
    ->Args({40, 10})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ruta::core

BENCHMARK_MAIN();
