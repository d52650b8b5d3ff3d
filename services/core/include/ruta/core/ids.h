// Record identifiers and opaque page tokens.
//
// Ids use an alphabet without digits behind a fixed prefix, so that no id can
// ever look like a DNI, a phone number or a date (DESIGN.md §4).
#ifndef RUTA_CORE_IDS_H_
#define RUTA_CORE_IDS_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ruta::core {

// A fresh case id: "cs_" + 20 letters a..z, uniform, from OpenSSL's CSPRNG
// (about 94 bits of entropy).
std::string NewCaseId();

// Whether `id` has the case id format ("cs_" + 20 lowercase letters).
bool IsValidCaseId(std::string_view id);

// The same for the other record ids: "tr_", "sv_", "ev_", "ac_" + 20 letters.
std::string NewTransferId();
std::string NewServiceId();
std::string NewEventId();
std::string NewActivityId();
bool IsValidTransferId(std::string_view id);
bool IsValidServiceId(std::string_view id);
bool IsValidActivityId(std::string_view id);

// Whether `id` is a UUID in canonical text form, 8-4-4-4-12 hex digits, all
// lowercase or all uppercase (e.g. "123e4567-e89b-12d3-a456-426614174000").
bool IsValidRequestId(std::string_view id);

// Page tokens: opaque to clients, they carry the record id (case, transfer
// service or activity id) after which the next page starts, or a watch position
// (a decimal number) (web-safe base64 of a small versioned record). They carry
// no scope: the server re-applies the caller's scope and filters on every page.
std::string EncodePageToken(std::string_view after);
// The `after` of a token from EncodePageToken. An empty token gives "" (the
// first page). INVALID_ARGUMENT "page_token is not a token this server
// issued" for anything else.
absl::StatusOr<std::string> DecodePageToken(std::string_view token);

}  // namespace ruta::core

#endif  // RUTA_CORE_IDS_H_
