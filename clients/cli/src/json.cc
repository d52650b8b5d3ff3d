#include "json.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"

namespace ruta::cli {

absl::StatusOr<google::protobuf::Struct> ParseJsonObject(absl::string_view json,
                                                         bool with_details) {
  google::protobuf::Struct object;
  const absl::string_view trimmed = absl::StripAsciiWhitespace(json);
  if (trimmed.empty() || trimmed.front() != '{') {
    return absl::InvalidArgumentError("not a JSON object ({...})");
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(trimmed.data(), trimmed.size()), &object,
      options);
  if (!status.ok()) {
    if (!with_details) {
      return absl::InvalidArgumentError(
          "not valid JSON (details withheld: the file holds identifiers)");
    }
    const auto message = status.message();
    return absl::InvalidArgumentError(absl::StrCat(
        "not valid JSON: ", std::string(message.data(), message.size())));
  }
  return object;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    const int error = errno;
    const std::string reason = std::strerror(error);
    if (error == ENOENT) {
      return absl::NotFoundError(absl::StrCat(path, ": ", reason));
    }
    if (error == EACCES) {
      return absl::PermissionDeniedError(absl::StrCat(path, ": ", reason));
    }
    return absl::FailedPreconditionError(absl::StrCat(path, ": ", reason));
  }
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad()) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": read error"));
  }
  return contents.str();
}

}  // namespace ruta::cli
