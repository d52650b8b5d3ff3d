// Test PKI: a real development PKI (certs/pki.sh dev) generated once per test
// process into a temporary directory, with accessors for its files.
#ifndef RUTA_TESTING_PKI_H_
#define RUTA_TESTING_PKI_H_

#include <memory>
#include <string>
#include <vector>

namespace ruta::testing {

// A certificate chain and its private key on disk.
struct KeyPair {
  std::string cert_file;  // leaf followed by the intermediate
  std::string key_file;
};

class DevPki final {
 public:
  // The process-wide PKI, generated on first use (about 3 s). Aborts the test
  // binary with a message if the script fails.
  static const DevPki& Get();

  DevPki(const DevPki&) = delete;
  DevPki& operator=(const DevPki&) = delete;

  const std::string& dir() const { return dir_; }
  // DIR/<region>/<role>/<name>/{cert,key}.pem
  KeyPair Leaf(const std::string& region, const std::string& role,
               const std::string& name) const;
  KeyPair Node(const std::string& region) const {
    return Leaf(region, "node", "node");
  }
  // The default office of each region: puerto-maldonado in Madre de Dios,
  // main-office elsewhere.
  KeyPair Office(const std::string& region) const;
  // A leaf from a CA that no region trusts.
  KeyPair Rogue() const;
  std::string RootCa(const std::string& region) const;
  // DIR/<region>/crl/root.crl.pem and intermediate.crl.pem.
  std::vector<std::string> Crls(const std::string& region) const;
  // DIR/negative/<name>/{cert,key}.pem: the verifier's negative fixtures.
  KeyPair Negative(const std::string& name) const;

  // A private copy of this PKI (cp -a into a fresh temporary directory), for
  // a test that revokes, rotates or publishes CRLs without disturbing the
  // others. Same CAs, keys and certificates. Aborts the test binary if the
  // copy fails.
  std::unique_ptr<DevPki> Copy() const;
  // Runs certs/pki.sh with `args` and --out DIR; returns its exit code and
  // reports its output as a test failure when it is not 0.
  int RunPkiScript(const std::vector<std::string>& args) const;
  std::string TrustBundle() const;  // roots of all dev regions
  std::string LinkageKey() const;
  // DIR/linkage/partner.key: the partner master secret of the dev nodes.
  std::string PartnerKey() const;
  // DIR/<region>/partner/<name>: the dev partners "tdh" and "caritas".
  KeyPair Partner(const std::string& region, const std::string& name) const {
    return Leaf(region, "partner", name);
  }

 private:
  explicit DevPki(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

// A fresh empty directory under the test temp dir, unique per call.
std::string MakeTempDir(const std::string& prefix);

// The repository root and built binaries (set by CMake).
std::string SourceDir();
std::string NodeBinary();
std::string CliBinary();

}  // namespace ruta::testing

#endif  // RUTA_TESTING_PKI_H_
