#include "ruta/cli/service_requests.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ruta/cli/case_requests.h"
#include "ruta/cli/enums.h"
#include "ruta/common/status_macros.h"

namespace ruta::cli {
namespace {

using ruta::v1::ServiceStatus;
using ruta::v1::ServiceType;

// A partner name of a certificate identity: 1 to 63 lowercase letters,
// digits and hyphens, not starting with a hyphen.
bool IsPartnerName(absl::string_view name) {
  if (name.empty() || name.size() > 63 || name.front() == '-') return false;
  for (char c : name) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-')) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::Status ValidateServiceId(absl::string_view what,
                               absl::string_view service_id) {
  return ValidateRecordId(what, service_id, "sv_", "a service id");
}

absl::StatusOr<std::string> NormalizePartnerId(absl::string_view what,
                                               absl::string_view text) {
  const absl::Status bad = absl::InvalidArgumentError(absl::StrCat(
      what, " \"", text,
      "\" is not a partner id REGION/NAME (the partner's certificate "
      "identity, e.g. cusco/tdh)"));
  const std::string lower =
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  const size_t slash = lower.find('/');
  if (slash == std::string::npos) return bad;
  const absl::string_view region_text =
      absl::string_view(lower).substr(0, slash);
  const absl::string_view name = absl::string_view(lower).substr(slash + 1);
  // NormalizeRegion would also fold spaces and '_', which an identity never
  // holds.
  for (char c : region_text) {
    if (!(absl::ascii_islower(c) || c == '-')) return bad;
  }
  absl::StatusOr<std::string> region = NormalizeRegion(what, region_text);
  if (!region.ok() || !IsPartnerName(name)) return bad;
  return absl::StrCat(*region, "/", name);
}

absl::StatusOr<ruta::v1::AddServiceRequest> BuildAddServiceRequest(
    const AddServiceFlags& flags) {
  RUTA_RETURN_IF_ERROR(ValidateCaseId("CASE_ID", flags.case_id));
  RUTA_ASSIGN_OR_RETURN(ServiceType type,
                        ParseEnumFlag<ServiceType>("--type", flags.type));
  RUTA_ASSIGN_OR_RETURN(ServiceStatus status,
                        ParseEnumFlag<ServiceStatus>("--status", flags.status));
  ruta::v1::AddServiceRequest request;
  request.set_case_id(flags.case_id);
  request.set_type(type);
  if (!flags.provider.empty()) {
    RUTA_ASSIGN_OR_RETURN(std::string provider,
                          NormalizePartnerId("--provider", flags.provider));
    request.set_provider(provider);
  }
  request.set_status(status);
  RUTA_ASSIGN_OR_RETURN(*request.mutable_start_month(),
                        ParseYearMonth("--start", flags.start_month));
  return request;
}

absl::StatusOr<ruta::v1::UpdateServiceRequest> BuildUpdateServiceRequest(
    const UpdateServiceFlags& flags) {
  RUTA_RETURN_IF_ERROR(ValidateServiceId("SERVICE_ID", flags.service_id));
  RUTA_ASSIGN_OR_RETURN(ServiceStatus status,
                        ParseEnumFlag<ServiceStatus>("--status", flags.status));
  RUTA_RETURN_IF_ERROR(ValidateExpectedVersion(flags.expected_version));
  ruta::v1::UpdateServiceRequest request;
  request.set_service_id(flags.service_id);
  request.set_status(status);
  if (!flags.end_month.empty()) {
    if (status != ruta::v1::SERVICE_STATUS_COMPLETED &&
        status != ruta::v1::SERVICE_STATUS_DROPPED) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--end is the month a service ended: give it with --status "
          "completed or dropped, not ",
          EnumFlagName(status)));
    }
    RUTA_ASSIGN_OR_RETURN(*request.mutable_end_month(),
                          ParseYearMonth("--end", flags.end_month));
  }
  request.set_expected_version(flags.expected_version);
  return request;
}

absl::StatusOr<ruta::v1::ListServicesRequest> BuildListServicesRequest(
    const ListServicesFlags& flags) {
  RUTA_RETURN_IF_ERROR(ValidateCaseId("CASE_ID", flags.case_id));
  RUTA_RETURN_IF_ERROR(ValidatePageSize(flags.page_size));
  ruta::v1::ListServicesRequest request;
  request.set_case_id(flags.case_id);
  request.set_page_size(flags.page_size);
  request.set_page_token(flags.page_token);
  return request;
}

}  // namespace ruta::cli
