// Idempotency keys of mutating calls: random UUID v4, canonical lowercase.
#ifndef RUTA_CLI_REQUEST_ID_H_
#define RUTA_CLI_REQUEST_ID_H_

#include <string>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ruta::cli {

// A new random UUID v4 "xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx" (N in 8..b).
std::string NewRequestId(absl::BitGenRef gen);
std::string NewRequestId();

// True for the canonical 8-4-4-4-12 lowercase hexadecimal form.
bool IsCanonicalUuid(absl::string_view text);

// Accepts a UUID given with --request-id (any case) and returns it in
// canonical lowercase form; INVALID_ARGUMENT otherwise.
absl::StatusOr<std::string> NormalizeRequestId(absl::string_view text);

}  // namespace ruta::cli

#endif  // RUTA_CLI_REQUEST_ID_H_
