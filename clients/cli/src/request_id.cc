#include "ruta/cli/request_id.h"

#include <cstdint>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace ruta::cli {
namespace {

constexpr char kHex[] = "0123456789abcdef";

bool IsDashPosition(size_t i) {
  return i == 8 || i == 13 || i == 18 || i == 23;
}

}  // namespace

std::string NewRequestId(absl::BitGenRef gen) {
  uint8_t bytes[16];
  for (uint8_t& byte : bytes) byte = absl::Uniform<uint8_t>(gen);
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122
  std::string id;
  id.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id.push_back('-');
    id.push_back(kHex[bytes[i] >> 4]);
    id.push_back(kHex[bytes[i] & 0x0f]);
  }
  return id;
}

std::string NewRequestId() {
  absl::BitGen gen;
  return NewRequestId(gen);
}

bool IsCanonicalUuid(absl::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (IsDashPosition(i)) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<std::string> NormalizeRequestId(absl::string_view text) {
  std::string id = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (!IsCanonicalUuid(id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid --request-id \"", text,
        "\": expected a UUID such as 3f2b8c1e-5a7d-4e9f-8b6a-0c1d2e3f4a5b "
        "(the one printed when an earlier attempt failed)"));
  }
  return id;
}

}  // namespace ruta::cli
