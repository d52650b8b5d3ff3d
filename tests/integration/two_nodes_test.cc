// Two real ruta-node processes (Cusco and Madre de Dios) with real
// certificates on 127.0.0.1:0, driven through the ruta CLI.
#include <signal.h>

#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "ruta/testing/node.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/subprocess.h"
#include "ruta/v1/case_office.grpc.pb.h"

namespace ruta {
namespace {

using testing::BackgroundProcess;
using testing::DevPki;
using ::testing::HasSubstr;
using testing::KeyPair;
using testing::ProcessResult;

// Exit codes of the ruta CLI (clients/cli/README.md).
constexpr int kExitOk = 0;
constexpr int kExitNotFound = 3;
constexpr int kExitFailedPrecondition = 4;
constexpr int kExitPermission = 6;
constexpr int kExitUnavailable = 7;

struct RunningNode {
  std::string region;
  std::string config;
  std::string data_dir;
  std::unique_ptr<BackgroundProcess> process;
  int port = 0;
};

class TwoNodesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Peers of each other, on ports fixed before either starts.
    std::map<std::string, int> ports = {
        {"cusco", testing::PickFreePort()},
        {"madre-de-dios", testing::PickFreePort()}};
    for (const char* region : {"cusco", "madre-de-dios"}) {
      auto node = std::make_unique<RunningNode>();
      node->region = region;
      node->data_dir = testing::MakeTempDir(region);
      testing::NodeSetup setup;
      setup.region = region;
      setup.data_dir = node->data_dir;
      setup.listen_address = absl::StrCat("127.0.0.1:", ports[region]);
      const std::string peer =
          std::string(region) == "cusco" ? "madre-de-dios" : "cusco";
      setup.peers = {{peer, absl::StrCat("127.0.0.1:", ports[peer])}};
      setup.relay_initial_backoff_ms = 50;
      setup.relay_max_backoff_ms = 500;
      node->config = testing::WriteNodeConfig(DevPki::Get(), setup);
      Launch(*node);
      nodes_.push_back(node.release());
    }
  }
  static void TearDownTestSuite() {
    for (RunningNode* node : nodes_) delete node;
    nodes_.clear();
  }

  static void Launch(RunningNode& node) {
    std::remove((node.data_dir + "/port").c_str());
    node.process = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{testing::NodeBinary(), "--config",
                                 node.config},
        node.data_dir + "/node");
    node.port =
        testing::WaitForPortFile(node.data_dir + "/port", absl::Seconds(20));
    ASSERT_GT(node.port, 0) << node.region << " did not start:\n"
                            << node.process->Stderr();
  }

  static RunningNode& Node(const std::string& region) {
    for (RunningNode* node : nodes_) {
      if (node->region == region) return *node;
    }
    std::abort();
  }

  // Runs the CLI against `node_region`'s node as `identity`.
  ProcessResult Cli(const std::string& node_region, const KeyPair& identity,
                    std::vector<std::string> args,
                    const std::string* input = nullptr) {
    std::vector<std::string> argv = {
        testing::CliBinary(),
        "--node",
        absl::StrCat("127.0.0.1:", Node(node_region).port),
        "--cert",
        identity.cert_file,
        "--key",
        identity.key_file,
        "--ca",
        DevPki::Get().TrustBundle(),
        "--timeout",
        "10",
        "--retries",
        "0"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::RunProcess(argv, absl::Seconds(60), {}, input);
  }

  // Opens a victim case in Madre de Dios; returns its case_id.
  std::string OpenCase(const std::string& identifiers_json) {
    const ProcessResult result =
        Cli("madre-de-dios", DevPki::Get().Office("madre-de-dios"),
            {"case",
             "open",
             "--kind",
             "victim",
             "--stage",
             "identified",
             "--age-band",
             "15-17",
             "--sex",
             "female",
             "--origin-province",
             "0812",
             "--exploitation",
             "sexual",
             "--setting",
             "bar",
             "--recruitment",
             "false-job-offer",
             "--identified-month",
             "2026-10",
             "--legal-basis",
             "upe-protective-measure",
             "--identifiers-file",
             "-"},
            &identifiers_json);
    EXPECT_EQ(result.exit_code, kExitOk) << result.err;
    std::smatch match;
    if (!std::regex_search(result.out, match, std::regex("cs_[a-z]{20}"))) {
      ADD_FAILURE() << "no case id in: " << result.out;
      return "";
    }
    return match.str();
  }

  static std::vector<RunningNode*> nodes_;
};
std::vector<RunningNode*> TwoNodesTest::nodes_;

TEST_F(TwoNodesTest, OfficeOpensMovesAndListsACase) {
  const KeyPair office = DevPki::Get().Office("madre-de-dios");
  const std::string case_id = OpenCase(R"({"dni": "45678912"})");
  ASSERT_FALSE(case_id.empty());

  ProcessResult result = Cli("madre-de-dios", office, {"case", "get", case_id});
  EXPECT_EQ(result.exit_code, kExitOk) << result.err;
  EXPECT_THAT(result.out, HasSubstr(case_id));
  EXPECT_THAT(result.out, ::testing::Not(HasSubstr("45678912")));

  result = Cli("madre-de-dios", office,
               {"case", "stage", case_id, "immediate-protection"});
  EXPECT_EQ(result.exit_code, kExitOk) << result.err;

  result = Cli(
      "madre-de-dios", office,
      {"--output", "json", "case", "list", "--stage", "immediate-protection"});
  EXPECT_EQ(result.exit_code, kExitOk) << result.err;
  EXPECT_THAT(result.out, HasSubstr(case_id));
}

// The CLI drives a transfer through its whole lifecycle across two real node
// processes, and the service Cusco records shows up in Madre de Dios.
TEST_F(TwoNodesTest, CliWalksATransferAcrossTheTwoNodes) {
  const KeyPair mdd = DevPki::Get().Office("madre-de-dios");
  const KeyPair cusco = DevPki::Get().Office("cusco");
  const std::string case_id = OpenCase("{}");
  ASSERT_FALSE(case_id.empty());
  for (const char* stage : {"immediate-protection", "residential-care"}) {
    ASSERT_EQ(
        Cli("madre-de-dios", mdd, {"case", "stage", case_id, stage}).exit_code,
        kExitOk);
  }
  ProcessResult result =
      Cli("madre-de-dios", mdd,
          {"transfer", "request", case_id, "--to", "cusco", "--province",
           "0801", "--service", "education-support"});
  ASSERT_EQ(result.exit_code, kExitOk) << result.err;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(result.out, match, std::regex("tr_[a-z]{20}")))
      << result.out;
  const std::string id = match.str();

  // Runs `args` as `region`'s office until its output contains `expected`.
  auto eventually = [&](const std::string& region, const KeyPair& office,
                        const std::vector<std::string>& args,
                        const std::string& expected) {
    const absl::Time until = absl::Now() + absl::Seconds(30);
    ProcessResult r;
    do {
      r = Cli(region, office, args);
      if (r.exit_code == kExitOk && r.out.find(expected) != std::string::npos) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(200));
    } while (absl::Now() < until);
    ADD_FAILURE() << "never saw \"" << expected << "\" in: " << r.out << r.err;
    return false;
  };
  ASSERT_TRUE(
      eventually("cusco", cusco, {"transfer", "list", "--incoming"}, id));
  ASSERT_EQ(Cli("cusco", cusco, {"transfer", "accept", id}).exit_code, kExitOk);
  ASSERT_TRUE(eventually("madre-de-dios", mdd,
                         {"--output", "json", "transfer", "get", id},
                         "TRANSFER_STATE_ACCEPTED"));
  ASSERT_EQ(Cli("madre-de-dios", mdd, {"transfer", "depart", id}).exit_code,
            kExitOk);
  ASSERT_TRUE(eventually("cusco", cusco,
                         {"--output", "json", "transfer", "get", id},
                         "TRANSFER_STATE_IN_TRANSIT"));
  result = Cli("cusco", cusco, {"transfer", "receive", id});
  ASSERT_EQ(result.exit_code, kExitOk) << result.err;
  result = Cli("cusco", cusco,
               {"service", "add", case_id, "--type", "vocational-training",
                "--status", "ongoing", "--start", "2026-11"});
  ASSERT_EQ(result.exit_code, kExitOk) << result.err;
  EXPECT_TRUE(eventually("madre-de-dios", mdd, {"service", "list", case_id},
                         "vocational-training"));
  EXPECT_TRUE(eventually("madre-de-dios", mdd,
                         {"--output", "json", "transfer", "get", id},
                         "TRANSFER_STATE_RECEIVED"));

  // The operator sees the relay drained: connected, backlog 0.
  const KeyPair admin =
      DevPki::Get().Leaf("madre-de-dios", "admin", "operator");
  EXPECT_TRUE(eventually("madre-de-dios", admin,
                         {"--output", "json", "admin", "relay", "status"},
                         "\"connected\": true"));
  result = Cli("madre-de-dios", admin, {"admin", "relay", "status"});
  EXPECT_EQ(result.exit_code, kExitOk) << result.err;
  EXPECT_THAT(result.out, HasSubstr("BACKLOG"));
  EXPECT_THAT(result.out, HasSubstr("cusco"));
}

TEST_F(TwoNodesTest, IllegalTransitionExitsWithPreconditionCode) {
  const std::string case_id = OpenCase(R"({"dni": "11112222"})");
  const ProcessResult result =
      Cli("madre-de-dios", DevPki::Get().Office("madre-de-dios"),
          {"case", "stage", case_id, "follow-up"});
  EXPECT_EQ(result.exit_code, kExitFailedPrecondition) << result.err;
  EXPECT_THAT(result.err, HasSubstr("IMMEDIATE_PROTECTION"));
}

TEST_F(TwoNodesTest, EachRegionSeesOnlyItsOwnCases) {
  const std::string case_id = OpenCase(R"({"dni": "33334444"})");
  // Cusco's node does not know a local Madre de Dios case.
  ProcessResult result =
      Cli("cusco", DevPki::Get().Office("cusco"), {"case", "get", case_id});
  EXPECT_EQ(result.exit_code, kExitNotFound) << result.err;
  // A Cusco office may not act on Madre de Dios' node.
  result = Cli("madre-de-dios", DevPki::Get().Office("cusco"),
               {"case", "get", case_id});
  EXPECT_EQ(result.exit_code, kExitPermission) << result.err;
}

TEST_F(TwoNodesTest, CertificateFromUnknownCaIsRefused) {
  const ProcessResult result =
      Cli("cusco", DevPki::Get().Rogue(), {"case", "list"});
  EXPECT_EQ(result.exit_code, kExitUnavailable) << result.err;
  EXPECT_THAT(result.err, HasSubstr("certificate"));
}

TEST_F(TwoNodesTest, CallWithoutClientCertificateFails) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = testing::ReadFile(DevPki::Get().TrustBundle());
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  auto stub = v1::CaseOffice::NewStub(
      grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", Node("cusco").port),
                                grpc::SslCredentials(ssl), args));
  v1::ListCasesResponse response;
  const grpc::Status status = stub->ListCases(
      testing::ContextWithDeadline(absl::Seconds(5)).get(), {}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TwoNodesTest, NodeRefusesToStartWithoutItsKey) {
  const std::string dir = testing::MakeTempDir("nokey");
  testing::NodeSetup setup;
  setup.region = "cusco";
  setup.data_dir = dir;
  const std::string config = testing::WriteNodeConfig(DevPki::Get(), setup);
  const std::string missing = dir + "/missing-key.pem";
  std::string json = testing::ReadFile(config);
  json = absl::StrReplaceAll(json,
                             {{DevPki::Get().Node("cusco").key_file, missing}});
  std::ofstream(config) << json;
  const ProcessResult result =
      testing::RunProcess({testing::NodeBinary(), "--config", config});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("tls.key_file"));
  EXPECT_THAT(result.err, HasSubstr(missing));
}

TEST_F(TwoNodesTest, GracefulShutdownAndRestartKeepsCases) {
  const std::string case_id = OpenCase(R"({"dni": "55556666"})");
  RunningNode& node = Node("madre-de-dios");
  EXPECT_EQ(node.process->Stop(SIGTERM, absl::Seconds(20)), 0)
      << node.process->Stderr();
  Launch(node);
  const ProcessResult result =
      Cli("madre-de-dios", DevPki::Get().Office("madre-de-dios"),
          {"case", "get", case_id});
  EXPECT_EQ(result.exit_code, kExitOk) << result.err;
}

}  // namespace
}  // namespace ruta
