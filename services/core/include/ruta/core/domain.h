// The anonymized domain model of a regional node: cases and their profiles.
//
// These types carry no identifier of a child: the identity tuple only exists
// in `IdentityTuple` (see pseudonym.h), which is never stored. Enumerations
// mirror `proto/ruta/v1` value for value; the api layer converts between them
// and rejects unknown values before they get here.
#ifndef RUTA_CORE_DOMAIN_H_
#define RUTA_CORE_DOMAIN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace ruta::core {

enum class CaseKind { kUnspecified = 0, kVictim = 1, kPrevention = 2 };

// Stages of DESIGN.md §4. Numeric values equal the proto enum values.
enum class Stage {
  kUnspecified = 0,
  kDetected = 1,
  kIdentified = 2,
  kImmediateProtection = 3,
  kResidentialCare = 4,
  kFamilyCare = 5,
  kTransferRequested = 6,
  kInTransit = 7,
  kReceived = 8,
  kReintegrationPlan = 9,
  kFollowUp = 10,
  kClosed = 11,
  kPreventionSupport = 12,
};

enum class ClosedReason {
  kUnspecified = 0,
  kReintegrated = 1,
  kReachedMajority = 2,
  kReferred = 3,
  kLostContact = 4,
  kRevictimized = 5,
  kDeceased = 6,
};

// Age at identification, generalized at intake.
enum class AgeBand {
  kUnspecified = 0,
  k0To5 = 1,
  k6To11 = 2,
  k12To14 = 3,
  k15To17 = 4,
  k18Plus = 5,
};

enum class Sex { kUnspecified = 0, kFemale = 1, kMale = 2, kOther = 3 };

enum class ExploitationForm {
  kUnspecified = 0,
  kSexual = 1,
  kLabour = 2,
  kDomesticServitude = 3,
  kForcedBegging = 4,
  kOther = 5,
};

enum class Setting {
  kUnspecified = 0,
  kMiningCamp = 1,
  kBar = 2,
  kLodging = 3,
  kDomestic = 4,
  kOnline = 5,
  kOther = 6,
};

enum class RecruitmentMeans {
  kUnspecified = 0,
  kFalseJobOffer = 1,
  kFamily = 2,
  kPartner = 3,
  kInternet = 4,
  kOther = 5,
};

enum class LegalBasis {
  kUnspecified = 0,
  kUpeProtectiveMeasure = 1,
  kProsecutorOrder = 2,
  kWrittenConsent = 3,
};

// A calendar month; the finest precision at which a child's dates are kept.
struct YearMonth {
  int year = 0;   // e.g. 2026
  int month = 0;  // 1..12
  friend bool operator==(const YearMonth& a, const YearMonth& b) {
    return a.year == b.year && a.month == b.month;
  }
};

// Generalized, non-identifying attributes recorded at intake.
struct Profile {
  AgeBand age_band = AgeBand::kUnspecified;
  Sex sex = Sex::kUnspecified;
  std::string origin_province;  // UBIGEO province code, 4 digits ("0812").
  std::vector<ExploitationForm> exploitation_forms;  // Sorted, no duplicates.
  Setting setting = Setting::kUnspecified;
  RecruitmentMeans recruitment_means = RecruitmentMeans::kUnspecified;
  YearMonth identified_month;
};

// One episode of a child's care. `version` starts at 1 and grows by one with
// every committed change; the store keeps every version (case history).
struct Case {
  std::string case_id;     // "cs_" + 20 lowercase letters; random.
  std::string person_ref;  // Linkage pseudonym (pseudonym.h).
  CaseKind kind = CaseKind::kUnspecified;
  std::string owner_region;  // Region slug holding custody, e.g. "cusco".
  Stage stage = Stage::kUnspecified;
  // Stage the case was in before it was closed or entered a transfer stage;
  // kUnspecified otherwise. Lets a cancelled transfer return to care.
  Stage care_stage = Stage::kUnspecified;
  ClosedReason closed_reason = ClosedReason::kUnspecified;
  Profile profile;
  LegalBasis legal_basis = LegalBasis::kUnspecified;
  bool consent_partner_sharing = false;
  std::vector<std::string> referrals;  // Partner ids.
  int64_t version = 0;
  absl::Time opened_at = absl::InfinitePast();
  absl::Time updated_at = absl::InfinitePast();
  // Office principal (SPIFFE id) that opened the case.
  std::string opened_by;
};

// Who performs an operation: the authenticated certificate identity and, for
// the office console, the clerk acting through it. Never an identifier of a
// child.
struct Actor {
  std::string principal;  // e.g. "spiffe://cusco.ruta.pe/office/main-office"
  std::string region;     // trust-domain region slug of the principal
  std::string clerk;      // clerk account id, empty when none
};

// Names of enum values: the proto enum value names without their prefix,
// e.g. StageName(Stage::kImmediateProtection) == "IMMEDIATE_PROTECTION".
// kUnspecified gives "UNSPECIFIED"; a value outside the enum gives "UNKNOWN".
// These names are stable: they appear in error messages and in the keys of
// dashboard aggregates.
const char* StageName(Stage stage);
const char* ClosedReasonName(ClosedReason reason);
const char* CaseKindName(CaseKind kind);
const char* AgeBandName(AgeBand band);  // "0_5", "6_11", ..., "18_PLUS"
const char* SexName(Sex sex);
const char* ExploitationFormName(ExploitationForm form);
const char* SettingName(Setting setting);
const char* RecruitmentMeansName(RecruitmentMeans means);
const char* LegalBasisName(LegalBasis basis);

// Whether `value` is one of the enum's values other than kUnspecified (the
// api layer may hand over a casted integer from the wire).
bool IsSpecified(Stage stage);
bool IsSpecified(ClosedReason reason);
bool IsSpecified(CaseKind kind);
bool IsSpecified(AgeBand band);
bool IsSpecified(Sex sex);
bool IsSpecified(ExploitationForm form);
bool IsSpecified(Setting setting);
bool IsSpecified(RecruitmentMeans means);
bool IsSpecified(LegalBasis basis);

}  // namespace ruta::core

#endif  // RUTA_CORE_DOMAIN_H_
