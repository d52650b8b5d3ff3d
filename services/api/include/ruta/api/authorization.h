// Who is calling, and may they call this method. Deny by default: a method no
// rule of the policy grants is refused, for every caller.
//
// The policy is data: the `authorization` section of the node configuration
// (ruta.node.v1.Authorization, documented in docs/authorization.md), or, when
// the section is left out, the built-in default of DESIGN.md §5:
//
//   role       service        caller's certificate region
//   office     CaseOffice     this node's region
//   partner    PartnerStatus  this node's region (partners write to the node
//                             of the region that owns the case)
//   dashboard  Dashboard      any configured region
//   node       Federation     a configured peer region, never this node's own
//   admin      Admin          this node's region
//
// Where each scoping rule of DESIGN.md §5 is enforced (the policy here only
// decides role × method × region of the caller's certificate):
//  * A peer node calls only Federation, and only the node of a configured peer
//    region: here (scope PEER_REGION), and validation refuses any policy that
//    grants a node anything else or grants Federation to another role.
//  * Admin reaches Admin only for its own region: here (scope NODE_REGION),
//    and validation refuses Admin with any other scope.
//  * A dashboard reaches only Dashboard: here; disclosure control of the
//    aggregates is core's (core/aggregates.h).
//  * An office acts only for its own region's cases: here (NODE_REGION), and
//    core::CaseService again (an actor of another region is
//    PERMISSION_DENIED; a case owned by another region is NOT_FOUND). Transfers
//    involving its region: core, with the transfer RPCs (later work).
//  * A partner sees only cases referred to it (and owned by this node's
//    region), under its per-partner pseudonym: core::PartnerService, which
//    also requires the partner to be registered on the node. Note that
//    core::Actor carries no role and CaseService scopes by region only: a
//    custom policy granting CaseOffice methods to a partner gives that partner
//    the office's region-wide view of those methods.
#ifndef RUTA_API_AUTHORIZATION_H_
#define RUTA_API_AUTHORIZATION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/server_context.h"
#include "ruta/core/domain.h"
#include "ruta/node/v1/config.pb.h"
#include "ruta/security/identity.h"

namespace ruta::observability {
class NodeMetrics;
}  // namespace ruta::observability

namespace ruta::api {

// Call metadata key naming the clerk acting through an office certificate
// (set by the office console). Value: 1..64 of [a-z0-9._-].
inline constexpr char kClerkMetadataKey[] = "x-ruta-clerk";

// Whether `clerk` has the clerk id format above.
bool IsValidClerkId(absl::string_view clerk);

// Which regions a granted role's certificate may come from.
enum class Scope {
  kNodeRegion,           // the region this node serves
  kAnyConfiguredRegion,  // any region of the node's configuration
  kPeerRegion,           // a configured peer region, never the node's own
};

// Every method the node serves, "<Service>.<Method>" (e.g.
// "CaseOffice.OpenCase"), from the generated descriptors of the ruta.v1
// services, in declaration order.
const std::vector<std::string>& AllMethods();

// The built-in default policy as a configuration section (the table above).
ruta::node::v1::Authorization DefaultAuthorizationConfig();

// A validated, compiled policy: for each method, the grants that allow it.
// Immutable; cheap to share.
class AuthorizationPolicy final {
 public:
  struct Grant {
    security::Role role;
    Scope scope;
    // The rule this grant comes from, for messages and logs:
    // "authorization.rules[2]" or "default policy rule 0".
    std::string rule;
  };

  // The built-in default (DefaultAuthorizationConfig()).
  static AuthorizationPolicy Default();

  // Validates and compiles an `authorization` section. INVALID_ARGUMENT naming
  // the rule ("authorization.rules[<i>]...") and what is wrong: no rules;
  // a missing or unknown service, method, role or scope; "*" mixed with
  // names; a method listed twice; and dangerous grants: ROLE_NODE granted
  // anything but Federation or with a scope other than SCOPE_PEER_REGION,
  // Federation granted to another role, Admin with a scope other than
  // SCOPE_NODE_REGION.
  static absl::StatusOr<AuthorizationPolicy> FromConfig(
      const ruta::node::v1::Authorization& config);

  // FromConfig of the node configuration's section, or Default() when the
  // configuration has none.
  static absl::StatusOr<AuthorizationPolicy> ForNodeConfig(
      const ruta::node::v1::NodeConfig& config);

  // The grants of `method` ("<Service>.<Method>"); empty when no rule grants
  // it (or it is not a method of the node).
  const std::vector<Grant>& GrantsFor(absl::string_view method) const;

  // "built-in default policy (5 rules)" / "configured policy (6 rules)".
  const std::string& description() const { return description_; }

 private:
  AuthorizationPolicy() = default;
  static absl::StatusOr<AuthorizationPolicy> Compile(
      const ruta::node::v1::Authorization& config, bool is_default);

  absl::flat_hash_map<std::string, std::vector<Grant>> grants_;
  std::string description_;
};

struct AuthorizerOptions {
  std::string node_region;                 // required
  std::vector<std::string> peer_regions;   // configured peers; may be empty
  std::vector<std::string> known_regions;  // all configured regions
  AuthorizationPolicy policy = AuthorizationPolicy::Default();
  // Where every call admitted or refused through this authorizer is counted
  // (AuditedCall, reactors.h): the authorizer is the one gate each call of
  // the node passes, so it hands the node's metrics to the call. Not owned;
  // must outlive the authorizer. Null: no metrics.
  observability::NodeMetrics* metrics = nullptr;
};

// Thread-safe. The policy can be replaced while calls are being authorized
// (SetPolicy); each decision uses one policy, the old or the new.
class Authorizer final {
 public:
  explicit Authorizer(AuthorizerOptions options);
  Authorizer(const Authorizer&) = delete;
  Authorizer& operator=(const Authorizer&) = delete;

  // `method` is "<Service>.<Method>", e.g. "CaseOffice.OpenCase".
  // UNAUTHENTICATED when the connection carries no valid identity;
  // PERMISSION_DENIED as Check when the identity may not call it;
  // INVALID_ARGUMENT for a malformed clerk header.
  absl::StatusOr<core::Actor> Authorize(const grpc::ServerContextBase& context,
                                        absl::string_view method) const;

  // The decision of the current policy for `caller` calling `method`: OK, or
  // PERMISSION_DENIED naming the method, the role(s) and region(s) that would
  // be allowed with the rule granting each, and the caller, e.g.
  // "CaseOffice.GetCase needs role office of this node's region (cusco)
  // [default policy rule 0]; caller spiffe://cusco.ruta.pe/partner/tdh is
  // partner of cusco".
  absl::Status Check(const security::Identity& caller,
                     absl::string_view method) const;
  bool IsAllowed(const security::Identity& caller,
                 absl::string_view method) const {
    return Check(caller, method).ok();
  }

  // Replaces the policy atomically: calls authorized after it returns use
  // `policy`.
  void SetPolicy(AuthorizationPolicy policy);
  // AuthorizerOptions::metrics.
  observability::NodeMetrics* metrics() const { return metrics_; }
  std::shared_ptr<const AuthorizationPolicy> policy() const;

 private:
  std::string ScopeText(Scope scope) const;

  const std::string node_region_;
  const std::vector<std::string> peer_regions_;
  const std::vector<std::string> known_regions_;
  observability::NodeMetrics* const metrics_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const AuthorizationPolicy> policy_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ruta::api

#endif  // RUTA_API_AUTHORIZATION_H_
