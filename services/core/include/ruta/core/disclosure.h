// Disclosure control of dashboard count tables (DESIGN.md section 6).
// STAND-IN with the interface agreed with branch `suppress`, which provides
// the real implementation (complementary suppression); replaced at merge.
#ifndef RUTA_CORE_DISCLOSURE_H_
#define RUTA_CORE_DISCLOSURE_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"

namespace ruta::core {

struct DisclosureOptions {
  int64_t threshold = 10;  // k; INVALID_ARGUMENT below 5
};

struct CountTable {
  std::vector<std::vector<int64_t>> counts;  // [row][col]
  bool publish_totals = true;
};

// nullopt = suppressed "<k".
struct ReleasedTable {
  std::vector<std::vector<std::optional<int64_t>>> cells;
  // One per row iff publish_totals && >= 2 columns.
  std::vector<std::optional<int64_t>> row_totals;
  // One per column iff publish_totals && >= 2 columns && >= 2 rows.
  std::vector<std::optional<int64_t>> column_totals;
  bool has_grand_total = false;
  std::optional<int64_t> grand_total;
};

absl::StatusOr<ReleasedTable> ReleaseCountTable(
    const CountTable& table, const DisclosureOptions& options);

}  // namespace ruta::core

#endif  // RUTA_CORE_DISCLOSURE_H_
