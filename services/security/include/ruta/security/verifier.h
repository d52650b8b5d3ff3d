// The client certificate verifier of DESIGN.md section 5, independent of any
// transport: given the PEM certificate a TLS peer presented (and the chain it
// sent), decide whether the peer may talk to this node. tls.cc runs it in
// every handshake of the node's listener (gRPC ExternalCertificateVerifier).
//
// A certificate is accepted only if it
//   * carries exactly one URI SAN, a ruta identity
//     spiffe://<region>.ruta.pe/<role>/<name>, of a region the node knows;
//   * chains to a root CA of THAT region (a certificate from the Cusco CA
//     claiming madre-de-dios.ruta.pe is refused), each certificate of the
//     chain within its validity period;
//   * is not revoked, nor is any CA of its chain: every CA must have a loaded,
//     currently valid CRL (missing or expired CRL: refused, fail closed);
//   * is a leaf (basicConstraints present, CA:false) with extendedKeyUsage
//     clientAuth.
// Node certificates of peers are checked the same way.
#ifndef RUTA_SECURITY_VERIFIER_H_
#define RUTA_SECURITY_VERIFIER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "ruta/security/handshake_metrics.h"
#include "ruta/security/identity.h"
#include "ruta/security/trust_store.h"

namespace ruta::security {

struct Verdict {
  bool accepted = false;
  // When accepted: the caller's identity.
  Identity identity;
  // When refused: the reason class and a precise explanation.
  RefusalReason reason = RefusalReason::kBadCertificate;
  std::string detail;
  // What the certificate says, for the log (never key material nor case
  // data); empty when there was no parsable certificate.
  std::string subject;
  std::string issuer;
  std::string serial;  // hex
  std::vector<std::string> uri_sans;
};

class ClientCertificateVerifier final {
 public:
  // `trust` must outlive nothing: it is shared (reloads happen through it).
  explicit ClientCertificateVerifier(std::shared_ptr<const TrustStore> trust);
  ClientCertificateVerifier(const ClientCertificateVerifier&) = delete;
  ClientCertificateVerifier& operator=(const ClientCertificateVerifier&) =
      delete;

  // Decides on `leaf_pem` (the peer's certificate; empty when it sent none)
  // and `chain_pem` (the certificates the peer sent after it, PEM, possibly
  // empty or also holding the leaf). No side effects. Thread-safe.
  Verdict Check(absl::string_view leaf_pem, absl::string_view chain_pem) const;

  // Check, and for a refusal log one warning line (reason, detail, subject,
  // URI SANs, issuer, serial; attacker-controlled text escaped) and count it
  // (CountHandshakeRefusal). Thread-safe.
  Verdict Verify(absl::string_view leaf_pem, absl::string_view chain_pem) const;

 private:
  const std::shared_ptr<const TrustStore> trust_;
};

}  // namespace ruta::security

#endif  // RUTA_SECURITY_VERIFIER_H_
