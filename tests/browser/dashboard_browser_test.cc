// The mayors' dashboard in a real browser. Two real ruta-node processes
// (Cusco and Madre de Dios, peers of each other) get cases through their
// offices' CaseOffice API, in known stages; ruta-dashboard serves HTTPS
// against the Cusco node with the dev PKI's dashboard certificate; a second
// ruta-dashboard (plain HTTP dev mode on loopback) points at a node that is
// not running. Then dashboard.spec.mjs drives headless Chromium through
// playwright-core with the figures expected from what was seeded: login
// (a wrong password refused), the tables' figures and "<k" cells, the
// chart's pixels, the CSV download against the table shown, the region and
// quarter filters, logout, and the plain error of an unreachable node. A
// screenshot is saved as <build>/tests/browser/dashboard.png.
//
// Chromium missing, or a node whose Dashboard service fails, is a failure,
// never a skip.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "browser_support.h"
#include "gtest/gtest.h"
#include "ruta/dashboard/table_view.h"
#include "ruta/testing/node.h"
#include "ruta/testing/office_client.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/requests.h"
#include "ruta/testing/subprocess.h"
#include "ruta/v1/case_office.grpc.pb.h"
#include "ruta/v1/dashboard.grpc.pb.h"
#include "ruta/web/http.h"
#include "ruta/web/labels.h"

namespace ruta {
namespace {

using testing::BackgroundProcess;
using testing::DevPki;
using web::JsonString;

using browser::kCusco;
using browser::kMdd;
using browser::MakeHttpsCertificate;
using browser::NodeProcess;
using browser::Say;
using browser::StartNode;
constexpr char kTable[] = "cases_by_stage";
// The node's default suppression threshold k (config dashboard.threshold
// unset).
constexpr int kThreshold = 10;

// Short stage name as the node's tables label rows ("RESIDENTIAL_CARE").
std::string ShortStage(v1::Stage stage) {
  return std::string(absl::StripPrefix(v1::Stage_Name(stage), "STAGE_"));
}

// Opens a case (no identifiers) and moves it through `stages`; returns its
// final stage as the node reports it ("" on error, reported).
std::string OpenCaseInStage(testing::OfficeClient& office, uint64_t salt,
                            uint64_t n, const std::vector<v1::Stage>& stages,
                            std::string* quarter) {
  v1::OpenCaseRequest open =
      testing::VictimOpenCaseRequest(testing::RequestIdFor(salt, n * 4), "");
  open.clear_identifiers();
  const v1::YearMonth& month = open.profile().identified_month();
  *quarter = absl::StrCat(month.year(), "Q", (month.month() + 2) / 3);
  v1::OpenCaseResponse opened;
  grpc::Status s = office.stub().OpenCase(testing::ContextWithDeadline().get(),
                                          open, &opened);
  EXPECT_TRUE(s.ok()) << "OpenCase: " << s.error_message();
  if (!s.ok()) return "";
  v1::Case c = opened.case_();
  int step = 1;
  for (v1::Stage stage : stages) {
    v1::UpdateStageRequest update;
    update.set_request_id(testing::RequestIdFor(salt, n * 4 + step++));
    update.set_case_id(c.case_id());
    update.set_stage(stage);
    v1::UpdateStageResponse updated;
    s = office.stub().UpdateStage(testing::ContextWithDeadline().get(), update,
                                  &updated);
    EXPECT_TRUE(s.ok()) << "UpdateStage: " << s.error_message();
    if (!s.ok()) return "";
    c = updated.case_();
  }
  return ShortStage(c.stage());
}

std::unique_ptr<BackgroundProcess> StartDashboard(
    const std::string& dir, const std::vector<std::string>& args, int* port) {
  std::vector<std::string> argv = {RUTA_DASHBOARD_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--port-file", dir + "/port"});
  auto process = std::make_unique<BackgroundProcess>(argv, dir + "/dashboard");
  *port = testing::WaitForPortFile(dir + "/port", absl::Seconds(20));
  EXPECT_GT(*port, 0) << "ruta-dashboard did not start:\n" << process->Stderr();
  return process;
}

TEST(DashboardBrowserTest, MayorsReadTheSeededFiguresInChromium) {
  // What the browser needs, or a failure saying how to get it.
  std::string chromium;
  ASSERT_TRUE(browser::BrowserToolsPresent(&chromium));

  // Two nodes, peers of each other.
  const std::map<std::string, int> ports = {{kCusco, testing::PickFreePort()},
                                            {kMdd, testing::PickFreePort()}};
  ASSERT_NE(ports.at(kCusco), ports.at(kMdd));
  std::unique_ptr<NodeProcess> mdd = StartNode("browser", kMdd, ports);
  std::unique_ptr<NodeProcess> cusco = StartNode("browser", kCusco, ports);
  ASSERT_FALSE(HasFailure());

  // Seed: per region, cases left in known stages. The tally is what the
  // node reported for each case after its last change.
  const uint64_t salt = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  const std::vector<v1::Stage> to_care = {v1::STAGE_IMMEDIATE_PROTECTION,
                                          v1::STAGE_RESIDENTIAL_CARE};
  const std::vector<v1::Stage> to_protection = {v1::STAGE_IMMEDIATE_PROTECTION};
  struct Plan {
    const NodeProcess* node;
    int in_care, in_protection, identified;
  };
  std::map<std::string, std::map<std::string, int>> seeded;
  std::string quarter;
  uint64_t n = 0;
  for (const Plan& plan :
       {Plan{cusco.get(), 12, 3, 2}, Plan{mdd.get(), 11, 4, 1}}) {
    testing::OfficeClient office(plan.node->address(), plan.node->region);
    office.set_attempts(3);
    auto open = [&](int count, const std::vector<v1::Stage>& stages) {
      for (int i = 0; i < count; ++i) {
        const std::string stage =
            OpenCaseInStage(office, salt, n++, stages, &quarter);
        if (!stage.empty()) ++seeded[plan.node->region][stage];
      }
    };
    open(plan.in_care, to_care);
    open(plan.in_protection, to_protection);
    open(plan.identified, {});
  }
  ASSERT_FALSE(HasFailure());
  for (const auto& [region, stages] : seeded) {
    for (const auto& [stage, count] : stages) {
      Say(absl::StrCat("seeded ", region, " ", stage, ": ", count));
    }
  }

  // The node's Dashboard service lists the table and serves fresh counts.
  const testing::KeyPair dashboard_identity =
      DevPki::Get().Leaf(kCusco, "dashboard", "mayors");
  auto stub = v1::Dashboard::NewStub(
      testing::MakeChannel(cusco->address(), dashboard_identity, kCusco));
  v1::ListTablesResponse list;
  grpc::Status listed =
      stub->ListTables(testing::ContextWithDeadline().get(), {}, &list);
  {
    ASSERT_TRUE(listed.ok()) << "ListTables: " << listed.error_message();
    bool found = false;
    for (const auto& t : list.tables()) found = found || t.name() == kTable;
    ASSERT_TRUE(found) << "the node lists no table " << kTable;
    // Until the Cusco node holds Madre de Dios' counts (fetched from the
    // peer on request), the table carries a stale/missing warning.
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    bool fresh = false;
    while (!fresh && absl::Now() < deadline) {
      v1::GetTableRequest request;
      request.set_table(kTable);
      auto q = dashboard::ParseQuarter(quarter);
      ASSERT_TRUE(q.ok());
      *request.mutable_from_quarter() = *q;
      *request.mutable_to_quarter() = *q;
      v1::GetTableResponse response;
      grpc::Status s = stub->GetTable(testing::ContextWithDeadline().get(),
                                      request, &response);
      fresh = s.ok();
      for (const auto& peer : response.peers()) {
        fresh = fresh && !peer.missing() && !peer.stale();
      }
      if (!fresh) absl::SleepFor(absl::Milliseconds(500));
    }
    EXPECT_TRUE(fresh) << "the Cusco node never held fresh counts of Madre "
                          "de Dios";
  }

  // ruta-dashboard over HTTPS, with one account created by its CLI.
  const std::string dir = testing::MakeTempDir("browser-dashboard");
  const std::string accounts = dir + "/accounts";
  const std::string user = "alcaldia.cusco";
  const std::string password = absl::StrCat("clave-de-prueba-", salt % 100000);
  const std::string password_line = password + "\n";
  testing::ProcessResult added =
      testing::RunProcess({RUTA_DASHBOARD_BINARY, "account", "add", user,
                           "--accounts", accounts, "--password-stdin"},
                          absl::Seconds(30), {}, &password_line);
  ASSERT_EQ(added.exit_code, 0) << added.err;
  struct stat st;
  ASSERT_EQ(stat(accounts.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::string https_cert, https_key;
  ASSERT_TRUE(MakeHttpsCertificate(dir, &https_cert, &https_key));
  int https_port = 0;
  std::unique_ptr<BackgroundProcess> dashboard = StartDashboard(
      dir,
      {"--node", cusco->address(), "--node-region", kCusco, "--ca",
       DevPki::Get().TrustBundle(), "--cert", dashboard_identity.cert_file,
       "--key", dashboard_identity.key_file, "--listen", "127.0.0.1:0",
       "--tls-cert", https_cert, "--tls-key", https_key, "--accounts",
       accounts},
      &https_port);
  ASSERT_GT(https_port, 0);
  // A second one, plain HTTP on loopback (dev mode), whose node is down.
  const std::string dead_dir = testing::MakeTempDir("browser-dead");
  int http_port = 0;
  std::unique_ptr<BackgroundProcess> dead = StartDashboard(
      dead_dir,
      {"--node", absl::StrCat("127.0.0.1:", testing::PickFreePort()),
       "--node-region", kCusco, "--ca", DevPki::Get().TrustBundle(), "--cert",
       dashboard_identity.cert_file, "--key", dashboard_identity.key_file,
       "--listen", "127.0.0.1:0", "--insecure-dev-http", "--accounts", accounts,
       "--rpc-timeout-seconds", "2"},
      &http_port);
  ASSERT_GT(http_port, 0);

  // What the script expects, from what was seeded.
  std::vector<std::string> stage_labels;
  for (int s = v1::Stage_MIN + 1; s <= v1::Stage_MAX; ++s) {
    if (!v1::Stage_IsValid(s)) continue;
    const std::string name = ShortStage(static_cast<v1::Stage>(s));
    stage_labels.push_back(
        absl::StrCat(JsonString(name), ":", JsonString(web::ValueLabel(name))));
  }
  std::vector<std::string> seeded_json;
  for (const auto& [region, stages] : seeded) {
    std::vector<std::string> counts;
    for (const auto& [stage, count] : stages) {
      counts.push_back(absl::StrCat(JsonString(stage), ":", count));
    }
    seeded_json.push_back(absl::StrCat(JsonString(region), ":{",
                                       absl::StrJoin(counts, ","), "}"));
  }
  const std::string output_dir = RUTA_BROWSER_OUTPUT_DIR;
  const std::string expected = absl::StrCat(
      "{\"url\":", JsonString(absl::StrCat("https://127.0.0.1:", https_port)),
      ",\"unreachableUrl\":",
      JsonString(absl::StrCat("http://127.0.0.1:", http_port)),
      ",\"chromium\":", JsonString(chromium), ",\"user\":", JsonString(user),
      ",\"password\":", JsonString(password),
      ",\"screenshot\":", JsonString(output_dir + "/dashboard.png"),
      ",\"downloads\":", JsonString(dir + "/downloads"),
      ",\"table\":", JsonString(kTable), ",\"threshold\":", kThreshold,
      ",\"quarter\":", JsonString(quarter),
      ",\"peerPid\":", mdd->process->pid(), ",\"regions\":{",
      JsonString(kCusco), ":", JsonString(web::RegionName(kCusco)), ",",
      JsonString(kMdd), ":", JsonString(web::RegionName(kMdd)),
      "},\"stageLabels\":{", absl::StrJoin(stage_labels, ","), "},\"seeded\":{",
      absl::StrJoin(seeded_json, ","), "}}");
  const std::string expected_file = dir + "/expected.json";
  std::ofstream(expected_file) << expected;

  const absl::Time start = absl::Now();
  testing::ProcessResult run = testing::RunProcess(
      {"/usr/bin/env", "node",
       std::string(RUTA_BROWSER_SCRIPT_DIR) + "/dashboard.spec.mjs",
       expected_file},
      absl::Seconds(180));
  std::printf("%s", run.out.c_str());
  std::fprintf(stderr, "%s", run.err.c_str());
  Say(absl::StrCat("browser script took ",
                   absl::FormatDuration(absl::Now() - start)));
  EXPECT_FALSE(run.timed_out) << "the browser script timed out";
  EXPECT_EQ(run.exit_code, 0) << "the browser script failed (output above)";

  // Graceful stop on SIGTERM.
  EXPECT_EQ(dashboard->Stop(SIGTERM, absl::Seconds(10)), 0)
      << dashboard->Stderr();
  EXPECT_EQ(dead->Stop(SIGTERM, absl::Seconds(10)), 0) << dead->Stderr();
  // Neither log holds the password or a session token.
  for (const BackgroundProcess* p : {dashboard.get(), dead.get()}) {
    EXPECT_EQ(p->Stderr().find(password), std::string::npos);
    EXPECT_EQ(p->Stdout().find(password), std::string::npos);
  }
  cusco->process->Stop(SIGTERM, absl::Seconds(10));
  mdd->process->Stop(SIGTERM, absl::Seconds(10));
}

}  // namespace
}  // namespace ruta
