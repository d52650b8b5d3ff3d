// Small OpenSSL helpers shared by the core's sources (internal header).
#ifndef RUTA_CORE_SRC_CRYPTO_UTIL_H_
#define RUTA_CORE_SRC_CRYPTO_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <string>

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

}  // namespace ruta::core::internal

#endif  // RUTA_CORE_SRC_CRYPTO_UTIL_H_
