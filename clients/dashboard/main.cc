// `ruta-dashboard`: the mayors' network dashboard (README.md). Serves the
// web page over HTTPS and reads the tables from a node's Dashboard service
// over mutual TLS; `ruta-dashboard account ...` manages the staff accounts.
#include <signal.h>

#include <iostream>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "ruta/common/process_setup.h"
#include "ruta/dashboard/config.h"
#include "ruta/dashboard/node_table_source.h"
#include "ruta/dashboard/web_server.h"
#include "ruta/web/account_cli.h"
#include "ruta/web/accounts.h"
#include "ruta/web/serve.h"
#include "ruta/web/sessions.h"
#include "spdlog/spdlog.h"

#ifndef RUTA_DASHBOARD_WEB_ROOT
#define RUTA_DASHBOARD_WEB_ROOT ""
#endif

namespace {

using ruta::dashboard::DashboardConfig;

int Fail(const std::string& message) {
  std::cerr << "ruta-dashboard: " << message << "\n";
  return 2;
}

int Serve(const DashboardConfig& config) {
  if (absl::Status s = ruta::dashboard::ValidateConfig(config); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  const sigset_t signals = ruta::web::BlockStopSignals();

  ruta::web::AccountStore::Options account_options;
  auto accounts =
      ruta::web::AccountStore::Open(config.accounts_file, account_options);
  if (!accounts.ok()) return Fail(std::string(accounts.status().message()));
  ruta::web::SessionStore::Options session_options;
  session_options.idle_timeout = absl::Minutes(config.session_idle_minutes);
  ruta::web::SessionStore sessions(session_options);

  ruta::dashboard::NodeTableSource::Options node;
  node.address = config.node_address;
  node.node_region = config.node_region;
  node.ca_file = config.ca_file;
  node.cert_file = config.client_cert_file;
  node.key_file = config.client_key_file;
  node.deadline = absl::Seconds(config.rpc_timeout_seconds);
  auto tables = ruta::dashboard::NodeTableSource::Create(node);
  if (!tables.ok()) return Fail(std::string(tables.status().message()));

  ruta::dashboard::WebServer::Options web_options;
  if (!config.insecure_dev_http) {
    web_options.tls_cert_file = config.tls_cert_file;
    web_options.tls_key_file = config.tls_key_file;
  }
  web_options.web_root = config.web_root;
  web_options.accounts = accounts->get();
  web_options.sessions = &sessions;
  web_options.tables = tables->get();
  auto web = ruta::dashboard::WebServer::Create(web_options);
  if (!web.ok()) return Fail(std::string(web.status().message()));

  ruta::dashboard::WebServer* server = web->get();
  return ruta::web::ServeUntilStopped(
      signals, "ruta-dashboard", config.listen_address, config.port_file,
      absl::StrCat(
          config.insecure_dev_http ? "plain HTTP (development only)" : "HTTPS",
          " (node ", config.node_address, ")"),
      {[server](const std::string& host, int port) {
         return server->Bind(host, port);
       },
       [server] { server->Run(); }, [server] { server->Stop(); }});
}

}  // namespace

int main(int argc, char** argv) {
  ruta::common::DisableMutexDeadlockDetection();
  CLI::App app{
      "ruta-dashboard: the mayors' network dashboard (aggregates only)"};
  app.require_subcommand(0, 1);
  DashboardConfig config;
  config.web_root = RUTA_DASHBOARD_WEB_ROOT;
  app.add_option("--node", config.node_address,
                 "the node's gRPC address (host:port)");
  app.add_option("--node-region", config.node_region,
                 "the region whose node identity the node must present");
  app.add_option("--ca", config.ca_file, "PEM roots the node must chain to");
  app.add_option("--cert", config.client_cert_file,
                 "the dashboard's client certificate chain (PEM)");
  app.add_option("--key", config.client_key_file,
                 "the dashboard's client key (PEM)");
  app.add_option("--listen", config.listen_address,
                 "HTTPS listen address host:port (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--tls-cert", config.tls_cert_file,
                 "the HTTPS server certificate chain (PEM)");
  app.add_option("--tls-key", config.tls_key_file,
                 "the HTTPS server key (PEM)");
  app.add_flag("--insecure-dev-http", config.insecure_dev_http,
               "serve plain HTTP (development only; loopback addresses only)");
  app.add_option("--accounts", config.accounts_file,
                 "the accounts file (mode 0600)");
  app.add_option("--session-idle-minutes", config.session_idle_minutes,
                 "a session unused this long ends")
      ->capture_default_str();
  app.add_option("--rpc-timeout-seconds", config.rpc_timeout_seconds,
                 "deadline of each call to the node")
      ->capture_default_str();
  app.add_option("--port-file", config.port_file,
                 "write the port chosen to this file once listening");
  app.add_option("--web-root", config.web_root,
                 "folder of index.html, app.js, style.css, chart.umd.js")
      ->capture_default_str();

  ruta::web::AccountCli account;
  ruta::web::AddAccountCommands(app, "staff", &account);

  CLI11_PARSE(app, argc, argv);
  if (std::optional<int> code =
          ruta::web::RunAccountCommand(account, "ruta-dashboard")) {
    return *code;
  }
  return Serve(config);
}
