// The dashboard's per-request work on the counters 1,000,000 cases leave
// (DESIGN.md §6): a SQLite store holding every counter table for two regions
// and 20 quarters (every key populated: the worst case for a key-range scan;
// transfer_times with a full 0..365-day histogram per quarter), then, per
// table, what GetTable does: read the two regions' counters for the 20
// quarters (core::ReadRegionCounters: this node's own read and the one the
// peer does for GetAggregateCounts), merge and release them with k = 10
// (core::BuildDashboardTable). Budget: < 100 ms per call.
//
// Usage: dashboard_bench [benchmark flags]; builds its store under /tmp.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "dashboard_data.h"
#include "ruta/core/aggregates.h"
#include "ruta/core/dashboard.h"
#include "ruta/store/store.h"

namespace ruta::core {
namespace {

constexpr const char* kRegions[] = {"cusco", "madre-de-dios"};
constexpr int kCases = 1000000;

struct Bench {
  std::unique_ptr<store::Store> store;
  int64_t keys = 0;
  absl::Duration load_time;
};

// Counters as the cases spread over regions, quarters and values leave
// them (values drawn so that the sums match kCases per table).
Bench& Shared() {
  static Bench* bench = [] {
    auto* b = new Bench;
    char dir[] = "/tmp/ruta-dashboard-bench-XXXXXX";
    if (mkdtemp(dir) == nullptr) std::abort();
    store::SqliteOptions options;
    options.path = absl::StrCat(dir, "/bench.db");
    auto opened = store::OpenSqliteStore(options);
    if (!opened.ok()) std::abort();
    b->store = *std::move(opened);
    const absl::Time start = absl::Now();
    absl::Status s = b->store->WriteSync([&](store::WriteTxn& txn) {
      uint64_t seed = 42;
      for (const char* region : kRegions) {
        absl::Status st = bench::AddDashboardCounters(txn, region, kCases / 2,
                                                      seed++, &b->keys);
        if (!st.ok()) return st;
      }
      return absl::OkStatus();
    });
    if (!s.ok()) {
      std::fprintf(stderr, "loading counters: %s\n", s.ToString().c_str());
      std::abort();
    }
    b->load_time = absl::Now() - start;
    return b;
  }();
  return *bench;
}

// One GetTable's core work for the table `state.range(0)` indexes.
void BM_GetTable(benchmark::State& state) {
  Bench& bench = Shared();
  const DashboardTableSpec& spec =
      DashboardTables()[static_cast<size_t>(state.range(0))];
  state.SetLabel(spec.name);
  const QuarterRange range{2022, 1, 2026, 4};
  int64_t rows = 0;
  for (auto _ : state) {
    std::vector<RegionCounters> counters(2);
    for (int r = 0; r < 2; ++r) {
      absl::Status s = bench.store->ReadSync([&](store::ReadTxn& txn) {
        auto read = ReadRegionCounters(txn, kRegions[r], spec.sources, range,
                                       absl::Now(), StalledWorkOptions{});
        if (!read.ok()) return read.status();
        counters[r] = *std::move(read);
        return absl::OkStatus();
      });
      if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    }
    auto table =
        BuildDashboardTable(spec, {&counters[0], &counters[1]}, range, 10);
    if (!table.ok()) {
      state.SkipWithError(table.status().ToString().c_str());
      break;
    }
    rows = static_cast<int64_t>(table->rows.size());
    benchmark::DoNotOptimize(table);
  }
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["store_keys"] = static_cast<double>(bench.keys);
}
BENCHMARK(BM_GetTable)
    ->DenseRange(0, 12)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace ruta::core

BENCHMARK_MAIN();
