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

ServerTlsOptions CuscoServerOptions() {
  const DevPki& pki = DevPki::Get();
  ServerTlsOptions options;
  options.cert_file = pki.Node("cusco").cert_file;
  options.key_file = pki.Node("cusco").key_file;
  options.active_dir = testing::MakeTempDir("tls") + "/active";
  options.regions.push_back({"cusco", pki.RootCa("cusco"), pki.Crls("cusco")});
  return options;
}

TEST(ServerTlsTest, StartsWithGoodFiles) {
  absl::StatusOr<std::unique_ptr<ServerTls>> tls =
      ServerTls::Start(CuscoServerOptions());
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_NE((*tls)->credentials(), nullptr);
  (*tls)->Stop();
  (*tls)->Stop();  // idempotent
}

TEST(ServerTlsTest, RefusesBadFiles) {
  {
    SCOPED_TRACE("key and certificate not a pair");
    ServerTlsOptions options = CuscoServerOptions();
    options.key_file = DevPki::Get().Node("madre-de-dios").key_file;
    const absl::Status status = ServerTls::Start(options).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(status.message(), HasSubstr("does not belong to certificate"));
  }
  {
    SCOPED_TRACE("missing CA file");
    ServerTlsOptions options = CuscoServerOptions();
    options.regions[0].ca_file = "/nonexistent/root.pem";
    EXPECT_THAT(ServerTls::Start(options).status().message(),
                HasSubstr("/nonexistent/root.pem"));
  }
  {
    SCOPED_TRACE("missing CRL file");
    ServerTlsOptions options = CuscoServerOptions();
    options.regions[0].crl_files.push_back("/nonexistent/extra.crl.pem");
    const absl::Status status = ServerTls::Start(options).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(status.message(), HasSubstr("/nonexistent/extra.crl.pem"));
  }
  {
    SCOPED_TRACE("no CRL file");
    ServerTlsOptions options = CuscoServerOptions();
    options.regions[0].crl_files.clear();
    EXPECT_THAT(ServerTls::Start(options).status().message(),
                HasSubstr("has no CRL file"));
  }
}

}  // namespace
}  // namespace ruta::security
