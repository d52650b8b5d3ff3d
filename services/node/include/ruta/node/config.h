// Loading and validating a ruta-node configuration file.
#ifndef RUTA_NODE_CONFIG_H_
#define RUTA_NODE_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "ruta/node/v1/config.pb.h"

namespace ruta::node {

// Defaults of settings left out (also documented in config.proto).
inline constexpr char kDefaultListenAddress[] = "127.0.0.1:7443";
inline constexpr uint32_t kDefaultRefreshIntervalSeconds = 60;
inline constexpr uint32_t kDefaultMaxMessageBytes = 4 * 1024 * 1024;
inline constexpr uint32_t kDefaultShutdownGraceSeconds = 10;
inline constexpr uint32_t kDefaultCheckpointIntervalSeconds = 60;
inline constexpr uint32_t kDefaultAuditFlushIntervalMs = 250;
inline constexpr uint32_t kDefaultAuditPeerTimeoutSeconds = 10;
inline constexpr uint32_t kDefaultRelayTakeoverPollMs = 1000;
// Environment variable holding the PostgreSQL password when
// storage.password_file is not set.
inline constexpr char kDatabasePasswordEnv[] = "RUTA_DATABASE_PASSWORD";

// Parses `json` (proto3 JSON of ruta.node.v1.NodeConfig; unknown keys are an
// error), applies defaults, resolves relative paths against `base_dir`, and
// validates. INVALID_ARGUMENT naming the setting and what to fix for a bad
// value; FAILED_PRECONDITION naming the setting and the file when a file it
// names is missing or unreadable (or a key file is readable by others).
absl::StatusOr<ruta::node::v1::NodeConfig> ParseConfig(
    const std::string& json, const std::string& base_dir);

// Reads `path` and parses it as ParseConfig with its directory as base.
// NOT_FOUND when the file is missing; errors are prefixed with the path.
absl::StatusOr<ruta::node::v1::NodeConfig> LoadConfig(const std::string& path);

// The SQLite file of "sqlite:<path>"; INVALID_ARGUMENT for other schemes.
absl::StatusOr<std::string> SqlitePath(const std::string& database);

// Whether storage.database names a PostgreSQL database ("postgres:...").
bool IsPostgres(const std::string& database);

// The libpq connection string of "postgres:<conninfo>" (ParseConfig has
// checked that it holds no password); INVALID_ARGUMENT for other schemes or
// an empty connection string.
absl::StatusOr<std::string> PostgresConninfo(const std::string& database);

// The PostgreSQL password: the first line of storage.password_file when set
// (FAILED_PRECONDITION when unreadable or empty), else the environment
// variable RUTA_DATABASE_PASSWORD, else "" (libpq's own means: peer or
// certificate authentication, ~/.pgpass). Never logged.
absl::StatusOr<std::string> DatabasePassword(
    const ruta::node::v1::Storage& storage);

}  // namespace ruta::node

#endif  // RUTA_NODE_CONFIG_H_
