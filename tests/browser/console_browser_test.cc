// The office console in a real browser. Two real ruta-node processes (Cusco
// and Madre de Dios, peers of each other); one ruta-console per region over
// HTTPS, each with its office's certificate from the dev PKI and an accounts
// file of two clerks made with its own CLI (one clerk of Madre de Dios then
// disabled); a third console of Madre de Dios whose sessions end after 2 s
// idle. console.spec.mjs then drives headless Chromium through
// playwright-core: login (wrong password, disabled account, cookie flags),
// intake of a child with canary identifiers, stage buttons, a transfer
// requested with a double click and two parallel posts of the same form (one
// transfer), its acceptance, departure and arrival across both consoles, a
// service seen by the sending region, CSRF, session expiry and an unreachable
// node keeping what the clerk typed, screenshots, no CSP violation and no
// request off loopback.
//
// Afterwards: the node holds exactly one transfer for the case, Madre de
// Dios' audit names the clerk who opened the case and requested the
// transfer, and the canary identifiers are in no byte the consoles or the
// nodes wrote (logs, working directories, SQLite files and WAL).
//
// Chromium, Node.js or playwright-core missing is a failure, never a skip.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "browser_support.h"
#include "gtest/gtest.h"
#include "ruta/testing/canary_scan.h"
#include "ruta/testing/node.h"
#include "ruta/testing/office_client.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/subprocess.h"
#include "ruta/v1/admin.grpc.pb.h"
#include "ruta/v1/case_office.grpc.pb.h"
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

// What the clerk types into the intake form: distinctive values searched
// for in every byte written afterwards.
constexpr char kDni[] = "73914058";
constexpr char kGivenNames[] = "Canariozeta Wilmara";
constexpr char kSurnames[] = "Quispewar Huillcaxo";
constexpr char kBirthDate[] = "2010-07-23";  // as <input type=date> posts it
constexpr char kDistrict[] = "170287";       // Manu (1702), district 87

// `ruta-console account ARGS... --accounts FILE`, with `input` on stdin.
void AccountCommand(const std::vector<std::string>& args,
                    const std::string& accounts,
                    const std::string* input = nullptr) {
  std::vector<std::string> argv = {RUTA_CONSOLE_BINARY, "account"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--accounts", accounts});
  testing::ProcessResult r =
      testing::RunProcess(argv, absl::Seconds(30), {}, input);
  EXPECT_EQ(r.exit_code, 0) << absl::StrJoin(argv, " ") << ":\n" << r.err;
}

struct Clerk {
  std::string user;
  std::string password;
};

struct Console {
  std::string region;
  std::string dir;  // its working directory: logs, temporary files
  int port = 0;
  std::unique_ptr<BackgroundProcess> process;
  std::string url() const { return absl::StrCat("https://127.0.0.1:", port); }
};

// ruta-console of `region` over HTTPS with the region's office certificate,
// run from its own directory (so that any file it writes lands there).
std::unique_ptr<Console> StartConsole(
    const std::string& name, const std::string& region, const NodeProcess& node,
    const std::string& accounts, const std::string& https_cert,
    const std::string& https_key, const std::vector<std::string>& extra) {
  auto console = std::make_unique<Console>();
  console->region = region;
  console->dir = testing::MakeTempDir(absl::StrCat("console-web-", name));
  std::filesystem::create_directories(console->dir + "/tmp");
  const testing::KeyPair office = DevPki::Get().Office(region);
  std::vector<std::string> argv = {"/usr/bin/env",
                                   "-C",
                                   console->dir,
                                   "TMPDIR=" + console->dir + "/tmp",
                                   RUTA_CONSOLE_BINARY,
                                   "--region",
                                   region,
                                   "--node",
                                   node.address(),
                                   "--ca",
                                   DevPki::Get().TrustBundle(),
                                   "--cert",
                                   office.cert_file,
                                   "--key",
                                   office.key_file,
                                   "--listen",
                                   "127.0.0.1:0",
                                   "--tls-cert",
                                   https_cert,
                                   "--tls-key",
                                   https_key,
                                   "--accounts",
                                   accounts,
                                   "--port-file",
                                   console->dir + "/port"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  console->process =
      std::make_unique<BackgroundProcess>(argv, console->dir + "/console");
  console->port =
      testing::WaitForPortFile(console->dir + "/port", absl::Seconds(20));
  EXPECT_GT(console->port, 0) << "ruta-console " << name << " did not start:\n"
                              << console->process->Stderr();
  return console;
}

// The JSON string of `key` in a flat JSON object written by the script
// ("" when absent).
std::string JsonField(const std::string& json, const std::string& key) {
  const std::string needle = absl::StrCat("\"", key, "\":\"");
  const size_t at = json.find(needle);
  if (at == std::string::npos) return "";
  const size_t start = at + needle.size();
  const size_t end = json.find('"', start);
  return end == std::string::npos ? "" : json.substr(start, end - start);
}

TEST(ConsoleBrowserTest, ClerksHandOverACaseInChromium) {
  const absl::Time test_start = absl::Now();
  // What the browser needs, or a failure saying how to get it.
  std::string chromium;
  ASSERT_TRUE(browser::BrowserToolsPresent(&chromium));

  // Two nodes, peers of each other.
  const std::map<std::string, int> ports = {{kCusco, testing::PickFreePort()},
                                            {kMdd, testing::PickFreePort()}};
  ASSERT_NE(ports.at(kCusco), ports.at(kMdd));
  std::unique_ptr<NodeProcess> mdd = StartNode("console", kMdd, ports);
  std::unique_ptr<NodeProcess> cusco = StartNode("console", kCusco, ports);
  ASSERT_FALSE(HasFailure());

  // Accounts, made with the console's own CLI: two clerks per region, one
  // of Madre de Dios then disabled.
  const uint64_t salt = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  auto password = [&](const std::string& who) {
    return absl::StrCat("clave-", who, "-", salt % 100000);
  };
  const Clerk mdd_clerk{"luis.pm", password("luis")};
  const Clerk mdd_disabled{"rosa.pm", password("rosa")};
  const Clerk cusco_clerk{"ana.cusco", password("ana")};
  const Clerk cusco_other{"jorge.cusco", password("jorge")};
  const std::string shared = testing::MakeTempDir("console-shared");
  std::string https_cert, https_key;
  ASSERT_TRUE(MakeHttpsCertificate(shared, &https_cert, &https_key));
  std::map<std::string, std::string> accounts = {
      {kMdd, shared + "/accounts-mdd"}, {kCusco, shared + "/accounts-cusco"}};
  for (const auto& [region, clerks] : std::map<std::string, std::vector<Clerk>>{
           {kMdd, {mdd_clerk, mdd_disabled}},
           {kCusco, {cusco_clerk, cusco_other}}}) {
    for (const Clerk& clerk : clerks) {
      const std::string line = clerk.password + "\n";
      AccountCommand({"add", clerk.user, "--password-stdin"},
                     accounts.at(region), &line);
    }
    struct stat st;
    ASSERT_EQ(stat(accounts.at(region).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600) << accounts.at(region);
  }
  AccountCommand({"disable", mdd_disabled.user}, accounts.at(kMdd));
  ASSERT_FALSE(HasFailure());

  std::unique_ptr<Console> mdd_console = StartConsole(
      "mdd", kMdd, *mdd, accounts.at(kMdd), https_cert, https_key, {});
  std::unique_ptr<Console> cusco_console = StartConsole(
      "cusco", kCusco, *cusco, accounts.at(kCusco), https_cert, https_key, {});
  // Sessions of this one end after 2 s without use.
  std::unique_ptr<Console> short_console =
      StartConsole("mdd-short", kMdd, *mdd, accounts.at(kMdd), https_cert,
                   https_key, {"--session-idle", "2s"});
  ASSERT_FALSE(HasFailure());
  const std::vector<const Console*> consoles = {
      mdd_console.get(), cusco_console.get(), short_console.get()};

  // What the script needs.
  auto clerk_json = [](const Clerk& c) {
    return absl::StrCat("{\"user\":", JsonString(c.user),
                        ",\"password\":", JsonString(c.password), "}");
  };
  auto label = [](const std::string& enum_value) {
    return absl::StrCat(JsonString(enum_value), ":",
                        JsonString(web::ValueLabel(enum_value)));
  };
  const std::string output_dir = RUTA_BROWSER_OUTPUT_DIR;
  // The driver's own files (they hold the canaries: not scanned, but the
  // control below).
  const std::string driver_dir = testing::MakeTempDir("console-driver");
  const std::string results_file = driver_dir + "/results.json";
  const std::string config = absl::StrCat(
      "{\"chromium\":", JsonString(chromium),
      ",\"mddUrl\":", JsonString(mdd_console->url()),
      ",\"cuscoUrl\":", JsonString(cusco_console->url()),
      ",\"shortUrl\":", JsonString(short_console->url()),
      ",\"mddClerk\":", clerk_json(mdd_clerk),
      ",\"disabledClerk\":", clerk_json(mdd_disabled),
      ",\"cuscoClerk\":", clerk_json(cusco_clerk),
      ",\"cuscoNodePid\":", cusco->process->pid(),
      ",\"cuscoNodePort\":", cusco->port,
      ",\"canary\":{\"dni\":", JsonString(kDni),
      ",\"given\":", JsonString(kGivenNames),
      ",\"surnames\":", JsonString(kSurnames),
      ",\"birth\":", JsonString(kBirthDate),
      ",\"district\":", JsonString(kDistrict), "},\"labels\":{",
      absl::StrJoin(
          {label("STAGE_IDENTIFIED"), label("STAGE_IMMEDIATE_PROTECTION"),
           label("STAGE_RESIDENTIAL_CARE"), label("STAGE_TRANSFER_REQUESTED"),
           label("STAGE_IN_TRANSIT"), label("STAGE_RECEIVED"),
           label("TRANSFER_STATE_REQUESTED"), label("TRANSFER_STATE_ACCEPTED"),
           label("TRANSFER_STATE_IN_TRANSIT"),
           label("TRANSFER_STATE_RECEIVED")},
          ","),
      "},\"regionNames\":{", JsonString(kCusco), ":",
      JsonString(web::RegionName(kCusco)), ",", JsonString(kMdd), ":",
      JsonString(web::RegionName(kMdd)), "},\"screenshots\":{\"home\":",
      JsonString(output_dir + "/console-home.png"),
      ",\"intake\":", JsonString(output_dir + "/console-intake.png"),
      ",\"case\":", JsonString(output_dir + "/console-case.png"),
      "},\"results\":", JsonString(results_file), "}");
  const std::string config_file = driver_dir + "/config.json";
  std::ofstream(config_file) << config;

  const absl::Time start = absl::Now();
  testing::ProcessResult run = testing::RunProcess(
      {"/usr/bin/env", "node",
       std::string(RUTA_BROWSER_SCRIPT_DIR) + "/console.spec.mjs", config_file},
      absl::Seconds(150));
  std::printf("%s", run.out.c_str());
  std::fprintf(stderr, "%s", run.err.c_str());
  Say(absl::StrCat("browser script took ",
                   absl::FormatDuration(absl::Now() - start)));
  EXPECT_FALSE(run.timed_out) << "the browser script timed out";
  EXPECT_EQ(run.exit_code, 0) << "the browser script failed (output above)";

  // The case page for the docs, only when asked.
  const char* update = std::getenv("RUTA_UPDATE_SCREENSHOTS");
  if (update != nullptr && std::string(update) == "1") {
    const std::string docs = testing::SourceDir() + "/docs/img/console.png";
    std::error_code error;
    std::filesystem::copy_file(
        output_dir + "/console-case.png", docs,
        std::filesystem::copy_options::overwrite_existing, error);
    EXPECT_FALSE(error) << "copying the screenshot to " << docs << ": "
                        << error.message();
    if (!error) Say(absl::StrCat("screenshot copied to ", docs));
  }

  // The node holds exactly one transfer for the case, whatever the page
  // showed.
  const std::string results = testing::ReadFile(results_file);
  const std::string case_id = JsonField(results, "caseId");
  EXPECT_FALSE(case_id.empty()) << "the script wrote no case id: " << results;
  if (!case_id.empty()) {
    testing::OfficeClient office(mdd->address(), kMdd);
    office.set_attempts(3);
    v1::ListTransfersRequest request;
    request.set_case_id(case_id);
    request.set_page_size(100);
    v1::ListTransfersResponse listed;
    grpc::Status s = office.stub().ListTransfers(
        testing::ContextWithDeadline().get(), request, &listed);
    ASSERT_TRUE(s.ok()) << "ListTransfers: " << s.error_message();
    EXPECT_EQ(listed.transfers_size(), 1)
        << "Madre de Dios' node holds " << listed.transfers_size()
        << " transfers of " << case_id;
    Say(absl::StrCat("Madre de Dios' node: ", listed.transfers_size(),
                     " transfer(s) of ", case_id));
  }

  // Madre de Dios' audit names the clerk who opened the case and requested
  // the transfer (records are flushed in batches: polled).
  {
    auto admin = v1::Admin::NewStub(testing::MakeChannel(
        mdd->address(), DevPki::Get().Leaf(kMdd, "admin", "operator"), kMdd));
    std::map<std::string, int> by_method;
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      by_method.clear();
      auto context = testing::ContextWithDeadline();
      auto reader = admin->ExportAudit(context.get(), v1::ExportAuditRequest());
      v1::ExportAuditResponse record;
      while (reader->Read(&record)) {
        if (record.on_behalf_of() == mdd_clerk.user &&
            record.outcome() == "OK" &&
            (case_id.empty() || record.case_id() == case_id ||
             record.method() != "CaseOffice.OpenCase")) {
          ++by_method[record.method()];
        }
      }
      grpc::Status s = reader->Finish();
      ASSERT_TRUE(s.ok()) << "ExportAudit: " << s.error_message();
      if (by_method.count("CaseOffice.OpenCase") > 0 &&
          by_method.count("CaseOffice.RequestTransfer") > 0) {
        break;
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
    EXPECT_GT(by_method["CaseOffice.OpenCase"], 0)
        << "no OpenCase audit record on behalf of " << mdd_clerk.user;
    EXPECT_GT(by_method["CaseOffice.RequestTransfer"], 0)
        << "no RequestTransfer audit record on behalf of " << mdd_clerk.user;
    std::vector<std::string> seen;
    for (const auto& [method, count] : by_method) {
      seen.push_back(absl::StrCat(method, " ", count));
    }
    Say(absl::StrCat("audit of Madre de Dios on behalf of ", mdd_clerk.user,
                     ": ", absl::StrJoin(seen, ", ")));
  }

  // Graceful stop on SIGTERM; the nodes too (the script stopped Cusco's).
  for (const Console* c : consoles) {
    EXPECT_EQ(c->process->Stop(SIGTERM, absl::Seconds(10)), 0)
        << c->process->Stderr();
  }
  mdd->process->Stop(SIGTERM, absl::Seconds(10));
  cusco->process->Stop(SIGTERM, absl::Seconds(10));

  // No log holds a password.
  for (const Console* c : consoles) {
    for (const Clerk* clerk :
         {&mdd_clerk, &mdd_disabled, &cusco_clerk, &cusco_other}) {
      EXPECT_EQ(c->process->Stderr().find(clerk->password), std::string::npos);
      EXPECT_EQ(c->process->Stdout().find(clerk->password), std::string::npos);
    }
  }

  // The canary scan: what the clerk typed into the intake form is in no
  // byte written by the consoles (logs and working directories, which hold
  // their temporary files) or the nodes (data directories: SQLite files,
  // WAL, logs).
  testing::CanaryScan scan;
  const std::string birth_compact =
      absl::StrCat(std::string(kBirthDate).substr(0, 4),
                   std::string(kBirthDate).substr(5, 2),
                   std::string(kBirthDate).substr(8, 2));
  const std::string birth_spanish =
      absl::StrCat(std::string(kBirthDate).substr(8, 2), "/",
                   std::string(kBirthDate).substr(5, 2), "/",
                   std::string(kBirthDate).substr(0, 4));
  const std::string full_name = absl::StrCat(kGivenNames, " ", kSurnames);
  std::vector<std::string> canaries = {
      kDni,       kGivenNames,   kSurnames,     full_name,
      kBirthDate, birth_compact, birth_spanish, kDistrict};
  for (const char* names : {kGivenNames, kSurnames}) {
    for (absl::string_view word : absl::StrSplit(names, ' ')) {
      canaries.emplace_back(word);
    }
  }
  for (const std::string& canary : canaries) {
    ASSERT_TRUE(scan.AddCanary(canary).ok()) << canary;
  }
  for (const Console* c : consoles) scan.AddPath(c->dir);
  scan.AddPath(shared);
  scan.AddPath(mdd->data_dir);
  scan.AddPath(cusco->data_dir);
  const testing::CanaryScanResult scanned = scan.Run();
  Say(absl::StrCat("canary scan: ", scanned.files.size(), " files, ",
                   scanned.bytes, " bytes, ", scan.canary_count(),
                   " canaries in ", scan.form_count(),
                   " forms: ", scanned.hit_count, " hits"));
  EXPECT_TRUE(scanned.errors.empty()) << scanned.Describe();
  EXPECT_EQ(scanned.hit_count, 0u) << scanned.Describe(50);
  // Control: the same scan finds every canary in the script's
  // configuration, which holds them in clear.
  {
    testing::CanaryScan control;
    for (const std::string& canary : canaries) {
      ASSERT_TRUE(control.AddCanary(canary).ok());
    }
    control.AddPath(config_file);
    const testing::CanaryScanResult found = control.Run();
    std::set<std::string> hit;
    for (const testing::CanaryHit& h : found.hits) hit.insert(h.canary);
    // The derived forms (whole name, birth date written otherwise) are not
    // in the configuration.
    for (const std::string& canary : canaries) {
      if (canary == birth_compact || canary == birth_spanish ||
          canary == full_name) {
        continue;
      }
      EXPECT_EQ(hit.count(canary), 1u)
          << "the control scan missed " << canary << ": " << found.Describe(50);
    }
  }
  // The scan covered what it must: both nodes' databases and every
  // console's log.
  auto covered = [&](const std::string& prefix) {
    for (const auto& [file, size] : scanned.files) {
      if (file.rfind(prefix, 0) == 0 && size > 0) return true;
    }
    return false;
  };
  for (const NodeProcess* node : {mdd.get(), cusco.get()}) {
    EXPECT_TRUE(covered(node->data_dir + "/" + node->region + ".db"))
        << "the scan missed " << node->region << "'s database";
    EXPECT_TRUE(covered(node->data_dir + "/node."))
        << "the scan missed " << node->region << "'s log";
  }
  for (const Console* c : consoles) {
    EXPECT_TRUE(covered(c->dir + "/console.")) << "the scan missed " << c->dir;
  }
  Say(absl::StrCat("test took ",
                   absl::FormatDuration(absl::Now() - test_start)));
}

}  // namespace
}  // namespace ruta
