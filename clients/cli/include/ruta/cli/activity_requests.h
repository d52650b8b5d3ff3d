// Building the CaseOffice requests of `ruta activity ...` from command-line
// values (no I/O). The request_id is stamped later, when sending.
#ifndef RUTA_CLI_ACTIVITY_REQUESTS_H_
#define RUTA_CLI_ACTIVITY_REQUESTS_H_

#include <string>

#include "absl/status/statusor.h"
#include "ruta/v1/case_office.pb.h"

namespace ruta::cli {

// Values of `ruta activity record awareness`.
struct AwarenessFlags {
  std::string campaign;  // free text, 1 to 120 characters once trimmed
  std::string province;  // UBIGEO province, 4 digits
  std::string month;     // "YYYY-MM"
  long long people = 0;  // people reached, 1 to 1,000,000
};

// INVALID_ARGUMENT naming the flag when a value is missing or malformed. The
// campaign is sent trimmed of surrounding white space; the node checks it
// for identifiers (phone numbers, dates...) and '|'.
absl::StatusOr<ruta::v1::RecordActivityRequest> BuildAwarenessRequest(
    const AwarenessFlags& flags);

// Values of `ruta activity record training`.
struct TrainingFlags {
  std::string level;      // community | local | regional
  std::string province;   // UBIGEO province, 4 digits
  std::string month;      // "YYYY-MM"
  long long members = 0;  // members trained, 1 to 1,000,000
};

absl::StatusOr<ruta::v1::RecordActivityRequest> BuildTrainingRequest(
    const TrainingFlags& flags);

// Values of `ruta activity list`.
struct ListActivitiesFlags {
  std::string from_month;  // "YYYY-MM" or empty
  std::string to_month;    // "YYYY-MM" or empty
  int page_size = 0;
  std::string page_token;
};

// INVALID_ARGUMENT also when --from is after --to.
absl::StatusOr<ruta::v1::ListActivitiesRequest> BuildListActivitiesRequest(
    const ListActivitiesFlags& flags);

}  // namespace ruta::cli

#endif  // RUTA_CLI_ACTIVITY_REQUESTS_H_
