#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/security/identity.h"
#include "ruta/security/pem.h"
#include "ruta/security/tls.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/subprocess.h"

namespace ruta::security {
namespace {

using testing::DevPki;
using ::testing::HasSubstr;
using testing::ReadFile;

TEST(ParseSpiffeIdTest, AcceptsEveryRole) {
  for (const char* role : {"node", "office", "partner", "dashboard", "admin"}) {
    absl::StatusOr<Identity> id = ParseSpiffeId(
        std::string("spiffe://madre-de-dios.ruta.pe/") + role + "/upe-1");
    ASSERT_TRUE(id.ok()) << id.status();
    EXPECT_EQ(id->region, "madre-de-dios");
    EXPECT_STREQ(RoleName(id->role), role);
    EXPECT_EQ(id->name, "upe-1");
  }
}

TEST(ParseSpiffeIdTest, RejectsMalformedIdentities) {
  for (const char* uri : {
           "https://cusco.ruta.pe/office/a",      // scheme
           "spiffe://cusco.example.pe/office/a",  // trust domain
           "spiffe://Cusco.ruta.pe/office/a",     // region case
           "spiffe://cusco.ruta.pe/clerk/a",      // role
           "spiffe://cusco.ruta.pe/office/",      // empty name
           "spiffe://cusco.ruta.pe/office/a/b",   // extra segment
           "spiffe://cusco.ruta.pe/office/A",     // name case
           "spiffe://.ruta.pe/office/a",          // empty region
           "spiffe://-cusco.ruta.pe/office/a",    // region hyphen
       }) {
    EXPECT_EQ(ParseSpiffeId(uri).status().code(),
              absl::StatusCode::kInvalidArgument)
        << uri;
  }
}

TEST(IdentityFromUriSansTest, NeedsExactlyOneUri) {
  EXPECT_EQ(IdentityFromUriSans({}).status().code(),
            absl::StatusCode::kUnauthenticated);
  const absl::Status two =
      IdentityFromUriSans(
          {"spiffe://cusco.ruta.pe/office/a", "spiffe://cusco.ruta.pe/admin/b"})
          .status();
  EXPECT_EQ(two.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(two.message(), HasSubstr("exactly one URI SAN, found 2"));
  EXPECT_TRUE(IdentityFromUriSans({"spiffe://cusco.ruta.pe/office/a"}).ok());
}

TEST(CheckKeyPairTest, MatchingPairIsAccepted) {
  const testing::KeyPair office = DevPki::Get().Office("cusco");
  EXPECT_TRUE(CheckKeyPair(ReadFile(office.cert_file),
                           ReadFile(office.key_file), office.cert_file,
                           office.key_file)
                  .ok());
}

TEST(CheckKeyPairTest, MismatchedPairIsRefused) {
  const testing::KeyPair cusco = DevPki::Get().Office("cusco");
  const testing::KeyPair mdd = DevPki::Get().Office("madre-de-dios");
  const absl::Status status =
      CheckKeyPair(ReadFile(cusco.cert_file), ReadFile(mdd.key_file),
                   cusco.cert_file, mdd.key_file);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("does not belong to certificate"));
}

TEST(CheckKeyPairTest, GarbageIsRefused) {
  const testing::KeyPair office = DevPki::Get().Office("cusco");
  EXPECT_EQ(
      CheckKeyPair("-----BEGIN CERTIFICATE-----\nxx\n", "", "c", "k").code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckKeyPair(ReadFile(office.cert_file), "nope", "c", "k").code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ReadPemFileTest, MissingAndNonPemFiles) {
  EXPECT_THAT(ReadPemFile("/nonexistent.pem", "certificate").status().message(),
              HasSubstr("certificate file /nonexistent.pem is missing"));
  EXPECT_THAT(ReadPemFile("/etc/hostname", "CA").status().message(),
              HasSubstr("holds no PEM data"));
}

TEST(ServerCredentialsTest, RefusesMismatchedPair) {
  ServerTlsOptions options;
  options.cert_file = DevPki::Get().Node("cusco").cert_file;
  options.key_file = DevPki::Get().Node("madre-de-dios").key_file;
  options.trust_bundle_file = DevPki::Get().TrustBundle();
  options.accepted_regions = {"cusco"};
  EXPECT_EQ(MakeServerCredentials(options).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ServerCredentialsTest, RefusesMissingTrustBundle) {
  ServerTlsOptions options;
  options.cert_file = DevPki::Get().Node("cusco").cert_file;
  options.key_file = DevPki::Get().Node("cusco").key_file;
  options.trust_bundle_file = "/nonexistent/roots.pem";
  options.accepted_regions = {"cusco"};
  EXPECT_THAT(MakeServerCredentials(options).status().message(),
              HasSubstr("/nonexistent/roots.pem"));
}

}  // namespace
}  // namespace ruta::security
