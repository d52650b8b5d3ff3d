#include "ruta/core/disclosure.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "ruta/common/status_macros.h"

namespace ruta::core {
namespace {

// The entries of a release as unknowns x_0..x_{n-1}: cells row-major, then
// row totals, column totals, the grand total.
struct Layout {
  int rows = 0;
  int columns = 0;
  bool row_totals = false;
  bool column_totals = false;
  bool grand_total = false;

  static Layout Of(int rows, int columns, bool totals) {
    Layout l;
    l.rows = rows;
    l.columns = columns;
    l.grand_total = totals;
    l.row_totals = totals && columns >= 2;
    l.column_totals = totals && columns >= 2 && rows >= 2;
    return l;
  }
  int Cell(int r, int c) const { return r * columns + c; }
  int RowTotal(int r) const { return rows * columns + r; }
  int ColumnTotal(int c) const {
    return rows * columns + (row_totals ? rows : 0) + c;
  }
  int GrandTotal() const {
    return rows * columns + (row_totals ? rows : 0) +
           (column_totals ? columns : 0);
  }
  int Size() const { return GrandTotal() + (grand_total ? 1 : 0); }

  EntryRef RefOf(int v) const {
    if (v < rows * columns) return {EntryKind::kCell, v / columns, v % columns};
    v -= rows * columns;
    if (row_totals) {
      if (v < rows) return {EntryKind::kRowTotal, v, -1};
      v -= rows;
    }
    if (column_totals) {
      if (v < columns) return {EntryKind::kColumnTotal, -1, v};
    }
    return {EntryKind::kGrandTotal, -1, -1};
  }
  bool IsTotal(int v) const { return v >= rows * columns; }
};

// One linear equation sum coef * x_var = 0 (coefficients +-1).
using Constraint = std::vector<std::pair<int, int64_t>>;

std::vector<Constraint> ConstraintsOf(const Layout& l) {
  std::vector<Constraint> out;
  if (l.row_totals) {
    for (int r = 0; r < l.rows; ++r) {
      Constraint k;
      for (int c = 0; c < l.columns; ++c) k.push_back({l.Cell(r, c), 1});
      k.push_back({l.RowTotal(r), -1});
      out.push_back(std::move(k));
    }
  }
  if (l.column_totals) {
    for (int c = 0; c < l.columns; ++c) {
      Constraint k;
      for (int r = 0; r < l.rows; ++r) k.push_back({l.Cell(r, c), 1});
      k.push_back({l.ColumnTotal(c), -1});
      out.push_back(std::move(k));
    }
  }
  if (l.grand_total) {
    if (l.row_totals) {
      Constraint k;
      for (int r = 0; r < l.rows; ++r) k.push_back({l.RowTotal(r), 1});
      k.push_back({l.GrandTotal(), -1});
      out.push_back(std::move(k));
    }
    if (l.column_totals) {
      Constraint k;
      for (int c = 0; c < l.columns; ++c) k.push_back({l.ColumnTotal(c), 1});
      k.push_back({l.GrandTotal(), -1});
      out.push_back(std::move(k));
    }
    if (!l.row_totals && !l.column_totals) {
      Constraint k;
      for (int r = 0; r < l.rows; ++r) {
        for (int c = 0; c < l.columns; ++c) k.push_back({l.Cell(r, c), 1});
      }
      k.push_back({l.GrandTotal(), -1});
      out.push_back(std::move(k));
    }
  }
  return out;
}

// Divides a row by the gcd of its entries (keeps the numbers small).
void Normalize(std::vector<int64_t>& row) {
  int64_t g = 0;
  for (int64_t v : row) {
    if (v != 0) g = std::gcd(g, v < 0 ? -v : v);
  }
  if (g > 1) {
    for (int64_t& v : row) v /= g;
  }
}

// The unknowns (suppressed variables) that are derivable: x_i is derivable
// iff e_i lies in the row space of the constraint matrix restricted to the
// unknowns (the published variables move to the right-hand side). After
// Gauss-Jordan elimination, e_i is in the row space iff i is a pivot column
// whose row has no other non-zero entry. Exact integer arithmetic: a row
// update is row_i * a - row_p * b, then the row is divided by its gcd.
absl::StatusOr<std::vector<int>> Derivable(
    const Layout& l, const std::vector<Constraint>& constraints,
    const std::vector<bool>& suppressed) {
  std::vector<int> unknowns;
  std::vector<int> column_of(l.Size(), -1);
  for (int v = 0; v < l.Size(); ++v) {
    if (suppressed[v]) {
      column_of[v] = static_cast<int>(unknowns.size());
      unknowns.push_back(v);
    }
  }
  const size_t n = unknowns.size();
  std::vector<std::vector<int64_t>> m;
  m.reserve(constraints.size());
  for (const Constraint& k : constraints) {
    std::vector<int64_t> row(n, 0);
    bool any = false;
    for (const auto& [v, coef] : k) {
      if (column_of[v] >= 0) {
        row[column_of[v]] = coef;
        any = true;
      }
    }
    if (any) m.push_back(std::move(row));
  }

  std::vector<int> pivot_column;  // per pivot row
  size_t next = 0;
  for (size_t col = 0; col < n && next < m.size(); ++col) {
    size_t p = next;
    while (p < m.size() && m[p][col] == 0) ++p;
    if (p == m.size()) continue;
    std::swap(m[p], m[next]);
    const std::vector<int64_t>& prow = m[next];
    for (size_t i = 0; i < m.size(); ++i) {
      if (i == next || m[i][col] == 0) continue;
      const int64_t a = prow[col];
      const int64_t b = m[i][col];
      std::vector<int64_t>& row = m[i];
      for (size_t j = 0; j < n; ++j) {
        int64_t x, y;
        if (__builtin_mul_overflow(row[j], a, &x) ||
            __builtin_mul_overflow(prow[j], b, &y) ||
            __builtin_sub_overflow(x, y, &row[j])) {
          return absl::InternalError(
              "disclosure check: exact arithmetic overflowed");
        }
      }
      Normalize(row);
    }
    pivot_column.push_back(static_cast<int>(col));
    ++next;
  }

  std::vector<int> derivable;
  for (size_t r = 0; r < pivot_column.size(); ++r) {
    int nonzero = 0;
    for (int64_t v : m[r]) nonzero += v != 0 ? 1 : 0;
    if (nonzero == 1) derivable.push_back(unknowns[pivot_column[r]]);
  }
  std::sort(derivable.begin(), derivable.end());
  return derivable;
}

absl::Status CheckCounts(const CountTable& table) {
  if (table.counts.empty() || table.counts.front().empty()) {
    return absl::InvalidArgumentError(
        "count table is empty: it needs at least one row and one column");
  }
  const size_t columns = table.counts.front().size();
  for (size_t r = 0; r < table.counts.size(); ++r) {
    if (table.counts[r].size() != columns) {
      return absl::InvalidArgumentError(absl::StrCat(
          "count table is ragged: row ", r, " has ", table.counts[r].size(),
          " columns, row 0 has ", columns));
    }
    for (size_t c = 0; c < columns; ++c) {
      if (table.counts[r][c] < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("count table cell [", r, "][", c,
                         "] is negative: ", table.counts[r][c]));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ReleasedTable> ReleaseCountTable(
    const CountTable& table, const DisclosureOptions& options) {
  if (options.threshold < kMinimumThreshold) {
    return absl::InvalidArgumentError(
        absl::StrCat("disclosure threshold ", options.threshold,
                     " is below the minimum of ", kMinimumThreshold));
  }
  if (absl::Status s = CheckCounts(table); !s.ok()) return s;
  const Layout l = Layout::Of(static_cast<int>(table.counts.size()),
                              static_cast<int>(table.counts.front().size()),
                              table.publish_totals);

  // True values of every entry.
  std::vector<int64_t> value(l.Size(), 0);
  auto add = [](int64_t& to, int64_t v) {
    return !__builtin_add_overflow(to, v, &to);
  };
  int64_t grand = 0;
  for (int r = 0; r < l.rows; ++r) {
    for (int c = 0; c < l.columns; ++c) {
      const int64_t v = table.counts[r][c];
      value[l.Cell(r, c)] = v;
      if ((l.row_totals && !add(value[l.RowTotal(r)], v)) ||
          (l.column_totals && !add(value[l.ColumnTotal(c)], v)) ||
          !add(grand, v)) {
        return absl::InvalidArgumentError(
            "count table totals overflow a 64-bit integer");
      }
    }
  }
  if (l.grand_total) value[l.GrandTotal()] = grand;

  // Primary suppression.
  std::vector<bool> suppressed(l.Size(), false);
  for (int v = 0; v < l.Size(); ++v) {
    suppressed[v] = value[v] < options.threshold;
  }

  // Complementary suppression, one entry per round (see the header).
  const std::vector<Constraint> constraints = ConstraintsOf(l);
  std::vector<std::vector<int>> constraints_of(l.Size());
  for (size_t k = 0; k < constraints.size(); ++k) {
    for (const auto& [v, coef] : constraints[k]) {
      constraints_of[v].push_back(static_cast<int>(k));
    }
  }
  // Smaller count first, then a cell before a total, then the earliest.
  auto cheaper = [&](int a, int b) {
    return std::make_tuple(value[a], l.IsTotal(a), a) <
           std::make_tuple(value[b], l.IsTotal(b), b);
  };
  std::vector<int> unknowns_in(constraints.size(), 0);
  for (;;) {
    absl::StatusOr<std::vector<int>> derivable =
        Derivable(l, constraints, suppressed);
    if (!derivable.ok()) return derivable.status();
    if (derivable->empty()) break;
    for (size_t k = 0; k < constraints.size(); ++k) {
      unknowns_in[k] = 0;
      for (const auto& [v, coef] : constraints[k])
        unknowns_in[k] += suppressed[v];
    }
    int choice = -1;
    // An exposed entry: the only unknown of a constraint (a row, a column,
    // the totals). Its partner is the published entry that covers the most
    // such constraints (the corner of a rectangle), then the cheapest.
    std::vector<int> cover(l.Size(), 0);
    for (size_t k = 0; k < constraints.size(); ++k) {
      if (unknowns_in[k] != 1) continue;
      for (const auto& [v, coef] : constraints[k]) {
        if (!suppressed[v]) ++cover[v];
      }
    }
    for (int v = 0; v < l.Size(); ++v) {
      if (cover[v] == 0) continue;
      if (choice < 0 || cover[v] > cover[choice] ||
          (cover[v] == cover[choice] && cheaper(v, choice))) {
        choice = v;
      }
    }
    if (choice < 0) {
      // Derivable only through a combination of constraints: a partner for
      // the first derivable entry, from its constraint with the fewest
      // unknowns, then the cheapest.
      const int target = derivable->front();
      int fewest = 0;
      for (int k : constraints_of[target]) {
        for (const auto& [v, coef] : constraints[k]) {
          if (suppressed[v]) continue;
          if (choice < 0 || unknowns_in[k] < fewest ||
              (unknowns_in[k] == fewest && cheaper(v, choice))) {
            choice = v;
            fewest = unknowns_in[k];
          }
        }
      }
    }
    if (choice < 0) {  // No published neighbour: the cheapest anywhere.
      for (int v = 0; v < l.Size(); ++v) {
        if (!suppressed[v] && (choice < 0 || cheaper(v, choice))) choice = v;
      }
    }
    if (choice < 0) {
      // Unreachable: with everything suppressed nothing is derivable.
      return absl::InternalError("disclosure: no entry left to suppress");
    }
    suppressed[choice] = true;
  }

  ReleasedTable out;
  auto entry = [&](int v) -> std::optional<int64_t> {
    if (suppressed[v]) return std::nullopt;
    return value[v];
  };
  out.cells.resize(l.rows);
  for (int r = 0; r < l.rows; ++r) {
    for (int c = 0; c < l.columns; ++c)
      out.cells[r].push_back(entry(l.Cell(r, c)));
  }
  if (l.row_totals) {
    for (int r = 0; r < l.rows; ++r)
      out.row_totals.push_back(entry(l.RowTotal(r)));
  }
  if (l.column_totals) {
    for (int c = 0; c < l.columns; ++c) {
      out.column_totals.push_back(entry(l.ColumnTotal(c)));
    }
  }
  out.has_grand_total = l.grand_total;
  if (l.grand_total) out.grand_total = entry(l.GrandTotal());
  return out;
}

absl::StatusOr<std::vector<EntryRef>> DerivableEntries(
    const ReleasedTable& released) {
  if (released.cells.empty() || released.cells.front().empty()) {
    return absl::InvalidArgumentError(
        "released table is empty: it needs at least one row and one column");
  }
  const size_t columns = released.cells.front().size();
  for (size_t r = 0; r < released.cells.size(); ++r) {
    if (released.cells[r].size() != columns) {
      return absl::InvalidArgumentError(absl::StrCat(
          "released table is ragged: row ", r, " has ",
          released.cells[r].size(), " columns, row 0 has ", columns));
    }
  }
  const Layout l =
      Layout::Of(static_cast<int>(released.cells.size()),
                 static_cast<int>(columns), released.has_grand_total);
  const size_t want_rows = l.row_totals ? l.rows : 0;
  const size_t want_columns = l.column_totals ? l.columns : 0;
  if (released.row_totals.size() != want_rows ||
      released.column_totals.size() != want_columns) {
    return absl::InvalidArgumentError(
        absl::StrCat("released table totals do not match its shape: ",
                     released.row_totals.size(), " row totals (want ",
                     want_rows, ") and ", released.column_totals.size(),
                     " column totals (want ", want_columns, ")"));
  }
  if (!released.has_grand_total && released.grand_total.has_value()) {
    return absl::InvalidArgumentError(
        "released table has a grand total value but has_grand_total is false");
  }
  std::vector<bool> suppressed(l.Size(), false);
  for (int r = 0; r < l.rows; ++r) {
    for (int c = 0; c < l.columns; ++c) {
      suppressed[l.Cell(r, c)] = !released.cells[r][c].has_value();
    }
    if (l.row_totals) {
      suppressed[l.RowTotal(r)] = !released.row_totals[r].has_value();
    }
  }
  if (l.column_totals) {
    for (int c = 0; c < l.columns; ++c) {
      suppressed[l.ColumnTotal(c)] = !released.column_totals[c].has_value();
    }
  }
  if (l.grand_total) {
    suppressed[l.GrandTotal()] = !released.grand_total.has_value();
  }
  RUTA_ASSIGN_OR_RETURN(std::vector<int> derivable,
                        Derivable(l, ConstraintsOf(l), suppressed));
  std::vector<EntryRef> out;
  out.reserve(derivable.size());
  for (int v : derivable) out.push_back(l.RefOf(v));
  return out;
}

}  // namespace ruta::core
