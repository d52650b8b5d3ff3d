// Building the Admin requests of `ruta admin person merge`, `ruta admin case
// erase` and `ruta admin linkage-key rotate` from command-line values (no
// I/O; the request_id is stamped later, when sending), and the request,
// filter and table of `ruta admin audit export`.
#ifndef RUTA_CLI_ADMIN_REQUESTS_H_
#define RUTA_CLI_ADMIN_REQUESTS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

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

// ---- `ruta admin audit export` ---------------------------------------------

// --limit is 1 to this.
inline constexpr int64_t kMaxAuditExportLimit = 1000000;

// The flags of `ruta admin audit export`; empty strings were not given.
struct AuditExportFlags {
  // Resume after this record (the cursor the command printed last time).
  std::string cursor;
  // Only the calls a clerk made through an office application (the
  // x-ruta-clerk name the node records as on_behalf_of).
  std::string clerk;
  // Only the calls whose caller's SPIFFE id contains this text.
  std::string principal;
  // Only the calls of this method, "Service.Method".
  std::string method;
  // --limit given, and its value.
  bool has_limit = false;
  long long limit = 0;
};

// Which records are printed: those that match every filter set (all of
// them when none is). The filtering is the client's: the node streams the
// whole log from the cursor.
struct AuditFilter {
  std::string clerk;      // on_behalf_of equal to it; empty: any
  std::string principal;  // principal containing it; empty: any
  std::string method;     // method equal to it; empty: any
  int64_t limit = 0;      // records printed at most; 0: no limit

  bool Matches(const ruta::v1::ExportAuditResponse& record) const;
};

struct AuditExport {
  ruta::v1::ExportAuditRequest request;
  AuditFilter filter;
};

// Checks the flags; INVALID_ARGUMENT naming the flag and what it takes:
// --cursor a token the node issued (letters, digits, '-' and '_', at most
// 256), --clerk 1 to 64 of [a-z0-9._-], --principal printable characters
// without spaces (at most 256), --method "Service.Method" (letters and
// digits, each part starting with an upper-case letter), --limit 1 to
// kMaxAuditExportLimit.
absl::StatusOr<AuditExport> BuildAuditExport(const AuditExportFlags& flags);

// The table of `ruta admin audit export`: INDEX TIME (UTC, RFC 3339)
// PRINCIPAL ON_BEHALF_OF METHOD CASE OUTCOME ("-" for an empty value), and
// the usual widths of its columns (so that the first rows align).
std::vector<std::string> AuditTableHeader();
std::vector<size_t> AuditTableWidths();
std::vector<std::string> AuditTableRow(
    const ruta::v1::ExportAuditResponse& record);

}  // namespace ruta::cli

#endif  // RUTA_CLI_ADMIN_REQUESTS_H_
