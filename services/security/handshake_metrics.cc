#include "ruta/security/handshake_metrics.h"

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace ruta::security {
namespace {

struct Counters {
  absl::Mutex mu;
  std::map<std::string, int64_t> refusals ABSL_GUARDED_BY(mu);
  TlsReloadCounters reloads ABSL_GUARDED_BY(mu);
};

// Leaked on purpose: gRPC threads may still count during process exit.
Counters& Get() {
  static Counters* counters = new Counters;
  return *counters;
}

}  // namespace

const char* RefusalReasonName(RefusalReason reason) {
  switch (reason) {
    case RefusalReason::kNoClientCertificate:
      return "no_client_certificate";
    case RefusalReason::kBadCertificate:
      return "bad_certificate";
    case RefusalReason::kNoUriSan:
      return "no_uri_san";
    case RefusalReason::kSanCount:
      return "san_count";
    case RefusalReason::kBadSpiffeId:
      return "bad_spiffe_id";
    case RefusalReason::kUnknownRegion:
      return "unknown_region";
    case RefusalReason::kWrongTrustDomain:
      return "wrong_trust_domain";
    case RefusalReason::kUnknownCa:
      return "unknown_ca";
    case RefusalReason::kSelfSigned:
      return "self_signed";
    case RefusalReason::kExpired:
      return "expired";
    case RefusalReason::kNotYetValid:
      return "not_yet_valid";
    case RefusalReason::kRevoked:
      return "revoked";
    case RefusalReason::kCrlMissing:
      return "crl_missing";
    case RefusalReason::kCrlExpired:
      return "crl_expired";
    case RefusalReason::kCrlInvalid:
      return "crl_invalid";
    case RefusalReason::kCaCertificate:
      return "ca_certificate";
    case RefusalReason::kNoClientAuth:
      return "no_client_auth";
    case RefusalReason::kChainInvalid:
      return "chain_invalid";
    case RefusalReason::kTlsProtocol:
      return "tls_protocol";
  }
  return "unknown";
}

void CountHandshakeRefusal(RefusalReason reason) {
  Counters& c = Get();
  absl::MutexLock lock(&c.mu);
  ++c.refusals[RefusalReasonName(reason)];
}

std::map<std::string, int64_t> HandshakeRefusals() {
  Counters& c = Get();
  absl::MutexLock lock(&c.mu);
  return c.refusals;
}

int64_t HandshakeRefusalCount(RefusalReason reason) {
  Counters& c = Get();
  absl::MutexLock lock(&c.mu);
  auto it = c.refusals.find(RefusalReasonName(reason));
  return it == c.refusals.end() ? 0 : it->second;
}

void CountIdentityInstall() {
  Counters& c = Get();
  absl::MutexLock lock(&c.mu);
  ++c.reloads.identity_installs;
}

void CountIdentityRefusal() {
  Counters& c = Get();
  absl::MutexLock lock(&c.mu);
  ++c.reloads.identity_refusals;
}

void CountTrustLoad() {
  Counters& c = Get();
  absl::MutexLock lock(&c.mu);
  ++c.reloads.trust_loads;
}

void CountTrustRefusal() {
  Counters& c = Get();
  absl::MutexLock lock(&c.mu);
  ++c.reloads.trust_refusals;
}

TlsReloadCounters ReloadCounters() {
  Counters& c = Get();
  absl::MutexLock lock(&c.mu);
  return c.reloads;
}

}  // namespace ruta::security
