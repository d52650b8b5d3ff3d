// The identifier firewall (DESIGN.md §6): every message a node accepts, from
// a client (every RPC's request) or from a peer (every federation event), is
// checked field by field before anything else looks at it, so that no
// identifier can reach the store, the logs, the audit or the other region
// through a field that is not meant to carry one.
//
// The walk is by reflection, recursive, over every field that is set
// (repeated fields and maps element by element). A field is named by its path
// from the checked message: "transfer_changed.note", "regions[1]",
// "awareness.campaign".
//
// Strings are checked by their format, chosen by the field's *name* from one
// table (firewall.cc):
//   request_id                      a UUID (core::IsValidRequestId)
//   case_id, transfer_id, service_id, event_id, activity_id
//                                   their id formats ("cs_" + 20 letters...)
//   person_ref, kept_ref, merged_ref
//                                   a person_ref (core::IsValidPersonRef)
//   partner_case_ref                "pc_" + 32 letters a to p
//                                   (core::IsValidPartnerCaseRef)
//   page_token, next_page_token, cursor
//                                   an opaque token: web-safe base64 letters
//                                   (A-Z a-z 0-9 - _, '=' padding), at most
//                                   256; what it holds is the handler's to
//                                   decode, and it is never stored
//   region, regions, to_region, from_region, origin_region,
//   destination_region, owner_region, peer_region
//                                   a region slug: lowercase letters and '-',
//                                   starting with a letter, at most 63
//   table, tables, dimensions       a name: lowercase letters, digits, '_'
//                                   and '-', starting with a letter, at most
//                                   63, and no identifier-shaped digits
//   partner_id, provider, referrals a partner id "<region>/<name>" (the name
//                                   as above, without '_')
//   signing_key_id, holder          a region slug, optionally "/<name>"
//                                   ("cusco/ed25519", "local/cusco")
//   province, origin_province, destination_province
//                                   a UBIGEO province of the catalogue
// A singular id, ref, token or code field may be empty (whether it is
// required is the handler's to say); an element of a repeated one may not.
// **Every other string field is free text**: core::CheckFreeText with a
// limit of kDefaultFreeTextChars characters (AwarenessActivity.campaign:
// 120). A field added to the contract and to no table is therefore free text:
// the strict default.
//
// ruta.v1.PersonIdentifiers (OpenCase, FindPerson) is the one message whose
// strings ARE identifiers: its strings are exempt (core/pseudonym.cc
// validates them); unknown fields in it are still refused, because ignoring a
// newer client's identifier would silently derive another person_ref.
//
// Everywhere else:
//   * unknown fields are refused (a newer peer's or client's field this node
//     would otherwise drop or keep unchecked);
//   * enum fields must hold a value the enum declares (proto3 keeps unknown
//     numbers);
//   * bytes fields are capped in length only (64 KiB; PutCrlRequest.crls_der:
//     1 MiB each).
#ifndef RUTA_API_FIREWALL_H_
#define RUTA_API_FIREWALL_H_

#include <cstddef>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace ruta::api {

// Character limit of a free-text field without an override.
inline constexpr size_t kDefaultFreeTextChars = 280;

// OK when every field of `message` passes the rules above. Otherwise
// INVALID_ARGUMENT for the first offending field met (in field-number order,
// depth first), whose message names the field's path and what is wrong, never
// its value:
//   "transfer_changed.note looks like it holds a phone number; free text must
//    not carry identifiers (DNI, phone, e-mail, dates)"
//   "to_region must be a region slug (lowercase letters and hyphens, e.g.
//    \"madre-de-dios\")"
//   "unknown field number 99 in ruta.v1.Profile (profile): this node does not
//    know it; upgrade the client or drop the field"
//   "stage holds a number that is not a ruta.v1.Stage value"
absl::Status CheckMessage(const google::protobuf::Message& message);

}  // namespace ruta::api

#endif  // RUTA_API_FIREWALL_H_
