#include "ruta/cli/admin_requests.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ruta/cli/case_requests.h"
#include "ruta/common/status_macros.h"

namespace ruta::cli {

absl::StatusOr<ruta::v1::MergePersonsRequest> BuildMergePersonsRequest(
    const std::string& ref, const std::string& other_ref) {
  RUTA_RETURN_IF_ERROR(ValidatePersonRef("REF", ref));
  RUTA_RETURN_IF_ERROR(ValidatePersonRef("OTHER_REF", other_ref));
  if (ref == other_ref) {
    return absl::InvalidArgumentError(
        "REF and OTHER_REF are the same person_ref: nothing to merge");
  }
  ruta::v1::MergePersonsRequest request;
  request.set_kept_ref(ref);
  request.set_merged_ref(other_ref);
  return request;
}

absl::StatusOr<ruta::v1::EraseCaseRequest> BuildEraseCaseRequest(
    const std::string& case_id) {
  RUTA_RETURN_IF_ERROR(ValidateCaseId("CASE_ID", case_id));
  ruta::v1::EraseCaseRequest request;
  request.set_case_id(case_id);
  return request;
}

absl::StatusOr<ruta::v1::RotateLinkageKeyRequest> BuildRotateLinkageKeyRequest(
    const std::string& version) {
  // Digits only: SimpleAtoi alone would also take a sign and spaces.
  const bool digits =
      !version.empty() && version.size() <= 3 &&
      std::all_of(version.begin(), version.end(), absl::ascii_isdigit);
  uint32_t value = 0;
  if (!digits || !absl::SimpleAtoi(version, &value) || value < 1 ||
      value > kMaxLinkageKeyVersion) {
    return absl::InvalidArgumentError(absl::StrCat(
        "VERSION \"", version, "\" is not a linkage key version (1 to ",
        kMaxLinkageKeyVersion,
        ", the first field of a line of the linkage key file)"));
  }
  ruta::v1::RotateLinkageKeyRequest request;
  request.set_new_version(value);
  return request;
}

}  // namespace ruta::cli
