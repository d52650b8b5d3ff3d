#include "ruta/dashboard/config.h"

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/testing/pki.h"

namespace ruta::dashboard {
namespace {

using ::testing::HasSubstr;

// A configuration whose every file exists.
DashboardConfig Valid() {
  const std::string dir = testing::MakeTempDir("dashboard-config");
  auto file = [&dir](const std::string& name) {
    std::ofstream(dir + "/" + name) << "x";
    return dir + "/" + name;
  };
  DashboardConfig c;
  c.node_address = "127.0.0.1:7443";
  c.ca_file = file("ca.pem");
  c.client_cert_file = file("cert.pem");
  c.client_key_file = file("key.pem");
  c.tls_cert_file = file("https.pem");
  c.tls_key_file = file("https-key.pem");
  c.accounts_file = file("accounts");
  c.listen_address = "0.0.0.0:8443";
  c.web_root = dir;
  return c;
}

TEST(DashboardConfigTest, HttpsOnAnyAddressIsValid) {
  EXPECT_TRUE(ValidateConfig(Valid()).ok()) << ValidateConfig(Valid());
}

TEST(DashboardConfigTest, PlainHttpOnANonLoopbackAddressIsRefused) {
  for (const char* address :
       {"0.0.0.0:8080", "192.168.1.10:8080", "[::]:8080", "example.org:80"}) {
    DashboardConfig c = Valid();
    c.tls_cert_file.clear();
    c.tls_key_file.clear();
    c.insecure_dev_http = true;
    c.listen_address = address;
    absl::Status s = ValidateConfig(c);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << address;
    EXPECT_THAT(s.message(), HasSubstr("loopback")) << address;
  }
}

TEST(DashboardConfigTest, PlainHttpOnLoopbackNeedsTheExplicitFlag) {
  DashboardConfig c = Valid();
  c.tls_cert_file.clear();
  c.tls_key_file.clear();
  c.listen_address = "127.0.0.1:0";
  EXPECT_THAT(ValidateConfig(c).message(), HasSubstr("--tls-cert"));
  c.insecure_dev_http = true;
  EXPECT_TRUE(ValidateConfig(c).ok());
  c.listen_address = "[::1]:8080";
  EXPECT_TRUE(ValidateConfig(c).ok());
  c.listen_address = "localhost:8080";
  EXPECT_TRUE(ValidateConfig(c).ok());
}

TEST(DashboardConfigTest, MissingSettingsAndFilesAreNamed) {
  DashboardConfig c = Valid();
  c.node_address.clear();
  EXPECT_THAT(ValidateConfig(c).message(), HasSubstr("--node"));
  c = Valid();
  c.accounts_file = "/nonexistent/accounts";
  EXPECT_THAT(ValidateConfig(c).message(), HasSubstr("/nonexistent/accounts"));
  c = Valid();
  c.session_idle_minutes = 0;
  EXPECT_FALSE(ValidateConfig(c).ok());
  c = Valid();
  c.listen_address = "8443";
  EXPECT_FALSE(ValidateConfig(c).ok());
}

}  // namespace
}  // namespace ruta::dashboard
