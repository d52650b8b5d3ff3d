// Dashboard aggregate counters maintained incrementally by the core, in the
// same write transaction as the change they count (DESIGN.md §3, §6).
//
// Keys are "|"-joined; region slugs, stage and enum names never contain "|".
// Counts are by owner region: a transferred case moves from one region's
// counters to the other's when custody moves.
#ifndef RUTA_CORE_AGGREGATES_H_
#define RUTA_CORE_AGGREGATES_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "ruta/core/domain.h"
#include "ruta/store/store.h"

namespace ruta::core {

// Open and closed cases by current stage: key "<region>|<STAGE>", e.g.
// "cusco|IMMEDIATE_PROTECTION".
inline constexpr std::string_view kCasesByStageTable = "cases_by_stage";
// Cases by quarter of identification, age band and sex: key
// "<region>|<YYYY>Q<q>|<AGE_BAND>|<SEX>", e.g. "cusco|2026Q3|12_14|FEMALE".
inline constexpr std::string_view kCasesByAgeSexTable = "cases_by_age_sex";

std::string CasesByStageKey(std::string_view region, Stage stage);
std::string CasesByAgeSexKey(std::string_view region, const Profile& profile);

// Adds `delta` (+1 or -1) to every counter `c` contributes to.
absl::Status CountCase(store::WriteTxn& txn, const Case& c, int64_t delta);

// Moves `c` from the counter of stage `from` to that of its current stage.
absl::Status CountStageChange(store::WriteTxn& txn, const Case& c, Stage from);

}  // namespace ruta::core

#endif  // RUTA_CORE_AGGREGATES_H_
