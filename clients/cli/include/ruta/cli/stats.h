// `ruta stats`: the dashboard tables in the terminal (pure helpers, tested
// in tests/unit/cli/stats_test.cc).
#ifndef RUTA_CLI_STATS_H_
#define RUTA_CLI_STATS_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ruta/v1/dashboard.pb.h"

namespace ruta::cli {

// "2026Q1" (also "2026q1", "2026-Q1") -> Quarter. INVALID_ARGUMENT naming
// `option` otherwise (year 2000-2199, quarter 1-4).
absl::StatusOr<ruta::v1::Quarter> ParseQuarter(absl::string_view option,
                                               absl::string_view text);

// "cusco,madre-de-dios" (any case; "cuzco" for "cusco") -> slugs, in order,
// without duplicates. Empty text: no regions (every configured one).
absl::StatusOr<std::vector<std::string>> ParseRegionList(
    absl::string_view option, absl::string_view text);

// The quarter of `now` in Peru time and the first quarter of its year: the
// default range of `ruta stats`.
ruta::v1::Quarter CurrentQuarter(absl::Time now);

// Writes one released table: a title line ("<name> — <title>, <regions>,
// <from>..<to>"), the table (dimension labels, then the columns; a
// suppressed cell as "<k" with the table's threshold, a statistic with one
// decimal), then one line per peer whose counts are missing or stale, or
// when they were fetched.
void WriteStatsTable(std::ostream& out, const std::string& title,
                     const ruta::v1::GetTableRequest& request,
                     const ruta::v1::GetTableResponse& table, absl::Time now);

}  // namespace ruta::cli

#endif  // RUTA_CLI_STATS_H_
