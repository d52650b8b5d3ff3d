#include "ruta/security/verifier.h"

#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "openssl_util.h"
#include "spdlog/spdlog.h"

namespace ruta::security {
namespace {

using internal::ForLog;
using internal::NameText;
using internal::X509Ptr;
using internal::X509StackPtr;

Verdict Refuse(Verdict verdict, RefusalReason reason, std::string detail) {
  verdict.accepted = false;
  verdict.reason = reason;
  verdict.detail = std::move(detail);
  return verdict;
}

// The chain errors that mean "no path to a root of this region".
bool IsIssuerError(int error) {
  switch (error) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
      return true;
    default:
      return false;
  }
}

RefusalReason ChainReason(int error) {
  switch (error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return RefusalReason::kExpired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return RefusalReason::kNotYetValid;
    case X509_V_ERR_CERT_REVOKED:
      return RefusalReason::kRevoked;
    case X509_V_ERR_UNABLE_TO_GET_CRL:
      return RefusalReason::kCrlMissing;
    case X509_V_ERR_CRL_HAS_EXPIRED:
      return RefusalReason::kCrlExpired;
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
    case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
      return RefusalReason::kCrlInvalid;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      return RefusalReason::kSelfSigned;
    default:
      return IsIssuerError(error) ? RefusalReason::kUnknownCa
                                  : RefusalReason::kChainInvalid;
  }
}

}  // namespace

ClientCertificateVerifier::ClientCertificateVerifier(
    std::shared_ptr<const TrustStore> trust)
    : trust_(std::move(trust)) {}

Verdict ClientCertificateVerifier::Check(absl::string_view leaf_pem,
                                         absl::string_view chain_pem) const {
  Verdict verdict;
  if (leaf_pem.empty()) {
    return Refuse(std::move(verdict), RefusalReason::kNoClientCertificate,
                  "the client presented no certificate");
  }
  std::vector<X509Ptr> leaf_certs = internal::ParseCertificates(leaf_pem);
  if (leaf_certs.empty()) {
    return Refuse(std::move(verdict), RefusalReason::kBadCertificate,
                  "the client certificate does not parse");
  }
  X509* leaf = leaf_certs.front().get();
  verdict.subject = NameText(X509_get_subject_name(leaf));
  verdict.issuer = NameText(X509_get_issuer_name(leaf));
  verdict.serial = internal::SerialHex(leaf);
  bool malformed_san = false;
  verdict.uri_sans = internal::UriSans(leaf, &malformed_san);

  // 1. The identity: it names the region whose CA must have issued it.
  if (malformed_san) {
    return Refuse(std::move(verdict), RefusalReason::kBadCertificate,
                  "the subjectAltName extension is malformed or repeated");
  }
  if (verdict.uri_sans.empty()) {
    return Refuse(std::move(verdict), RefusalReason::kNoUriSan,
                  "the certificate carries no URI SAN (a ruta identity "
                  "spiffe://<region>.ruta.pe/<role>/<name> is required)");
  }
  if (verdict.uri_sans.size() > 1) {
    return Refuse(
        std::move(verdict), RefusalReason::kSanCount,
        absl::StrCat("the certificate carries ", verdict.uri_sans.size(),
                     " URI SANs; exactly one is allowed"));
  }
  absl::StatusOr<Identity> identity = ParseSpiffeId(verdict.uri_sans.front());
  if (!identity.ok()) {
    return Refuse(std::move(verdict), RefusalReason::kBadSpiffeId,
                  std::string(identity.status().message()));
  }
  if (!trust_->HasRegion(identity->region)) {
    return Refuse(std::move(verdict), RefusalReason::kUnknownRegion,
                  absl::StrCat("trust domain ", TrustDomain(identity->region),
                               " is not a region this node knows"));
  }

  // 2. The chain, against that region's roots and CRLs only.
  std::vector<X509Ptr> chain_certs = internal::ParseCertificates(chain_pem);
  X509StackPtr untrusted(sk_X509_new_null());
  for (size_t i = 1; i < leaf_certs.size(); ++i) {
    sk_X509_push(untrusted.get(), leaf_certs[i].get());
  }
  for (const X509Ptr& cert : chain_certs) {
    sk_X509_push(untrusted.get(), cert.get());
  }
  const ChainCheck chain =
      trust_->Verify(identity->region, leaf, untrusted.get());
  if (!chain.ok) {
    RefusalReason reason = ChainReason(chain.error);
    std::string detail = absl::StrCat(chain.message, " (depth ", chain.depth,
                                      ": ", chain.subject, ")");
    if (reason == RefusalReason::kUnknownCa) {
      for (const std::string& other : trust_->Regions()) {
        if (other != identity->region &&
            trust_->ChainsTo(other, leaf, untrusted.get())) {
          reason = RefusalReason::kWrongTrustDomain;
          detail = absl::StrCat("identity in trust domain ",
                                TrustDomain(identity->region),
                                " issued by the CA of region ", other);
          break;
        }
      }
      if (reason == RefusalReason::kUnknownCa) {
        detail = absl::StrCat("does not chain to the root CA of region ",
                              identity->region, ": ", detail);
      }
    }
    return Refuse(std::move(verdict), reason, std::move(detail));
  }

  // 3. The leaf's profile.
  const uint32_t flags = X509_get_extension_flags(leaf);
  if ((flags & EXFLAG_BCONS) == 0 || (flags & EXFLAG_CA) != 0) {
    return Refuse(std::move(verdict), RefusalReason::kCaCertificate,
                  (flags & EXFLAG_BCONS) == 0
                      ? "no basicConstraints extension (a leaf must say "
                        "CA:false)"
                      : "basicConstraints CA:true: a CA certificate is not a "
                        "client identity");
  }
  if ((flags & EXFLAG_XKUSAGE) == 0 ||
      (X509_get_extended_key_usage(leaf) & XKU_SSL_CLIENT) == 0) {
    return Refuse(std::move(verdict), RefusalReason::kNoClientAuth,
                  "extendedKeyUsage lacks clientAuth");
  }
  verdict.accepted = true;
  verdict.identity = *std::move(identity);
  return verdict;
}

Verdict ClientCertificateVerifier::Verify(absl::string_view leaf_pem,
                                          absl::string_view chain_pem) const {
  Verdict verdict = Check(leaf_pem, chain_pem);
  if (!verdict.accepted) {
    std::vector<std::string> sans;
    for (const std::string& san : verdict.uri_sans) sans.push_back(ForLog(san));
    spdlog::warn(
        "refused TLS client: reason={} detail=\"{}\" subject=\"{}\" "
        "uri_sans=[{}] issuer=\"{}\" serial={}",
        RefusalReasonName(verdict.reason), ForLog(verdict.detail, 400),
        ForLog(verdict.subject), absl::StrJoin(sans, ","),
        ForLog(verdict.issuer), ForLog(verdict.serial, 64));
    CountHandshakeRefusal(verdict.reason);
  }
  return verdict;
}

}  // namespace ruta::security
