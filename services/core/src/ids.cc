#include "ruta/core/ids.h"

#include <cstdint>

#include "absl/strings/escaping.h"
#include "crypto_util.h"

namespace ruta::core {
namespace {

constexpr std::string_view kCasePrefix = "cs_";
constexpr size_t kCaseLetters = 20;

// Page token record: magic "rp", format version 1, then the case id.
constexpr std::string_view kTokenHeader = "rp\x01";

bool IsHexRun(std::string_view s, bool upper) {
  for (char c : s) {
    const bool ok = (c >= '0' && c <= '9') ||
                    (upper ? (c >= 'A' && c <= 'F') : (c >= 'a' && c <= 'f'));
    if (!ok) return false;
  }
  return true;
}

absl::Status NotOurToken() {
  return absl::InvalidArgumentError(
      "page_token is not a token this server issued; pass the "
      "next_page_token of the previous page unchanged, or none for the first "
      "page");
}

}  // namespace

static std::string NewIdWithPrefix(std::string_view prefix) {
  std::string id(prefix);
  id.reserve(prefix.size() + kCaseLetters);
  uint8_t buf[32];
  while (id.size() < prefix.size() + kCaseLetters) {
    internal::FillRandom(buf, sizeof(buf));
    for (uint8_t b : buf) {
      // 234 = 9 * 26: reject the top 22 values so that every letter is
      // equally likely.
      if (b >= 234) continue;
      id.push_back(static_cast<char>('a' + b % 26));
      if (id.size() == prefix.size() + kCaseLetters) break;
    }
  }
  return id;
}

static bool IsValidIdWithPrefix(std::string_view prefix, std::string_view id) {
  if (id.size() != prefix.size() + kCaseLetters ||
      id.substr(0, prefix.size()) != prefix) {
    return false;
  }
  for (char c : id.substr(prefix.size())) {
    if (c < 'a' || c > 'z') return false;
  }
  return true;
}

std::string NewCaseId() { return NewIdWithPrefix(kCasePrefix); }
std::string NewTransferId() { return NewIdWithPrefix("tr_"); }
std::string NewServiceId() { return NewIdWithPrefix("sv_"); }
std::string NewEventId() { return NewIdWithPrefix("ev_"); }
std::string NewActivityId() { return NewIdWithPrefix("ac_"); }
bool IsValidCaseId(std::string_view id) {
  return IsValidIdWithPrefix(kCasePrefix, id);
}
bool IsValidTransferId(std::string_view id) {
  return IsValidIdWithPrefix("tr_", id);
}
bool IsValidServiceId(std::string_view id) {
  return IsValidIdWithPrefix("sv_", id);
}
bool IsValidActivityId(std::string_view id) {
  return IsValidIdWithPrefix("ac_", id);
}

bool IsValidRequestId(std::string_view id) {
  if (id.size() != 36) return false;
  for (size_t dash : {8, 13, 18, 23}) {
    if (id[dash] != '-') return false;
  }
  const std::string_view groups[] = {id.substr(0, 8), id.substr(9, 4),
                                     id.substr(14, 4), id.substr(19, 4),
                                     id.substr(24, 12)};
  for (bool upper : {false, true}) {
    bool all = true;
    for (std::string_view g : groups) all = all && IsHexRun(g, upper);
    if (all) return true;
  }
  return false;
}

std::string EncodePageToken(std::string_view after) {
  std::string record(kTokenHeader);
  record.append(after);
  return absl::WebSafeBase64Escape(absl::string_view(record));
}

absl::StatusOr<std::string> DecodePageToken(std::string_view token) {
  if (token.empty()) return std::string();
  if (token.size() > 128) return NotOurToken();
  std::string record;
  if (!absl::WebSafeBase64Unescape(
          absl::string_view(token.data(), token.size()), &record)) {
    return NotOurToken();
  }
  if (record.size() <= kTokenHeader.size() ||
      std::string_view(record).substr(0, kTokenHeader.size()) != kTokenHeader) {
    return NotOurToken();
  }
  std::string after = record.substr(kTokenHeader.size());
  bool position = !after.empty() && after.size() <= 18;
  for (char c : after) position = position && c >= '0' && c <= '9';
  if (!position && !IsValidCaseId(after) && !IsValidTransferId(after) &&
      !IsValidServiceId(after) && !IsValidActivityId(after)) {
    return NotOurToken();
  }
  return after;
}

}  // namespace ruta::core
