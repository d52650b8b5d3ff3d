#include "ruta/api/authorization.h"

#include <optional>
#include <set>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "ruta/security/tls.h"
#include "ruta/v1/admin.grpc.pb.h"
#include "ruta/v1/case_office.grpc.pb.h"
#include "ruta/v1/dashboard.grpc.pb.h"
#include "ruta/v1/federation.grpc.pb.h"
#include "ruta/v1/partner_status.grpc.pb.h"

namespace ruta::api {
namespace {

using google::protobuf::ServiceDescriptor;
using ruta::node::v1::Authorization;
using ruta::node::v1::AuthorizationRule;
using security::Role;

// The services a node serves. Each is looked up through a message of its
// file, so that the generated descriptors are linked and registered even in a
// binary that uses nothing else of that file.
const std::vector<const ServiceDescriptor*>& NodeServices() {
  static const auto* services = [] {
    const std::pair<const google::protobuf::Descriptor*, const char*> files[] =
        {
            {v1::OpenCaseRequest::descriptor(),
             v1::CaseOffice::service_full_name()},
            {v1::GetCaseStatusRequest::descriptor(),
             v1::PartnerStatus::service_full_name()},
            {v1::GetTableRequest::descriptor(),
             v1::Dashboard::service_full_name()},
            {v1::PutCrlRequest::descriptor(),
             v1::Federation::service_full_name()},
            {v1::VerifyAuditRequest::descriptor(),
             v1::Admin::service_full_name()},
        };
    auto* out = new std::vector<const ServiceDescriptor*>;
    for (const auto& [message, full_name] : files) {
      const ServiceDescriptor* service =
          message->file()->pool()->FindServiceByName(full_name);
      // Cannot happen with generated code; a null here would be a build bug.
      if (service != nullptr) out->push_back(service);
    }
    return out;
  }();
  return *services;
}

const ServiceDescriptor* FindService(absl::string_view name) {
  for (const ServiceDescriptor* service : NodeServices()) {
    if (service->name() == name) return service;
  }
  return nullptr;
}

std::string ServiceNames() {
  std::vector<std::string> names;
  for (const ServiceDescriptor* service : NodeServices()) {
    names.push_back(service->name());
  }
  return absl::StrJoin(names, ", ");
}

std::string MethodNames(const ServiceDescriptor& service) {
  std::vector<std::string> names;
  for (int i = 0; i < service.method_count(); ++i) {
    names.push_back(service.method(i)->name());
  }
  return absl::StrJoin(names, ", ");
}

std::optional<Role> RoleFromConfig(AuthorizationRule::Role role) {
  switch (role) {
    case AuthorizationRule::ROLE_NODE:
      return Role::kNode;
    case AuthorizationRule::ROLE_OFFICE:
      return Role::kOffice;
    case AuthorizationRule::ROLE_PARTNER:
      return Role::kPartner;
    case AuthorizationRule::ROLE_DASHBOARD:
      return Role::kDashboard;
    case AuthorizationRule::ROLE_ADMIN:
      return Role::kAdmin;
    default:
      return std::nullopt;
  }
}

std::optional<Scope> ScopeFromConfig(AuthorizationRule::Scope scope) {
  switch (scope) {
    case AuthorizationRule::SCOPE_NODE_REGION:
      return Scope::kNodeRegion;
    case AuthorizationRule::SCOPE_ANY_CONFIGURED_REGION:
      return Scope::kAnyConfiguredRegion;
    case AuthorizationRule::SCOPE_PEER_REGION:
      return Scope::kPeerRegion;
    default:
      return std::nullopt;
  }
}

constexpr char kRoleChoices[] =
    "ROLE_OFFICE, ROLE_PARTNER, ROLE_DASHBOARD, ROLE_NODE or ROLE_ADMIN";
constexpr char kScopeChoices[] =
    "SCOPE_NODE_REGION, SCOPE_ANY_CONFIGURED_REGION or SCOPE_PEER_REGION";

// The checks of one rule that do not depend on its methods. `at` names it.
absl::Status CheckDangerous(const std::string& at, const AuthorizationRule& r) {
  const std::string role_name = AuthorizationRule::Role_Name(r.role());
  if (r.role() == AuthorizationRule::ROLE_NODE && r.service() != "Federation") {
    return absl::InvalidArgumentError(
        absl::StrCat(at, ": ROLE_NODE may only be granted Federation, not ",
                     r.service(), " (a peer node calls nothing else)"));
  }
  if (r.service() == "Federation" && r.role() != AuthorizationRule::ROLE_NODE) {
    return absl::InvalidArgumentError(absl::StrCat(
        at, ": Federation may only be granted to ROLE_NODE, not ", role_name));
  }
  if (r.service() == "Federation" &&
      r.scope() != AuthorizationRule::SCOPE_PEER_REGION) {
    return absl::InvalidArgumentError(absl::StrCat(
        at, ": Federation needs SCOPE_PEER_REGION, not ",
        AuthorizationRule::Scope_Name(r.scope()),
        " (only the node of a configured peer region may call it, never a "
        "node of this region)"));
  }
  if (r.service() == "Admin" &&
      r.scope() != AuthorizationRule::SCOPE_NODE_REGION) {
    return absl::InvalidArgumentError(
        absl::StrCat(at, ": Admin needs SCOPE_NODE_REGION, not ",
                     AuthorizationRule::Scope_Name(r.scope()),
                     " (an administrator acts for its own region only)"));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidClerkId(absl::string_view clerk) {
  if (clerk.empty() || clerk.size() > 64) return false;
  return absl::c_all_of(clerk, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

const std::vector<std::string>& AllMethods() {
  static const auto* methods = [] {
    auto* out = new std::vector<std::string>;
    for (const ServiceDescriptor* service : NodeServices()) {
      for (int i = 0; i < service->method_count(); ++i) {
        out->push_back(
            absl::StrCat(service->name(), ".", service->method(i)->name()));
      }
    }
    return out;
  }();
  return *methods;
}

Authorization DefaultAuthorizationConfig() {
  Authorization config;
  const auto add = [&config](const char* service, AuthorizationRule::Role role,
                             AuthorizationRule::Scope scope) {
    AuthorizationRule* rule = config.add_rules();
    rule->set_service(service);
    rule->add_methods("*");
    rule->set_role(role);
    rule->set_scope(scope);
  };
  add("CaseOffice", AuthorizationRule::ROLE_OFFICE,
      AuthorizationRule::SCOPE_NODE_REGION);
  add("PartnerStatus", AuthorizationRule::ROLE_PARTNER,
      AuthorizationRule::SCOPE_NODE_REGION);
  add("Dashboard", AuthorizationRule::ROLE_DASHBOARD,
      AuthorizationRule::SCOPE_ANY_CONFIGURED_REGION);
  add("Federation", AuthorizationRule::ROLE_NODE,
      AuthorizationRule::SCOPE_PEER_REGION);
  add("Admin", AuthorizationRule::ROLE_ADMIN,
      AuthorizationRule::SCOPE_NODE_REGION);
  return config;
}

AuthorizationPolicy AuthorizationPolicy::Default() {
  // Compiled once: the default goes through the same validation as any
  // configured policy, and a failure would be a programming error.
  static const AuthorizationPolicy* policy = [] {
    absl::StatusOr<AuthorizationPolicy> compiled =
        Compile(DefaultAuthorizationConfig(), /*is_default=*/true);
    return new AuthorizationPolicy(*std::move(compiled));
  }();
  return *policy;
}

absl::StatusOr<AuthorizationPolicy> AuthorizationPolicy::FromConfig(
    const Authorization& config) {
  return Compile(config, /*is_default=*/false);
}

absl::StatusOr<AuthorizationPolicy> AuthorizationPolicy::ForNodeConfig(
    const ruta::node::v1::NodeConfig& config) {
  if (!config.has_authorization()) return Default();
  return FromConfig(config.authorization());
}

absl::StatusOr<AuthorizationPolicy> AuthorizationPolicy::Compile(
    const Authorization& config, bool is_default) {
  if (config.rules().empty()) {
    return absl::InvalidArgumentError(
        "authorization.rules is empty: every call would be denied (leave the "
        "authorization section out for the built-in default policy)");
  }
  AuthorizationPolicy policy;
  for (int i = 0; i < config.rules_size(); ++i) {
    const AuthorizationRule& rule = config.rules(i);
    const std::string at = absl::StrCat("authorization.rules[", i, "]");
    if (rule.service().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          at, ".service is required (one of ", ServiceNames(), ")"));
    }
    const ServiceDescriptor* service = FindService(rule.service());
    if (service == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".service: \"", rule.service(),
                       "\" is not a ruta.v1 service of this node (one of ",
                       ServiceNames(), ")"));
    }
    if (rule.role() == AuthorizationRule::ROLE_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".role is required (", kRoleChoices, ")"));
    }
    const std::optional<Role> role = RoleFromConfig(rule.role());
    if (!role.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          at, ".role: unknown role ", rule.role(), " (", kRoleChoices, ")"));
    }
    if (rule.scope() == AuthorizationRule::SCOPE_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".scope is required (", kScopeChoices, ")"));
    }
    const std::optional<Scope> scope = ScopeFromConfig(rule.scope());
    if (!scope.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".scope: unknown scope ", rule.scope(), " (",
                       kScopeChoices, ")"));
    }
    if (rule.methods().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".methods is required: names of ", rule.service(),
                       " methods, or [\"*\"] for all"));
    }
    std::vector<std::string> methods;
    if (rule.methods_size() == 1 && rule.methods(0) == "*") {
      for (int m = 0; m < service->method_count(); ++m) {
        methods.push_back(service->method(m)->name());
      }
    } else {
      std::set<std::string> seen;
      for (int m = 0; m < rule.methods_size(); ++m) {
        const std::string& name = rule.methods(m);
        const std::string method_at = absl::StrCat(at, ".methods[", m, "]");
        if (name == "*") {
          return absl::InvalidArgumentError(absl::StrCat(
              method_at, ": \"*\" must be the only entry (it means all ",
              rule.service(), " methods)"));
        }
        if (service->FindMethodByName(name) == nullptr) {
          return absl::InvalidArgumentError(absl::StrCat(
              method_at, ": ", rule.service(), " has no method \"", name,
              "\" (its methods: ", MethodNames(*service), ")"));
        }
        if (!seen.insert(name).second) {
          return absl::InvalidArgumentError(
              absl::StrCat(method_at, ": \"", name, "\" is listed twice"));
        }
        methods.push_back(name);
      }
    }
    if (absl::Status dangerous = CheckDangerous(at, rule); !dangerous.ok()) {
      return dangerous;
    }
    const std::string label =
        is_default ? absl::StrCat("default policy rule ", i) : at;
    for (const std::string& method : methods) {
      policy.grants_[absl::StrCat(rule.service(), ".", method)].push_back(
          Grant{*role, *scope, label});
    }
  }
  policy.description_ =
      absl::StrCat(is_default ? "built-in default policy" : "configured policy",
                   " (", config.rules_size(), " rules)");
  return policy;
}

const std::vector<AuthorizationPolicy::Grant>& AuthorizationPolicy::GrantsFor(
    absl::string_view method) const {
  static const std::vector<Grant>* const kNone = new std::vector<Grant>;
  auto it = grants_.find(method);
  return it == grants_.end() ? *kNone : it->second;
}

Authorizer::Authorizer(AuthorizerOptions options)
    : node_region_(std::move(options.node_region)),
      peer_regions_(std::move(options.peer_regions)),
      known_regions_(std::move(options.known_regions)),
      metrics_(options.metrics),
      policy_(std::make_shared<const AuthorizationPolicy>(
          std::move(options.policy))) {}

void Authorizer::SetPolicy(AuthorizationPolicy policy) {
  auto next = std::make_shared<const AuthorizationPolicy>(std::move(policy));
  absl::MutexLock lock(&mu_);
  policy_ = std::move(next);
}

std::shared_ptr<const AuthorizationPolicy> Authorizer::policy() const {
  absl::ReaderMutexLock lock(&mu_);
  return policy_;
}

std::string Authorizer::ScopeText(Scope scope) const {
  switch (scope) {
    case Scope::kNodeRegion:
      return absl::StrCat("of this node's region (", node_region_, ")");
    case Scope::kAnyConfiguredRegion:
      return absl::StrCat("of a configured region (",
                          absl::StrJoin(known_regions_, ", "), ")");
    case Scope::kPeerRegion:
      return peer_regions_.empty()
                 ? std::string("of a configured peer region (none configured)")
                 : absl::StrCat("of a configured peer region (",
                                absl::StrJoin(peer_regions_, ", "), ")");
  }
  return "";
}

absl::Status Authorizer::Check(const security::Identity& caller,
                               absl::string_view method) const {
  // The policy is held for the whole decision, so a concurrent SetPolicy
  // cannot mix two policies in one answer.
  const std::shared_ptr<const AuthorizationPolicy> policy = this->policy();
  const std::vector<AuthorizationPolicy::Grant>& grants =
      policy->GrantsFor(method);
  for (const AuthorizationPolicy::Grant& grant : grants) {
    if (grant.role != caller.role) continue;
    bool region_ok = false;
    switch (grant.scope) {
      case Scope::kNodeRegion:
        region_ok = caller.region == node_region_;
        break;
      case Scope::kAnyConfiguredRegion:
        region_ok = absl::c_linear_search(known_regions_, caller.region);
        break;
      case Scope::kPeerRegion:
        region_ok = caller.region != node_region_ &&
                    absl::c_linear_search(peer_regions_, caller.region);
        break;
    }
    if (region_ok) return absl::OkStatus();
  }
  const std::string who =
      absl::StrCat("caller ", caller.spiffe_id, " is ",
                   security::RoleName(caller.role), " of ", caller.region);
  if (grants.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat(method, " is granted to no role by the ",
                     policy->description(), "; ", who));
  }
  std::vector<std::string> needs;
  for (const AuthorizationPolicy::Grant& grant : grants) {
    needs.push_back(absl::StrCat("role ", security::RoleName(grant.role), " ",
                                 ScopeText(grant.scope), " [", grant.rule,
                                 "]"));
  }
  return absl::PermissionDeniedError(
      absl::StrCat(method, " needs ", absl::StrJoin(needs, " or "), "; ", who));
}

absl::StatusOr<core::Actor> Authorizer::Authorize(
    const grpc::ServerContextBase& context, absl::string_view method) const {
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("a client certificate is required");
  }
  absl::StatusOr<security::Identity> identity = security::PeerIdentity(*auth);
  if (!identity.ok()) return identity.status();
  if (absl::Status decision = Check(*identity, method); !decision.ok()) {
    return decision;
  }

  core::Actor actor;
  actor.principal = identity->spiffe_id;
  actor.region = identity->region;
  const auto& metadata = context.client_metadata();
  auto clerk = metadata.find(kClerkMetadataKey);
  if (clerk != metadata.end()) {
    absl::string_view value(clerk->second.data(), clerk->second.size());
    if (!IsValidClerkId(value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          kClerkMetadataKey, " metadata must be 1 to 64 of [a-z0-9._-]"));
    }
    actor.clerk = std::string(value);
  }
  return actor;
}

}  // namespace ruta::api
