#include "ruta/cli/transfer_requests.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "ruta/cli/case_requests.h"
#include "ruta/cli/enums.h"
#include "ruta/common/status_macros.h"

namespace ruta::cli {
namespace {

using ruta::v1::RejectReason;
using ruta::v1::ServiceType;
using ruta::v1::TransferState;

constexpr size_t kMaxCursorLength = 1024;

// Decodes the UTF-8 character at `text[*i]`, advancing `*i`; false when the
// bytes there are not valid UTF-8 (overlong forms and surrogates included).
bool NextCodePoint(absl::string_view text, size_t* i, uint32_t* code_point) {
  const unsigned char lead = static_cast<unsigned char>(text[*i]);
  size_t length = 0;
  uint32_t value = 0, minimum = 0;
  if (lead < 0x80) {
    *code_point = lead;
    ++*i;
    return true;
  } else if ((lead & 0xe0) == 0xc0) {
    length = 2, value = lead & 0x1f, minimum = 0x80;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3, value = lead & 0x0f, minimum = 0x800;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4, value = lead & 0x07, minimum = 0x10000;
  } else {
    return false;
  }
  if (*i + length > text.size()) return false;
  for (size_t k = 1; k < length; ++k) {
    const unsigned char next = static_cast<unsigned char>(text[*i + k]);
    if ((next & 0xc0) != 0x80) return false;
    value = (value << 6) | (next & 0x3f);
  }
  if (value < minimum || value > 0x10ffff ||
      (value >= 0xd800 && value <= 0xdfff)) {
    return false;
  }
  *code_point = value;
  *i += length;
  return true;
}

absl::StatusOr<ruta::v1::Date> OptionalDate(absl::string_view what,
                                            const std::string& text) {
  if (text.empty()) return ruta::v1::Date();
  return ParseDate(what, text);
}

}  // namespace

absl::Status ValidateTransferId(absl::string_view what,
                                absl::string_view transfer_id) {
  return ValidateRecordId(what, transfer_id, "tr_", "a transfer id");
}

absl::Status ValidateNote(absl::string_view what, absl::string_view note) {
  size_t characters = 0;
  for (size_t i = 0; i < note.size();) {
    uint32_t code_point = 0;
    if (!NextCodePoint(note, &i, &code_point)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " is not valid UTF-8 text"));
    }
    if (code_point < 0x20 || (code_point >= 0x7f && code_point < 0xa0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          what,
          " must be one line of text (no line breaks, tabs or control "
          "characters)"));
    }
    ++characters;
  }
  if (characters > kMaxNoteCharacters) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is ", characters, " characters long; at most ",
                     kMaxNoteCharacters, " are allowed"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ruta::v1::RequestTransferRequest> BuildRequestTransferRequest(
    const RequestTransferFlags& flags) {
  RUTA_RETURN_IF_ERROR(ValidateCaseId("CASE_ID", flags.case_id));
  RUTA_ASSIGN_OR_RETURN(std::string to_region,
                        NormalizeRegion("--to", flags.to_region));
  RUTA_RETURN_IF_ERROR(ValidateProvince("--province", flags.province));
  ruta::v1::RequestTransferRequest request;
  request.set_case_id(flags.case_id);
  request.set_to_region(to_region);
  request.set_destination_province(flags.province);
  if (!flags.services.empty()) {
    RUTA_ASSIGN_OR_RETURN(
        std::vector<ServiceType> services,
        ParseEnumListFlag<ServiceType>("--service", flags.services));
    for (ServiceType service : services)
      request.add_requested_services(service);
  }
  return request;
}

absl::StatusOr<ruta::v1::AcceptTransferRequest> BuildAcceptTransferRequest(
    const std::string& transfer_id) {
  RUTA_RETURN_IF_ERROR(ValidateTransferId("TRANSFER_ID", transfer_id));
  ruta::v1::AcceptTransferRequest request;
  request.set_transfer_id(transfer_id);
  return request;
}

absl::StatusOr<ruta::v1::RejectTransferRequest> BuildRejectTransferRequest(
    const std::string& transfer_id, const std::string& reason_text,
    const std::string& note) {
  RUTA_RETURN_IF_ERROR(ValidateTransferId("TRANSFER_ID", transfer_id));
  RUTA_ASSIGN_OR_RETURN(RejectReason reason,
                        ParseEnumFlag<RejectReason>("--reason", reason_text));
  RUTA_RETURN_IF_ERROR(ValidateNote("--note", note));
  if (reason == ruta::v1::REJECT_REASON_OTHER && note.empty()) {
    return absl::InvalidArgumentError(
        "--reason other needs a --note saying what the reason is");
  }
  ruta::v1::RejectTransferRequest request;
  request.set_transfer_id(transfer_id);
  request.set_reason(reason);
  request.set_note(note);
  return request;
}

absl::StatusOr<ruta::v1::DepartTransferRequest> BuildDepartTransferRequest(
    const std::string& transfer_id, const std::string& on) {
  RUTA_RETURN_IF_ERROR(ValidateTransferId("TRANSFER_ID", transfer_id));
  RUTA_ASSIGN_OR_RETURN(ruta::v1::Date date, OptionalDate("--on", on));
  ruta::v1::DepartTransferRequest request;
  request.set_transfer_id(transfer_id);
  if (!on.empty()) *request.mutable_departed_on() = date;
  return request;
}

absl::StatusOr<ruta::v1::ReceiveTransferRequest> BuildReceiveTransferRequest(
    const std::string& transfer_id, const std::string& on) {
  RUTA_RETURN_IF_ERROR(ValidateTransferId("TRANSFER_ID", transfer_id));
  RUTA_ASSIGN_OR_RETURN(ruta::v1::Date date, OptionalDate("--on", on));
  ruta::v1::ReceiveTransferRequest request;
  request.set_transfer_id(transfer_id);
  if (!on.empty()) *request.mutable_received_on() = date;
  return request;
}

absl::StatusOr<ruta::v1::CancelTransferRequest> BuildCancelTransferRequest(
    const std::string& transfer_id, const std::string& note) {
  RUTA_RETURN_IF_ERROR(ValidateTransferId("TRANSFER_ID", transfer_id));
  RUTA_RETURN_IF_ERROR(ValidateNote("--note", note));
  ruta::v1::CancelTransferRequest request;
  request.set_transfer_id(transfer_id);
  request.set_note(note);
  return request;
}

absl::StatusOr<ruta::v1::GetTransferRequest> BuildGetTransferRequest(
    const std::string& transfer_id) {
  RUTA_RETURN_IF_ERROR(ValidateTransferId("TRANSFER_ID", transfer_id));
  ruta::v1::GetTransferRequest request;
  request.set_transfer_id(transfer_id);
  return request;
}

absl::StatusOr<ruta::v1::ListTransfersRequest> BuildListTransfersRequest(
    const ListTransfersFlags& flags) {
  ruta::v1::ListTransfersRequest request;
  if (!flags.state.empty()) {
    RUTA_ASSIGN_OR_RETURN(TransferState state,
                          ParseEnumFlag<TransferState>("--state", flags.state));
    request.set_state(state);
  }
  if (flags.incoming && flags.outgoing) {
    return absl::InvalidArgumentError(
        "--incoming and --outgoing exclude each other (give neither for "
        "both directions)");
  }
  if (flags.incoming) request.set_incoming(true);
  if (flags.outgoing) request.set_incoming(false);
  if (!flags.case_id.empty()) {
    RUTA_RETURN_IF_ERROR(ValidateCaseId("--case", flags.case_id));
    request.set_case_id(flags.case_id);
  }
  RUTA_RETURN_IF_ERROR(ValidatePageSize(flags.page_size));
  request.set_page_size(flags.page_size);
  request.set_page_token(flags.page_token);
  return request;
}

absl::Status ValidateCursor(absl::string_view what, absl::string_view cursor) {
  bool valid = cursor.size() <= kMaxCursorLength;
  for (char c : cursor) {
    if (c <= ' ' || c > '~') valid = false;
  }
  if (!valid) {
    return absl::InvalidArgumentError(absl::StrCat(
        what,
        " is not a cursor printed by `ruta transfer watch` (printable "
        "characters without spaces, at most ",
        kMaxCursorLength, ")"));
  }
  return absl::OkStatus();
}

}  // namespace ruta::cli
