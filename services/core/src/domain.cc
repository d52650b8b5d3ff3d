#include "ruta/core/domain.h"

#include <cstddef>
#include <iterator>

#include "enum_names.h"

namespace ruta::core {
namespace {

using internal::InRange;
using internal::NameOf;

constexpr const char* kStageNames[] = {
    "UNSPECIFIED",          "DETECTED",         "IDENTIFIED",
    "IMMEDIATE_PROTECTION", "RESIDENTIAL_CARE", "FAMILY_CARE",
    "TRANSFER_REQUESTED",   "IN_TRANSIT",       "RECEIVED",
    "REINTEGRATION_PLAN",   "FOLLOW_UP",        "CLOSED",
    "PREVENTION_SUPPORT",
};
constexpr const char* kClosedReasonNames[] = {
    "UNSPECIFIED",  "REINTEGRATED", "REACHED_MAJORITY", "REFERRED",
    "LOST_CONTACT", "REVICTIMIZED", "DECEASED",
};
constexpr const char* kCaseKindNames[] = {"UNSPECIFIED", "VICTIM",
                                          "PREVENTION"};
constexpr const char* kAgeBandNames[] = {"UNSPECIFIED", "0_5",   "6_11",
                                         "12_14",       "15_17", "18_PLUS"};
constexpr const char* kSexNames[] = {"UNSPECIFIED", "FEMALE", "MALE", "OTHER"};
constexpr const char* kExploitationFormNames[] = {
    "UNSPECIFIED",        "SEXUAL",         "LABOUR",
    "DOMESTIC_SERVITUDE", "FORCED_BEGGING", "OTHER",
};
constexpr const char* kSettingNames[] = {
    "UNSPECIFIED", "MINING_CAMP", "BAR",   "LODGING",
    "DOMESTIC",    "ONLINE",      "OTHER",
};
constexpr const char* kRecruitmentMeansNames[] = {
    "UNSPECIFIED", "FALSE_JOB_OFFER", "FAMILY", "PARTNER", "INTERNET", "OTHER",
};
constexpr const char* kLegalBasisNames[] = {
    "UNSPECIFIED",
    "UPE_PROTECTIVE_MEASURE",
    "PROSECUTOR_ORDER",
    "WRITTEN_CONSENT",
};

}  // namespace

const char* StageName(Stage stage) { return NameOf(stage, kStageNames); }
const char* ClosedReasonName(ClosedReason reason) {
  return NameOf(reason, kClosedReasonNames);
}
const char* CaseKindName(CaseKind kind) { return NameOf(kind, kCaseKindNames); }
const char* AgeBandName(AgeBand band) { return NameOf(band, kAgeBandNames); }
const char* SexName(Sex sex) { return NameOf(sex, kSexNames); }
const char* ExploitationFormName(ExploitationForm form) {
  return NameOf(form, kExploitationFormNames);
}
const char* SettingName(Setting setting) {
  return NameOf(setting, kSettingNames);
}
const char* RecruitmentMeansName(RecruitmentMeans means) {
  return NameOf(means, kRecruitmentMeansNames);
}
const char* LegalBasisName(LegalBasis basis) {
  return NameOf(basis, kLegalBasisNames);
}

bool IsSpecified(Stage stage) { return InRange(stage, kStageNames); }
bool IsSpecified(ClosedReason reason) {
  return InRange(reason, kClosedReasonNames);
}
bool IsSpecified(CaseKind kind) { return InRange(kind, kCaseKindNames); }
bool IsSpecified(AgeBand band) { return InRange(band, kAgeBandNames); }
bool IsSpecified(Sex sex) { return InRange(sex, kSexNames); }
bool IsSpecified(ExploitationForm form) {
  return InRange(form, kExploitationFormNames);
}
bool IsSpecified(Setting setting) { return InRange(setting, kSettingNames); }
bool IsSpecified(RecruitmentMeans means) {
  return InRange(means, kRecruitmentMeansNames);
}
bool IsSpecified(LegalBasis basis) { return InRange(basis, kLegalBasisNames); }

}  // namespace ruta::core
