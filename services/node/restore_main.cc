// `ruta-node restore`: the offline restore of a backup (ruta/node/restore.h).
#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "ruta/node/config.h"
#include "ruta/node/restore.h"

namespace ruta::node {

int RestoreMain(int argc, char** argv) {
  CLI::App app(
      "Restores the node's store from an encrypted backup (.rbk) made by "
      "`ruta admin backup`. Stop the node first (with PostgreSQL, every "
      "replica of it: this is not checked); start one replica again "
      "afterwards: "
      "it then fetches back from its peers what the backup lacks.",
      "ruta-node restore");
  std::string config_path;
  RestoreOptions options;
  app.add_option("--config", config_path,
                 "The node configuration file (its region, storage and "
                 "backup.key_file are used)")
      ->required();
  app.add_option("--backup", options.backup_file, "The backup file (.rbk)")
      ->required();
  app.add_option("--key-file", options.key_file,
                 "The backup key file (default: the configuration's "
                 "backup.key_file)");
  app.footer(
      "SQLite: the current database (and its -wal/-shm) is kept as "
      "<db>.before-restore-<UTC time>.\nPostgreSQL: pg_restore --clean "
      "--if-exists --single-transaction into the configured database.\n"
      "Exit status: 0 restored; 1 refused or failed (nothing changed unless "
      "said); 2 usage.\nSee docs/backup.md.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  absl::StatusOr<ruta::node::v1::NodeConfig> config = LoadConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "ruta-node restore: %s\n",
                 std::string(config.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<RestoreReport> report = RestoreBackup(*config, options);
  if (!report.ok()) {
    std::fprintf(stderr, "ruta-node restore: %s: %s\n",
                 absl::StatusCodeToString(report.status().code()).c_str(),
                 std::string(report.status().message()).c_str());
    return 1;
  }
  std::printf("restored %s (region %s, %s, schema version %lld, made %s)\n",
              options.backup_file.c_str(), report->region.c_str(),
              report->backend.c_str(),
              static_cast<long long>(report->schema_version),
              absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", report->created_at,
                               absl::UTCTimeZone())
                  .c_str());
  if (!report->moved_aside.empty()) {
    std::printf("the previous database was moved to %s\n",
                absl::StrJoin(report->moved_aside, ", ").c_str());
  }
  std::printf(
      "start ruta-node now: it fetches back from its peers what was "
      "acknowledged after the backup (setting restore.pending)\n");
  return 0;
}

}  // namespace ruta::node
