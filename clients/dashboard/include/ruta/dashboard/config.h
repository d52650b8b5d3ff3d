// Configuration of ruta-dashboard (command-line flags, clients/dashboard
// README.md) and its validation.
#ifndef RUTA_DASHBOARD_CONFIG_H_
#define RUTA_DASHBOARD_CONFIG_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ruta::dashboard {

struct DashboardConfig {
  // The node's gRPC address ("host:port"). Required.
  std::string node_address;
  // If non-empty, the node must present a node identity of this region.
  std::string node_region;
  // PEM roots the node's certificate must chain to. Required.
  std::string ca_file;
  // The dashboard's client certificate chain and key (a
  // spiffe://<region>.ruta.pe/dashboard/<name> leaf). Required.
  std::string client_cert_file;
  std::string client_key_file;
  // HTTPS listen address "host:port" (port 0: any free port). Default
  // 127.0.0.1:8443.
  std::string listen_address = "127.0.0.1:8443";
  // The HTTPS server's certificate chain and key. Required unless
  // insecure_dev_http.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Plain HTTP, for development only: allowed only on a loopback address.
  bool insecure_dev_http = false;
  // The accounts file (mode 0600). Required.
  std::string accounts_file;
  // A session unused for this long ends (minutes, 1..1440). Default 30.
  int session_idle_minutes = 30;
  // Deadline of each call to the node (seconds, 1..60). Default 5.
  int rpc_timeout_seconds = 5;
  // If non-empty, the chosen port is written there once listening.
  std::string port_file;
  // The folder of index.html, app.js, style.css and chart.umd.js.
  std::string web_root;
};

// Checks a configuration before anything starts: required settings present,
// ranges, plain HTTP only on loopback, and every file readable.
// INVALID_ARGUMENT / FAILED_PRECONDITION with a message saying what to fix.
absl::Status ValidateConfig(const DashboardConfig& config);

}  // namespace ruta::dashboard

#endif  // RUTA_DASHBOARD_CONFIG_H_
