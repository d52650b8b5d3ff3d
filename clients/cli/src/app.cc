#include "ruta/cli/app.h"

#include <sys/resource.h>

#include <exception>
#include <ostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "commands.h"
#include "grpc/support/log.h"
#include "ruta/cli/errors.h"
#include "ruta/cli/exit_codes.h"
#include "ruta/cli/retry.h"

namespace ruta::cli {
namespace {

// Raw values of the global options, bound to CLI11.
struct GlobalFlags {
  std::string node, cert, key, ca, server_region, config;
  double timeout_seconds = kDefaultTimeoutSeconds;
  std::string output = "table";
  int retries = kDefaultRetries;
  CLI::Option* node_option = nullptr;
  CLI::Option* cert_option = nullptr;
  CLI::Option* key_option = nullptr;
  CLI::Option* ca_option = nullptr;
  CLI::Option* server_region_option = nullptr;
  CLI::Option* config_option = nullptr;
  CLI::Option* timeout_option = nullptr;
};

std::optional<std::string> IfGiven(const CLI::Option* option,
                                   const std::string& value) {
  if (option->count() == 0) return std::nullopt;
  return value;
}

std::string MainFooter() {
  return "Connection settings, by precedence: the flags, then the "
         "environment (RUTA_NODE,\nRUTA_CERT, RUTA_KEY, RUTA_CA, "
         "RUTA_SERVER_REGION, RUTA_TIMEOUT), then the JSON config\nfile "
         "(--config FILE, else $RUTA_CONFIG, else "
         "$XDG_CONFIG_HOME/ruta/config.json or\n~/.config/ruta/config.json) "
         "with the keys node, cert, key, ca, server_region,\n"
         "timeout_seconds; relative paths in it are relative to the file.\n\n"
         "Mutating commands send a request_id (UUID) and retry UNAVAILABLE "
         "and\nDEADLINE_EXCEEDED up to --retries times with the same one, so "
         "nothing is ever\napplied twice; pass --request-id to retry a failed "
         "command yourself.\n\n" +
         ExitCodesHelp() +
         "\nExamples:\n"
         "  ruta --node ruta.cusco.example:7443 --cert office.pem --key "
         "office.key \\\n"
         "    --ca cusco-root.pem case list --open-only\n"
         "  ruta case get cs_qwertyuiopasdfghjklz --output json\n"
         "  ruta case open --help\n";
}

void AddGlobalOptions(CLI::App& app, GlobalFlags& flags) {
  const char* group = "Connection";
  flags.node_option = app.add_option("--node", flags.node,
                                     "Address of the region's node [RUTA_NODE]")
                          ->type_name("HOST:PORT")
                          ->group(group);
  flags.cert_option = app.add_option("--cert", flags.cert,
                                     "Your certificate chain, PEM [RUTA_CERT]")
                          ->type_name("FILE")
                          ->group(group);
  flags.key_option = app.add_option("--key", flags.key,
                                    "The private key of --cert, PEM [RUTA_KEY]")
                         ->type_name("FILE")
                         ->group(group);
  flags.ca_option =
      app.add_option("--ca", flags.ca,
                     "Root CA of the node's region, PEM [RUTA_CA]")
          ->type_name("FILE")
          ->group(group);
  flags.server_region_option =
      app.add_option("--server-region", flags.server_region,
                     "Require the node to belong to this region, e.g. cusco, "
                     "madre-de-dios [RUTA_SERVER_REGION]")
          ->type_name("SLUG")
          ->group(group);
  flags.timeout_option =
      app.add_option("--timeout", flags.timeout_seconds,
                     "Deadline of each attempt, default 15 [RUTA_TIMEOUT]")
          ->type_name("SECONDS")
          ->group(group);
  app.add_option("--retries", flags.retries,
                 "Retries on UNAVAILABLE or DEADLINE_EXCEEDED, default 3")
      ->type_name("N")
      ->group(group);
  flags.config_option =
      app.add_option("--config", flags.config, "JSON config file [RUTA_CONFIG]")
          ->type_name("FILE")
          ->group(group);
  app.add_option("--output,-o", flags.output, "Output format, default table")
      ->type_name("table|json")
      ->group("Output");
}

}  // namespace

int Run(int argc, const char* const* argv, Io& io) {
  CLI::App app(
      "ruta: the command-line client of the ruta exchange between the "
      "regions' nodes\n(Cusco, Madre de Dios). What it may do is decided by "
      "the certificate it presents.",
      "ruta");
  // A repeated option takes its last value (a wrapper's defaults can be
  // overridden); list options (--exploitation) take them all.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_version_flag("--version", "ruta 0.1.0");
  app.fallthrough();
  app.require_subcommand(1);
  app.footer(MainFooter());
  app.failure_message([](const CLI::App*, const CLI::Error& error) {
    return "ruta: " + std::string(error.what()) +
           "\nhint: see `ruta --help` or `ruta COMMAND --help`.\n";
  });

  GlobalFlags flags;
  AddGlobalOptions(app, flags);
  Context context;
  context.io = &io;
  Action action;
  AddCaseCommands(app, context, &action);
  AddPersonCommands(app, context, &action);
  AddTransferCommands(app, context, &action);
  AddServiceCommands(app, context, &action);
  AddActivityCommands(app, context, &action);
  AddPartnerCommands(app, context, &action);
  AddAdminCommands(app, context, &action);
  AddStatsCommand(app, context, &action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error, io.out, io.err);
    return code == 0 ? kExitOk : kExitUsage;
  }

  context.connection.node = IfGiven(flags.node_option, flags.node);
  context.connection.cert = IfGiven(flags.cert_option, flags.cert);
  context.connection.key = IfGiven(flags.key_option, flags.key);
  context.connection.ca = IfGiven(flags.ca_option, flags.ca);
  context.connection.server_region =
      IfGiven(flags.server_region_option, flags.server_region);
  context.connection.config = IfGiven(flags.config_option, flags.config);
  if (flags.timeout_option->count() > 0) {
    context.connection.timeout_seconds = flags.timeout_seconds;
  }
  if (flags.retries < 0 || flags.retries > kMaxRetries) {
    return ReportLocalError(
        io.err, "bad --retries",
        absl::InvalidArgumentError(absl::StrCat("expected 0 to ", kMaxRetries,
                                                ", got ", flags.retries)));
  }
  context.retries = flags.retries;
  absl::StatusOr<OutputFormat> format = ParseOutputFormat(flags.output);
  if (!format.ok()) {
    return ReportLocalError(io.err, "bad --output", format.status());
  }
  context.format = *format;

  if (!action) {
    io.err << "ruta: no command given\nhint: see `ruta --help`.\n";
    return kExitUsage;
  }
  try {
    return action();
  } catch (const std::exception& error) {
    io.err << "ruta: internal error: " << error.what() << "\n";
    return kExitFailure;
  }
}

void QuietGrpcLogging(const Environment& env) {
  if (env && env("GRPC_VERBOSITY").has_value()) return;
  // gRPC logs connection internals to stderr; what matters reaches the user
  // in the call's status and hint. GRPC_VERBOSITY=debug shows them again.
  gpr_set_log_function([](gpr_log_func_args*) {});
}

void HardenProcess() {
  // The process holds a child's identifiers for a moment: never dump them.
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
}

}  // namespace ruta::cli
