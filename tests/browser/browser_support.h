// What both browser tests need: the browser tools checked, two real
// ruta-node processes that are peers of each other, and a self-signed HTTPS
// certificate for the web client under test.
#ifndef RUTA_TESTS_BROWSER_BROWSER_SUPPORT_H_
#define RUTA_TESTS_BROWSER_BROWSER_SUPPORT_H_

#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "ruta/testing/subprocess.h"

namespace ruta::browser {

inline constexpr char kCusco[] = "cusco";
inline constexpr char kMdd[] = "madre-de-dios";

// Prints "[browser] <line>" at once.
void Say(const std::string& line);

// Chromium ($RUTA_CHROMIUM or /usr/bin/chromium), playwright-core under
// node_modules and Node.js: true when all are there; otherwise a test
// failure saying how to install the missing one (never a skip). Sets
// `chromium` to the browser's path.
bool BrowserToolsPresent(std::string* chromium);

struct NodeProcess {
  std::string region;
  std::string data_dir;
  int port = 0;
  std::unique_ptr<testing::BackgroundProcess> process;
  std::string address() const { return absl::StrCat("127.0.0.1:", port); }
};

// Starts the node of `region` (cusco or madre-de-dios) on its port in
// `ports`, the other region as its peer, in a fresh directory named after
// `prefix`; its temporary files (SQLite's) land in that directory too, so
// that a scan of it sees everything the node wrote. A node that does not
// start is a test failure (with its stderr).
std::unique_ptr<NodeProcess> StartNode(const std::string& prefix,
                                       const std::string& region,
                                       const std::map<std::string, int>& ports);

// A self-signed HTTPS certificate for 127.0.0.1 in `dir` (the browser is
// told to accept it: the tests are about the pages, not the web PKI).
bool MakeHttpsCertificate(const std::string& dir, std::string* cert,
                          std::string* key);

}  // namespace ruta::browser

#endif  // RUTA_TESTS_BROWSER_BROWSER_SUPPORT_H_
