// Building the PartnerStatus requests of `ruta partner ...` and
// CaseOffice.ReferCase of `ruta case refer` from command-line values, and
// the rows they print (no I/O). The request_id is stamped later, when
// sending.
#ifndef RUTA_CLI_PARTNER_REQUESTS_H_
#define RUTA_CLI_PARTNER_REQUESTS_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ruta/v1/case_office.pb.h"
#include "ruta/v1/partner_status.pb.h"

namespace ruta::cli {

// A partner_case_ref: "pc_" + 32 letters a-p; INVALID_ARGUMENT naming `what`
// otherwise.
absl::Status ValidatePartnerCaseRef(absl::string_view what,
                                    absl::string_view ref);

// `ruta case refer CASE_ID PARTNER_ID [--withdraw]`.
absl::StatusOr<ruta::v1::ReferCaseRequest> BuildReferCaseRequest(
    absl::string_view case_id, absl::string_view partner_id, bool withdraw);

// `ruta partner cases [--stage S] [--page-size N] [--page-token T]`.
struct PartnerCasesFlags {
  std::string stage;  // empty: any
  int page_size = 0;
  std::string page_token;
};
absl::StatusOr<ruta::v1::ListReferredCasesRequest>
BuildListReferredCasesRequest(const PartnerCasesFlags& flags);

// `ruta partner status REF`.
absl::StatusOr<ruta::v1::GetCaseStatusRequest> BuildGetCaseStatusRequest(
    absl::string_view ref);

// `ruta partner service REF SERVICE_ID --status S [--end-month YYYY-MM]`.
struct PartnerServiceFlags {
  std::string partner_case_ref;
  std::string service_id;
  std::string status;
  std::string end_month;  // only with completed or dropped
};
absl::StatusOr<ruta::v1::UpdateServiceStatusRequest>
BuildUpdateServiceStatusRequest(const PartnerServiceFlags& flags);

// `ruta partner watch [--cursor C]`.
absl::StatusOr<ruta::v1::WatchReferredCasesRequest>
BuildWatchReferredCasesRequest(absl::string_view cursor);

// The table of `ruta partner cases`: REF STAGE REFERRED SERVICES, and a row.
std::vector<std::string> ReferredCaseTableHeader();
std::vector<std::string> ReferredCaseTableRow(const ruta::v1::ReferredCase& c);
// The rows of `ruta partner watch`: CURSOR REF UPDATE STAGE REFERRED
// SERVICES (UPDATE: "changed" or "withdrawn").
std::vector<std::string> PartnerWatchTableHeader();
std::vector<std::string> PartnerWatchTableRow(
    const ruta::v1::WatchReferredCasesResponse& update);
// One referred case as a key/value block, with its timeline and services.
void WriteReferredCase(std::ostream& out, const ruta::v1::ReferredCase& c);
// One partner service as a key/value block.
void WritePartnerService(std::ostream& out, const ruta::v1::PartnerService& s);

}  // namespace ruta::cli

#endif  // RUTA_CLI_PARTNER_REQUESTS_H_
