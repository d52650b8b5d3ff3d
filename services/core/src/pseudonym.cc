#include "ruta/core/pseudonym.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sys/stat.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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
constexpr off_t kMaxKeyFileBytes = 64 * 1024;
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

// Letters a..p for the 4-bit nibbles of `data`, high nibble first.
std::string NibbleLetters(const uint8_t* data, size_t n) {
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(static_cast<char>('a' + (data[i] >> 4)));
    out.push_back(static_cast<char>('a' + (data[i] & 0xf)));
  }
  return out;
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

// HMAC-SHA-256 of `data` under `key` into `out` (32 bytes). The HMAC
// algorithm is fetched once (OpenSSL 3 provider lookups are not free).
bool HmacSha256(const std::string& key, const std::string& data,
                uint8_t out[EVP_MAX_MD_SIZE]) {
  static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (hmac == nullptr) return false;
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(hmac);
  if (ctx == nullptr) return false;
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  size_t out_len = 0;
  const bool ok =
      EVP_MAC_init(ctx, reinterpret_cast<const uint8_t*>(key.data()),
                   key.size(), params) == 1 &&
      EVP_MAC_update(ctx, reinterpret_cast<const uint8_t*>(data.data()),
                     data.size()) == 1 &&
      EVP_MAC_final(ctx, out, &out_len, EVP_MAX_MD_SIZE) == 1 && out_len == 32;
  EVP_MAC_CTX_free(ctx);  // cleanses the key schedule
  return ok;
}

// Parses "<version>" of a key line.
bool ParseVersion(absl::string_view text, uint32_t* version) {
  if (!AllAsciiDigits(text) || text.size() > 3 || text[0] == '0') return false;
  return absl::SimpleAtoi(text, version) && *version >= 1 &&
         *version <= kMaxKeyVersion;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes 64 hex characters into `key` (reserved first: no copy is left in
// freed memory by a reallocation).
bool ParseKeyHex(absl::string_view text, std::string* key) {
  if (text.size() != 2 * kKeyBytes) return false;
  key->clear();
  key->reserve(kKeyBytes);
  for (size_t i = 0; i < text.size(); i += 2) {
    const int hi = HexValue(text[i]);
    const int lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) {
      internal::Wipe(*key);
      return false;
    }
    key->push_back(static_cast<char>((hi << 4) | lo));
  }
  return true;
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
    if (!ParseKeyHex(parts[1], &key)) {
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
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return absl::NotFoundError(
          absl::StrCat("linkage key file ", path, " does not exist"));
    }
    if (err == EACCES) {
      return absl::PermissionDeniedError(absl::StrCat(
          "cannot read linkage key file ", path, ": ", std::strerror(err)));
    }
    return absl::InternalError(absl::StrCat("cannot open linkage key file ",
                                            path, ": ", std::strerror(err)));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return absl::InternalError(absl::StrCat("cannot stat linkage key file ",
                                            path, ": ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("linkage key file ", path, " is not a regular file"));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "linkage key file %s has mode %04o: it must not be accessible to "
        "group or others; run chmod 600 %s",
        path, st.st_mode & 07777, path));
  }
  if (st.st_size > kMaxKeyFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat("linkage key file ", path,
                                                   " is larger than ",
                                                   kMaxKeyFileBytes, " bytes"));
  }

  // Read into a buffer that never reallocates, then wipe it.
  std::string content(static_cast<size_t>(kMaxKeyFileBytes) + 1, '\0');
  size_t used = 0;
  while (used < content.size()) {
    const ssize_t n = ::read(fd, content.data() + used, content.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      internal::Wipe(content);
      return absl::InternalError(absl::StrCat("cannot read linkage key file ",
                                              path, ": ", std::strerror(err)));
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  if (used > static_cast<size_t>(kMaxKeyFileBytes)) {
    internal::Wipe(content);
    return absl::InvalidArgumentError(absl::StrCat("linkage key file ", path,
                                                   " is larger than ",
                                                   kMaxKeyFileBytes, " bytes"));
  }
  auto keys = ParseKeyFile(path, absl::string_view(content.data(), used));
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
  uint8_t mac[EVP_MAX_MD_SIZE];
  const bool ok = HmacSha256(key->second, canonical, mac);
  internal::Wipe(canonical);
  if (!ok) {
    OPENSSL_cleanse(mac, sizeof(mac));
    return absl::InternalError("HMAC-SHA-256 failed (OpenSSL)");
  }
  std::string ref =
      absl::StrCat("pr", version, "_", NibbleLetters(mac, kRefBytes));
  OPENSSL_cleanse(mac, sizeof(mac));
  return ref;
}

std::string RandomPersonRef() {
  uint8_t bytes[kRefBytes];
  internal::FillRandom(bytes, sizeof(bytes));
  return absl::StrCat("pr0_", NibbleLetters(bytes, sizeof(bytes)));
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
