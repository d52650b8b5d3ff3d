// The client certificate verifier on every fixture of certs/pki.sh dev, the
// per-region trust store and its reloads, and the node identity installer --
// without any network (the handshake itself: tests/integration).
#include "ruta/security/verifier.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/security/handshake_metrics.h"
#include "ruta/security/identity_installer.h"
#include "ruta/security/trust_store.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/subprocess.h"

namespace ruta::security {
namespace {

namespace fs = std::filesystem;
using testing::DevPki;
using ::testing::HasSubstr;
using testing::KeyPair;
using testing::ReadFile;

std::vector<RegionTrustFiles> DevRegions(const DevPki& pki) {
  std::vector<RegionTrustFiles> regions;
  for (const char* slug : {"cusco", "madre-de-dios"}) {
    regions.push_back({slug, pki.RootCa(slug), pki.Crls(slug)});
  }
  return regions;
}

std::shared_ptr<TrustStore> LoadOrDie(
    const std::vector<RegionTrustFiles>& regions) {
  absl::StatusOr<std::unique_ptr<TrustStore>> trust = TrustStore::Load(regions);
  EXPECT_TRUE(trust.ok()) << trust.status();
  return trust.ok() ? std::shared_ptr<TrustStore>(*std::move(trust)) : nullptr;
}

// What gRPC hands the verifier on a server: the leaf, and the rest of what
// the client sent (here: cert.pem, leaf + intermediate).
Verdict CheckPair(const ClientCertificateVerifier& verifier,
                  const KeyPair& pair) {
  const std::string chain = ReadFile(pair.cert_file);
  return verifier.Check(chain, chain);
}

class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    trust_ = LoadOrDie(DevRegions(DevPki::Get()));
    ASSERT_NE(trust_, nullptr);
    verifier_ = std::make_unique<ClientCertificateVerifier>(trust_);
  }

  void ExpectRefused(const KeyPair& pair, RefusalReason reason,
                     const std::string& detail_part = "") {
    const Verdict verdict = CheckPair(*verifier_, pair);
    EXPECT_FALSE(verdict.accepted) << pair.cert_file;
    EXPECT_STREQ(RefusalReasonName(verdict.reason), RefusalReasonName(reason))
        << pair.cert_file << ": " << verdict.detail;
    EXPECT_THAT(verdict.detail, HasSubstr(detail_part));
  }

  std::shared_ptr<TrustStore> trust_;
  std::unique_ptr<ClientCertificateVerifier> verifier_;
};

TEST_F(VerifierTest, AcceptsEveryDevLeafOfBothRegions) {
  const DevPki& pki = DevPki::Get();
  const std::vector<std::pair<std::string, std::string>> leaves = {
      {"node", "node"},        {"office", "second-office"}, {"partner", "tdh"},
      {"dashboard", "mayors"}, {"admin", "operator"},
  };
  for (const char* region : {"cusco", "madre-de-dios"}) {
    std::vector<std::pair<std::string, std::string>> all = leaves;
    all.emplace_back("office", std::string(region) == "cusco"
                                   ? "main-office"
                                   : "puerto-maldonado");
    for (const auto& [role, name] : all) {
      const Verdict verdict =
          CheckPair(*verifier_, pki.Leaf(region, role, name));
      ASSERT_TRUE(verdict.accepted)
          << region << " " << role << "/" << name << ": "
          << RefusalReasonName(verdict.reason) << " " << verdict.detail;
      EXPECT_EQ(verdict.identity.region, region);
      EXPECT_STREQ(RoleName(verdict.identity.role), role.c_str());
      EXPECT_EQ(verdict.identity.name, name);
    }
  }
  {
    SCOPED_TRACE("leaf alone, intermediate in the chain");
    // gRPC 1.51 on a server: peer_cert() is the leaf only, the intermediate
    // comes in peer_cert_full_chain().
    const std::string dir = DevPki::Get().dir() + "/cusco/office/main-office";
    const Verdict verdict = verifier_->Check(
        ReadFile(dir + "/leaf.pem"),
        ReadFile(DevPki::Get().dir() + "/cusco/ca/intermediate.pem"));
    EXPECT_TRUE(verdict.accepted) << verdict.detail;
    EXPECT_EQ(verdict.subject, "O=ruta, OU=cusco, CN=office/main-office");
    EXPECT_THAT(verdict.issuer, HasSubstr("ruta cusco intermediate CA"));
    EXPECT_FALSE(verdict.serial.empty());
  }
}

TEST_F(VerifierTest, RefusesEachBadCertificateOrTrustForItsReason) {
  const DevPki& pki = DevPki::Get();
  ExpectRefused(pki.Negative("cross-domain"), RefusalReason::kWrongTrustDomain,
                "madre-de-dios.ruta.pe issued by the CA of region cusco");
  ExpectRefused(pki.Negative("two-uri-sans"), RefusalReason::kSanCount,
                "2 URI SANs");
  ExpectRefused(pki.Negative("no-uri-san"), RefusalReason::kNoUriSan);
  ExpectRefused(pki.Negative("ca-true"), RefusalReason::kCaCertificate,
                "CA:true");
  ExpectRefused(pki.Negative("server-only"), RefusalReason::kNoClientAuth);
  ExpectRefused(pki.Negative("expired"), RefusalReason::kExpired, "depth 0");
  ExpectRefused(pki.Negative("not-yet-valid"), RefusalReason::kNotYetValid);
  ExpectRefused(pki.Negative("revoked"), RefusalReason::kRevoked, "depth 0");
  ExpectRefused(pki.Negative("self-signed"), RefusalReason::kSelfSigned);
  ExpectRefused(pki.Rogue(), RefusalReason::kUnknownCa,
                "does not chain to the root CA of region cusco");
  {
    SCOPED_TRACE("leaf without its intermediate");
    const std::string dir = DevPki::Get().dir() + "/cusco/office/main-office";
    const Verdict verdict = verifier_->Check(ReadFile(dir + "/leaf.pem"), "");
    EXPECT_FALSE(verdict.accepted);
    EXPECT_EQ(verdict.reason, RefusalReason::kUnknownCa);
  }
  {
    SCOPED_TRACE("no certificate");
    EXPECT_EQ(verifier_->Check("", "").reason,
              RefusalReason::kNoClientCertificate);
  }
  {
    SCOPED_TRACE("garbage");
    EXPECT_EQ(
        verifier_->Check("-----BEGIN CERTIFICATE-----\nAAAA\n", "").reason,
        RefusalReason::kBadCertificate);
  }
  {
    SCOPED_TRACE("unknown region");
    // Only cusco is trusted: a madre-de-dios identity is of an unknown
    // region.
    auto trust = LoadOrDie({{"cusco", pki.RootCa("cusco"), pki.Crls("cusco")}});
    ClientCertificateVerifier verifier(trust);
    EXPECT_EQ(CheckPair(verifier, pki.Office("madre-de-dios")).reason,
              RefusalReason::kUnknownRegion);
  }
  {
    SCOPED_TRACE("missing CRL");
    auto trust = LoadOrDie(
        {{"cusco", pki.RootCa("cusco"), {pki.Crls("cusco").front()}}});
    ClientCertificateVerifier verifier(trust);
    const Verdict verdict = CheckPair(verifier, pki.Office("cusco"));
    EXPECT_EQ(verdict.reason, RefusalReason::kCrlMissing) << verdict.detail;
  }
  {
    SCOPED_TRACE("expired CRL");
    auto trust = LoadOrDie(
        {{"cusco",
          pki.RootCa("cusco"),
          {pki.Crls("cusco").front(),
           pki.dir() + "/negative/crl-expired/intermediate.crl.pem"}}});
    ClientCertificateVerifier verifier(trust);
    EXPECT_EQ(CheckPair(verifier, pki.Office("cusco")).reason,
              RefusalReason::kCrlExpired);
  }
  {
    SCOPED_TRACE("revoked intermediate");
    std::unique_ptr<DevPki> copy = DevPki::Get().Copy();
    ASSERT_EQ(
        copy->RunPkiScript({"revoke", "--region", "cusco", "--intermediate",
                            "--reason", "CACompromise"}),
        0);
    auto trust = LoadOrDie(DevRegions(*copy));
    ClientCertificateVerifier verifier(trust);
    const Verdict verdict = CheckPair(verifier, copy->Office("cusco"));
    EXPECT_EQ(verdict.reason, RefusalReason::kRevoked);
    EXPECT_THAT(verdict.detail, HasSubstr("depth 1"));
    EXPECT_THAT(verdict.detail, HasSubstr("intermediate CA"));
    EXPECT_TRUE(CheckPair(verifier, copy->Office("madre-de-dios")).accepted);
  }
}

TEST_F(VerifierTest, VerifyCountsRefusalsByReason) {
  const int64_t before = HandshakeRefusalCount(RefusalReason::kSanCount);
  EXPECT_FALSE(
      verifier_
          ->Verify(ReadFile(DevPki::Get().Negative("two-uri-sans").cert_file),
                   "")
          .accepted);
  EXPECT_EQ(HandshakeRefusalCount(RefusalReason::kSanCount), before + 1);
  EXPECT_EQ(HandshakeRefusals()["san_count"], before + 1);
  // Accepting counts nothing.
  const auto all = HandshakeRefusals();
  EXPECT_TRUE(CheckPair(*verifier_, DevPki::Get().Office("cusco")).accepted);
  EXPECT_EQ(HandshakeRefusals(), all);
}

// ------------------------------------------------------------ TrustStore --

class TrustStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("trust");
    const DevPki& pki = DevPki::Get();
    Copy(pki.RootCa("cusco"), "root.pem");
    Copy(pki.Crls("cusco")[0], "root.crl.pem");
    Copy(pki.Crls("cusco")[1], "intermediate.crl.pem");
    files_ = {"cusco",
              dir_ + "/root.pem",
              {dir_ + "/root.crl.pem", dir_ + "/intermediate.crl.pem"}};
  }
  void Copy(const std::string& from, const std::string& name) {
    std::ofstream(dir_ + "/" + name) << ReadFile(from);
  }

  std::string dir_;
  RegionTrustFiles files_;
};

TEST_F(TrustStoreTest, BadFilesRefusedAtLoadAndKeptOutOnReload) {
  {
    SCOPED_TRACE("bad files at load");
    RegionTrustFiles missing = files_;
    missing.crl_files[1] = dir_ + "/nope.crl.pem";
    EXPECT_THAT(TrustStore::Load({missing}).status().message(),
                HasSubstr("nope.crl.pem"));
    RegionTrustFiles not_a_crl = files_;
    not_a_crl.crl_files[1] = files_.ca_file;
    EXPECT_THAT(TrustStore::Load({not_a_crl}).status().message(),
                HasSubstr("holds no PEM CRL"));
    RegionTrustFiles not_a_ca = files_;
    not_a_ca.ca_file = DevPki::Get().Office("cusco").cert_file;
    EXPECT_THAT(TrustStore::Load({not_a_ca}).status().message(),
                HasSubstr("not a CA"));
    EXPECT_THAT(TrustStore::Load({files_, files_}).status().message(),
                HasSubstr("listed twice"));
  }
  auto trust = LoadOrDie({files_});
  ClientCertificateVerifier verifier(trust);
  const KeyPair office = DevPki::Get().Office("cusco");
  ASSERT_TRUE(CheckPair(verifier, office).accepted);
  EXPECT_EQ(trust->Reload(), 0);  // unchanged

  const TlsReloadCounters before = ReloadCounters();
  std::ofstream(dir_ + "/intermediate.crl.pem") << "garbage, no PEM\n";
  EXPECT_EQ(trust->Reload(), 0);
  EXPECT_EQ(trust->Reload(), 0);
  EXPECT_EQ(ReloadCounters().trust_refusals, before.trust_refusals + 1);
  EXPECT_TRUE(CheckPair(verifier, office).accepted);

  fs::remove(dir_ + "/intermediate.crl.pem");
  EXPECT_EQ(trust->Reload(), 0);
  EXPECT_EQ(ReloadCounters().trust_refusals, before.trust_refusals + 2);
  EXPECT_TRUE(CheckPair(verifier, office).accepted);
}

TEST_F(TrustStoreTest, NewCrlTakesEffectOnReload) {
  std::unique_ptr<DevPki> copy = DevPki::Get().Copy();
  files_.ca_file = copy->RootCa("cusco");
  files_.crl_files = copy->Crls("cusco");
  auto trust = LoadOrDie({files_});
  ClientCertificateVerifier verifier(trust);
  ASSERT_TRUE(CheckPair(verifier, copy->Office("cusco")).accepted);
  const absl::Time expiry = trust->CrlExpiry("cusco");
  EXPECT_GT(expiry, absl::Now() + absl::Hours(24 * 29));

  ASSERT_EQ(copy->RunPkiScript({"revoke", "--region", "cusco", "--role",
                                "office", "--name", "main-office"}),
            0);
  const TlsReloadCounters before = ReloadCounters();
  EXPECT_EQ(trust->Reload(), 1);
  EXPECT_EQ(ReloadCounters().trust_loads, before.trust_loads + 1);
  EXPECT_EQ(CheckPair(verifier, copy->Office("cusco")).reason,
            RefusalReason::kRevoked);
  EXPECT_TRUE(
      CheckPair(verifier, copy->Leaf("cusco", "partner", "tdh")).accepted);
}

// ---------------------------------------------------- IdentityInstaller --

class IdentityInstallerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("installer");
    operator_cert_ = dir_ + "/cert.pem";
    operator_key_ = dir_ + "/key.pem";
    Install(DevPki::Get().Node("cusco"));
    options_.cert_file = operator_cert_;
    options_.key_file = operator_key_;
    options_.active_dir = dir_ + "/active";
  }
  // What an operator does: copies a certificate and a key into place.
  void Install(const KeyPair& pair) { Install(pair, pair); }
  void Install(const KeyPair& cert_from, const KeyPair& key_from) {
    std::ofstream(operator_cert_) << ReadFile(cert_from.cert_file);
    std::ofstream(operator_key_) << ReadFile(key_from.key_file);
  }
  static time_t MTime(const std::string& path) {
    struct stat st = {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mtime;
  }

  std::string dir_;
  std::string operator_cert_;
  std::string operator_key_;
  IdentityInstallerOptions options_;
};

TEST_F(IdentityInstallerTest, InstallsBehindASymlinkAndRotates) {
  std::ofstream(dir_ + "/stale") << "x";
  fs::create_directories(options_.active_dir + "/v9");  // an earlier run
  absl::StatusOr<std::unique_ptr<IdentityInstaller>> installer =
      IdentityInstaller::Create(options_);
  ASSERT_TRUE(installer.ok()) << installer.status();
  IdentityInstaller& i = **installer;
  EXPECT_EQ(i.cert_file(), options_.active_dir + "/current/cert.pem");
  EXPECT_EQ(i.key_file(), options_.active_dir + "/current/key.pem");
  EXPECT_EQ(fs::read_symlink(options_.active_dir + "/current"), "v1");
  EXPECT_FALSE(fs::exists(options_.active_dir + "/v9"));
  EXPECT_EQ(ReadFile(i.cert_file()), ReadFile(operator_cert_));
  EXPECT_EQ(ReadFile(i.key_file()), ReadFile(operator_key_));
  EXPECT_EQ(fs::status(options_.active_dir).permissions() & fs::perms::all,
            fs::perms::owner_all);
  EXPECT_EQ(fs::status(i.key_file()).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);

  EXPECT_TRUE(i.Refresh().ok());  // unchanged: nothing installed
  EXPECT_EQ(i.installs(), 1);
  time_t previous = MTime(i.cert_file());
  for (int n = 2; n <= 4; ++n) {
    Install(DevPki::Get().Node(n % 2 == 0 ? "madre-de-dios" : "cusco"));
    ASSERT_TRUE(i.Refresh().ok());
    EXPECT_EQ(fs::read_symlink(options_.active_dir + "/current"),
              "v" + std::to_string(n));
    EXPECT_EQ(ReadFile(i.cert_file()), ReadFile(operator_cert_));
    // gRPC's reader relies on the modification time changing (seconds).
    EXPECT_GT(MTime(i.cert_file()), previous);
    EXPECT_EQ(MTime(i.key_file()), MTime(i.cert_file()));
    previous = MTime(i.cert_file());
  }
  // Current and previous versions are kept, older ones deleted.
  EXPECT_TRUE(fs::exists(options_.active_dir + "/v4"));
  EXPECT_TRUE(fs::exists(options_.active_dir + "/v3"));
  EXPECT_FALSE(fs::exists(options_.active_dir + "/v2"));
  EXPECT_EQ(i.installs(), 4);
}

TEST_F(IdentityInstallerTest, RefusesAMismatchedPairAndKeepsThePrevious) {
  absl::StatusOr<std::unique_ptr<IdentityInstaller>> installer =
      IdentityInstaller::Create(options_);
  ASSERT_TRUE(installer.ok()) << installer.status();
  IdentityInstaller& i = **installer;
  const std::string installed = ReadFile(i.cert_file());

  const TlsReloadCounters before = ReloadCounters();
  Install(DevPki::Get().Node("madre-de-dios"), DevPki::Get().Node("cusco"));
  const absl::Status status = i.Refresh();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("does not belong to certificate"));
  EXPECT_EQ(i.Refresh().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReloadCounters().identity_refusals, before.identity_refusals + 1);
  EXPECT_EQ(ReadFile(i.cert_file()), installed);
  EXPECT_EQ(i.installs(), 1);

  fs::remove(operator_key_);
  EXPECT_EQ(i.Refresh().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReloadCounters().identity_refusals, before.identity_refusals + 2);

  Install(DevPki::Get().Node("madre-de-dios"));
  EXPECT_TRUE(i.Refresh().ok());
  EXPECT_EQ(i.installs(), 2);
  EXPECT_EQ(ReadFile(i.cert_file()), ReadFile(operator_cert_));
  {
    SCOPED_TRACE("at creation");
    Install(DevPki::Get().Node("madre-de-dios"), DevPki::Get().Node("cusco"));
    EXPECT_EQ(IdentityInstaller::Create(options_).status().code(),
              absl::StatusCode::kFailedPrecondition);
    options_.key_file = dir_ + "/missing.pem";
    EXPECT_THAT(IdentityInstaller::Create(options_).status().message(),
                HasSubstr("missing.pem"));
  }
}

}  // namespace
}  // namespace ruta::security
