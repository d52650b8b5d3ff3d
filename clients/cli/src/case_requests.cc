#include "ruta/cli/case_requests.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "ruta/cli/enums.h"
#include "ruta/common/status_macros.h"

namespace ruta::cli {
namespace {

using ruta::v1::AgeBand;
using ruta::v1::CaseKind;
using ruta::v1::ClosedReason;
using ruta::v1::ExploitationForm;
using ruta::v1::LegalBasis;
using ruta::v1::RecruitmentMeans;
using ruta::v1::Setting;
using ruta::v1::Sex;
using ruta::v1::Stage;

bool AllIn(absl::string_view text, char low, char high) {
  return std::all_of(text.begin(), text.end(),
                     [=](char c) { return c >= low && c <= high; });
}

}  // namespace

absl::Status ValidateRecordId(absl::string_view what, absl::string_view id,
                              absl::string_view prefix,
                              absl::string_view noun) {
  if (id.size() != prefix.size() + 20 ||
      id.substr(0, prefix.size()) != prefix ||
      !AllIn(id.substr(prefix.size()), 'a', 'z')) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " \"", id, "\" is not ", noun, " (\"", prefix,
                     "\" followed by 20 letters a-z)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateCaseId(absl::string_view what, absl::string_view case_id) {
  return ValidateRecordId(what, case_id, "cs_", "a case id");
}

absl::Status ValidatePageSize(int page_size) {
  if (page_size < 0 || page_size > 100) {
    return absl::InvalidArgumentError("--page-size must be from 1 to 100");
  }
  return absl::OkStatus();
}

absl::Status ValidateExpectedVersion(long long expected_version) {
  if (expected_version < 0) {
    return absl::InvalidArgumentError(
        "--expected-version must be a version number (1 or more)");
  }
  return absl::OkStatus();
}

absl::Status ValidatePersonRef(absl::string_view what, absl::string_view ref) {
  const size_t underscore = ref.find('_');
  const bool valid = ref.size() > 3 && ref.substr(0, 2) == "pr" &&
                     underscore != absl::string_view::npos && underscore > 2 &&
                     AllIn(ref.substr(2, underscore - 2), '0', '9') &&
                     ref.size() - underscore - 1 == 32 &&
                     AllIn(ref.substr(underscore + 1), 'a', 'p');
  if (!valid) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " \"", ref,
        "\" is not a person_ref (\"pr\", a key version, \"_\" and 32 "
        "letters a-p)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateProvince(absl::string_view what, absl::string_view code) {
  if (code.size() != 4 || !AllIn(code, '0', '9')) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " \"", code,
                     "\" is not a UBIGEO province code (4 digits, e.g. 0812)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ruta::v1::YearMonth> ParseYearMonth(absl::string_view what,
                                                   absl::string_view text) {
  int year = 0, month = 0;
  if (text.size() != 7 || text[4] != '-' ||
      !AllIn(text.substr(0, 4), '0', '9') || !AllIn(text.substr(5), '0', '9') ||
      !absl::SimpleAtoi(text.substr(0, 4), &year) ||
      !absl::SimpleAtoi(text.substr(5), &month) || month < 1 || month > 12 ||
      year < 1900) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " \"", text, "\" is not a month YYYY-MM, e.g. 2026-10"));
  }
  ruta::v1::YearMonth result;
  result.set_year(year);
  result.set_month(month);
  return result;
}

absl::StatusOr<ruta::v1::Date> ParseDate(absl::string_view what,
                                         absl::string_view text) {
  int year = 0, month = 0, day = 0;
  const bool shaped = text.size() == 10 && text[4] == '-' && text[7] == '-' &&
                      AllIn(text.substr(0, 4), '0', '9') &&
                      AllIn(text.substr(5, 2), '0', '9') &&
                      AllIn(text.substr(8, 2), '0', '9') &&
                      absl::SimpleAtoi(text.substr(0, 4), &year) &&
                      absl::SimpleAtoi(text.substr(5, 2), &month) &&
                      absl::SimpleAtoi(text.substr(8, 2), &day);
  // CivilDay normalizes an impossible date (2026-02-30 is 2026-03-02).
  const absl::CivilDay civil(year, month, day);
  if (!shaped || year < 1900 || civil.year() != year ||
      civil.month() != month || civil.day() != day) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " \"", text,
                     "\" is not a calendar date YYYY-MM-DD, e.g. 2026-10-31"));
  }
  ruta::v1::Date result;
  result.set_year(year);
  result.set_month(month);
  result.set_day(day);
  return result;
}

absl::StatusOr<ruta::v1::OpenCaseRequest> BuildOpenCaseRequest(
    const OpenCaseFlags& flags) {
  ruta::v1::OpenCaseRequest request;
  RUTA_ASSIGN_OR_RETURN(CaseKind kind,
                        ParseEnumFlag<CaseKind>("--kind", flags.kind));
  request.set_kind(kind);
  RUTA_ASSIGN_OR_RETURN(
      Stage stage, ParseEnumFlag<Stage>(
                       "--stage", flags.stage,
                       {ruta::v1::STAGE_DETECTED, ruta::v1::STAGE_IDENTIFIED}));
  request.set_initial_stage(stage);
  ruta::v1::Profile& profile = *request.mutable_profile();
  RUTA_ASSIGN_OR_RETURN(AgeBand age_band,
                        ParseEnumFlag<AgeBand>("--age-band", flags.age_band));
  profile.set_age_band(age_band);
  RUTA_ASSIGN_OR_RETURN(Sex sex, ParseEnumFlag<Sex>("--sex", flags.sex));
  profile.set_sex(sex);
  RUTA_RETURN_IF_ERROR(
      ValidateProvince("--origin-province", flags.origin_province));
  profile.set_origin_province(flags.origin_province);
  const bool victim = kind == ruta::v1::CASE_KIND_VICTIM;
  const auto required_for_victims = [&](absl::string_view option,
                                        bool given) -> absl::Status {
    if (victim && !given) {
      return absl::InvalidArgumentError(
          absl::StrCat(option, " is required for --kind victim"));
    }
    return absl::OkStatus();
  };
  RUTA_RETURN_IF_ERROR(
      required_for_victims("--exploitation", !flags.exploitation.empty()));
  if (!flags.exploitation.empty()) {
    RUTA_ASSIGN_OR_RETURN(std::vector<ExploitationForm> forms,
                          ParseEnumListFlag<ExploitationForm>(
                              "--exploitation", flags.exploitation));
    for (ExploitationForm form : forms) profile.add_exploitation_forms(form);
  }
  RUTA_RETURN_IF_ERROR(
      required_for_victims("--setting", !flags.setting.empty()));
  if (!flags.setting.empty()) {
    RUTA_ASSIGN_OR_RETURN(Setting setting,
                          ParseEnumFlag<Setting>("--setting", flags.setting));
    profile.set_setting(setting);
  }
  RUTA_RETURN_IF_ERROR(
      required_for_victims("--recruitment", !flags.recruitment.empty()));
  if (!flags.recruitment.empty()) {
    RUTA_ASSIGN_OR_RETURN(
        RecruitmentMeans means,
        ParseEnumFlag<RecruitmentMeans>("--recruitment", flags.recruitment));
    profile.set_recruitment_means(means);
  }
  RUTA_ASSIGN_OR_RETURN(
      *profile.mutable_identified_month(),
      ParseYearMonth("--identified-month", flags.identified_month));
  RUTA_ASSIGN_OR_RETURN(
      LegalBasis legal_basis,
      ParseEnumFlag<LegalBasis>("--legal-basis", flags.legal_basis));
  request.set_legal_basis(legal_basis);
  request.set_consent_partner_sharing(flags.consent_partner_sharing);
  return request;
}

absl::StatusOr<ruta::v1::ListCasesRequest> BuildListCasesRequest(
    const ListCasesFlags& flags) {
  ruta::v1::ListCasesRequest request;
  if (!flags.stage.empty()) {
    RUTA_ASSIGN_OR_RETURN(Stage stage,
                          ParseEnumFlag<Stage>("--stage", flags.stage));
    request.set_stage(stage);
  }
  if (!flags.kind.empty()) {
    RUTA_ASSIGN_OR_RETURN(CaseKind kind,
                          ParseEnumFlag<CaseKind>("--kind", flags.kind));
    request.set_kind(kind);
  }
  if (!flags.person_ref.empty()) {
    RUTA_RETURN_IF_ERROR(ValidatePersonRef("--person-ref", flags.person_ref));
    request.set_person_ref(flags.person_ref);
  }
  RUTA_RETURN_IF_ERROR(ValidatePageSize(flags.page_size));
  request.set_page_size(flags.page_size);
  request.set_page_token(flags.page_token);
  request.set_exclude_closed(flags.open_only);
  return request;
}

absl::StatusOr<ruta::v1::UpdateStageRequest> BuildUpdateStageRequest(
    const std::string& case_id, const std::string& stage_text,
    long long expected_version) {
  RUTA_RETURN_IF_ERROR(ValidateCaseId("CASE_ID", case_id));
  RUTA_RETURN_IF_ERROR(ValidateExpectedVersion(expected_version));
  RUTA_ASSIGN_OR_RETURN(Stage stage, ParseEnumFlag<Stage>("STAGE", stage_text));
  if (stage == ruta::v1::STAGE_CLOSED) {
    return absl::InvalidArgumentError(
        "a case is closed with `ruta case close CASE_ID --reason REASON`, not "
        "with `ruta case stage`");
  }
  ruta::v1::UpdateStageRequest request;
  request.set_case_id(case_id);
  request.set_stage(stage);
  request.set_expected_version(expected_version);
  return request;
}

absl::StatusOr<ruta::v1::CloseCaseRequest> BuildCloseCaseRequest(
    const std::string& case_id, const std::string& reason_text,
    long long expected_version) {
  RUTA_RETURN_IF_ERROR(ValidateCaseId("CASE_ID", case_id));
  RUTA_RETURN_IF_ERROR(ValidateExpectedVersion(expected_version));
  RUTA_ASSIGN_OR_RETURN(ClosedReason reason,
                        ParseEnumFlag<ClosedReason>("--reason", reason_text));
  ruta::v1::CloseCaseRequest request;
  request.set_case_id(case_id);
  request.set_reason(reason);
  request.set_expected_version(expected_version);
  return request;
}

}  // namespace ruta::cli
