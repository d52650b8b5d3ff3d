#include "ruta/security/pem.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "openssl_util.h"

namespace ruta::security {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

std::unique_ptr<BIO, BioFree> MemoryBio(const std::string& data) {
  return std::unique_ptr<BIO, BioFree>(
      BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

}  // namespace

absl::StatusOr<std::string> ReadPemFile(const std::string& path,
                                        absl::string_view what) {
  if (path.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no ", what, " file configured"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " file ", path, " is missing or unreadable"));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string content = buffer.str();
  if (content.find("-----BEGIN ") == std::string::npos) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " file ", path, " holds no PEM data"));
  }
  return content;
}

absl::Status CheckKeyPair(const std::string& cert_pem,
                          const std::string& key_pem,
                          absl::string_view cert_file,
                          absl::string_view key_file) {
  auto cert_bio = MemoryBio(cert_pem);
  std::unique_ptr<X509, X509Free> cert(
      PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  auto key_bio = MemoryBio(key_pem);
  // An empty passphrase callback: an encrypted key fails instead of prompting.
  std::unique_ptr<EVP_PKEY, PkeyFree> key(PEM_read_bio_PrivateKey(
      key_bio.get(), nullptr, [](char*, int, int, void*) -> int { return 0; },
      nullptr));
  ERR_clear_error();
  if (cert == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "certificate file ", cert_file, " does not hold a PEM certificate"));
  }
  if (key == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("private key file ", key_file,
                     " does not hold an unencrypted PEM private key"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::FailedPreconditionError(absl::StrCat(
        "private key ", key_file, " does not belong to certificate ", cert_file,
        "; install the key and certificate as a pair"));
  }
  return absl::OkStatus();
}

std::vector<absl::Time> CertificateNotAfter(absl::string_view pem) {
  std::vector<absl::Time> out;
  for (const internal::X509Ptr& cert : internal::ParseCertificates(pem)) {
    out.push_back(internal::AsnTime(X509_get0_notAfter(cert.get())));
  }
  return out;
}

std::vector<absl::Time> CrlNextUpdate(absl::string_view pem) {
  std::vector<absl::Time> out;
  for (const internal::X509CrlPtr& crl : internal::ParseCrls(pem)) {
    const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl.get());
    out.push_back(next == nullptr ? absl::InfiniteFuture()
                                  : internal::AsnTime(next));
  }
  return out;
}

}  // namespace ruta::security
