// Reading and checking PEM credential files before they are handed to gRPC,
// which would otherwise accept them and only log (or fail every handshake).
#ifndef RUTA_SECURITY_PEM_H_
#define RUTA_SECURITY_PEM_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace ruta::security {

// Reads `path` (`what` names it in errors, e.g. "certificate").
// FAILED_PRECONDITION naming the file when it is missing, unreadable, or holds
// no PEM block.
absl::StatusOr<std::string> ReadPemFile(const std::string& path,
                                        absl::string_view what);

// OK when the first certificate of `cert_pem` and the private key `key_pem`
// are a pair. FAILED_PRECONDITION otherwise, or when either does not parse;
// the message names the two files given for context (never key material).
absl::Status CheckKeyPair(const std::string& cert_pem,
                          const std::string& key_pem,
                          absl::string_view cert_file,
                          absl::string_view key_file);

// The notAfter of every certificate in `pem`, in order (empty when it holds
// none), e.g. for the certificate expiry metrics.
std::vector<absl::Time> CertificateNotAfter(absl::string_view pem);

// The nextUpdate of every CRL in `pem`, in order (InfiniteFuture for a CRL
// without one).
std::vector<absl::Time> CrlNextUpdate(absl::string_view pem);

}  // namespace ruta::security

#endif  // RUTA_SECURITY_PEM_H_
