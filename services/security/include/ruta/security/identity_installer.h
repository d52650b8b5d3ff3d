// Installs the node's own key and certificate for gRPC, safely.
//
// gRPC 1.51's FileWatcherCertificateProvider re-reads the key and the
// certificate file every refresh interval and hands whatever it read to the
// TLS stack: a key and a certificate that are momentarily not a pair (an
// operator copying one file, then the other) make every new handshake fail
// until they match again, and a failed read drops the identity. So gRPC never
// watches the operator's files. The installer reads them, checks that they
// are a pair, and only then installs them into a node-private directory:
//
//   <active_dir>/v<N>/{cert.pem,key.pem}   one version per install (0700/0600)
//   <active_dir>/current -> v<N>           swapped atomically with rename(2)
//
// gRPC watches <active_dir>/current/{cert,key}.pem. Its reader compares each
// file's modification time (in seconds) before and after reading both and
// retries on a change, so every version gets modification times strictly
// above the previous version's: a read that straddles a swap is retried, never
// used. The previous version is kept (a read may be in progress).
#ifndef RUTA_SECURITY_IDENTITY_INSTALLER_H_
#define RUTA_SECURITY_IDENTITY_INSTALLER_H_

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace ruta::security {

struct IdentityInstallerOptions {
  // The operator's files (e.g. certs/pki.sh's <slug>/node/<name>/cert.pem,
  // key.pem). Required.
  std::string cert_file;
  std::string key_file;
  // Node-private directory; created (mode 0700) if missing, and emptied at
  // start-up. Nothing else may live there. Required.
  std::string active_dir;
};

class IdentityInstaller final {
 public:
  // Installs the operator's current pair. FAILED_PRECONDITION naming the file
  // when a file is missing, unreadable or holds no PEM data, or when the key
  // does not belong to the certificate (the node must not start);
  // INTERNAL when the directory cannot be written.
  static absl::StatusOr<std::unique_ptr<IdentityInstaller>> Create(
      const IdentityInstallerOptions& options);

  IdentityInstaller(const IdentityInstaller&) = delete;
  IdentityInstaller& operator=(const IdentityInstaller&) = delete;

  // The paths to hand to gRPC's file watcher.
  std::string cert_file() const;
  std::string key_file() const;

  // Re-reads the operator's files. Unchanged: OK. Changed and a pair:
  // installs them (logged; CountIdentityInstall) and returns OK. Changed but
  // unreadable or not a pair: keeps the installed pair, logs a warning and
  // counts (CountIdentityRefusal) once per distinct content, and returns
  // FAILED_PRECONDITION saying why. Thread-safe.
  absl::Status Refresh();

  // Number of versions installed so far (start-up included).
  int64_t installs() const;

 private:
  explicit IdentityInstaller(IdentityInstallerOptions options);
  absl::Status InstallLocked(const std::string& cert, const std::string& key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const IdentityInstallerOptions options_;
  mutable absl::Mutex mu_;
  std::string installed_cert_ ABSL_GUARDED_BY(mu_);
  std::string installed_key_ ABSL_GUARDED_BY(mu_);
  std::string refused_cert_ ABSL_GUARDED_BY(mu_);
  std::string refused_key_ ABSL_GUARDED_BY(mu_);
  std::string refused_error_ ABSL_GUARDED_BY(mu_);
  int64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  std::string installed_dir_ ABSL_GUARDED_BY(mu_);
  time_t last_mtime_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace ruta::security

#endif  // RUTA_SECURITY_IDENTITY_INSTALLER_H_
