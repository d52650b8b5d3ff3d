#include "ruta/api/authorization.h"

#include <array>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ruta/security/identity.h"
#include "ruta/security/tls.h"

namespace ruta::api {
namespace {

using security::Role;

// Which regions a role's certificate may come from, for a service.
enum class Scope { kNodeRegion, kAnyKnownRegion, kPeerRegion };

struct Rule {
  absl::string_view service_prefix;  // "CaseOffice." ...
  Role role;
  Scope scope;
};

constexpr std::array<Rule, 5> kPolicy = {{
    {"CaseOffice.", Role::kOffice, Scope::kNodeRegion},
    {"PartnerStatus.", Role::kPartner, Scope::kNodeRegion},
    {"Dashboard.", Role::kDashboard, Scope::kAnyKnownRegion},
    {"Federation.", Role::kNode, Scope::kPeerRegion},
    {"Admin.", Role::kAdmin, Scope::kNodeRegion},
}};

const char* ScopeText(Scope scope) {
  switch (scope) {
    case Scope::kNodeRegion:
      return "of this node's region";
    case Scope::kAnyKnownRegion:
      return "of a configured region";
    case Scope::kPeerRegion:
      return "of a configured peer region";
  }
  return "";
}

bool IsValidClerk(absl::string_view clerk) {
  if (clerk.empty() || clerk.size() > 64) return false;
  return absl::c_all_of(clerk, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

}  // namespace

Authorizer::Authorizer(AuthorizerOptions options)
    : options_(std::move(options)) {}

absl::StatusOr<core::Actor> Authorizer::Authorize(
    const grpc::ServerContextBase& context, absl::string_view method) const {
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("a client certificate is required");
  }
  absl::StatusOr<security::Identity> identity = security::PeerIdentity(*auth);
  if (!identity.ok()) return identity.status();

  const Rule* rule = nullptr;
  for (const Rule& candidate : kPolicy) {
    if (absl::StartsWith(method, candidate.service_prefix)) rule = &candidate;
  }
  if (rule == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat(method, " is not open to any caller"));
  }
  bool region_ok = false;
  switch (rule->scope) {
    case Scope::kNodeRegion:
      region_ok = identity->region == options_.node_region;
      break;
    case Scope::kAnyKnownRegion:
      region_ok =
          absl::c_linear_search(options_.known_regions, identity->region);
      break;
    case Scope::kPeerRegion:
      region_ok =
          identity->region != options_.node_region &&
          absl::c_linear_search(options_.peer_regions, identity->region);
      break;
  }
  if (identity->role != rule->role || !region_ok) {
    return absl::PermissionDeniedError(absl::StrCat(
        method, " needs a ", security::RoleName(rule->role), " certificate ",
        ScopeText(rule->scope), " (this node serves ", options_.node_region,
        "); the caller is ", identity->spiffe_id));
  }

  core::Actor actor;
  actor.principal = identity->spiffe_id;
  actor.region = identity->region;
  const auto& metadata = context.client_metadata();
  auto clerk = metadata.find(kClerkMetadataKey);
  if (clerk != metadata.end()) {
    absl::string_view value(clerk->second.data(), clerk->second.size());
    if (!IsValidClerk(value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          kClerkMetadataKey, " metadata must be 1 to 64 of [a-z0-9._-]"));
    }
    actor.clerk = std::string(value);
  }
  return actor;
}

}  // namespace ruta::api
