// Who is calling, and may they call this method. Deny by default: a method
// absent from the policy table is refused.
//
// Policy (DESIGN.md §5): an office acts for its own region (CaseOffice); a
// partner of the node's region calls PartnerStatus; a dashboard of any
// configured region calls Dashboard; a node of a configured *peer* region calls
// Federation and nothing else; an admin of the node's region calls Admin.
#ifndef RUTA_API_AUTHORIZATION_H_
#define RUTA_API_AUTHORIZATION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "ruta/core/domain.h"

namespace ruta::api {

// Call metadata key naming the clerk acting through an office certificate
// (set by the office console). Value: 1..64 of [a-z0-9._-].
inline constexpr char kClerkMetadataKey[] = "x-ruta-clerk";

struct AuthorizerOptions {
  std::string node_region;                 // required
  std::vector<std::string> peer_regions;   // configured peers; may be empty
  std::vector<std::string> known_regions;  // all configured regions
};

class Authorizer final {
 public:
  explicit Authorizer(AuthorizerOptions options);
  Authorizer(const Authorizer&) = delete;
  Authorizer& operator=(const Authorizer&) = delete;

  // `method` is "<Service>.<Method>", e.g. "CaseOffice.OpenCase".
  // UNAUTHENTICATED when the connection carries no valid identity;
  // PERMISSION_DENIED (saying which role and region the method needs) when the
  // identity may not call it; INVALID_ARGUMENT for a malformed clerk header.
  absl::StatusOr<core::Actor> Authorize(const grpc::ServerContextBase& context,
                                        absl::string_view method) const;

 private:
  const AuthorizerOptions options_;
};

}  // namespace ruta::api

#endif  // RUTA_API_AUTHORIZATION_H_
