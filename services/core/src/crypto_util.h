// Small OpenSSL helpers shared by the core's sources (internal header).
#ifndef RUTA_CORE_SRC_CRYPTO_UTIL_H_
#define RUTA_CORE_SRC_CRYPTO_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ruta::core::internal {

// Fills `out` with `n` bytes from OpenSSL's CSPRNG. Aborts the process when
// the CSPRNG fails: no id or ref may ever be derived from weak randomness.
void FillRandom(uint8_t* out, size_t n);

// Overwrites the bytes of `s` (OPENSSL_cleanse), then clears it.
void Wipe(std::string& s);

// Lowercase hex of `n` bytes.
std::string HexEncode(const uint8_t* data, size_t n);

// SHA-256 of `data`, as 64 lowercase hex characters.
std::string Sha256Hex(const std::string& data);

// HMAC-SHA-256 of `data` under `key` into `out` (32 bytes written). False
// when OpenSSL fails; `out` is then undefined.
bool HmacSha256(absl::string_view key, absl::string_view data, uint8_t out[32]);

// Letters a..p for the 4-bit nibbles of `data`, high nibble first: refs made
// of them hold no digit run, so they never look like a DNI or a date.
std::string NibbleLetters(const uint8_t* data, size_t n);

// Decodes exactly 2 * `bytes` hex characters (either case) into `key`,
// reserved first so that no copy is left in freed memory by a reallocation.
// False (and `key` wiped) when `text` is not that.
bool DecodeKeyHex(absl::string_view text, size_t bytes, std::string* key);

// Reads a file holding secret material (a key file). `what` names it in
// messages ("linkage key file"); messages name the path, never the content.
//   NOT_FOUND          the file does not exist;
//   PERMISSION_DENIED  it cannot be read, or its mode lets group or others
//                      access it (0600 or stricter is required);
//   INVALID_ARGUMENT   not a regular file, or larger than `max_bytes`;
//   INTERNAL           any other I/O error.
// The content is read into a buffer that never reallocates (no stray copy is
// left in freed memory); the caller wipes the result with Wipe().
absl::StatusOr<std::string> ReadSecretFile(const std::string& path,
                                           absl::string_view what,
                                           size_t max_bytes);

}  // namespace ruta::core::internal

#endif  // RUTA_CORE_SRC_CRYPTO_UTIL_H_
