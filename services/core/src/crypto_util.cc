#include "crypto_util.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ruta::core::internal {

void FillRandom(uint8_t* out, size_t n) {
  while (n > 0) {
    const int chunk =
        n > static_cast<size_t>(INT_MAX) ? INT_MAX : static_cast<int>(n);
    if (RAND_bytes(out, chunk) != 1) {
      std::fputs("ruta: OpenSSL RAND_bytes failed; aborting\n", stderr);
      std::abort();
    }
    out += chunk;
    n -= static_cast<size_t>(chunk);
  }
}

void Wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

std::string HexEncode(const uint8_t* data, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xf]);
  }
  return out;
}

std::string Sha256Hex(const std::string& data) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(data.data()), data.size(), digest);
  return HexEncode(digest, sizeof(digest));
}

bool HmacSha256(absl::string_view key, absl::string_view data,
                uint8_t out[32]) {
  // Fetched once: OpenSSL 3 provider lookups are not free.
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
      EVP_MAC_final(ctx, out, &out_len, 32) == 1 && out_len == 32;
  EVP_MAC_CTX_free(ctx);  // cleanses the key schedule
  return ok;
}

std::string NibbleLetters(const uint8_t* data, size_t n) {
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(static_cast<char>('a' + (data[i] >> 4)));
    out.push_back(static_cast<char>('a' + (data[i] & 0xf)));
  }
  return out;
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool DecodeKeyHex(absl::string_view text, size_t bytes, std::string* key) {
  Wipe(*key);
  if (text.size() != 2 * bytes) return false;
  key->reserve(bytes);
  for (size_t i = 0; i < text.size(); i += 2) {
    const int hi = HexValue(text[i]);
    const int lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) {
      Wipe(*key);
      return false;
    }
    key->push_back(static_cast<char>((hi << 4) | lo));
  }
  return true;
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path,
                                           absl::string_view what,
                                           size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return absl::NotFoundError(
          absl::StrCat(what, " ", path, " does not exist"));
    }
    if (err == EACCES) {
      return absl::PermissionDeniedError(absl::StrCat(
          "cannot read ", what, " ", path, ": ", std::strerror(err)));
    }
    return absl::InternalError(absl::StrCat("cannot open ", what, " ", path,
                                            ": ", std::strerror(err)));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return absl::InternalError(absl::StrCat("cannot stat ", what, " ", path,
                                            ": ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, " is not a regular file"));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "%s %s has mode %04o: it must not be accessible to group or others; "
        "run chmod 600 %s",
        what, path, st.st_mode & 07777, path));
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, " is larger than ", max_bytes, " bytes"));
  }

  // One byte more than allowed detects a file that grew after fstat.
  std::string content(max_bytes + 1, '\0');
  size_t used = 0;
  while (used < content.size()) {
    const ssize_t n = ::read(fd, content.data() + used, content.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      Wipe(content);
      return absl::InternalError(absl::StrCat("cannot read ", what, " ", path,
                                              ": ", std::strerror(err)));
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  if (used > max_bytes) {
    Wipe(content);
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, " is larger than ", max_bytes, " bytes"));
  }
  // Shrinking in place keeps the buffer (and what lies past `used` is zero).
  content.resize(used);
  return absl::StatusOr<std::string>(std::move(content));
}

}  // namespace ruta::core::internal
