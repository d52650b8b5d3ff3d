// Building the Admin requests of `ruta admin person merge`, `ruta admin case
// erase` and `ruta admin linkage-key rotate` from command-line values (no
// I/O). The request_id is stamped later, when sending.
#ifndef RUTA_CLI_ADMIN_REQUESTS_H_
#define RUTA_CLI_ADMIN_REQUESTS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "ruta/v1/admin.pb.h"

namespace ruta::cli {

// Linkage key versions are 1 to this (the node's and certs/pki.sh's range).
inline constexpr uint32_t kMaxLinkageKeyVersion = 999;

// Two valid, distinct person_refs (REF and OTHER_REF in errors). They play
// the same part (the node decides which survives); `ref` is sent as
// kept_ref, `other_ref` as merged_ref.
absl::StatusOr<ruta::v1::MergePersonsRequest> BuildMergePersonsRequest(
    const std::string& ref, const std::string& other_ref);

absl::StatusOr<ruta::v1::EraseCaseRequest> BuildEraseCaseRequest(
    const std::string& case_id);

// `version`: decimal digits, 1 to kMaxLinkageKeyVersion.
absl::StatusOr<ruta::v1::RotateLinkageKeyRequest> BuildRotateLinkageKeyRequest(
    const std::string& version);

}  // namespace ruta::cli

#endif  // RUTA_CLI_ADMIN_REQUESTS_H_
