// Exit codes of `ruta`, and how gRPC statuses map onto them.
#ifndef RUTA_CLI_EXIT_CODES_H_
#define RUTA_CLI_EXIT_CODES_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace ruta::cli {

enum ExitCode : int {
  kExitOk = 0,
  // Anything not listed below.
  kExitFailure = 1,
  // Usage or configuration error (detected before or without calling a node).
  kExitUsage = 2,
  // NOT_FOUND: no such record in the caller's scope.
  kExitNotFound = 3,
  // FAILED_PRECONDITION or ABORTED: the record's state does not allow it.
  kExitConflict = 4,
  // INVALID_ARGUMENT or OUT_OF_RANGE: the node rejected a field.
  kExitInvalid = 5,
  // PERMISSION_DENIED or UNAUTHENTICATED: a certificate problem.
  kExitPermission = 6,
  // UNAVAILABLE or DEADLINE_EXCEEDED, after the retries.
  kExitUnavailable = 7,
};

// Exit code for the final status of a call to a node.
int ExitCodeForRpc(grpc::StatusCode code);

// Exit code for an error detected locally (bad flag, missing setting,
// unreadable file): usage/configuration errors, except INTERNAL/UNKNOWN.
int ExitCodeForLocal(const absl::Status& status);

// The table of exit codes, for `ruta --help` and the README.
std::string ExitCodesHelp();

}  // namespace ruta::cli

#endif  // RUTA_CLI_EXIT_CODES_H_
