// Validation of the generalized intake profile of a case (DESIGN.md §4, §6).
#ifndef RUTA_CORE_PROFILE_H_
#define RUTA_CORE_PROFILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ruta/core/domain.h"

namespace ruta::core {

// Sorts `profile->exploitation_forms` and removes duplicates.
void NormalizeProfile(Profile* profile);

// OK when `profile` is complete and consistent for a case of `kind`:
//  * age_band, sex: specified (not UNSPECIFIED, a value of the enum);
//  * exploitation_forms: values of the enum, sorted without duplicates (see
//    NormalizeProfile); at least one for VICTIM cases, any number (zero
//    included) for PREVENTION cases;
//  * setting, recruitment_means: specified for VICTIM cases; for PREVENTION
//    cases (a child at risk, not exploited) UNSPECIFIED is allowed, any other
//    value must be one of the enum;
//  * origin_province: a province of the UBIGEO catalogue (4 digits);
//  * identified_month: a real month, year 2000 or later, not after the
//    current month (UTC) of `now`.
// Otherwise INVALID_ARGUMENT naming the field ("profile.origin_province")
// and what is expected. The message never echoes the value.
absl::Status ValidateProfile(const Profile& profile, CaseKind kind,
                             absl::Time now);
inline absl::Status ValidateProfile(const Profile& profile, CaseKind kind) {
  return ValidateProfile(profile, kind, absl::Now());
}

// "2026Q3": the calendar quarter of a month (for quarterly aggregates).
std::string QuarterOf(const YearMonth& month);

}  // namespace ruta::core

#endif  // RUTA_CORE_PROFILE_H_
