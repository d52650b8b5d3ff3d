#include "ruta/core/aggregates.h"

#include "absl/strings/str_cat.h"
#include "ruta/common/status_macros.h"
#include "ruta/core/profile.h"

namespace ruta::core {

std::string CasesByStageKey(std::string_view region, Stage stage) {
  return absl::StrCat(absl::string_view(region.data(), region.size()), "|",
                      StageName(stage));
}

std::string CasesByAgeSexKey(std::string_view region, const Profile& profile) {
  return absl::StrCat(absl::string_view(region.data(), region.size()), "|",
                      QuarterOf(profile.identified_month), "|",
                      AgeBandName(profile.age_band), "|", SexName(profile.sex));
}

absl::Status CountCase(store::WriteTxn& txn, const Case& c, int64_t delta) {
  RUTA_RETURN_IF_ERROR(
      txn.AddToAggregate(std::string(kCasesByStageTable),
                         CasesByStageKey(c.owner_region, c.stage), delta));
  return txn.AddToAggregate(std::string(kCasesByAgeSexTable),
                            CasesByAgeSexKey(c.owner_region, c.profile), delta);
}

absl::Status CountStageChange(store::WriteTxn& txn, const Case& c, Stage from) {
  if (from == c.stage) return absl::OkStatus();
  const std::string table(kCasesByStageTable);
  RUTA_RETURN_IF_ERROR(
      txn.AddToAggregate(table, CasesByStageKey(c.owner_region, from), -1));
  return txn.AddToAggregate(table, CasesByStageKey(c.owner_region, c.stage),
                            +1);
}

}  // namespace ruta::core
