// Building the CaseOffice requests of `ruta transfer ...` from command-line
// values (no I/O). The request_id is stamped later, when sending.
#ifndef RUTA_CLI_TRANSFER_REQUESTS_H_
#define RUTA_CLI_TRANSFER_REQUESTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ruta/v1/case_office.pb.h"

namespace ruta::cli {

// Longest note of a rejection or cancellation, in characters.
inline constexpr size_t kMaxNoteCharacters = 280;

// "tr_" + 20 letters a-z; INVALID_ARGUMENT naming `what` otherwise.
absl::Status ValidateTransferId(absl::string_view what,
                                absl::string_view transfer_id);

// A note (--note): valid UTF-8, at most kMaxNoteCharacters characters, one
// line (no control characters). The error names the flag, never the text.
absl::Status ValidateNote(absl::string_view what, absl::string_view note);

// Values of `ruta transfer request`.
struct RequestTransferFlags {
  std::string case_id;
  std::string to_region;
  std::string province;
  // --service, repeated and/or comma-separated; may be empty.
  std::vector<std::string> services;
};

absl::StatusOr<ruta::v1::RequestTransferRequest> BuildRequestTransferRequest(
    const RequestTransferFlags& flags);

absl::StatusOr<ruta::v1::AcceptTransferRequest> BuildAcceptTransferRequest(
    const std::string& transfer_id);

absl::StatusOr<ruta::v1::RejectTransferRequest> BuildRejectTransferRequest(
    const std::string& transfer_id, const std::string& reason,
    const std::string& note);

// `on` is "YYYY-MM-DD", or empty for the node's today.
absl::StatusOr<ruta::v1::DepartTransferRequest> BuildDepartTransferRequest(
    const std::string& transfer_id, const std::string& on);
absl::StatusOr<ruta::v1::ReceiveTransferRequest> BuildReceiveTransferRequest(
    const std::string& transfer_id, const std::string& on);

absl::StatusOr<ruta::v1::CancelTransferRequest> BuildCancelTransferRequest(
    const std::string& transfer_id, const std::string& note);

absl::StatusOr<ruta::v1::GetTransferRequest> BuildGetTransferRequest(
    const std::string& transfer_id);

// Values of `ruta transfer list`.
struct ListTransfersFlags {
  std::string state;
  bool incoming = false;
  bool outgoing = false;
  std::string case_id;
  int page_size = 0;
  std::string page_token;
};

absl::StatusOr<ruta::v1::ListTransfersRequest> BuildListTransfersRequest(
    const ListTransfersFlags& flags);

// A --cursor of `ruta transfer watch`: opaque, but printable ASCII without
// spaces (it is printed as a table column), at most 1024 characters.
absl::Status ValidateCursor(absl::string_view what, absl::string_view cursor);

}  // namespace ruta::cli

#endif  // RUTA_CLI_TRANSFER_REQUESTS_H_
