// Process-wide counters of ruta's TLS layer: refused handshakes by reason,
// and the reloads of the node's own identity and of the regions' trust
// (CA certificates and CRLs). Tests read them; the metrics endpoint will
// export them. They are per process, not per listener: a ruta-node process
// runs one node (tests that start several compare before/after values).
//
// Every function here is thread-safe.
#ifndef RUTA_SECURITY_HANDSHAKE_METRICS_H_
#define RUTA_SECURITY_HANDSHAKE_METRICS_H_

#include <cstdint>
#include <map>
#include <string>

namespace ruta::security {

// Why a TLS client was refused. The names (RefusalReasonName) are stable:
// they appear in the node's log and as metric labels.
enum class RefusalReason {
  kNoClientCertificate,  // "no_client_certificate": none presented
  kBadCertificate,       // "bad_certificate": does not parse (or its SAN)
  kNoUriSan,             // "no_uri_san": no URI SAN at all
  kSanCount,             // "san_count": more than one URI SAN
  kBadSpiffeId,          // "bad_spiffe_id": the URI is not a ruta identity
  kUnknownRegion,        // "unknown_region": trust domain of no region known
  kWrongTrustDomain,     // "wrong_trust_domain": another region's CA issued it
  kUnknownCa,            // "unknown_ca": chains to no configured root
  kSelfSigned,           // "self_signed": the leaf signs itself
  kExpired,              // "expired": a certificate of the chain expired
  kNotYetValid,          // "not_yet_valid": a certificate is not valid yet
  kRevoked,              // "revoked": a certificate of the chain is revoked
  kCrlMissing,           // "crl_missing": no CRL loaded for a CA of the chain
  kCrlExpired,           // "crl_expired": that CRL is past its nextUpdate
  kCrlInvalid,           // "crl_invalid": that CRL is unusable otherwise
  kCaCertificate,        // "ca_certificate": not a leaf (CA:true/no basicC.)
  kNoClientAuth,         // "no_client_auth": no extendedKeyUsage clientAuth
  kChainInvalid,         // "chain_invalid": any other chain error
  kTlsProtocol,          // "tls_protocol": TLS failed before any certificate
                         // check (e.g. a plaintext client); seen in gRPC's log
};

// The stable name of `reason`, e.g. "wrong_trust_domain".
const char* RefusalReasonName(RefusalReason reason);

// Adds one refusal for `reason`.
void CountHandshakeRefusal(RefusalReason reason);

// Refused handshakes so far, by reason name; reasons never seen are absent.
std::map<std::string, int64_t> HandshakeRefusals();

// Convenience for tests: the count of one reason (0 if never seen).
int64_t HandshakeRefusalCount(RefusalReason reason);

struct TlsReloadCounters {
  // Key/certificate pairs installed for gRPC (the one at start-up included).
  int64_t identity_installs = 0;
  // Operator key/certificate files refused (not a pair, unreadable): counted
  // once per distinct content, the previous pair kept serving.
  int64_t identity_refusals = 0;
  // Region trust states (CA certificates + CRLs) loaded or replaced.
  int64_t trust_loads = 0;
  // New CA/CRL files refused (missing, unreadable, no PEM): counted once per
  // distinct content, the region's previous state kept.
  int64_t trust_refusals = 0;
};

void CountIdentityInstall();
void CountIdentityRefusal();
void CountTrustLoad();
void CountTrustRefusal();
TlsReloadCounters ReloadCounters();

}  // namespace ruta::security

#endif  // RUTA_SECURITY_HANDSHAKE_METRICS_H_
