#include "ruta/cli/config.h"

#include <filesystem>
#include <fstream>
#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ruta::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

Environment FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

ConnectionFlags WithConfig(const std::string& path) {
  ConnectionFlags flags;
  flags.config = path;
  return flags;
}

ConnectionFlags WithCert(const std::string& path) {
  ConnectionFlags flags;
  flags.cert = path;
  return flags;
}

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::path(::testing::TempDir()) /
        ("ruta_cli_config_" +
         std::string(
             ::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path.string();
  }

  fs::path dir_;
};

constexpr char kFullConfig[] = R"({
  "node": "file-node:7443",
  "cert": "certs/office.pem",
  "key": "/abs/office.key",
  "ca": "ca.pem",
  "server_region": "Cuzco",
  "timeout_seconds": 30
})";

TEST_F(ConfigTest, FileValuesWithPathsRelativeToTheFile) {
  const std::string path = Write("conf/config.json", kFullConfig);
  absl::StatusOr<ConnectionSettings> settings =
      LoadConnectionSettings(WithConfig(path), FakeEnv({}));
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->node, "file-node:7443");
  EXPECT_EQ(settings->cert_file, (dir_ / "conf/certs/office.pem").string());
  EXPECT_EQ(settings->key_file, "/abs/office.key");
  EXPECT_EQ(settings->ca_file, (dir_ / "conf/ca.pem").string());
  EXPECT_EQ(settings->server_region, "cusco");
  EXPECT_EQ(settings->timeout, absl::Seconds(30));
  EXPECT_EQ(settings->config_file, path);
}

TEST_F(ConfigTest, FlagBeatsEnvironmentBeatsFile) {
  const std::string path = Write("config.json", kFullConfig);
  const Environment env = FakeEnv({{"RUTA_NODE", "env-node:1"},
                                   {"RUTA_CERT", "env.pem"},
                                   {"RUTA_TIMEOUT", "20"},
                                   {"RUTA_CONFIG", path}});
  ConnectionFlags flags;
  flags.node = "flag-node:2";
  absl::StatusOr<ConnectionSettings> settings =
      LoadConnectionSettings(flags, env);
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->node, "flag-node:2");                  // flag
  EXPECT_EQ(settings->cert_file, "env.pem");                 // environment
  EXPECT_EQ(settings->ca_file, (dir_ / "ca.pem").string());  // file
  EXPECT_EQ(settings->timeout, absl::Seconds(20));           // environment

  flags.timeout_seconds = 2.5;
  settings = LoadConnectionSettings(flags, env);
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->timeout, absl::Milliseconds(2500));  // flag
}

TEST_F(ConfigTest, EmptyEnvironmentVariablesAreUnset) {
  const std::string path = Write("config.json", kFullConfig);
  absl::StatusOr<ConnectionSettings> settings =
      LoadConnectionSettings(WithConfig(path), FakeEnv({{"RUTA_NODE", ""}}));
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->node, "file-node:7443");
}

TEST_F(ConfigTest, DefaultFileUnderXdgConfigHome) {
  Write("xdg/ruta/config.json", kFullConfig);
  absl::StatusOr<ConnectionSettings> settings = LoadConnectionSettings(
      {}, FakeEnv({{"XDG_CONFIG_HOME", (dir_ / "xdg").string()},
                   {"HOME", (dir_ / "home").string()}}));
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->node, "file-node:7443");
}

TEST_F(ConfigTest, DefaultFileUnderHome) {
  Write("home/.config/ruta/config.json", kFullConfig);
  absl::StatusOr<ConnectionSettings> settings =
      LoadConnectionSettings({}, FakeEnv({{"HOME", (dir_ / "home").string()}}));
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->node, "file-node:7443");
}

TEST_F(ConfigTest, ExplicitConfigFileMustExist) {
  absl::StatusOr<ConnectionSettings> settings = LoadConnectionSettings(
      {}, FakeEnv({{"RUTA_CONFIG", (dir_ / "nope.json").string()}}));
  ASSERT_FALSE(settings.ok());
  EXPECT_THAT(settings.status().message(), HasSubstr("RUTA_CONFIG"));
}

TEST_F(ConfigTest, UnknownKeyIsAnErrorNamingIt) {
  const std::string path =
      Write("config.json", R"({"node": "n:1", "nodes": "typo:1"})");
  absl::StatusOr<ConnectionSettings> settings =
      LoadConnectionSettings(WithConfig(path), FakeEnv({}));
  ASSERT_FALSE(settings.ok());
  EXPECT_EQ(settings.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(settings.status().message(), HasSubstr("\"nodes\""));
  EXPECT_THAT(settings.status().message(), HasSubstr(path));
}

TEST_F(ConfigTest, WrongTypesAndBadJson) {
  EXPECT_THAT(ParseConfigFile(R"({"timeout_seconds": "15"})", "c.json")
                  .status()
                  .message(),
              HasSubstr("timeout_seconds"));
  EXPECT_THAT(ParseConfigFile(R"({"node": 7443})", "c.json").status().message(),
              HasSubstr("\"node\""));
  EXPECT_FALSE(ParseConfigFile("{", "c.json").ok());
  EXPECT_FALSE(ParseConfigFile("[]", "c.json").ok());
  EXPECT_FALSE(ParseConfigFile(R"({"timeout_seconds": -1})", "c.json").ok());
}

TEST_F(ConfigTest, MissingSettingsNameFlagEnvironmentAndKey) {
  absl::StatusOr<ConnectionSettings> settings =
      ResolveSettings(WithCert("c.pem"), FakeEnv({}), std::nullopt);
  ASSERT_FALSE(settings.ok());
  const std::string message(settings.status().message());
  EXPECT_THAT(message, HasSubstr("--node"));
  EXPECT_THAT(message, HasSubstr("RUTA_NODE"));
  EXPECT_THAT(message, HasSubstr("\"node\""));
  EXPECT_THAT(message, HasSubstr("--key"));
  EXPECT_THAT(message, HasSubstr("RUTA_CA"));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("--cert")));
}

TEST_F(ConfigTest, BadValues) {
  ConnectionFlags base;
  base.node = "n:1";
  base.cert = "c";
  base.key = "k";
  base.ca = "a";
  EXPECT_TRUE(ResolveSettings(base, FakeEnv({}), std::nullopt).ok());
  EXPECT_FALSE(
      ResolveSettings(base, FakeEnv({{"RUTA_TIMEOUT", "soon"}}), std::nullopt)
          .ok());
  ConnectionFlags flags = base;
  flags.timeout_seconds = 0;
  EXPECT_FALSE(ResolveSettings(flags, FakeEnv({}), std::nullopt).ok());
  flags = base;
  flags.server_region = "cusco!";
  EXPECT_FALSE(ResolveSettings(flags, FakeEnv({}), std::nullopt).ok());
  flags = base;
  flags.node = "no-port";
  EXPECT_THAT(
      ResolveSettings(flags, FakeEnv({}), std::nullopt).status().message(),
      HasSubstr("--node"));
}

TEST(NodeAddressTest, Forms) {
  EXPECT_TRUE(ValidateNodeAddress("localhost:7443").ok());
  EXPECT_TRUE(ValidateNodeAddress("127.0.0.1:1").ok());
  EXPECT_TRUE(ValidateNodeAddress("[::1]:7443").ok());
  EXPECT_TRUE(ValidateNodeAddress("dns:///ruta.cusco.example:7443").ok());
  EXPECT_TRUE(ValidateNodeAddress("unix:/run/ruta.sock").ok());
  EXPECT_FALSE(ValidateNodeAddress("localhost").ok());
  EXPECT_FALSE(ValidateNodeAddress("localhost:0").ok());
  EXPECT_FALSE(ValidateNodeAddress("localhost:70000").ok());
  EXPECT_FALSE(ValidateNodeAddress(":7443").ok());
  EXPECT_FALSE(ValidateNodeAddress("bad host:1").ok());
}

}  // namespace
}  // namespace ruta::cli
