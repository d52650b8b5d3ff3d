// Each bad configuration gives a precise error naming the setting.
#include "ruta/node/config.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/subprocess.h"

namespace ruta::node {
namespace {

using testing::DevPki;
using ::testing::HasSubstr;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const DevPki& pki = DevPki::Get();
    dir_ = ruta::testing::MakeTempDir("config");
    // A valid configuration; each test breaks one thing.
    valid_ = absl::StrCat(R"({
  "region": "cusco",
  "regions": [
    {"slug": "cusco", "ubigeo_department": "08", "display_name": "Cusco",
     "ca_file": ")",
                          pki.RootCa("cusco"), R"(",
     "crl_files": [")",
                          pki.Crls("cusco")[0], R"(", ")", pki.Crls("cusco")[1],
                          R"("]},
    {"slug": "madre-de-dios", "ubigeo_department": "17",
     "display_name": "Madre de Dios",
     "ca_file": ")",
                          pki.RootCa("madre-de-dios"), R"(",
     "crl_files": [")",
                          pki.Crls("madre-de-dios")[0], R"(", ")",
                          pki.Crls("madre-de-dios")[1], R"("]}
  ],
  "tls": {"cert_file": ")",
                          pki.Node("cusco").cert_file, R"(",
          "key_file": ")",
                          pki.Node("cusco").key_file, R"(",
          "trust_bundle_file": ")",
                          pki.TrustBundle(), R"("},
  "storage": {"database": "sqlite:data/cusco.db"},
  "linkage_key_file": ")",
                          pki.LinkageKey(), R"(",
  "peers": [{"region": "madre-de-dios", "address": "127.0.0.1:7444"}]
})");
    std::filesystem::create_directories(dir_ + "/data");
  }

  absl::StatusOr<v1::NodeConfig> Parse(const std::string& json) {
    return ParseConfig(json, dir_);
  }
  // The valid config with `from` replaced by `to` (must occur).
  std::string With(const std::string& from, const std::string& to) {
    EXPECT_THAT(valid_, HasSubstr(from));
    return absl::StrReplaceAll(valid_, {{from, to}});
  }

  std::string dir_;
  std::string valid_;
};

TEST_F(ConfigTest, ValidConfigGetsDefaultsAndAbsolutePaths) {
  absl::StatusOr<v1::NodeConfig> config = Parse(valid_);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen_address(), "127.0.0.1:7443");
  EXPECT_EQ(config->tls().refresh_interval_seconds(), 60u);
  EXPECT_EQ(config->limits().max_message_bytes(), 4u * 1024 * 1024);
  EXPECT_EQ(config->limits().shutdown_grace_seconds(), 10u);
  EXPECT_EQ(config->storage().database(),
            absl::StrCat("sqlite:", dir_, "/data/cusco.db"));
}

TEST_F(ConfigTest, UnknownKeyIsAnError) {
  absl::StatusOr<v1::NodeConfig> config = Parse(
      With(R"("region": "cusco",)", R"("region": "cusco", "regoin": 1,)"));
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("regoin"));
}

TEST_F(ConfigTest, NotJson) {
  EXPECT_EQ(Parse("region: cusco").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ConfigTest, RegionMustBeListed) {
  absl::StatusOr<v1::NodeConfig> config =
      Parse(With(R"("region": "cusco",)", R"("region": "puno",)"));
  EXPECT_THAT(config.status().message(),
              HasSubstr("region: \"puno\" is not one of the slugs"));
}

TEST_F(ConfigTest, MissingRegion) {
  EXPECT_THAT(Parse(With(R"("region": "cusco",)", "")).status().message(),
              HasSubstr("region is required"));
}

TEST_F(ConfigTest, BadSlug) {
  absl::StatusOr<v1::NodeConfig> config =
      Parse(With(R"("slug": "madre-de-dios")", R"("slug": "Madre de Dios")"));
  EXPECT_THAT(config.status().message(), HasSubstr("regions[1].slug"));
}

TEST_F(ConfigTest, BadUbigeoDepartment) {
  EXPECT_THAT(
      Parse(With(R"("ubigeo_department": "08")", R"("ubigeo_department": "8")"))
          .status()
          .message(),
      HasSubstr("regions[0].ubigeo_department"));
}

TEST_F(ConfigTest, MissingKeyFile) {
  absl::StatusOr<v1::NodeConfig> config =
      Parse(With(DevPki::Get().Node("cusco").key_file, "/nonexistent/key.pem"));
  ASSERT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(config.status().message(),
              HasSubstr("tls.key_file: file /nonexistent/key.pem is missing"));
}

TEST_F(ConfigTest, KeyFileReadableByOthers) {
  const std::string key = dir_ + "/open.key";
  std::ofstream(key) << ruta::testing::ReadFile(DevPki::Get().LinkageKey());
  chmod(key.c_str(), 0644);
  absl::StatusOr<v1::NodeConfig> config =
      Parse(With(DevPki::Get().LinkageKey(), key));
  ASSERT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(config.status().message(), HasSubstr("linkage_key_file"));
  EXPECT_THAT(config.status().message(), HasSubstr("chmod 600"));
}

TEST_F(ConfigTest, MissingCaFile) {
  EXPECT_THAT(Parse(With(DevPki::Get().RootCa("madre-de-dios"), "nope.pem"))
                  .status()
                  .message(),
              HasSubstr("regions[1].ca_file"));
}

TEST_F(ConfigTest, CrlFilesAreRequiredAndChecked) {
  const std::string mdd_crls =
      absl::StrCat(R"("crl_files": [")", DevPki::Get().Crls("madre-de-dios")[0],
                   R"(", ")", DevPki::Get().Crls("madre-de-dios")[1], R"("])");
  absl::StatusOr<v1::NodeConfig> config =
      Parse(With(mdd_crls, R"("crl_files": [])"));
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(),
              HasSubstr("regions[1].crl_files: at least one CRL file"));
  config = Parse(With(DevPki::Get().Crls("madre-de-dios")[1], "nope.crl.pem"));
  ASSERT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(config.status().message(), HasSubstr("regions[1].crl_files[1]"));
  EXPECT_THAT(config.status().message(), HasSubstr("nope.crl.pem"));
}

TEST_F(ConfigTest, CrlFilesAreResolvedAgainstTheConfigDirectory) {
  std::filesystem::create_directories(dir_ + "/crl");
  std::ofstream(dir_ + "/crl/extra.crl.pem")
      << ruta::testing::ReadFile(DevPki::Get().Crls("cusco")[1]);
  absl::StatusOr<v1::NodeConfig> config = Parse(
      With(DevPki::Get().Crls("cusco")[1] + R"("])",
           DevPki::Get().Crls("cusco")[1] + R"(", "crl/extra.crl.pem"])"));
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->regions(0).crl_files_size(), 3);
  EXPECT_EQ(config->regions(0).crl_files(2), dir_ + "/crl/extra.crl.pem");
}

TEST_F(ConfigTest, MissingTls) {
  const std::string json =
      absl::StrReplaceAll(valid_, {{R"("tls": {)", R"("unused_tls": {)"}});
  EXPECT_EQ(Parse(json).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ConfigTest, DatabaseScheme) {
  EXPECT_THAT(
      Parse(With("sqlite:data/cusco.db", "mysql://x")).status().message(),
      HasSubstr("storage.database"));
}

TEST_F(ConfigTest, DatabaseDirectoryMissing) {
  absl::StatusOr<v1::NodeConfig> config =
      Parse(With("sqlite:data/cusco.db", "sqlite:nodir/cusco.db"));
  ASSERT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(config.status().message(), HasSubstr("does not exist"));
}

TEST_F(ConfigTest, PeerMustBeAnotherKnownRegion) {
  EXPECT_THAT(Parse(With(R"("region": "madre-de-dios", "address")",
                         R"("region": "cusco", "address")"))
                  .status()
                  .message(),
              HasSubstr("peers[0].region"));
}

TEST_F(ConfigTest, PeerAddressNeedsPort) {
  EXPECT_THAT(Parse(With("127.0.0.1:7444", "127.0.0.1")).status().message(),
              HasSubstr("peers[0].address"));
}

TEST_F(ConfigTest, ListenAddressNeedsPort) {
  EXPECT_THAT(Parse(With(R"("region": "cusco",)",
                         R"("region": "cusco", "listen_address": "x",)"))
                  .status()
                  .message(),
              HasSubstr("listen_address"));
}

TEST_F(ConfigTest, ObservabilityDefaultsAndChecks) {
  absl::StatusOr<v1::NodeConfig> config = Parse(valid_);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->observability().metrics_address(), "");
  EXPECT_EQ(config->observability().health_address(), "");
  EXPECT_EQ(config->observability().log_format(), "text");
  EXPECT_EQ(config->observability().log_level(), "info");
  const std::string peers = R"("peers": [)";
  auto with = [&](const std::string& section) {
    return With(peers,
                absl::StrCat(R"("observability": )", section, ",\n  ", peers));
  };
  config = Parse(with(R"({"metrics_address": "9464",
      "health_address": "0.0.0.0:8081", "log_format": "json",
      "log_level": "debug"})"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->observability().metrics_address(), "9464");
  EXPECT_EQ(config->observability().log_format(), "json");
  EXPECT_THAT(
      Parse(with(R"({"metrics_address": "metrics"})")).status().message(),
      HasSubstr("observability.metrics_address"));
  EXPECT_THAT(Parse(with(R"({"health_address": "70000"})")).status().message(),
              HasSubstr("observability.health_address: \"70000\" is not a "
                        "port"));
  EXPECT_THAT(Parse(with(R"({"log_format": "logfmt"})")).status().message(),
              HasSubstr("observability.log_format: \"logfmt\" is not a log "
                        "format; use \"text\" or \"json\""));
  EXPECT_THAT(Parse(with(R"({"log_level": "verbose"})")).status().message(),
              HasSubstr("observability.log_level"));
}

TEST_F(ConfigTest, TooSmallMessageLimit) {
  EXPECT_THAT(
      Parse(With(R"("region": "cusco",)",
                 R"("region": "cusco", "limits": {"max_message_bytes": 10},)"))
          .status()
          .message(),
      HasSubstr("limits.max_message_bytes"));
}

TEST_F(ConfigTest, RetentionDefaultsAndLimits) {
  absl::StatusOr<v1::NodeConfig> config = Parse(valid_);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->privacy().retention_days(), 1825u);
  EXPECT_EQ(config->privacy().purge_interval_seconds(), 3600u);
  config = Parse(With(R"("region": "cusco",)",
                      R"("region": "cusco", "privacy": {"retention_days": 30,)"
                      R"( "purge_interval_seconds": 60},)"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->privacy().retention_days(), 30u);
  EXPECT_EQ(config->privacy().purge_interval_seconds(), 60u);
  EXPECT_THAT(
      Parse(With(R"("region": "cusco",)",
                 R"("region": "cusco", "privacy": {"retention_days": 40000},)"))
          .status()
          .message(),
      HasSubstr("privacy.retention_days"));
}

TEST_F(ConfigTest, DashboardDefaultsAndLimits) {
  absl::StatusOr<v1::NodeConfig> config = Parse(valid_);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->dashboard().threshold(), 10u);
  EXPECT_EQ(config->dashboard().peer_counts_max_age_seconds(), 300u);
  EXPECT_EQ(config->dashboard().transfer_acceptance_due_days(), 7u);
  EXPECT_EQ(config->dashboard().follow_up_due_days(), 90u);
  config = Parse(With(R"("region": "cusco",)",
                      R"("region": "cusco", "dashboard": {"threshold": 5,)"
                      R"( "follow_up_due_days": 30},)"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->dashboard().threshold(), 5u);
  EXPECT_EQ(config->dashboard().follow_up_due_days(), 30u);
  const absl::Status below =
      Parse(With(R"("region": "cusco",)", R"("region": "cusco", "dashboard":)"
                                          R"( {"threshold": 4},)"))
          .status();
  EXPECT_EQ(below.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(below.message(), HasSubstr("dashboard.threshold"));
  EXPECT_THAT(below.message(), HasSubstr("below 5"));
  EXPECT_THAT(Parse(With(R"("region": "cusco",)",
                         R"("region": "cusco", "dashboard":)"
                         R"( {"transfer_acceptance_due_days": 4000},)"))
                  .status()
                  .message(),
              HasSubstr("at most 3650"));
}

TEST_F(ConfigTest, AuditDefaultsAndSigningKeys) {
  const std::string signing_key =
      DevPki::Get().dir() + "/cusco/signing/signing.key";
  const std::string public_key =
      DevPki::Get().dir() + "/trust/signing/madre-de-dios.pub";
  absl::StatusOr<v1::NodeConfig> config =
      Parse(With(R"("region": "cusco",)",
                 absl::StrCat(R"("region": "cusco", "signing_key_file": ")",
                              signing_key, R"(",)")));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->signing_key_file(), signing_key);
  EXPECT_EQ(config->audit().checkpoint_interval_seconds(), 60u);
  EXPECT_EQ(config->audit().flush_interval_ms(), 250u);
  EXPECT_EQ(config->audit().peer_timeout_seconds(), 10u);

  // A signing key readable by others is refused, like every key.
  const std::string open_key = dir_ + "/signing.key";
  std::ofstream(open_key) << ruta::testing::ReadFile(signing_key);
  chmod(open_key.c_str(), 0644);
  config =
      Parse(With(R"("region": "cusco",)",
                 absl::StrCat(R"("region": "cusco", "signing_key_file": ")",
                              open_key, R"(",)")));
  ASSERT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(config.status().message(), HasSubstr("signing_key_file"));
  EXPECT_THAT(config.status().message(), HasSubstr("chmod 600"));

  // A region's signing public key must exist when named.
  config = Parse(With(R"("display_name": "Madre de Dios",)",
                      R"("display_name": "Madre de Dios",
     "signing_public_key_file": "missing.pub",)"));
  EXPECT_THAT(config.status().message(),
              HasSubstr("regions[1].signing_public_key_file"));
  config = Parse(With(R"("display_name": "Madre de Dios",)",
                      absl::StrCat(R"("display_name": "Madre de Dios",
     "signing_public_key_file": ")",
                                   public_key, R"(",)")));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->regions(1).signing_public_key_file(), public_key);

  // Read audits are on record within one second.
  config = Parse(
      With(R"("region": "cusco",)",
           R"("region": "cusco", "audit": {"flush_interval_ms": 1500},)"));
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("audit.flush_interval_ms"));
}

TEST_F(ConfigTest, PartnersNeedTheirMasterSecretAndWellFormedIds) {
  const std::string key = DevPki::Get().PartnerKey();
  const std::string peers = R"("peers": [)";
  auto with_partners = [&](const std::string& partners,
                           const std::string& key_file) {
    std::string extra = absl::StrCat(R"("partners": )", partners, ",");
    if (!key_file.empty()) {
      absl::StrAppend(&extra, R"("partner_key_file": ")", key_file, R"(",)");
    }
    return Parse(With(peers, extra + peers));
  };
  const std::string two =
      R"([{"id": "cusco/tdh", "name": "Terre des Hommes"},
          {"id": "cusco/caritas", "name": "Caritas"}])";
  absl::StatusOr<v1::NodeConfig> config = with_partners(two, key);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->partners_size(), 2);
  EXPECT_EQ(config->partner_key_file(), key);

  // Partners without the secret: a clear start-up error naming it.
  config = with_partners(two, "");
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("partner_key_file"));
  // A missing secret file, and one readable by others.
  config = with_partners(two, dir_ + "/none.key");
  EXPECT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(config.status().message(), HasSubstr("partner_key_file"));
  const std::string open_key = dir_ + "/open.key";
  std::filesystem::copy_file(key, open_key);
  ::chmod(open_key.c_str(), 0644);
  config = with_partners(two, open_key);
  EXPECT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(config.status().message(), HasSubstr("chmod 600"));

  // Ids: this node's region, a name, listed once; a display name.
  for (const auto& [partners, what] :
       std::vector<std::pair<std::string, std::string>>{
           {R"([{"id": "madre-de-dios/tdh", "name": "x"}])", "partners[0].id"},
           {R"([{"id": "tdh", "name": "x"}])", "partners[0].id"},
           {R"([{"id": "cusco/", "name": "x"}])", "partners[0].id"},
           {R"([{"id": "cusco/T_D", "name": "x"}])", "partners[0].id"},
           {R"([{"id": "cusco/tdh", "name": "x"},
                {"id": "cusco/tdh", "name": "y"}])",
            "listed twice"},
           {R"([{"id": "cusco/tdh"}])", "partners[0].name"}}) {
    config = with_partners(partners, key);
    ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument)
        << partners;
    EXPECT_THAT(config.status().message(), HasSubstr(what)) << partners;
  }
}

TEST_F(ConfigTest, BackupNeedsBothSettingsAPrivateKeyAndADirectory) {
  const std::string storage =
      R"("storage": {"database": "sqlite:data/cusco.db"})";
  auto with_backup = [&](const std::string& backup) {
    return With(storage, absl::StrCat(storage, R"(, "backup": )", backup));
  };
  // Left out, or empty: no backups.
  ASSERT_TRUE(Parse(valid_).ok());
  EXPECT_TRUE(Parse(with_backup("{}")).ok());

  absl::StatusOr<v1::NodeConfig> config =
      Parse(with_backup(R"({"directory": "backups"})"));
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(),
              HasSubstr("set both backup.directory"));

  std::ofstream(dir_ + "/backup.key") << std::string(64, 'a') << "\n";
  ::chmod((dir_ + "/backup.key").c_str(), 0644);
  const std::string both =
      with_backup(R"({"directory": "backups", "key_file": "backup.key"})");
  config = Parse(both);
  ASSERT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(config.status().message(), HasSubstr("backup.key_file"));
  EXPECT_THAT(config.status().message(), HasSubstr("chmod 600"));

  ::chmod((dir_ + "/backup.key").c_str(), 0600);
  config = Parse(both);
  ASSERT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(config.status().message(),
              HasSubstr("backup.directory: " + dir_ + "/backups"));

  ASSERT_EQ(::mkdir((dir_ + "/backups").c_str(), 0700), 0);
  config = Parse(both);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->backup().directory(), dir_ + "/backups");
  EXPECT_EQ(config->backup().key_file(), dir_ + "/backup.key");
}

TEST_F(ConfigTest, LoadConfigMissingFile) {
  EXPECT_EQ(LoadConfig(dir_ + "/none.json").status().code(),
            absl::StatusCode::kNotFound);
}

// --- PostgreSQL storage --------------------------------------------------

constexpr char kSqliteDatabase[] =
    R"("storage": {"database": "sqlite:data/cusco.db"})";

TEST_F(ConfigTest, PostgresConnectionStringIsKeptAndTakeoverPollDefaults) {
  absl::StatusOr<v1::NodeConfig> config = Parse(With(
      kSqliteDatabase,
      R"("storage": {"database": "postgres:host=/run/postgresql dbname=ruta_cusco user=ruta"})"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(IsPostgres(config->storage().database()));
  EXPECT_EQ(*PostgresConninfo(config->storage().database()),
            "host=/run/postgresql dbname=ruta_cusco user=ruta");
  EXPECT_EQ(config->federation().relay_takeover_poll_ms(),
            kDefaultRelayTakeoverPollMs);
  // A URI without a password is fine too.
  EXPECT_TRUE(
      Parse(
          With(
              kSqliteDatabase,
              R"("storage": {"database": "postgres:postgresql://ruta@db.example:5433/ruta_cusco?sslmode=verify-full"})"))
          .ok());
}

TEST_F(ConfigTest, PasswordInTheConnectionStringIsRefusedWithoutEchoingIt) {
  for (const std::string& database : std::vector<std::string>{
           "postgres:host=db dbname=ruta password=Sekreto",
           "postgres:host=db password = 'Sekreto with spaces' dbname=ruta",
           "postgres:postgresql://ruta:Sekreto@db/ruta",
           "postgres:postgres://db/ruta?user=ruta&password=Sekreto",
       }) {
    SCOPED_TRACE(database);
    absl::StatusOr<v1::NodeConfig> config =
        Parse(With(kSqliteDatabase, absl::StrCat(R"("storage": {"database": ")",
                                                 database, R"("})")));
    ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(config.status().message(), HasSubstr("holds a password"));
    EXPECT_THAT(config.status().message(), HasSubstr("storage.password_file"));
    EXPECT_THAT(config.status().message(), HasSubstr("RUTA_DATABASE_PASSWORD"));
    EXPECT_THAT(config.status().message(),
                ::testing::Not(HasSubstr("Sekreto")));
  }
}

TEST_F(ConfigTest, MalformedOrEmptyConnectionString) {
  absl::StatusOr<v1::NodeConfig> config =
      Parse(With(kSqliteDatabase,
                 R"("storage": {"database": "postgres:host=db Sekreto"})"));
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(),
              HasSubstr("not a valid PostgreSQL connection string"));
  EXPECT_THAT(config.status().message(), ::testing::Not(HasSubstr("Sekreto")));
  config =
      Parse(With(kSqliteDatabase, R"("storage": {"database": "postgres:  "})"));
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(),
              HasSubstr("needs a connection string"));
}

TEST_F(ConfigTest, PasswordFileMustExistAndBePrivate) {
  const std::string postgres =
      R"("storage": {"database": "postgres:dbname=ruta", "password_file": "db.password"})";
  absl::StatusOr<v1::NodeConfig> config =
      Parse(With(kSqliteDatabase, postgres));
  ASSERT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(config.status().message(),
              HasSubstr(absl::StrCat("storage.password_file: file ", dir_,
                                     "/db.password is missing")));

  const std::string file = dir_ + "/db.password";
  std::ofstream(file) << "Sekreto\n";
  chmod(file.c_str(), 0640);
  config = Parse(With(kSqliteDatabase, postgres));
  ASSERT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(config.status().message(), HasSubstr("chmod 600"));

  chmod(file.c_str(), 0600);
  config = Parse(With(kSqliteDatabase, postgres));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->storage().password_file(), file);
  EXPECT_EQ(*DatabasePassword(config->storage()), "Sekreto");
}

TEST_F(ConfigTest, PasswordFileIsForPostgresOnly) {
  absl::StatusOr<v1::NodeConfig> config = Parse(With(
      kSqliteDatabase,
      R"("storage": {"database": "sqlite:data/cusco.db", "password_file": "x"})"));
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(),
              HasSubstr("storage.password_file is for a PostgreSQL database"));
}

TEST_F(ConfigTest, RelayTakeoverPollBounds) {
  const std::string postgres =
      R"("storage": {"database": "postgres:dbname=ruta"}, "federation": {"relay_takeover_poll_ms": )";
  absl::StatusOr<v1::NodeConfig> config =
      Parse(With(kSqliteDatabase, absl::StrCat(postgres, "250}")));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->federation().relay_takeover_poll_ms(), 250u);
  for (const char* bad : {"5}", "60001}"}) {
    config = Parse(With(kSqliteDatabase, absl::StrCat(postgres, bad)));
    ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(config.status().message(),
                HasSubstr("federation.relay_takeover_poll_ms"));
  }
}

TEST(DatabasePasswordTest, FileFirstLineThenEnvironmentThenNone) {
  const std::string dir = ruta::testing::MakeTempDir("dbpassword");
  v1::Storage storage;
  storage.set_database("postgres:dbname=ruta");
  unsetenv(kDatabasePasswordEnv);
  EXPECT_EQ(*DatabasePassword(storage), "");
  setenv(kDatabasePasswordEnv, "FromEnv", 1);
  EXPECT_EQ(*DatabasePassword(storage), "FromEnv");

  storage.set_password_file(dir + "/pw");
  std::ofstream(dir + "/pw") << "FromFile\r\nsecond line\n";
  EXPECT_EQ(*DatabasePassword(storage), "FromFile");  // the file wins
  std::ofstream(dir + "/pw", std::ios::trunc) << "\n";
  EXPECT_EQ(DatabasePassword(storage).status().code(),
            absl::StatusCode::kFailedPrecondition);
  storage.set_password_file(dir + "/missing");
  EXPECT_EQ(DatabasePassword(storage).status().code(),
            absl::StatusCode::kFailedPrecondition);
  unsetenv(kDatabasePasswordEnv);
}

}  // namespace
}  // namespace ruta::node
