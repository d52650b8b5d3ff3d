// The child's identifiers: read from a JSON file (or stdin) or prompted for,
// never taken as flags. Nothing here ever prints, logs or puts a value in an
// error message.
//
// File format, every key optional, unknown keys refused:
//   {"dni": "01234567", "cnv": "...", "given_names": "...", "surnames": "...",
//    "birth_date": "YYYY-MM-DD", "birth_district": "080101"}
#ifndef RUTA_CLI_IDENTIFIERS_H_
#define RUTA_CLI_IDENTIFIERS_H_

#include <iosfwd>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ruta/v1/common.pb.h"
#include "ruta/v1/records.pb.h"

namespace ruta::cli {

// Field checks; the errors name the field, never the value.
absl::Status ValidateDni(absl::string_view dni);
absl::Status ValidateCnv(absl::string_view cnv);
absl::Status ValidateDistrict(absl::string_view district);
// A calendar date "YYYY-MM-DD", not in the future, not before 1900.
absl::StatusOr<ruta::v1::Date> ParseBirthDate(absl::string_view text);

// Parses the JSON identifiers document.
absl::StatusOr<ruta::v1::PersonIdentifiers> ParseIdentifiersJson(
    absl::string_view json);

// Reads and parses `path`, or `in` when path is "-".
absl::StatusOr<ruta::v1::PersonIdentifiers> ReadIdentifiersFile(
    const std::string& path, std::istream& in);

// Asks for the identifiers on `err`, reading `in` (a terminal). The DNI and
// CNV are read without echo. Stops asking once a DNI or CNV is given; every
// answer may be left empty.
absl::StatusOr<ruta::v1::PersonIdentifiers> PromptIdentifiers(
    std::istream& in, std::ostream& err);

// True when at least one identifier is set.
bool HasIdentifiers(const ruta::v1::PersonIdentifiers& identifiers);

// Overwrites then clears every identifier held in `identifiers`.
void WipeIdentifiers(ruta::v1::PersonIdentifiers* identifiers);

// Overwrites then clears a string that held identifiers.
void WipeString(std::string* text);

}  // namespace ruta::cli

#endif  // RUTA_CLI_IDENTIFIERS_H_
