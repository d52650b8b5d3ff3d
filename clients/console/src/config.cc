#include "ruta/console/config.h"

#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ruta/common/status_macros.h"
#include "ruta/web/accounts.h"
#include "ruta/web/http.h"

namespace ruta::console {
namespace {

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

bool IsDepartment(const std::string& code) {
  return code.size() == 2 && absl::ascii_isdigit(code[0]) &&
         absl::ascii_isdigit(code[1]) && code != "00" && code <= "25";
}

}  // namespace

std::string PilotDepartment(const std::string& region) {
  if (region == "cusco") return "08";
  if (region == "madre-de-dios") return "17";
  return "";
}

absl::Status CompleteAndValidateConfig(ConsoleConfig* config) {
  ConsoleConfig& c = *config;
  if (c.region.empty()) {
    return absl::InvalidArgumentError(
        "--region is required (the office's region, e.g. cusco)");
  }
  if (!web::IsValidUserName(c.region)) {
    return absl::InvalidArgumentError(
        "--region must be a region slug such as cusco or madre-de-dios");
  }
  if (c.department.empty()) c.department = PilotDepartment(c.region);
  if (!IsDepartment(c.department)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--department must be the 2-digit UBIGEO department of ",
                     c.region, " (e.g. 08 for Cusco)"));
  }
  if (c.peer_departments.empty()) {
    for (const char* pilot : {"cusco", "madre-de-dios"}) {
      if (c.region != pilot) c.peer_departments[pilot] = PilotDepartment(pilot);
    }
  }
  for (const auto& [slug, department] : c.peer_departments) {
    if (!web::IsValidUserName(slug) || slug == c.region ||
        !IsDepartment(department)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--peer must be SLUG=DD: another region's slug and its 2-digit "
          "UBIGEO department (e.g. madre-de-dios=17); got ",
          slug, "=", department));
    }
  }
  if (c.node_address.empty()) {
    return absl::InvalidArgumentError(
        "--node is required (the node's gRPC address, host:port)");
  }
  RUTA_RETURN_IF_ERROR(Readable("--ca", c.ca_file));
  RUTA_RETURN_IF_ERROR(
      Readable("--cert (the office certificate)", c.client_cert_file));
  RUTA_RETURN_IF_ERROR(
      Readable("--key (the office certificate's key)", c.client_key_file));
  std::string host;
  int port = 0;
  RUTA_RETURN_IF_ERROR(web::SplitHostPort(c.listen_address, &host, &port));
  if (c.insecure_dev_http) {
    if (!web::IsLoopbackHost(host)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--insecure-dev-http is for development on this machine only: "
          "--listen must be a loopback address (127.0.0.1, ::1), not ",
          host, "; clerks' browsers need HTTPS (--tls-cert, --tls-key)"));
    }
  } else {
    RUTA_RETURN_IF_ERROR(
        Readable("--tls-cert (the HTTPS certificate)", c.tls_cert_file));
    RUTA_RETURN_IF_ERROR(
        Readable("--tls-key (the HTTPS certificate's key)", c.tls_key_file));
  }
  if (c.accounts_file.empty()) {
    return absl::InvalidArgumentError(
        "--accounts is required (create it with `ruta-console account add "
        "--accounts FILE USER`)");
  }
  if (c.session_idle < absl::Seconds(1) || c.session_idle > absl::Hours(24)) {
    return absl::InvalidArgumentError(
        "--session-idle must be between 1s and 24h (e.g. 30m)");
  }
  if (c.rpc_timeout < absl::Seconds(1) || c.rpc_timeout > absl::Seconds(60)) {
    return absl::InvalidArgumentError(
        "--rpc-timeout must be between 1s and 60s (e.g. 5s)");
  }
  if (c.waiting_days < 1 || c.waiting_days > 365) {
    return absl::InvalidArgumentError("--waiting-days must be 1 to 365");
  }
  if (c.follow_up_days < 1 || c.follow_up_days > 3650) {
    return absl::InvalidArgumentError("--follow-up-days must be 1 to 3650");
  }
  if (c.web_root.empty()) {
    return absl::InvalidArgumentError(
        "--web-root is required (the folder of console.js and style.css)");
  }
  return absl::OkStatus();
}

}  // namespace ruta::console
