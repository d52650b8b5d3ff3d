// Building the CaseOffice requests of `ruta service ...` from command-line
// values (no I/O). The request_id is stamped later, when sending.
#ifndef RUTA_CLI_SERVICE_REQUESTS_H_
#define RUTA_CLI_SERVICE_REQUESTS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ruta/v1/case_office.pb.h"

namespace ruta::cli {

// "sv_" + 20 letters a-z; INVALID_ARGUMENT naming `what` otherwise.
absl::Status ValidateServiceId(absl::string_view what,
                               absl::string_view service_id);

// A partner id "REGION/NAME" (the partner's certificate identity, e.g.
// cusco/tdh): a region slug, "/", and 1 to 63 lowercase letters, digits and
// hyphens (not first). Returns it normalized (lowercase; "cuzco" as "cusco").
absl::StatusOr<std::string> NormalizePartnerId(absl::string_view what,
                                               absl::string_view text);

// Values of `ruta service add`.
struct AddServiceFlags {
  std::string case_id;
  std::string type;
  // Empty when the authority itself delivers the service.
  std::string provider;
  std::string status;
  std::string start_month;
};

absl::StatusOr<ruta::v1::AddServiceRequest> BuildAddServiceRequest(
    const AddServiceFlags& flags);

// Values of `ruta service update`.
struct UpdateServiceFlags {
  std::string service_id;
  std::string status;
  // "YYYY-MM", only with --status completed or dropped; may be empty.
  std::string end_month;
  long long expected_version = 0;
};

absl::StatusOr<ruta::v1::UpdateServiceRequest> BuildUpdateServiceRequest(
    const UpdateServiceFlags& flags);

// Values of `ruta service list`.
struct ListServicesFlags {
  std::string case_id;
  int page_size = 0;
  std::string page_token;
};

absl::StatusOr<ruta::v1::ListServicesRequest> BuildListServicesRequest(
    const ListServicesFlags& flags);

}  // namespace ruta::cli

#endif  // RUTA_CLI_SERVICE_REQUESTS_H_
