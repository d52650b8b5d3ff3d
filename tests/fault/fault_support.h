// Support for the fault tests: real ruta-node processes that can be killed
// and restarted on the same port and data directory, their relay status, and
// read-only access to their SQLite databases once they are stopped.
#ifndef RUTA_TESTS_FAULT_FAULT_SUPPORT_H_
#define RUTA_TESTS_FAULT_FAULT_SUPPORT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ruta/testing/node.h"
#include "ruta/testing/subprocess.h"
#include "ruta/v1/admin.grpc.pb.h"

struct sqlite3;

namespace ruta::fault {

constexpr char kCusco[] = "cusco";
constexpr char kMdd[] = "madre-de-dios";
// A province of each region (UBIGEO), a transfer's destination.
constexpr char kCuscoProvince[] = "0801";
constexpr char kMddProvince[] = "1701";

// The federation timings of the test nodes.
struct RelayTimings {
  uint32_t initial_backoff_ms = 50;
  uint32_t max_backoff_ms = 1000;
  uint32_t ack_timeout_ms = 2000;
  uint32_t max_batch_events = 0;  // 0: the node's default (256)
  // federation.relay_takeover_poll_ms (0: the node's default, 1000).
  uint32_t takeover_poll_ms = 0;
  // audit.checkpoint_interval_seconds; 0: the node's default (60).
  uint32_t checkpoint_interval_seconds = 0;
};

// One ruta-node process of `region`, listening on a fixed port (so that it
// can be restarted where its peer and the proxies expect it), with one peer.
class NodeProcess final {
 public:
  // `database`: storage.database; empty: SQLite in the data directory.
  NodeProcess(std::string region, int port, std::string peer_region,
              std::string peer_address, const RelayTimings& timings,
              const std::string& database = "");
  ~NodeProcess();
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  // Starts the process (same configuration and data directory every time)
  // and waits until it serves (its port file). Its logs go to
  // <data_dir>/node-<n>.{out,err}, n counting the starts.
  absl::Status Start();
  // SIGKILL, and waits for the process to be gone.
  void Kill();
  // SIGTERM; returns the exit code (-1 when it had to be killed).
  int Terminate(absl::Duration grace = absl::Seconds(15));
  bool Running();

  const std::string& region() const { return region_; }
  std::string address() const;
  const std::string& data_dir() const { return data_dir_; }
  std::string database() const;  // the SQLite file (a SQLite node)
  int starts() const { return starts_; }
  // The last `bytes` of the stderr of every run, oldest first.
  std::string LogTail(size_t bytes = 4000) const;

  // The lines of every run's log (stdout and stderr) that contain `text`.
  std::vector<std::string> LogLines(const std::string& text) const;

  // Admin.GetRelayStatus towards the peer, as the region's admin operator.
  absl::StatusOr<v1::RelayStatus> RelayStatus();
  // Admin.Backup (`ruta admin backup`); the node backs up into
  // <data_dir>/backups with its own key. Returns the backup file's path.
  absl::StatusOr<std::string> Backup(const std::string& request_id);
  // `ruta-node restore --config <its config> --backup <backup_file>`, the
  // node stopped; the restore's stderr in the error.
  absl::Status Restore(const std::string& backup_file);

 private:
  const std::string region_;
  const int port_;
  std::string data_dir_;
  std::string config_;
  int starts_ = 0;
  std::unique_ptr<testing::BackgroundProcess> process_;
  std::unique_ptr<v1::Admin::Stub> admin_;
};

// Polls `node`'s relay until the peer acknowledged everything written for it
// and the stream is connected, for at most `timeout`; returns the last
// status read.
absl::StatusOr<v1::RelayStatus> WaitDrained(NodeProcess& node,
                                            absl::Duration timeout);

// A SQLite database opened read-only.
class Database final {
 public:
  static absl::StatusOr<std::unique_ptr<Database>> Open(
      const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Every row of `sql`, each column as text ("<null>" for NULL).
  absl::StatusOr<std::vector<std::vector<std::string>>> Query(
      const std::string& sql);
  // The single integer `sql` answers (0 when no row or NULL).
  absl::StatusOr<int64_t> Int(const std::string& sql);

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// A seed from the environment variable `name` when set, else a fresh one.
uint64_t SeedFrom(const char* name);
// A positive integer from the environment variable `name`, else `fallback`.
int IntFromEnv(const char* name, int fallback);

}  // namespace ruta::fault

#endif  // RUTA_TESTS_FAULT_FAULT_SUPPORT_H_
