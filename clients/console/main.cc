// `ruta-console`: the office console of municipal and UPE clerks (README.md).
// Serves the Spanish web pages over HTTPS and makes each clerk's calls to the
// region's node (CaseOffice, office certificate, mutual TLS);
// `ruta-console account ...` manages the clerks' accounts.
#include <signal.h>
#include <sys/resource.h>

#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "ruta/common/process_setup.h"
#include "ruta/console/config.h"
#include "ruta/console/office_backend.h"
#include "ruta/console/server.h"
#include "ruta/web/account_cli.h"
#include "ruta/web/accounts.h"
#include "ruta/web/serve.h"
#include "ruta/web/sessions.h"
#include "spdlog/spdlog.h"

#ifndef RUTA_CONSOLE_WEB_ROOT
#define RUTA_CONSOLE_WEB_ROOT ""
#endif

namespace {

using ruta::console::ConsoleConfig;

int Fail(const std::string& message) {
  std::cerr << "ruta-console: " << message << "\n";
  return 2;
}

int Serve(ConsoleConfig config) {
  if (absl::Status s = ruta::console::CompleteAndValidateConfig(&config);
      !s.ok()) {
    return Fail(std::string(s.message()));
  }
  // The process holds identifiers for the length of a request: no core dump
  // may carry them to disk.
  rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  const sigset_t signals = ruta::web::BlockStopSignals();

  auto accounts = ruta::web::AccountStore::Open(config.accounts_file, {});
  if (!accounts.ok()) return Fail(std::string(accounts.status().message()));
  ruta::web::SessionStore::Options session_options;
  session_options.idle_timeout = config.session_idle;
  ruta::web::SessionStore sessions(session_options);

  ruta::console::NodeOfficeBackend::Options node;
  node.address = config.node_address;
  node.node_region = config.region;
  node.ca_file = config.ca_file;
  node.cert_file = config.client_cert_file;
  node.key_file = config.client_key_file;
  node.deadline = config.rpc_timeout;
  auto backend = ruta::console::NodeOfficeBackend::Create(node);
  if (!backend.ok()) return Fail(std::string(backend.status().message()));

  ruta::console::ConsoleServer::Options web;
  if (!config.insecure_dev_http) {
    web.tls_cert_file = config.tls_cert_file;
    web.tls_key_file = config.tls_key_file;
  }
  web.web_root = config.web_root;
  web.region = config.region;
  web.department = config.department;
  web.peer_departments = config.peer_departments;
  web.waiting_days = config.waiting_days;
  web.follow_up_days = config.follow_up_days;
  web.accounts = accounts->get();
  web.sessions = &sessions;
  web.backend = backend->get();
  auto server = ruta::console::ConsoleServer::Create(web);
  if (!server.ok()) return Fail(std::string(server.status().message()));

  ruta::console::ConsoleServer* console = server->get();
  return ruta::web::ServeUntilStopped(
      signals, "ruta-console", config.listen_address, config.port_file,
      absl::StrCat(
          config.region, " over ",
          config.insecure_dev_http ? "plain HTTP (development only)" : "HTTPS",
          " (node ", config.node_address, ")"),
      {[console](const std::string& host, int port) {
         return console->Bind(host, port);
       },
       [console] { console->Run(); }, [console] { console->Stop(); }});
}

}  // namespace

int main(int argc, char** argv) {
  ruta::common::DisableMutexDeadlockDetection();
  CLI::App app{"ruta-console: the office console of municipal and UPE clerks"};
  app.require_subcommand(0, 1);
  ConsoleConfig config;
  config.web_root = RUTA_CONSOLE_WEB_ROOT;
  std::string session_idle = "30m";
  std::string rpc_timeout = "5s";
  std::vector<std::string> peers;
  app.add_option("--region", config.region,
                 "the office's region (slug, e.g. cusco)");
  app.add_option("--department", config.department,
                 "its 2-digit UBIGEO department (default: the pilot's)");
  app.add_option("--peer", peers,
                 "a region cases go to, SLUG=DD (default: the other pilot "
                 "region)");
  app.add_option("--node", config.node_address,
                 "the node's gRPC address (host:port)");
  app.add_option("--ca", config.ca_file, "PEM roots the node must chain to");
  app.add_option("--cert", config.client_cert_file,
                 "the office's client certificate chain (PEM)");
  app.add_option("--key", config.client_key_file,
                 "the office's client key (PEM)");
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
                 "the clerks' accounts file (mode 0600)");
  app.add_option("--session-idle", session_idle,
                 "a session unused this long ends (e.g. 30m)")
      ->capture_default_str();
  app.add_option("--rpc-timeout", rpc_timeout,
                 "deadline of each call to the node (e.g. 5s)")
      ->capture_default_str();
  app.add_option("--waiting-days", config.waiting_days,
                 "a transfer requested this many days ago without an answer "
                 "is listed as waiting too long")
      ->capture_default_str();
  app.add_option("--follow-up-days", config.follow_up_days,
                 "a follow-up case unchanged this many days is overdue")
      ->capture_default_str();
  app.add_option("--port-file", config.port_file,
                 "write the port chosen to this file once listening");
  app.add_option("--web-root", config.web_root,
                 "folder of console.js and style.css")
      ->capture_default_str();
  ruta::web::AccountCli account;
  ruta::web::AddAccountCommands(app, "clerk", &account);

  CLI11_PARSE(app, argc, argv);
  if (std::optional<int> code =
          ruta::web::RunAccountCommand(account, "ruta-console")) {
    return *code;
  }
  if (!absl::ParseDuration(session_idle, &config.session_idle)) {
    return Fail("--session-idle must be a duration such as 30m, 90s or 1h");
  }
  if (!absl::ParseDuration(rpc_timeout, &config.rpc_timeout)) {
    return Fail("--rpc-timeout must be a duration such as 5s");
  }
  for (const std::string& peer : peers) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(peer, absl::MaxSplits('=', 1));
    config.peer_departments[kv.first] = kv.second;
  }
  return Serve(std::move(config));
}
