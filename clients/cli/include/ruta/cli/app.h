// The `ruta` command line: parses the arguments, runs the command, returns
// the exit code (see exit_codes.h).
#ifndef RUTA_CLI_APP_H_
#define RUTA_CLI_APP_H_

#include "ruta/cli/io.h"

namespace ruta::cli {

int Run(int argc, const char* const* argv, Io& io);

// Silences gRPC's own log lines on stderr unless GRPC_VERBOSITY is set.
void QuietGrpcLogging(const Environment& env);

// Process hardening for a tool that handles identifiers: no core dumps.
void HardenProcess();

}  // namespace ruta::cli

#endif  // RUTA_CLI_APP_H_
