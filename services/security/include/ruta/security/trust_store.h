// Per-region trust: each region's root CA certificates and its CRLs, loaded
// explicitly from the configured files (never from a directory handed to
// gRPC, which would turn any certificate placed there into a trust anchor),
// and re-read on demand so that CA and CRL rotation needs no restart.
#ifndef RUTA_SECURITY_TRUST_STORE_H_
#define RUTA_SECURITY_TRUST_STORE_H_

#include <openssl/x509.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ruta::security {

// The files of one region.
struct RegionTrustFiles {
  std::string region;                  // slug, e.g. "cusco"
  std::string ca_file;                 // PEM root CA certificate(s)
  std::vector<std::string> crl_files;  // PEM CRLs (at least one file)
};

// Outcome of checking a chain against one region.
struct ChainCheck {
  bool ok = false;
  int error = 0;        // X509_V_OK or the X509_V_ERR_* code that failed
  int depth = 0;        // chain position of the failing certificate (0: leaf)
  std::string subject;  // subject of that certificate
  std::string message;  // OpenSSL's text for `error`
};

class TrustStore final {
 public:
  // Reads every region's files. FAILED_PRECONDITION naming the region and
  // the file when one is missing or unreadable, holds no CA certificate (the
  // CA file) or no CRL (a CRL file), or when a region has no CRL file or is
  // listed twice. An expired CRL loads (with a warning in the log): checks
  // against it fail closed.
  static absl::StatusOr<std::unique_ptr<TrustStore>> Load(
      const std::vector<RegionTrustFiles>& regions);

  TrustStore(const TrustStore&) = delete;
  TrustStore& operator=(const TrustStore&) = delete;

  // Re-reads every region's files. A region whose files changed and are all
  // good gets the new state (logged; CountTrustLoad); a region with a bad new
  // file keeps its previous state, and that is logged (warning) and counted
  // (CountTrustRefusal) once per distinct bad content. Returns the number of
  // regions replaced. Safe to call concurrently with Verify.
  int Reload();

  // Whether `region` is configured.
  bool HasRegion(absl::string_view region) const;

  // The configured region slugs, sorted.
  std::vector<std::string> Regions() const;

  // Verifies `leaf` (with the peer-supplied `untrusted` intermediates, may be
  // null) against the roots of `region` only, at the current time, checking
  // the CRLs of every CA of the chain (X509_V_FLAG_CRL_CHECK |
  // X509_V_FLAG_CRL_CHECK_ALL): a missing, expired or otherwise unusable CRL
  // fails. An unknown region fails with X509_V_ERR_UNSPECIFIED.
  ChainCheck Verify(absl::string_view region, X509* leaf,
                    STACK_OF(X509) * untrusted) const;

  // Whether `leaf` chains (signatures only: no validity period, no CRL) to a
  // root of `region`: used to tell "issued by another region's CA" from
  // "issued by no CA we know".
  bool ChainsTo(absl::string_view region, X509* leaf,
                STACK_OF(X509) * untrusted) const;

  // The earliest nextUpdate among the CRLs of `region` (InfinitePast when
  // unknown): CRL expiry, for the log and metrics.
  absl::Time CrlExpiry(absl::string_view region) const;

 private:
  struct RegionState;
  explicit TrustStore(const std::vector<RegionTrustFiles>& regions);
  std::shared_ptr<const RegionState> Find(absl::string_view region) const;

  const std::map<std::string, RegionTrustFiles> files_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<const RegionState>> states_
      ABSL_GUARDED_BY(mu_);
  // Per region, the contents last refused (to log and count them once).
  std::map<std::string, std::vector<std::string>> refused_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ruta::security

#endif  // RUTA_SECURITY_TRUST_STORE_H_
