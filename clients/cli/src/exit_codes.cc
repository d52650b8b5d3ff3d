#include "ruta/cli/exit_codes.h"

namespace ruta::cli {

int ExitCodeForRpc(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return kExitOk;
    case grpc::StatusCode::NOT_FOUND:
      return kExitNotFound;
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ABORTED:
      return kExitConflict;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return kExitInvalid;
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
      return kExitPermission;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return kExitUnavailable;
    default:
      return kExitFailure;
  }
}

int ExitCodeForLocal(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
      return kExitFailure;
    default:
      return kExitUsage;
  }
}

std::string ExitCodesHelp() {
  return "Exit codes:\n"
         "  0  success\n"
         "  1  any other error\n"
         "  2  usage or configuration error (bad flag, missing setting, "
         "unreadable file)\n"
         "  3  not found (no such record in your region's scope)\n"
         "  4  the record's state does not allow it (failed precondition, "
         "version mismatch)\n"
         "  5  invalid argument rejected by the node\n"
         "  6  permission denied or unauthenticated (certificate problem)\n"
         "  7  node unavailable or deadline exceeded after the retries\n";
}

}  // namespace ruta::cli
