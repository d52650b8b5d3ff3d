// ruta-console's configuration (config.h): the pilot's defaults and every
// check made before anything starts.
#include "ruta/console/config.h"

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/testing/pki.h"

namespace ruta::console {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// A configuration of Madre de Dios' console whose every file exists.
ConsoleConfig Valid() {
  const std::string dir = testing::MakeTempDir("console-config");
  auto file = [&dir](const std::string& name) {
    std::ofstream(dir + "/" + name) << "x";
    return dir + "/" + name;
  };
  ConsoleConfig c;
  c.region = "madre-de-dios";
  c.node_address = "127.0.0.1:7443";
  c.ca_file = file("ca.pem");
  c.client_cert_file = file("cert.pem");
  c.client_key_file = file("key.pem");
  c.tls_cert_file = file("https.pem");
  c.tls_key_file = file("https-key.pem");
  c.accounts_file = file("accounts");
  c.listen_address = "0.0.0.0:8445";
  c.web_root = dir;
  return c;
}

TEST(ConsoleConfigTest, ThePilotsDepartmentsAreTheDefaults) {
  EXPECT_EQ(PilotDepartment("cusco"), "08");
  EXPECT_EQ(PilotDepartment("madre-de-dios"), "17");
  EXPECT_EQ(PilotDepartment("puno"), "");

  ConsoleConfig c = Valid();
  ASSERT_TRUE(CompleteAndValidateConfig(&c).ok());
  EXPECT_EQ(c.department, "17");
  EXPECT_THAT(c.peer_departments, ElementsAre(Pair("cusco", "08")));

  c = Valid();
  c.region = "cusco";
  ASSERT_TRUE(CompleteAndValidateConfig(&c).ok());
  EXPECT_EQ(c.department, "08");
  EXPECT_THAT(c.peer_departments, ElementsAre(Pair("madre-de-dios", "17")));

  // Another region names its department; its peers default to the pilot's.
  c = Valid();
  c.region = "puno";
  c.department = "21";
  ASSERT_TRUE(CompleteAndValidateConfig(&c).ok());
  EXPECT_THAT(c.peer_departments,
              ElementsAre(Pair("cusco", "08"), Pair("madre-de-dios", "17")));
  // Explicit peers are kept as given.
  c = Valid();
  c.peer_departments = {{"puno", "21"}};
  ASSERT_TRUE(CompleteAndValidateConfig(&c).ok());
  EXPECT_THAT(c.peer_departments, ElementsAre(Pair("puno", "21")));
}

TEST(ConsoleConfigTest, PlainHttpOnlyOnLoopback) {
  for (const char* address : {"127.0.0.1:8445", "[::1]:8445", "localhost:0"}) {
    ConsoleConfig c = Valid();
    c.tls_cert_file.clear();
    c.tls_key_file.clear();
    c.insecure_dev_http = true;
    c.listen_address = address;
    EXPECT_TRUE(CompleteAndValidateConfig(&c).ok()) << address;
  }
  for (const char* address :
       {"0.0.0.0:8445", "192.168.1.10:8445", "[::]:8445", "example.org:80"}) {
    ConsoleConfig c = Valid();
    c.insecure_dev_http = true;
    c.listen_address = address;
    const absl::Status s = CompleteAndValidateConfig(&c);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << address;
    EXPECT_THAT(s.message(), HasSubstr("loopback")) << address;
  }
}

TEST(ConsoleConfigTest, EachProblemIsNamed) {
  struct Case {
    std::function<void(ConsoleConfig&)> change;
    absl::StatusCode code;
    std::string part;
  };
  const std::vector<Case> cases = {
      {[](ConsoleConfig& c) { c.region.clear(); },
       absl::StatusCode::kInvalidArgument, "--region is required"},
      {[](ConsoleConfig& c) { c.region = "Madre de Dios"; },
       absl::StatusCode::kInvalidArgument, "--region must be a region slug"},
      {[](ConsoleConfig& c) { c.region = "puno"; },
       absl::StatusCode::kInvalidArgument, "--department must be"},
      {[](ConsoleConfig& c) { c.department = "26"; },
       absl::StatusCode::kInvalidArgument, "--department must be"},
      {[](ConsoleConfig& c) { c.department = "00"; },
       absl::StatusCode::kInvalidArgument, "--department must be"},
      {[](ConsoleConfig& c) {
         c.peer_departments = {{"cusco", ""}};
       },
       absl::StatusCode::kInvalidArgument, "--peer must be SLUG=DD"},
      {[](ConsoleConfig& c) {
         c.peer_departments = {{"madre-de-dios", "17"}};
       },
       absl::StatusCode::kInvalidArgument, "--peer must be SLUG=DD"},
      {[](ConsoleConfig& c) {
         c.peer_departments = {{"Cusco", "08"}};
       },
       absl::StatusCode::kInvalidArgument, "--peer must be SLUG=DD"},
      {[](ConsoleConfig& c) { c.node_address.clear(); },
       absl::StatusCode::kInvalidArgument, "--node is required"},
      {[](ConsoleConfig& c) { c.ca_file.clear(); },
       absl::StatusCode::kInvalidArgument, "--ca is required"},
      {[](ConsoleConfig& c) { c.ca_file += ".missing"; },
       absl::StatusCode::kFailedPrecondition, "--ca"},
      {[](ConsoleConfig& c) { c.client_cert_file += ".missing"; },
       absl::StatusCode::kFailedPrecondition,
       "--cert (the office certificate)"},
      {[](ConsoleConfig& c) { c.client_key_file.clear(); },
       absl::StatusCode::kInvalidArgument, "--key"},
      {[](ConsoleConfig& c) { c.tls_cert_file.clear(); },
       absl::StatusCode::kInvalidArgument, "--tls-cert"},
      {[](ConsoleConfig& c) { c.tls_key_file += ".missing"; },
       absl::StatusCode::kFailedPrecondition, "--tls-key"},
      {[](ConsoleConfig& c) { c.listen_address = "8445"; },
       absl::StatusCode::kInvalidArgument, ""},
      {[](ConsoleConfig& c) { c.accounts_file.clear(); },
       absl::StatusCode::kInvalidArgument, "--accounts is required"},
      {[](ConsoleConfig& c) { c.session_idle = absl::Milliseconds(500); },
       absl::StatusCode::kInvalidArgument, "--session-idle"},
      {[](ConsoleConfig& c) { c.session_idle = absl::Hours(25); },
       absl::StatusCode::kInvalidArgument, "--session-idle"},
      {[](ConsoleConfig& c) { c.rpc_timeout = absl::Seconds(61); },
       absl::StatusCode::kInvalidArgument, "--rpc-timeout"},
      {[](ConsoleConfig& c) { c.waiting_days = 0; },
       absl::StatusCode::kInvalidArgument, "--waiting-days"},
      {[](ConsoleConfig& c) { c.follow_up_days = 3651; },
       absl::StatusCode::kInvalidArgument, "--follow-up-days"},
      {[](ConsoleConfig& c) { c.web_root.clear(); },
       absl::StatusCode::kInvalidArgument, "--web-root is required"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].part + " #" + std::to_string(i));
    ConsoleConfig c = Valid();
    cases[i].change(c);
    const absl::Status s = CompleteAndValidateConfig(&c);
    EXPECT_EQ(s.code(), cases[i].code) << s;
    EXPECT_THAT(s.message(), HasSubstr(cases[i].part));
  }
}

}  // namespace
}  // namespace ruta::console
