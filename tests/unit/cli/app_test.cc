// The command line end to end, up to (not including) the call to a node.
#include "ruta/cli/app.h"

#include <sstream>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/cli/case_requests.h"
#include "ruta/cli/errors.h"

namespace ruta::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Result {
  int exit_code;
  std::string out;
  std::string err;
};

Result RunCli(std::vector<const char*> args, std::string input = "") {
  args.insert(args.begin(), "ruta");
  std::istringstream in(input);
  std::ostringstream out, err;
  Io io{in, out, err, false,
        [](const std::string&) -> std::optional<std::string> {
          return std::nullopt;
        }};
  const int code = Run(static_cast<int>(args.size()), args.data(), io);
  return {code, out.str(), err.str()};
}

TEST(AppTest, HelpDocumentsExitCodesAndSettings) {
  Result result = RunCli({"--help"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.out, HasSubstr("Exit codes:"));
  EXPECT_THAT(result.out, HasSubstr("7  node unavailable"));
  EXPECT_THAT(result.out, HasSubstr("RUTA_NODE"));
  EXPECT_THAT(result.out, HasSubstr("--server-region"));
}

TEST(AppTest, SubcommandHelpHasExamples) {
  Result result = RunCli({"case", "open", "--help"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.out, HasSubstr("--identifiers-file"));
  EXPECT_THAT(result.out, HasSubstr("Examples:"));
  EXPECT_THAT(result.out, Not(HasSubstr("--dni")));
}

TEST(AppTest, NoCommandIsAUsageError) {
  EXPECT_EQ(RunCli({}).exit_code, 2);
  EXPECT_EQ(RunCli({"case"}).exit_code, 2);
  EXPECT_EQ(RunCli({"case", "frobnicate"}).exit_code, 2);
}

TEST(AppTest, MissingNodeNamesFlagEnvironmentAndKey) {
  Result result = RunCli({"case", "get", "cs_abcdefghijklmnopqrst"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("ruta: configuration: missing"));
  EXPECT_THAT(result.err, HasSubstr("--node HOST:PORT"));
  EXPECT_THAT(result.err, HasSubstr("RUTA_NODE"));
  EXPECT_THAT(result.err, HasSubstr("\"node\""));
}

TEST(AppTest, IdentifiersAreNotFlags) {
  Result result = RunCli({"case", "open", "--dni", "01234567"});
  EXPECT_EQ(result.exit_code, 2);
}

TEST(AppTest, InvalidEnumIsRejectedBeforeConnecting) {
  Result result = RunCli({"case",
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
                          "brothel",
                          "--recruitment",
                          "family",
                          "--identified-month",
                          "2026-10",
                          "--legal-basis",
                          "prosecutor-order"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("--setting"));
  EXPECT_THAT(result.err, HasSubstr("mining-camp, bar, lodging"));
  EXPECT_THAT(result.err, Not(HasSubstr("configuration")));
}

TEST(AppTest, GlobalOptionsAfterTheCommand) {
  Result result = RunCli({"case", "list", "--node", "bad", "--cert", "c",
                          "--key", "k", "--ca", "a"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("invalid node address"));
}

TEST(AppTest, StageClosedPointsToClose) {
  Result result =
      RunCli({"case", "stage", "cs_abcdefghijklmnopqrst", "closed"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("ruta case close"));
}

TEST(AppTest, BadRequestId) {
  Result result = RunCli({"case", "close", "cs_abcdefghijklmnopqrst",
                          "--reason", "reintegrated", "--request-id", "1"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("--request-id"));
}

TEST(AppTest, PersonFindNeedsIdentifiers) {
  Result result = RunCli({"person", "find"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("--identifiers-file"));
}

TEST(CaseRequestsTest, OpenCase) {
  OpenCaseFlags flags;
  flags.kind = "victim";
  flags.stage = "detected";
  flags.age_band = "18+";
  flags.sex = "other";
  flags.origin_province = "0812";
  flags.exploitation = {"sexual,forced-begging"};
  flags.setting = "online";
  flags.recruitment = "internet";
  flags.identified_month = "2026-10";
  flags.legal_basis = "written-consent";
  flags.consent_partner_sharing = true;
  absl::StatusOr<ruta::v1::OpenCaseRequest> request =
      BuildOpenCaseRequest(flags);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->initial_stage(), ruta::v1::STAGE_DETECTED);
  EXPECT_EQ(request->profile().age_band(), ruta::v1::AGE_BAND_18_PLUS);
  EXPECT_EQ(request->profile().exploitation_forms_size(), 2);
  EXPECT_EQ(request->profile().identified_month().month(), 10);
  EXPECT_TRUE(request->consent_partner_sharing());

  flags.exploitation.clear();
  EXPECT_THAT(BuildOpenCaseRequest(flags).status().message(),
              HasSubstr("--exploitation is required for --kind victim"));
  flags.kind = "prevention";
  flags.stage = "identified";
  EXPECT_TRUE(BuildOpenCaseRequest(flags).ok());
  flags.stage = "follow-up";
  EXPECT_FALSE(BuildOpenCaseRequest(flags).ok());
  flags.stage = "identified";
  flags.identified_month = "2026-13";
  EXPECT_FALSE(BuildOpenCaseRequest(flags).ok());
  flags.identified_month = "2026-10";
  flags.origin_province = "081201";
  EXPECT_FALSE(BuildOpenCaseRequest(flags).ok());
}

TEST(CaseRequestsTest, Ids) {
  EXPECT_TRUE(ValidateCaseId("CASE_ID", "cs_abcdefghijklmnopqrst").ok());
  EXPECT_FALSE(ValidateCaseId("CASE_ID", "cs_abc").ok());
  EXPECT_FALSE(ValidateCaseId("CASE_ID", "01234567").ok());
  EXPECT_TRUE(
      ValidatePersonRef("--person-ref", "pr1_abcdefghijklmnopabcdefghijklmnop")
          .ok());
  EXPECT_FALSE(
      ValidatePersonRef("--person-ref", "pr_abcdefghijklmnopabcdefghijklmnop")
          .ok());
  EXPECT_FALSE(
      ValidatePersonRef("--person-ref", "pr1_abcdefghijklmnopabcdefghijklmnoz")
          .ok());
}

TEST(ErrorsTest, TlsRefusalHint) {
  CallContext context;
  context.node = "localhost:7443";
  for (const char* message :
       {"failed to connect to all addresses; last error: UNKNOWN: "
        "ipv4:127.0.0.1:7443: Socket closed",
        "Ssl handshake failed: SSL_ERROR_SSL"}) {
    const std::string hint = RpcErrorHint(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, message), context);
    EXPECT_THAT(hint, HasSubstr("--cert and --key are a pair")) << message;
    EXPECT_THAT(hint, HasSubstr("region's CA"));
    EXPECT_THAT(hint, HasSubstr("revoked or expired"));
    EXPECT_THAT(hint, HasSubstr("--ca holds the root CA"));
    EXPECT_THAT(hint, HasSubstr("--node"));
  }
  EXPECT_THAT(RpcErrorHint(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                        "failed to connect to all addresses; "
                                        "last error: Connection refused"),
                           context),
              HasSubstr("nothing accepts connections"));
}

TEST(ErrorsTest, ReportNamesTheRequestIdWhenTheOutcomeIsUnknown) {
  CallContext context;
  context.node = "n:1";
  context.request_id = "3f2b8c1e-5a7d-4e9f-8b6a-0c1d2e3f4a5b";
  std::ostringstream err;
  EXPECT_EQ(ReportRpcError(err, "open case",
                           grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                        "Deadline Exceeded"),
                           context),
            7);
  EXPECT_THAT(err.str(), HasSubstr("ruta: open case: Deadline Exceeded\n"));
  EXPECT_THAT(err.str(),
              HasSubstr("--request-id 3f2b8c1e-5a7d-4e9f-8b6a-0c1d2e3f4a5b"));
  std::ostringstream err2;
  EXPECT_EQ(ReportRpcError(err2, "open case",
                           grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                        "origin_province: unknown"),
                           context),
            5);
  EXPECT_THAT(err2.str(), Not(HasSubstr("--request-id")));
}

}  // namespace
}  // namespace ruta::cli
