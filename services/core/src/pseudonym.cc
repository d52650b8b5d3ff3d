#include "ruta/core/pseudonym.h"

#include <openssl/crypto.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <cstdio>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "crypto_util.h"
#include "ruta/common/status_macros.h"
#include "ruta/core/ubigeo.h"

namespace ruta::core {
namespace {

constexpr size_t kMaxNameBytes = 512;
constexpr size_t kKeyBytes = 32;
constexpr uint32_t kMaxKeyVersion = 999;
constexpr size_t kRefBytes = 16;  // 128 bits of the HMAC -> 32 letters
constexpr size_t kMaxKeyFileBytes = 64 * 1024;
constexpr int kFirstBirthYear = 1990;

// Domain separation of the HMAC input. Changing anything in the canonical
// encoding changes every ref: bump the "v1" and plan a re-linkage.
constexpr absl::string_view kDomain("ruta-person-v1\0", 15);

bool AllAsciiDigits(absl::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

// Appends "<len>:<bytes>".
void AppendField(std::string& out, absl::string_view field) {
  absl::StrAppend(&out, field.size(), ":", field);
}

void WipeKeys(std::map<uint32_t, std::string>& keys) {
  for (auto& [version, key] : keys) internal::Wipe(key);
  keys.clear();
}

// Removes the characters of general category Mn (non-spacing marks).
icu::UnicodeString DropNonSpacingMarks(const icu::UnicodeString& in) {
  icu::UnicodeString out;
  for (int32_t i = 0; i < in.length();) {
    const UChar32 c = in.char32At(i);
    if (u_charType(c) != U_NON_SPACING_MARK) out.append(c);
    i += U16_LENGTH(c);
  }
  return out;
}

// The tuple after validation: which basis and its normalized parts.
struct ParsedTuple {
  ParsedTuple() = default;
  ParsedTuple(ParsedTuple&&) = default;
  ParsedTuple& operator=(ParsedTuple&&) = default;
  ~ParsedTuple() {
    internal::Wipe(given_names);
    internal::Wipe(surnames);
  }

  LinkageBasis basis = LinkageBasis::kNone;
  std::string given_names;  // normalized; names-and-birth basis only
  std::string surnames;
};

absl::Status CheckBirthDate(const IdentityTuple& t) {
  if (t.birth_year == 0 && t.birth_month == 0 && t.birth_day == 0) {
    return absl::OkStatus();
  }
  if (t.birth_year == 0 || t.birth_month == 0 || t.birth_day == 0) {
    return absl::InvalidArgumentError(
        "identifiers.birth_date is incomplete: give year, month and day, or "
        "none of them");
  }
  const absl::CivilDay today =
      absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  const absl::CivilDay day(t.birth_year, t.birth_month, t.birth_day);
  if (t.birth_month < 1 || t.birth_month > 12 || t.birth_day < 1 ||
      day.year() != t.birth_year || day.month() != t.birth_month ||
      day.day() != t.birth_day) {
    return absl::InvalidArgumentError(
        "identifiers.birth_date is not a calendar date");
  }
  if (t.birth_year < kFirstBirthYear || day > today) {
    return absl::InvalidArgumentError(
        absl::StrCat("identifiers.birth_date must be between ", kFirstBirthYear,
                     "-01-01 and today"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ParsedTuple> ParseTuple(const IdentityTuple& t) {
  // Every present field is validated first, whatever the precedence.
  if (!t.dni.empty() && !(t.dni.size() == 8 && AllAsciiDigits(t.dni))) {
    return absl::InvalidArgumentError(
        "identifiers.dni must be exactly 8 digits (leading zeros included)");
  }
  if (!t.cnv.empty() &&
      !(t.cnv.size() >= 8 && t.cnv.size() <= 12 && AllAsciiDigits(t.cnv))) {
    return absl::InvalidArgumentError("identifiers.cnv must be 8 to 12 digits");
  }
  ParsedTuple parsed;
  {
    auto given = NormalizeName(t.given_names);
    if (!given.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("identifiers.given_names: ", given.status().message()));
    }
    parsed.given_names = *std::move(given);
    auto surnames = NormalizeName(t.surnames);
    if (!surnames.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("identifiers.surnames: ", surnames.status().message()));
    }
    parsed.surnames = *std::move(surnames);
  }
  RUTA_RETURN_IF_ERROR(CheckBirthDate(t));
  if (!t.birth_district.empty() && !IsWellFormedDistrict(t.birth_district)) {
    return absl::InvalidArgumentError(
        "identifiers.birth_district must be a UBIGEO district code of 6 digits "
        "whose first 4 are a province of the catalogue");
  }

  if (!t.dni.empty()) {
    parsed.basis = LinkageBasis::kDni;
  } else if (!t.cnv.empty()) {
    parsed.basis = LinkageBasis::kCnv;
  } else {
    const bool has_given = !parsed.given_names.empty();
    const bool has_surnames = !parsed.surnames.empty();
    const bool has_date = t.birth_year != 0;
    const bool has_district = !t.birth_district.empty();
    if (has_given || has_surnames || has_date || has_district) {
      const char* missing = !has_given      ? "identifiers.given_names"
                            : !has_surnames ? "identifiers.surnames"
                            : !has_date     ? "identifiers.birth_date"
                            : !has_district ? "identifiers.birth_district"
                                            : nullptr;
      if (missing != nullptr) {
        internal::Wipe(parsed.given_names);
        internal::Wipe(parsed.surnames);
        return absl::InvalidArgumentError(absl::StrCat(
            missing,
            " is missing: without a DNI or CNV, a child is linked by given "
            "names, surnames, date of birth and district of birth together"));
      }
      parsed.basis = LinkageBasis::kNamesAndBirth;
    }
  }
  if (parsed.basis != LinkageBasis::kNamesAndBirth) {
    internal::Wipe(parsed.given_names);
    internal::Wipe(parsed.surnames);
  }
  return parsed;
}

// The HMAC input: domain, key version, basis tag, then the length-prefixed
// fields of the basis.
std::string CanonicalTuple(const IdentityTuple& t, ParsedTuple& parsed,
                           uint32_t version) {
  std::string out;
  out.reserve(128 + parsed.given_names.size() + parsed.surnames.size());
  out.append(kDomain.data(), kDomain.size());
  absl::StrAppend(&out, "k", version);
  out.push_back('\0');
  switch (parsed.basis) {
    case LinkageBasis::kDni:
      out.append("dni");
      out.push_back('\0');
      AppendField(out, t.dni);
      break;
    case LinkageBasis::kCnv:
      out.append("cnv");
      out.push_back('\0');
      AppendField(out, t.cnv);
      break;
    case LinkageBasis::kNamesAndBirth: {
      out.append("nab");
      out.push_back('\0');
      AppendField(out, parsed.given_names);
      AppendField(out, parsed.surnames);
      char date[16];
      const int n = std::snprintf(date, sizeof(date), "%04d-%02d-%02d",
                                  t.birth_year, t.birth_month, t.birth_day);
      AppendField(out, absl::string_view(date, static_cast<size_t>(n)));
      OPENSSL_cleanse(date, sizeof(date));
      AppendField(out, t.birth_district);
      break;
    }
    case LinkageBasis::kNone:
      break;
  }
  internal::Wipe(parsed.given_names);
  internal::Wipe(parsed.surnames);
  return out;
}

// Parses "<version>" of a key line.
bool ParseVersion(absl::string_view text, uint32_t* version) {
  if (!AllAsciiDigits(text) || text.size() > 3 || text[0] == '0') return false;
  return absl::SimpleAtoi(text, version) && *version >= 1 &&
         *version <= kMaxKeyVersion;
}

absl::StatusOr<std::map<uint32_t, std::string>> ParseKeyFile(
    const std::string& path, absl::string_view content) {
  std::map<uint32_t, std::string> keys;
  int line_number = 0;
  auto fail = [&](absl::string_view what) {
    WipeKeys(keys);
    return absl::InvalidArgumentError(absl::StrCat(
        "linkage key file ", path, " line ", line_number, ": ", what));
  };
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    ++line_number;
    if (size_t hash = line.find('#'); hash != absl::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    std::vector<absl::string_view> parts =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (parts.size() != 2) {
      return fail("expected \"<version> <64 hex characters>\"");
    }
    uint32_t version = 0;
    if (!ParseVersion(parts[0], &version)) {
      return fail("the key version must be a number from 1 to 999");
    }
    if (keys.count(version) != 0) {
      return fail(absl::StrCat("key version ", version, " appears twice"));
    }
    std::string key;
    if (!internal::DecodeKeyHex(parts[1], kKeyBytes, &key)) {
      return fail("the key must be exactly 64 hex characters (32 bytes)");
    }
    keys.emplace(version, std::move(key));
  }
  if (keys.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("linkage key file ", path, " holds no key"));
  }
  return keys;
}

}  // namespace

absl::StatusOr<std::string> NormalizeName(const std::string& utf8) {
  if (utf8.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the name is longer than ", kMaxNameBytes, " bytes"));
  }
  // ICU's fromUTF8 would silently substitute U+FFFD: validate first.
  const auto* bytes = reinterpret_cast<const uint8_t*>(utf8.data());
  const int32_t length = static_cast<int32_t>(utf8.size());
  for (int32_t i = 0; i < length;) {
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    if (c < 0) return absl::InvalidArgumentError("the name is not valid UTF-8");
  }
  if (utf8.empty()) return std::string();

  UErrorCode error = U_ZERO_ERROR;
  const icu::Normalizer2* nfkd = icu::Normalizer2::getNFKDInstance(error);
  if (U_FAILURE(error)) {
    return absl::InternalError(
        absl::StrCat("ICU NFKD normalizer unavailable: ", u_errorName(error)));
  }
  icu::UnicodeString text = icu::UnicodeString::fromUTF8(utf8);
  text = DropNonSpacingMarks(nfkd->normalize(text, error));
  text.foldCase(U_FOLD_CASE_DEFAULT);
  // Case folding can produce decomposable characters again.
  text = DropNonSpacingMarks(nfkd->normalize(text, error));
  if (U_FAILURE(error)) {
    return absl::InternalError(
        absl::StrCat("ICU normalization failed: ", u_errorName(error)));
  }

  // Letters, digits and spacing marks are kept; every other run (spaces,
  // punctuation, symbols, controls) becomes one space.
  constexpr uint32_t kKeep =
      U_GC_L_MASK | U_GC_N_MASK | U_GC_MC_MASK | U_GC_ME_MASK;
  icu::UnicodeString collapsed;
  bool pending_space = false;
  for (int32_t i = 0; i < text.length();) {
    const UChar32 c = text.char32At(i);
    i += U16_LENGTH(c);
    if ((U_GET_GC_MASK(c) & kKeep) != 0) {
      if (pending_space && !collapsed.isEmpty()) collapsed.append(UChar(' '));
      pending_space = false;
      collapsed.append(c);
    } else {
      pending_space = true;
    }
  }
  std::string out;
  collapsed.toUTF8String(out);
  return out;
}

absl::StatusOr<LinkageBasis> ChooseLinkageBasis(const IdentityTuple& tuple) {
  RUTA_ASSIGN_OR_RETURN(ParsedTuple parsed, ParseTuple(tuple));
  internal::Wipe(parsed.given_names);
  internal::Wipe(parsed.surnames);
  return parsed.basis;
}

LinkageKeyring::LinkageKeyring(std::map<uint32_t, std::string> keys)
    : keys_(std::move(keys)) {}

LinkageKeyring::LinkageKeyring(LinkageKeyring&& other) noexcept
    : keys_(std::move(other.keys_)) {
  other.keys_.clear();
}

LinkageKeyring& LinkageKeyring::operator=(LinkageKeyring&& other) noexcept {
  if (this != &other) {
    WipeKeys(keys_);
    keys_ = std::move(other.keys_);
    other.keys_.clear();
  }
  return *this;
}

LinkageKeyring::~LinkageKeyring() { WipeKeys(keys_); }

absl::StatusOr<LinkageKeyring> LinkageKeyring::LoadFromFile(
    const std::string& path) {
  RUTA_ASSIGN_OR_RETURN(
      std::string content,
      internal::ReadSecretFile(path, "linkage key file", kMaxKeyFileBytes));
  auto keys = ParseKeyFile(path, content);
  internal::Wipe(content);
  if (!keys.ok()) return keys.status();
  return LinkageKeyring(*std::move(keys));
}

absl::StatusOr<LinkageKeyring> LinkageKeyring::FromKeys(
    std::map<uint32_t, std::string> raw_keys) {
  if (raw_keys.empty()) {
    return absl::InvalidArgumentError("a linkage keyring needs a key");
  }
  for (const auto& [version, key] : raw_keys) {
    if (version < 1 || version > kMaxKeyVersion) {
      WipeKeys(raw_keys);
      return absl::InvalidArgumentError(
          "linkage key versions must be from 1 to 999");
    }
    if (key.size() != kKeyBytes) {
      const uint32_t v = version;
      WipeKeys(raw_keys);
      return absl::InvalidArgumentError(
          absl::StrCat("linkage key version ", v, " must be exactly 32 bytes"));
    }
  }
  return LinkageKeyring(std::move(raw_keys));
}

uint32_t LinkageKeyring::current_version() const {
  return keys_.empty() ? 0 : keys_.rbegin()->first;
}

bool LinkageKeyring::has_version(uint32_t version) const {
  return keys_.count(version) != 0;
}

std::vector<uint32_t> LinkageKeyring::versions() const {
  std::vector<uint32_t> out;
  for (auto it = keys_.rbegin(); it != keys_.rend(); ++it) {
    out.push_back(it->first);
  }
  return out;
}

absl::StatusOr<std::string> LinkageKeyring::DerivePersonRef(
    const IdentityTuple& tuple, uint32_t version) const {
  auto key = keys_.find(version);
  if (key == keys_.end()) {
    return absl::NotFoundError(absl::StrCat("linkage key version ", version,
                                            " is not in the keyring"));
  }
  RUTA_ASSIGN_OR_RETURN(ParsedTuple parsed, ParseTuple(tuple));
  if (parsed.basis == LinkageBasis::kNone) {
    return absl::InvalidArgumentError(
        "identity holds no usable identifier (a DNI, a CNV, or given names, "
        "surnames, date and district of birth)");
  }
  std::string canonical = CanonicalTuple(tuple, parsed, version);
  uint8_t mac[32];
  const bool ok = internal::HmacSha256(key->second, canonical, mac);
  internal::Wipe(canonical);
  if (!ok) {
    OPENSSL_cleanse(mac, sizeof(mac));
    return absl::InternalError("HMAC-SHA-256 failed (OpenSSL)");
  }
  std::string ref =
      absl::StrCat("pr", version, "_", internal::NibbleLetters(mac, kRefBytes));
  OPENSSL_cleanse(mac, sizeof(mac));
  return ref;
}

std::string RandomPersonRef() {
  uint8_t bytes[kRefBytes];
  internal::FillRandom(bytes, sizeof(bytes));
  return absl::StrCat("pr0_", internal::NibbleLetters(bytes, sizeof(bytes)));
}

bool IsValidPersonRef(const std::string& ref) {
  absl::string_view s(ref);
  if (s.substr(0, 2) != "pr") return false;
  s.remove_prefix(2);
  const size_t underscore = s.find('_');
  if (underscore == absl::string_view::npos || underscore == 0 ||
      underscore > 3) {
    return false;
  }
  const absl::string_view version = s.substr(0, underscore);
  if (!AllAsciiDigits(version) || (version.size() > 1 && version[0] == '0')) {
    return false;
  }
  const absl::string_view letters = s.substr(underscore + 1);
  if (letters.size() != 2 * kRefBytes) return false;
  for (char c : letters) {
    if (c < 'a' || c > 'p') return false;
  }
  return true;
}

}  // namespace ruta::core

namespace ruta::core {

uint32_t PersonRefKeyVersion(const std::string& ref) {
  uint32_t version = 0;
  const size_t underscore = ref.find('_');
  if (ref.size() < 3 || underscore == std::string::npos ||
      !absl::SimpleAtoi(absl::string_view(ref).substr(2, underscore - 2),
                        &version)) {
    return 0;
  }
  return version;
}

}  // namespace ruta::core
