// ruta-node: one regional node. Thin: parse flags, load the configuration,
// configure the log, start the Node, wait for SIGTERM/SIGINT, shut down
// gracefully. SIGHUP re-reads the configuration file and applies its
// authorization section.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "ruta/common/process_setup.h"
#include "ruta/node/config.h"
#include "ruta/node/node.h"
#include "ruta/node/restore.h"
#include "ruta/observability/logging.h"
#include "ruta/security/tls.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(std::string, config, "",
          "Path of the node configuration file (JSON; see "
          "proto/ruta/node/v1/config.proto).");
ABSL_FLAG(bool, check_config, false,
          "Validate the configuration and exit (0 when valid).");

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "ruta-node: %s\n", message.c_str());
  return 1;
}

// The log format and level of the configuration's observability section
// (validated by LoadConfig), and gRPC core's log routed into the same log.
// Before any other thread starts.
void ConfigureLogging(const ruta::node::v1::NodeConfig& config) {
  ruta::observability::LoggingOptions options;
  options.format =
      ruta::observability::ParseLogFormat(config.observability().log_format())
          .value_or(ruta::observability::LogFormat::kText);
  options.level =
      ruta::observability::ParseLogLevel(config.observability().log_level())
          .value_or(spdlog::level::info);
  ruta::observability::ConfigureLogging(options);
  // The node's TLS layer inspects gRPC's log for refused handshakes, then
  // hands each line on.
  ruta::security::SetGrpcLogForward(&ruta::observability::ForwardGrpcLog);
}

}  // namespace

int main(int argc, char** argv) {
  ruta::common::DisableMutexDeadlockDetection();
  // `ruta-node restore ...` (restore_main.cc) has flags of its own.
  if (argc > 1 && std::string(argv[1]) == "restore") {
    return ruta::node::RestoreMain(argc - 1, argv + 1);
  }
  absl::SetProgramUsageMessage(
      "Runs one ruta regional node.\n"
      "Usage: ruta-node --config FILE [--check_config]\n"
      "       ruta-node restore --config FILE --backup FILE [--key-file FILE]");
  absl::ParseCommandLine(argc, argv);
  const std::string config_path = absl::GetFlag(FLAGS_config);
  if (config_path.empty()) {
    return Fail("--config FILE is required (see deploy/local/ for examples)");
  }
  absl::StatusOr<ruta::node::v1::NodeConfig> config =
      ruta::node::LoadConfig(config_path);
  if (!config.ok()) return Fail(std::string(config.status().message()));
  if (absl::GetFlag(FLAGS_check_config)) {
    std::printf("%s: configuration is valid\n", config_path.c_str());
    return 0;
  }
  ConfigureLogging(*config);

  // Block the shutdown and reload signals in every thread; main waits for
  // them below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::unique_ptr<ruta::node::Node>> node =
      ruta::node::Node::Start(*config);
  if (!node.ok()) {
    return Fail(absl::StrCat("cannot start: ", node.status().message()));
  }
  const std::string host =
      config->listen_address().substr(0, config->listen_address().rfind(':'));
  spdlog::info("ruta-node region={} serving on {}:{}", config->region(), host,
               (*node)->port());
  if (!config->port_file().empty()) {
    const std::string tmp = config->port_file() + ".tmp";
    std::ofstream(tmp) << (*node)->port() << "\n";
    std::rename(tmp.c_str(), config->port_file().c_str());
  }

  int signal_number = 0;
  for (;;) {
    sigwait(&signals, &signal_number);
    if (signal_number != SIGHUP) break;
    // Reload: the whole file is parsed and validated again, but only its
    // authorization section is applied; an invalid file changes nothing.
    absl::StatusOr<ruta::node::v1::NodeConfig> reloaded =
        ruta::node::LoadConfig(config_path);
    absl::Status applied = reloaded.ok()
                               ? (*node)->ReloadAuthorization(*reloaded)
                               : reloaded.status();
    if (applied.ok()) {
      spdlog::info(
          "ruta-node SIGHUP: authorization policy reloaded from {} ({})",
          config_path,
          reloaded->has_authorization()
              ? absl::StrCat(reloaded->authorization().rules_size(),
                             " configured rules")
              : std::string("built-in default policy"));
    } else {
      spdlog::error(
          "ruta-node SIGHUP: configuration not reloaded, the previous "
          "authorization policy stays: {}",
          std::string(applied.message()));
    }
  }
  spdlog::info("ruta-node received signal {}, draining", signal_number);
  (*node)->Shutdown(absl::Seconds(config->limits().shutdown_grace_seconds()));
  spdlog::info("ruta-node stopped");
  return 0;
}
