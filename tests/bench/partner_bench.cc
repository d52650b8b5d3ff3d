// PartnerService.GetCaseStatus's core work (resolve the partner's ref, then
// stage, timeline and services from the store) against a SQLite store in
// which `referred` cases are referred to the partner, next to the way refs
// were resolved before the ref index (every referral listed, its ref
// derived with an HMAC, sorted, then searched): shows that one call no longer
// grows with the number of cases referred to the partner. Single thread, no
// gRPC; the store's reader threads as in a node.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ruta/core/partner_pseudonym.h"
#include "ruta/core/partner_service.h"
#include "ruta/store/store.h"

namespace ruta::core {
namespace {

constexpr char kRegion[] = "madre-de-dios";
constexpr char kPartner[] = "madre-de-dios/tdh";

const PartnerPseudonyms& Pseudonyms() {
  static const PartnerPseudonyms* const p = [] {
    auto made = PartnerPseudonyms::FromMasterSecret(std::string(32, 'k'));
    if (!made.ok()) std::abort();
    return new PartnerPseudonyms(*std::move(made));
  }();
  return *p;
}

struct Fixture {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<PartnerService> service;
  std::vector<std::string> refs;  // of the referred cases
};

// A store with `n` cases referred to kPartner (one transaction), and a
// service over it; one per n, kept for the process.
Fixture& FixtureFor(int n) {
  static std::map<int, std::unique_ptr<Fixture>>* fixtures =
      new std::map<int, std::unique_ptr<Fixture>>();
  std::unique_ptr<Fixture>& f = (*fixtures)[n];
  if (f != nullptr) return *f;
  f = std::make_unique<Fixture>();
  std::string dir = "/tmp/ruta_partner_bench_XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) std::abort();
  store::SqliteOptions options;
  options.path = absl::StrCat(dir, "/node.db");
  auto opened = store::OpenSqliteStore(options);
  if (!opened.ok()) std::abort();
  f->store = *std::move(opened);
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    std::string id = "cs_";
    for (int v = i, k = 0; k < 20; ++k, v /= 26) {
      id.push_back(static_cast<char>('a' + v % 26));
    }
    ids.push_back(std::move(id));
  }
  const absl::Status written =
      f->store->WriteSync([&](store::WriteTxn& txn) -> absl::Status {
        for (const std::string& id : ids) {
          Case c;
          c.case_id = id;
          c.person_ref = "pr_bench";
          c.kind = CaseKind::kVictim;
          c.owner_region = kRegion;
          c.stage = Stage::kDetected;
          c.legal_basis = LegalBasis::kUpeProtectiveMeasure;
          c.referrals = {kPartner};
          c.version = 1;
          c.opened_at = c.updated_at = absl::Now();
          if (absl::Status s = txn.PutCase(c); !s.ok()) return s;
        }
        return absl::OkStatus();
      });
  if (!written.ok()) std::abort();
  for (const std::string& id : ids) {
    f->refs.push_back(Pseudonyms().CaseRefFor(kPartner, id));
  }
  PartnerServiceOptions service_options;
  service_options.region = kRegion;
  service_options.partners = {kPartner};
  f->service = std::make_unique<PartnerService>(service_options, f->store.get(),
                                                &Pseudonyms(), nullptr);
  return *f;
}

const Actor& PartnerActor() {
  static const Actor actor{"spiffe://madre-de-dios.ruta.pe/partner/tdh",
                           kRegion, ""};
  return actor;
}

// GetCaseStatus through the service (the first call, which builds the
// partner's index, is made before the timing).
void BM_GetCaseStatus(benchmark::State& state) {
  Fixture& f = FixtureFor(static_cast<int>(state.range(0)));
  auto call = [&](const std::string& ref) {
    std::promise<bool> promise;
    f.service->GetCaseStatus(PartnerActor(), ref,
                             [&](absl::StatusOr<PartnerCaseView> view) {
                               promise.set_value(view.ok());
                             });
    return promise.get_future().get();
  };
  if (!call(f.refs.front())) {
    state.SkipWithError("GetCaseStatus failed");
    return;
  }
  size_t i = 0;
  for (auto _ : state) {
    if (!call(f.refs[i++ % f.refs.size()])) {
      state.SkipWithError("GetCaseStatus failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetCaseStatus)->Arg(50)->Arg(500)->Arg(5000)->UseRealTime();

// The resolution GetCaseStatus did before the index, alone (no rendering):
// list the referrals, derive each ref, sort, find.
void BM_ResolveByListingEveryReferral(benchmark::State& state) {
  Fixture& f = FixtureFor(static_cast<int>(state.range(0)));
  size_t i = 0;
  for (auto _ : state) {
    const std::string& wanted = f.refs[i++ % f.refs.size()];
    std::string found;
    const absl::Status s =
        f.store->ReadSync([&](store::ReadTxn& txn) -> absl::Status {
          auto referrals = txn.ListPartnerReferrals(kPartner, kRegion);
          if (!referrals.ok()) return referrals.status();
          std::vector<std::pair<std::string, std::string>> refs;
          for (const store::PartnerReferral& r : *referrals) {
            refs.emplace_back(Pseudonyms().CaseRefFor(kPartner, r.case_id),
                              r.case_id);
          }
          std::sort(refs.begin(), refs.end());
          for (const auto& [ref, id] : refs) {
            if (ref == wanted) found = id;
          }
          return absl::OkStatus();
        });
    if (!s.ok() || found.empty()) {
      state.SkipWithError("not resolved");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ResolveByListingEveryReferral)
    ->Arg(50)
    ->Arg(500)
    ->Arg(5000)
    ->UseRealTime();

}  // namespace
}  // namespace ruta::core

BENCHMARK_MAIN();
