// Registration of the subcommands on the CLI11 application (internal).
#ifndef RUTA_CLI_SRC_COMMANDS_H_
#define RUTA_CLI_SRC_COMMANDS_H_

#include <functional>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "ruta/cli/config.h"
#include "ruta/cli/connection.h"
#include "ruta/cli/identifiers.h"
#include "ruta/cli/io.h"
#include "ruta/cli/output.h"

namespace ruta::cli {

// What the global options resolved to; filled in after parsing, before the
// selected command's action runs.
struct Context {
  Io* io = nullptr;
  ConnectionFlags connection;
  OutputFormat format = OutputFormat::kTable;
  int retries = 3;
};

// The command to run once the arguments are parsed; returns the exit code.
using Action = std::function<int()>;

// `ruta case ...` and `ruta person ...`. Each leaf subcommand sets `*action`
// when it is selected.
void AddCaseCommands(CLI::App& app, Context& context, Action* action);
void AddPersonCommands(CLI::App& app, Context& context, Action* action);
// `ruta admin audit verify`.
void AddAdminCommands(CLI::App& app, Context& context, Action* action);

// Resolves the connection settings and loads the credentials; on error prints
// it and returns nullptr with `*exit_code` set.
std::unique_ptr<Connection> Connect(Context& context, int* exit_code);

// The request_id of a mutating command: --request-id normalized, or a new
// one. On error prints it and returns "" with `*exit_code` set.
std::string RequestIdFor(Context& context, const std::string& flag,
                         int* exit_code);

// The identifiers of the child: from `file` (path or "-"), else prompted when
// stdin is a terminal, else none (empty). On error prints it and sets
// `*exit_code`.
ruta::v1::PersonIdentifiers GatherIdentifiers(Context& context,
                                              const std::string& file,
                                              int* exit_code);

// Text shown under "Global options" in each command's help footer.
std::string GlobalOptionsNote();

}  // namespace ruta::cli

#endif  // RUTA_CLI_SRC_COMMANDS_H_
