#include "ruta/cli/config.h"

#include <cmath>
#include <filesystem>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "json.h"
#include "ruta/cli/enums.h"
#include "ruta/common/status_macros.h"

namespace ruta::cli {
namespace {

namespace fs = std::filesystem;

// How one setting is named in each source.
struct SettingNames {
  const char* what;  // "node address"
  const char* flag;  // "--node HOST:PORT"
  const char* env;   // "RUTA_NODE"
  const char* key;   // "node"
};

constexpr SettingNames kNode{"node address", "--node HOST:PORT", "RUTA_NODE",
                             "node"};
constexpr SettingNames kCert{"client certificate", "--cert FILE", "RUTA_CERT",
                             "cert"};
constexpr SettingNames kKey{"client private key", "--key FILE", "RUTA_KEY",
                            "key"};
constexpr SettingNames kCa{"region root CA", "--ca FILE", "RUTA_CA", "ca"};
constexpr SettingNames kServerRegion{"node's region", "--server-region SLUG",
                                     "RUTA_SERVER_REGION", "server_region"};
constexpr SettingNames kTimeout{"timeout", "--timeout SECONDS", "RUTA_TIMEOUT",
                                "timeout_seconds"};

constexpr const char* kConfigKeys[] = {
    "node", "cert", "key", "ca", "server_region", "timeout_seconds"};

std::optional<std::string> NonEmptyEnv(const Environment& env,
                                       const std::string& name) {
  if (!env) return std::nullopt;
  std::optional<std::string> value = env(name);
  if (value.has_value() && value->empty()) return std::nullopt;
  return value;
}

absl::Status CheckTimeout(double seconds, absl::string_view source) {
  if (!std::isfinite(seconds) || seconds <= 0 || seconds > kMaxTimeoutSeconds) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid timeout from ", source,
                     ": expected a number of seconds above 0 and at most ",
                     kMaxTimeoutSeconds));
  }
  return absl::OkStatus();
}

// The value and where it came from ("--node", "RUTA_NODE", "node in FILE").
struct Found {
  std::optional<std::string> value;
  std::string source;
};

Found Lookup(const std::optional<std::string>& flag, const Environment& env,
             const std::optional<std::string>& file_value,
             const std::optional<ConfigFile>& file, const SettingNames& names) {
  if (flag.has_value()) {
    absl::string_view flag_name = names.flag;
    return {flag, std::string(flag_name.substr(0, flag_name.find(' ')))};
  }
  if (std::optional<std::string> value = NonEmptyEnv(env, names.env)) {
    return {value, names.env};
  }
  if (file_value.has_value()) {
    return {file_value, absl::StrCat("\"", names.key, "\" in ", file->path)};
  }
  return {std::nullopt, ""};
}

std::string MissingLine(const SettingNames& names,
                        const std::string& config_hint) {
  return absl::StrCat("  ", names.what, ": pass ", names.flag, ", set ",
                      names.env, ", or set \"", names.key,
                      "\" in the config file (", config_hint, ")");
}

}  // namespace

absl::Status ValidateNodeAddress(absl::string_view address) {
  if (absl::StartsWith(address, "unix:") ||
      address.find("://") != absl::string_view::npos) {
    return absl::OkStatus();
  }
  const size_t colon = address.rfind(':');
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid node address \"", address, "\": ", why,
                     "; expected HOST:PORT, e.g. ruta.cusco.example:7443"));
  };
  if (colon == absl::string_view::npos) return bad("no port");
  if (colon == 0) return bad("no host");
  absl::string_view host = address.substr(0, colon);
  const absl::string_view port = address.substr(colon + 1);
  int port_number = 0;
  if (!absl::SimpleAtoi(port, &port_number) || port_number < 1 ||
      port_number > 65535 || port.empty() || port.front() == '+' ||
      port.front() == '-') {
    return bad("the port is not a number from 1 to 65535");
  }
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return bad("bad IPv6 host");
    return absl::OkStatus();
  }
  for (char c : host) {
    if (!(absl::ascii_isalnum(c) || c == '.' || c == '-' || c == '_')) {
      return bad("bad host name");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ConfigFile> ParseConfigFile(absl::string_view json,
                                           const std::string& path) {
  absl::StatusOr<google::protobuf::Struct> object =
      ParseJsonObject(json, /*with_details=*/true);
  if (!object.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config file ", path, ": ", object.status().message()));
  }
  ConfigFile file;
  file.path = path;
  const fs::path folder = fs::path(path).parent_path();
  for (const auto& [key, value] : object->fields()) {
    const auto wrong_type = [&](absl::string_view expected) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config file ", path, ": \"", key, "\" must be ", expected));
    };
    if (value.kind_case() == google::protobuf::Value::kNullValue) {
      bool known = false;
      for (const char* k : kConfigKeys) known = known || key == k;
      if (known) continue;
    }
    if (key == "timeout_seconds") {
      if (value.kind_case() != google::protobuf::Value::kNumberValue) {
        return wrong_type("a number of seconds");
      }
      RUTA_RETURN_IF_ERROR(CheckTimeout(
          value.number_value(), absl::StrCat("\"", key, "\" in ", path)));
      file.timeout_seconds = value.number_value();
      continue;
    }
    std::optional<std::string>* target = nullptr;
    bool is_path = false;
    if (key == "node") {
      target = &file.node;
    } else if (key == "cert") {
      target = &file.cert;
      is_path = true;
    } else if (key == "key") {
      target = &file.key;
      is_path = true;
    } else if (key == "ca") {
      target = &file.ca;
      is_path = true;
    } else if (key == "server_region") {
      target = &file.server_region;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("config file ", path, ": unknown key \"", key,
                       "\"; the keys are ", absl::StrJoin(kConfigKeys, ", ")));
    }
    if (value.kind_case() != google::protobuf::Value::kStringValue ||
        value.string_value().empty()) {
      return wrong_type("a non-empty string");
    }
    std::string text = value.string_value();
    if (is_path && fs::path(text).is_relative()) {
      text = (folder / text).lexically_normal().string();
    }
    *target = std::move(text);
  }
  return file;
}

std::string DefaultConfigPath(const Environment& env) {
  if (std::optional<std::string> xdg = NonEmptyEnv(env, "XDG_CONFIG_HOME")) {
    return (fs::path(*xdg) / "ruta" / "config.json").string();
  }
  if (std::optional<std::string> home = NonEmptyEnv(env, "HOME")) {
    return (fs::path(*home) / ".config" / "ruta" / "config.json").string();
  }
  return "";
}

absl::StatusOr<std::optional<std::string>> LocateConfigFile(
    const ConnectionFlags& flags, const Environment& env) {
  std::optional<std::string> explicit_path = flags.config;
  std::string source = "--config";
  if (!explicit_path.has_value()) {
    explicit_path = NonEmptyEnv(env, "RUTA_CONFIG");
    source = "RUTA_CONFIG";
  }
  if (explicit_path.has_value()) {
    std::error_code error;
    if (!fs::is_regular_file(*explicit_path, error)) {
      return absl::NotFoundError(
          absl::StrCat("config file ", *explicit_path, " (from ", source,
                       ") does not exist or is not a file"));
    }
    return explicit_path;
  }
  const std::string fallback = DefaultConfigPath(env);
  std::error_code error;
  if (!fallback.empty() && fs::exists(fallback, error)) {
    return std::optional<std::string>(fallback);
  }
  return std::optional<std::string>();
}

absl::StatusOr<ConnectionSettings> ResolveSettings(
    const ConnectionFlags& flags, const Environment& env,
    const std::optional<ConfigFile>& file) {
  const ConfigFile empty;
  const ConfigFile& from_file = file.has_value() ? *file : empty;
  ConnectionSettings settings;
  if (file.has_value()) settings.config_file = file->path;

  std::string config_hint =
      file.has_value() ? file->path : DefaultConfigPath(env);
  if (config_hint.empty()) config_hint = "~/.config/ruta/config.json";

  std::vector<std::string> missing;
  const auto required = [&](const std::optional<std::string>& flag,
                            const std::optional<std::string>& file_value,
                            const SettingNames& names,
                            std::string* out) -> Found {
    Found found = Lookup(flag, env, file_value, file, names);
    if (!found.value.has_value() || found.value->empty()) {
      missing.push_back(MissingLine(names, config_hint));
    } else {
      *out = *found.value;
    }
    return found;
  };
  const Found node =
      required(flags.node, from_file.node, kNode, &settings.node);
  required(flags.cert, from_file.cert, kCert, &settings.cert_file);
  required(flags.key, from_file.key, kKey, &settings.key_file);
  required(flags.ca, from_file.ca, kCa, &settings.ca_file);
  if (!missing.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "missing connection settings:\n", absl::StrJoin(missing, "\n")));
  }
  if (absl::Status valid = ValidateNodeAddress(settings.node); !valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(valid.message(), " (from ", node.source, ")"));
  }

  const Found region = Lookup(flags.server_region, env, from_file.server_region,
                              file, kServerRegion);
  if (region.value.has_value() && !region.value->empty()) {
    RUTA_ASSIGN_OR_RETURN(settings.server_region,
                          NormalizeRegion(region.source, *region.value));
  }

  if (flags.timeout_seconds.has_value()) {
    RUTA_RETURN_IF_ERROR(CheckTimeout(*flags.timeout_seconds, "--timeout"));
    settings.timeout = absl::Seconds(*flags.timeout_seconds);
  } else if (std::optional<std::string> text = NonEmptyEnv(env, kTimeout.env)) {
    double seconds = 0;
    if (!absl::SimpleAtod(*text, &seconds)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid ", kTimeout.env, " \"", *text,
                       "\": expected a number of seconds"));
    }
    RUTA_RETURN_IF_ERROR(CheckTimeout(seconds, kTimeout.env));
    settings.timeout = absl::Seconds(seconds);
  } else if (from_file.timeout_seconds.has_value()) {
    settings.timeout = absl::Seconds(*from_file.timeout_seconds);
  }
  return settings;
}

absl::StatusOr<ConnectionSettings> LoadConnectionSettings(
    const ConnectionFlags& flags, const Environment& env) {
  RUTA_ASSIGN_OR_RETURN(std::optional<std::string> path,
                        LocateConfigFile(flags, env));
  std::optional<ConfigFile> file;
  if (path.has_value()) {
    absl::StatusOr<std::string> text = ReadFile(*path);
    if (!text.ok()) {
      return absl::Status(
          text.status().code(),
          absl::StrCat("cannot read config file: ", text.status().message()));
    }
    RUTA_ASSIGN_OR_RETURN(file, ParseConfigFile(*text, *path));
  }
  return ResolveSettings(flags, env, file);
}

}  // namespace ruta::cli
