// The authorization policy as data: parsing and validation of the node
// configuration's `authorization` section (each bad policy gives a precise
// error naming the rule), the decisions and denial messages of the
// Authorizer, and swapping its policy.
#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "ruta/api/authorization.h"
#include "ruta/node/config.h"
#include "ruta/testing/pki.h"
#include "ruta/v1/admin.grpc.pb.h"
#include "ruta/v1/case_office.grpc.pb.h"
#include "ruta/v1/dashboard.grpc.pb.h"
#include "ruta/v1/federation.grpc.pb.h"
#include "ruta/v1/partner_status.grpc.pb.h"

namespace ruta::api {
namespace {

using ruta::testing::DevPki;
using ::testing::AllOf;
using ::testing::HasSubstr;

// The default table written as configuration JSON, to build variations on.
constexpr char kOffice[] =
    R"({"service": "CaseOffice", "methods": ["*"], "role": "ROLE_OFFICE",
        "scope": "SCOPE_NODE_REGION"})";
constexpr char kPartner[] =
    R"({"service": "PartnerStatus", "methods": ["*"], "role": "ROLE_PARTNER",
        "scope": "SCOPE_NODE_REGION"})";
constexpr char kDashboard[] =
    R"({"service": "Dashboard", "methods": ["*"], "role": "ROLE_DASHBOARD",
        "scope": "SCOPE_ANY_CONFIGURED_REGION"})";
constexpr char kFederation[] =
    R"({"service": "Federation", "methods": ["*"], "role": "ROLE_NODE",
        "scope": "SCOPE_PEER_REGION"})";
constexpr char kAdmin[] =
    R"({"service": "Admin", "methods": ["*"], "role": "ROLE_ADMIN",
        "scope": "SCOPE_NODE_REGION"})";

security::Identity Id(const std::string& spiffe_id) {
  absl::StatusOr<security::Identity> id = security::ParseSpiffeId(spiffe_id);
  EXPECT_TRUE(id.ok()) << id.status();
  return id.ok() ? *id : security::Identity{};
}

class AuthorizationConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ruta::testing::MakeTempDir("authz-config");
    std::filesystem::create_directories(dir_ + "/data");
  }

  // A valid cusco node configuration with `authorization` (a JSON object, or
  // empty for none) as its authorization section.
  std::string Config(const std::string& authorization) {
    const DevPki& pki = DevPki::Get();
    const auto region = [&pki](const char* slug, const char* ubigeo,
                               const char* name) {
      return absl::StrCat(R"({"slug": ")", slug, R"(", "ubigeo_department": ")",
                          ubigeo, R"(", "display_name": ")", name,
                          R"(", "ca_file": ")", pki.RootCa(slug),
                          R"(", "crl_files": [")",
                          absl::StrJoin(pki.Crls(slug), R"(", ")"), R"("]})");
    };
    return absl::StrCat(
        R"({"region": "cusco", "regions": [)", region("cusco", "08", "Cusco"),
        ", ", region("madre-de-dios", "17", "Madre de Dios"), R"(],
        "tls": {"cert_file": ")",
        pki.Node("cusco").cert_file, R"(", "key_file": ")",
        pki.Node("cusco").key_file, R"(", "trust_bundle_file": ")",
        pki.TrustBundle(), R"("},
        "storage": {"database": "sqlite:data/cusco.db"},
        "linkage_key_file": ")",
        pki.LinkageKey(), R"(",
        "peers": [{"region": "madre-de-dios", "address": "127.0.0.1:7444"}])",
        authorization.empty() ? "" : ", \"authorization\": ", authorization,
        "}");
  }

  absl::StatusOr<ruta::node::v1::NodeConfig> Parse(
      const std::string& authorization) {
    return ruta::node::ParseConfig(Config(authorization), dir_);
  }

  // The parse error of a configuration whose rules are `rules` (a JSON
  // array body); fails the test when it parses.
  std::string Error(const std::string& rules) {
    absl::StatusOr<ruta::node::v1::NodeConfig> config =
        Parse(absl::StrCat(R"({"rules": [)", rules, "]}"));
    EXPECT_FALSE(config.ok()) << "accepted: " << rules;
    if (config.ok()) return "";
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(config.status().message());
  }

  std::string dir_;
};

TEST_F(AuthorizationConfigTest, NoSectionMeansTheBuiltInDefault) {
  absl::StatusOr<ruta::node::v1::NodeConfig> config = Parse("");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->has_authorization());
  absl::StatusOr<AuthorizationPolicy> policy =
      AuthorizationPolicy::ForNodeConfig(*config);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->description(), "built-in default policy (5 rules)");
}

TEST_F(AuthorizationConfigTest, TheDefaultWrittenOutIsAValidConfiguration) {
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(
                  DefaultAuthorizationConfig(), &json)
                  .ok());
  absl::StatusOr<ruta::node::v1::NodeConfig> config = Parse(json);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->authorization().rules_size(), 5);
  // And it is the same table as the one spelled out in this test.
  absl::StatusOr<ruta::node::v1::NodeConfig> spelled =
      Parse(absl::StrCat(R"({"rules": [)", kOffice, ",", kPartner, ",",
                         kDashboard, ",", kFederation, ",", kAdmin, "]}"));
  ASSERT_TRUE(spelled.ok()) << spelled.status();
  EXPECT_EQ(spelled->authorization().SerializeAsString(),
            DefaultAuthorizationConfig().SerializeAsString());
}

TEST_F(AuthorizationConfigTest, ExplicitMethodNamesAreAccepted) {
  absl::StatusOr<ruta::node::v1::NodeConfig> config =
      Parse(absl::StrCat(R"({"rules": [)", kOffice, R"(,
        {"service": "CaseOffice", "methods": ["GetCase", "ListCases"],
         "role": "ROLE_PARTNER", "scope": "SCOPE_NODE_REGION"}]})"));
  ASSERT_TRUE(config.ok()) << config.status();
  absl::StatusOr<AuthorizationPolicy> policy =
      AuthorizationPolicy::ForNodeConfig(*config);
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->description(), "configured policy (2 rules)");
  EXPECT_EQ(policy->GrantsFor("CaseOffice.GetCase").size(), 2u);
  EXPECT_EQ(policy->GrantsFor("CaseOffice.OpenCase").size(), 1u);
  EXPECT_EQ(policy->GrantsFor("CaseOffice.GetCase")[1].rule,
            "authorization.rules[1]");
  EXPECT_TRUE(policy->GrantsFor("Admin.Backup").empty());
}

TEST_F(AuthorizationConfigTest, EmptyRulesAreRefused) {
  EXPECT_THAT(Error(""),
              HasSubstr("authorization.rules is empty: every call would be "
                        "denied (leave the authorization section out"));
  absl::StatusOr<ruta::node::v1::NodeConfig> config = Parse("{}");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(),
              HasSubstr("authorization.rules is empty"));
}

TEST_F(AuthorizationConfigTest, UnknownServiceIsRefused) {
  EXPECT_THAT(
      Error(absl::StrCat(kOffice, R"(, {"service": "CaseOfice",
        "methods": ["*"], "role": "ROLE_OFFICE",
        "scope": "SCOPE_NODE_REGION"})")),
      HasSubstr("authorization.rules[1].service: \"CaseOfice\" is not a "
                "ruta.v1 service of this node (one of CaseOffice, "
                "PartnerStatus, Dashboard, Federation, Admin)"));
  // The short name only, as in method strings "<Service>.<Method>".
  EXPECT_THAT(Error(R"({"service": "ruta.v1.CaseOffice", "methods": ["*"],
        "role": "ROLE_OFFICE", "scope": "SCOPE_NODE_REGION"})"),
              HasSubstr("authorization.rules[0].service: "
                        "\"ruta.v1.CaseOffice\" is not a ruta.v1 service"));
  EXPECT_THAT(Error(R"({"methods": ["*"], "role": "ROLE_OFFICE",
        "scope": "SCOPE_NODE_REGION"})"),
              HasSubstr("authorization.rules[0].service is required"));
}

TEST_F(AuthorizationConfigTest, UnknownMethodIsRefused) {
  EXPECT_THAT(
      Error(R"({"service": "CaseOffice", "methods": ["GetCase", "GetCases"],
        "role": "ROLE_OFFICE", "scope": "SCOPE_NODE_REGION"})"),
      AllOf(HasSubstr("authorization.rules[0].methods[1]: CaseOffice has no "
                      "method \"GetCases\" (its methods: OpenCase, "),
            HasSubstr("ListCases")));
  // A method of another service.
  EXPECT_THAT(
      Error(absl::StrCat(kOffice, ",", kPartner, R"(,
        {"service": "Dashboard", "methods": ["GetCase"],
         "role": "ROLE_DASHBOARD", "scope": "SCOPE_NODE_REGION"})")),
      HasSubstr("authorization.rules[2].methods[0]: Dashboard has no method "
                "\"GetCase\" (its methods: GetTable, ListTables)"));
  // Qualified names are not method names.
  EXPECT_THAT(
      Error(R"({"service": "CaseOffice", "methods": ["CaseOffice.GetCase"],
        "role": "ROLE_OFFICE", "scope": "SCOPE_NODE_REGION"})"),
      HasSubstr("authorization.rules[0].methods[0]: CaseOffice has no method "
                "\"CaseOffice.GetCase\""));
}

TEST_F(AuthorizationConfigTest, MethodListMistakesAreRefused) {
  EXPECT_THAT(Error(R"({"service": "CaseOffice", "methods": [],
        "role": "ROLE_OFFICE", "scope": "SCOPE_NODE_REGION"})"),
              HasSubstr("authorization.rules[0].methods is required: names of "
                        "CaseOffice methods, or [\"*\"] for all"));
  EXPECT_THAT(Error(R"({"service": "CaseOffice", "methods": ["GetCase", "*"],
        "role": "ROLE_OFFICE", "scope": "SCOPE_NODE_REGION"})"),
              HasSubstr("authorization.rules[0].methods[1]: \"*\" must be the "
                        "only entry"));
  EXPECT_THAT(
      Error(R"({"service": "CaseOffice", "methods": ["GetCase", "GetCase"],
        "role": "ROLE_OFFICE", "scope": "SCOPE_NODE_REGION"})"),
      HasSubstr("authorization.rules[0].methods[1]: \"GetCase\" is listed "
                "twice"));
}

TEST_F(AuthorizationConfigTest, MissingOrUnknownRoleIsRefused) {
  EXPECT_THAT(
      Error(absl::StrCat(kOffice, R"(, {"service": "Dashboard",
        "methods": ["*"], "scope": "SCOPE_NODE_REGION"})")),
      HasSubstr("authorization.rules[1].role is required (ROLE_OFFICE, "
                "ROLE_PARTNER, ROLE_DASHBOARD, ROLE_NODE or ROLE_ADMIN)"));
  EXPECT_THAT(Error(R"({"service": "Dashboard", "methods": ["*"],
        "role": "ROLE_UNSPECIFIED", "scope": "SCOPE_NODE_REGION"})"),
              HasSubstr("authorization.rules[0].role is required"));
  // A number outside the enum (proto3 JSON accepts numbers).
  EXPECT_THAT(Error(R"({"service": "Dashboard", "methods": ["*"],
        "role": 42, "scope": "SCOPE_NODE_REGION"})"),
              HasSubstr("authorization.rules[0].role: unknown role 42"));
  // An unknown name is refused by the JSON parser, which names the field.
  const std::string unknown =
      Error(R"({"service": "Dashboard", "methods": ["*"],
        "role": "ROLE_AUDITOR", "scope": "SCOPE_NODE_REGION"})");
  EXPECT_THAT(unknown, AllOf(HasSubstr("not a valid node configuration"),
                             HasSubstr("ROLE_AUDITOR")));
  EXPECT_THAT(unknown, HasSubstr("authorization.rules[0].role"));
}

TEST_F(AuthorizationConfigTest, MissingOrUnknownScopeIsRefused) {
  EXPECT_THAT(Error(R"({"service": "Dashboard", "methods": ["*"],
        "role": "ROLE_DASHBOARD"})"),
              HasSubstr("authorization.rules[0].scope is required "
                        "(SCOPE_NODE_REGION, SCOPE_ANY_CONFIGURED_REGION or "
                        "SCOPE_PEER_REGION)"));
  EXPECT_THAT(Error(R"({"service": "Dashboard", "methods": ["*"],
        "role": "ROLE_DASHBOARD", "scope": 7})"),
              HasSubstr("authorization.rules[0].scope: unknown scope 7"));
  const std::string unknown =
      Error(R"({"service": "Dashboard", "methods": ["*"],
        "role": "ROLE_DASHBOARD", "scope": "SCOPE_EVERYWHERE"})");
  EXPECT_THAT(unknown, AllOf(HasSubstr("SCOPE_EVERYWHERE"),
                             HasSubstr("authorization.rules[0].scope")));
}

TEST_F(AuthorizationConfigTest, UnknownKeysInARuleAreRefused) {
  EXPECT_THAT(
      Error(R"({"service": "Dashboard", "methods": ["*"],
        "roles": ["ROLE_DASHBOARD"], "scope": "SCOPE_NODE_REGION"})"),
      AllOf(HasSubstr("not a valid node configuration"), HasSubstr("roles")));
}

TEST_F(AuthorizationConfigTest, NodeMayOnlyBeGrantedFederationFromPeers) {
  EXPECT_THAT(Error(absl::StrCat(kOffice, R"(, {"service": "CaseOffice",
        "methods": ["GetCase"], "role": "ROLE_NODE",
        "scope": "SCOPE_PEER_REGION"})")),
              HasSubstr("authorization.rules[1]: ROLE_NODE may only be granted "
                        "Federation, not CaseOffice (a peer node calls nothing "
                        "else)"));
  EXPECT_THAT(Error(R"({"service": "Dashboard", "methods": ["*"],
        "role": "ROLE_NODE", "scope": "SCOPE_ANY_CONFIGURED_REGION"})"),
              HasSubstr("authorization.rules[0]: ROLE_NODE may only be "
                        "granted Federation, not Dashboard"));
  // Federation from this node's own region, or from any region, would let
  // the node's own certificate (or a stolen copy) impersonate a peer.
  EXPECT_THAT(Error(R"({"service": "Federation", "methods": ["*"],
        "role": "ROLE_NODE", "scope": "SCOPE_NODE_REGION"})"),
              HasSubstr("authorization.rules[0]: Federation needs "
                        "SCOPE_PEER_REGION, not SCOPE_NODE_REGION"));
  EXPECT_THAT(Error(R"({"service": "Federation", "methods": ["PutCrl"],
        "role": "ROLE_NODE", "scope": "SCOPE_ANY_CONFIGURED_REGION"})"),
              HasSubstr("authorization.rules[0]: Federation needs "
                        "SCOPE_PEER_REGION, not SCOPE_ANY_CONFIGURED_REGION"));
}

TEST_F(AuthorizationConfigTest, FederationMayOnlyBeGrantedToNodes) {
  for (const char* role :
       {"ROLE_OFFICE", "ROLE_PARTNER", "ROLE_DASHBOARD", "ROLE_ADMIN"}) {
    EXPECT_THAT(
        Error(absl::StrCat(kFederation, R"(, {"service": "Federation",
        "methods": ["GetAggregateCounts"], "role": ")",
                           role, R"(", "scope": "SCOPE_PEER_REGION"})")),
        HasSubstr(absl::StrCat("authorization.rules[1]: Federation "
                               "may only be granted to ROLE_NODE, not ",
                               role)));
  }
}

TEST_F(AuthorizationConfigTest, AdminOnlyForTheNodesOwnRegion) {
  EXPECT_THAT(Error(absl::StrCat(kOffice, ",", kAdmin, R"(,
        {"service": "Admin", "methods": ["VerifyAudit"],
         "role": "ROLE_ADMIN", "scope": "SCOPE_ANY_CONFIGURED_REGION"})")),
              HasSubstr("authorization.rules[2]: Admin needs "
                        "SCOPE_NODE_REGION, not SCOPE_ANY_CONFIGURED_REGION"));
  EXPECT_THAT(Error(R"({"service": "Admin", "methods": ["*"],
        "role": "ROLE_ADMIN", "scope": "SCOPE_PEER_REGION"})"),
              HasSubstr("authorization.rules[0]: Admin needs "
                        "SCOPE_NODE_REGION, not SCOPE_PEER_REGION"));
}

TEST(AllMethodsTest, EveryMethodOfEveryServiceFromTheDescriptors) {
  const google::protobuf::DescriptorPool* pool =
      google::protobuf::DescriptorPool::generated_pool();
  std::vector<std::string> expected;
  for (const char* name :
       {v1::CaseOffice::service_full_name(),
        v1::PartnerStatus::service_full_name(),
        v1::Dashboard::service_full_name(), v1::Federation::service_full_name(),
        v1::Admin::service_full_name()}) {
    const google::protobuf::ServiceDescriptor* service =
        pool->FindServiceByName(name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      expected.push_back(
          absl::StrCat(service->name(), ".", service->method(i)->name()));
    }
  }
  EXPECT_EQ(AllMethods(), expected);
  EXPECT_THAT(AllMethods(), ::testing::Contains("Federation.Exchange"));
}

AuthorizerOptions CuscoOptions() {
  AuthorizerOptions options;
  options.node_region = "cusco";
  options.peer_regions = {"madre-de-dios"};
  options.known_regions = {"cusco", "madre-de-dios"};
  return options;
}

TEST(AuthorizerTest, DenialNamesTheRuleTheMethodAndTheCaller) {
  Authorizer authorizer(CuscoOptions());
  const absl::Status denied = authorizer.Check(
      Id("spiffe://cusco.ruta.pe/partner/tdh"), "CaseOffice.GetCase");
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(),
            "CaseOffice.GetCase needs role office of this node's region "
            "(cusco) [default policy rule 0]; caller "
            "spiffe://cusco.ruta.pe/partner/tdh is partner of cusco");

  EXPECT_EQ(
      authorizer
          .Check(Id("spiffe://cusco.ruta.pe/node/node"), "Federation.PutCrl")
          .message(),
      "Federation.PutCrl needs role node of a configured peer region "
      "(madre-de-dios) [default policy rule 3]; caller "
      "spiffe://cusco.ruta.pe/node/node is node of cusco");
  EXPECT_THAT(authorizer
                  .Check(Id("spiffe://madre-de-dios.ruta.pe/office/x"),
                         "Dashboard.GetTable")
                  .message(),
              HasSubstr("needs role dashboard of a configured region (cusco, "
                        "madre-de-dios) [default policy rule 2]"));
}

TEST(AuthorizerTest, UnknownMethodIsDeniedToEveryone) {
  Authorizer authorizer(CuscoOptions());
  for (const char* caller : {"spiffe://cusco.ruta.pe/office/main-office",
                             "spiffe://cusco.ruta.pe/admin/operator",
                             "spiffe://madre-de-dios.ruta.pe/node/node"}) {
    const absl::Status denied =
        authorizer.Check(Id(caller), "CaseOffice.DeleteEverything");
    EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(denied.message(),
                HasSubstr("CaseOffice.DeleteEverything is granted to no role "
                          "by the built-in default policy (5 rules)"));
  }
  EXPECT_FALSE(authorizer.IsAllowed(Id("spiffe://cusco.ruta.pe/office/a"),
                                    "CaseOffice"));
  EXPECT_FALSE(authorizer.IsAllowed(Id("spiffe://cusco.ruta.pe/office/a"),
                                    "CaseOffice."));
}

TEST(AuthorizerTest, PeerScopeNeverAdmitsTheNodesOwnRegion) {
  // Even with its own region wrongly listed among the peers.
  AuthorizerOptions options = CuscoOptions();
  options.peer_regions = {"cusco", "madre-de-dios"};
  Authorizer authorizer(std::move(options));
  EXPECT_FALSE(authorizer.IsAllowed(Id("spiffe://cusco.ruta.pe/node/node"),
                                    "Federation.Exchange"));
  EXPECT_TRUE(authorizer.IsAllowed(
      Id("spiffe://madre-de-dios.ruta.pe/node/node"), "Federation.Exchange"));
}

TEST(AuthorizerTest, WithoutPeersNoNodeIsAdmitted) {
  AuthorizerOptions options = CuscoOptions();
  options.peer_regions.clear();
  Authorizer authorizer(std::move(options));
  const absl::Status denied = authorizer.Check(
      Id("spiffe://madre-de-dios.ruta.pe/node/node"), "Federation.Exchange");
  EXPECT_THAT(denied.message(),
              HasSubstr("of a configured peer region (none configured)"));
}

TEST(AuthorizerTest, SeveralGrantsAreAlternatives) {
  ruta::node::v1::Authorization config = DefaultAuthorizationConfig();
  auto* rule = config.add_rules();
  rule->set_service("CaseOffice");
  rule->add_methods("GetCase");
  rule->set_role(ruta::node::v1::AuthorizationRule::ROLE_PARTNER);
  rule->set_scope(ruta::node::v1::AuthorizationRule::SCOPE_NODE_REGION);
  absl::StatusOr<AuthorizationPolicy> policy =
      AuthorizationPolicy::FromConfig(config);
  ASSERT_TRUE(policy.ok()) << policy.status();
  AuthorizerOptions options = CuscoOptions();
  options.policy = *policy;
  Authorizer authorizer(std::move(options));

  const security::Identity partner = Id("spiffe://cusco.ruta.pe/partner/tdh");
  EXPECT_TRUE(authorizer.IsAllowed(partner, "CaseOffice.GetCase"));
  EXPECT_FALSE(authorizer.IsAllowed(partner, "CaseOffice.ListCases"));
  EXPECT_FALSE(authorizer.IsAllowed(
      Id("spiffe://madre-de-dios.ruta.pe/partner/tdh"), "CaseOffice.GetCase"));
  EXPECT_TRUE(authorizer.IsAllowed(
      Id("spiffe://cusco.ruta.pe/office/main-office"), "CaseOffice.GetCase"));
  EXPECT_EQ(authorizer
                .Check(Id("spiffe://cusco.ruta.pe/dashboard/mayors"),
                       "CaseOffice.GetCase")
                .message(),
            "CaseOffice.GetCase needs role office of this node's region "
            "(cusco) [authorization.rules[0]] or role partner of this node's "
            "region (cusco) [authorization.rules[5]]; caller "
            "spiffe://cusco.ruta.pe/dashboard/mayors is dashboard of cusco");
}

TEST(AuthorizerTest, SetPolicySwapsWhileCallsAreAuthorized) {
  Authorizer authorizer(CuscoOptions());
  const security::Identity partner = Id("spiffe://cusco.ruta.pe/partner/tdh");
  ruta::node::v1::Authorization config = DefaultAuthorizationConfig();
  auto* rule = config.add_rules();
  rule->set_service("CaseOffice");
  rule->add_methods("GetCase");
  rule->set_role(ruta::node::v1::AuthorizationRule::ROLE_PARTNER);
  rule->set_scope(ruta::node::v1::AuthorizationRule::SCOPE_NODE_REGION);
  absl::StatusOr<AuthorizationPolicy> wider =
      AuthorizationPolicy::FromConfig(config);
  ASSERT_TRUE(wider.ok());

  // Readers see either policy, never a broken one, while a writer swaps.
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        if (!authorizer.IsAllowed(Id("spiffe://cusco.ruta.pe/office/o"),
                                  "CaseOffice.OpenCase") ||
            authorizer.IsAllowed(partner, "CaseOffice.OpenCase")) {
          ++wrong;
        }
        (void)authorizer.IsAllowed(partner, "CaseOffice.GetCase");
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    authorizer.SetPolicy(i % 2 == 0 ? *wider : AuthorizationPolicy::Default());
  }
  authorizer.SetPolicy(*wider);
  stop = true;
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_TRUE(authorizer.IsAllowed(partner, "CaseOffice.GetCase"));
  EXPECT_EQ(authorizer.policy()->description(), "configured policy (6 rules)");
  authorizer.SetPolicy(AuthorizationPolicy::Default());
  EXPECT_FALSE(authorizer.IsAllowed(partner, "CaseOffice.GetCase"));
}

}  // namespace
}  // namespace ruta::api
