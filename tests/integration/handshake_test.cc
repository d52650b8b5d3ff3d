// Who may complete a TLS handshake with a node (DESIGN.md section 5, issue 3
// "Identity"): real mutual TLS against in-process nodes. Every refused client
// must fail UNAVAILABLE (the node closes the connection in the handshake),
// the node must count the refusal under the right reason and log it with the
// certificate's subject, and no handler may run: the refused client tries to
// open a case, and a valid office then finds no case on the node.
//
// Tests are few and each covers many cases (SCOPED_TRACE names the case):
// ctest runs every test in its own process, and each process generates the
// dev PKI once (seconds).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "ruta/security/handshake_metrics.h"
#include "ruta/testing/log_capture.h"
#include "ruta/testing/node.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/requests.h"
#include "ruta/testing/subprocess.h"
#include "ruta/v1/case_office.grpc.pb.h"

namespace ruta {
namespace {

using security::HandshakeRefusalCount;
using security::HandshakeRefusals;
using security::RefusalReason;
using security::RefusalReasonName;
using testing::ContextWithDeadline;
using testing::DevPki;
using testing::InProcessNode;
using testing::KeyPair;
using testing::LogCapture;
using testing::MakeChannel;

// Waits (briefly: the node counts in its handshake, before the client sees
// the connection close) until `reason` has been counted more than `before`.
bool WaitForRefusal(RefusalReason reason, int64_t before) {
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (HandshakeRefusalCount(reason) <= before) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

class HandshakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LogCapture::Get();  // before any node logs
  }

  static std::unique_ptr<InProcessNode> StartCusco(
      testing::NodeSetup setup = {}) {
    setup.region = "cusco";
    return InProcessNode::Start(setup);
  }

  // How many cases a valid office of the node's region sees on `node` (-1 on
  // error).
  static int CaseCount(InProcessNode& node) {
    auto office = v1::CaseOffice::NewStub(
        MakeChannel(node.address(), DevPki::Get().Office(node.node().region()),
                    node.node().region()));
    v1::ListCasesResponse response;
    const grpc::Status status = office->ListCases(
        ContextWithDeadline().get(), v1::ListCasesRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return status.ok() ? response.cases_size() : -1;
  }

  // `channel` tries to open a case on `node`: the handshake must be refused
  // for `reason`, logged with every one of `log_parts`, and nothing created.
  static void ExpectRefused(InProcessNode& node,
                            const std::shared_ptr<grpc::Channel>& channel,
                            RefusalReason reason,
                            std::vector<std::string> log_parts) {
    const int64_t before = HandshakeRefusalCount(reason);
    auto stub = v1::CaseOffice::NewStub(channel);
    v1::OpenCaseResponse response;
    const grpc::Status status =
        stub->OpenCase(ContextWithDeadline(absl::Seconds(5)).get(),
                       testing::VictimOpenCaseRequest(
                           "0b6e1f4a-3c2d-4e5f-8a9b-1c2d3e4f5a6b", "45678912"),
                       &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << status.error_message();
    EXPECT_TRUE(WaitForRefusal(reason, before))
        << "no refusal counted as " << RefusalReasonName(reason);
    log_parts.insert(
        log_parts.begin(),
        absl::StrCat("refused TLS client: reason=", RefusalReasonName(reason)));
    EXPECT_TRUE(LogCapture::Get().WaitFor(log_parts))
        << "not in the node's log: " << ::testing::PrintToString(log_parts);
    EXPECT_EQ(CaseCount(node), 0) << "a refused client reached a handler";
  }

  static void ExpectRefused(InProcessNode& node, const KeyPair& client,
                            RefusalReason reason,
                            std::vector<std::string> log_parts) {
    ExpectRefused(node,
                  MakeChannel(node.address(), client, node.node().region()),
                  reason, std::move(log_parts));
  }
};

TEST_F(HandshakeTest, RefusesEachBadClientForItsReason) {
  std::unique_ptr<InProcessNode> node = StartCusco();
  ASSERT_NE(node, nullptr);
  const DevPki& pki = DevPki::Get();
  struct Case {
    const char* what;
    KeyPair client;
    RefusalReason reason;
    std::vector<std::string> log_parts;
  };
  const std::vector<Case> cases = {
      {"unknown CA",
       pki.Rogue(),
       RefusalReason::kUnknownCa,
       {"CN=office/rogue", "spiffe://cusco.ruta.pe/office/rogue",
        "does not chain to the root CA of region cusco"}},
      {"self-signed",
       pki.Negative("self-signed"),
       RefusalReason::kSelfSigned,
       {"CN=office/self-signed", "spiffe://cusco.ruta.pe/office/self-signed"}},
      {"expired",
       pki.Negative("expired"),
       RefusalReason::kExpired,
       {"CN=negative/expired", "certificate has expired",
        "issuer=\"O=ruta, OU=cusco, CN=ruta cusco intermediate CA\""}},
      {"not yet valid",
       pki.Negative("not-yet-valid"),
       RefusalReason::kNotYetValid,
       {"CN=negative/not-yet-valid", "certificate is not yet valid"}},
      {"revoked leaf",
       pki.Negative("revoked"),
       RefusalReason::kRevoked,
       {"CN=negative/revoked", "spiffe://cusco.ruta.pe/office/revoked",
        "depth 0"}},
      {"two URI SANs",
       pki.Negative("two-uri-sans"),
       RefusalReason::kSanCount,
       {"CN=negative/two-uri-sans", "2 URI SANs"}},
      {"no URI SAN",
       pki.Negative("no-uri-san"),
       RefusalReason::kNoUriSan,
       {"CN=negative/no-uri-san", "uri_sans=[]"}},
      {"CA:true leaf",
       pki.Negative("ca-true"),
       RefusalReason::kCaCertificate,
       {"CN=negative/ca-true", "CA:true"}},
      {"no clientAuth usage",
       pki.Negative("server-only"),
       RefusalReason::kNoClientAuth,
       {"CN=negative/server-only", "clientAuth"}},
      {"other region's trust domain on this region's CA",
       pki.Negative("cross-domain"),
       RefusalReason::kWrongTrustDomain,
       {"CN=negative/cross-domain",
        "spiffe://madre-de-dios.ruta.pe/office/puerto-maldonado",
        "issued by the CA of region cusco"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    ExpectRefused(*node, c.client, c.reason, c.log_parts);
  }
  {
    SCOPED_TRACE("no client certificate");
    grpc::SslCredentialsOptions tls;  // server checked, no client identity
    tls.pem_root_certs = testing::ReadFile(DevPki::Get().TrustBundle());
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    ExpectRefused(*node,
                  grpc::CreateCustomChannel(node->address(),
                                            grpc::SslCredentials(tls), args),
                  RefusalReason::kNoClientCertificate,
                  {"presented no certificate"});
  }
  {
    SCOPED_TRACE("plaintext client");
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    ExpectRefused(
        *node,
        grpc::CreateCustomChannel(node->address(),
                                  grpc::InsecureChannelCredentials(), args),
        RefusalReason::kTlsProtocol, {"Handshake failed"});
  }
}

TEST_F(HandshakeTest, RefusesWhenRevocationOfTheChainSaysNo) {
  // Madre de Dios nodes whose CRLs for Cusco say no: Cusco clients are
  // refused, the node's own office still counts the cases.
  const DevPki& pki = DevPki::Get();
  {
    SCOPED_TRACE("missing CRL (no intermediate CRL configured for cusco)");
    testing::NodeSetup setup;
    setup.region = "madre-de-dios";
    setup.crl_files["cusco"] = {pki.Crls("cusco").front()};
    std::unique_ptr<InProcessNode> node = InProcessNode::Start(setup);
    ASSERT_NE(node, nullptr);
    ExpectRefused(*node, pki.Leaf("cusco", "office", "second-office"),
                  RefusalReason::kCrlMissing,
                  {"CN=office/second-office", "unable to get certificate CRL"});
  }
  {
    SCOPED_TRACE("expired CRL");
    testing::NodeSetup setup;
    setup.region = "madre-de-dios";
    setup.crl_files["cusco"] = {
        pki.Crls("cusco").front(),
        pki.dir() + "/negative/crl-expired/intermediate.crl.pem"};
    std::unique_ptr<InProcessNode> node = InProcessNode::Start(setup);
    ASSERT_NE(node, nullptr);
    ExpectRefused(*node, pki.Leaf("cusco", "office", "second-office"),
                  RefusalReason::kCrlExpired,
                  {"CN=office/second-office", "CRL has expired"});
  }
  {
    SCOPED_TRACE("revoked intermediate");
    // The operator's procedure (certs/README.md) in a private copy of the PKI:
    // revoke Cusco's intermediate, which republishes Cusco's CRLs.
    std::unique_ptr<DevPki> revoked = pki.Copy();
    ASSERT_EQ(
        revoked->RunPkiScript({"revoke", "--region", "cusco", "--intermediate",
                               "--reason", "CACompromise"}),
        0);
    testing::NodeSetup setup;
    setup.region = "madre-de-dios";
    setup.pki = revoked.get();
    std::unique_ptr<InProcessNode> node = InProcessNode::Start(setup);
    ASSERT_NE(node, nullptr);
    ExpectRefused(*node, revoked->Office("cusco"), RefusalReason::kRevoked,
                  {"CN=office/main-office",
                   "depth 1: O=ruta, OU=cusco, CN=ruta cusco intermediate CA"});
  }
}

TEST_F(HandshakeTest, AcceptsValidLeavesOfEveryRoleOfBothRegions) {
  std::unique_ptr<InProcessNode> node = StartCusco();
  ASSERT_NE(node, nullptr);
  const DevPki& pki = DevPki::Get();
  const std::map<std::string, int64_t> refusals_before = HandshakeRefusals();
  for (const char* region : {"cusco", "madre-de-dios"}) {
    const std::vector<std::pair<std::string, std::string>> leaves = {
        {"node", "node"},
        {"office",
         std::string(region) == "cusco" ? "main-office" : "puerto-maldonado"},
        {"office", "second-office"},
        {"partner", "tdh"},
        {"dashboard", "mayors"},
        {"admin", "operator"},
    };
    for (const auto& [role, name] : leaves) {
      SCOPED_TRACE(absl::StrCat(region, " ", role, "/", name));
      auto health = grpc::health::v1::Health::NewStub(
          MakeChannel(node->address(), pki.Leaf(region, role, name), "cusco"));
      grpc::health::v1::HealthCheckResponse response;
      const grpc::Status status =
          health->Check(ContextWithDeadline().get(),
                        grpc::health::v1::HealthCheckRequest(), &response);
      // Past the handshake; what the identity may then call is the
      // authorization policy's business.
      EXPECT_TRUE(status.ok() ||
                  status.error_code() == grpc::StatusCode::PERMISSION_DENIED)
          << status.error_code() << " " << status.error_message();
    }
  }
  EXPECT_EQ(HandshakeRefusals(), refusals_before);
}

}  // namespace
}  // namespace ruta
