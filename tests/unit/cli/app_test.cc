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

// `terminal`: whether stdin counts as a terminal (prompts are answered from
// `input`).
Result RunCli(std::vector<const char*> args, std::string input = "",
              bool terminal = false) {
  args.insert(args.begin(), "ruta");
  std::istringstream in(input);
  std::ostringstream out, err;
  Io io{in, out, err, terminal,
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

// Refused locally (exit 2) with a message naming `flag`, before any
// configuration is looked at.
void ExpectRefusedNaming(std::vector<const char*> args, const char* flag) {
  Result result = RunCli(args);
  EXPECT_EQ(result.exit_code, 2) << args[1];
  EXPECT_THAT(result.err, HasSubstr(flag)) << args[1];
  EXPECT_THAT(result.err, Not(HasSubstr("configuration"))) << args[1];
  EXPECT_EQ(result.out, "");
}

constexpr const char* kTransfer = "tr_abcdefghijklmnopqrst";
constexpr const char* kCase = "cs_abcdefghijklmnopqrst";
constexpr const char* kService = "sv_abcdefghijklmnopqrst";

TEST(AppTest, EveryTransferAndServiceCommandHasHelpWithExamples) {
  for (std::vector<const char*> command :
       std::vector<std::vector<const char*>>{{"transfer", "request"},
                                             {"transfer", "get"},
                                             {"transfer", "list"},
                                             {"transfer", "watch"},
                                             {"transfer", "accept"},
                                             {"transfer", "reject"},
                                             {"transfer", "depart"},
                                             {"transfer", "receive"},
                                             {"transfer", "cancel"},
                                             {"service", "add"},
                                             {"service", "update"},
                                             {"service", "list"}}) {
    command.push_back("--help");
    Result result = RunCli(command);
    EXPECT_EQ(result.exit_code, 0) << command[0] << " " << command[1];
    EXPECT_THAT(result.out, HasSubstr("Example"))
        << command[0] << " " << command[1];
    EXPECT_THAT(result.out, HasSubstr(std::string("ruta ") + command[0] + " " +
                                      command[1]));
  }
  Result main_help = RunCli({"--help"});
  EXPECT_THAT(main_help.out, HasSubstr("transfer"));
  EXPECT_THAT(main_help.out, HasSubstr("service"));
  EXPECT_THAT(RunCli({"transfer", "--help"}).out,
              HasSubstr("requested -> accepted -> in-transit -> received"));
}

TEST(AppTest, TransferCommandsNeedASubcommandAndTheirArguments) {
  EXPECT_EQ(RunCli({"transfer"}).exit_code, 2);
  EXPECT_EQ(RunCli({"service"}).exit_code, 2);
  EXPECT_EQ(RunCli({"transfer", "accept"}).exit_code, 2);
  EXPECT_EQ(RunCli({"transfer", "request", kCase, "--to", "cusco"}).exit_code,
            2);  // --province
  EXPECT_EQ(RunCli({"transfer", "reject", kTransfer}).exit_code,
            2);  // --reason
  EXPECT_EQ(RunCli({"service", "add", kCase, "--type", "health", "--start",
                    "2026-10"})
                .exit_code,
            2);  // --status
}

TEST(AppTest, TransferArgumentsAreCheckedBeforeConnecting) {
  ExpectRefusedNaming({"transfer", "get", "tr_123"}, "TRANSFER_ID");
  ExpectRefusedNaming({"transfer", "accept", kCase}, "TRANSFER_ID");
  ExpectRefusedNaming(
      {"transfer", "request", "cs_x", "--to", "cusco", "--province", "0801"},
      "CASE_ID");
  ExpectRefusedNaming(
      {"transfer", "request", kCase, "--to", "Cusco 2", "--province", "0801"},
      "--to");
  ExpectRefusedNaming(
      {"transfer", "request", kCase, "--to", "cusco", "--province", "801"},
      "--province");
  ExpectRefusedNaming({"transfer", "request", kCase, "--to", "cusco",
                       "--province", "0801", "--service", "education"},
                      "--service");
  ExpectRefusedNaming({"transfer", "depart", kTransfer, "--on", "2026-02-30"},
                      "--on");
  ExpectRefusedNaming({"transfer", "receive", kTransfer, "--on", "02/11/2026"},
                      "--on");
  ExpectRefusedNaming({"transfer", "reject", kTransfer, "--reason", "full"},
                      "--reason");
  ExpectRefusedNaming({"transfer", "list", "--state", "pending"}, "--state");
  ExpectRefusedNaming({"transfer", "list", "--case", kTransfer}, "--case");
  ExpectRefusedNaming({"transfer", "list", "--page-size", "500"},
                      "--page-size");
  ExpectRefusedNaming({"transfer", "watch", "--cursor", "a b"}, "--cursor");
  ExpectRefusedNaming({"transfer", "cancel", kTransfer, "--request-id", "42"},
                      "--request-id");

  Result result = RunCli({"transfer", "reject", kTransfer, "--reason", "full"});
  EXPECT_THAT(result.err, HasSubstr("no-capacity, incomplete-request, "
                                    "wrong-region, risk-at-destination, "
                                    "other"));
  EXPECT_THAT(result.err, HasSubstr("see `ruta transfer reject --help`"));
}

TEST(AppTest, ANoteOver280CharactersIsRefused) {
  const std::string long_note(281, 'x');
  for (const char* command : {"reject", "cancel"}) {
    std::vector<const char*> args = {"transfer", command, kTransfer, "--note",
                                     long_note.c_str()};
    if (std::string(command) == "reject") {
      args.push_back("--reason");
      args.push_back("other");
    }
    ExpectRefusedNaming(args, "--note");
    EXPECT_THAT(RunCli(args).err, HasSubstr("at most 280"));
  }
  const std::string note(280, 'x');
  // Accepted locally: it fails on the missing --node instead.
  Result result =
      RunCli({"transfer", "cancel", kTransfer, "--note", note.c_str()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("ruta: configuration: missing"));
}

TEST(AppTest, IncomingAndOutgoingExcludeEachOther) {
  Result result = RunCli({"transfer", "list", "--incoming", "--outgoing"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("--incoming"));
  EXPECT_THAT(result.err, HasSubstr("--outgoing"));
}

TEST(AppTest, ServiceArgumentsAreCheckedBeforeConnecting) {
  ExpectRefusedNaming({"service", "add", kService, "--type", "health",
                       "--status", "planned", "--start", "2026-10"},
                      "CASE_ID");
  ExpectRefusedNaming({"service", "add", kCase, "--type", "school", "--status",
                       "planned", "--start", "2026-10"},
                      "--type");
  ExpectRefusedNaming({"service", "add", kCase, "--type", "health", "--status",
                       "done", "--start", "2026-10"},
                      "--status");
  ExpectRefusedNaming({"service", "add", kCase, "--type", "health", "--status",
                       "planned", "--start", "10/2026"},
                      "--start");
  ExpectRefusedNaming({"service", "add", kCase, "--type", "health", "--status",
                       "planned", "--start", "2026-10", "--provider", "tdh"},
                      "--provider");
  ExpectRefusedNaming({"service", "update", "sv_1", "--status", "ongoing"},
                      "SERVICE_ID");
  ExpectRefusedNaming({"service", "update", kService, "--status", "completed",
                       "--end", "2026-13"},
                      "--end");
  ExpectRefusedNaming({"service", "update", kService, "--status", "ongoing",
                       "--end", "2026-12"},
                      "--end");
  ExpectRefusedNaming({"service", "update", kService, "--status", "ongoing",
                       "--expected-version", "-2"},
                      "--expected-version");
  ExpectRefusedNaming({"service", "list", kTransfer}, "CASE_ID");

  Result result = RunCli({"service", "add", kCase, "--type", "school",
                          "--status", "planned", "--start", "2026-10"});
  EXPECT_THAT(result.err,
              HasSubstr("education-support, vocational-training, "
                        "psychosocial, family-economic-support, health, "
                        "legal, identity-documents, residential-care"));
}

TEST(AppTest, PartnerArgumentsAreCheckedBeforeConnecting) {
  constexpr const char* kRef = "pc_abcdefghijklmnopabcdefghijklmnop";
  ExpectRefusedNaming({"partner", "status", kCase}, "PARTNER_CASE_REF");
  ExpectRefusedNaming({"partner", "cases", "--stage", "shelter"}, "--stage");
  ExpectRefusedNaming(
      {"partner", "service", kRef, kService, "--status", "completed"},
      "--end-month");
  ExpectRefusedNaming(
      {"partner", "service", kRef, "sv_1", "--status", "ongoing"},
      "SERVICE_ID");
  ExpectRefusedNaming({"partner", "watch", "--cursor", "a b"}, "--cursor");
  ExpectRefusedNaming({"case", "refer", kCase, "tdh"}, "PARTNER_ID");
  ExpectRefusedNaming({"case", "refer", "cs_1", "cusco/tdh"}, "CASE_ID");
  for (std::vector<const char*> args : std::vector<std::vector<const char*>>{
           {"partner", "cases"},
           {"partner", "status", kRef},
           {"partner", "watch"},
           {"partner", "service", kRef, kService, "--status", "completed",
            "--end-month", "2027-01"},
           {"case", "refer", kCase, "cusco/tdh", "--withdraw"}}) {
    Result result = RunCli(args);
    // Valid: it goes on to look for the node's address.
    EXPECT_THAT(result.err, HasSubstr("node")) << args[1];
    Result help = RunCli({args[0], args[1], "--help"});
    EXPECT_EQ(help.exit_code, 0) << args[1];
    EXPECT_THAT(help.out, HasSubstr("Example")) << args[1];
  }
}

TEST(AppTest, ValidTransferCommandsGoOnToTheConfiguration) {
  for (std::vector<const char*> args : std::vector<std::vector<const char*>>{
           {"transfer", "request", kCase, "--to", "madre-de-dios", "--province",
            "1701", "--service", "health,legal"},
           {"transfer", "get", kTransfer},
           {"transfer", "list", "--outgoing", "--state", "in-transit"},
           {"transfer", "accept", kTransfer},
           {"transfer", "reject", kTransfer, "--reason", "wrong-region"},
           {"transfer", "depart", kTransfer, "--on", "2026-11-02"},
           {"transfer", "receive", kTransfer},
           {"transfer", "cancel", kTransfer},
           {"transfer", "watch", "--cursor", "c42"},
           {"service", "add", kCase, "--type", "psychosocial", "--provider",
            "cusco/tdh", "--status", "ongoing", "--start", "2026-10"},
           {"service", "update", kService, "--status", "dropped", "--end",
            "2027-01", "--expected-version", "3"},
           {"service", "list", kCase, "--all"}}) {
    Result result = RunCli(args);
    EXPECT_EQ(result.exit_code, 2) << args[0] << " " << args[1];
    EXPECT_THAT(result.err, HasSubstr("ruta: configuration: missing"))
        << args[0] << " " << args[1] << ": " << result.err;
  }
}

TEST(AppTest, ActivityCommandsHaveHelpWithExamples) {
  for (std::vector<const char*> args : std::vector<std::vector<const char*>>{
           {"activity", "record", "awareness", "--help"},
           {"activity", "record", "training", "--help"},
           {"activity", "list", "--help"}}) {
    Result result = RunCli(args);
    EXPECT_EQ(result.exit_code, 0) << args[1];
    EXPECT_THAT(result.out, HasSubstr("Examples:")) << args[1];
  }
  EXPECT_THAT(RunCli({"activity", "record", "training", "--help"}).out,
              HasSubstr("community|local|regional"));
  EXPECT_EQ(RunCli({"activity"}).exit_code, 2);
  EXPECT_EQ(RunCli({"activity", "record"}).exit_code, 2);
  // Required flags.
  EXPECT_EQ(RunCli({"activity", "record", "awareness", "--province", "0812",
                    "--month", "2026-09", "--people", "120"})
                .exit_code,
            2);
}

TEST(AppTest, ActivityArgumentsAreCheckedBeforeConnecting) {
  ExpectRefusedNaming(
      {"activity", "record", "awareness", "--campaign", " ", "--province",
       "0812", "--month", "2026-09", "--people", "120"},
      "--campaign");
  ExpectRefusedNaming(
      {"activity", "record", "awareness", "--campaign", "Trata cero",
       "--province", "812", "--month", "2026-09", "--people", "120"},
      "--province");
  ExpectRefusedNaming(
      {"activity", "record", "awareness", "--campaign", "Trata cero",
       "--province", "0812", "--month", "2026-9", "--people", "120"},
      "--month");
  ExpectRefusedNaming(
      {"activity", "record", "awareness", "--campaign", "Trata cero",
       "--province", "0812", "--month", "2026-09", "--people", "0"},
      "--people");
  ExpectRefusedNaming(
      {"activity", "record", "training", "--level", "national", "--province",
       "1701", "--month", "2026-10", "--members", "15"},
      "--level");
  ExpectRefusedNaming(
      {"activity", "record", "training", "--level", "local", "--province",
       "1701", "--month", "2026-10", "--members", "2000000"},
      "--members");
  ExpectRefusedNaming(
      {"activity", "list", "--from", "2026-12", "--to", "2026-01"}, "--from");
}

TEST(AppTest, ValidActivityCommandsGoOnToTheConfiguration) {
  for (std::vector<const char*> args : std::vector<std::vector<const char*>>{
           {"activity", "record", "awareness", "--campaign",
            "No te dejes engañar", "--province", "0812", "--month", "2026-09",
            "--people", "120"},
           {"activity", "record", "training", "--level", "LOCAL", "--province",
            "1701", "--month", "2026-10", "--members", "15"},
           {"activity", "list", "--from", "2026-01", "--to", "2026-12"},
           {"activity", "list", "--all"}}) {
    Result result = RunCli(args);
    EXPECT_EQ(result.exit_code, 2) << args[1];
    EXPECT_THAT(result.err, HasSubstr("ruta: configuration: missing"))
        << args[1] << ": " << result.err;
  }
}

constexpr const char* kRef = "pr0_abcdefghijklmnopabcdefghijklmnop";
constexpr const char* kOtherRef = "pr0_ponmlkjihgfedcbaponmlkjihgfedcba";

TEST(AppTest, AdminChangesHaveHelpWithExamplesAndExitStatuses) {
  for (std::vector<const char*> command : std::vector<std::vector<const char*>>{
           {"admin", "person", "merge"},
           {"admin", "case", "erase"},
           {"admin", "linkage-key", "rotate"}}) {
    const std::string name =
        std::string(command[1]) + " " + std::string(command[2]);
    command.push_back("--help");
    Result result = RunCli(command);
    EXPECT_EQ(result.exit_code, 0) << name;
    EXPECT_THAT(result.out, HasSubstr("Examples:")) << name;
    EXPECT_THAT(result.out, HasSubstr("ruta admin " + name)) << name;
    EXPECT_THAT(result.out, HasSubstr("Exit status:")) << name;
    EXPECT_THAT(result.out, HasSubstr("--request-id")) << name;
  }
  EXPECT_THAT(RunCli({"admin", "case", "erase", "--help"}).out,
              HasSubstr("--yes"));
  const std::string admin_help = RunCli({"admin", "--help"}).out;
  EXPECT_THAT(admin_help, HasSubstr("person"));
  EXPECT_THAT(admin_help, HasSubstr("linkage-key"));
}

TEST(AppTest, AdminChangesNeedTheirArguments) {
  EXPECT_EQ(RunCli({"admin", "person"}).exit_code, 2);
  EXPECT_EQ(RunCli({"admin", "person", "merge", kRef}).exit_code, 2);
  EXPECT_EQ(
      RunCli({"admin", "person", "merge", kRef, kOtherRef, kRef}).exit_code, 2);
  EXPECT_EQ(RunCli({"admin", "case", "erase"}).exit_code, 2);
  EXPECT_EQ(RunCli({"admin", "linkage-key", "rotate"}).exit_code, 2);
  // The change is written out in full: no short forms of --yes.
  EXPECT_EQ(RunCli({"admin", "case", "erase", kCase, "-y"}).exit_code, 2);
}

TEST(AppTest, AdminArgumentsAreCheckedBeforeConnecting) {
  ExpectRefusedNaming({"admin", "person", "merge", "pr0_x", kOtherRef}, "REF");
  ExpectRefusedNaming({"admin", "person", "merge", kRef, kCase}, "OTHER_REF");
  ExpectRefusedNaming({"admin", "person", "merge", kRef, kRef},
                      "same person_ref");
  ExpectRefusedNaming({"admin", "case", "erase", kTransfer, "--yes"},
                      "CASE_ID");
  // Before the confirmation is asked for.
  ExpectRefusedNaming({"admin", "case", "erase", kCase, "--request-id", "42"},
                      "--request-id");
  EXPECT_THAT(
      RunCli({"admin", "case", "erase", kCase, "--request-id", "42"}, kCase,
             /*terminal=*/true)
          .err,
      Not(HasSubstr("Type the case id")));
  ExpectRefusedNaming({"admin", "linkage-key", "rotate", "0"}, "VERSION");
  ExpectRefusedNaming({"admin", "linkage-key", "rotate", "v2"}, "VERSION");
  ExpectRefusedNaming(
      {"admin", "linkage-key", "rotate", "2", "--request-id", "42"},
      "--request-id");
  EXPECT_THAT(RunCli({"admin", "linkage-key", "rotate", "1000"}).err,
              HasSubstr("see `ruta admin linkage-key rotate --help`"));
}

TEST(AppTest, BackupHasHelpAndChecksItsFlagsBeforeConnecting) {
  Result help = RunCli({"admin", "backup", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* text : {"Examples:", "ruta admin backup", "Exit status:",
                           "--request-id", "--deadline", "docs/backup.md"}) {
    EXPECT_THAT(help.out, HasSubstr(text));
  }
  EXPECT_THAT(RunCli({"admin", "--help"}).out, HasSubstr("backup"));
  ExpectRefusedNaming({"admin", "backup", "--deadline", "0"}, "--deadline");
  ExpectRefusedNaming({"admin", "backup", "--deadline", "3601"}, "--deadline");
  ExpectRefusedNaming({"admin", "backup", "--request-id", "42"},
                      "--request-id");
  EXPECT_EQ(RunCli({"admin", "backup", "--deadline", "soon"}).exit_code, 2);
  for (std::vector<const char*> args : std::vector<std::vector<const char*>>{
           {"admin", "backup"},
           {"admin", "backup", "--deadline", "3600", "--request-id",
            "3F2B8C1E-5A7D-4E9F-8B6A-0C1D2E3F4A5B"}}) {
    Result result = RunCli(args);
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_THAT(result.err, HasSubstr("ruta: configuration: missing"))
        << result.err;
  }
}

TEST(AppTest, AuditExportHasHelpAndChecksItsFlagsBeforeConnecting) {
  Result help = RunCli({"admin", "audit", "export", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* text :
       {"--cursor", "--clerk", "--principal", "--method", "--limit",
        "Examples:", "Exit status:", "WHOLE log", "ON_BEHALF_OF"}) {
    EXPECT_THAT(help.out, HasSubstr(text));
  }
  EXPECT_THAT(RunCli({"admin", "audit", "--help"}).out, HasSubstr("export"));
  ExpectRefusedNaming({"admin", "audit", "export", "--clerk", "Rosa"},
                      "--clerk \"Rosa\" is not a clerk name");
  ExpectRefusedNaming({"admin", "audit", "export", "--limit", "0"},
                      "--limit must be a number from 1 to 1000000");
  ExpectRefusedNaming({"admin", "audit", "export", "--limit", "1000001"},
                      "--limit");
  ExpectRefusedNaming({"admin", "audit", "export", "--method", "GetCase"},
                      "--method");
  ExpectRefusedNaming({"admin", "audit", "export", "--cursor", "a b"},
                      "--cursor");
  EXPECT_THAT(RunCli({"admin", "audit", "export", "--limit", "0"}).err,
              HasSubstr("see `ruta admin audit export --help`"));
  // Not a number: CLI11 refuses it.
  EXPECT_EQ(RunCli({"admin", "audit", "export", "--limit", "ten"}).exit_code,
            2);
  // Valid flags go on to the connection settings.
  EXPECT_THAT(RunCli({"admin", "audit", "export", "--clerk", "rosa.quispe",
                      "--limit", "5"})
                  .err,
              HasSubstr("ruta: configuration: missing"));
}

TEST(AppTest, EraseWithoutYesAndNoTerminalIsRefused) {
  Result result = RunCli({"admin", "case", "erase", kCase});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("stdin is not a terminal"));
  EXPECT_THAT(result.err, HasSubstr("add --yes"));
  EXPECT_THAT(result.err, HasSubstr("`ruta admin case erase " +
                                    std::string(kCase) + " --yes`"));
  // Refused before anything else: no prompt, no configuration looked at.
  EXPECT_THAT(result.err, Not(HasSubstr("Type the case id")));
  EXPECT_THAT(result.err, Not(HasSubstr("configuration")));
  EXPECT_EQ(result.out, "");
  // Even with the case id on stdin: only a terminal may confirm.
  result = RunCli({"admin", "case", "erase", kCase}, std::string(kCase) + "\n");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("add --yes"));
}

TEST(AppTest, EraseOnATerminalAsksForTheCaseId) {
  for (const std::string& typed :
       {std::string("yes\n"), std::string("cs_abcdefghijklmnopqrsu\n"),
        std::string("")}) {
    Result result =
        RunCli({"admin", "case", "erase", kCase}, typed, /*terminal=*/true);
    EXPECT_EQ(result.exit_code, 2) << typed;
    EXPECT_THAT(result.err, HasSubstr("Erasing case " + std::string(kCase)))
        << typed;
    EXPECT_THAT(result.err, HasSubstr("Type the case id to confirm: "))
        << typed;
    EXPECT_THAT(result.err, HasSubstr("not confirmed; nothing was erased"))
        << typed;
    EXPECT_THAT(result.err, Not(HasSubstr("configuration"))) << typed;
  }
  // Confirmed: it goes on to the configuration (here missing).
  Result result = RunCli({"admin", "case", "erase", kCase},
                         std::string(kCase) + "\n", /*terminal=*/true);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("Type the case id to confirm: "));
  EXPECT_THAT(result.err, Not(HasSubstr("not confirmed")));
  EXPECT_THAT(result.err, HasSubstr("ruta: configuration: missing"));
  // --yes asks nothing.
  result = RunCli({"admin", "case", "erase", kCase, "--yes"}, "",
                  /*terminal=*/true);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, Not(HasSubstr("Type the case id")));
  EXPECT_THAT(result.err, HasSubstr("ruta: configuration: missing"));
}

TEST(AppTest, ValidAdminChangesGoOnToTheConfiguration) {
  for (std::vector<const char*> args : std::vector<std::vector<const char*>>{
           {"admin", "person", "merge", kRef, kOtherRef},
           {"admin", "person", "merge", kOtherRef, kRef, "--request-id",
            "3F2B8C1E-5A7D-4E9F-8B6A-0C1D2E3F4A5B"},
           {"admin", "case", "erase", kCase, "--yes"},
           {"admin", "linkage-key", "rotate", "2"},
           {"--output", "json", "admin", "linkage-key", "rotate", "999"}}) {
    Result result = RunCli(args);
    EXPECT_EQ(result.exit_code, 2) << args[1] << " " << args[2];
    EXPECT_THAT(result.err, HasSubstr("ruta: configuration: missing"))
        << args[1] << " " << args[2] << ": " << result.err;
  }
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

TEST(ErrorsTest, HintsNameTheRecordsOwnCommandAndWhoMayChangeIt) {
  CallContext context;
  const grpc::Status precondition(grpc::StatusCode::FAILED_PRECONDITION,
                                  "the transfer is in-transit");
  const grpc::Status denied(grpc::StatusCode::PERMISSION_DENIED, "denied");
  EXPECT_THAT(RpcErrorHint(precondition, context),
              HasSubstr("`ruta case get CASE_ID`"));
  EXPECT_THAT(RpcErrorHint(denied, context),
              HasSubstr("the region that owns the record"));
  context.record = {"ruta transfer get tr_abcdefghijklmnopqrst",
                    "an office certificate of the receiving region"};
  EXPECT_THAT(RpcErrorHint(precondition, context),
              HasSubstr("see it with `ruta transfer get "
                        "tr_abcdefghijklmnopqrst`."));
  EXPECT_THAT(
      RpcErrorHint(grpc::Status(grpc::StatusCode::ABORTED, "version"), context),
      HasSubstr("`ruta transfer get tr_abcdefghijklmnopqrst` and retry"));
  EXPECT_THAT(RpcErrorHint(denied, context),
              HasSubstr("it must be an office certificate of the receiving "
                        "region."));
}

TEST(ErrorsTest, CallsMayReplaceTheNotFoundAndPreconditionHints) {
  CallContext context;
  context.record.not_found = "find the refs with `ruta person find`.";
  context.record.failed_precondition = "install the key first.";
  EXPECT_EQ(RpcErrorHint(grpc::Status(grpc::StatusCode::NOT_FOUND, "no case"),
                         context),
            "hint: find the refs with `ruta person find`.");
  EXPECT_EQ(RpcErrorHint(
                grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "no key"),
                context),
            "hint: install the key first.");
  // ABORTED keeps its own hint.
  EXPECT_THAT(
      RpcErrorHint(grpc::Status(grpc::StatusCode::ABORTED, "version"), context),
      HasSubstr("--expected-version"));
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
