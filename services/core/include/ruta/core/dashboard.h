// The mayors' network dashboard tables (DESIGN.md §6): which tables exist,
// how counters of several regions are merged for a quarter range, and how a
// merged table is laid out and released under disclosure control.
//
// Inputs are raw counters ("<region>|<YYYY>Q<q>|<dims...>", aggregates.h and
// activities) of each included region, each read from that region's own node
// (its own keys only). Layout of a released table (DashboardTable):
//   * `dimensions`: the row dimensions; every row has one label per
//     dimension. `column_dimension`: for a crossed table (two case
//     attributes), the dimension whose values are the columns; empty when
//     the columns are measures.
//   * `columns`: the value columns, in order; a crossed table with totals
//     ends with "TOTAL" (the row total).
//   * rows of enum dimensions list EVERY value of the enum (short proto
//     names, e.g. "FAMILY_CARE"), zeros included, in enum order; rows of
//     open dimensions (province codes, campaigns, levels) list the values
//     that have a counter, sorted. A table with totals ends with a row whose
//     first label is "TOTAL" (the others "").
//   * a cell is a count, suppressed ("<k"), or a statistic (transfer_times'
//     median and 90th percentile of days, released only when the group has
//     at least k transfers).
// Tables of activities (awareness, trainings) are non-personal (DESIGN.md
// §4): they are released without suppression.
#ifndef RUTA_CORE_DASHBOARD_H_
#define RUTA_CORE_DASHBOARD_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ruta/core/aggregates.h"
#include "ruta/store/store.h"

namespace ruta::core {

// Counters of one region: source table -> (key, value) pairs, keys of that
// region only.
using RegionCounters =
    std::map<std::string, std::vector<std::pair<std::string, int64_t>>>;

struct DashboardTableSpec {
  std::string name;
  std::string title;                    // Spanish
  std::vector<std::string> dimensions;  // row dimensions
  std::string column_dimension;         // crossed tables only
  // Counter tables it is computed from (the first one names the rows).
  std::vector<std::string> sources;
};

// Every table, in a fixed order.
const std::vector<DashboardTableSpec>& DashboardTables();
// nullptr when unknown.
const DashboardTableSpec* FindDashboardTable(const std::string& name);
// "cases_by_stage, cases_by_age_sex, ..." for error messages.
std::string DashboardTableNames();

// A quarter "YYYYQq"; `Valid` when year 2000..2199 and quarter 1..4.
struct QuarterRange {
  int from_year = 0, from_quarter = 0, to_year = 0, to_quarter = 0;
  std::string from() const;  // "2026Q1"
  std::string to() const;
  int quarters() const;  // number of quarters covered
};
// OK, or INVALID_ARGUMENT saying what to fix (invalid quarter, from after
// to, more than `max_quarters` quarters).
absl::Status ValidateQuarterRange(const QuarterRange& range, int max_quarters);

// The keys of `counters` whose quarter is in `range`, summed over regions,
// without their "<region>|<quarter>|" head.
std::map<std::string, int64_t> MergeCounters(
    const std::vector<const RegionCounters*>& regions,
    const std::string& source, const QuarterRange& range);

struct DashboardCell {
  enum class Kind { kCount, kSuppressed, kStatistic };
  Kind kind = Kind::kCount;
  int64_t count = 0;
  double statistic = 0;
};
struct DashboardRow {
  std::vector<std::string> labels;
  std::vector<DashboardCell> cells;
};
struct DashboardTable {
  std::string table;
  std::vector<std::string> dimensions;
  std::string column_dimension;
  std::vector<std::string> columns;
  std::vector<DashboardRow> rows;
  int64_t threshold = 0;
};

// Every counter table some dashboard table is computed from, sorted.
const std::vector<std::string>& DashboardSourceTables();

// The counters of `region` (its own keys only) of `sources` in `range`, as
// this node holds them; stalled_work is computed at `now` (aggregates.h).
// INVALID_ARGUMENT for a source that is not in DashboardSourceTables().
absl::StatusOr<RegionCounters> ReadRegionCounters(
    store::ReadTxn& txn, const std::string& region,
    const std::vector<std::string>& sources, const QuarterRange& range,
    absl::Time now, const StalledWorkOptions& stalled);

// Merges the counters of `regions` for `range` and releases the table with
// threshold k (ReleaseCountTable). INVALID_ARGUMENT for k below 5.
absl::StatusOr<DashboardTable> BuildDashboardTable(
    const DashboardTableSpec& spec,
    const std::vector<const RegionCounters*>& regions,
    const QuarterRange& range, int64_t threshold);

}  // namespace ruta::core

#endif  // RUTA_CORE_DASHBOARD_H_
