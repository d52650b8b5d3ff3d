// Connection settings of `ruta`: which node to call and with which
// certificate. Each setting comes, by precedence, from a flag, else an
// environment variable, else the JSON config file:
//
//   setting        flag              environment          config key
//   node address   --node HOST:PORT  RUTA_NODE            node
//   certificate    --cert FILE       RUTA_CERT            cert
//   private key    --key FILE        RUTA_KEY             key
//   region root CA --ca FILE         RUTA_CA              ca
//   node's region  --server-region   RUTA_SERVER_REGION   server_region
//   deadline       --timeout SECONDS RUTA_TIMEOUT         timeout_seconds
//
// The config file is --config FILE, else $RUTA_CONFIG, else
// $XDG_CONFIG_HOME/ruta/config.json (or ~/.config/ruta/config.json) when it
// exists. Relative paths in the file are relative to the file's folder.
#ifndef RUTA_CLI_CONFIG_H_
#define RUTA_CLI_CONFIG_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ruta/cli/io.h"

namespace ruta::cli {

inline constexpr double kDefaultTimeoutSeconds = 15;
inline constexpr double kMaxTimeoutSeconds = 3600;

// Values given as flags (nullopt when the flag was not given).
struct ConnectionFlags {
  std::optional<std::string> node;
  std::optional<std::string> cert;
  std::optional<std::string> key;
  std::optional<std::string> ca;
  std::optional<std::string> server_region;
  std::optional<double> timeout_seconds;
  std::optional<std::string> config;
};

// The contents of a config file (paths already resolved against its folder).
struct ConfigFile {
  std::string path;
  std::optional<std::string> node;
  std::optional<std::string> cert;
  std::optional<std::string> key;
  std::optional<std::string> ca;
  std::optional<std::string> server_region;
  std::optional<double> timeout_seconds;
};

// The resolved settings.
struct ConnectionSettings {
  std::string node;
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  // Region slug the node must belong to; empty accepts any region's node.
  std::string server_region;
  absl::Duration timeout = absl::Seconds(kDefaultTimeoutSeconds);
  // The config file that was read, empty if none.
  std::string config_file;
};

// Parses the text of a config file read from `path`. INVALID_ARGUMENT naming
// the file and the key for an unknown key or a value of the wrong type.
absl::StatusOr<ConfigFile> ParseConfigFile(absl::string_view json,
                                           const std::string& path);

// The config file to read: --config, else $RUTA_CONFIG (both must exist),
// else the default path if it exists; nullopt when there is none.
absl::StatusOr<std::optional<std::string>> LocateConfigFile(
    const ConnectionFlags& flags, const Environment& env);

// The default config path ($XDG_CONFIG_HOME/ruta/config.json, else
// $HOME/.config/ruta/config.json); empty when neither variable is set.
std::string DefaultConfigPath(const Environment& env);

// Resolves every setting by precedence (flag, environment, `file`).
// INVALID_ARGUMENT naming the flag, the variable and the key of each missing
// required setting, or of a malformed value.
absl::StatusOr<ConnectionSettings> ResolveSettings(
    const ConnectionFlags& flags, const Environment& env,
    const std::optional<ConfigFile>& file);

// LocateConfigFile + read + ParseConfigFile + ResolveSettings.
absl::StatusOr<ConnectionSettings> LoadConnectionSettings(
    const ConnectionFlags& flags, const Environment& env);

// Checks a node address: HOST:PORT (a host name, IPv4, or [IPv6]) or a gRPC
// target URI such as dns:///host:port or unix:/path.
absl::Status ValidateNodeAddress(absl::string_view address);

}  // namespace ruta::cli

#endif  // RUTA_CLI_CONFIG_H_
