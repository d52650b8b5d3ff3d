// STAND-IN (see disclosure.h): primary suppression of counts 1..k-1 and a
// simple complementary pass (a line with one suppressed cell and a published
// total loses its next smallest cell too). Replaced by branch `suppress`.
#include "ruta/core/disclosure.h"

#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ruta::core {
namespace {

bool Sensitive(int64_t v, int64_t k) { return v > 0 && v < k; }

}  // namespace

absl::StatusOr<ReleasedTable> ReleaseCountTable(
    const CountTable& table, const DisclosureOptions& options) {
  const int64_t k = options.threshold;
  if (k < 5) {
    return absl::InvalidArgumentError(
        absl::StrCat("threshold ", k, " is below 5"));
  }
  const size_t rows = table.counts.size();
  const size_t cols = rows == 0 ? 0 : table.counts[0].size();
  std::vector<std::vector<bool>> hidden(rows, std::vector<bool>(cols, false));
  for (size_t r = 0; r < rows; ++r) {
    if (table.counts[r].size() != cols) {
      return absl::InvalidArgumentError("rows of different lengths");
    }
    for (size_t c = 0; c < cols; ++c) {
      hidden[r][c] = Sensitive(table.counts[r][c], k);
    }
  }
  const bool row_totals = table.publish_totals && cols >= 2;
  const bool col_totals = table.publish_totals && cols >= 2 && rows >= 2;
  const bool single_col_total = table.publish_totals && cols == 1 && rows >= 2;
  for (bool changed = true; changed;) {
    changed = false;
    auto fix_line = [&](std::vector<std::pair<size_t, size_t>> line) {
      int n = 0;
      for (auto [r, c] : line) n += hidden[r][c] ? 1 : 0;
      if (n != 1) return;
      std::pair<size_t, size_t> best{rows, cols};
      int64_t best_v = std::numeric_limits<int64_t>::max();
      for (auto [r, c] : line) {
        if (!hidden[r][c] && table.counts[r][c] < best_v) {
          best = {r, c};
          best_v = table.counts[r][c];
        }
      }
      if (best.first < rows) {
        hidden[best.first][best.second] = true;
        changed = true;
      }
    };
    if (row_totals) {
      for (size_t r = 0; r < rows; ++r) {
        std::vector<std::pair<size_t, size_t>> line;
        for (size_t c = 0; c < cols; ++c) line.emplace_back(r, c);
        fix_line(line);
      }
    }
    if (col_totals || single_col_total) {
      for (size_t c = 0; c < cols; ++c) {
        std::vector<std::pair<size_t, size_t>> line;
        for (size_t r = 0; r < rows; ++r) line.emplace_back(r, c);
        fix_line(line);
      }
    }
  }
  ReleasedTable out;
  int64_t grand = 0;
  out.cells.resize(rows);
  for (size_t r = 0; r < rows; ++r) {
    int64_t total = 0;
    for (size_t c = 0; c < cols; ++c) {
      const int64_t v = table.counts[r][c];
      total += v;
      out.cells[r].push_back(hidden[r][c] ? std::nullopt
                                          : std::optional<int64_t>(v));
    }
    grand += total;
    if (row_totals) {
      out.row_totals.push_back(Sensitive(total, k) ? std::nullopt
                                                   : std::optional(total));
    }
  }
  if (col_totals) {
    for (size_t c = 0; c < cols; ++c) {
      int64_t total = 0;
      for (size_t r = 0; r < rows; ++r) total += table.counts[r][c];
      out.column_totals.push_back(Sensitive(total, k) ? std::nullopt
                                                      : std::optional(total));
    }
  }
  if (table.publish_totals && (rows >= 2 || cols >= 2)) {
    out.has_grand_total = true;
    out.grand_total = Sensitive(grand, k) ? std::nullopt : std::optional(grand);
  }
  return out;
}

}  // namespace ruta::core
