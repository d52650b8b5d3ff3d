// The dashboard counters that a number of cases leave in one region's store
// (DESIGN.md §6), written directly through the store: every key of every
// counter table populated for 20 quarters (2022Q1..2026Q4), the worst case
// for the key-range scans of Dashboard.GetTable, with values drawn so that
// each case table sums to about the region's number of cases. Used by
// dashboard_bench (both regions in one store) and by ruta-bench (each node's
// own region in its own database).
#ifndef RUTA_BENCH_DASHBOARD_DATA_H_
#define RUTA_BENCH_DASHBOARD_DATA_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "ruta/store/store.h"

namespace ruta::bench {

// The quarters the counters cover: 2022Q1 .. 2026Q4.
inline constexpr int kDashboardFirstYear = 2022;
inline constexpr int kDashboardQuarters = 20;

// Adds, in `txn`, the counters of `cases` cases of `region` ("cusco" or
// "madre-de-dios": the province codes follow its UBIGEO department) spread
// over the 20 quarters, with a pseudo-random jitter from `seed` (some cells
// below the suppression threshold). `*keys` (if not null) is increased by
// the number of keys written. The counts of every table for every quarter
// are written, so the key count does not depend on `cases` (about 20,000
// keys per region, 14,640 of them transfer_times' day histograms).
absl::Status AddDashboardCounters(store::WriteTxn& txn,
                                  const std::string& region, int64_t cases,
                                  uint64_t seed, int64_t* keys);

}  // namespace ruta::bench

#endif  // RUTA_BENCH_DASHBOARD_DATA_H_
