// An independent client no one on the team wrote: `buf curl` (Go, connect-go
// gRPC implementation) reaches a node over mutual TLS, discovers its services
// through server reflection and calls CaseOffice.
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

using testing::DevPki;
using ::testing::HasSubstr;

class BufCurlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::NodeSetup setup;
    setup.region = "madre-de-dios";
    node_ = testing::InProcessNode::Start(setup).release();
    ASSERT_NE(node_, nullptr);
  }
  static void TearDownTestSuite() {
    delete node_;
    node_ = nullptr;
  }

  // buf curl as the Madre de Dios office, verifying the node's certificate
  // (its DNS SAN "localhost") against the regions' roots.
  testing::ProcessResult BufCurl(std::vector<std::string> args) {
    const std::string buf = testing::SourceDir() + "/node_modules/.bin/buf";
    const testing::KeyPair office = DevPki::Get().Office("madre-de-dios");
    std::vector<std::string> argv = {buf,
                                     "curl",
                                     "--protocol",
                                     "grpc",
                                     "--cacert",
                                     DevPki::Get().TrustBundle(),
                                     "--cert",
                                     office.cert_file,
                                     "--key",
                                     office.key_file,
                                     "--connect-timeout",
                                     "10",
                                     "--timeout",
                                     "20s"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::RunProcess(argv, absl::Seconds(60));
  }

  std::string Url(const std::string& method = "") {
    return absl::StrCat("https://localhost:", node_->node().port(),
                        method.empty() ? "" : "/", method);
  }

  static testing::InProcessNode* node_;
};
testing::InProcessNode* BufCurlTest::node_ = nullptr;

TEST_F(BufCurlTest, BufIsInstalled) {
  const testing::ProcessResult result = testing::RunProcess(
      {testing::SourceDir() + "/node_modules/.bin/buf", "--version"});
  ASSERT_EQ(result.exit_code, 0)
      << "buf is missing: run scripts/install-deps.sh (npm ci)\n"
      << result.err;
}

TEST_F(BufCurlTest, ListsServicesThroughReflection) {
  const testing::ProcessResult result = BufCurl({"--list-services", Url()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  for (const char* service :
       {"ruta.v1.CaseOffice", "ruta.v1.PartnerStatus", "ruta.v1.Dashboard",
        "ruta.v1.Federation", "ruta.v1.Admin", "grpc.health.v1.Health"}) {
    EXPECT_THAT(result.out, HasSubstr(service));
  }
}

TEST_F(BufCurlTest, OpensAndListsCases) {
  const std::string open = R"({
    "request_id": "6f1c2b3a-4d5e-4f60-8a1b-2c3d4e5f6a7b",
    "identifiers": {"cnv": "1234567890"},
    "kind": "CASE_KIND_VICTIM",
    "initial_stage": "STAGE_DETECTED",
    "profile": {
      "age_band": "AGE_BAND_12_14", "sex": "SEX_MALE",
      "origin_province": "0809",
      "exploitation_forms": ["EXPLOITATION_FORM_LABOUR"],
      "setting": "SETTING_MINING_CAMP",
      "recruitment_means": "RECRUITMENT_MEANS_FALSE_JOB_OFFER",
      "identified_month": {"year": 2026, "month": 9}
    },
    "legal_basis": "LEGAL_BASIS_PROSECUTOR_ORDER"
  })";
  testing::ProcessResult result =
      BufCurl({"--data", open, Url("ruta.v1.CaseOffice/OpenCase")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("\"caseId\": \"cs_"));
  EXPECT_THAT(result.out, HasSubstr("STAGE_DETECTED"));
  EXPECT_THAT(result.out, ::testing::Not(HasSubstr("1234567890")));

  result = BufCurl({"--data", "{}", Url("ruta.v1.CaseOffice/ListCases")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("\"ownerRegion\": \"madre-de-dios\""));
}

TEST_F(BufCurlTest, ReportsInvalidArgument) {
  testing::ProcessResult result =
      BufCurl({"--data", R"({"request_id": "not-a-uuid"})",
               Url("ruta.v1.CaseOffice/OpenCase")});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_THAT(result.err, HasSubstr("invalid_argument"));
  EXPECT_THAT(result.err, HasSubstr("request_id"));
}

TEST_F(BufCurlTest, HealthCheckWithDebianSchema) {
  // The health proto is not part of ruta's contract: give buf its schema.
  const testing::ProcessResult result =
      BufCurl({"--schema", "/usr/share/grpc-proto/grpc/health/v1/health.proto",
               "--data", "{}", Url("grpc.health.v1.Health/Check")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("SERVING"));
}

}  // namespace
}  // namespace ruta
