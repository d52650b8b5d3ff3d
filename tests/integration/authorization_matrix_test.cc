// Authorization over real mutual TLS: the full matrix (every identity of both
// dev regions × every RPC of every ruta.v1 service × both nodes), checked
// against an expectation table written here by hand from DESIGN.md §5, and
// against each node's effective policy; custom policies from the
// configuration; reloading the policy in-process and by SIGHUP.
#include <signal.h>

#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "ruta/api/authorization.h"
#include "ruta/node/config.h"
#include "ruta/node/node.h"
#include "ruta/security/identity.h"
#include "ruta/testing/node.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/requests.h"
#include "ruta/testing/subprocess.h"
#include "ruta/v1/admin.grpc.pb.h"
#include "ruta/v1/case_office.grpc.pb.h"
#include "ruta/v1/dashboard.grpc.pb.h"
#include "ruta/v1/federation.grpc.pb.h"
#include "ruta/v1/partner_status.grpc.pb.h"

namespace ruta {
namespace {

using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;
using testing::ContextWithDeadline;
using testing::DevPki;
using ::testing::HasSubstr;
using testing::InProcessNode;
using testing::KeyPair;
using testing::MakeChannel;

constexpr char kCusco[] = "cusco";
constexpr char kMadreDeDios[] = "madre-de-dios";

// ---------------------------------------------------------------------------
// The expectation, written independently of services/api/authorization.cc:
// DESIGN.md §5 says which single service each role reaches, and from where.
enum class From {
  kThisRegion,   // a certificate of the node's own region
  kAnyRegion,    // a certificate of any configured region
  kOtherRegion,  // a certificate of the configured peer region only
};
struct Entitlement {
  std::string service;
  From from;
};
const std::map<std::string, Entitlement>& Entitlements() {
  static const auto* table = new std::map<std::string, Entitlement>{
      {"office", {"CaseOffice", From::kThisRegion}},
      {"partner", {"PartnerStatus", From::kThisRegion}},
      {"dashboard", {"Dashboard", From::kAnyRegion}},
      {"node", {"Federation", From::kOtherRegion}},
      {"admin", {"Admin", From::kThisRegion}},
  };
  return *table;
}

// Both test nodes know both regions and have each other as their peer.
bool Expected(const std::string& caller_region, const std::string& role,
              const std::string& node_region, const std::string& service) {
  auto it = Entitlements().find(role);
  if (it == Entitlements().end() || it->second.service != service) {
    return false;
  }
  switch (it->second.from) {
    case From::kThisRegion:
      return caller_region == node_region;
    case From::kAnyRegion:
      return caller_region == kCusco || caller_region == kMadreDeDios;
    case From::kOtherRegion:
      return caller_region != node_region;
  }
  return false;
}

// Every service of the ruta.v1 contract, from the descriptors of its files
// (so that a service or RPC added to one of them is in the matrix).
std::vector<const ServiceDescriptor*> ContractServices() {
  std::vector<const ServiceDescriptor*> services;
  for (const google::protobuf::FileDescriptor* file :
       {v1::OpenCaseRequest::descriptor()->file(),
        v1::GetCaseStatusRequest::descriptor()->file(),
        v1::GetTableRequest::descriptor()->file(),
        v1::PutCrlRequest::descriptor()->file(),
        v1::VerifyAuditRequest::descriptor()->file()}) {
    for (int i = 0; i < file->service_count(); ++i) {
      services.push_back(file->service(i));
    }
  }
  return services;
}

// A caller of the matrix: a dev PKI identity.
struct Caller {
  std::string region;
  std::string role;
  std::string name;
  std::string spiffe_id() const {
    return absl::StrCat("spiffe://", region, ".ruta.pe/", role, "/", name);
  }
  KeyPair key_pair() const { return DevPki::Get().Leaf(region, role, name); }
};

std::vector<Caller> DevCallers() {
  std::vector<Caller> callers;
  for (const std::string region : {kCusco, kMadreDeDios}) {
    const std::string office =
        region == kCusco ? "main-office" : "puerto-maldonado";
    for (const auto& [role, name] :
         std::vector<std::pair<std::string, std::string>>{
             {"office", office},
             {"office", "second-office"},
             {"partner", "tdh"},
             {"dashboard", "mayors"},
             {"admin", "operator"},
             {"node", "node"}}) {
      callers.push_back(Caller{region, role, name});
    }
  }
  return callers;
}

void* Tag(intptr_t i) { return reinterpret_cast<void*>(i); }

// Calls `method` with an empty request through a generic stub, the same way
// for every method: unary and server-streaming calls send one empty message
// and read until the end; client- or bidi-streaming calls send nothing
// (WritesDone). Returns the final status.
grpc::Status CallGeneric(const std::shared_ptr<grpc::Channel>& channel,
                         const MethodDescriptor& method) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  // A watch (server stream) that was let in stays open, waiting for
  // updates: it ends at its deadline, which a short one keeps cheap.
  const bool watch = method.server_streaming() && !method.client_streaming();
  std::unique_ptr<grpc::ClientContext> context =
      ContextWithDeadline(watch ? absl::Seconds(1) : absl::Seconds(10));
  const std::string path =
      absl::StrCat("/", method.service()->full_name(), "/", method.name());
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(context.get(), path, &cq);
  const auto await = [&cq](intptr_t expected) {
    void* tag = nullptr;
    bool ok = false;
    const bool got = cq.Next(&tag, &ok);
    EXPECT_TRUE(got);
    EXPECT_EQ(tag, Tag(expected));
    return got && ok;
  };
  call->StartCall(Tag(1));
  if (await(1)) {
    if (method.client_streaming()) {
      call->WritesDone(Tag(2));
    } else {
      grpc::Slice empty{std::string()};
      call->WriteLast(grpc::ByteBuffer(&empty, 1), grpc::WriteOptions(),
                      Tag(2));
    }
    if (await(2)) {
      for (;;) {
        grpc::ByteBuffer response;
        call->Read(&response, Tag(3));
        if (!await(3)) break;
      }
    }
  }
  grpc::Status status;
  call->Finish(&status, Tag(4));
  await(4);
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

std::string PeerOf(const std::string& region) {
  return region == kCusco ? kMadreDeDios : kCusco;
}

// Starts a node of `region` with the other dev region as its peer. Nothing
// dials the peer in these tests, so a placeholder address is enough.
std::unique_ptr<InProcessNode> StartNode(const std::string& region,
                                         const std::string& authorization) {
  testing::NodeSetup setup;
  setup.region = region;
  setup.peers = {{PeerOf(region), "127.0.0.1:9"}};
  setup.authorization_json = authorization;
  return InProcessNode::Start(setup);
}

security::Identity IdentityOf(const std::string& spiffe_id) {
  absl::StatusOr<security::Identity> identity =
      security::ParseSpiffeId(spiffe_id);
  EXPECT_TRUE(identity.ok()) << identity.status();
  return identity.ok() ? *identity : security::Identity{};
}

// ---------------------------------------------------------------------------
class AuthorizationMatrixTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (const char* region : {kCusco, kMadreDeDios}) {
      nodes_[region] = StartNode(region, "").release();
      ASSERT_NE(nodes_[region], nullptr) << region;
    }
  }
  static void TearDownTestSuite() {
    for (auto& [region, node] : nodes_) delete node;
    nodes_.clear();
  }
  static std::map<std::string, InProcessNode*> nodes_;
};
std::map<std::string, InProcessNode*> AuthorizationMatrixTest::nodes_;

TEST_F(AuthorizationMatrixTest, TheContractHasTheServicesTheTableKnows) {
  std::set<std::string> services;
  for (const ServiceDescriptor* service : ContractServices()) {
    services.insert(service->name());
  }
  std::set<std::string> known;
  for (const auto& [role, entitlement] : Entitlements()) {
    known.insert(entitlement.service);
  }
  // A new service needs a decision here first: who may call it.
  EXPECT_EQ(services, known);
  // And the node's catalogue of methods is the contract's.
  std::vector<std::string> methods;
  for (const ServiceDescriptor* service : ContractServices()) {
    for (int i = 0; i < service->method_count(); ++i) {
      methods.push_back(
          absl::StrCat(service->name(), ".", service->method(i)->name()));
    }
  }
  EXPECT_EQ(api::AllMethods(), methods);
}

// Every identity × every RPC × both nodes. Each cell is asserted three ways:
// the hand-written expectation, the node's effective policy
// (Authorizer::IsAllowed), and a real call over mTLS.
TEST_F(AuthorizationMatrixTest, EveryIdentityEveryRpcBothNodes) {
  const std::vector<Caller> callers = DevCallers();
  const std::vector<const ServiceDescriptor*> services = ContractServices();
  int cells = 0;
  int allowed_cells = 0;
  int rpcs = 0;
  for (const ServiceDescriptor* service : services) {
    rpcs += service->method_count();
  }
  // role@caller-region -> the services it reached, per node (for the log).
  std::map<std::string, std::map<std::string, std::set<std::string>>> reached;
  for (const auto& [node_region, node] : nodes_) {
    const api::Authorizer& authorizer = node->node().authorizer();
    for (const Caller& caller : callers) {
      std::shared_ptr<grpc::Channel> channel =
          MakeChannel(node->address(), caller.key_pair(), node_region);
      ASSERT_NE(channel, nullptr);
      const security::Identity identity = IdentityOf(caller.spiffe_id());
      for (const ServiceDescriptor* service : services) {
        for (int m = 0; m < service->method_count(); ++m) {
          const MethodDescriptor& method = *service->method(m);
          const std::string name =
              absl::StrCat(service->name(), ".", method.name());
          const std::string cell = absl::StrCat(
              caller.spiffe_id(), " -> ", name, " on ", node_region, "'s node");
          const bool expected = Expected(caller.region, caller.role,
                                         node_region, service->name());
          ++cells;
          if (expected) ++allowed_cells;

          // The node's effective policy agrees with the table.
          EXPECT_EQ(authorizer.IsAllowed(identity, name), expected)
              << cell << ": the policy says "
              << authorizer.Check(identity, name);

          // And so does the node on the wire.
          const grpc::Status status = CallGeneric(channel, method);
          if (expected) {
            EXPECT_NE(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
                << cell << ": " << status.error_message();
            EXPECT_NE(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
                << cell << ": " << status.error_message();
            // A dropped connection would not show that the call got past
            // authorization.
            EXPECT_NE(status.error_code(), grpc::StatusCode::UNAVAILABLE)
                << cell << ": " << status.error_message();
            // Except for a watch, which stays open until its deadline once it
            // was let in (a denied one ends at once, PERMISSION_DENIED).
            if (!(method.server_streaming() && !method.client_streaming())) {
              EXPECT_NE(status.error_code(),
                        grpc::StatusCode::DEADLINE_EXCEEDED)
                  << cell;
            }
            reached[absl::StrCat(caller.role, "/", caller.name, "@",
                                 caller.region)][node_region]
                .insert(service->name());
          } else {
            EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
                << cell << ": " << status.error_code() << " "
                << status.error_message();
            // The denial names the method, the rule that would allow it and
            // the caller.
            EXPECT_THAT(status.error_message(), HasSubstr(name)) << cell;
            EXPECT_THAT(status.error_message(),
                        HasSubstr("default policy rule"))
                << cell;
            EXPECT_THAT(status.error_message(),
                        HasSubstr(absl::StrCat("caller ", caller.spiffe_id())))
                << cell;
          }
        }
      }
    }
  }
  EXPECT_EQ(cells,
            static_cast<int>(callers.size()) * rpcs * 2);  // both nodes
  std::cout << "authorization matrix: " << callers.size() << " identities x "
            << rpcs << " RPCs x 2 nodes = " << cells << " cells, "
            << allowed_cells << " allowed, " << cells - allowed_cells
            << " denied\n";
  for (const auto& [who, per_node] : reached) {
    for (const auto& [node_region, reached_services] : per_node) {
      std::cout << "  " << who << " reaches on " << node_region << ": "
                << absl::StrJoin(reached_services, ", ") << "\n";
    }
  }
}

// An unknown role cannot get a certificate from certs/pki.sh, and a
// certificate forged with the region's own CA is refused in the handshake by
// both nodes for every RPC: it never reaches authorization.
TEST_F(AuthorizationMatrixTest, UnknownRoleIsRefusedBeforeAuthorization) {
  const DevPki& pki = DevPki::Get();
  const testing::ProcessResult issue = testing::RunProcess(
      {"/bin/bash", testing::SourceDir() + "/certs/pki.sh", "issue", "--region",
       "cusco", "--role", "auditor", "--name", "x", "--out", pki.dir()});
  EXPECT_EQ(issue.exit_code, 2) << issue.out << issue.err;
  EXPECT_THAT(issue.err, HasSubstr("invalid role 'auditor'"));

  // Forge leaves with the cusco intermediate CA: one of an unknown role, and
  // a control of a known role made the same way (so the refusal is the
  // role's, not the forging's).
  const std::string dir = testing::MakeTempDir("forged");
  const std::string ca = pki.dir() + "/cusco/intermediate";
  const auto forge = [&](const std::string& name, const std::string& uri,
                         int serial) {
    const std::string base = dir + "/" + name;
    std::FILE* ext = std::fopen((base + ".ext").c_str(), "w");
    std::fprintf(ext,
                 "basicConstraints=critical,CA:false\n"
                 "keyUsage=critical,digitalSignature\n"
                 "extendedKeyUsage=clientAuth\n"
                 "subjectAltName=URI:%s\n"
                 "subjectKeyIdentifier=hash\n"
                 "authorityKeyIdentifier=keyid:always\n",
                 uri.c_str());
    std::fclose(ext);
    for (const std::vector<std::string>& argv :
         std::vector<std::vector<std::string>>{
             {"/usr/bin/openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
              "ec_paramgen_curve:P-256", "-out", base + ".key"},
             {"/usr/bin/openssl", "req", "-new", "-key", base + ".key", "-subj",
              "/O=ruta/OU=cusco/CN=" + name, "-out", base + ".csr"},
             {"/usr/bin/openssl", "x509", "-req", "-in", base + ".csr", "-CA",
              ca + "/ca.pem", "-CAkey", ca + "/ca.key", "-set_serial",
              absl::StrCat(serial), "-days", "30", "-extfile", base + ".ext",
              "-out", base + ".leaf"}}) {
      const testing::ProcessResult result = testing::RunProcess(argv);
      EXPECT_EQ(result.exit_code, 0) << argv[1] << ": " << result.err;
    }
    const std::string chain =
        testing::ReadFile(base + ".leaf") + testing::ReadFile(ca + "/ca.pem");
    std::FILE* out = std::fopen((base + ".pem").c_str(), "w");
    std::fwrite(chain.data(), 1, chain.size(), out);
    std::fclose(out);
    return KeyPair{base + ".pem", base + ".key"};
  };
  const KeyPair auditor =
      forge("auditor", "spiffe://cusco.ruta.pe/auditor/x", 424242);
  const KeyPair control =
      forge("control", "spiffe://cusco.ruta.pe/office/forged-control", 424243);

  // The control gets through on the Cusco node.
  {
    v1::ListCasesResponse response;
    const grpc::Status status =
        v1::CaseOffice::NewStub(
            MakeChannel(nodes_[kCusco]->address(), control, kCusco))
            ->ListCases(ContextWithDeadline().get(), v1::ListCasesRequest(),
                        &response);
    EXPECT_TRUE(status.ok())
        << status.error_code() << " " << status.error_message();
  }
  int refused = 0;
  for (const auto& [node_region, node] : nodes_) {
    std::shared_ptr<grpc::Channel> channel =
        MakeChannel(node->address(), auditor, node_region);
    for (const ServiceDescriptor* service : ContractServices()) {
      for (int m = 0; m < service->method_count(); ++m) {
        const grpc::Status status = CallGeneric(channel, *service->method(m));
        EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
            << service->name() << "." << service->method(m)->name() << " on "
            << node_region << ": " << status.error_message();
        ++refused;
      }
    }
  }
  std::cout << "unknown role: " << refused
            << " calls (every RPC x 2 nodes) refused in the handshake\n";
}

// A denied call never reaches core: a partner's well-formed OpenCase opens
// nothing.
TEST_F(AuthorizationMatrixTest, DeniedCallNeverReachesCore) {
  InProcessNode* node = nodes_[kMadreDeDios];
  const v1::OpenCaseRequest request = testing::VictimOpenCaseRequest(
      "0b6e1f4a-3c2d-4e5f-8a9b-000000000001", "45678912");

  const auto list_count = [&] {
    v1::ListCasesResponse response;
    const grpc::Status status =
        v1::CaseOffice::NewStub(MakeChannel(node->address(),
                                            DevPki::Get().Office(kMadreDeDios),
                                            kMadreDeDios))
            ->ListCases(ContextWithDeadline().get(), v1::ListCasesRequest(),
                        &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.cases_size();
  };
  const int before = list_count();
  for (const KeyPair& intruder :
       {DevPki::Get().Leaf(kMadreDeDios, "partner", "tdh"),
        DevPki::Get().Office(kCusco),
        DevPki::Get().Leaf(kMadreDeDios, "admin", "operator")}) {
    v1::OpenCaseResponse response;
    const grpc::Status status =
        v1::CaseOffice::NewStub(
            MakeChannel(node->address(), intruder, kMadreDeDios))
            ->OpenCase(ContextWithDeadline().get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << status.error_message();
  }
  EXPECT_EQ(list_count(), before);
}

// ---------------------------------------------------------------------------
// Custom policies from the configuration.

// The default table plus a partner's read-only CaseOffice.GetCase.
constexpr char kPartnerMayGetCase[] = R"({"rules": [
  {"service": "CaseOffice", "methods": ["*"], "role": "ROLE_OFFICE",
   "scope": "SCOPE_NODE_REGION"},
  {"service": "PartnerStatus", "methods": ["*"], "role": "ROLE_PARTNER",
   "scope": "SCOPE_NODE_REGION"},
  {"service": "Dashboard", "methods": ["*"], "role": "ROLE_DASHBOARD",
   "scope": "SCOPE_ANY_CONFIGURED_REGION"},
  {"service": "Federation", "methods": ["*"], "role": "ROLE_NODE",
   "scope": "SCOPE_PEER_REGION"},
  {"service": "Admin", "methods": ["*"], "role": "ROLE_ADMIN",
   "scope": "SCOPE_NODE_REGION"},
  {"service": "CaseOffice", "methods": ["GetCase"], "role": "ROLE_PARTNER",
   "scope": "SCOPE_NODE_REGION"}]})";

// The status of `identity` calling CaseOffice.<method> with an empty request.
grpc::Status CallCaseOffice(const InProcessNode& node, const KeyPair& identity,
                            const std::string& region,
                            const std::string& method) {
  const ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          v1::CaseOffice::service_full_name());
  return CallGeneric(MakeChannel(node.address(), identity, region),
                     *service->FindMethodByName(method));
}

TEST(CustomAuthorizationTest, PartnerGrantedReadOnlyGetCase) {
  std::unique_ptr<InProcessNode> node = StartNode(kCusco, kPartnerMayGetCase);
  ASSERT_NE(node, nullptr);
  const KeyPair partner = DevPki::Get().Leaf(kCusco, "partner", "tdh");

  // GetCase gets past authorization (an empty case id is then the handler's
  // business) ...
  const grpc::Status get = CallCaseOffice(*node, partner, kCusco, "GetCase");
  EXPECT_NE(get.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << get.error_message();
  EXPECT_NE(get.error_code(), grpc::StatusCode::UNAVAILABLE);
  // ... nothing else of CaseOffice does, and the denial names the rule.
  const grpc::Status list = CallCaseOffice(*node, partner, kCusco, "ListCases");
  EXPECT_EQ(list.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(list.error_message(),
            "CaseOffice.ListCases needs role office of this node's region "
            "(cusco) [authorization.rules[0]]; caller "
            "spiffe://cusco.ruta.pe/partner/tdh is partner of cusco");
  // The GetCase denial to others lists both alternatives.
  const grpc::Status dashboard =
      CallCaseOffice(*node, DevPki::Get().Leaf(kCusco, "dashboard", "mayors"),
                     kCusco, "GetCase");
  EXPECT_EQ(dashboard.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(dashboard.error_message(),
              HasSubstr("needs role office of this node's region (cusco) "
                        "[authorization.rules[0]] or role partner of this "
                        "node's region (cusco) [authorization.rules[5]]"));
  // The other region's partner is still out.
  EXPECT_EQ(
      CallCaseOffice(*node, DevPki::Get().Leaf(kMadreDeDios, "partner", "tdh"),
                     kCusco, "GetCase")
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(node->node().authorizer().policy()->description(),
            "configured policy (6 rules)");
}

TEST(CustomAuthorizationTest, NarrowerPolicyDeniesWhatTheDefaultAllows) {
  // A read-only office: OpenCase is no longer granted to anyone.
  std::unique_ptr<InProcessNode> node = StartNode(kCusco, R"({"rules": [
    {"service": "CaseOffice", "methods": ["GetCase", "ListCases"],
     "role": "ROLE_OFFICE", "scope": "SCOPE_NODE_REGION"}]})");
  ASSERT_NE(node, nullptr);
  const KeyPair office = DevPki::Get().Office(kCusco);
  EXPECT_EQ(CallCaseOffice(*node, office, kCusco, "ListCases").error_code(),
            grpc::StatusCode::OK);
  const grpc::Status open = CallCaseOffice(*node, office, kCusco, "OpenCase");
  EXPECT_EQ(open.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(open.error_message(),
              HasSubstr("CaseOffice.OpenCase is granted to no role by the "
                        "configured policy (1 rules)"));
}

TEST(CustomAuthorizationTest, InvalidPolicyStopsTheNodeFromStarting) {
  testing::NodeSetup setup;
  setup.region = kCusco;
  setup.authorization_json = R"({"rules": [
    {"service": "Federation", "methods": ["*"], "role": "ROLE_NODE",
     "scope": "SCOPE_ANY_CONFIGURED_REGION"}]})";
  const std::string path = testing::WriteNodeConfig(DevPki::Get(), setup);
  absl::StatusOr<ruta::node::v1::NodeConfig> config =
      ruta::node::LoadConfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(),
              HasSubstr("authorization.rules[0]: Federation needs "
                        "SCOPE_PEER_REGION, not SCOPE_ANY_CONFIGURED_REGION"));
}

// ---------------------------------------------------------------------------
// Reload.

TEST(AuthorizationReloadTest, ValidPolicySwapsInvalidKeepsTheOld) {
  testing::NodeSetup setup;
  setup.region = kCusco;
  setup.data_dir = testing::MakeTempDir("reload");
  setup.peers = {{kMadreDeDios, "127.0.0.1:9"}};
  std::unique_ptr<InProcessNode> node = InProcessNode::Start(setup);
  ASSERT_NE(node, nullptr);
  const KeyPair partner = DevPki::Get().Leaf(kCusco, "partner", "tdh");
  const security::Identity partner_id =
      IdentityOf("spiffe://cusco.ruta.pe/partner/tdh");
  const api::Authorizer& authorizer = node->node().authorizer();
  ASSERT_EQ(CallCaseOffice(*node, partner, kCusco, "GetCase").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // A valid new policy takes effect for the next call.
  setup.authorization_json = kPartnerMayGetCase;
  absl::StatusOr<ruta::node::v1::NodeConfig> wider =
      ruta::node::LoadConfig(testing::WriteNodeConfig(DevPki::Get(), setup));
  ASSERT_TRUE(wider.ok()) << wider.status();
  ASSERT_TRUE(node->node().ReloadAuthorization(*wider).ok());
  EXPECT_TRUE(authorizer.IsAllowed(partner_id, "CaseOffice.GetCase"));
  EXPECT_NE(CallCaseOffice(*node, partner, kCusco, "GetCase").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // An invalid one is refused, naming the rule; the previous policy stays.
  ruta::node::v1::NodeConfig invalid = *wider;
  auto* bad = invalid.mutable_authorization()->add_rules();
  bad->set_service("Admin");
  bad->add_methods("EraseCase");
  bad->set_role(ruta::node::v1::AuthorizationRule::ROLE_NODE);
  bad->set_scope(ruta::node::v1::AuthorizationRule::SCOPE_PEER_REGION);
  const absl::Status refused = node->node().ReloadAuthorization(invalid);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(),
              HasSubstr("authorization.rules[6]: ROLE_NODE may only be granted "
                        "Federation, not Admin"));
  EXPECT_TRUE(authorizer.IsAllowed(partner_id, "CaseOffice.GetCase"));
  EXPECT_FALSE(authorizer.IsAllowed(
      IdentityOf("spiffe://madre-de-dios.ruta.pe/node/node"),
      "Admin.EraseCase"));
  EXPECT_EQ(authorizer.policy()->description(), "configured policy (6 rules)");

  // A configuration of another region is not applied.
  ruta::node::v1::NodeConfig other = *wider;
  other.set_region(kMadreDeDios);
  EXPECT_EQ(node->node().ReloadAuthorization(other).code(),
            absl::StatusCode::kFailedPrecondition);

  // Removing the section brings back the built-in default.
  setup.authorization_json.clear();
  absl::StatusOr<ruta::node::v1::NodeConfig> plain =
      ruta::node::LoadConfig(testing::WriteNodeConfig(DevPki::Get(), setup));
  ASSERT_TRUE(plain.ok());
  ASSERT_TRUE(node->node().ReloadAuthorization(*plain).ok());
  EXPECT_FALSE(authorizer.IsAllowed(partner_id, "CaseOffice.GetCase"));
  EXPECT_EQ(CallCaseOffice(*node, partner, kCusco, "GetCase").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// The real ruta-node: SIGHUP re-reads the file; a bad file is logged and
// changes nothing; SIGTERM still stops it cleanly.
TEST(AuthorizationReloadTest, SighupReloadsTheConfigurationFile) {
  const std::string dir = testing::MakeTempDir("sighup");
  testing::NodeSetup setup;
  setup.region = kCusco;
  setup.data_dir = dir;
  setup.peers = {{kMadreDeDios, "127.0.0.1:9"}};
  const std::string path = testing::WriteNodeConfig(DevPki::Get(), setup);
  testing::BackgroundProcess process({testing::NodeBinary(), "--config", path},
                                     dir + "/node");
  const int port = testing::WaitForPortFile(dir + "/port", absl::Seconds(20));
  ASSERT_GT(port, 0) << process.Stderr();
  const std::string address = absl::StrCat("127.0.0.1:", port);
  const KeyPair partner = DevPki::Get().Leaf(kCusco, "partner", "tdh");
  const ServiceDescriptor* case_office =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          v1::CaseOffice::service_full_name());
  const auto partner_get_case = [&] {
    return CallGeneric(MakeChannel(address, partner, kCusco),
                       *case_office->FindMethodByName("GetCase"))
        .error_code();
  };
  const auto log = [&] { return process.Stdout() + process.Stderr(); };
  // Polls until `done` (the reload happens on the node's main thread).
  const auto eventually = [](const std::function<bool()>& done) {
    for (int i = 0; i < 100; ++i) {
      if (done()) return true;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return false;
  };
  ASSERT_EQ(partner_get_case(), grpc::StatusCode::PERMISSION_DENIED);

  // A valid policy.
  setup.authorization_json = kPartnerMayGetCase;
  ASSERT_EQ(testing::WriteNodeConfig(DevPki::Get(), setup), path);
  ASSERT_EQ(kill(process.pid(), SIGHUP), 0);
  EXPECT_TRUE(eventually([&] {
    return partner_get_case() != grpc::StatusCode::PERMISSION_DENIED;
  })) << log();
  EXPECT_TRUE(eventually([&] {
    return log().find("authorization policy reloaded from " + path +
                      " (6 configured rules)") != std::string::npos;
  })) << log();

  // An invalid one: logged with the reason, the previous policy stays.
  setup.authorization_json = R"({"rules": [
    {"service": "Federation", "methods": ["*"], "role": "ROLE_OFFICE",
     "scope": "SCOPE_PEER_REGION"}]})";
  ASSERT_EQ(testing::WriteNodeConfig(DevPki::Get(), setup), path);
  ASSERT_EQ(kill(process.pid(), SIGHUP), 0);
  EXPECT_TRUE(eventually([&] {
    return log().find(
               "configuration not reloaded, the previous "
               "authorization policy stays") != std::string::npos;
  })) << log();
  EXPECT_THAT(log(), HasSubstr("authorization.rules[0]: Federation may only "
                               "be granted to ROLE_NODE, not ROLE_OFFICE"));
  EXPECT_NE(partner_get_case(), grpc::StatusCode::PERMISSION_DENIED);

  // Back to the default.
  setup.authorization_json.clear();
  ASSERT_EQ(testing::WriteNodeConfig(DevPki::Get(), setup), path);
  ASSERT_EQ(kill(process.pid(), SIGHUP), 0);
  EXPECT_TRUE(eventually([&] {
    return partner_get_case() == grpc::StatusCode::PERMISSION_DENIED;
  })) << log();
  EXPECT_THAT(log(), HasSubstr("(built-in default policy)"));

  EXPECT_EQ(process.Stop(SIGTERM, absl::Seconds(20)), 0) << log();
}

}  // namespace
}  // namespace ruta
