// Building CaseOffice requests from command-line values (no I/O).
#ifndef RUTA_CLI_CASE_REQUESTS_H_
#define RUTA_CLI_CASE_REQUESTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ruta/v1/case_office.pb.h"
#include "ruta/v1/common.pb.h"

namespace ruta::cli {

// A record id: `prefix` ("cs_", "tr_", "sv_") + 20 letters a-z;
// INVALID_ARGUMENT naming `what` and the kind of id (`noun`) otherwise.
absl::Status ValidateRecordId(absl::string_view what, absl::string_view id,
                              absl::string_view prefix, absl::string_view noun);
// "cs_" + 20 letters a-z; INVALID_ARGUMENT naming `what` otherwise.
absl::Status ValidateCaseId(absl::string_view what, absl::string_view case_id);
// "pr<version>_" + 32 letters a-p.
absl::Status ValidatePersonRef(absl::string_view what, absl::string_view ref);
// UBIGEO province: 4 digits.
absl::Status ValidateProvince(absl::string_view what, absl::string_view code);
// "YYYY-MM".
absl::StatusOr<ruta::v1::YearMonth> ParseYearMonth(absl::string_view what,
                                                   absl::string_view text);
// "YYYY-MM-DD", a calendar date (not before 1900).
absl::StatusOr<ruta::v1::Date> ParseDate(absl::string_view what,
                                         absl::string_view text);
// --page-size: 0 (the node's default) or 1 to 100.
absl::Status ValidatePageSize(int page_size);
// --expected-version: 0 (unconditional) or a version number.
absl::Status ValidateExpectedVersion(long long expected_version);

// Values of `ruta case open` (identifiers and request_id are added later).
struct OpenCaseFlags {
  std::string kind;
  std::string stage;
  std::string age_band;
  std::string sex;
  std::string origin_province;
  std::vector<std::string> exploitation;
  std::string setting;
  std::string recruitment;
  std::string identified_month;
  std::string legal_basis;
  bool consent_partner_sharing = false;
};

absl::StatusOr<ruta::v1::OpenCaseRequest> BuildOpenCaseRequest(
    const OpenCaseFlags& flags);

// Values of `ruta case list`.
struct ListCasesFlags {
  std::string stage;
  std::string kind;
  std::string person_ref;
  bool open_only = false;
  int page_size = 0;
  std::string page_token;
};

absl::StatusOr<ruta::v1::ListCasesRequest> BuildListCasesRequest(
    const ListCasesFlags& flags);

// `ruta case stage CASE_ID STAGE`: any stage but closed (use `case close`).
absl::StatusOr<ruta::v1::UpdateStageRequest> BuildUpdateStageRequest(
    const std::string& case_id, const std::string& stage,
    long long expected_version);

absl::StatusOr<ruta::v1::CloseCaseRequest> BuildCloseCaseRequest(
    const std::string& case_id, const std::string& reason,
    long long expected_version);

}  // namespace ruta::cli

#endif  // RUTA_CLI_CASE_REQUESTS_H_
