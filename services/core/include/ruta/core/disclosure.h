// Statistical disclosure control of the dashboard tables (DESIGN.md §6):
// threshold (primary) suppression and complementary cell suppression.
//
// A dashboard table is released for a region set and a quarter range and
// crosses at most two case attributes: a table of true counts with R rows and
// C columns (a one-attribute table is R x 1), with optional totals. A released
// entry (cell or total) is either its exact true count or suppressed (nullopt,
// shown as "<k").
//
// Guarantees of ReleaseCountTable on success:
//   * every published entry equals its true count and is >= k;
//   * every entry (cell, row total, column total, grand total) whose true
//     count is < k, 0 included, is suppressed (primary suppression);
//   * no suppressed entry can be recovered exactly by any linear combination
//     of the published entries, under the additive constraints of the release
//     (complementary suppression). The constraints are:
//       - with row totals:    sum_c cell[r][c] = row_total[r]      (every r)
//       - with column totals: sum_r cell[r][c] = column_total[c]   (every c)
//       - with row totals:    sum_r row_total[r] = grand_total
//       - with column totals: sum_c column_total[c] = grand_total
//       - with a grand total only (one column): sum_r cell[r][0] = grand_total
//     A suppressed total is an unknown like a suppressed cell. (Bounds from
//     non-negativity, i.e. intervals, are not considered: only exact linear
//     recovery.)
//   * deterministic: the same input gives the same output.
//
// Complementary suppressions are chosen greedily, one per round, while some
// suppressed entry is derivable:
//   1. if some constraint (a row, a column, the totals) has exactly one
//      suppressed entry (an exposed entry), the partner is the published
//      entry lying in the most such constraints (the corner of a rectangle),
//      then the one with the smallest true count, a cell before a total,
//      then the earliest (cells row-major, row totals, column totals, grand
//      total);
//   2. otherwise (derivable only through a combination of constraints), the
//      first derivable entry gets a partner from the constraint it shares
//      with the fewest suppressed entries, smallest true count first;
// so that the least information is lost. The loop ends: each round
// suppresses one more entry, and a table with every entry suppressed has
// nothing derivable. (Greedy, not an optimal suppression pattern.)
// The check is exact integer (fraction-free) Gauss-Jordan elimination.
// Tables are small (at most ~40 x 15): a release costs microseconds for a
// 5 x 3 table and about half a millisecond of CPU for a 40 x 10 one with a
// third of its cells small (core_bench BM_ReleaseCountTable).
//
// No dependency beyond Abseil; thread-safe (pure functions).
#ifndef RUTA_CORE_DISCLOSURE_H_
#define RUTA_CORE_DISCLOSURE_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"

namespace ruta::core {

// The smallest threshold the design allows (DESIGN.md §6: "never below 5").
inline constexpr int64_t kMinimumThreshold = 5;

struct DisclosureOptions {
  // k: entries with a true count below it are suppressed. Default 10;
  // INVALID_ARGUMENT below kMinimumThreshold.
  int64_t threshold = 10;
};

// True counts over one attribute (one column) or two (rows x columns).
struct CountTable {
  // [row][column]; rectangular; each >= 0; at least 1 x 1.
  std::vector<std::vector<int64_t>> counts;
  // Whether totals are part of the release.
  bool publish_totals = true;
};

// A released table: nullopt means suppressed (shown "<k"). Shapes:
//   cells          as counts;
//   row_totals     one per row iff publish_totals and >= 2 columns (else
//                  empty: with one column a row total would be the cell);
//   column_totals  one per column iff publish_totals and >= 2 columns and
//                  >= 2 rows (else empty: with one row a column total would
//                  be the cell);
//   grand_total    set iff publish_totals (has_grand_total); it may itself be
//                  nullopt = suppressed.
struct ReleasedTable {
  std::vector<std::vector<std::optional<int64_t>>> cells;
  std::vector<std::optional<int64_t>> row_totals;
  std::vector<std::optional<int64_t>> column_totals;
  bool has_grand_total = false;
  std::optional<int64_t> grand_total;
};

// Releases `table` under `options`, with the guarantees above.
// INVALID_ARGUMENT for threshold < kMinimumThreshold, an empty or ragged
// table (no rows, a row with no columns, rows of different lengths), or a
// negative count. INTERNAL only if the exact arithmetic would overflow
// (impossible for the tables of the dashboard).
absl::StatusOr<ReleasedTable> ReleaseCountTable(
    const CountTable& table, const DisclosureOptions& options);

// Which entry of a released table an EntryRef names.
enum class EntryKind {
  kCell = 0,         // cells[row][column]
  kRowTotal = 1,     // row_totals[row]; column = -1
  kColumnTotal = 2,  // column_totals[column]; row = -1
  kGrandTotal = 3,   // grand_total; row = column = -1
};

struct EntryRef {
  EntryKind kind = EntryKind::kCell;
  int row = -1;
  int column = -1;
  friend bool operator==(const EntryRef& a, const EntryRef& b) {
    return a.kind == b.kind && a.row == b.row && a.column == b.column;
  }
  friend bool operator!=(const EntryRef& a, const EntryRef& b) {
    return !(a == b);
  }
};

// The suppressed entries of `released` (cells and totals) that can be
// recovered exactly by a linear combination of its published entries, under
// the constraints listed above (the totals present are inferred from the
// shape: has_grand_total, row_totals, column_totals). Empty iff the release
// protects every suppressed entry. Only which entries are suppressed matters,
// not the published values. Order: cells row-major, row totals, column
// totals, grand total. Exposed for tests and audits.
// INVALID_ARGUMENT when `released` does not have one of the shapes of
// ReleasedTable (empty, ragged, totals of the wrong size, totals without a
// grand total).
absl::StatusOr<std::vector<EntryRef>> DerivableEntries(
    const ReleasedTable& released);

}  // namespace ruta::core

#endif  // RUTA_CORE_DISCLOSURE_H_
