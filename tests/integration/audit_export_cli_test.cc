// `ruta admin audit export` (the real ruta binary) against one in-process
// node of Cusco, over real mutual TLS: two offices call the node as clerks
// (x-ruta-clerk metadata, as the office console sends it), then an operator
// reads what each clerk did: the clerk, principal and method filters, the
// table's columns, JSON lines, --cursor resuming after a record, --limit,
// and the exit codes of a refused certificate, an unreachable node and a
// malformed flag. Also: `ruta transfer watch` and `ruta partner watch`, which
// read their streams through the same helper, still open them and stop
// cleanly on SIGINT.
#include <signal.h>

#include <algorithm>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "ruta/testing/node.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/subprocess.h"
#include "ruta/v1/admin.grpc.pb.h"
#include "ruta/v1/case_office.grpc.pb.h"

namespace ruta {
namespace {

using testing::BackgroundProcess;
using testing::DevPki;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::InProcessNode;
using testing::KeyPair;
using ::testing::Not;
using testing::ProcessResult;

// Exit codes of the ruta CLI (clients/cli/README.md).
constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitPermission = 6;
constexpr int kExitUnavailable = 7;

constexpr char kRegion[] = "cusco";
constexpr char kMainOffice[] = "main-office";
constexpr char kSecondOffice[] = "second-office";
// A well-formed case id that no case has: GetCase answers NOT_FOUND and the
// record names it.
constexpr char kMissingCase[] = "cs_qwertyuiopasdfghjklz";

std::string Spiffe(const std::string& office) {
  return absl::StrCat("spiffe://", kRegion, ".ruta.pe/office/", office);
}

// One row of the table, its columns split on the padding (no value holds a
// space).
std::vector<std::string> Columns(const std::string& line) {
  return absl::StrSplit(line, ' ', absl::SkipEmpty());
}

// The lines of `text`, without the empty last one.
std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

// The --cursor named by the last line on stderr, or "" (a test failure).
std::string ResumeCursor(const ProcessResult& result) {
  const std::vector<std::string> lines = Lines(result.err);
  std::smatch match;
  if (lines.empty() ||
      !std::regex_search(lines.back(), match,
                         std::regex("--cursor ([A-Za-z0-9_-]+)$"))) {
    ADD_FAILURE() << "the last line on stderr names no --cursor:\n"
                  << result.err;
    return "";
  }
  return match.str(1);
}

class AuditExportCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::NodeSetup setup;
    setup.region = kRegion;
    node_ = InProcessNode::Start(setup).release();
    ASSERT_NE(node_, nullptr);
  }
  static void TearDownTestSuite() {
    delete node_;
    node_ = nullptr;
  }

  static KeyPair AdminKey() {
    return DevPki::Get().Leaf(kRegion, "admin", "operator");
  }
  static KeyPair OfficeKey(const std::string& office) {
    return DevPki::Get().Leaf(kRegion, "office", office);
  }

  // A context with a deadline and the clerk header.
  static std::unique_ptr<grpc::ClientContext> AsClerk(
      const std::string& clerk) {
    auto context = testing::ContextWithDeadline(absl::Seconds(10));
    context->AddMetadata("x-ruta-clerk", clerk);
    return context;
  }
  static std::unique_ptr<v1::CaseOffice::Stub> Office(
      const std::string& office) {
    return v1::CaseOffice::NewStub(
        testing::MakeChannel(node_->address(), OfficeKey(office), kRegion));
  }

  // The calls a clerk makes through an office application.
  static void ListCases(const std::string& office, const std::string& clerk) {
    v1::ListCasesResponse response;
    const grpc::Status status = Office(office)->ListCases(
        AsClerk(clerk).get(), v1::ListCasesRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  static void ListTransfers(const std::string& office,
                            const std::string& clerk) {
    v1::ListTransfersResponse response;
    const grpc::Status status = Office(office)->ListTransfers(
        AsClerk(clerk).get(), v1::ListTransfersRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  static void GetMissingCase(const std::string& office,
                             const std::string& clerk) {
    v1::GetCaseRequest request;
    request.set_case_id(kMissingCase);
    v1::GetCaseResponse response;
    const grpc::Status status =
        Office(office)->GetCase(AsClerk(clerk).get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
        << status.error_message();
  }

  // The node's log over gRPC (not through the CLI under test).
  static std::vector<v1::ExportAuditResponse> Log() {
    auto admin = v1::Admin::NewStub(
        testing::MakeChannel(node_->address(), AdminKey(), kRegion));
    auto context = testing::ContextWithDeadline(absl::Seconds(10));
    auto reader = admin->ExportAudit(context.get(), v1::ExportAuditRequest());
    std::vector<v1::ExportAuditResponse> records;
    v1::ExportAuditResponse record;
    while (reader->Read(&record)) records.push_back(record);
    const grpc::Status status = reader->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    return records;
  }

  // Waits until the log holds `count` records of `clerk` (a read's record
  // is committed within a second) and returns them.
  static std::vector<v1::ExportAuditResponse> WaitForClerk(
      const std::string& clerk, size_t count) {
    std::vector<v1::ExportAuditResponse> of_clerk;
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    do {
      of_clerk.clear();
      for (const v1::ExportAuditResponse& r : Log()) {
        if (r.on_behalf_of() == clerk) of_clerk.push_back(r);
      }
      if (of_clerk.size() >= count) break;
      absl::SleepFor(absl::Milliseconds(100));
    } while (absl::Now() < deadline);
    EXPECT_EQ(of_clerk.size(), count) << "records of clerk " << clerk;
    return of_clerk;
  }

  // Runs `ruta <args> admin audit export <extra>` with `identity`.
  static ProcessResult Export(const std::vector<std::string>& extra,
                              const KeyPair& identity = AdminKey(),
                              const std::string& address = "") {
    std::vector<std::string> argv = {
        testing::CliBinary(),
        "--node",
        address.empty() ? node_->address() : address,
        "--cert",
        identity.cert_file,
        "--key",
        identity.key_file,
        "--ca",
        DevPki::Get().TrustBundle(),
        "--server-region",
        kRegion,
        "--timeout",
        "10",
        "--retries",
        "0",
        "admin",
        "audit",
        "export"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return testing::RunProcess(argv, absl::Seconds(60));
  }

  // The JSON lines of `result`, each parsed strictly.
  static std::vector<v1::ExportAuditResponse> ParseJsonLines(
      const ProcessResult& result) {
    std::vector<v1::ExportAuditResponse> records;
    for (const std::string& line : Lines(result.out)) {
      v1::ExportAuditResponse record;
      const auto status =
          google::protobuf::util::JsonStringToMessage(line, &record);
      EXPECT_TRUE(status.ok()) << status.ToString() << ": " << line;
      records.push_back(record);
    }
    return records;
  }

  static InProcessNode* node_;
};
InProcessNode* AuditExportCliTest::node_ = nullptr;

TEST_F(AuditExportCliTest, ClerkFilterListsExactlyTheClerksCalls) {
  // Rosa works at both offices; Juan at the main one.
  ListCases(kMainOffice, "rosa.q");
  GetMissingCase(kMainOffice, "rosa.q");
  ListCases(kSecondOffice, "rosa.q");
  ListTransfers(kMainOffice, "juan.p");
  const std::vector<v1::ExportAuditResponse> expected =
      WaitForClerk("rosa.q", 3);
  WaitForClerk("juan.p", 1);

  const ProcessResult result = Export({"--clerk", "rosa.q"});
  ASSERT_EQ(result.exit_code, kExitOk) << result.out << result.err;
  const std::vector<std::string> lines = Lines(result.out);
  ASSERT_EQ(lines.size(), 4u) << result.out;
  EXPECT_THAT(Columns(lines[0]),
              ElementsAre("INDEX", "TIME", "PRINCIPAL", "ON_BEHALF_OF",
                          "METHOD", "CASE", "OUTCOME"));
  const std::vector<std::vector<std::string>> want = {
      {Spiffe(kMainOffice), "CaseOffice.ListCases", "-", "OK"},
      {Spiffe(kMainOffice), "CaseOffice.GetCase", kMissingCase, "NOT_FOUND"},
      {Spiffe(kSecondOffice), "CaseOffice.ListCases", "-", "OK"}};
  for (size_t i = 0; i < want.size(); ++i) {
    const std::vector<std::string> row = Columns(lines[i + 1]);
    ASSERT_EQ(row.size(), 7u) << lines[i + 1];
    EXPECT_EQ(row[0], absl::StrCat(expected[i].index())) << lines[i + 1];
    EXPECT_TRUE(std::regex_match(
        row[1], std::regex("20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5]"
                           "[0-9]:[0-6][0-9]Z")))
        << row[1];
    EXPECT_EQ(row[2], want[i][0]) << lines[i + 1];
    EXPECT_EQ(row[3], "rosa.q") << lines[i + 1];
    EXPECT_EQ(row[4], want[i][1]) << lines[i + 1];
    EXPECT_EQ(row[5], want[i][2]) << lines[i + 1];
    EXPECT_EQ(row[6], want[i][3]) << lines[i + 1];
  }
  EXPECT_THAT(result.err, HasSubstr("ruta: end of the audit log ("));
  EXPECT_FALSE(ResumeCursor(result).empty());

  // Clerk names are unique per office only: the principal tells them apart.
  const ProcessResult main_only =
      Export({"--clerk", "rosa.q", "--principal", "office/main-office"});
  ASSERT_EQ(main_only.exit_code, kExitOk) << main_only.err;
  EXPECT_EQ(Lines(main_only.out).size(), 3u) << main_only.out;
  EXPECT_THAT(main_only.out, Not(HasSubstr(Spiffe(kSecondOffice))));

  const ProcessResult gets =
      Export({"--clerk", "rosa.q", "--method", "CaseOffice.GetCase"});
  ASSERT_EQ(gets.exit_code, kExitOk) << gets.err;
  ASSERT_EQ(Lines(gets.out).size(), 2u) << gets.out;
  EXPECT_EQ(Columns(Lines(gets.out)[1])[5], kMissingCase);

  // Without filters every record is printed, "-" for calls of no clerk
  // (this operator's own exports among them, once one is committed).
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (;;) {
    const std::vector<v1::ExportAuditResponse> log = Log();
    if (std::any_of(log.begin(), log.end(),
                    [](const v1::ExportAuditResponse& r) {
                      return r.on_behalf_of().empty() &&
                             r.method() == "Admin.ExportAudit";
                    }) ||
        absl::Now() > deadline) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  const ProcessResult all = Export({});
  ASSERT_EQ(all.exit_code, kExitOk) << all.err;
  int juan = 0, no_clerk = 0;
  for (const std::string& line : Lines(all.out)) {
    const std::vector<std::string> row = Columns(line);
    ASSERT_EQ(row.size(), 7u) << line;
    if (row[3] == "juan.p") {
      ++juan;
      EXPECT_EQ(row[4], "CaseOffice.ListTransfers");
    }
    if (row[3] == "-" && row[4] == "Admin.ExportAudit") ++no_clerk;
  }
  EXPECT_EQ(juan, 1);
  EXPECT_GT(no_clerk, 0);

  // A clerk with no calls: the header only, and a note.
  const ProcessResult nobody = Export({"--clerk", "nobody"});
  ASSERT_EQ(nobody.exit_code, kExitOk) << nobody.err;
  EXPECT_EQ(Lines(nobody.out).size(), 1u) << nobody.out;
  EXPECT_THAT(nobody.err, HasSubstr("ruta: no record matched."));
}

TEST_F(AuditExportCliTest, JsonLinesParseAndTheCursorResumesAfterARecord) {
  ListCases(kMainOffice, "ana.t");
  ListTransfers(kMainOffice, "ana.t");
  GetMissingCase(kSecondOffice, "ana.t");
  const std::vector<v1::ExportAuditResponse> expected =
      WaitForClerk("ana.t", 3);

  const ProcessResult result = Export({"--output", "json", "--clerk", "ana.t"});
  ASSERT_EQ(result.exit_code, kExitOk) << result.err;
  const std::vector<v1::ExportAuditResponse> records = ParseJsonLines(result);
  ASSERT_EQ(records.size(), 3u) << result.out;
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].index(), expected[i].index());
    EXPECT_EQ(records[i].on_behalf_of(), "ana.t");
    EXPECT_EQ(records[i].method(), expected[i].method());
    EXPECT_EQ(records[i].principal(), expected[i].principal());
    EXPECT_EQ(records[i].chain_hash(), expected[i].chain_hash());
    EXPECT_EQ(records[i].chain_hash().size(), 32u);
    EXPECT_FALSE(records[i].cursor().empty());
  }
  EXPECT_EQ(records[1].method(), "CaseOffice.ListTransfers");
  EXPECT_EQ(records[2].case_id(), kMissingCase);
  EXPECT_EQ(records[2].outcome(), "NOT_FOUND");

  // After the first record: the other two.
  const ProcessResult after_first =
      Export({"--output", "json", "--clerk", "ana.t", "--cursor",
              records[0].cursor()});
  ASSERT_EQ(after_first.exit_code, kExitOk) << after_first.err;
  const std::vector<v1::ExportAuditResponse> rest = ParseJsonLines(after_first);
  ASSERT_EQ(rest.size(), 2u) << after_first.out;
  EXPECT_EQ(rest[0].index(), records[1].index());
  EXPECT_EQ(rest[1].index(), records[2].index());

  // A script continues later from the cursor the last line named: only
  // what the clerk did since.
  const std::string resume = ResumeCursor(result);
  ASSERT_FALSE(resume.empty());
  ListCases(kSecondOffice, "ana.t");
  const std::vector<v1::ExportAuditResponse> now = WaitForClerk("ana.t", 4);
  const ProcessResult later =
      Export({"--output", "json", "--clerk", "ana.t", "--cursor", resume});
  ASSERT_EQ(later.exit_code, kExitOk) << later.err;
  const std::vector<v1::ExportAuditResponse> since = ParseJsonLines(later);
  ASSERT_EQ(since.size(), 1u) << later.out;
  EXPECT_EQ(since[0].index(), now[3].index());
  EXPECT_EQ(since[0].principal(), Spiffe(kSecondOffice));
  // Nothing of the clerk after it.
  const ProcessResult none = Export(
      {"--output", "json", "--clerk", "ana.t", "--cursor", since[0].cursor()});
  ASSERT_EQ(none.exit_code, kExitOk) << none.err;
  EXPECT_EQ(none.out, "");
  EXPECT_FALSE(ResumeCursor(none).empty());
}

TEST_F(AuditExportCliTest, LimitStopsAfterThatManyRecords) {
  ListCases(kMainOffice, "limit.k");
  ListTransfers(kMainOffice, "limit.k");
  ListCases(kSecondOffice, "limit.k");
  const std::vector<v1::ExportAuditResponse> expected =
      WaitForClerk("limit.k", 3);

  const ProcessResult table = Export({"--clerk", "limit.k", "--limit", "2"});
  ASSERT_EQ(table.exit_code, kExitOk) << table.err;
  const std::vector<std::string> lines = Lines(table.out);
  ASSERT_EQ(lines.size(), 3u) << table.out;  // header and two rows
  EXPECT_EQ(Columns(lines[1])[0], absl::StrCat(expected[0].index()));
  EXPECT_EQ(Columns(lines[2])[0], absl::StrCat(expected[1].index()));
  EXPECT_THAT(table.err, HasSubstr("ruta: stopped at --limit 2"));
  // The cursor to continue from is the last record printed...
  EXPECT_EQ(ResumeCursor(table), expected[1].cursor());
  // ...so that the next export starts with the third.
  const ProcessResult rest = Export({"--output", "json", "--clerk", "limit.k",
                                     "--cursor", ResumeCursor(table)});
  ASSERT_EQ(rest.exit_code, kExitOk) << rest.err;
  const std::vector<v1::ExportAuditResponse> records = ParseJsonLines(rest);
  ASSERT_EQ(records.size(), 1u) << rest.out;
  EXPECT_EQ(records[0].index(), expected[2].index());

  const ProcessResult one =
      Export({"--output", "json", "--clerk", "limit.k", "--limit", "1"});
  ASSERT_EQ(one.exit_code, kExitOk) << one.err;
  ASSERT_EQ(ParseJsonLines(one).size(), 1u) << one.out;
}

TEST_F(AuditExportCliTest, AnOfficeCertificateIsRefusedWithExitSix) {
  const ProcessResult result =
      Export({"--clerk", "rosa.q"}, OfficeKey(kMainOffice));
  EXPECT_EQ(result.exit_code, kExitPermission) << result.out << result.err;
  EXPECT_THAT(result.err, HasSubstr("ruta: export the audit log:"));
  EXPECT_THAT(result.err,
              HasSubstr("an admin certificate of the node's region"));
  // Nothing but the header reached stdout.
  EXPECT_EQ(Lines(result.out).size(), 1u) << result.out;

  // `admin audit verify` names the same certificate.
  const KeyPair office = OfficeKey(kMainOffice);
  const ProcessResult verify =
      testing::RunProcess({testing::CliBinary(), "--node", node_->address(),
                           "--cert", office.cert_file, "--key", office.key_file,
                           "--ca", DevPki::Get().TrustBundle(), "--retries",
                           "0", "admin", "audit", "verify"},
                          absl::Seconds(60));
  EXPECT_EQ(verify.exit_code, kExitPermission) << verify.err;
  EXPECT_THAT(verify.err,
              HasSubstr("an admin certificate of the node's region"));
}

TEST_F(AuditExportCliTest, AnUnreachableNodeExitsSeven) {
  const ProcessResult result = Export(
      {}, AdminKey(), absl::StrCat("127.0.0.1:", testing::PickFreePort()));
  EXPECT_EQ(result.exit_code, kExitUnavailable) << result.out << result.err;
  EXPECT_THAT(result.err, HasSubstr("ruta: export the audit log:"));
}

TEST_F(AuditExportCliTest, MalformedFlagsExitTwoBeforeConnecting) {
  for (const std::vector<std::string>& flags :
       std::vector<std::vector<std::string>>{{"--clerk", "Rosa Q"},
                                             {"--limit", "0"},
                                             {"--limit", "1000001"},
                                             {"--method", "getcase"}}) {
    const ProcessResult result = Export(flags);
    EXPECT_EQ(result.exit_code, kExitUsage) << flags[0] << result.err;
    EXPECT_THAT(result.err, HasSubstr(flags[0])) << result.err;
    EXPECT_EQ(result.out, "");
  }
}

TEST_F(AuditExportCliTest, TheWatchesStillOpenTheirStreamAndStopOnSigint) {
  struct Watch {
    KeyPair identity;
    std::vector<std::string> command;
    std::string method;
    std::string principal;
  };
  const std::vector<Watch> watches = {
      {OfficeKey(kMainOffice),
       {"transfer", "watch"},
       "CaseOffice.WatchTransfers",
       Spiffe(kMainOffice)},
      {DevPki::Get().Partner(kRegion, "tdh"),
       {"partner", "watch"},
       "PartnerStatus.WatchReferredCases",
       absl::StrCat("spiffe://", kRegion, ".ruta.pe/partner/tdh")}};
  const std::string dir = testing::MakeTempDir("audit-export-watch");
  for (const Watch& watch : watches) {
    std::vector<std::string> argv = {testing::CliBinary(),
                                     "--node",
                                     node_->address(),
                                     "--cert",
                                     watch.identity.cert_file,
                                     "--key",
                                     watch.identity.key_file,
                                     "--ca",
                                     DevPki::Get().TrustBundle(),
                                     "--server-region",
                                     kRegion,
                                     "--retries",
                                     "0"};
    argv.insert(argv.end(), watch.command.begin(), watch.command.end());
    BackgroundProcess process(argv, dir + "/" + watch.command[0]);
    // The node records a stream's call once it admits it.
    bool recorded = false;
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!recorded && absl::Now() < deadline) {
      for (const v1::ExportAuditResponse& r : Log()) {
        if (r.method() == watch.method && r.principal() == watch.principal) {
          recorded = true;
        }
      }
      if (!recorded) absl::SleepFor(absl::Milliseconds(100));
    }
    EXPECT_TRUE(recorded) << watch.method << " was not opened:\n"
                          << process.Stderr();
    EXPECT_TRUE(process.Running()) << process.Stderr();
    EXPECT_EQ(process.Stop(SIGINT, absl::Seconds(10)), kExitOk)
        << process.Stderr();
    EXPECT_THAT(process.Stderr(), HasSubstr("watch stopped by SIGINT"));
    EXPECT_THAT(process.Stdout(), HasSubstr("CURSOR"));
  }
}

}  // namespace
}  // namespace ruta
