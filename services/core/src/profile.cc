#include "ruta/core/profile.h"

#include <algorithm>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "ruta/core/ubigeo.h"

namespace ruta::core {
namespace {

constexpr int kFirstIdentifiedYear = 2000;

absl::Status Unspecified(absl::string_view field, absl::string_view expected) {
  return absl::InvalidArgumentError(absl::StrCat(field, " must be ", expected));
}

}  // namespace

void NormalizeProfile(Profile* profile) {
  auto& forms = profile->exploitation_forms;
  std::sort(forms.begin(), forms.end());
  forms.erase(std::unique(forms.begin(), forms.end()), forms.end());
}

absl::Status ValidateProfile(const Profile& profile, CaseKind kind,
                             absl::Time now) {
  if (!IsSpecified(kind)) {
    return Unspecified("kind", "VICTIM or PREVENTION");
  }
  const bool victim = kind == CaseKind::kVictim;
  if (!IsSpecified(profile.age_band)) {
    return Unspecified("profile.age_band",
                       "one of 0_5, 6_11, 12_14, 15_17, 18_PLUS (age at "
                       "identification)");
  }
  if (!IsSpecified(profile.sex)) {
    return Unspecified("profile.sex", "one of FEMALE, MALE, OTHER");
  }
  const auto& forms = profile.exploitation_forms;
  for (size_t i = 0; i < forms.size(); ++i) {
    if (!IsSpecified(forms[i])) {
      return Unspecified("profile.exploitation_forms",
                         "values among SEXUAL, LABOUR, DOMESTIC_SERVITUDE, "
                         "FORCED_BEGGING, OTHER");
    }
    if (i > 0 && !(forms[i - 1] < forms[i])) {
      return Unspecified("profile.exploitation_forms",
                         "without duplicates (each form at most once)");
    }
  }
  if (victim && forms.empty()) {
    return Unspecified("profile.exploitation_forms",
                       "given for a VICTIM case: at least one form");
  }
  const bool setting_ok = IsSpecified(profile.setting) ||
                          (!victim && profile.setting == Setting::kUnspecified);
  if (!setting_ok) {
    return Unspecified("profile.setting",
                       "one of MINING_CAMP, BAR, LODGING, DOMESTIC, ONLINE, "
                       "OTHER");
  }
  const bool means_ok =
      IsSpecified(profile.recruitment_means) ||
      (!victim && profile.recruitment_means == RecruitmentMeans::kUnspecified);
  if (!means_ok) {
    return Unspecified("profile.recruitment_means",
                       "one of FALSE_JOB_OFFER, FAMILY, PARTNER, INTERNET, "
                       "OTHER");
  }
  if (!IsKnownProvince(profile.origin_province)) {
    return Unspecified("profile.origin_province",
                       "a UBIGEO province code of 4 digits from the catalogue "
                       "(e.g. 0812 for Quispicanchi; a province, never a "
                       "district)");
  }
  const YearMonth& m = profile.identified_month;
  if (m.month < 1 || m.month > 12) {
    return Unspecified("profile.identified_month", "a month with month 1..12");
  }
  const absl::CivilMonth current =
      absl::CivilMonth(absl::ToCivilDay(now, absl::UTCTimeZone()));
  if (m.year < kFirstIdentifiedYear ||
      absl::CivilMonth(m.year, m.month) > current) {
    return Unspecified("profile.identified_month",
                       absl::StrCat("a month from ", kFirstIdentifiedYear,
                                    "-01 up to the current month"));
  }
  return absl::OkStatus();
}

std::string QuarterOf(const YearMonth& month) {
  return absl::StrCat(month.year, "Q", (month.month - 1) / 3 + 1);
}

}  // namespace ruta::core
