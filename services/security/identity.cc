#include "ruta/security/identity.h"

#include <array>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ruta::security {
namespace {

constexpr absl::string_view kScheme = "spiffe://";
constexpr absl::string_view kTrustDomainSuffix = ".ruta.pe";

struct RoleEntry {
  Role role;
  const char* name;
};
constexpr std::array<RoleEntry, 5> kRoles = {{{Role::kNode, "node"},
                                              {Role::kOffice, "office"},
                                              {Role::kPartner, "partner"},
                                              {Role::kDashboard, "dashboard"},
                                              {Role::kAdmin, "admin"}}};

bool IsRegionSlug(absl::string_view s) {
  if (s.size() < 2 || s.size() > 32) return false;
  if (s.front() == '-' || s.back() == '-') return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || c == '-')) return false;
  }
  return true;
}

bool IsName(absl::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && !(i > 0 && c == '-')) return false;
  }
  return true;
}

}  // namespace

const char* RoleName(Role role) {
  for (const auto& entry : kRoles) {
    if (entry.role == role) return entry.name;
  }
  return "unknown";
}

std::string TrustDomain(absl::string_view region) {
  return absl::StrCat(region, kTrustDomainSuffix);
}

absl::StatusOr<Identity> ParseSpiffeId(absl::string_view uri) {
  if (!absl::StartsWith(uri, kScheme)) {
    return absl::InvalidArgumentError("identity URI must start with spiffe://");
  }
  absl::string_view rest = uri.substr(kScheme.size());
  std::vector<absl::string_view> parts = absl::StrSplit(rest, '/');
  if (parts.size() != 3) {
    return absl::InvalidArgumentError(
        "identity URI must be spiffe://<region>.ruta.pe/<role>/<name>");
  }
  absl::string_view domain = parts[0];
  if (!absl::EndsWith(domain, kTrustDomainSuffix)) {
    return absl::InvalidArgumentError(
        "identity trust domain must end with .ruta.pe");
  }
  absl::string_view region =
      domain.substr(0, domain.size() - kTrustDomainSuffix.size());
  if (!IsRegionSlug(region)) {
    return absl::InvalidArgumentError(
        "identity region must be lowercase letters and hyphens");
  }
  Identity identity;
  bool role_found = false;
  for (const auto& entry : kRoles) {
    if (parts[1] == entry.name) {
      identity.role = entry.role;
      role_found = true;
    }
  }
  if (!role_found) {
    return absl::InvalidArgumentError(
        "identity role must be one of node, office, partner, dashboard, "
        "admin");
  }
  if (!IsName(parts[2])) {
    return absl::InvalidArgumentError(
        "identity name must be lowercase letters, digits and hyphens");
  }
  identity.spiffe_id = std::string(uri);
  identity.region = std::string(region);
  identity.name = std::string(parts[2]);
  return identity;
}

absl::StatusOr<Identity> IdentityFromUriSans(
    const std::vector<std::string>& uri_sans) {
  if (uri_sans.size() != 1) {
    return absl::UnauthenticatedError(absl::StrCat(
        "certificate must carry exactly one URI SAN, found ", uri_sans.size()));
  }
  absl::StatusOr<Identity> identity = ParseSpiffeId(uri_sans.front());
  if (!identity.ok()) {
    return absl::UnauthenticatedError(identity.status().message());
  }
  return identity;
}

}  // namespace ruta::security
