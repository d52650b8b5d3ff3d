// Error reporting: `ruta: <what failed>: <message>` on stderr, then a hint
// line saying what to check.
#ifndef RUTA_CLI_ERRORS_H_
#define RUTA_CLI_ERRORS_H_

#include <iosfwd>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/support/status.h"

namespace ruta::cli {

// "UNAVAILABLE", "NOT_FOUND", ...
std::string StatusCodeName(grpc::StatusCode code);

// True when an UNAVAILABLE message is what gRPC reports for a refused or
// failed TLS handshake ("Socket closed", "failed to connect", "handshake",
// SSL errors, connection reset).
bool LooksLikeTlsFailure(absl::string_view message);

// What a hint says about the record a call is about; empty fields fall back
// to the case wording.
struct RecordHints {
  // The command that shows the record, e.g. "ruta transfer get tr_..."
  // (FAILED_PRECONDITION, ABORTED); default "ruta case get CASE_ID".
  std::string show_command;
  // Who may make the change (PERMISSION_DENIED); default: an office of the
  // region that owns the record.
  std::string who_may;
  // The whole hint of NOT_FOUND and of FAILED_PRECONDITION (without
  // "hint: "), for calls whose ids or preconditions are not a record's
  // (person refs, key versions); default: check the id, see show_command.
  // Defaulted so that {show_command, who_may} stays a complete initializer.
  std::string not_found = {};
  std::string failed_precondition = {};
};

// What the hint of a failed call may refer to.
struct CallContext {
  std::string node;
  absl::Duration timeout = absl::ZeroDuration();
  int attempts = 1;
  // Non-empty for a mutating call.
  std::string request_id;
  RecordHints record;
};

// The hint for a failed call (one or more lines, each starting "hint: ").
std::string RpcErrorHint(const grpc::Status& status,
                         const CallContext& context);

// Prints the error of a failed call and its hint; returns the exit code.
int ReportRpcError(std::ostream& err, absl::string_view what,
                   const grpc::Status& status, const CallContext& context);

// Prints a local error (and `hint` when non-empty); returns the exit code.
int ReportLocalError(std::ostream& err, absl::string_view what,
                     const absl::Status& status, absl::string_view hint = "");

}  // namespace ruta::cli

#endif  // RUTA_CLI_ERRORS_H_
