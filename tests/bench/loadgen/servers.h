// The server processes ruta-bench measures: ruta-node (one region, or two
// regions peering each other) and the bare echo baseline, each a separate
// process so that its CPU time is read from /proc apart from the load
// generator's; and client channels to them with the dev PKI's certificates.
#ifndef RUTA_BENCH_LOADGEN_SERVERS_H_
#define RUTA_BENCH_LOADGEN_SERVERS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/subprocess.h"
#include "ruta/v1/admin.pb.h"

namespace ruta::bench {

// The regions of the dev PKI. The harness's single node serves Madre de
// Dios (where cases are opened); Cusco is its peer.
inline constexpr char kMdd[] = "madre-de-dios";
inline constexpr char kCusco[] = "cusco";
// A province of Cusco (UBIGEO), the destination of the transfers.
inline constexpr char kCuscoProvince[] = "0801";

// Every client call of the harness has this deadline (long streams and
// waits have their own, stated where they are made).
inline constexpr absl::Duration kCallDeadline = absl::Seconds(10);

// A server process listening on 127.0.0.1.
struct Server {
  std::unique_ptr<testing::BackgroundProcess> process;
  std::string address;   // "127.0.0.1:<port>"
  std::string dir;       // its data directory (config, database, logs)
  std::string region;    // a node's region; empty for the echo server
  int metrics_port = 0;  // a node's Prometheus endpoint; 0: none
  pid_t pid() const { return process->pid(); }
};

struct NodeOptions {
  std::string region = kMdd;
  // Data directory (its database is <dir>/<region>.db); empty: a fresh one.
  std::string dir;
  // Listening port; 0: any free port.
  int port = 0;
  // The peer region's node (empty: no peer). The relay reconnects after
  // 50 ms, doubling up to 250 ms (the node's defaults are 200 ms and 30 s):
  // the harness starts a peer and measures from then.
  std::string peer_region;
  std::string peer_address;
  // A Prometheus endpoint on a free loopback port (Server::metrics_port).
  bool metrics = false;
};

// Starts a ruta-node (SQLite, synchronous=FULL, dev PKI, config written by
// the test support library) and waits until its gRPC health is SERVING over
// mutual TLS. `*startup` (if not null) receives the time from exec to
// SERVING.
absl::StatusOr<Server> StartNode(const NodeOptions& options,
                                 absl::Duration* startup = nullptr);

// Starts `ruta-bench serve-echo` (this binary) the same way.
absl::StatusOr<Server> StartEcho(absl::Duration* startup = nullptr);

// SIGTERM, up to 15 s to exit; says on stderr when it did not exit cleanly.
void StopServer(Server& server);
// The same for several servers at once (a node with a peer stream open
// waits for it up to its shutdown grace, 2 s in the test configuration,
// unless the peer goes too).
void StopServers(const std::vector<Server*>& servers);

// Stops the servers of a finished phase: at once (StopServers), or, when
// `background` (the smoke test, whose figures mean nothing), on a thread of
// its own while the next phase runs (a node whose peer is connected takes
// 2-4 s to stop). Join (or the destructor) waits for those.
class Teardown final {
 public:
  explicit Teardown(bool background) : background_(background) {}
  ~Teardown();
  Teardown(const Teardown&) = delete;
  Teardown& operator=(const Teardown&) = delete;

  // Stops `servers` (those without a process are skipped); with
  // `remove_dirs`, then removes their data directories.
  void Stop(std::vector<Server> servers, bool remove_dirs);
  void Join();

 private:
  const bool background_;
  std::vector<std::thread> threads_;
};

// A channel to `address` presenting `identity`, expecting a server of
// `server_region` (the echo server presents Madre de Dios' node identity).
std::shared_ptr<grpc::Channel> ChannelAs(const std::string& address,
                                         const testing::KeyPair& identity,
                                         const std::string& server_region);
// As the default office of `region` (DevPki::Office), to its node.
std::shared_ptr<grpc::Channel> OfficeChannel(const std::string& address,
                                             const std::string& region);

// Admin.GetRelayStatus of `node` towards its one peer, as the region's admin
// operator.
absl::StatusOr<ruta::v1::RelayStatus> RelayStatus(const Server& node);

// Copies the SQLite files of `region` (<region>.db and its WAL, if any) from
// directory `from` to directory `to` (created); the node must be stopped.
absl::Status CopyDatabase(const std::string& region, const std::string& from,
                          const std::string& to);

}  // namespace ruta::bench

#endif  // RUTA_BENCH_LOADGEN_SERVERS_H_
