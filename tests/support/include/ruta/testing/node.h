// Start ruta nodes for tests: in-process (fast) or as real processes, on
// 127.0.0.1:0, reading back the chosen port; and client channels with real
// mutual TLS.
#ifndef RUTA_TESTING_NODE_H_
#define RUTA_TESTING_NODE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "ruta/node/node.h"
#include "ruta/testing/pki.h"

namespace ruta::testing {

// Display data of the dev regions.
struct RegionInfo {
  std::string slug;
  std::string ubigeo_department;
  std::string display_name;
};
inline const RegionInfo kCusco{"cusco", "08", "Cusco"};
inline const RegionInfo kMadreDeDios{"madre-de-dios", "17", "Madre de Dios"};

struct NodeSetup {
  std::string region = "cusco";
  // The configured regions (empty: Cusco and Madre de Dios), each with its
  // CA, CRLs and signing public key from the PKI.
  std::vector<RegionInfo> regions;
  std::string data_dir;  // empty: a fresh temp dir
  // Peer addresses by region (the other dev region if empty and known).
  std::vector<std::pair<std::string, std::string>> peers;
  // The PKI whose files the node uses (null: DevPki::Get()), e.g. a
  // DevPki::Copy() that a test revokes in or rotates.
  const DevPki* pki = nullptr;
  // Per region slug: CRL files replacing the PKI's <slug>/crl/root.crl.pem
  // and intermediate.crl.pem (e.g. to leave one out, or use an expired one).
  std::map<std::string, std::vector<std::string>> crl_files;
  // tls.refresh_interval_seconds (0: the default, 60).
  uint32_t refresh_interval_seconds = 0;
  // If non-empty: the configuration's "authorization" section, a JSON object
  // such as {"rules": [...]}; empty: none (the built-in default policy).
  std::string authorization_json;
  // listen_address (empty: "127.0.0.1:0"), e.g. a port reserved with
  // PickFreePort() so that two nodes can name each other as peers.
  std::string listen_address;
  // audit.checkpoint_interval_seconds (0: the default, 60). The node signs
  // checkpoints with its region's dev signing key and knows every dev
  // region's signing public key.
  uint32_t checkpoint_interval_seconds = 0;
  // The "federation" section (0: the node's defaults). Tests shorten the
  // relay's backoff and dead-link timeout.
  uint32_t relay_initial_backoff_ms = 0;
  uint32_t relay_max_backoff_ms = 0;
  uint32_t relay_ack_timeout_ms = 0;
  uint32_t relay_max_batch_events = 0;
  // federation.relay_takeover_poll_ms (0: the default, 1000).
  uint32_t relay_takeover_poll_ms = 0;
  // storage.database (empty: "sqlite:<data_dir>/<region>.db"), e.g.
  // "postgres:<conninfo>" of a scratch database.
  std::string database;
  // dashboard.peer_counts_max_age_seconds (0: the default, 300).
  uint32_t dashboard_peer_counts_max_age_seconds = 0;
  // The NGO partners registered on the node, by name (partner id
  // "<region>/<name>"; the dev PKI issues "tdh" and "caritas" per region),
  // with the PKI's partner master secret. Default: both dev partners.
  std::vector<std::string> partners = {"tdh", "caritas"};
  // The "observability" section (empty: unset, the node's defaults: no
  // metrics endpoint, no health-only port, text log at info). E.g. "0" picks
  // a free loopback port (read back with Node::metrics_port()/health_port()).
  std::string metrics_address;
  std::string health_address;
  std::string log_format;
  std::string log_level;
  // Online backups: when true, the node gets backup.directory
  // <data_dir>/backups (mode 0700) and backup.key_file <data_dir>/backup.key
  // (a fresh random key, mode 0600), both created if missing.
  bool backups = false;
};

// Writes a JSON configuration for a dev-PKI node listening on 127.0.0.1:0
// with its port written to <data_dir>/port; returns the file's path.
std::string WriteNodeConfig(const DevPki& pki, const NodeSetup& setup);

// A TCP port on 127.0.0.1 that was free a moment ago (bound, then released).
int PickFreePort();

// A node running inside the test process.
class InProcessNode final {
 public:
  // Aborts the test (gtest fatal failure in the caller) on error.
  static std::unique_ptr<InProcessNode> Start(const NodeSetup& setup);
  InProcessNode(const InProcessNode&) = delete;
  InProcessNode& operator=(const InProcessNode&) = delete;

  std::string address() const;  // "127.0.0.1:<port>"
  ruta::node::Node& node() { return *node_; }
  const std::string& data_dir() const { return data_dir_; }

 private:
  InProcessNode(std::unique_ptr<ruta::node::Node> node, std::string data_dir)
      : node_(std::move(node)), data_dir_(std::move(data_dir)) {}
  std::unique_ptr<ruta::node::Node> node_;
  std::string data_dir_;
};

// A channel to `address` presenting `client` and expecting a node of
// `server_region` (empty: any).
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const KeyPair& client,
                                           const std::string& server_region);
// The same, trusting the roots in `ca_file` (e.g. a DevPki::Copy()'s
// TrustBundle() after a region was added to it).
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const KeyPair& client,
                                           const std::string& server_region,
                                           const std::string& ca_file);

// A context with a deadline, as every client call must have.
std::unique_ptr<grpc::ClientContext> ContextWithDeadline(
    absl::Duration timeout = absl::Seconds(10));

}  // namespace ruta::testing

#endif  // RUTA_TESTING_NODE_H_
