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
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ruta/core/aggregates.h"
#include "ruta/core/dashboard.h"
#include "ruta/core/domain.h"
#include "ruta/core/transfer.h"
#include "ruta/store/store.h"

namespace ruta::core {
namespace {

constexpr const char* kRegions[] = {"cusco", "madre-de-dios"};
constexpr int kQuarters = 20;  // 2022Q1 .. 2026Q4
constexpr int kCases = 1000000;

std::vector<std::string> Provinces(const std::string& department) {
  std::vector<std::string> out;
  for (int p = 1; p <= 13; ++p) {
    out.push_back(absl::StrCat(department, p < 10 ? "0" : "", p));
  }
  return out;
}

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
    std::mt19937_64 random(42);
    const int64_t per_cell_base = kCases / (2 * kQuarters);  // per quarter
    absl::Status s = b->store->WriteSync([&](store::WriteTxn& txn) {
      auto add = [&](std::string_view table, const std::string& key,
                     int64_t v) {
        ++b->keys;
        return txn.AddToAggregate(std::string(table), key, v);
      };
      for (const char* region : kRegions) {
        const std::vector<std::string> provinces =
            Provinces(std::string(region) == "cusco" ? "08" : "17");
        for (int q = 0; q < kQuarters; ++q) {
          const std::string head =
              absl::StrCat(region, "|", 2022 + q / 4, "Q", q % 4 + 1, "|");
          auto share = [&](int n) {
            return static_cast<int64_t>(per_cell_base / n +
                                        random() % 7);  // some below k
          };
          for (int v = 1; v <= 12; ++v) {
            absl::Status st =
                add(kCasesByStageTable, absl::StrCat(head, StageName(Stage(v))),
                    v % 5 == 0 ? 3 : share(12));
            if (!st.ok()) return st;
          }
          for (int a = 1; a <= 5; ++a) {
            for (int x = 1; x <= 3; ++x) {
              absl::Status st = add(kCasesByAgeSexTable,
                                    absl::StrCat(head, AgeBandName(AgeBand(a)),
                                                 "|", SexName(Sex(x))),
                                    x == 3 ? 4 : share(10));
              if (!st.ok()) return st;
            }
          }
          for (int f = 1; f <= 5; ++f) {
            absl::Status st = add(
                kCasesByExploitationFormTable,
                absl::StrCat(head, ExploitationFormName(ExploitationForm(f))),
                share(4));
            if (!st.ok()) return st;
          }
          for (const std::string& p : provinces) {
            absl::Status st = add(kCasesByOriginProvinceTable,
                                  absl::StrCat(head, p), share(13));
            if (!st.ok()) return st;
          }
          for (int t = 1; t <= 6; ++t) {
            absl::Status st =
                add(kTransfersByStateTable,
                    absl::StrCat(head, TransferStateName(TransferState(t))),
                    share(60));
            if (!st.ok()) return st;
          }
          for (const char* measure : {"ACCEPTANCE", "ARRIVAL"}) {
            for (int d = 0; d <= 365; ++d) {
              absl::Status st =
                  add(kTransferTimesTable, absl::StrCat(head, measure, "|", d),
                      1 + random() % 20);
              if (!st.ok()) return st;
            }
          }
          for (int t = 1; t <= 8; ++t) {
            for (int x = 1; x <= 4; ++x) {
              absl::Status st =
                  add(kServicesByTypeStatusTable,
                      absl::StrCat(head, ServiceTypeName(ServiceType(t)), "|",
                                   ServiceStatusName(ServiceStatus(x))),
                      share(16));
              if (!st.ok()) return st;
            }
            absl::Status st = add(
                kAlternativeMeasuresTable,
                absl::StrCat(head, ServiceTypeName(ServiceType(t))), share(40));
            if (!st.ok()) return st;
          }
          for (int r = 1; r <= 6; ++r) {
            absl::Status st =
                add(kClosuresByReasonTable,
                    absl::StrCat(head, ClosedReasonName(ClosedReason(r))),
                    share(8));
            if (!st.ok()) return st;
          }
          for (int a = 1; a <= 5; ++a) {
            absl::Status st =
                add(kRevictimizationsTable,
                    absl::StrCat(head, AgeBandName(AgeBand(a))), share(50));
            if (!st.ok()) return st;
          }
          for (const std::string& p : provinces) {
            for (int c = 0; c < 5; ++c) {
              const std::string key =
                  absl::StrCat(head, p, "|campana-",
                               std::string(1, static_cast<char>('a' + c)));
              absl::Status st =
                  add("awareness_people_reached", key, 100 + random() % 900);
              if (!st.ok()) return st;
              st = add("awareness_activities", key, 1 + random() % 9);
              if (!st.ok()) return st;
            }
            for (const char* level : {"COMMUNITY", "LOCAL", "REGIONAL"}) {
              absl::Status st =
                  add("authority_members_trained",
                      absl::StrCat(head, level, "|", p), 5 + random() % 40);
              if (!st.ok()) return st;
            }
          }
        }
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
