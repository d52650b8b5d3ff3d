// Configuration of ruta-console (command-line flags, clients/console
// README.md) and its validation.
#ifndef RUTA_CONSOLE_CONFIG_H_
#define RUTA_CONSOLE_CONFIG_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace ruta::console {

struct ConsoleConfig {
  // The office's region (slug, e.g. "cusco"); the node must present a node
  // identity of this region. Required.
  std::string region;
  // UBIGEO department (2 digits) of `region`: the provinces offered in the
  // forms. Default: the pilot's ("cusco" 08, "madre-de-dios" 17).
  std::string department;
  // Regions cases can be transferred to, slug -> department. Default: the
  // other pilot region.
  std::map<std::string, std::string> peer_departments;
  // The node's gRPC address ("host:port"). Required.
  std::string node_address;
  // PEM roots the node's certificate must chain to. Required.
  std::string ca_file;
  // The office's client certificate chain and key
  // (spiffe://<region>.ruta.pe/office/<name>). Required.
  std::string client_cert_file;
  std::string client_key_file;
  // HTTPS listen address "host:port" (port 0: any free port).
  std::string listen_address = "127.0.0.1:8444";
  // The HTTPS server's certificate chain and key. Required unless
  // insecure_dev_http.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Plain HTTP, for development only: allowed only on a loopback address.
  bool insecure_dev_http = false;
  // The clerks' accounts file (mode 0600). Required.
  std::string accounts_file;
  // A session unused for this long ends (1 s to 24 h).
  absl::Duration session_idle = absl::Minutes(30);
  // Deadline of each call to the node (1 to 60 s).
  absl::Duration rpc_timeout = absl::Seconds(5);
  // A transfer REQUESTED for more than this many days is listed as waiting
  // too long on the home page (1 to 365).
  int waiting_days = 7;
  // A case in FOLLOW_UP not updated for this many days is listed as an
  // overdue follow-up (1 to 3650).
  int follow_up_days = 90;
  // If non-empty, the chosen port is written there once listening.
  std::string port_file;
  // The folder of console.js and style.css.
  std::string web_root;
};

// The pilot's department of a region slug ("cusco" -> "08",
// "madre-de-dios" -> "17"); "" for another slug.
std::string PilotDepartment(const std::string& region);

// Fills department and peer_departments from the pilot's regions when they
// are not set. Then checks everything before anything starts: required
// settings present, ranges, plain HTTP only on loopback, every file
// readable. INVALID_ARGUMENT / FAILED_PRECONDITION with a message saying
// what to fix.
absl::Status CompleteAndValidateConfig(ConsoleConfig* config);

}  // namespace ruta::console

#endif  // RUTA_CONSOLE_CONFIG_H_
