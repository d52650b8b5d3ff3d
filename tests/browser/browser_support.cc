#include "browser_support.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "ruta/testing/node.h"
#include "ruta/testing/pki.h"

namespace ruta::browser {

void Say(const std::string& line) {
  std::printf("[browser] %s\n", line.c_str());
  std::fflush(stdout);
}

bool BrowserToolsPresent(std::string* chromium) {
  const char* chromium_env = std::getenv("RUTA_CHROMIUM");
  *chromium = chromium_env != nullptr ? chromium_env : "/usr/bin/chromium";
  if (access(chromium->c_str(), X_OK) != 0) {
    ADD_FAILURE() << "Chromium not found at " << *chromium
                  << ": install Debian's chromium (scripts/install-deps.sh) "
                     "or set RUTA_CHROMIUM";
    return false;
  }
  const std::string playwright =
      testing::SourceDir() + "/node_modules/playwright-core/package.json";
  if (!std::filesystem::exists(playwright)) {
    ADD_FAILURE() << playwright
                  << " missing: run scripts/install-deps.sh (npm ci) at the "
                     "repository root";
    return false;
  }
  if (testing::RunProcess({"/usr/bin/env", "node", "--version"}).exit_code !=
      0) {
    ADD_FAILURE() << "Node.js not found (apt-get install nodejs npm)";
    return false;
  }
  return true;
}

std::unique_ptr<NodeProcess> StartNode(
    const std::string& prefix, const std::string& region,
    const std::map<std::string, int>& ports) {
  auto node = std::make_unique<NodeProcess>();
  node->region = region;
  node->port = ports.at(region);
  node->data_dir = testing::MakeTempDir(absl::StrCat(prefix, "-", region));
  const std::string peer = region == kCusco ? kMdd : kCusco;
  testing::NodeSetup setup;
  setup.region = region;
  setup.data_dir = node->data_dir;
  setup.listen_address = node->address();
  setup.peers = {{peer, absl::StrCat("127.0.0.1:", ports.at(peer))}};
  setup.relay_initial_backoff_ms = 50;
  setup.relay_max_backoff_ms = 500;
  const std::string config =
      testing::WriteNodeConfig(testing::DevPki::Get(), setup);
  const std::string tmp = node->data_dir + "/tmp";
  std::filesystem::create_directories(tmp);
  node->process = std::make_unique<testing::BackgroundProcess>(
      std::vector<std::string>{"/usr/bin/env", "TMPDIR=" + tmp,
                               "SQLITE_TMPDIR=" + tmp, testing::NodeBinary(),
                               "--config", config},
      node->data_dir + "/node");
  const int served =
      testing::WaitForPortFile(node->data_dir + "/port", absl::Seconds(20));
  EXPECT_EQ(served, node->port) << region << " did not start:\n"
                                << node->process->Stderr();
  return node;
}

bool MakeHttpsCertificate(const std::string& dir, std::string* cert,
                          std::string* key) {
  *cert = dir + "/https-cert.pem";
  *key = dir + "/https-key.pem";
  testing::ProcessResult r = testing::RunProcess(
      {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
       "ec_paramgen_curve:P-256", "-nodes", "-keyout", *key, "-out", *cert,
       "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
       "subjectAltName=IP:127.0.0.1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0;
}

}  // namespace ruta::browser
