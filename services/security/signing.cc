#include "ruta/security/signing.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ruta::security {
namespace {

constexpr size_t kEd25519SignatureSize = 64;

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " ", path, " is missing or unreadable"));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Parses PEM text with `read` (a PEM_read_bio_* function); nullptr when it
// does not parse. The BIO reads from `pem` without copying.
template <typename Read>
PkeyPtr ParsePem(const std::string& pem, Read read) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (bio == nullptr) return PkeyPtr(nullptr, &EVP_PKEY_free);
  return PkeyPtr(read(bio.get()), &EVP_PKEY_free);
}

}  // namespace

struct Signer::Key {
  PkeyPtr pkey{nullptr, &EVP_PKEY_free};
};

struct SignatureVerifier::Key {
  PkeyPtr pkey{nullptr, &EVP_PKEY_free};
};

Signer::Signer(std::unique_ptr<Key> key) : key_(std::move(key)) {}
Signer::~Signer() = default;

absl::StatusOr<std::unique_ptr<Signer>> Signer::LoadFromFile(
    const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("signing key ", path, " is missing or unreadable"));
  }
  if ((st.st_mode & 0077) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("signing key ", path,
                     " is readable by group or others; run chmod 600 on it"));
  }
  absl::StatusOr<std::string> pem = ReadFile(path, "signing key");
  if (!pem.ok()) return pem.status();
  auto key = std::make_unique<Key>();
  key->pkey = ParsePem(*pem, [](BIO* bio) {
    return PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  });
  // The PEM text held the private key: wipe the copy.
  OPENSSL_cleanse(pem->data(), pem->size());
  if (key->pkey == nullptr ||
      EVP_PKEY_id(key->pkey.get()) != EVP_PKEY_ED25519) {
    return absl::FailedPreconditionError(absl::StrCat(
        "signing key ", path,
        " is not an Ed25519 private key in PEM (certs/pki.sh writes "
        "<region>/signing/signing.key)"));
  }
  return std::unique_ptr<Signer>(new Signer(std::move(key)));
}

absl::StatusOr<std::string> Signer::Sign(absl::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::string signature(kEd25519SignatureSize, '\0');
  size_t size = signature.size();
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr,
                         key_->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(),
                     reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1 ||
      size != kEd25519SignatureSize) {
    return absl::InternalError("OpenSSL could not sign with the signing key");
  }
  return signature;
}

SignatureVerifier::SignatureVerifier(std::unique_ptr<Key> key)
    : key_(std::move(key)) {}
SignatureVerifier::~SignatureVerifier() = default;

absl::StatusOr<std::unique_ptr<SignatureVerifier>>
SignatureVerifier::LoadFromFile(const std::string& path) {
  absl::StatusOr<std::string> pem = ReadFile(path, "signing public key");
  if (!pem.ok()) return pem.status();
  auto key = std::make_unique<Key>();
  key->pkey = ParsePem(*pem, [](BIO* bio) {
    return PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  });
  if (key->pkey == nullptr ||
      EVP_PKEY_id(key->pkey.get()) != EVP_PKEY_ED25519) {
    return absl::FailedPreconditionError(absl::StrCat(
        "signing public key ", path,
        " is not an Ed25519 public key in PEM (certs/pki.sh writes "
        "trust/signing/<region>.pub)"));
  }
  return std::unique_ptr<SignatureVerifier>(
      new SignatureVerifier(std::move(key)));
}

bool SignatureVerifier::Verify(absl::string_view message,
                               absl::string_view signature) const {
  if (signature.size() != kEd25519SignatureSize) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  return ctx != nullptr &&
         EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr,
                              key_->pkey.get()) == 1 &&
         EVP_DigestVerify(
             ctx.get(),
             reinterpret_cast<const unsigned char*>(signature.data()),
             signature.size(),
             reinterpret_cast<const unsigned char*>(message.data()),
             message.size()) == 1;
}

}  // namespace ruta::security
