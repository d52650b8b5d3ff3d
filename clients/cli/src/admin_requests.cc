#include "ruta/cli/admin_requests.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ruta/cli/case_requests.h"
#include "ruta/cli/output.h"
#include "ruta/common/status_macros.h"

namespace ruta::cli {
namespace {

constexpr size_t kMaxClerkChars = 64;
constexpr size_t kMaxTokenChars = 256;
constexpr size_t kMaxMethodChars = 128;

bool IsClerkChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
         c == '_';
}

// "Service.Method": two names of letters and digits, each starting with an
// upper-case letter.
bool IsMethodName(absl::string_view text) {
  const size_t dot = text.find('.');
  if (text.size() > kMaxMethodChars || dot == absl::string_view::npos) {
    return false;
  }
  for (absl::string_view part : {text.substr(0, dot), text.substr(dot + 1)}) {
    if (part.empty() ||
        !absl::ascii_isupper(static_cast<unsigned char>(part.front()))) {
      return false;
    }
    for (char c : part) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) return false;
    }
  }
  return true;
}

// A value from the node for a table cell: "-" when empty, control
// characters and spaces as '?' (one cell, one line).
std::string Cell(const std::string& value) {
  if (value.empty()) return "-";
  std::string cell = value;
  for (char& c : cell) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) c = '?';
  }
  return cell;
}

}  // namespace

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

bool AuditFilter::Matches(const ruta::v1::ExportAuditResponse& record) const {
  if (!clerk.empty() && record.on_behalf_of() != clerk) return false;
  if (!principal.empty() && !absl::StrContains(record.principal(), principal)) {
    return false;
  }
  if (!method.empty() && record.method() != method) return false;
  return true;
}

absl::StatusOr<AuditExport> BuildAuditExport(const AuditExportFlags& flags) {
  AuditExport plan;
  if (flags.cursor.size() > kMaxTokenChars ||
      !std::all_of(flags.cursor.begin(), flags.cursor.end(), IsTokenChar)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--cursor is not a cursor printed by `ruta admin audit export` "
        "(letters, digits, '-' and '_', at most ",
        kMaxTokenChars, ")"));
  }
  plan.request.set_cursor(flags.cursor);
  if (!flags.clerk.empty() &&
      (flags.clerk.size() > kMaxClerkChars ||
       !std::all_of(flags.clerk.begin(), flags.clerk.end(), IsClerkChar))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--clerk \"", flags.clerk,
        "\" is not a clerk name: 1 to 64 of lowercase letters a-z, digits, "
        "'.', '_' and '-' (the account name an office application sends, "
        "e.g. rosa.quispe)"));
  }
  plan.filter.clerk = flags.clerk;
  if (flags.principal.size() > kMaxTokenChars ||
      !std::all_of(flags.principal.begin(), flags.principal.end(),
                   [](char c) { return c > ' ' && c <= '~'; })) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--principal must be a SPIFFE id or part of one, printable "
        "characters without spaces, at most ",
        kMaxTokenChars,
        " (e.g. spiffe://cusco.ruta.pe/office/wanchaq, or office/wanchaq)"));
  }
  plan.filter.principal = flags.principal;
  if (!flags.method.empty() && !IsMethodName(flags.method)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--method \"", flags.method,
        "\" is not Service.Method as the METHOD column shows it (e.g. "
        "CaseOffice.GetCase, Admin.EraseCase)"));
  }
  plan.filter.method = flags.method;
  if (flags.has_limit) {
    if (flags.limit < 1 || flags.limit > kMaxAuditExportLimit) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--limit must be a number from 1 to ", kMaxAuditExportLimit));
    }
    plan.filter.limit = flags.limit;
  }
  return plan;
}

std::vector<std::string> AuditTableHeader() {
  return {"INDEX",  "TIME", "PRINCIPAL", "ON_BEHALF_OF",
          "METHOD", "CASE", "OUTCOME"};
}

std::vector<size_t> AuditTableWidths() {
  const size_t time = 20;       // 2026-10-31T14:05:09Z
  const size_t principal = 41;  // spiffe://cusco.ruta.pe/office/main-office
  const size_t method = 25;     // CaseOffice.WatchTransfers
  const size_t id = 23;         // "cs_" or "tr_" + 20 letters
  return {5, time, principal, 12, method, id, 0};
}

std::vector<std::string> AuditTableRow(
    const ruta::v1::ExportAuditResponse& record) {
  return {absl::StrCat(record.index()), FormatTimestampUtc(record.at()),
          Cell(record.principal()),     Cell(record.on_behalf_of()),
          Cell(record.method()),        Cell(record.case_id()),
          Cell(record.outcome())};
}

}  // namespace ruta::cli
