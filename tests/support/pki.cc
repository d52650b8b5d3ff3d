#include "ruta/testing/pki.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "ruta/testing/subprocess.h"

namespace ruta::testing {

namespace fs = std::filesystem;

const DevPki& DevPki::Get() {
  static const DevPki* pki = [] {
    const std::string dir = MakeTempDir("pki");
    const ProcessResult result = RunProcess(
        {"/bin/bash", SourceDir() + "/certs/pki.sh", "dev", "--out", dir},
        absl::Seconds(120));
    if (result.exit_code != 0) {
      std::fprintf(stderr, "certs/pki.sh dev failed (%d):\n%s\n%s\n",
                   result.exit_code, result.out.c_str(), result.err.c_str());
      std::abort();
    }
    return new DevPki(dir);
  }();
  return *pki;
}

KeyPair DevPki::Leaf(const std::string& region, const std::string& role,
                     const std::string& name) const {
  const std::string base =
      absl::StrCat(dir_, "/", region, "/", role, "/", name);
  return KeyPair{base + "/cert.pem", base + "/key.pem"};
}

KeyPair DevPki::Office(const std::string& region) const {
  return Leaf(region, "office",
              region == "madre-de-dios" ? "puerto-maldonado" : "main-office");
}

KeyPair DevPki::Rogue() const {
  return KeyPair{dir_ + "/rogue/office/rogue/cert.pem",
                 dir_ + "/rogue/office/rogue/key.pem"};
}

std::string DevPki::RootCa(const std::string& region) const {
  return absl::StrCat(dir_, "/", region, "/ca/root.pem");
}

std::vector<std::string> DevPki::Crls(const std::string& region) const {
  const std::string base = absl::StrCat(dir_, "/", region, "/crl/");
  return {base + "root.crl.pem", base + "intermediate.crl.pem"};
}

KeyPair DevPki::Negative(const std::string& name) const {
  const std::string base = absl::StrCat(dir_, "/negative/", name);
  return KeyPair{base + "/cert.pem", base + "/key.pem"};
}

std::unique_ptr<DevPki> DevPki::Copy() const {
  const std::string dir = MakeTempDir("pki-copy");
  const ProcessResult result =
      RunProcess({"/bin/cp", "-a", "-T", dir_, dir}, absl::Seconds(60));
  if (result.exit_code != 0) {
    std::fprintf(stderr, "cp -a %s %s failed (%d):\n%s\n", dir_.c_str(),
                 dir.c_str(), result.exit_code, result.err.c_str());
    std::abort();
  }
  return std::unique_ptr<DevPki>(new DevPki(dir));
}

int DevPki::RunPkiScript(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"/bin/bash", SourceDir() + "/certs/pki.sh"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--out");
  argv.push_back(dir_);
  const ProcessResult result = RunProcess(argv, absl::Seconds(60));
  EXPECT_EQ(result.exit_code, 0)
      << "certs/pki.sh " << absl::StrJoin(args, " ") << ":\n"
      << result.out << result.err;
  return result.exit_code;
}

std::string DevPki::TrustBundle() const { return dir_ + "/trust/roots.pem"; }

std::string DevPki::LinkageKey() const { return dir_ + "/linkage/linkage.key"; }
std::string DevPki::PartnerKey() const { return dir_ + "/linkage/partner.key"; }

std::string MakeTempDir(const std::string& prefix) {
  static std::mutex mu;
  static int counter = 0;
  std::lock_guard<std::mutex> lock(mu);
  const char* base = std::getenv("TEST_TMPDIR");
  fs::path root = base != nullptr ? fs::path(base) : fs::temp_directory_path();
  for (;;) {
    fs::path dir =
        root / absl::StrCat("ruta-", prefix, "-", ::getpid(), "-", counter++);
    std::error_code ec;
    if (fs::create_directories(dir, ec)) {
      fs::permissions(dir, fs::perms::owner_all, ec);
      return dir.string();
    }
  }
}

std::string SourceDir() { return RUTA_SOURCE_DIR; }
std::string NodeBinary() { return RUTA_NODE_BINARY; }
std::string CliBinary() { return RUTA_CLI_BINARY; }

}  // namespace ruta::testing
