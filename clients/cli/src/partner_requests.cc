#include "ruta/cli/partner_requests.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ruta/cli/case_requests.h"
#include "ruta/cli/enums.h"
#include "ruta/cli/output.h"
#include "ruta/cli/service_requests.h"
#include "ruta/cli/transfer_requests.h"
#include "ruta/common/status_macros.h"

namespace ruta::cli {
namespace {

std::string ServicesText(const ruta::v1::ReferredCase& c) {
  if (c.services().empty()) return "-";
  std::vector<std::string> parts;
  for (const ruta::v1::PartnerService& s : c.services()) {
    parts.push_back(
        absl::StrCat(EnumFlagName(s.type()), ":", EnumFlagName(s.status())));
  }
  return absl::StrJoin(parts, ",");
}

}  // namespace

absl::Status ValidatePartnerCaseRef(absl::string_view what,
                                    absl::string_view ref) {
  bool ok = ref.size() == 35 && ref.substr(0, 3) == "pc_";
  for (char c : ok ? ref.substr(3) : absl::string_view()) {
    if (c < 'a' || c > 'p') ok = false;
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        what,
        " must be a partner case reference: \"pc_\" followed by 32 letters a "
        "to p, as `ruta partner cases` prints it"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ruta::v1::ReferCaseRequest> BuildReferCaseRequest(
    absl::string_view case_id, absl::string_view partner_id, bool withdraw) {
  RUTA_RETURN_IF_ERROR(ValidateCaseId("CASE_ID", case_id));
  RUTA_ASSIGN_OR_RETURN(std::string partner,
                        NormalizePartnerId("PARTNER_ID", partner_id));
  ruta::v1::ReferCaseRequest request;
  request.set_case_id(std::string(case_id));
  request.set_partner_id(std::move(partner));
  request.set_withdraw(withdraw);
  return request;
}

absl::StatusOr<ruta::v1::ListReferredCasesRequest>
BuildListReferredCasesRequest(const PartnerCasesFlags& flags) {
  RUTA_RETURN_IF_ERROR(ValidatePageSize(flags.page_size));
  ruta::v1::ListReferredCasesRequest request;
  if (!flags.stage.empty()) {
    RUTA_ASSIGN_OR_RETURN(ruta::v1::Stage stage, ParseEnumFlag<ruta::v1::Stage>(
                                                     "--stage", flags.stage));
    request.set_stage(stage);
  }
  if (!flags.page_token.empty()) {
    RUTA_RETURN_IF_ERROR(ValidateCursor("--page-token", flags.page_token));
  }
  request.set_page_size(flags.page_size);
  request.set_page_token(flags.page_token);
  return request;
}

absl::StatusOr<ruta::v1::GetCaseStatusRequest> BuildGetCaseStatusRequest(
    absl::string_view ref) {
  RUTA_RETURN_IF_ERROR(ValidatePartnerCaseRef("PARTNER_CASE_REF", ref));
  ruta::v1::GetCaseStatusRequest request;
  request.set_partner_case_ref(std::string(ref));
  return request;
}

absl::StatusOr<ruta::v1::UpdateServiceStatusRequest>
BuildUpdateServiceStatusRequest(const PartnerServiceFlags& flags) {
  RUTA_RETURN_IF_ERROR(
      ValidatePartnerCaseRef("PARTNER_CASE_REF", flags.partner_case_ref));
  RUTA_RETURN_IF_ERROR(ValidateServiceId("SERVICE_ID", flags.service_id));
  RUTA_ASSIGN_OR_RETURN(
      ruta::v1::ServiceStatus status,
      ParseEnumFlag<ruta::v1::ServiceStatus>("--status", flags.status));
  ruta::v1::UpdateServiceStatusRequest request;
  request.set_partner_case_ref(flags.partner_case_ref);
  request.set_service_id(flags.service_id);
  request.set_status(status);
  const bool ends = status == ruta::v1::SERVICE_STATUS_COMPLETED ||
                    status == ruta::v1::SERVICE_STATUS_DROPPED;
  if (!flags.end_month.empty()) {
    if (!ends) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--end-month is the month a service ended: give it with --status "
          "completed or dropped, not ",
          EnumFlagName(status)));
    }
    RUTA_ASSIGN_OR_RETURN(*request.mutable_end_month(),
                          ParseYearMonth("--end-month", flags.end_month));
  } else if (ends) {
    return absl::InvalidArgumentError(
        absl::StrCat("--end-month (YYYY-MM) is required with --status ",
                     EnumFlagName(status)));
  }
  return request;
}

absl::StatusOr<ruta::v1::WatchReferredCasesRequest>
BuildWatchReferredCasesRequest(absl::string_view cursor) {
  RUTA_RETURN_IF_ERROR(ValidateCursor("--cursor", cursor));
  ruta::v1::WatchReferredCasesRequest request;
  request.set_cursor(std::string(cursor));
  return request;
}

std::vector<std::string> ReferredCaseTableHeader() {
  return {"PARTNER_CASE_REF", "STAGE", "REFERRED", "SERVICES"};
}

std::vector<std::string> ReferredCaseTableRow(const ruta::v1::ReferredCase& c) {
  return {c.partner_case_ref(), EnumFlagName(c.stage()),
          FormatYearMonth(c.referred_month()), ServicesText(c)};
}

std::vector<std::string> PartnerWatchTableHeader() {
  return {"CURSOR", "PARTNER_CASE_REF", "UPDATE",
          "STAGE",  "REFERRED",         "SERVICES"};
}

std::vector<std::string> PartnerWatchTableRow(
    const ruta::v1::WatchReferredCasesResponse& update) {
  const ruta::v1::ReferredCase& c = update.case_();
  if (update.withdrawn()) {
    return {update.cursor(), c.partner_case_ref(), "withdrawn", "-", "-", "-"};
  }
  return {update.cursor(),
          c.partner_case_ref(),
          "changed",
          EnumFlagName(c.stage()),
          FormatYearMonth(c.referred_month()),
          ServicesText(c)};
}

void WriteReferredCase(std::ostream& out, const ruta::v1::ReferredCase& c) {
  std::vector<std::pair<std::string, std::string>> entries = {
      {"partner_case_ref", c.partner_case_ref()},
      {"stage", EnumFlagName(c.stage())},
      {"referred_month", FormatYearMonth(c.referred_month())},
  };
  for (const ruta::v1::StageChange& change : c.timeline()) {
    entries.push_back(
        {"timeline", absl::StrCat(FormatYearMonth(change.month()), " ",
                                  EnumFlagName(change.stage()))});
  }
  for (const ruta::v1::PartnerService& s : c.services()) {
    entries.push_back(
        {"service", absl::StrCat(s.service_id(), " ", EnumFlagName(s.type()),
                                 " ", EnumFlagName(s.status()), " ",
                                 FormatYearMonth(s.start_month()), "..",
                                 FormatYearMonth(s.end_month()))});
  }
  WriteKeyValues(out, entries);
}

void WritePartnerService(std::ostream& out, const ruta::v1::PartnerService& s) {
  WriteKeyValues(out, {{"service_id", s.service_id()},
                       {"type", EnumFlagName(s.type())},
                       {"status", EnumFlagName(s.status())},
                       {"start_month", FormatYearMonth(s.start_month())},
                       {"end_month", FormatYearMonth(s.end_month())}});
}

}  // namespace ruta::cli
