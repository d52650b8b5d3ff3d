// Linkage pseudonyms (`person_ref`) of DESIGN.md §6.
//
// person_ref = "pr" + <key version> + "_" + 32 letters a..p encoding the first
// 128 bits of HMAC-SHA-256(linkage key, canonical identity tuple). The letter
// alphabet keeps any digit run out of the ref, so it can never look like a DNI
// or a date. Two nodes holding the same key version derive the same ref for
// the same child whatever the accents, case and spacing of the names.
//
// The identity tuple is used only here, in memory, and then dropped: it is
// never stored, logged, audited or sent anywhere.
#ifndef RUTA_CORE_PSEUDONYM_H_
#define RUTA_CORE_PSEUDONYM_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ruta::core {

// The identifiers of a child, by precedence: DNI (8 digits), else CNV (birth
// certificate number, digits), else given names + surnames + date of birth +
// UBIGEO district of birth. Empty strings mean "not known".
struct IdentityTuple {
  std::string dni;
  std::string cnv;
  std::string given_names;
  std::string surnames;
  int birth_year = 0;  // 0 = unknown
  int birth_month = 0;
  int birth_day = 0;
  std::string birth_district;  // UBIGEO district, 6 digits
};

// Which part of the tuple a ref was derived from.
enum class LinkageBasis { kNone, kDni, kCnv, kNamesAndBirth };

// Chooses the basis by precedence; kNone when the tuple holds nothing usable
// (the caller then assigns a random ref). INVALID_ARGUMENT, naming the field,
// when a present field is malformed (DNI not 8 digits, CNV not 8..12 digits,
// a names-and-birth tuple with a part missing, an impossible date, a district
// that is not 6 digits). Every present field is checked, even one that the
// precedence makes unused. A name that normalizes to nothing counts as not
// known. Dates of birth are real calendar dates from 1990 to today (UTC).
// Error messages name the field ("identifiers.dni") and never echo its value.
absl::StatusOr<LinkageBasis> ChooseLinkageBasis(const IdentityTuple& tuple);

// Unicode NFKD, combining marks removed, case folded, every run of
// whitespace/punctuation collapsed to one space, trimmed. These normalize
// alike:
//   "  JOSÉ  Ñaupa-Quispe"
//   "jose naupa quispe"
// Everything but letters, digits and spacing marks separates words (so
// "O'Brien" gives "o brien").
// INVALID_ARGUMENT on invalid UTF-8 and on inputs over 512 bytes.
absl::StatusOr<std::string> NormalizeName(const std::string& utf8);

// The federation linkage keys, by version. Loaded from a file of lines
// "<version> <64 hex chars>" ('#' starts a comment, blank lines are ignored).
// Versions are 1..999 (version 0 marks random refs; the limit keeps any long
// digit run out of a ref). The highest version is current. Not copyable
// (secret material); movable. Thread-safe for concurrent const use.
class LinkageKeyring final {
 public:
  // Reads `path`. PERMISSION_DENIED when the file is readable by group or
  // others (mode must be 0600 or stricter); NOT_FOUND when missing;
  // INVALID_ARGUMENT (with the line number, never the key) when malformed or
  // empty.
  static absl::StatusOr<LinkageKeyring> LoadFromFile(const std::string& path);
  // For tests and tools: keys given directly (32-byte raw keys by version).
  static absl::StatusOr<LinkageKeyring> FromKeys(
      std::map<uint32_t, std::string> raw_keys);

  // Moving leaves `other` empty; assigning wipes the keys it replaces.
  LinkageKeyring(LinkageKeyring&& other) noexcept;
  LinkageKeyring& operator=(LinkageKeyring&& other) noexcept;
  LinkageKeyring(const LinkageKeyring&) = delete;
  LinkageKeyring& operator=(const LinkageKeyring&) = delete;
  ~LinkageKeyring();  // Wipes the key bytes.

  uint32_t current_version() const;
  bool has_version(uint32_t version) const;
  // Every version in the ring, highest first.
  std::vector<uint32_t> versions() const;

  // person_ref of `tuple` under key `version`. INVALID_ARGUMENT as in
  // ChooseLinkageBasis, and when the basis is kNone; NOT_FOUND when the
  // version is not in the ring.
  absl::StatusOr<std::string> DerivePersonRef(const IdentityTuple& tuple,
                                              uint32_t version) const;
  absl::StatusOr<std::string> DerivePersonRef(
      const IdentityTuple& tuple) const {
    return DerivePersonRef(tuple, current_version());
  }

 private:
  explicit LinkageKeyring(std::map<uint32_t, std::string> keys);
  std::map<uint32_t, std::string> keys_;
};

// A random ref for a child with no usable identifiers: "pr0_" + 32 letters.
// Version 0 marks it as unlinked (MergePersons may later join it).
std::string RandomPersonRef();

// True when `ref` has the person_ref format (any version).
bool IsValidPersonRef(const std::string& ref);

// The key version of a valid person_ref (0 for a random, unlinked one).
// Precondition: IsValidPersonRef(ref).
uint32_t PersonRefKeyVersion(const std::string& ref);

}  // namespace ruta::core

#endif  // RUTA_CORE_PSEUDONYM_H_
