// The operator's privacy commands (`ruta admin person merge`, `ruta admin
// case erase`, `ruta admin linkage-key rotate`) against one real ruta-node
// process of Madre de Dios, with real certificates, driven through the ruta
// CLI with an office and an admin config file.
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/testing/node.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/subprocess.h"

namespace ruta {
namespace {

using testing::BackgroundProcess;
using testing::DevPki;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using testing::ProcessResult;

// Exit codes of the ruta CLI (clients/cli/README.md).
constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitNotFound = 3;
constexpr int kExitFailedPrecondition = 4;
constexpr int kExitPermission = 6;

constexpr char kRegion[] = "madre-de-dios";

class PrivacyCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // A private copy of the dev PKI, whose linkage key file
    // RotationNeedsTheKeyInTheKeyFile may change.
    pki_ = DevPki::Get().Copy().release();
    data_dir_ = new std::string(testing::MakeTempDir("privacy-cli"));
    testing::NodeSetup setup;
    setup.region = kRegion;
    setup.data_dir = *data_dir_;
    setup.pki = pki_;
    // A peer that never answers: transfers to it stay requested (and the
    // audit verification lists it as unreachable, which does not fail it).
    setup.peers = {
        {"cusco", absl::StrCat("127.0.0.1:", testing::PickFreePort())}};
    setup.relay_initial_backoff_ms = 200;
    setup.relay_max_backoff_ms = 1000;
    const std::string config = testing::WriteNodeConfig(*pki_, setup);
    node_ = new BackgroundProcess({testing::NodeBinary(), "--config", config},
                                  *data_dir_ + "/node");
    const int port =
        testing::WaitForPortFile(*data_dir_ + "/port", absl::Seconds(20));
    ASSERT_GT(port, 0) << "the node did not start:\n" << node_->Stderr();
    const std::string address = absl::StrCat("127.0.0.1:", port);
    office_config_ = new std::string(
        WriteCliConfig("office.json", address, pki_->Office(kRegion)));
    admin_config_ = new std::string(WriteCliConfig(
        "admin.json", address, pki_->Leaf(kRegion, "admin", "operator")));
  }

  static void TearDownTestSuite() {
    if (node_ != nullptr) node_->Stop(SIGTERM, absl::Seconds(20));
    delete node_;
    delete office_config_;
    delete admin_config_;
    delete data_dir_;
    delete pki_;
  }

  // A ruta config file (as an operator keeps one) for `identity`.
  static std::string WriteCliConfig(const std::string& name,
                                    const std::string& address,
                                    const testing::KeyPair& identity) {
    const std::string path = *data_dir_ + "/" + name;
    std::ofstream(path) << "{\"node\": \"" << address << "\", \"cert\": \""
                        << identity.cert_file << "\", \"key\": \""
                        << identity.key_file << "\", \"ca\": \""
                        << pki_->TrustBundle() << "\", \"server_region\": \""
                        << kRegion << "\", \"timeout_seconds\": 10}\n";
    return path;
  }

  static ProcessResult Run(const std::string& config,
                           const std::vector<std::string>& args,
                           const std::string* input) {
    std::vector<std::string> argv = {testing::CliBinary(), "--config", config,
                                     "--retries", "0"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::RunProcess(argv, absl::Seconds(60), {}, input);
  }
  static ProcessResult Office(const std::vector<std::string>& args,
                              const std::string* input = nullptr) {
    return Run(*office_config_, args, input);
  }
  static ProcessResult Admin(const std::vector<std::string>& args) {
    return Run(*admin_config_, args, nullptr);
  }

  // Opens a victim case; without `identifiers_json` (stdin not a terminal)
  // it gets a random, unlinked ref "pr0_...". Returns its case_id.
  static std::string OpenCase(const std::string* identifiers_json = nullptr) {
    std::vector<std::string> args = {"case",
                                     "open",
                                     "--kind",
                                     "victim",
                                     "--stage",
                                     "identified",
                                     "--age-band",
                                     "12-14",
                                     "--sex",
                                     "male",
                                     "--origin-province",
                                     "1701",
                                     "--exploitation",
                                     "labour",
                                     "--setting",
                                     "mining-camp",
                                     "--recruitment",
                                     "false-job-offer",
                                     "--identified-month",
                                     "2026-09",
                                     "--legal-basis",
                                     "upe-protective-measure"};
    if (identifiers_json != nullptr) {
      args.push_back("--identifiers-file");
      args.push_back("-");
    }
    const ProcessResult result = Office(args, identifiers_json);
    EXPECT_EQ(result.exit_code, kExitOk) << result.err;
    return Find(result.out, "(cs_[a-z]{20})");
  }

  // The person_ref `ruta case get --output json` shows for `case_id`.
  static std::string PersonRefOf(const std::string& case_id) {
    const ProcessResult result =
        Office({"--output", "json", "case", "get", case_id});
    EXPECT_EQ(result.exit_code, kExitOk) << result.err;
    return Find(result.out, "\"person_ref\": \"(pr[0-9]+_[a-p]{32})\"");
  }

  // Group `group` of the first match of `pattern` in `text`, or "" (a test
  // failure).
  static std::string Find(const std::string& text, const std::string& pattern,
                          int group = 1) {
    std::smatch match;
    if (!std::regex_search(text, match, std::regex(pattern))) {
      ADD_FAILURE() << "no " << pattern << " in: " << text;
      return "";
    }
    return match.str(group);
  }

  // `ruta admin audit verify` says ok: the calls above (refused ones
  // included) left the chain intact.
  static void ExpectAuditOk() {
    const ProcessResult result = Admin({"admin", "audit", "verify"});
    EXPECT_EQ(result.exit_code, kExitOk) << result.out << result.err;
    EXPECT_EQ(Find(result.out, "(^|\n)ok +([a-zA-Z]+)\n", 2), "yes");
  }

  static DevPki* pki_;
  static std::string* data_dir_;
  static BackgroundProcess* node_;
  static std::string* office_config_;
  static std::string* admin_config_;
};
DevPki* PrivacyCliTest::pki_ = nullptr;
std::string* PrivacyCliTest::data_dir_ = nullptr;
BackgroundProcess* PrivacyCliTest::node_ = nullptr;
std::string* PrivacyCliTest::office_config_ = nullptr;
std::string* PrivacyCliTest::admin_config_ = nullptr;

TEST_F(PrivacyCliTest, MergeGivesTwoCasesOfOneChildTheSameRef) {
  const std::string first = OpenCase();
  const std::string second = OpenCase();
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());
  const std::string first_ref = PersonRefOf(first);
  const std::string second_ref = PersonRefOf(second);
  ASSERT_THAT(first_ref, MatchesRegex("pr0_[a-p]{32}"));
  ASSERT_THAT(second_ref, MatchesRegex("pr0_[a-p]{32}"));
  ASSERT_NE(first_ref, second_ref);

  ProcessResult result =
      Admin({"admin", "person", "merge", first_ref, second_ref});
  ASSERT_EQ(result.exit_code, kExitOk) << result.err;
  // Same key version: the first in alphabetical order survives.
  const std::string kept = std::min(first_ref, second_ref);
  EXPECT_EQ(Find(result.out, "person_ref +(pr0_[a-p]{32})\n"), kept);
  EXPECT_EQ(Find(result.out, "cases_changed +([0-9]+)\n"), "1");
  EXPECT_EQ(PersonRefOf(first), kept);
  EXPECT_EQ(PersonRefOf(second), kept);

  // Given the other way round, and once already one: nothing changes.
  result = Admin(
      {"--output", "json", "admin", "person", "merge", second_ref, first_ref});
  ASSERT_EQ(result.exit_code, kExitOk) << result.err;
  EXPECT_THAT(result.out, HasSubstr("\"person_ref\": \"" + kept + "\""));
  EXPECT_THAT(result.out, HasSubstr("\"cases_changed\": \"0\""));

  // A ref no case of the region carries.
  const std::string unknown = "pr0_" + std::string(32, 'a');
  result = Admin({"admin", "person", "merge", kept, unknown});
  EXPECT_EQ(result.exit_code, kExitNotFound) << result.err;
  EXPECT_THAT(result.err, HasSubstr(unknown));
  EXPECT_THAT(result.err,
              HasSubstr("find the refs with `ruta person find` or `ruta case "
                        "get`"));
  ExpectAuditOk();
}

TEST_F(PrivacyCliTest, EraseWithYesRemovesTheCase) {
  const std::string case_id = OpenCase();
  ASSERT_FALSE(case_id.empty());

  // Not a terminal and no --yes: refused before anything is sent.
  const std::string typed = case_id + "\n";
  ProcessResult result =
      Run(*admin_config_, {"admin", "case", "erase", case_id}, &typed);
  EXPECT_EQ(result.exit_code, kExitUsage) << result.err;
  EXPECT_THAT(result.err, HasSubstr("--yes"));
  EXPECT_EQ(Office({"case", "get", case_id}).exit_code, kExitOk);

  // An office may not erase.
  result = Office({"admin", "case", "erase", case_id, "--yes"});
  EXPECT_EQ(result.exit_code, kExitPermission) << result.err;
  EXPECT_THAT(result.err, HasSubstr("an admin certificate of the node's "
                                    "region"));
  EXPECT_EQ(Office({"case", "get", case_id}).exit_code, kExitOk);

  const std::string request_id = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
  result = Admin(
      {"admin", "case", "erase", case_id, "--yes", "--request-id", request_id});
  ASSERT_EQ(result.exit_code, kExitOk) << result.err;
  EXPECT_THAT(result.out, HasSubstr(case_id));
  EXPECT_EQ(Find(result.out, "erased +([a-z]+)\n"), "yes");
  // A retry under the same request_id gets the first answer.
  result = Admin({"--output", "json", "admin", "case", "erase", case_id,
                  "--yes", "--request-id", request_id});
  EXPECT_EQ(result.exit_code, kExitOk) << result.err;
  EXPECT_THAT(result.out, HasSubstr("\"erased\": true"));

  result = Office({"--output", "json", "case", "get", case_id});
  EXPECT_EQ(result.exit_code, kExitNotFound) << result.out << result.err;
  EXPECT_THAT(result.out, Not(HasSubstr(case_id)));
  // A new request is a second erasure, of a case that is gone.
  result = Admin({"admin", "case", "erase", case_id, "--yes"});
  EXPECT_EQ(result.exit_code, kExitNotFound) << result.err;
  EXPECT_THAT(result.err, HasSubstr("already erased"));
  ExpectAuditOk();
}

TEST_F(PrivacyCliTest, EraseWaitsForTheOpenTransfer) {
  const std::string case_id = OpenCase();
  ASSERT_FALSE(case_id.empty());
  for (const char* stage : {"immediate-protection", "residential-care"}) {
    ASSERT_EQ(Office({"case", "stage", case_id, stage}).exit_code, kExitOk);
  }
  ProcessResult result = Office(
      {"transfer", "request", case_id, "--to", "cusco", "--province", "0801"});
  ASSERT_EQ(result.exit_code, kExitOk) << result.err;
  const std::string transfer_id = Find(result.out, "(tr_[a-z]{20})");

  result = Admin({"admin", "case", "erase", case_id, "--yes"});
  EXPECT_EQ(result.exit_code, kExitFailedPrecondition) << result.err;
  // The node's reason, and what to do.
  EXPECT_THAT(result.err, HasSubstr("has transfer " + transfer_id));
  EXPECT_THAT(result.err, HasSubstr("ruta transfer list --case " + case_id));
  EXPECT_EQ(Office({"case", "get", case_id}).exit_code, kExitOk);

  ASSERT_EQ(Office({"transfer", "cancel", transfer_id}).exit_code, kExitOk);
  result = Admin({"admin", "case", "erase", case_id, "--yes"});
  EXPECT_EQ(result.exit_code, kExitOk) << result.err;
  EXPECT_EQ(Office({"case", "get", case_id}).exit_code, kExitNotFound);
  ExpectAuditOk();
}

TEST_F(PrivacyCliTest, RotationNeedsTheKeyInTheKeyFile) {
  // A case linked under key version 1 (the dev PKI's only one so far).
  const std::string identifiers = R"({"dni": "70112233"})";
  const std::string linked = OpenCase(&identifiers);
  ASSERT_THAT(PersonRefOf(linked), MatchesRegex("pr1_[a-p]{32}"));

  ProcessResult result = Admin({"admin", "linkage-key", "rotate", "2"});
  EXPECT_EQ(result.exit_code, kExitFailedPrecondition) << result.err;
  EXPECT_THAT(result.err,
              HasSubstr("linkage key version 2 is not in the linkage key "
                        "file"));
  EXPECT_THAT(result.err, HasSubstr("certs/pki.sh linkage-key --version N"));

  // The operator installs version 2 as certs/README.md says.
  ASSERT_EQ(pki_->RunPkiScript({"linkage-key", "--version", "2"}), 0);
  struct stat key_file;
  ASSERT_EQ(::stat(pki_->LinkageKey().c_str(), &key_file), 0);
  EXPECT_EQ(key_file.st_mode & 0777, 0600u);
  // (Not printed on failure: it is a key, if only a test one.)
  EXPECT_TRUE(std::regex_search(testing::ReadFile(pki_->LinkageKey()),
                                std::regex("\n2 [0-9a-f]{64}\n")));

  result = Admin({"admin", "linkage-key", "rotate", "2"});
  ASSERT_EQ(result.exit_code, kExitOk) << result.err;
  EXPECT_EQ(Find(result.out, "current_version +([0-9]+)\n"), "2");
  // The case linked under version 1.
  EXPECT_EQ(Find(result.out, "cases_on_older_versions +([0-9]+)\n"), "1");
  EXPECT_THAT(result.err, HasSubstr("1 case still carries a person_ref of an "
                                    "older key version"));
  EXPECT_THAT(result.err,
              HasSubstr("Keep the older key versions in the linkage key file"));

  result = Admin({"--output", "json", "admin", "linkage-key", "rotate", "2"});
  EXPECT_EQ(result.exit_code, kExitOk) << result.err;
  EXPECT_THAT(result.out, HasSubstr("\"current_version\": 2"));

  result = Admin({"admin", "linkage-key", "rotate", "1"});
  EXPECT_EQ(result.exit_code, kExitFailedPrecondition) << result.err;
  EXPECT_THAT(result.err, HasSubstr("cannot go back"));
  ExpectAuditOk();
}

}  // namespace
}  // namespace ruta
