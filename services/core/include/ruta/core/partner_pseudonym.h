// Per-partner case pseudonyms (`partner_case_ref`) of DESIGN.md §6.
//
// An NGO partner sees each case referred to it under its own pseudonym:
//   partner key      = HMAC-SHA-256(master secret,
//                                   "ruta-partner-v1\0" + partner_id)
//   partner_case_ref = "pc_" + 32 letters a..p encoding the first 128 bits of
//                      HMAC-SHA-256(partner key, case_id)
// Two partners holding refs of the same case cannot tell that they are the
// same case (their keys differ and neither knows the master), so they cannot
// join their views; the node maps a ref back only over the cases referred to
// the asking partner. The letter alphabet keeps any digit run out of a ref,
// so it never looks like an identifier or a date.
//
// The refs are stable for as long as the master secret is: replacing the
// secret changes every ref that every partner holds.
#ifndef RUTA_CORE_PARTNER_PSEUDONYM_H_
#define RUTA_CORE_PARTNER_PSEUDONYM_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ruta::core {

// The node's partner pseudonyms, from a 32-byte master secret. Not copyable
// (secret material); movable. Thread-safe for concurrent const use.
class PartnerPseudonyms final {
 public:
  // Reads the master secret from `path`: one line of 64 hex characters
  // ('#' starts a comment, blank lines are ignored). PERMISSION_DENIED when
  // the file is accessible to group or others (mode 0600 or stricter is
  // required); NOT_FOUND when missing; INVALID_ARGUMENT (with the line
  // number, never the secret) when malformed, empty or holding two secrets.
  static absl::StatusOr<PartnerPseudonyms> LoadFromFile(
      const std::string& path);
  // For tests and tools: the 32-byte raw master secret; INVALID_ARGUMENT for
  // another length.
  static absl::StatusOr<PartnerPseudonyms> FromMasterSecret(std::string master);

  // Moving leaves `other` empty (it then derives nothing: see CaseRefFor);
  // assigning wipes the secret it replaces.
  PartnerPseudonyms(PartnerPseudonyms&& other) noexcept;
  PartnerPseudonyms& operator=(PartnerPseudonyms&& other) noexcept;
  PartnerPseudonyms(const PartnerPseudonyms&) = delete;
  PartnerPseudonyms& operator=(const PartnerPseudonyms&) = delete;
  ~PartnerPseudonyms();  // Wipes the secret.

  // The pseudonym of `case_id` for the partner `partner_id` (the partner's
  // authenticated identity, e.g. its SPIFFE id; any string, compared byte for
  // byte). Deterministic. Aborts the process when OpenSSL's HMAC fails or
  // when called on a moved-from object: no ref is ever derived from a
  // failed or missing key.
  std::string CaseRefFor(const std::string& partner_id,
                         const std::string& case_id) const;

  // The case among `candidate_case_ids` (the cases referred to `partner_id`)
  // whose pseudonym for that partner is `case_ref`. INVALID_ARGUMENT when
  // `case_ref` is not of the partner_case_ref format; NOT_FOUND when no
  // candidate matches. A ref of a case not referred to the partner, a ref
  // made for another partner and a ref that names no case all get the same
  // NOT_FOUND, with a message that does not echo the ref: a partner cannot
  // probe for cases beyond its own. Costs one HMAC per candidate.
  absl::StatusOr<std::string> ResolveCaseRef(
      const std::string& partner_id, const std::string& case_ref,
      const std::vector<std::string>& candidate_case_ids) const;

 private:
  explicit PartnerPseudonyms(std::string master);
  // HMAC of "ruta-partner-v1\0" + partner_id under the master (32 bytes).
  std::string PartnerKey(const std::string& partner_id) const;

  std::string master_;
};

// True when `ref` has the partner_case_ref format: "pc_" + 32 letters a..p.
bool IsValidPartnerCaseRef(const std::string& ref);

}  // namespace ruta::core

#endif  // RUTA_CORE_PARTNER_PSEUDONYM_H_
