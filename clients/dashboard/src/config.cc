#include "ruta/dashboard/config.h"

#include <unistd.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ruta/common/status_macros.h"
#include "ruta/web/http.h"

namespace ruta::dashboard {
namespace {

using web::IsLoopbackHost;
using web::SplitHostPort;

absl::Status Readable(const std::string& what, const std::string& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is required"));
  }
  if (::access(path.c_str(), R_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " ", path, " is missing or unreadable"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateConfig(const DashboardConfig& c) {
  if (c.node_address.empty()) {
    return absl::InvalidArgumentError(
        "--node is required (the node's gRPC address, host:port)");
  }
  std::string host;
  int port = 0;
  if (absl::Status s = SplitHostPort(c.listen_address, &host, &port); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--listen: ", s.message()));
  }
  if (c.insecure_dev_http) {
    if (!IsLoopbackHost(host)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--insecure-dev-http serves plain HTTP and is allowed only on a "
          "loopback address (127.0.0.1, ::1, localhost), not '",
          host, "': give --tls-cert and --tls-key to serve HTTPS"));
    }
    if (!c.tls_cert_file.empty() || !c.tls_key_file.empty()) {
      return absl::InvalidArgumentError(
          "--insecure-dev-http cannot be combined with --tls-cert/--tls-key");
    }
  } else {
    if (c.tls_cert_file.empty() || c.tls_key_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls-cert and --tls-key are required to serve HTTPS (plain HTTP "
          "only with --insecure-dev-http on a loopback address)");
    }
    RUTA_RETURN_IF_ERROR(Readable("--tls-cert", c.tls_cert_file));
    RUTA_RETURN_IF_ERROR(Readable("--tls-key", c.tls_key_file));
  }
  RUTA_RETURN_IF_ERROR(Readable("--ca", c.ca_file));
  RUTA_RETURN_IF_ERROR(Readable("--cert", c.client_cert_file));
  RUTA_RETURN_IF_ERROR(Readable("--key", c.client_key_file));
  RUTA_RETURN_IF_ERROR(Readable("--accounts", c.accounts_file));
  if (c.session_idle_minutes < 1 || c.session_idle_minutes > 1440) {
    return absl::InvalidArgumentError(
        "--session-idle-minutes must be between 1 and 1440");
  }
  if (c.rpc_timeout_seconds < 1 || c.rpc_timeout_seconds > 60) {
    return absl::InvalidArgumentError(
        "--rpc-timeout-seconds must be between 1 and 60");
  }
  if (c.web_root.empty()) {
    return absl::InvalidArgumentError("--web-root is required");
  }
  return absl::OkStatus();
}

}  // namespace ruta::dashboard
