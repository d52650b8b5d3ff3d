#include "ruta/core/partner_pseudonym.h"

#include <openssl/crypto.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "crypto_util.h"
#include "ruta/common/status_macros.h"

namespace ruta::core {
namespace {

constexpr size_t kMasterBytes = 32;
constexpr size_t kRefBytes = 16;  // 128 bits of the HMAC -> 32 letters
constexpr size_t kMaxSecretFileBytes = 64 * 1024;
constexpr absl::string_view kRefPrefix = "pc_";

// Domain separation of the partner key derivation: the master secret derives
// nothing else, but a later use must pick another label.
constexpr absl::string_view kPartnerDomain("ruta-partner-v1\0", 16);

[[noreturn]] void HmacFailed() {
  std::fputs("ruta: HMAC-SHA-256 failed (OpenSSL); aborting\n", stderr);
  std::abort();
}

// "pc_" + letters of HMAC(partner_key, case_id).
std::string RefUnderKey(const std::string& partner_key,
                        const std::string& case_id) {
  uint8_t mac[32];
  if (!internal::HmacSha256(partner_key, case_id, mac)) HmacFailed();
  std::string ref =
      absl::StrCat(kRefPrefix, internal::NibbleLetters(mac, kRefBytes));
  OPENSSL_cleanse(mac, sizeof(mac));
  return ref;
}

// The one secret of the file's content; `path` only for messages.
absl::StatusOr<std::string> ParseSecretFile(const std::string& path,
                                            absl::string_view content) {
  std::string master;
  int line_number = 0;
  auto fail = [&](absl::string_view what) {
    internal::Wipe(master);
    return absl::InvalidArgumentError(absl::StrCat(
        "partner master key file ", path, " line ", line_number, ": ", what));
  };
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    ++line_number;
    if (size_t hash = line.find('#'); hash != absl::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    if (!master.empty()) return fail("the file must hold a single secret");
    if (!internal::DecodeKeyHex(line, kMasterBytes, &master)) {
      return fail("the secret must be exactly 64 hex characters (32 bytes)");
    }
  }
  if (master.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("partner master key file ", path, " holds no secret"));
  }
  return absl::StatusOr<std::string>(std::move(master));
}

}  // namespace

PartnerPseudonyms::PartnerPseudonyms(std::string master)
    : master_(std::move(master)) {}

PartnerPseudonyms::PartnerPseudonyms(PartnerPseudonyms&& other) noexcept
    : master_(std::move(other.master_)) {
  other.master_.clear();
}

PartnerPseudonyms& PartnerPseudonyms::operator=(
    PartnerPseudonyms&& other) noexcept {
  if (this != &other) {
    internal::Wipe(master_);
    master_ = std::move(other.master_);
    other.master_.clear();
  }
  return *this;
}

PartnerPseudonyms::~PartnerPseudonyms() { internal::Wipe(master_); }

absl::StatusOr<PartnerPseudonyms> PartnerPseudonyms::LoadFromFile(
    const std::string& path) {
  RUTA_ASSIGN_OR_RETURN(
      std::string content,
      internal::ReadSecretFile(path, "partner master key file",
                               kMaxSecretFileBytes));
  auto master = ParseSecretFile(path, content);
  internal::Wipe(content);
  if (!master.ok()) return master.status();
  return PartnerPseudonyms(*std::move(master));
}

absl::StatusOr<PartnerPseudonyms> PartnerPseudonyms::FromMasterSecret(
    std::string master) {
  if (master.size() != kMasterBytes) {
    internal::Wipe(master);
    return absl::InvalidArgumentError(
        "the partner master secret must be exactly 32 bytes");
  }
  return PartnerPseudonyms(std::move(master));
}

std::string PartnerPseudonyms::PartnerKey(const std::string& partner_id) const {
  if (master_.size() != kMasterBytes) {
    std::fputs("ruta: PartnerPseudonyms used without a secret; aborting\n",
               stderr);
    std::abort();
  }
  std::string label;
  label.reserve(kPartnerDomain.size() + partner_id.size());
  label.append(kPartnerDomain.data(), kPartnerDomain.size());
  label.append(partner_id);
  uint8_t mac[32];
  if (!internal::HmacSha256(master_, label, mac)) HmacFailed();
  std::string key(reinterpret_cast<const char*>(mac), sizeof(mac));
  OPENSSL_cleanse(mac, sizeof(mac));
  return key;
}

std::string PartnerPseudonyms::CaseRefFor(const std::string& partner_id,
                                          const std::string& case_id) const {
  std::string key = PartnerKey(partner_id);
  std::string ref = RefUnderKey(key, case_id);
  internal::Wipe(key);
  return ref;
}

absl::StatusOr<std::string> PartnerPseudonyms::ResolveCaseRef(
    const std::string& partner_id, const std::string& case_ref,
    const std::vector<std::string>& candidate_case_ids) const {
  if (!IsValidPartnerCaseRef(case_ref)) {
    return absl::InvalidArgumentError(
        "partner_case_ref must be \"pc_\" followed by 32 letters a to p");
  }
  std::string key = PartnerKey(partner_id);
  const std::string* found = nullptr;
  for (const std::string& case_id : candidate_case_ids) {
    const std::string ref = RefUnderKey(key, case_id);
    // Refs have equal length here; CRYPTO_memcmp keeps the comparison's
    // timing independent of where they differ.
    if (CRYPTO_memcmp(ref.data(), case_ref.data(), ref.size()) == 0) {
      found = &case_id;
      break;
    }
  }
  internal::Wipe(key);
  if (found == nullptr) {
    return absl::NotFoundError("no case referred to you has this reference");
  }
  return *found;
}

bool IsValidPartnerCaseRef(const std::string& ref) {
  const absl::string_view s(ref);
  if (s.size() != kRefPrefix.size() + 2 * kRefBytes ||
      s.substr(0, kRefPrefix.size()) != kRefPrefix) {
    return false;
  }
  for (char c : s.substr(kRefPrefix.size())) {
    if (c < 'a' || c > 'p') return false;
  }
  return true;
}

}  // namespace ruta::core
