#include "ruta/node/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "libpq-fe.h"
#include "ruta/api/authorization.h"
#include "ruta/common/status_macros.h"
#include "ruta/observability/logging.h"

namespace ruta::node {
namespace {

using ruta::node::v1::NodeConfig;
namespace fs = std::filesystem;

constexpr char kSqliteScheme[] = "sqlite:";
constexpr char kPostgresScheme[] = "postgres:";
constexpr char kPasswordHelp[] =
    "put the password in storage.password_file (mode 0600) or in the "
    "environment variable RUTA_DATABASE_PASSWORD, never in the configuration";

// Refuses a libpq connection string (key/value or URI form) that carries a
// password. libpq's own parser decides, so every form it accepts is covered;
// the string itself is never echoed (it may hold the password).
absl::Status CheckNoPasswordInConninfo(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    // libpq's reason is not shown: it quotes the string, which may hold the
    // password.
    if (error != nullptr) PQfreemem(error);
    return absl::InvalidArgumentError(
        "storage.database: not a valid PostgreSQL connection string (give "
        "keyword=value pairs separated by spaces, e.g. \"postgres:host=/run/"
        "postgresql dbname=ruta\", or a postgresql:// URI)");
  }
  bool has_password = false;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::string(o->keyword) == "password" && o->val != nullptr) {
      has_password = true;
    }
  }
  PQconninfoFree(options);
  if (has_password) {
    return absl::InvalidArgumentError(absl::StrCat(
        "storage.database: the connection string holds a password; remove "
        "it and ",
        kPasswordHelp));
  }
  return absl::OkStatus();
}

bool IsSlug(const std::string& s) {
  if (s.size() < 2 || s.size() > 32 || s.front() == '-' || s.back() == '-') {
    return false;
  }
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || c == '-')) return false;
  }
  return true;
}

void Resolve(const std::string& base_dir, std::string* path) {
  if (path->empty() || fs::path(*path).is_absolute()) return;
  *path = (fs::path(base_dir) / *path).lexically_normal().string();
}

absl::Status CheckReadableFile(absl::string_view setting,
                               const std::string& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(setting, " is required (a file path)"));
  }
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat(setting, ": file ", path, " is missing"));
  }
  if (access(path.c_str(), R_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(setting, ": file ", path, " is not readable"));
  }
  return absl::OkStatus();
}

absl::Status CheckSecretFile(absl::string_view setting,
                             const std::string& path) {
  RUTA_RETURN_IF_ERROR(CheckReadableFile(setting, path));
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(setting, ": file ", path,
                     " is readable by group or others; run chmod 600 on it"));
  }
  return absl::OkStatus();
}

absl::Status CheckHostPort(absl::string_view setting,
                           const std::string& address) {
  const size_t colon = address.rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        setting, ": \"", address, "\" is not host:port (e.g. 127.0.0.1:7443)"));
  }
  return absl::OkStatus();
}

// storage: "sqlite:<path>" (the directory must exist) or
// "postgres:<conninfo>" with no password in it (password_file or
// RUTA_DATABASE_PASSWORD instead).
absl::Status ValidateStorage(NodeConfig& config, const std::string& base_dir) {
  if (!config.has_storage() || config.storage().database().empty()) {
    return absl::InvalidArgumentError(
        "storage.database is required (e.g. \"sqlite:var/cusco.db\" or "
        "\"postgres:host=/run/postgresql dbname=ruta_cusco\")");
  }
  auto* storage = config.mutable_storage();
  if (absl::StartsWith(storage->database(), kPostgresScheme)) {
    RUTA_ASSIGN_OR_RETURN(std::string conninfo,
                          PostgresConninfo(storage->database()));
    RUTA_RETURN_IF_ERROR(CheckNoPasswordInConninfo(conninfo));
    if (!storage->password_file().empty()) {
      Resolve(base_dir, storage->mutable_password_file());
      RUTA_RETURN_IF_ERROR(
          CheckSecretFile("storage.password_file", storage->password_file()));
    }
    auto* federation = config.mutable_federation();
    if (federation->relay_takeover_poll_ms() == 0) {
      federation->set_relay_takeover_poll_ms(kDefaultRelayTakeoverPollMs);
    }
    if (federation->relay_takeover_poll_ms() < 10 ||
        federation->relay_takeover_poll_ms() > 60000) {
      return absl::InvalidArgumentError(
          "federation.relay_takeover_poll_ms: 10 to 60000 milliseconds");
    }
    return absl::OkStatus();
  }
  if (!storage->password_file().empty()) {
    return absl::InvalidArgumentError(
        "storage.password_file is for a PostgreSQL database "
        "(\"postgres:...\") only; remove it for SQLite");
  }
  if (config.federation().relay_takeover_poll_ms() == 0) {
    config.mutable_federation()->set_relay_takeover_poll_ms(
        kDefaultRelayTakeoverPollMs);
  }
  RUTA_ASSIGN_OR_RETURN(std::string db_path, SqlitePath(storage->database()));
  Resolve(base_dir, &db_path);
  const fs::path parent = fs::path(db_path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !fs::is_directory(parent, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("storage.database: directory ", parent.string(),
                     " does not exist; create it first"));
  }
  storage->set_database(absl::StrCat(kSqliteScheme, db_path));
  return absl::OkStatus();
}

// The observability section: addresses are a bare port (bound on
// 127.0.0.1) or host:port; log format and level known.
absl::Status ValidateObservability(NodeConfig& config) {
  auto* settings = config.mutable_observability();
  const auto check_address = [](const char* name,
                                const std::string& address) -> absl::Status {
    if (address.empty()) return absl::OkStatus();
    uint32_t port = 0;
    if (!absl::SimpleAtoi(address, &port)) return CheckHostPort(name, address);
    if (port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": \"", address, "\" is not a port (0-65535)"));
    }
    return absl::OkStatus();
  };
  RUTA_RETURN_IF_ERROR(check_address("observability.metrics_address",
                                     settings->metrics_address()));
  RUTA_RETURN_IF_ERROR(check_address("observability.health_address",
                                     settings->health_address()));
  if (absl::StatusOr<observability::LogFormat> format =
          observability::ParseLogFormat(settings->log_format());
      !format.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("observability.log_format: ", format.status().message()));
  }
  if (absl::StatusOr<spdlog::level::level_enum> level =
          observability::ParseLogLevel(settings->log_level());
      !level.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("observability.log_level: ", level.status().message()));
  }
  if (settings->log_format().empty()) settings->set_log_format("text");
  if (settings->log_level().empty()) settings->set_log_level("info");
  return absl::OkStatus();
}

// The optional `backup` section: both settings or neither; paths resolved;
// the key file private, the directory present. What a backup checks again
// at each run (ruta/backup/backup.h) is checked here too, so that a node
// does not start with backups that would fail.
absl::Status ValidateBackup(NodeConfig& config, const std::string& base_dir) {
  if (!config.has_backup()) return absl::OkStatus();
  auto* backup = config.mutable_backup();
  if (backup->directory().empty() && backup->key_file().empty()) {
    return absl::OkStatus();
  }
  if (backup->directory().empty() || backup->key_file().empty()) {
    return absl::InvalidArgumentError(
        "backup: set both backup.directory (where backup files go) and "
        "backup.key_file (64 hex characters, mode 0600), or neither");
  }
  Resolve(base_dir, backup->mutable_directory());
  Resolve(base_dir, backup->mutable_key_file());
  RUTA_RETURN_IF_ERROR(CheckSecretFile("backup.key_file", backup->key_file()));
  std::error_code ec;
  if (!fs::is_directory(backup->directory(), ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("backup.directory: ", backup->directory(),
                     " is not an existing directory (create it, mode 0700, "
                     "owned by the node's user)"));
  }
  return absl::OkStatus();
}

absl::Status Validate(NodeConfig& config, const std::string& base_dir) {
  if (config.region().empty()) {
    return absl::InvalidArgumentError(
        "region is required (the slug of this node's region, e.g. \"cusco\")");
  }
  if (config.regions().empty()) {
    return absl::InvalidArgumentError(
        "regions must list at least this node's own region");
  }
  std::set<std::string> slugs;
  for (int i = 0; i < config.regions_size(); ++i) {
    auto* region = config.mutable_regions(i);
    const std::string at = absl::StrCat("regions[", i, "]");
    if (!IsSlug(region->slug())) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".slug: \"", region->slug(),
                       "\" must be 2-32 lowercase letters and hyphens (e.g. "
                       "\"madre-de-dios\")"));
    }
    if (!slugs.insert(region->slug()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".slug: region ", region->slug(), " listed twice"));
    }
    const std::string& dept = region->ubigeo_department();
    if (dept.size() != 2 || !absl::ascii_isdigit(dept[0]) ||
        !absl::ascii_isdigit(dept[1])) {
      return absl::InvalidArgumentError(absl::StrCat(
          at,
          ".ubigeo_department: must be the 2-digit UBIGEO department "
          "code (e.g. \"08\" for Cusco)"));
    }
    if (region->display_name().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".display_name is required"));
    }
    Resolve(base_dir, region->mutable_ca_file());
    RUTA_RETURN_IF_ERROR(
        CheckReadableFile(absl::StrCat(at, ".ca_file"), region->ca_file()));
    // Revocation fails closed: without CRLs no client of the region could
    // ever connect, so say it now rather than at the first handshake.
    if (region->crl_files().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          at,
          ".crl_files: at least one CRL file is required (certs/pki.sh "
          "writes <slug>/crl/root.crl.pem and intermediate.crl.pem)"));
    }
    for (int j = 0; j < region->crl_files_size(); ++j) {
      Resolve(base_dir, region->mutable_crl_files(j));
      RUTA_RETURN_IF_ERROR(CheckReadableFile(
          absl::StrCat(at, ".crl_files[", j, "]"), region->crl_files(j)));
    }
  }
  for (int i = 0; i < config.regions_size(); ++i) {
    auto* region = config.mutable_regions(i);
    // Optional: without it, the region's audit checkpoints are refused.
    if (region->signing_public_key_file().empty()) continue;
    Resolve(base_dir, region->mutable_signing_public_key_file());
    RUTA_RETURN_IF_ERROR(CheckReadableFile(
        absl::StrCat("regions[", i, "].signing_public_key_file"),
        region->signing_public_key_file()));
  }
  if (slugs.count(config.region()) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("region: \"", config.region(),
                     "\" is not one of the slugs listed in regions"));
  }

  if (config.listen_address().empty()) {
    config.set_listen_address(kDefaultListenAddress);
  }
  RUTA_RETURN_IF_ERROR(
      CheckHostPort("listen_address", config.listen_address()));
  RUTA_RETURN_IF_ERROR(ValidateObservability(config));

  if (!config.has_tls()) {
    return absl::InvalidArgumentError(
        "tls is required (cert_file, key_file, trust_bundle_file)");
  }
  auto* tls = config.mutable_tls();
  Resolve(base_dir, tls->mutable_cert_file());
  Resolve(base_dir, tls->mutable_key_file());
  Resolve(base_dir, tls->mutable_trust_bundle_file());
  RUTA_RETURN_IF_ERROR(CheckReadableFile("tls.cert_file", tls->cert_file()));
  RUTA_RETURN_IF_ERROR(CheckSecretFile("tls.key_file", tls->key_file()));
  RUTA_RETURN_IF_ERROR(
      CheckReadableFile("tls.trust_bundle_file", tls->trust_bundle_file()));
  if (tls->refresh_interval_seconds() == 0) {
    tls->set_refresh_interval_seconds(kDefaultRefreshIntervalSeconds);
  }

  RUTA_RETURN_IF_ERROR(ValidateStorage(config, base_dir));

  Resolve(base_dir, config.mutable_linkage_key_file());
  RUTA_RETURN_IF_ERROR(
      CheckSecretFile("linkage_key_file", config.linkage_key_file()));

  std::set<std::string> peer_regions;
  for (int i = 0; i < config.peers_size(); ++i) {
    const auto& peer = config.peers(i);
    const std::string at = absl::StrCat("peers[", i, "]");
    if (slugs.count(peer.region()) == 0 || peer.region() == config.region()) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".region: \"", peer.region(),
                       "\" must be another region listed in regions"));
    }
    if (!peer_regions.insert(peer.region()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".region: peer ", peer.region(), " listed twice"));
    }
    RUTA_RETURN_IF_ERROR(
        CheckHostPort(absl::StrCat(at, ".address"), peer.address()));
  }

  auto* limits = config.mutable_limits();
  if (limits->max_message_bytes() == 0) {
    limits->set_max_message_bytes(kDefaultMaxMessageBytes);
  }
  if (limits->max_message_bytes() < 64 * 1024) {
    return absl::InvalidArgumentError(
        "limits.max_message_bytes: must be at least 65536");
  }
  if (limits->shutdown_grace_seconds() == 0) {
    limits->set_shutdown_grace_seconds(kDefaultShutdownGraceSeconds);
  }
  Resolve(base_dir, config.mutable_port_file());

  // Audit: the signing key is optional (without it no checkpoint is sent),
  // but when given it must be private.
  if (!config.signing_key_file().empty()) {
    Resolve(base_dir, config.mutable_signing_key_file());
    RUTA_RETURN_IF_ERROR(
        CheckSecretFile("signing_key_file", config.signing_key_file()));
  }
  auto* audit = config.mutable_audit();
  if (audit->checkpoint_interval_seconds() == 0) {
    audit->set_checkpoint_interval_seconds(kDefaultCheckpointIntervalSeconds);
  }
  if (audit->flush_interval_ms() == 0) {
    audit->set_flush_interval_ms(kDefaultAuditFlushIntervalMs);
  }
  if (audit->flush_interval_ms() > 1000) {
    return absl::InvalidArgumentError(
        "audit.flush_interval_ms: at most 1000 (read audits are committed "
        "within one second)");
  }
  if (audit->peer_timeout_seconds() == 0) {
    audit->set_peer_timeout_seconds(kDefaultAuditPeerTimeoutSeconds);
  }

  auto* federation = config.mutable_federation();
  if (federation->max_batch_events() == 0) {
    federation->set_max_batch_events(256);
  }
  if (federation->max_batch_events() > 1000) {
    return absl::InvalidArgumentError(
        "federation.max_batch_events: at most 1000 (a peer refuses larger "
        "batches)");
  }
  if (federation->max_events_in_flight() == 0) {
    federation->set_max_events_in_flight(4096);
  }
  if (federation->initial_backoff_ms() == 0) {
    federation->set_initial_backoff_ms(200);
  }
  if (federation->max_backoff_ms() == 0) {
    federation->set_max_backoff_ms(30000);
  }
  if (federation->max_backoff_ms() < federation->initial_backoff_ms()) {
    return absl::InvalidArgumentError(
        "federation.max_backoff_ms must be at least initial_backoff_ms");
  }
  if (federation->ack_timeout_ms() == 0) {
    federation->set_ack_timeout_ms(20000);
  }

  auto* privacy = config.mutable_privacy();
  if (privacy->retention_days() == 0) privacy->set_retention_days(1825);
  if (privacy->retention_days() > 36500) {
    return absl::InvalidArgumentError(
        "privacy.retention_days: at most 36500 (100 years)");
  }
  if (privacy->purge_interval_seconds() == 0) {
    privacy->set_purge_interval_seconds(3600);
  }

  auto* dashboard = config.mutable_dashboard();
  if (dashboard->threshold() == 0) dashboard->set_threshold(10);
  if (dashboard->threshold() < 5) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dashboard.threshold: ", dashboard->threshold(),
        " is below 5, the smallest suppression threshold allowed (DESIGN.md "
        "section 6); leave it unset for the default 10"));
  }
  if (dashboard->threshold() > 1000000) {
    return absl::InvalidArgumentError("dashboard.threshold: at most 1000000");
  }
  if (dashboard->peer_counts_max_age_seconds() == 0) {
    dashboard->set_peer_counts_max_age_seconds(300);
  }
  if (dashboard->transfer_acceptance_due_days() == 0) {
    dashboard->set_transfer_acceptance_due_days(7);
  }
  if (dashboard->follow_up_due_days() == 0) {
    dashboard->set_follow_up_due_days(90);
  }
  if (dashboard->transfer_acceptance_due_days() > 3650 ||
      dashboard->follow_up_due_days() > 3650) {
    return absl::InvalidArgumentError(
        "dashboard.transfer_acceptance_due_days and "
        "dashboard.follow_up_due_days: at most 3650 days");
  }

  std::set<std::string> partner_ids;
  for (int i = 0; i < config.partners_size(); ++i) {
    const auto& partner = config.partners(i);
    const std::string at = absl::StrCat("partners[", i, "]");
    const std::string prefix = absl::StrCat(config.region(), "/");
    const std::string name =
        partner.id().substr(std::min(partner.id().size(), prefix.size()));
    bool name_ok = !name.empty() && name.size() <= 63 &&
                   ((name[0] >= 'a' && name[0] <= 'z') ||
                    (name[0] >= '0' && name[0] <= '9'));
    for (char c : name) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
        name_ok = false;
      }
    }
    if (partner.id().rfind(prefix, 0) != 0 || !name_ok) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".id: \"", partner.id(), "\" must be \"", prefix,
                       "<name>\", the partner whose certificate is spiffe://",
                       config.region(),
                       ".ruta.pe/partner/<name> (name: lowercase letters, "
                       "digits and '-')"));
    }
    if (!partner_ids.insert(partner.id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".id: partner ", partner.id(), " listed twice"));
    }
    if (partner.name().empty() || partner.name().size() > 80) {
      return absl::InvalidArgumentError(absl::StrCat(
          at, ".name: a display name of 1 to 80 characters is required"));
    }
  }
  if (!config.partner_key_file().empty()) {
    Resolve(base_dir, config.mutable_partner_key_file());
    RUTA_RETURN_IF_ERROR(
        CheckSecretFile("partner_key_file", config.partner_key_file()));
  } else if (config.partners_size() > 0) {
    return absl::InvalidArgumentError(
        "partner_key_file is required when partners are configured: the "
        "partner master secret (64 hex characters, mode 0600) from which "
        "each partner's case pseudonyms are derived");
  }

  // Left out: the built-in default policy, which needs no validation.
  if (config.has_authorization()) {
    RUTA_RETURN_IF_ERROR(
        api::AuthorizationPolicy::FromConfig(config.authorization()).status());
  }
  RUTA_RETURN_IF_ERROR(ValidateBackup(config, base_dir));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> SqlitePath(const std::string& database) {
  if (!absl::StartsWith(database, kSqliteScheme) ||
      database.size() == sizeof(kSqliteScheme) - 1) {
    return absl::InvalidArgumentError(
        "storage.database: must be \"sqlite:<path>\" or "
        "\"postgres:<connection string>\"");
  }
  return database.substr(sizeof(kSqliteScheme) - 1);
}

bool IsPostgres(const std::string& database) {
  return absl::StartsWith(database, kPostgresScheme);
}

absl::StatusOr<std::string> PostgresConninfo(const std::string& database) {
  if (!IsPostgres(database)) {
    return absl::InvalidArgumentError(
        "storage.database: not a \"postgres:<connection string>\" database");
  }
  std::string conninfo = database.substr(sizeof(kPostgresScheme) - 1);
  if (absl::StripAsciiWhitespace(conninfo).empty()) {
    return absl::InvalidArgumentError(
        "storage.database: \"postgres:\" needs a connection string, e.g. "
        "\"postgres:host=/run/postgresql dbname=ruta_cusco user=ruta\"");
  }
  return conninfo;
}

absl::StatusOr<std::string> DatabasePassword(
    const ruta::node::v1::Storage& storage) {
  if (!storage.password_file().empty()) {
    std::ifstream in(storage.password_file());
    std::string line;
    if (!in || !std::getline(in, line)) {
      return absl::FailedPreconditionError(
          absl::StrCat("storage.password_file: ", storage.password_file(),
                       " is unreadable or empty"));
    }
    absl::StripTrailingAsciiWhitespace(&line);  // "\r\n" of an editor
    if (line.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("storage.password_file: the first line of ",
                       storage.password_file(), " is empty"));
    }
    return line;
  }
  const char* env = std::getenv(kDatabasePasswordEnv);
  return std::string(env != nullptr ? env : "");
}

absl::StatusOr<NodeConfig> ParseConfig(const std::string& json,
                                       const std::string& base_dir) {
  NodeConfig config;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(json, &config, options);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not a valid node configuration: ", parsed.message().as_string()));
  }
  RUTA_RETURN_IF_ERROR(Validate(config, base_dir));
  return config;
}

absl::StatusOr<NodeConfig> LoadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("configuration file ", path, " is missing or unreadable"));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string base_dir =
      fs::absolute(fs::path(path)).parent_path().string();
  absl::StatusOr<NodeConfig> config = ParseConfig(buffer.str(), base_dir);
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

}  // namespace ruta::node
