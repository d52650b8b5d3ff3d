#include "ruta/cli/errors.h"

#include <ostream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ruta/cli/exit_codes.h"

namespace ruta::cli {
namespace {

std::string TlsHint(const CallContext& context) {
  return absl::StrCat(
      "hint: the node at ", context.node,
      " refused the connection or the TLS handshake failed. Check that\n"
      "hint:   --cert and --key are a pair, issued by your region's CA "
      "(an office certificate);\n"
      "hint:   the certificate is not revoked or expired "
      "(openssl x509 -noout -dates -in CERT);\n"
      "hint:   --ca holds the root CA of the node's region;\n"
      "hint:   --node is the right address and --server-region the node's "
      "region.\n"
      "hint: the node logs the exact reason (\"refused TLS client: "
      "reason=...\"): ask its operator if the above looks right.");
}

std::string SecondsText(absl::Duration duration) {
  return absl::StrFormat("%g s", absl::ToDoubleSeconds(duration));
}

}  // namespace

std::string StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return absl::StrCat("code ", static_cast<int>(code));
  }
}

bool LooksLikeTlsFailure(absl::string_view message) {
  const std::string lower = absl::AsciiStrToLower(message);
  for (const char* marker : {"socket closed", "failed to connect", "handshake",
                             "ssl", "tls", "certificate", "connection reset",
                             "end of tcp stream", "connection closed"}) {
    if (absl::StrContains(lower, marker)) return true;
  }
  return false;
}

std::string RpcErrorHint(const grpc::Status& status,
                         const CallContext& context) {
  const std::string lower = absl::AsciiStrToLower(status.error_message());
  const std::string show_command = context.record.show_command.empty()
                                       ? "ruta case get CASE_ID"
                                       : context.record.show_command;
  const std::string attempts =
      context.attempts > 1 ? absl::StrCat(" (", context.attempts, " attempts)")
                           : "";
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      if (absl::StrContains(lower, "connection refused")) {
        return absl::StrCat("hint: nothing accepts connections at ",
                            context.node, attempts,
                            ": check --node and that the node is running.");
      }
      if (absl::StrContains(lower, "dns resolution failed") ||
          absl::StrContains(lower, "name resolution")) {
        return absl::StrCat("hint: the host name in --node ", context.node,
                            " does not resolve: check --node.");
      }
      if (LooksLikeTlsFailure(status.error_message())) {
        return TlsHint(context);
      }
      // gRPC may report a refused handshake in other words too.
      return absl::StrCat("hint: the node at ", context.node, " is unreachable",
                          attempts,
                          ": check the network link and retry (raise "
                          "--retries on a slow link).\n",
                          TlsHint(context));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::StrCat("hint: no answer within --timeout ",
                          SecondsText(context.timeout), attempts,
                          ": the link may be slow or down; raise --timeout "
                          "or --retries.");
    case grpc::StatusCode::NOT_FOUND:
      if (!context.record.not_found.empty()) {
        return absl::StrCat("hint: ", context.record.not_found);
      }
      return "hint: check the id; you only see the cases of your region and "
             "the transfers involving it.";
    case grpc::StatusCode::FAILED_PRECONDITION:
      if (!context.record.failed_precondition.empty()) {
        return absl::StrCat("hint: ", context.record.failed_precondition);
      }
      return absl::StrCat(
          "hint: the record's current state does not allow this; see it "
          "with `",
          show_command, "`.");
    case grpc::StatusCode::ABORTED:
      return absl::StrCat(
          "hint: the record changed since the version you gave; fetch it "
          "again with `",
          show_command, "` and retry with its --expected-version.");
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return "hint: the node rejected the field named above; see the "
             "command's --help for the accepted values.";
    case grpc::StatusCode::PERMISSION_DENIED:
      return absl::StrCat(
          "hint: your certificate (--cert) does not allow this: it must be ",
          context.record.who_may.empty()
              ? "an office certificate of the region that owns the record"
              : context.record.who_may,
          ".");
    case grpc::StatusCode::UNAUTHENTICATED:
      return absl::StrCat(TlsHint(context),
                          "\nhint: the node did not accept your "
                          "certificate's identity.");
    case grpc::StatusCode::UNIMPLEMENTED:
      return "hint: the node does not offer this call: it may run an older "
             "version of ruta.";
    default:
      return "hint: retry later; if it persists, tell your region's node "
             "operator what failed and when.";
  }
}

int ReportRpcError(std::ostream& err, absl::string_view what,
                   const grpc::Status& status, const CallContext& context) {
  std::string message = status.error_message();
  if (message.empty()) message = StatusCodeName(status.error_code());
  err << "ruta: " << what << ": " << message << "\n"
      << RpcErrorHint(status, context) << "\n";
  if (!context.request_id.empty()) {
    switch (status.error_code()) {
      case grpc::StatusCode::UNAVAILABLE:
      case grpc::StatusCode::DEADLINE_EXCEEDED:
      case grpc::StatusCode::UNKNOWN:
      case grpc::StatusCode::INTERNAL:
      case grpc::StatusCode::CANCELLED:
      case grpc::StatusCode::RESOURCE_EXHAUSTED:
        err << "ruta: request_id " << context.request_id
            << ": the node may or may not have applied it; to retry safely "
               "(no second change), rerun the same command with --request-id "
            << context.request_id << "\n";
        break;
      default:
        break;
    }
  }
  err << std::flush;
  return ExitCodeForRpc(status.error_code());
}

int ReportLocalError(std::ostream& err, absl::string_view what,
                     const absl::Status& status, absl::string_view hint) {
  err << "ruta: " << what << ": " << status.message() << "\n";
  if (!hint.empty()) err << "hint: " << hint << "\n";
  err << std::flush;
  return ExitCodeForLocal(status);
}

}  // namespace ruta::cli
