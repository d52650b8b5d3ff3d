// Identities of ruta callers: SPIFFE-style URI SANs
// "spiffe://<region>.ruta.pe/<role>/<name>".
#ifndef RUTA_SECURITY_IDENTITY_H_
#define RUTA_SECURITY_IDENTITY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ruta::security {

enum class Role { kNode, kOffice, kPartner, kDashboard, kAdmin };

// "node", "office", ...
const char* RoleName(Role role);

// A parsed, validated identity.
struct Identity {
  std::string spiffe_id;  // the URI as presented
  std::string region;     // slug from the trust domain "<region>.ruta.pe"
  Role role = Role::kOffice;
  std::string name;  // last path segment
};

// Parses "spiffe://<region>.ruta.pe/<role>/<name>". Region: lowercase letters
// and hyphens (2..32); role one of Role; name: [a-z0-9][a-z0-9-]{0,62}.
// INVALID_ARGUMENT saying which part is wrong.
absl::StatusOr<Identity> ParseSpiffeId(absl::string_view uri);

// From the URI SANs of a certificate: exactly one must be present and valid.
// UNAUTHENTICATED otherwise, saying how many were found or what is wrong.
absl::StatusOr<Identity> IdentityFromUriSans(
    const std::vector<std::string>& uri_sans);

// The trust domain of a region: "<region>.ruta.pe".
std::string TrustDomain(absl::string_view region);

}  // namespace ruta::security

#endif  // RUTA_SECURITY_IDENTITY_H_
