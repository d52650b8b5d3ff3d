// Reading small JSON objects (config file, identifiers file) through
// google.protobuf.Struct, so that ruta needs no other JSON library.
#ifndef RUTA_CLI_SRC_JSON_H_
#define RUTA_CLI_SRC_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace ruta::cli {

// Parses a JSON object. INVALID_ARGUMENT "not a JSON object" followed, when
// `with_details`, by the parser's message (which may quote the input, so it is
// left out for documents holding identifiers).
absl::StatusOr<google::protobuf::Struct> ParseJsonObject(absl::string_view json,
                                                         bool with_details);

// Reads a whole file; NOT_FOUND / PERMISSION_DENIED / FAILED_PRECONDITION
// naming `path` when it cannot be read.
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace ruta::cli

#endif  // RUTA_CLI_SRC_JSON_H_
